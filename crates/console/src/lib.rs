//! Tollbooth's console (docs/console.md): server-rendered pages under `/console` for the admins
//! of a tenant or of one of its organizations. It signs people in with the authorization
//! endpoint's own code (`tollbooth_oauth::password_sign_in`) and reads and writes through the
//! same repositories and rule as `/api/v1`.
//!
//! This is the first part of the console: sign-in, sign-out and the API keys page.

mod api_keys;
mod pages;
pub mod session;
mod sign_in;
mod signed_in;

use actix_web::{HttpResponse, http::header, web};
use tollbooth_http::endpoint::Endpoint;

/// Registers the console's routes; the app must provide `web::Data<OAuth>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let endpoints = [
        Endpoint::new("/console/style.css").get(stylesheet),
        Endpoint::new("/console/{tenant_id}").get(with_slash),
        Endpoint::new("/console/{tenant_id}/").get(sign_in::start),
        Endpoint::new("/console/{tenant_id}/sign_in").post(sign_in::sign_in),
        Endpoint::new("/console/{tenant_id}/sign_out").post(sign_in::sign_out),
        Endpoint::new("/console/{tenant_id}/api_keys").get(api_keys::list),
    ];
    for endpoint in endpoints {
        cfg.service(endpoint.refusing_others_with(method_not_allowed));
    }
}

fn method_not_allowed(allow: &str) -> HttpResponse {
    let text = format!("This page accepts {allow}.");
    pages::message(actix_web::http::StatusCode::METHOD_NOT_ALLOWED, "Cannot continue", &text)
}

/// `/console/{tenant_id}` is the console's address without its slash.
async fn with_slash(tenant_id: web::Path<String>) -> HttpResponse {
    match sign_in::tenant_of(&tenant_id) {
        Some(tenant_id) => sign_in::see_other(&format!("/console/{}/", tenant_id.as_str())),
        None => sign_in::no_such_console(),
    }
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(pages::STYLESHEET)
}
