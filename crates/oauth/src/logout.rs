//! `GET`/`POST /oauth/logout` (OpenID Connect RP-Initiated Logout 1.0): ends the browser's
//! sign-in session, then sends the user back to the client only to a URI the client registered
//! in `post_logout_redirect_uris`, with `state`. Anything less (no client named, an invalid
//! `id_token_hint`, an unregistered URI) ends with a signed-out page, never a redirect
//! (docs/oidc.md), so the endpoint cannot be used as an open redirector.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tollbooth_storage::ids::{self, Id};

use crate::error::OAuthError;
use crate::pages;
use crate::request::{FormBody, unique_parameters as parameters};
use crate::session::Session;
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
    answer(params, &oauth).await
}

/// The same, with the parameters as a form.
#[utoipa::path(post, path = "/oauth/logout", operation_id = "submitEndSession", tag = "oauth", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "The parameters of `GET /oauth/logout`"),
    responses(
        (status = 200, description = "Signed out: an HTML page", content_type = "text/html"),
        (status = 302, description = "Signed out, and back to the registered `post_logout_redirect_uri` with `state`"),
    ))]
pub async fn submit_logout(body: Result<FormBody, OAuthError>, oauth: web::Data<OAuth>) -> HttpResponse {
    let params = match body {
        Ok(FormBody(body)) => parameters(&body),
        Err(_) => None,
    };
    answer(params, &oauth).await
}

async fn answer(params: Option<HashMap<String, String>>, oauth: &OAuth) -> HttpResponse {
    // The session ends whatever else the request says: signing out is always allowed.
    let removal = Session::removal_cookie(oauth.settings.issuer.is_https());
    let destination = match params {
        Some(params) => return_uri(&params, oauth).await,
        None => None,
    };
    let mut response = match destination {
        Some(location) => HttpResponse::Found()
            .insert_header((header::LOCATION, location.as_str()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        None => pages::signed_out(),
    };
    if let Err(err) = response.add_cookie(&removal) {
        tracing::error!(error = %err, "setting the logout cookie failed");
    }
    response
}

/// Where to send the user after signing out: the requested `post_logout_redirect_uri` with
/// `state`, if the client named by the hint (or by `client_id`) registered it exactly.
async fn return_uri(params: &HashMap<String, String>, oauth: &OAuth) -> Option<url::Url> {
    let requested = params.get("post_logout_redirect_uri")?;
    let hinted = match params.get("id_token_hint") {
        Some(hint) => Some(oauth.verify_id_token_hint(hint).await.ok()?.aud),
        None => None,
    };
    let client_id = match (hinted, params.get("client_id")) {
        (Some(hinted), Some(named)) if hinted != *named => return None,
        (Some(hinted), _) => hinted,
        (None, Some(named)) => named.clone(),
        (None, None) => return None,
    };
    let client_id = Id::<ids::Client>::parse(&client_id)?;
    let client = oauth.clients.find(&client_id).await.ok()??;
    if !client.post_logout_redirect_uris.iter().any(|registered| registered == requested) {
        return None;
    }
    let mut location = url::Url::parse(requested).ok()?;
    if let Some(state) = params.get("state") {
        location.query_pairs_mut().append_pair("state", state);
    }
    Some(location)
}
