//! The token endpoint's request (RFC 6749 §3.2, §2.3.1): the body as a form or JSON, and the
//! Basic `Authorization` header. Input: a content-type selector byte, the header's length
//! byte, the header, then the body.
#![no_main]

use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use actix_web::test::TestRequest;
use libfuzzer_sys::fuzz_target;
use tollbooth_oauth::client_auth::BasicCredentials;
use tollbooth_oauth::request::TokenParams;

const CONTENT_TYPES: [&str; 4] =
    ["application/x-www-form-urlencoded", "application/json", "application/JSON; charset=utf-8", "text/plain"];

fuzz_target!(|data: &[u8]| {
    let [selector, header_length, rest @ ..] = data else { return };
    let (header, body) = rest.split_at(usize::from(*header_length).min(rest.len()));
    let mut request = TestRequest::default().insert_header((CONTENT_TYPE, CONTENT_TYPES[usize::from(selector % 4)]));
    // Bytes no HTTP parser lets through never reach the endpoint.
    if let Ok(value) = HeaderValue::from_bytes(header) {
        request = request.insert_header((AUTHORIZATION, value));
    }
    let request = request.to_http_request();
    if let Ok(params) = TokenParams::parse(&request, body) {
        // What the grants read: present values are never empty.
        for name in ["grant_type", "client_id", "client_secret", "scope", "code", "refresh_token", "resource"] {
            assert!(params.get(name).is_none_or(|value| !value.is_empty()));
        }
    }
    // A malformed header is a refusal (invalid_client), never a panic.
    let _ = BasicCredentials::from_request(&request);
});
