//! `GET /.well-known/oauth-authorization-server` (RFC 8414), `GET
//! /.well-known/openid-configuration` (OpenID Connect Discovery 1.0) and `GET
//! /.well-known/jwks.json` (RFC 7517).

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::state::OAuth;

#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", operation_id = "getAuthorizationServerMetadata", tag = "oauth", security(()),
    responses((status = 200, description = "RFC 8414 authorization server metadata", content_type = "application/json", body = Object)))]
pub async fn authorization_server_metadata(oauth: web::Data<OAuth>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/json")
        .body(oauth.metadata_json.clone())
}

#[utoipa::path(get, path = "/.well-known/openid-configuration", operation_id = "getOpenIdConfiguration", tag = "oauth", security(()),
    responses((status = 200, description = "OpenID Connect Discovery 1.0 provider metadata", content_type = "application/json", body = Object)))]
pub async fn openid_configuration(oauth: web::Data<OAuth>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/json")
        .body(oauth.openid_configuration_json.clone())
}

#[utoipa::path(get, path = "/.well-known/jwks.json", operation_id = "getJsonWebKeySet", tag = "oauth", security(()),
    responses((status = 200, description = "RFC 7517 JWK Set: every published signing key", content_type = "application/jwk-set+json", body = Object)))]
pub async fn jwks(oauth: web::Data<OAuth>) -> HttpResponse {
    // Short cache: after a rotation, verifiers must see the new key soon.
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .content_type("application/jwk-set+json")
        .body(oauth.keys.snapshot().jwks_json.to_string())
}
