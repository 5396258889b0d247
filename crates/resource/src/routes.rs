//! The routes of `/api/v1`, the OpenAPI document and its explorer.

use actix_web::{HttpResponse, ResponseError, web};
use tollbooth_http::endpoint::Endpoint;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{ApiError, ApiErrorKind};
use crate::{api_keys, audit_logs, clients, openapi, organizations, rate_limits, resources, tenants, users, verify};

/// Registers `/api/v1`, the OpenAPI document and the explorer; the app must provide
/// `web::Data<ManagementApi>` and `web::Data<OAuth>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let endpoints = [
        Endpoint::new("/tenants").post(tenants::create).get(tenants::list),
        Endpoint::new("/tenants/{id}").get(tenants::get).patch(tenants::update).delete(tenants::delete),
        Endpoint::new("/organizations").post(organizations::create).get(organizations::list),
        Endpoint::new("/organizations/{id}")
            .get(organizations::get)
            .patch(organizations::update)
            .delete(organizations::delete),
        Endpoint::new("/users").post(users::create).get(users::list),
        // Before `/users/{id}`, which would otherwise take `me` for an id.
        Endpoint::new("/users/me").get(users::me),
        Endpoint::new("/users/{id}").get(users::get).patch(users::update).delete(users::delete),
        Endpoint::new("/clients").post(clients::create).get(clients::list),
        Endpoint::new("/clients/{id}").get(clients::get).patch(clients::update).delete(clients::delete),
        Endpoint::new("/clients/{id}/secret").post(clients::rotate_secret),
        Endpoint::new("/api_keys").post(api_keys::create).get(api_keys::list),
        Endpoint::new("/api_keys/{id}").get(api_keys::get).delete(api_keys::delete),
        Endpoint::new("/api_keys/{id}/rotate").post(api_keys::rotate),
        Endpoint::new("/resources").post(resources::create).get(resources::list),
        Endpoint::new("/resources/{id}").get(resources::get).patch(resources::update).delete(resources::delete),
        Endpoint::new("/audit_logs").get(audit_logs::list),
        Endpoint::new("/rate_limits").get(rate_limits::usage),
        Endpoint::new("/verify").post(verify::verify_for_code),
    ];
    let mut api = web::scope("/api/v1");
    for endpoint in endpoints {
        api = api.service(endpoint.refusing_others_with(method_not_allowed));
    }
    // Forward authentication: `/verify`, and under it for proxies that ask with the original
    // request's method and path (Envoy's ext_authz).
    cfg.service(Endpoint::new("/verify").get(verify::forward_auth).refusing_others_with(method_not_allowed));
    cfg.service(web::resource("/verify/{original:.*}").to(verify::forward_auth_of_original));
    cfg.service(api.default_service(web::to(unknown_route)))
        .route("/api/docs", web::get().to(docs_redirect))
        .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", openapi::ApiDoc::openapi()));
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/api/docs/")).finish()
}

async fn unknown_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route"))
}

fn method_not_allowed(allow: &str) -> HttpResponse {
    ApiError::new(ApiErrorKind::MethodNotAllowed, format!("This path accepts {allow}.")).error_response()
}
