//! Tollbooth's console (docs/console.md): server-rendered pages under `/console` for the admins
//! of a tenant or of one of its organizations. It signs people in with the authorization
//! endpoint's own code (`tollbooth_oauth::password_sign_in`), and every page reads and writes
//! through the management API's operations as [`Principal::console_user`], so one rule and one
//! validation serve both.
//!
//! [`Principal::console_user`]: tollbooth_resource::auth::Principal::console_user

mod api_keys;
mod audit_log;
mod clients;
mod error;
mod form;
mod objects;
mod organizations;
mod overview;
mod pages;
mod resources;
pub mod session;
mod sign_in;
mod signed_in;
mod users;

use actix_web::{HttpResponse, http::header, web};
use tollbooth_http::endpoint::Endpoint;
use tollbooth_storage::api_keys::ApiKey;
use tollbooth_storage::clients::Client;
use tollbooth_storage::organizations::Organization;
use tollbooth_storage::resources::Resource;
use tollbooth_storage::users::User;

pub use error::ConsoleError;

/// Registers the console's routes; the app must provide `web::Data<ManagementApi>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let endpoints = [
        Endpoint::new("/console/style.css").get(stylesheet),
        Endpoint::new("/console/console.js").get(script),
        Endpoint::new("/console/{tenant_id}").get(with_slash),
        Endpoint::new("/console/{tenant_id}/").get(sign_in::start),
        Endpoint::new("/console/{tenant_id}/sign_in").post(sign_in::sign_in),
        Endpoint::new("/console/{tenant_id}/sign_out").post(sign_in::sign_out),
        Endpoint::new("/console/{tenant_id}/overview").get(overview::show),
        Endpoint::new("/console/{tenant_id}/api_keys").get(objects::list::<ApiKey>).post(objects::create::<ApiKey>),
        Endpoint::new("/console/{tenant_id}/api_keys/new").get(objects::new::<ApiKey>),
        Endpoint::new("/console/{tenant_id}/api_keys/{id}").get(objects::show::<ApiKey>),
        Endpoint::new("/console/{tenant_id}/api_keys/{id}/rotate").post(objects::rotate::<ApiKey>),
        Endpoint::new("/console/{tenant_id}/api_keys/{id}/delete").post(objects::delete::<ApiKey>),
        Endpoint::new("/console/{tenant_id}/clients").get(objects::list::<Client>).post(objects::create::<Client>),
        Endpoint::new("/console/{tenant_id}/clients/new").get(objects::new::<Client>),
        Endpoint::new("/console/{tenant_id}/clients/{id}").get(objects::show::<Client>).post(objects::update::<Client>),
        Endpoint::new("/console/{tenant_id}/clients/{id}/rotate").post(objects::rotate::<Client>),
        Endpoint::new("/console/{tenant_id}/clients/{id}/delete").post(objects::delete::<Client>),
        Endpoint::new("/console/{tenant_id}/users").get(objects::list::<User>).post(objects::create::<User>),
        Endpoint::new("/console/{tenant_id}/users/new").get(objects::new::<User>),
        Endpoint::new("/console/{tenant_id}/users/{id}").get(objects::show::<User>).post(objects::update::<User>),
        Endpoint::new("/console/{tenant_id}/users/{id}/delete").post(objects::delete::<User>),
        Endpoint::new("/console/{tenant_id}/organizations")
            .get(objects::list::<Organization>)
            .post(objects::create::<Organization>),
        Endpoint::new("/console/{tenant_id}/organizations/new").get(objects::new::<Organization>),
        Endpoint::new("/console/{tenant_id}/organizations/{id}")
            .get(objects::show::<Organization>)
            .post(objects::update::<Organization>),
        Endpoint::new("/console/{tenant_id}/organizations/{id}/delete").post(objects::delete::<Organization>),
        Endpoint::new("/console/{tenant_id}/resources")
            .get(objects::list::<Resource>)
            .post(objects::create::<Resource>),
        Endpoint::new("/console/{tenant_id}/resources/new").get(objects::new::<Resource>),
        Endpoint::new("/console/{tenant_id}/resources/{id}")
            .get(objects::show::<Resource>)
            .post(objects::update::<Resource>),
        Endpoint::new("/console/{tenant_id}/resources/{id}/delete").post(objects::delete::<Resource>),
        Endpoint::new("/console/{tenant_id}/audit_log").get(audit_log::list),
    ];
    for endpoint in endpoints {
        cfg.service(endpoint.refusing_others_with(method_not_allowed));
    }
    // Any other path under `/console` is a console page that does not exist.
    cfg.route("/console", web::route().to(no_such_page));
    cfg.route("/console/{rest:.*}", web::route().to(no_such_page));
}

fn method_not_allowed(allow: &str) -> HttpResponse {
    let text = format!("This page accepts {allow}.");
    pages::message(actix_web::http::StatusCode::METHOD_NOT_ALLOWED, "Cannot continue", &text)
}

async fn no_such_page() -> Result<HttpResponse, ConsoleError> {
    Err(ConsoleError::NoSuchPage)
}

/// `/console/{tenant_id}` is the console's address without its slash.
async fn with_slash(tenant_id: web::Path<String>) -> Result<HttpResponse, ConsoleError> {
    let tenant_id = session::tenant_of(&tenant_id).ok_or(ConsoleError::NoSuchPage)?;
    Ok(error::see_other(&format!("/console/{}/", tenant_id.as_str())))
}

async fn stylesheet() -> HttpResponse {
    static_asset("text/css; charset=utf-8", pages::STYLESHEET)
}

async fn script() -> HttpResponse {
    static_asset("text/javascript; charset=utf-8", pages::SCRIPT)
}

fn static_asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}
