//! OpenID Connect's values (docs/oidc.md): the ID token's claims, the claims about a user that
//! the OpenID scopes release (in the ID token and at userinfo alike), `at_hash`, and which key
//! signs a client's ID tokens. A leaf: plain values in and out.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tollbooth_storage::clients::Client;
use tollbooth_storage::users::User;
use tollbooth_storage::values::ScopeSet;

use crate::keys::SigningAlgorithm;

/// The scope that makes a request an OpenID Connect one (Core §3.1.2.1).
pub const OPENID: &str = "openid";

/// What a client's ID tokens are signed with: RS256 (Core §15.1: every OP supports it) unless
/// the client registered `ES256`.
pub fn id_token_algorithm(client: &Client) -> SigningAlgorithm {
    match client.id_token_signed_response_alg.as_str() {
        "ES256" => SigningAlgorithm::ES256,
        _ => SigningAlgorithm::RS256,
    }
}

/// The algorithms a client may register for its ID tokens.
pub const ID_TOKEN_ALGORITHMS: &[&str] = &["RS256", "ES256"];

/// What a client's ID tokens are signed with unless it registers otherwise.
pub const DEFAULT_ID_TOKEN_ALGORITHM: &str = "RS256";

/// The claims about a user that `scope` releases (Core §5.4): `email` and `email_verified`
/// with `email`, `name` with `profile`. Always `sub`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserClaims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What is known of a user that the OpenID scopes may release.
pub struct Profile<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub email_verified: bool,
    pub name: &'a str,
}

impl<'a> From<&'a User> for Profile<'a> {
    fn from(user: &'a User) -> Self {
        Profile { id: &user.id, email: &user.email, email_verified: user.email_verified, name: &user.name }
    }
}

impl UserClaims {
    pub fn of(user: Profile<'_>, scope: &ScopeSet) -> Self {
        let email = scope.contains("email");
        UserClaims {
            sub: user.id.to_owned(),
            email: email.then(|| user.email.to_owned()),
            email_verified: email.then_some(user.email_verified),
            name: scope.contains("profile").then(|| user.name.to_owned()),
        }
    }
}

/// When and in which session the user signed in, and the request's `nonce`: what an ID token
/// says of the authentication. A refresh keeps the first two and has no `nonce`. (Neither
/// `sid` nor `nonce` is a credential: both are in the ID token.)
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignIn {
    /// Unix seconds.
    pub auth_time: Option<i64>,
    pub session_id: Option<String>,
    pub nonce: Option<String>,
}

impl SignIn {
    /// The sign-in as a code or refresh token stored it.
    pub fn stored(auth_time: Option<chrono::NaiveDateTime>, session_id: Option<&str>, nonce: Option<&str>) -> Self {
        SignIn {
            auth_time: auth_time.map(|at| at.and_utc().timestamp()),
            session_id: session_id.map(str::to_owned),
            nonce: nonce.map(str::to_owned),
        }
    }
}

/// An ID token's claims (Core §2), with the tenant and organization as in access tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    /// The client id.
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Core §3.1.3.6: the left half of the SHA-256 of the access token, base64url.
    pub at_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(flatten)]
    pub user: UserClaims,
    pub tid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

/// Core §3.1.3.6 `at_hash`, for the SHA-256 algorithms (RS256 and ES256).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Core §3.1.3.6's own example: the access token `jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y`
    /// hashes to `77QmUPtjPfzWtF2AnpK9RQ`.
    #[test]
    fn at_hash_is_the_left_half_of_the_sha256() {
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
