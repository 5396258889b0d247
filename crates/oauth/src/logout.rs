//! `GET`/`POST /oauth/logout` (OpenID Connect RP-Initiated Logout 1.0): ends the browser's
//! sign-in session — at once for a request with an ID token of the signed-in user, after the
//! user confirms otherwise — then sends the user back to the client only to a URI the client
//! registered in `post_logout_redirect_uris`, with `state`. Anything less (no client named, an invalid
//! `id_token_hint`, an unregistered URI) ends with a signed-out page, never a redirect
//! (docs/oidc.md), so the endpoint cannot be used as an open redirector.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tollbooth_storage::ids::{self, Id};

use crate::error::OAuthError;
use crate::limits::Limits;
use crate::pages;
use crate::request::{FormBody, unique_parameters as parameters};
use crate::session::{Csrf, Session};
use crate::state::OAuth;

/// The logout request's parameters (RP-Initiated Logout 1.0 §2), for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct LogoutQuery {
    /// An ID token this server issued to the client (expired ones are accepted)
    id_token_hint: Option<String>,
    /// Exactly one of the client's `post_logout_redirect_uris`
    post_logout_redirect_uri: Option<String>,
    /// Returned with the redirect
    state: Option<String>,
    /// The client, when there is no `id_token_hint`
    client_id: Option<String>,
}

#[utoipa::path(get, path = "/oauth/logout", operation_id = "endSession", tag = "oauth", security(()),
    params(LogoutQuery),
    responses(
        (status = 200, description = "Signed out: an HTML page", content_type = "text/html"),
        (status = 302, description = "Signed out, and back to the registered `post_logout_redirect_uri` with `state`"),
    ))]
pub async fn logout(request: HttpRequest, oauth: web::Data<OAuth>) -> HttpResponse {
    let params = parameters(request.query_string().as_bytes());
    answer(&request, params, &oauth).await
}

/// The same, with the parameters as a form.
#[utoipa::path(post, path = "/oauth/logout", operation_id = "submitEndSession", tag = "oauth", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "The parameters of `GET /oauth/logout`"),
    responses(
        (status = 200, description = "Signed out: an HTML page", content_type = "text/html"),
        (status = 302, description = "Signed out, and back to the registered `post_logout_redirect_uri` with `state`"),
    ))]
pub async fn submit_logout(
    request: HttpRequest,
    body: Result<FormBody, OAuthError>,
    oauth: web::Data<OAuth>,
) -> HttpResponse {
    let params = match body {
        Ok(FormBody(body)) => parameters(&body),
        Err(_) => None,
    };
    answer(&request, params, &oauth).await
}

/// Counts the request against its address, as the token endpoint does: each one may verify a
/// signature and look a client up.
async fn answer(request: &HttpRequest, params: Option<HashMap<String, String>>, oauth: &OAuth) -> HttpResponse {
    let mut limits = Limits::default();
    let response = match limits.count_address(oauth, request).await {
        Ok(()) => Ok(sign_out(request, params, oauth).await),
        Err(refusal) => Err(refusal),
    };
    limits.answer(response)
}

async fn sign_out(request: &HttpRequest, params: Option<HashMap<String, String>>, oauth: &OAuth) -> HttpResponse {
    let Some(params) = params else {
        return pages::error("A parameter of the logout request is repeated.");
    };
    let secure = oauth.settings.issuer.is_https();
    let keys = &oauth.session_keys;
    let session = Session::of(request, keys, secure);
    let hint = match params.get("id_token_hint") {
        Some(hint) => Some(oauth.verify_id_token_hint(hint).await.ok()),
        None => None,
    };
    // RP-Initiated Logout 1.0 §2: without an ID token of the signed-in user, the user is asked,
    // so that a link on any page cannot sign them out.
    let confirmed = params.get("confirm").is_some_and(|c| c == "yes")
        && Csrf::verify(request, keys, secure, params.get("csrf").map(String::as_str));
    let wanted = match (&session, &hint) {
        // No session this request can see: nothing to end, and no cookie is touched (a
        // cross-site POST carries no `SameSite=Lax` cookie, yet a deletion would still apply).
        (None, _) => true,
        (Some(session), Some(Some(hint))) if hint.sub == session.user_id => true,
        _ => confirmed,
    };
    if !wanted {
        let csrf = Csrf::for_form(request, secure);
        let kept: Vec<(&str, &str)> = ["post_logout_redirect_uri", "state", "client_id"]
            .into_iter()
            .filter_map(|name| params.get(name).map(|value| (name, value.as_str())))
            .collect();
        let mut page = pages::confirm_sign_out(&kept, &csrf.token(keys, request, None));
        if let Err(err) = page.add_cookie(&csrf.cookie()) {
            tracing::error!(error = %err, "setting the CSRF cookie failed");
        }
        return page;
    }
    // A hint that was given must verify before it names a client to return to.
    let hinted_client = match hint {
        Some(Some(hint)) => Some(hint.aud),
        Some(None) => return signed_out(pages::signed_out(), session.is_some(), secure),
        None => None,
    };
    let response = match return_uri(&params, hinted_client, oauth).await {
        Some(location) => HttpResponse::Found()
            .insert_header((header::LOCATION, location.as_str()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        None => pages::signed_out(),
    };
    signed_out(response, session.is_some(), secure)
}

/// `response`, deleting the sign-in session's cookie when the request showed one.
fn signed_out(mut response: HttpResponse, had_session: bool, secure: bool) -> HttpResponse {
    if !had_session {
        return response;
    }
    if let Err(err) = response.add_cookie(&Session::removal_cookie(secure)) {
        tracing::error!(error = %err, "setting the logout cookie failed");
    }
    response
}

/// Where to send the user after signing out: the requested `post_logout_redirect_uri` with
/// `state`, if the client named by the verified hint (or by `client_id`, which must agree)
/// registered it exactly.
async fn return_uri(params: &HashMap<String, String>, hinted: Option<String>, oauth: &OAuth) -> Option<url::Url> {
    let requested = params.get("post_logout_redirect_uri")?;
    let client_id = match (hinted, params.get("client_id")) {
        (Some(hinted), Some(named)) if hinted != *named => return None,
        (Some(hinted), _) => hinted,
        (None, Some(named)) => named.clone(),
        (None, None) => return None,
    };
    let client_id = Id::<ids::Client>::parse(&client_id)?;
    let client = match oauth.clients.find(&client_id).await {
        Ok(client) => client?,
        Err(err) => {
            tracing::error!(error = %err, "looking up the logout's client failed");
            return None;
        }
    };
    if !client.post_logout_redirect_uris.iter().any(|registered| registered == requested) {
        return None;
    }
    let mut location = url::Url::parse(requested).ok()?;
    if let Some(state) = params.get("state") {
        location.query_pairs_mut().append_pair("state", state);
    }
    Some(location)
}
