//! Request bodies read whole up to a limit, for the OAuth endpoints (`FormBody`) and the
//! management API's JSON extractor alike. A larger or unreadable body is refused in each
//! layer's own format, never with actix's plain-text 413.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::OAuthError;

/// OAuth requests are form fields of a few hundred bytes; anything past this is refused.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRefusal {
    TooLarge,
    Unreadable,
}

impl BodyRefusal {
    pub fn description(self) -> &'static str {
        match self {
            BodyRefusal::TooLarge => "The request body is too large.",
            BodyRefusal::Unreadable => "The request body could not be read.",
        }
    }
}

/// Reads the whole body, refusing one of more than `limit` bytes.
pub fn read_limited(
    request: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> impl Future<Output = Result<web::Bytes, BodyRefusal>> + 'static {
    let body = web::Bytes::from_request(request, payload);
    async move {
        // Past actix's own payload limit the body is refused unread, as an overflow.
        let bytes = body.await.map_err(|err| match err.as_error::<PayloadError>() {
            Some(PayloadError::Overflow) => BodyRefusal::TooLarge,
            _ => BodyRefusal::Unreadable,
        })?;
        if bytes.len() > limit {
            return Err(BodyRefusal::TooLarge);
        }
        Ok(bytes)
    }
}

/// An OAuth endpoint's form (or JSON) body.
pub struct FormBody(pub web::Bytes);

impl FromRequest for FormBody {
    type Error = OAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, OAuthError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_limited(request, payload, MAX_FORM_BYTES);
        Box::pin(async move {
            body.await.map(FormBody).map_err(|refusal| OAuthError::invalid_request(refusal.description()))
        })
    }
}
