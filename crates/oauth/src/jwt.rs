//! Access tokens: JWTs per RFC 9068, signed with the current key, verified offline.

use serde::{Deserialize, Serialize};

use crate::keys::KeySnapshot;

/// RFC 9068 §2.1: the `typ` header of a JWT access token.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The claims of a Tollbooth access token (docs/oauth.md "Access tokens").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    /// The user id, or the client id for client credentials.
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    /// Space-separated scope tokens.
    pub scope: String,
    /// The tenant id.
    pub tid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

impl AccessTokenClaims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("token signing failed: {0}")]
    Jose(#[from] josekit::JoseError),
    #[error("token claims do not serialize: {0}")]
    Claims(#[from] serde_json::Error),
}

/// Signs `claims` with the snapshot's access-token key.
pub fn sign(keys: &KeySnapshot, claims: &AccessTokenClaims) -> Result<String, SignError> {
    let (kid, signer) = keys.access_token_signer();
    sign_claims(claims, Some(ACCESS_TOKEN_TYPE), kid, signer)
}

/// Signs any claims as a JWS compact JWT with the key `kid`, `typ` set when given.
pub fn sign_claims(
    claims: &impl Serialize,
    token_type: Option<&str>,
    kid: &str,
    signer: &dyn josekit::jws::JwsSigner,
) -> Result<String, SignError> {
    let serde_json::Value::Object(map) = serde_json::to_value(claims)? else {
        unreachable!("a struct serializes to a JSON object")
    };
    let payload = josekit::jwt::JwtPayload::from_map(map)?;
    let mut header = josekit::jws::JwsHeader::new();
    if let Some(token_type) = token_type {
        header.set_token_type(token_type);
    }
    header.set_key_id(kid);
    Ok(josekit::jwt::encode_with_signer(&payload, &header, signer)?)
}

/// Why a presented token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Not a JWT access token of this server (bad signature, wrong issuer or audience, …).
    Invalid,
    /// Signed by a key this instance does not know (yet): reload the keys and try once more.
    UnknownKey,
    /// A valid token past its `exp`.
    Expired,
    /// Whether it was revoked could not be checked (the database did not answer).
    Unavailable,
}

/// What a verifier accepts: tokens of this issuer. Which audience a token must have is the
/// API's to check: `/api/v1` accepts only its own (docs/oauth.md, "Audiences").
#[derive(Debug, Clone)]
pub struct TokenExpectations {
    pub issuer: String,
}

/// The claims of a JWT signed by one of the published keys, and its `typ` header; nothing
/// else is checked.
fn verify_signature<T: serde::de::DeserializeOwned>(
    keys: &KeySnapshot,
    token: &str,
) -> Result<(T, Option<String>), TokenRejection> {
    let header = josekit::jwt::decode_header(token).map_err(|_| TokenRejection::Invalid)?;
    let kid = header.claim("kid").and_then(|v| v.as_str()).ok_or(TokenRejection::Invalid)?;
    let verifier = keys.verifier(kid).ok_or(TokenRejection::UnknownKey)?;
    let (payload, header) = josekit::jwt::decode_with_verifier(token, verifier).map_err(|_| TokenRejection::Invalid)?;
    let claims = serde_json::from_value(serde_json::Value::Object(payload.claims_set().clone()))
        .map_err(|_| TokenRejection::Invalid)?;
    Ok((claims, header.token_type().map(str::to_owned)))
}

/// Verifies signature, `typ`, `iss` and `exp` of an access token at `now` (Unix seconds).
pub fn verify(
    keys: &KeySnapshot,
    expectations: &TokenExpectations,
    token: &str,
    now: i64,
) -> Result<AccessTokenClaims, TokenRejection> {
    let (claims, token_type): (AccessTokenClaims, _) = verify_signature(keys, token)?;
    if token_type.as_deref() != Some(ACCESS_TOKEN_TYPE) {
        return Err(TokenRejection::Invalid);
    }
    if claims.iss != expectations.issuer {
        return Err(TokenRejection::Invalid);
    }
    if claims.exp <= now {
        return Err(TokenRejection::Expired);
    }
    Ok(claims)
}

/// What an `id_token_hint` says: who it was issued to, and about whom.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IdTokenHint {
    pub aud: String,
    pub sub: String,
}

/// Verifies an ID token this server issued, presented as `id_token_hint` (RP-Initiated Logout
/// 1.0 §2): the signature and `iss`, not `exp` (an expired ID token is still a good hint), and
/// never an access token in its place.
pub fn verify_id_token_hint(
    keys: &KeySnapshot,
    expectations: &TokenExpectations,
    token: &str,
) -> Result<IdTokenHint, TokenRejection> {
    #[derive(Deserialize)]
    struct Claims {
        iss: String,
        aud: String,
        sub: String,
    }
    let (claims, token_type): (Claims, _) = verify_signature(keys, token)?;
    if token_type.as_deref() == Some(ACCESS_TOKEN_TYPE) || claims.iss != expectations.issuer {
        return Err(TokenRejection::Invalid);
    }
    Ok(IdTokenHint { aud: claims.aud, sub: claims.sub })
}
