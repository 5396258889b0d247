//! Request bodies read whole up to a limit, for the OAuth endpoints' forms and the management
//! API's JSON alike. A larger or unreadable body is refused in each layer's own format (the
//! layer maps [`BodyRefusal`]), never with actix's plain-text 413.

use std::future::Future;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpRequest, web};

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
