//! Signing in to the console and out of it (docs/console.md): only users with `role: admin`
//! get in; the attempt is limited and audited by the same code as the authorization endpoint's
//! sign-in (`tollbooth_oauth::password_sign_in`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;

use tollbooth_oauth::OAuth;
use tollbooth_oauth::error::OAuthError;
use tollbooth_oauth::password_sign_in::{self, Credentials, Outcome};
use tollbooth_oauth::request::{FormBody, unique_parameters};
use tollbooth_storage::ids::{self, Id};
use tollbooth_storage::users::ROLE_ADMIN;

use crate::pages;
use crate::session::{ConsoleSession, SignInNonce};

pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `303 See Other` to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// The tenant id of a console path (a malformed one names no console).
pub fn tenant_of(raw: &str) -> Option<Id<ids::Tenant>> {
    Id::parse(raw)
}

/// The answer to a path whose tenant id is malformed.
pub fn no_such_console() -> HttpResponse {
    pages::message(StatusCode::NOT_FOUND, "Not found", "There is no such console.")
}

/// A posted form's fields; `None` for a body too large, not a form, or with a repeated field.
fn form_of(body: Result<FormBody, OAuthError>) -> Option<HashMap<String, String>> {
    body.ok().and_then(|FormBody(body)| unique_parameters(&body))
}

/// A form posted without its CSRF token, or with another session's.
fn expired_form() -> HttpResponse {
    let text = "This form has expired. Go back, reload the page and try again.";
    pages::message(StatusCode::FORBIDDEN, "Cannot continue", text)
}

/// `GET /console/{tenant_id}/`: the sign-in form, or the console for a signed-in admin.
pub async fn start(request: HttpRequest, tenant_id: web::Path<String>, oauth: web::Data<OAuth>) -> HttpResponse {
    let Some(tenant_id) = tenant_of(&tenant_id) else { return no_such_console() };
    let secure = oauth.settings.issuer.is_https();
    let session = ConsoleSession::of(&request, &oauth.session_keys, secure, unix_now());
    if session.is_some_and(|s| s.tenant_id == tenant_id.as_str()) {
        return see_other(&format!("/console/{}/api_keys", tenant_id.as_str()));
    }
    sign_in_form(&request, &oauth, tenant_id.as_str(), StatusCode::OK, "", None)
}

fn sign_in_form(
    request: &HttpRequest,
    oauth: &OAuth,
    tenant_id: &str,
    status: StatusCode,
    email: &str,
    error: Option<&str>,
) -> HttpResponse {
    let secure = oauth.settings.issuer.is_https();
    let nonce = SignInNonce::for_form(request, secure);
    let mut page = pages::sign_in(status, tenant_id, &nonce.token(&oauth.session_keys), email, error);
    let _ = page.add_cookie(&nonce.cookie(secure));
    page
}

/// `POST /console/{tenant_id}/sign_in`.
pub async fn sign_in(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    body: Result<FormBody, OAuthError>,
    oauth: web::Data<OAuth>,
) -> HttpResponse {
    let Some(tenant_id) = tenant_of(&tenant_id) else { return no_such_console() };
    let tenant_id = tenant_id.as_str();
    let form = match form_of(body) {
        Some(form) => form,
        None => return pages::message(StatusCode::BAD_REQUEST, "Cannot continue", "The form is not valid."),
    };
    let secure = oauth.settings.issuer.is_https();
    if !SignInNonce::verify(&request, &oauth.session_keys, secure, form.get("csrf").map(String::as_str)) {
        return expired_form();
    }
    let (Some(typed), Some(password)) = (form.get("email"), form.get("password")) else {
        return sign_in_form(
            &request,
            &oauth,
            tenant_id,
            StatusCode::BAD_REQUEST,
            "",
            Some("Give your email and password."),
        );
    };
    let user = match password_sign_in::check(&oauth, &request, tenant_id, typed, password).await {
        Ok(Credentials::Valid(user)) => user,
        Ok(Credentials::Invalid) => {
            let error = Some("The email or password is wrong.");
            return sign_in_form(&request, &oauth, tenant_id, StatusCode::UNAUTHORIZED, typed, error);
        }
        Err(refusal) => {
            let (status, text, retry_after) = refusal.answer();
            let mut page = pages::message(status, "Cannot sign in now", &text);
            if let Some(seconds) = retry_after {
                page.headers_mut().insert(header::RETRY_AFTER, seconds.into());
            }
            return page;
        }
    };
    if user.role != ROLE_ADMIN {
        password_sign_in::record(&oauth, &request, &user, Outcome::NotAdmin).await;
        let text = "Only admins can use the console.";
        return pages::message(StatusCode::FORBIDDEN, "Cannot sign in", text);
    }
    password_sign_in::record(&oauth, &request, &user, Outcome::SignedIn).await;
    let now = unix_now();
    let session = ConsoleSession::new(&oauth.session_keys, &user, now);
    let mut answer = see_other(&format!("/console/{tenant_id}/api_keys"));
    let _ = answer.add_cookie(&session.cookie(&oauth.session_keys, secure, now));
    answer
}

/// `POST /console/{tenant_id}/sign_out`: ends the session, with its CSRF token.
pub async fn sign_out(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    body: Result<FormBody, OAuthError>,
    oauth: web::Data<OAuth>,
) -> HttpResponse {
    let Some(tenant_id) = tenant_of(&tenant_id) else { return no_such_console() };
    let secure = oauth.settings.issuer.is_https();
    let form = form_of(body).unwrap_or_default();
    let Some(session) = ConsoleSession::of(&request, &oauth.session_keys, secure, unix_now()) else {
        return see_other(&format!("/console/{}/", tenant_id.as_str()));
    };
    if !session.accepts_csrf(&oauth.session_keys, form.get("csrf").map(String::as_str)) {
        return expired_form();
    }
    let mut answer = see_other(&format!("/console/{}/", tenant_id.as_str()));
    let _ = answer.add_cookie(&ConsoleSession::removal(secure));
    answer
}
