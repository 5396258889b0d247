//! The OAuth endpoints' error type: RFC 6749 §5.2 bodies, statuses and challenges, decided here
//! and nowhere else.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorKind {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 8707 §2: the `resource` names no API the client may ask tokens for.
    InvalidTarget,
    ServerError,
    /// RFC 6749 §4.1.2.1's code, used at every endpoint: the database is away (503, with
    /// `Retry-After`).
    TemporarilyUnavailable,
    /// RFC 6750 §3.1: a bearer token that is missing, expired, revoked or not ours (401).
    InvalidToken,
    /// RFC 6750 §3.1: the token lacks a scope the request needs (403).
    InsufficientScope,
    /// docs/rate-limits.md: answered with the management API's 429 body, not an RFC 6749 one (RFC 6749 has none).
    RateLimitExceeded,
    /// A method the endpoint does not serve: 405, named `invalid_request` (RFC 6749 has no
    /// code of its own for it).
    #[serde(rename = "invalid_request")]
    MethodNotAllowed,
}

impl OAuthErrorKind {
    /// The `error` value, for answers that are not JSON (an authorization redirect).
    pub fn code(self) -> &'static str {
        match self {
            OAuthErrorKind::InvalidRequest | OAuthErrorKind::MethodNotAllowed => "invalid_request",
            OAuthErrorKind::InvalidClient => "invalid_client",
            OAuthErrorKind::InvalidGrant => "invalid_grant",
            OAuthErrorKind::UnauthorizedClient => "unauthorized_client",
            OAuthErrorKind::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorKind::InvalidScope => "invalid_scope",
            OAuthErrorKind::InvalidTarget => "invalid_target",
            OAuthErrorKind::ServerError => "server_error",
            OAuthErrorKind::TemporarilyUnavailable => "temporarily_unavailable",
            OAuthErrorKind::InvalidToken => "invalid_token",
            OAuthErrorKind::InsufficientScope => "insufficient_scope",
            OAuthErrorKind::RateLimitExceeded => "rate_limit_exceeded",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{kind:?}: {description}")]
pub struct OAuthError {
    pub kind: OAuthErrorKind,
    pub description: String,
    /// RFC 6749 §5.2: when the client tried HTTP Basic, a 401 carries a Basic challenge.
    pub basic_challenge: bool,
    /// Seconds for `Retry-After`, on 429.
    pub retry_after: Option<u64>,
    /// RFC 6750 §3: a protected resource's refusal carries a Bearer challenge (always for
    /// `invalid_token` and `insufficient_scope`).
    pub bearer_challenge: Option<BearerChallenge>,
}

/// What a Bearer challenge says (RFC 6750 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerChallenge {
    /// The request carried no token: the challenge names no error (§3.1).
    NoToken,
    /// The challenge names the error and its description.
    WithError,
}

impl OAuthError {
    pub fn new(kind: OAuthErrorKind, description: impl Into<String>) -> Self {
        OAuthError {
            kind,
            description: description.into(),
            basic_challenge: false,
            retry_after: None,
            bearer_challenge: None,
        }
    }

    /// A protected resource's refusal (RFC 6750 §3.1), with its Bearer challenge.
    pub fn bearer(kind: OAuthErrorKind, description: impl Into<String>) -> Self {
        OAuthError { bearer_challenge: Some(BearerChallenge::WithError), ..Self::new(kind, description) }
    }

    /// A protected resource's answer to a request without a token (RFC 6750 §3.1).
    pub fn no_bearer_token() -> Self {
        OAuthError {
            bearer_challenge: Some(BearerChallenge::NoToken),
            ..Self::new(OAuthErrorKind::InvalidToken, "The request needs a bearer access token.")
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorKind::InvalidRequest, description)
    }

    pub fn invalid_client(basic_challenge: bool) -> Self {
        OAuthError { basic_challenge, ..Self::new(OAuthErrorKind::InvalidClient, "Client authentication failed.") }
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        OAuthError {
            retry_after: Some(retry_after),
            ..Self::new(
                OAuthErrorKind::RateLimitExceeded,
                format!("Rate limit exceeded. Try again in {retry_after} seconds."),
            )
        }
    }

    /// The database is away: logged, answered 503 with `Retry-After`.
    pub fn temporarily_unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "database unavailable");
        Self::new(OAuthErrorKind::TemporarilyUnavailable, "The server is briefly unavailable; try again in a second.")
    }

    /// An internal failure: the cause goes to the log, the client learns nothing of it.
    pub fn server_error(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "token endpoint failed");
        Self::new(OAuthErrorKind::ServerError, "The authorization server encountered an unexpected error.")
    }
}

/// The RFC 6749 §5.2 error body, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct OAuthErrorBody {
    #[schema(example = "invalid_client")]
    error: String,
    error_description: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: OAuthErrorKind,
    error_description: &'a str,
}

/// RFC 6749 §5.1/§5.2: token responses, good or bad, must not be cached.
pub fn no_store(response: &mut HttpResponse) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self.kind {
            OAuthErrorKind::InvalidClient | OAuthErrorKind::InvalidToken => StatusCode::UNAUTHORIZED,
            OAuthErrorKind::InsufficientScope => StatusCode::FORBIDDEN,
            OAuthErrorKind::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthErrorKind::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            OAuthErrorKind::RateLimitExceeded => StatusCode::TOO_MANY_REQUESTS,
            OAuthErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = match self.retry_after {
            Some(seconds) => HttpResponse::build(self.status_code())
                .insert_header((header::RETRY_AFTER, seconds))
                .json(serde_json::json!({ "error": self.kind, "message": self.description })),
            None => HttpResponse::build(self.status_code())
                .json(ErrorBody { error: self.kind, error_description: &self.description }),
        };
        no_store(&mut response);
        if self.kind == OAuthErrorKind::TemporarilyUnavailable {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.basic_challenge && self.kind == OAuthErrorKind::InvalidClient {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"tollbooth\""));
        }
        let bearer_kind = matches!(self.kind, OAuthErrorKind::InvalidToken | OAuthErrorKind::InsufficientScope);
        let challenge = match self.bearer_challenge {
            None if !bearer_kind => None,
            Some(BearerChallenge::NoToken) => Some("Bearer realm=\"tollbooth\"".to_owned()),
            // RFC 6750 §3: a quoted-string; a quote or backslash in a description becomes `'`.
            None | Some(BearerChallenge::WithError) => Some(format!(
                "Bearer realm=\"tollbooth\", error=\"{}\", error_description=\"{}\"",
                self.kind.code(),
                self.description.replace(['"', '\\'], "'")
            )),
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl From<tollbooth_storage::StorageError> for OAuthError {
    fn from(err: tollbooth_storage::StorageError) -> Self {
        match err {
            tollbooth_storage::StorageError::Unavailable(cause) => OAuthError::temporarily_unavailable(cause),
            other => OAuthError::server_error(other),
        }
    }
}
