//! The console's one error type: every way a console request fails becomes a page here and
//! nowhere else (docs/console.md, "Errors"). A form's invalid fields are not errors of this
//! kind: the form is shown again with each message next to its field.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use tollbooth_resource::error::{ApiError, ApiErrorKind};
use tollbooth_storage::StorageError;

use crate::pages;
use crate::session::ConsoleSession;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// A malformed tenant id in the path, or a path under `/console` that is no page.
    #[error("no such console page")]
    NoSuchPage,
    /// No live session for this tenant: sign in (again). `end_session`: the request's
    /// session cookie no longer holds and is deleted.
    #[error("sign-in needed")]
    SignInNeeded { tenant_id: String, end_session: bool, secure: bool },
    /// The user is no longer an admin: their session ends.
    #[error("not an admin")]
    NotAdmin { secure: bool },
    /// A form posted without its CSRF token, or with another session's.
    #[error("expired form")]
    ExpiredForm,
    /// A form shown before the object changed (another admin's edit, or this form posted twice).
    #[error("changed since shown")]
    ChangedSinceShown,
    /// A body that is no form, or a page address with invalid parameters.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// What the API's operation refused (other than invalid fields, which forms show).
    #[error("{0}")]
    Api(#[from] ApiError),
}

impl ConsoleError {
    /// The refusal of a form with one choice (a rotation's grace period): there is no field to
    /// show an invalid value next to, so its message is the page's.
    pub fn of_one_choice_form(err: ApiError) -> Self {
        match err.field_errors.first() {
            Some(field) if err.kind == ApiErrorKind::ValidationFailed => {
                ConsoleError::Api(ApiError::invalid_request(field.message.clone()))
            }
            _ => err.into(),
        }
    }
}

impl From<StorageError> for ConsoleError {
    fn from(err: StorageError) -> Self {
        ConsoleError::Api(ApiError::from(err))
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::NoSuchPage => StatusCode::NOT_FOUND,
            ConsoleError::SignInNeeded { .. } => StatusCode::SEE_OTHER,
            ConsoleError::NotAdmin { .. } | ConsoleError::ExpiredForm => StatusCode::FORBIDDEN,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::ChangedSinceShown => StatusCode::CONFLICT,
            ConsoleError::Api(err) => err.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            ConsoleError::NoSuchPage => pages::message(status, "Not found", "There is no such page."),
            ConsoleError::SignInNeeded { tenant_id, end_session, secure } => {
                let mut answer = see_other(&format!("/console/{tenant_id}/"));
                if *end_session {
                    let _ = answer.add_cookie(&ConsoleSession::removal(*secure));
                }
                answer
            }
            ConsoleError::NotAdmin { secure } => {
                let mut answer = pages::message(status, "Cannot continue", "Only admins can use the console.");
                let _ = answer.add_cookie(&ConsoleSession::removal(*secure));
                answer
            }
            ConsoleError::ExpiredForm => {
                let text = "This form has expired. Go back, reload the page and try again.";
                pages::message(status, "Cannot continue", text)
            }
            ConsoleError::BadRequest(text) => pages::message(status, "Cannot continue", text),
            ConsoleError::ChangedSinceShown => {
                let text = "This was changed after the page was shown, so this form did nothing. If you sent \
                            the form twice, the first one was done: a secret rotated then is not shown again, \
                            so rotate again for a new one. Reload the page to see it as it is now.";
                pages::message(status, "Changed meanwhile", text)
            }
            ConsoleError::Api(err) => api_refusal(status, err),
        }
    }
}

/// The API's refusal as a page: its message (written for people), never its JSON body.
fn api_refusal(status: StatusCode, err: &ApiError) -> HttpResponse {
    let title = match &err.kind {
        ApiErrorKind::InsufficientScope(_) => "Not allowed",
        ApiErrorKind::NotFound => "Not found",
        ApiErrorKind::Internal => "Something went wrong",
        _ => "Cannot continue",
    };
    let text = match &err.kind {
        // The API's message says why (a scope, or an action that is the tenant's alone).
        ApiErrorKind::InsufficientScope(_) => format!("Your account cannot do this. {}", err.message),
        ApiErrorKind::Internal => "Please try again.".to_owned(),
        _ => err.message.clone(),
    };
    let mut page = pages::message(status, title, &text);
    if let ApiErrorKind::RateLimitExceeded { retry_after_seconds } = err.kind {
        page.headers_mut().insert(header::RETRY_AFTER, retry_after_seconds.into());
    }
    page
}

/// `303 See Other` to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}
