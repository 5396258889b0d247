//! The OpenAPI 3.1 document (`GET /api/openapi.json`), generated from the handlers'
//! `#[utoipa::path]` attributes, and the explorer at `/api/docs`, served from the binary.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::{api_keys, audit_logs, clients, organizations, rate_limits, resources, tenants, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tollbooth",
        description = "OAuth 2.0 authorization server and management API. Authenticate `/api/v1` with \
            `Authorization: Bearer <API key or access token>`."
    ),
    paths(
        tenants::create, tenants::list, tenants::get, tenants::update, tenants::delete,
        organizations::create, organizations::list, organizations::get, organizations::update, organizations::delete,
        users::create, users::list, users::me, users::get, users::update, users::delete,
        clients::create, clients::list, clients::get, clients::update, clients::delete, clients::rotate_secret,
        api_keys::create, api_keys::list, api_keys::get, api_keys::delete, api_keys::rotate,
        resources::create, resources::list, resources::get, resources::update, resources::delete,
        audit_logs::list,
        rate_limits::usage,
        crate::verify::verify_for_code, crate::verify::forward_auth,
        tollbooth_oauth::authorize::authorize,
        tollbooth_oauth::authorize::submit_authorization,
        tollbooth_oauth::token::token,
        tollbooth_oauth::introspection::introspect,
        tollbooth_oauth::introspection::revoke,
        tollbooth_oauth::discovery::authorization_server_metadata,
        tollbooth_oauth::discovery::openid_configuration,
        tollbooth_oauth::discovery::jwks,
        tollbooth_oauth::userinfo::userinfo,
        tollbooth_oauth::userinfo::userinfo_form,
        tollbooth_oauth::logout::logout,
        tollbooth_oauth::logout::submit_logout,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::FieldError)),
    modifiers(&SecuritySchemes, &StandardErrors),
    security(("bearer" = [])),
    tags(
        (name = "tenants", description = "Operator keys only"),
        (name = "organizations"), (name = "users"), (name = "clients"), (name = "api_keys"),
        (name = "resources", description = "The tenant's APIs: identifiers and scopes"),
        (name = "audit_logs"), (name = "rate_limits"),
        (name = "verify", description = "Forward authentication for the tenant's own APIs"),
        (name = "oauth", description = "RFC 6749 token endpoint, RFC 8414 metadata, RFC 7517 keys, OpenID Connect"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("An API key (`sk_live_…`) or an access token issued by /oauth/token.".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        let mut basic = Http::new(HttpAuthScheme::Basic);
        basic.description = Some("client_secret_basic: the client id and secret, form-urlencoded.".into());
        components.add_security_scheme("client_secret_basic", SecurityScheme::Http(basic));
    }
}

/// Adds the docs/api.md error answers every `/api/v1` operation can give, from the shape of its
/// route, so each handler lists only its success and the document cannot forget one.
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            let has_id = path.contains('{');
            for (method, operation) in [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ] {
                if let Some(operation) = operation {
                    add_errors(operation, method, has_id);
                }
            }
        }
    }
}

fn add_errors(operation: &mut Operation, method: &str, has_id: bool) {
    let is_list = operation
        .parameters
        .as_ref()
        .is_some_and(|params| params.iter().any(|p| matches!(p, RefOr::T(param) if param.name == "limit")));
    let has_body = operation.request_body.is_some();
    let mut errors = vec![
        ("401", "missing_api_key, invalid_api_key, invalid_token or token_expired"),
        ("403", "insufficient_scope: the message names the missing scope"),
        ("429", "rate_limit_exceeded, with Retry-After"),
        ("500", "internal_error; details only in the server log, under the request id"),
        ("503", "service_unavailable, with Retry-After: the database is briefly away"),
    ];
    if has_body || is_list {
        errors.push(("400", "invalid_request: malformed JSON, wrong content type or unknown query parameter"));
        errors.push(("422", "validation_failed, with every invalid field in `errors`"));
    }
    if has_id {
        errors.push(("404", "not_found: no such object in the caller's tenant or organization"));
    }
    if has_body && method != "delete" {
        errors.push(("409", "conflict: a unique value is taken, or a concurrent change won"));
    }
    for (status, description) in errors {
        let response = ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build();
        operation.responses.responses.entry(status.to_owned()).or_insert(RefOr::T(response));
    }
}
