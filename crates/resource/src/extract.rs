//! Request-body and query extractors that fail in the SPEC §4 format: malformed JSON or a
//! wrong content type is 400 `invalid_request`; a well-formed body with a wrong field is 422
//! naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// Request bodies above this size are refused.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body of type `T`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        let body = web::Bytes::from_request(request, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::invalid_request("The request body must be application/json."));
            }
            let bytes = body.await.map_err(|_| ApiError::invalid_request("The request body could not be read."))?;
            if bytes.len() > MAX_BODY_BYTES {
                return Err(ApiError::invalid_request("The request body is too large."));
            }
            let value: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|_| ApiError::invalid_request("The request body is not valid JSON."))?;
            if !value.is_object() {
                return Err(ApiError::invalid_request("The request body must be a JSON object."));
            }
            serde_path_to_error::deserialize(value).map(ApiJson).map_err(|err| {
                let field = err.path().to_string();
                let message = err.into_inner().to_string();
                let code = if message.starts_with("unknown field") { "unknown" } else { "invalid" };
                ApiError::validation(vec![FieldError::new(
                    if field == "." { String::new() } else { field },
                    code,
                    message,
                )])
            })
        })
    }
}

/// An optional JSON body: no body at all gives `T::default()`; a body must be valid like
/// [`ApiJson`]'s.
pub struct ApiJsonOrDefault<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for ApiJsonOrDefault<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let empty = request.headers().get(header::CONTENT_TYPE).is_none()
            && request
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| v.trim() == "0");
        if empty {
            return Box::pin(async { Ok(ApiJsonOrDefault(T::default())) });
        }
        let body = ApiJson::<T>::from_request(request, payload);
        Box::pin(async move { body.await.map(|ApiJson(value)| ApiJsonOrDefault(value)) })
    }
}

/// The query string as name/value pairs, refusing a repeated name.
pub fn query_pairs(request: &HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(request.query_string().as_bytes()) {
        if pairs.iter().any(|(seen, _)| *seen == name) {
            return Err(ApiError::invalid_request(format!("The query parameter `{name}` is repeated.")));
        }
        pairs.push((name.into_owned(), value.into_owned()));
    }
    Ok(pairs)
}
