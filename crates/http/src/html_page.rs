//! The answer every server-rendered page gives (the authorization pages, the console): HTML
//! never cached, framed, sniffed or sent with a referrer, under the page's own
//! Content-Security-Policy.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};

/// `html` with `status`, the security headers, and `content_security_policy`.
pub fn answer(status: StatusCode, content_security_policy: &'static str, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(content_security_policy)))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .body(html)
}
