//! `GET`/`POST /oauth/authorize` (RFC 6749 §4.1, RFC 7636 PKCE): the request checked, oxide-auth's
//! authorization flow (through `crate::oxide`) run on it, and the sign-in and consent pages.
//!
//! An unknown client or a redirect URI that is not registered gets an HTML error page, never a
//! redirect; every other error redirects to the client with `error`, `error_description` and
//! `state`.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use secrecy::ExposeSecret;
use tollbooth_storage::authorization_codes::{self, AuthorizationCode};
use tollbooth_storage::clients::Client;
use tollbooth_storage::ids::{self, Id};
use tollbooth_storage::values::ScopeSet;
use tollbooth_storage::{StorageError, secrets};

use crate::audience;
use crate::error::OAuthError;
use crate::grants::GrantType;
use crate::oxide::{self, AuthorizationRefusal};
use crate::pages;
use crate::password_sign_in::{self, Credentials, Outcome, Refusal};
use crate::policy;
use crate::request::{FormBody, unique_parameters as parameters};
use crate::session::{Csrf, Session};
use crate::state::OAuth;

/// docs/oauth.md: codes live 60 seconds.
pub const CODE_LIFETIME_SECONDS: i64 = 60;

/// `302 Found` to `location`.
fn redirect(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// `redirect_uri` with an RFC 6749 §4.1.2.1 error, and `iss` (RFC 9207).
fn redirect_error(
    redirect_uri: &str,
    (state, issuer): (Option<&str>, &str),
    error: &str,
    description: &str,
) -> HttpResponse {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return pages::error("The client's redirect URI is not a URL."),
    };
    url.query_pairs_mut().append_pair("error", error).append_pair("error_description", description);
    if let Some(state) = state {
        url.query_pairs_mut().append_pair("state", state);
    }
    url.query_pairs_mut().append_pair("iss", issuer);
    redirect(url.as_str())
}

/// RFC 7636 §4.2: a S256 challenge is the base64url SHA-256 of a verifier: 43 characters.
#[doc(hidden)] // public for the fuzz targets (`fuzz/`) only
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(challenge).is_ok_and(|b| b.len() == 32)
}

/// What an authorization request asks of the sign-in (OpenID Connect Core §3.1.2.1).
#[doc(hidden)] // public for the fuzz targets (`fuzz/`) only
#[derive(Debug, Default)]
pub struct Authentication {
    /// `prompt=none`: answer without any page, or with `login_required`/`consent_required`.
    no_pages: bool,
    /// `prompt=login`: the user signs in again, whatever session they have.
    sign_in_again: bool,
    /// `prompt=consent`: ask for consent even of a client that may skip it.
    ask_consent: bool,
    /// `max_age`: a sign-in older than this many seconds does not count.
    max_age: Option<i64>,
    nonce: Option<String>,
}

/// A `nonce` or `login_hint` longer than this is refused: they are stored, and echoed.
const MAX_OPENID_PARAMETER_LENGTH: usize = 512;

impl Authentication {
    pub fn of(params: &HashMap<String, String>) -> Result<Self, &'static str> {
        let prompt: Vec<&str> = params.get("prompt").map(|p| p.split(' ').collect()).unwrap_or_default();
        if prompt.contains(&"none") && prompt.len() > 1 {
            return Err("prompt=none cannot be combined with other values.");
        }
        let max_age = match params.get("max_age") {
            Some(text) => Some(text.parse::<u32>().map_err(|_| "max_age must be a number of seconds.")?),
            None => None,
        };
        let nonce = params.get("nonce").cloned();
        let too_long = |value: Option<&String>| value.is_some_and(|v| v.len() > MAX_OPENID_PARAMETER_LENGTH);
        if too_long(nonce.as_ref()) || too_long(params.get("login_hint")) {
            return Err("nonce and login_hint are limited to 512 characters.");
        }
        Ok(Authentication {
            no_pages: prompt.contains(&"none"),
            // Core §3.1.2.1: max_age=0 is prompt=login (a sign-in this second would count).
            sign_in_again: prompt.contains(&"login") || max_age == Some(0),
            ask_consent: prompt.contains(&"consent"),
            max_age: max_age.map(i64::from),
            nonce,
        })
    }

    /// Whether a sign-in made at `auth_time` still counts for this request.
    fn accepts(&self, session: &Session, now: i64) -> bool {
        !self.sign_in_again && self.max_age.is_none_or(|max_age| now - session.auth_time <= max_age)
    }
}

/// The query of a request once the user has signed in again in answer to it: without
/// `prompt=login` and `max_age`, which that sign-in satisfied, so the consent form it shows
/// does not ask for yet another sign-in.
fn signed_in_query(query: &str) -> String {
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "max_age" => {}
            "prompt" => {
                let rest: Vec<&str> = value.split(' ').filter(|p| *p != "login").collect();
                if !rest.is_empty() {
                    kept.append_pair("prompt", &rest.join(" "));
                }
            }
            _ => {
                kept.append_pair(&name, &value);
            }
        }
    }
    kept.finish()
}

/// A new authorization code for `user_id` with `scope`, and its row (stored once the redirect is
/// built): the code exists only in the redirect.
fn new_code(
    oauth: &OAuth,
    client: &Client,
    (redirect_uri, code_challenge, resource, nonce): (&str, Option<String>, Option<&str>, Option<String>),
    session: &Session,
    scope: &ScopeSet,
) -> (String, AuthorizationCode) {
    let code = secrets::generate_authorization_code();
    let code = code.expose_secret().to_owned();
    let now = tollbooth_storage::now();
    let row = AuthorizationCode {
        code_hash: oauth.hasher.hash(&code),
        tenant_id: client.tenant_id.clone(),
        client_id: client.id.clone(),
        user_id: session.user_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope: scope.to_string(),
        code_challenge,
        expires_at: now + chrono::Duration::seconds(CODE_LIFETIME_SECONDS),
        used_at: None,
        issued_jti: None,
        issued_expires_at: None,
        created_at: now,
        nonce,
        auth_time: Some(tollbooth_storage::from_unix_seconds(session.auth_time)),
        session_id: Some(session.session_id.clone()),
        resource: resource.map(str::to_owned),
    };
    (code, row)
}

/// The error page of a sign-in that was not even checked.
fn refusal_page(refusal: &Refusal) -> HttpResponse {
    let (status, text, retry_after) = refusal.answer();
    let mut page = pages::error(&text);
    *page.status_mut() = status;
    if let Some(seconds) = retry_after {
        page.headers_mut().insert(header::RETRY_AFTER, seconds.into());
    }
    page
}

/// A storage failure before the redirect URI is trusted: while the database is away, a 503 page
/// with `Retry-After`; otherwise a 500 page.
fn storage_failure_page(err: &StorageError) -> HttpResponse {
    let StorageError::Unavailable(cause) = err else { return server_error(err) };
    tracing::warn!(error = %cause, "database unavailable");
    let mut page = pages::error("The server is briefly unavailable. Please try again in a moment.");
    *page.status_mut() = actix_web::http::StatusCode::SERVICE_UNAVAILABLE;
    page.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    page
}

fn server_error(cause: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %cause, "authorization request failed");
    let mut response = pages::error("Something went wrong on our side. Please try again.");
    *response.status_mut() = actix_web::http::StatusCode::INTERNAL_SERVER_ERROR;
    response
}

fn with_cookies(mut response: HttpResponse, cookies: &[actix_web::cookie::Cookie<'static>]) -> HttpResponse {
    for cookie in cookies {
        let _ = response.add_cookie(cookie);
    }
    response
}

/// The authorization request's query parameters (RFC 6749 §4.1.1, RFC 7636 §4.3), for the
/// OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AuthorizationQuery {
    /// `code`
    response_type: String,
    client_id: String,
    /// Exactly a registered URI; optional when only one is registered
    redirect_uri: Option<String>,
    /// Space-separated; default all of the client's scopes
    scope: Option<String>,
    state: Option<String>,
    /// RFC 7636 S256 challenge; required for public clients
    code_challenge: Option<String>,
    /// `S256` (`plain` is refused)
    code_challenge_method: Option<String>,
    /// RFC 8707: the API the tokens are for
    resource: Option<String>,
    /// OpenID Connect: echoed in the ID token (at most 512 characters)
    nonce: Option<String>,
    /// OpenID Connect: `none`, `login`, `consent` (space-separated)
    prompt: Option<String>,
    /// OpenID Connect: seconds since the last sign-in after which the user signs in again
    max_age: Option<u32>,
    /// OpenID Connect: the email the sign-in form starts with
    login_hint: Option<String>,
}

/// `POST /oauth/authorize`: the sign-in and consent forms post back to the same URL.
#[utoipa::path(post, path = "/oauth/authorize", operation_id = "submitAuthorization", tag = "oauth", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "The sign-in form (`email`, `password`, `csrf`) or the consent form (`decision` = `approve` | `deny`, `csrf`)"),
    params(AuthorizationQuery),
    responses(
        (status = 200, description = "The consent page (HTML)", content_type = "text/html"),
        (status = 302, description = "Back to the redirect URI with `code` and `state`, or with `error`, `error_description` and `state`"),
        (status = 400, description = "Unknown client, unregistered redirect URI or expired form: an HTML page, never a redirect", content_type = "text/html"),
        (status = 401, description = "Wrong email or password: the sign-in page again, with an error", content_type = "text/html"),
        (status = 403, description = "The account may not sign in to this client (another organization's)", content_type = "text/html"),
        (status = 429, description = "Too many sign-in attempts", content_type = "text/html"),
        (status = 503, description = "Password checks at capacity; Retry-After", content_type = "text/html"),
    ))]
pub async fn submit_authorization(
    request: HttpRequest,
    body: Result<FormBody, OAuthError>,
    oauth: web::Data<OAuth>,
) -> HttpResponse {
    authorize(request, body, oauth).await
}

/// The authorization endpoint: `GET` starts the flow, the sign-in and consent forms `POST` back.
#[utoipa::path(get, path = "/oauth/authorize", operation_id = "startAuthorization", tag = "oauth", security(()),
    params(AuthorizationQuery),
    responses(
        (status = 200, description = "The sign-in or consent page (HTML)", content_type = "text/html"),
        (status = 302, description = "Back to the redirect URI with `code` and `state`, or with `error`, `error_description` and `state`"),
        (status = 400, description = "Unknown client or unregistered redirect URI: an HTML page, never a redirect", content_type = "text/html"),
    ))]
pub async fn authorize(
    request: HttpRequest,
    body: Result<FormBody, OAuthError>,
    oauth: web::Data<OAuth>,
) -> HttpResponse {
    let body = match body {
        Ok(FormBody(body)) => body,
        Err(error) => return pages::error(&error.description),
    };
    match run(&request, &body, &oauth).await {
        Ok(response) | Err(response) => response,
    }
}

async fn run(request: &HttpRequest, body: &[u8], oauth: &OAuth) -> Result<HttpResponse, HttpResponse> {
    let params = parameters(request.query_string().as_bytes())
        .ok_or_else(|| pages::error("A parameter of the authorization request is repeated."))?;
    let client_id =
        params.get("client_id").ok_or_else(|| pages::error("The authorization request names no client."))?;
    let unknown = || pages::error("This application is not known to the authorization server.");
    let client_id = Id::<ids::Client>::parse(client_id).ok_or_else(unknown)?;
    let client = oauth.clients.find(&client_id).await.map_err(|err| storage_failure_page(&err))?.ok_or_else(unknown)?;
    let redirect_uri = match params.get("redirect_uri") {
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => uri.clone(),
        Some(_) => return Err(pages::error("The redirect URI is not registered for this application.")),
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => return Err(pages::error("The authorization request needs a redirect_uri.")),
    };
    // From here on, errors go back to the client (RFC 6749 §4.1.2.1).
    let state = params.get("state").map(String::as_str);
    let issuer = oauth.settings.issuer.as_str();
    let refuse = |error: &str, description: &str| redirect_error(&redirect_uri, (state, issuer), error, description);
    // RFC 6749 §4.1.2.1: once the redirect URI is trusted, a database away is the client's
    // `temporarily_unavailable`; anything else, a page.
    let failed = |err: StorageError| match err {
        StorageError::Unavailable(cause) => {
            tracing::warn!(error = %cause, "database unavailable");
            refuse("temporarily_unavailable", "The server is briefly unavailable; try again.")
        }
        other => server_error(&other),
    };
    if params.get("response_type").map(String::as_str) != Some("code") {
        return Err(refuse("unsupported_response_type", "Only response_type=code is supported."));
    }
    if !client.allows_grant(GrantType::AuthorizationCode.name()) {
        return Err(refuse("unauthorized_client", "This client may not use the authorization code grant."));
    }
    let code_challenge = match (params.get("code_challenge"), params.get("code_challenge_method").map(String::as_str)) {
        (Some(challenge), Some("S256")) if valid_challenge(challenge) => Some(challenge.clone()),
        (Some(_), Some("S256")) => return Err(refuse("invalid_request", "code_challenge is not a S256 challenge.")),
        (Some(_), _) | (None, Some(_)) => {
            return Err(refuse(
                "invalid_request",
                "PKCE needs code_challenge with code_challenge_method=S256 (plain is refused).",
            ));
        }
        (None, None) if !client.confidential => {
            return Err(refuse("invalid_request", "Public clients must use PKCE (RFC 7636)."));
        }
        (None, None) if oauth.settings.pkce_required => {
            return Err(refuse("invalid_request", "This server requires PKCE (RFC 7636) of every client."));
        }
        (None, None) => None,
    };

    let authentication = Authentication::of(&params).map_err(|description| refuse("invalid_request", description))?;
    let pending = oxide::start_authorization(&client, &params, &redirect_uri).map_err(|refused| match refused {
        AuthorizationRefusal::Redirect { error, description } => refuse(error, description),
        AuthorizationRefusal::Page(text) => pages::error(text),
    })?;
    // docs/oauth.md, "Audiences": the code's scope must be for one API, and a `resource` one
    // of the tenant's. Refused here rather than at the exchange, after the user consented.
    let resources = oauth.resources.of_tenant(&client.tenant_id).await.map_err(failed)?;
    let audiences = oauth.audiences(&resources);
    let resource = params.get("resource").map(String::as_str);
    if let Err(refusal) = audience::check_named(&audiences, &client.scopes, resource)
        .and_then(|()| audience::for_client(&audiences, &client.scopes, &pending.scope(), resource))
    {
        return Err(refuse(refusal.kind.code(), &refusal.description));
    }

    let secure = oauth.settings.issuer.is_https();
    let mut action = format!("/oauth/authorize?{}", request.query_string());
    let login_hint = params.get("login_hint").map(String::as_str).unwrap_or_default();
    let csrf = Csrf::for_form(request, secure);
    let mut cookies = vec![csrf.cookie()];
    let mut token = csrf.token(&oauth.session_keys, request, None);
    // A sign-in counts only for clients of the tenant and organization it was made for: it does
    // not carry one organization's sign-in silently into another's client.
    let now = chrono::Utc::now().timestamp();
    let mut session = Session::of(request, &oauth.session_keys, secure).filter(|s| {
        s.tenant_id == client.tenant_id && s.organization_id == client.organization_id && authentication.accepts(s, now)
    });
    let mut decision = None;

    if request.method() == actix_web::http::Method::POST {
        let form = parameters(body).ok_or_else(|| pages::error("A field of the form is repeated."))?;
        if !Csrf::verify(request, &oauth.session_keys, secure, form.get("csrf").map(String::as_str)) {
            return Err(with_cookies(pages::error("This form has expired. Go back and try again."), &cookies));
        }
        if let (Some(typed), Some(password)) = (form.get("email"), form.get("password")) {
            // Checked as one form: the email is shown again as typed.
            let tenant_id = &client.tenant_id;
            let checked = password_sign_in::check(oauth, request, tenant_id, typed, password).await;
            match checked.map_err(|refusal| with_cookies(refusal_page(&refusal), &cookies))? {
                // docs/security.md: an organization's client signs in only its own users.
                Credentials::Valid(user)
                    if !policy::client_may_sign_in(
                        client.organization_id.as_deref(),
                        user.organization_id.as_deref(),
                    ) =>
                {
                    let outcome = Outcome::OutsideOrganization { client_id: &client.id };
                    password_sign_in::record(oauth, request, &user, outcome).await;
                    let mut page = pages::error("This account cannot sign in to this application.");
                    *page.status_mut() = actix_web::http::StatusCode::FORBIDDEN;
                    return Err(with_cookies(page, &cookies));
                }
                Credentials::Valid(user) => {
                    password_sign_in::record(oauth, request, &user, Outcome::SignedIn).await;
                    let signed_in = Session::new(user.id, tenant_id.clone(), client.organization_id.clone());
                    let cookie = signed_in.cookie(&oauth.session_keys, secure);
                    action = format!("/oauth/authorize?{}", signed_in_query(request.query_string()));
                    // The consent form of this answer is posted with the new session.
                    token = csrf.token(&oauth.session_keys, request, Some(&cookie));
                    cookies.push(cookie);
                    session = Some(signed_in);
                }
                Credentials::Invalid => {
                    let page = pages::sign_in(&action, &client.name, &token, typed, true);
                    return Ok(with_cookies(page, &cookies));
                }
            }
        } else {
            decision = form.get("decision").cloned();
        }
    }

    let Some(session) = session else {
        if authentication.no_pages {
            return Err(refuse("login_required", "The user is not signed in."));
        }
        return Ok(with_cookies(pages::sign_in(&action, &client.name, &token, login_hint, false), &cookies));
    };
    let approved = match decision.as_deref() {
        Some("approve") => true,
        Some("deny") => false,
        Some(_) => return Err(pages::error("Choose Allow or Deny.")),
        // A public client stored with skip_consent before the rule: consent is asked all the same.
        None if client.skip_consent && client.confidential && !authentication.ask_consent => true,
        None if authentication.no_pages => {
            return Err(refuse("consent_required", "The user has not consented to this client."));
        }
        None => {
            let scope = pending.scope();
            let scopes: Vec<&str> = scope.iter().collect();
            return Ok(with_cookies(pages::consent(&action, &client.name, &scopes, &token), &cookies));
        }
    };
    if !approved {
        return Ok(with_cookies(refuse("access_denied", "The user denied the request."), &cookies));
    }
    let mut made = None;
    let authorized = (redirect_uri.as_str(), code_challenge, resource, authentication.nonce);
    let mut location = pending
        .approve(&session.user_id, |scope| {
            let (code, row) = new_code(oauth, &client, authorized, &session, scope);
            made = Some(row);
            code
        })
        .map_err(|err| server_error(&err))?;
    let code = made.ok_or_else(|| server_error(&"no code was made"))?;
    oauth.db.run(move |conn| authorization_codes::insert(conn, &code)).await.map_err(failed)?;
    // RFC 9207: the client checks it came from the server it sent the user to (mix-up attacks).
    location.query_pairs_mut().append_pair("iss", issuer);
    Ok(with_cookies(redirect(location.as_str()), &cookies))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> HashMap<String, String> {
        parameters(query.as_bytes()).unwrap()
    }

    /// OpenID Connect Core §3.1.2.1: what `prompt` and `max_age` ask of the sign-in.
    #[test]
    fn prompt_and_max_age_decide_which_sign_in_counts() {
        let now = 1_000_000;
        let session = |age| Session {
            user_id: "user_1".into(),
            tenant_id: "ten_1".into(),
            organization_id: None,
            auth_time: now - age,
            session_id: "sid".into(),
        };
        let plain = Authentication::of(&params("")).unwrap();
        assert!(plain.accepts(&session(3000), now));
        let login = Authentication::of(&params("prompt=login")).unwrap();
        assert!(!login.accepts(&session(0), now), "prompt=login: no session counts");
        let recent = Authentication::of(&params("max_age=60")).unwrap();
        assert!(recent.accepts(&session(60), now) && !recent.accepts(&session(61), now));
        let zero = Authentication::of(&params("max_age=0")).unwrap();
        assert!(!zero.accepts(&session(0), now), "max_age=0 is prompt=login");
        assert!(Authentication::of(&params("prompt=none")).unwrap().no_pages);
        assert!(Authentication::of(&params("prompt=consent%20login")).unwrap().ask_consent);
        assert!(Authentication::of(&params("prompt=none%20login")).is_err());
        assert!(Authentication::of(&params("max_age=-1")).is_err());
        assert!(Authentication::of(&params(&format!("nonce={}", "n".repeat(513)))).is_err());
    }

    /// After a sign-in made for `prompt=login` or `max_age`, the consent form posts without
    /// them, keeping every other parameter as it was.
    #[test]
    fn the_signed_in_query_drops_only_what_the_sign_in_satisfied() {
        let query = "client_id=c&prompt=login%20consent&max_age=0&state=a%26b&scope=openid";
        let kept = params(&signed_in_query(query));
        assert_eq!(kept.get("prompt").map(String::as_str), Some("consent"));
        assert!(!kept.contains_key("max_age"));
        assert_eq!(kept["state"], "a&b");
        assert_eq!((kept["client_id"].as_str(), kept["scope"].as_str()), ("c", "openid"));
        assert!(!params(&signed_in_query("prompt=login")).contains_key("prompt"));
    }
}
