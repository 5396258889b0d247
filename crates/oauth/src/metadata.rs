//! The RFC 8414 authorization server metadata document, built once from the issuer: what it
//! advertises comes from `grants` (the grant types) and `policy` (the scopes).

use crate::grants;
use crate::policy::MANAGEMENT_SCOPES;

/// The metadata document; it advertises only what works.
pub fn metadata(issuer: &str) -> serde_json::Value {
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "grant_types_supported": grants::supported(),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": MANAGEMENT_SCOPES,
    })
}
