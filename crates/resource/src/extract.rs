//! Request-body and query extractors that fail in the docs/api.md format: malformed JSON or a
//! wrong content type is 400 `invalid_request`; a well-formed body with a wrong field is 422
//! naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use tollbooth_http::body::read_limited;

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
        let body = read_limited(request, payload, MAX_BODY_BYTES);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::invalid_request("The request body must be application/json."));
            }
            let bytes = body.await.map_err(|refusal| ApiError::invalid_request(refusal.description()))?;
            let value: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|_| ApiError::invalid_request("The request body is not valid JSON."))?;
            if !value.is_object() {
                return Err(ApiError::invalid_request("The request body must be a JSON object."));
            }
            serde_path_to_error::deserialize(value).map(ApiJson).map_err(|err| {
                let field = err.path().to_string();
                let field = if field == "." { String::new() } else { field };
                let message = err.into_inner().to_string();
                if message.starts_with("unknown field") {
                    return ApiError::validation(vec![FieldError::new(field, "unknown", message)]);
                }
                // serde's own words where it says something other than a type mismatch.
                let message = match json_type_expected(&message) {
                    Some(json_type) => format!("{field} must be {json_type}."),
                    None => message,
                };
                ApiError::validation(vec![FieldError::new(field, "invalid", message)])
            })
        })
    }
}

/// What serde's "invalid type: …, expected i64" wanted, in JSON's words rather than Rust's, so
/// no Rust type name reaches a client; `None` for any other message.
fn json_type_expected(serde_message: &str) -> Option<&'static str> {
    let (_, expected) = serde_message.rsplit_once(", expected ")?;
    let is_rust_integer = |prefix: char| {
        expected.strip_prefix(prefix).is_some_and(|bits| !bits.is_empty() && bits.chars().all(|c| c.is_ascii_digit()))
    };
    Some(match expected {
        _ if is_rust_integer('i') => "an integer",
        _ if is_rust_integer('u') => "a non-negative integer",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a string" | "a borrowed string" => "a string",
        "a sequence" => "an array",
        _ if expected.starts_with("struct ") || expected.starts_with("a map") => "an object",
        _ => return None,
    })
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

#[cfg(test)]
mod tests {
    use super::json_type_expected;

    #[test]
    fn type_errors_speak_json() {
        for (serde_message, expected) in [
            ("invalid type: floating point `18653.0`, expected i64", Some("an integer")),
            ("invalid value: integer `-1`, expected u32", Some("a non-negative integer")),
            ("invalid type: string \"yes\", expected a boolean", Some("true or false")),
            ("invalid type: integer `1`, expected a string", Some("a string")),
            ("invalid type: string \"a\", expected a sequence", Some("an array")),
            ("invalid type: integer `2`, expected struct Metadata", Some("an object")),
            ("invalid type: integer `2`, expected a map", Some("an object")),
            ("unknown variant `x`, expected one of `a`, `b`", None),
            ("a message of a custom check", None),
        ] {
            assert_eq!(json_type_expected(serde_message), expected, "{serde_message}");
        }
    }
}
