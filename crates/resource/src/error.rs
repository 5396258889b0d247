//! The management API's one error type. Status, `error` code, `WWW-Authenticate` and
//! `Retry-After` are decided in `ResponseError` below and nowhere else (docs/api.md table).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use tollbooth_storage::StorageError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiErrorKind {
    InvalidRequest,
    MissingApiKey,
    InvalidApiKey,
    InvalidToken,
    TokenExpired,
    /// Carries the scope that was needed.
    InsufficientScope(String),
    NotFound,
    /// The path exists, the method does not (405, with `Allow`).
    MethodNotAllowed,
    Conflict,
    ValidationFailed,
    RateLimitExceeded {
        retry_after_seconds: u64,
    },
    Internal,
    /// The database is away (a restart, say): 503 with `Retry-After`; worth retrying.
    Unavailable,
}

impl ApiErrorKind {
    fn code(&self) -> &'static str {
        match self {
            ApiErrorKind::InvalidRequest => "invalid_request",
            ApiErrorKind::MissingApiKey => "missing_api_key",
            ApiErrorKind::InvalidApiKey => "invalid_api_key",
            ApiErrorKind::InvalidToken => "invalid_token",
            ApiErrorKind::TokenExpired => "token_expired",
            ApiErrorKind::InsufficientScope(_) => "insufficient_scope",
            ApiErrorKind::NotFound => "not_found",
            ApiErrorKind::MethodNotAllowed => "method_not_allowed",
            ApiErrorKind::Conflict => "conflict",
            ApiErrorKind::ValidationFailed => "validation_failed",
            ApiErrorKind::RateLimitExceeded { .. } => "rate_limit_exceeded",
            ApiErrorKind::Internal => "internal_error",
            ApiErrorKind::Unavailable => "service_unavailable",
        }
    }
}

/// One invalid field of a 422 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), code: code.into(), message: message.into() }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{} ({message})", kind.code())]
pub struct ApiError {
    pub kind: ApiErrorKind,
    pub message: String,
    pub field_errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(kind: ApiErrorKind, message: impl Into<String>) -> Self {
        ApiError { kind, message: message.into(), field_errors: Vec::new() }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::InvalidRequest, message)
    }

    pub fn missing_api_key() -> Self {
        Self::new(ApiErrorKind::MissingApiKey, "No API key provided in the Authorization header.")
    }

    pub fn invalid_api_key() -> Self {
        Self::new(ApiErrorKind::InvalidApiKey, "The API key is unknown, revoked or expired.")
    }

    pub fn invalid_token() -> Self {
        Self::new(ApiErrorKind::InvalidToken, "The access token is not valid.")
    }

    pub fn token_expired() -> Self {
        Self::new(ApiErrorKind::TokenExpired, "The access token has expired.")
    }

    pub fn insufficient_scope(scope: &str) -> Self {
        Self::new(ApiErrorKind::InsufficientScope(scope.to_owned()), format!("This request needs the `{scope}` scope."))
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ApiErrorKind::NotFound, format!("No such {what}."))
    }

    /// 429 (docs/rate-limits.md): the message says when to come back; `Retry-After` says it too.
    pub fn rate_limited(retry_after_seconds: u64) -> Self {
        Self::new(
            ApiErrorKind::RateLimitExceeded { retry_after_seconds },
            format!("Rate limit exceeded. Try again in {retry_after_seconds} seconds."),
        )
    }

    pub fn validation(field_errors: Vec<FieldError>) -> Self {
        ApiError {
            kind: ApiErrorKind::ValidationFailed,
            message: "The request has invalid fields.".into(),
            field_errors,
        }
    }

    /// The database is away: logged (without the request's words), answered 503.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "database unavailable");
        Self::new(ApiErrorKind::Unavailable, "The service is briefly unavailable; try again in a second.")
    }

    /// An unexpected failure. The cause is logged here, inside the request's span (which
    /// carries the request id); the body says nothing of it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(ApiErrorKind::Internal, "An internal error occurred.")
    }
}

impl From<StorageError> for ApiError {
    fn from(err: StorageError) -> Self {
        match err {
            // What the object would belong to was deleted meanwhile: it is not there now.
            StorageError::NotFound | StorageError::ReferenceGone(_) => ApiError::not_found("object"),
            StorageError::Conflict(_) => ApiError::new(ApiErrorKind::Conflict, "A unique value is already taken."),
            StorageError::Unavailable(cause) => ApiError::unavailable(cause),
            other => ApiError::internal(other),
        }
    }
}

/// Every non-2xx answer of `/api/v1` (docs/api.md).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    #[schema(example = "not_found")]
    error: &'static str,
    #[schema(example = "No such client.")]
    message: &'a str,
    /// Only on 422: every invalid field.
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

const REALM: &str = "Bearer realm=\"tollbooth\"";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self.kind {
            ApiErrorKind::InvalidRequest => StatusCode::BAD_REQUEST,
            ApiErrorKind::MissingApiKey
            | ApiErrorKind::InvalidApiKey
            | ApiErrorKind::InvalidToken
            | ApiErrorKind::TokenExpired => StatusCode::UNAUTHORIZED,
            ApiErrorKind::InsufficientScope(_) => StatusCode::FORBIDDEN,
            ApiErrorKind::NotFound => StatusCode::NOT_FOUND,
            ApiErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiErrorKind::Conflict => StatusCode::CONFLICT,
            ApiErrorKind::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            ApiErrorKind::RateLimitExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = ErrorBody { error: self.kind.code(), message: &self.message, errors: &self.field_errors };
        let mut response = HttpResponse::build(self.status_code()).json(body);
        // RFC 6750 §3: no error code when credentials are missing; invalid_token when they fail.
        let challenge = match &self.kind {
            ApiErrorKind::MissingApiKey => Some(REALM.to_owned()),
            ApiErrorKind::InvalidApiKey | ApiErrorKind::InvalidToken | ApiErrorKind::TokenExpired => {
                Some(format!("{REALM}, error=\"invalid_token\""))
            }
            ApiErrorKind::InsufficientScope(scope) => {
                Some(format!("{REALM}, error=\"insufficient_scope\", scope=\"{scope}\""))
            }
            _ => None,
        };
        let headers = response.headers_mut();
        if let Some(challenge) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        match self.kind {
            ApiErrorKind::RateLimitExceeded { retry_after_seconds } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            }
            ApiErrorKind::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}
