//! Signing in to the console and out of it (docs/console.md): only users with `role: admin`
//! get in; the attempt is limited and audited by the same code as the authorization endpoint's
//! sign-in (`tollbooth_oauth::password_sign_in`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use tollbooth_oauth::OAuth;
use tollbooth_oauth::error::OAuthError;
use tollbooth_oauth::password_sign_in::{self, Credentials, Outcome};
use tollbooth_oauth::request::FormBody;
use tollbooth_resource::ManagementApi;
use tollbooth_storage::users::ROLE_ADMIN;

use crate::error::{ConsoleError, see_other};
use crate::form::Form;
use crate::pages;
use crate::session::{ConsoleSession, SignInNonce, tenant_of, unix_now};

/// `GET /console/{tenant_id}/`: the sign-in form, or the console for a signed-in admin.
pub async fn start(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let oauth = &api.oauth;
    let tenant_id = tenant_of(&tenant_id).ok_or(ConsoleError::NoSuchPage)?;
    let secure = oauth.settings.issuer.is_https();
    let session = ConsoleSession::of(&request, &oauth.session_keys, secure, unix_now());
    if session.is_some_and(|s| s.tenant_id == tenant_id.as_str()) {
        return Ok(see_other(&format!("/console/{}/overview", tenant_id.as_str())));
    }
    Ok(sign_in_form(&request, oauth, tenant_id.as_str(), StatusCode::OK, "", None))
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
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let oauth = &api.oauth;
    let tenant_id = tenant_of(&tenant_id).ok_or(ConsoleError::NoSuchPage)?;
    let tenant_id = tenant_id.as_str();
    let form = Form::of(body)?;
    let secure = oauth.settings.issuer.is_https();
    if !SignInNonce::verify(&request, &oauth.session_keys, secure, form.one("csrf")) {
        return Err(ConsoleError::ExpiredForm);
    }
    let (Some(typed), Some(password)) = (form.one("email"), form.one("password")) else {
        let error = Some("Give your email and password.");
        return Ok(sign_in_form(&request, oauth, tenant_id, StatusCode::BAD_REQUEST, "", error));
    };
    let user = match password_sign_in::check(oauth, &request, tenant_id, typed, password).await {
        Ok(Credentials::Valid(user)) => user,
        Ok(Credentials::Invalid) => {
            let error = Some("The email or password is wrong.");
            return Ok(sign_in_form(&request, oauth, tenant_id, StatusCode::UNAUTHORIZED, typed, error));
        }
        Err(refusal) => {
            let (status, text, retry_after) = refusal.answer();
            let mut page = pages::message(status, "Cannot sign in now", &text);
            if let Some(seconds) = retry_after {
                page.headers_mut().insert(header::RETRY_AFTER, seconds.into());
            }
            return Ok(page);
        }
    };
    if user.role != ROLE_ADMIN {
        password_sign_in::record(oauth, &request, &user, Outcome::NotAdmin).await;
        let text = "Only admins can use the console.";
        return Ok(pages::message(StatusCode::FORBIDDEN, "Cannot sign in", text));
    }
    password_sign_in::record(oauth, &request, &user, Outcome::SignedIn).await;
    let now = unix_now();
    let session = ConsoleSession::new(&oauth.session_keys, &user, now);
    let mut answer = see_other(&format!("/console/{tenant_id}/overview"));
    let _ = answer.add_cookie(&session.cookie(&oauth.session_keys, secure, now));
    Ok(answer)
}

/// `POST /console/{tenant_id}/sign_out`: ends the session, with its CSRF token.
pub async fn sign_out(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let oauth = &api.oauth;
    let tenant_id = tenant_of(&tenant_id).ok_or(ConsoleError::NoSuchPage)?;
    let secure = oauth.settings.issuer.is_https();
    let to_sign_in = see_other(&format!("/console/{}/", tenant_id.as_str()));
    let Some(session) = ConsoleSession::of(&request, &oauth.session_keys, secure, unix_now()) else {
        return Ok(to_sign_in);
    };
    let form = Form::of(body)?;
    if !session.accepts_csrf(&oauth.session_keys, form.one("csrf")) {
        return Err(ConsoleError::ExpiredForm);
    }
    let mut answer = to_sign_in;
    let _ = answer.add_cookie(&ConsoleSession::removal(secure));
    Ok(answer)
}
