//! The OAuth endpoints' request body, read whole up to a limit. A larger or unreadable body is
//! refused as RFC 6749's `invalid_request` (or the authorization page's error page), never
//! with actix's plain-text 413.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::OAuthError;

/// OAuth requests are form fields of a few hundred bytes; anything past this is refused.
const MAX_FORM_BYTES: usize = 64 * 1024;

pub struct FormBody(pub web::Bytes);

impl FromRequest for FormBody {
    type Error = OAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, OAuthError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(request, payload);
        Box::pin(async move {
            let too_large = || OAuthError::invalid_request("The request body is too large.");
            // Past actix's own payload limit the body is refused unread, as an overflow.
            let bytes = body.await.map_err(|err| match err.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => too_large(),
                _ => OAuthError::invalid_request("The request body could not be read."),
            })?;
            if bytes.len() > MAX_FORM_BYTES {
                return Err(too_large());
            }
            Ok(FormBody(bytes))
        })
    }
}
