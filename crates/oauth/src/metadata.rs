//! The RFC 8414 authorization server metadata document and the OpenID Connect Discovery 1.0
//! one, built once from the issuer: what they advertise comes from `grants` (the grant types),
//! `policy` (the scopes) and `oidc` (the ID-token algorithms).

use crate::grants;
use crate::oidc::ID_TOKEN_ALGORITHMS;
use crate::policy::{MANAGEMENT_SCOPES, OPENID_SCOPES};

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

/// The OpenID Connect Discovery 1.0 document: the RFC 8414 metadata (one source for both, so
/// they cannot disagree) and what an OpenID provider adds.
pub fn openid_configuration(issuer: &str) -> serde_json::Value {
    let mut document = metadata(issuer);
    let openid = serde_json::json!({
        "scopes_supported": MANAGEMENT_SCOPES.iter().chain(OPENID_SCOPES).collect::<Vec<_>>(),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        "end_session_endpoint": format!("{issuer}/oauth/logout"),
        "id_token_signing_alg_values_supported": ID_TOKEN_ALGORITHMS,
        "subject_types_supported": ["public"],
        "response_modes_supported": ["query"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid",
            "email", "email_verified", "name", "tid", "org_id",
        ],
        "prompt_values_supported": ["none", "login", "consent"],
    });
    if let (Some(document), serde_json::Value::Object(openid)) = (document.as_object_mut(), openid) {
        document.extend(openid);
    }
    document
}
