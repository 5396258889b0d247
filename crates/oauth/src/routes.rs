//! The OAuth and discovery routes.

use actix_web::{HttpResponse, ResponseError, web};
use tollbooth_http::endpoint::Endpoint;

use crate::error::{OAuthError, OAuthErrorKind};
use crate::{authorize, discovery, introspection, logout, pages, token, userinfo};

/// Registers the OAuth and discovery routes; the app must provide `web::Data<OAuth>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let endpoints = [
        Endpoint::new("/.well-known/oauth-authorization-server").get(discovery::authorization_server_metadata),
        Endpoint::new("/.well-known/openid-configuration").get(discovery::openid_configuration),
        Endpoint::new("/.well-known/jwks.json").get(discovery::jwks),
        Endpoint::new("/oauth/authorize").get(authorize::authorize).post(authorize::submit_authorization),
        Endpoint::new("/oauth/style.css").get(pages::stylesheet),
        Endpoint::new("/oauth/token").post(token::token),
        Endpoint::new("/oauth/introspect").post(introspection::introspect),
        Endpoint::new("/oauth/revoke").post(introspection::revoke),
        Endpoint::new("/oauth/userinfo").get(userinfo::userinfo).post(userinfo::userinfo_form),
        Endpoint::new("/oauth/logout").get(logout::logout).post(logout::submit_logout),
    ];
    for endpoint in endpoints {
        cfg.service(endpoint.refusing_others_with(method_not_allowed));
    }
}

/// A 405 in RFC 6749's error format, naming the methods to use.
fn method_not_allowed(allow: &str) -> HttpResponse {
    OAuthError::new(OAuthErrorKind::MethodNotAllowed, format!("This endpoint accepts {allow}.")).error_response()
}
