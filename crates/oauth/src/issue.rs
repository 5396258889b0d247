//! Issuing tokens: RFC 9068 JWT access tokens signed with the current key, OpenID Connect ID
//! tokens, opaque refresh tokens stored as keyed hashes, and the RFC 6749 §5.1 body that
//! carries them. Grants decide what to issue; this module is the only one that makes a token.

use secrecy::ExposeSecret;
use serde::Serialize;
use tollbooth_storage::clients::Client;
use tollbooth_storage::refresh_tokens::{self, RefreshToken, Successor};
use tollbooth_storage::resources::Resource;
use tollbooth_storage::secrets::{self, SecretHasher};
use tollbooth_storage::values::ScopeSet;
use tollbooth_storage::{DbConnection, StorageError, from_unix_seconds};

use crate::audience::Audiences;
use crate::error::OAuthError;
use crate::jwt::{self, AccessTokenClaims};
use crate::keys::KeySnapshot;
use crate::oidc::{self, IdTokenClaims, Profile, SignIn, UserClaims};

/// How long a refresh token can be used (each use starts a new one).
const REFRESH_TOKEN_LIFETIME_DAYS: i64 = 30;

/// What every token of this server is issued with: who issues it, for whom, signed with what.
/// Plain values, so grants can be run (and tested) without a server.
pub struct TokenIssuer<'a> {
    /// `iss`.
    pub issuer: &'a str,
    /// The management API's identifier (`token.audience`): the built-in resource.
    pub audience: &'a str,
    pub keys: &'a KeySnapshot,
    /// The keyed hash refresh tokens are stored as.
    pub hasher: &'a SecretHasher,
    /// The resources of the requesting client's tenant: the APIs its tokens may be for.
    pub resources: &'a [Resource],
}

/// The RFC 6749 §5.1 success body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(value_type = String, example = "Bearer")]
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    /// For the authorization-code and refresh grants (when the client may refresh).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// OpenID Connect: for a user's token with scope `openid` (docs/oidc.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The tokens themselves are left out: they are bearer credentials.
impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The `jti` and times of an access token, chosen before the token itself when they must be
/// stored first (the refresh grant records the `jti` together with the new refresh token).
pub struct AccessTokenIdentity {
    pub jti: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl AccessTokenIdentity {
    /// A new token of `client`, living its `access_token_ttl` from now.
    pub fn new(client: &Client) -> Self {
        let issued_at = chrono::Utc::now().timestamp();
        AccessTokenIdentity {
            jti: ulid::Ulid::new().to_string(),
            issued_at,
            expires_at: issued_at + i64::from(client.access_token_ttl),
        }
    }
}

/// Who an access token is for: a user (authorization code, refresh) or the client itself.
pub struct Holder<'a> {
    pub client: &'a Client,
    /// `sub`: the user id, or the client id for client credentials.
    pub subject: String,
    pub scope: &'a ScopeSet,
    /// `org_id`: see `policy::token_organization`.
    pub organization_id: Option<String>,
    /// `aud`: the identifier of the one API the token is for (`crate::audience`).
    pub audience: String,
}

impl TokenIssuer<'_> {
    /// The APIs a token of this request may be for.
    pub fn audiences(&self) -> Audiences<'_> {
        Audiences { management: self.audience, issuer: self.issuer, resources: self.resources }
    }

    /// The claims of a new access token for `holder`.
    pub fn claims(&self, identity: AccessTokenIdentity, holder: Holder<'_>) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: self.issuer.to_owned(),
            sub: holder.subject,
            aud: holder.audience,
            exp: identity.expires_at,
            iat: identity.issued_at,
            jti: identity.jti,
            client_id: holder.client.id.clone(),
            scope: holder.scope.to_string(),
            tid: holder.client.tenant_id.clone(),
            org_id: holder.organization_id,
        }
    }

    /// The RFC 6749 §5.1 body carrying `claims`, signed.
    pub fn sign(&self, claims: &AccessTokenClaims) -> Result<TokenResponse, OAuthError> {
        let access_token = jwt::sign(self.keys, claims).map_err(OAuthError::server_error)?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: claims.exp - claims.iat,
            scope: claims.scope.clone(),
            refresh_token: None,
            id_token: None,
        })
    }

    /// Adds an ID token to `body` when its access token `access` (a user's) holds `openid`:
    /// signed with the key the client registered for (`oidc::id_token_algorithm`), living as
    /// long as the access token, naming the client as its audience.
    pub fn add_id_token(
        &self,
        body: &mut TokenResponse,
        access: &AccessTokenClaims,
        client: &Client,
        (user, sign_in): (Profile<'_>, &SignIn),
    ) -> Result<(), OAuthError> {
        let scope =
            ScopeSet::parse(&access.scope).map_err(|_| OAuthError::server_error("issued scope is malformed"))?;
        if !scope.contains(oidc::OPENID) {
            return Ok(());
        }
        let claims = IdTokenClaims {
            iss: self.issuer.to_owned(),
            aud: client.id.clone(),
            exp: access.exp,
            iat: access.iat,
            auth_time: sign_in.auth_time,
            nonce: sign_in.nonce.clone(),
            at_hash: oidc::at_hash(&body.access_token),
            sid: sign_in.session_id.clone(),
            user: UserClaims::of(user, &scope),
            tid: access.tid.clone(),
            org_id: access.org_id.clone(),
        };
        let algorithm = oidc::id_token_algorithm(client);
        let (kid, signer) =
            self.keys.signer(algorithm).ok_or_else(|| OAuthError::server_error("no current ID-token key"))?;
        body.id_token = Some(jwt::sign_claims(&claims, None, kid, signer).map_err(OAuthError::server_error)?);
        Ok(())
    }

    /// A new access token for `holder`: its claims and its body.
    pub fn access_token(&self, holder: Holder<'_>) -> Result<(AccessTokenClaims, TokenResponse), OAuthError> {
        let claims = self.claims(AccessTokenIdentity::new(holder.client), holder);
        let body = self.sign(&claims)?;
        Ok((claims, body))
    }

    /// A new refresh-token secret and its keyed hash, which is all that is stored.
    fn refresh_token_secret(&self) -> (String, String) {
        let token = secrets::generate_refresh_token();
        let hash = self.hasher.hash(token.expose_secret());
        (token.expose_secret().to_owned(), hash)
    }

    /// The successor of a refresh token being used, issued with the access token `access`: its
    /// secret (only in the answer) and what is stored of it.
    pub fn refresh_token_successor(&self, access: &AccessTokenIdentity) -> (String, Successor) {
        let (token, token_hash) = self.refresh_token_secret();
        let successor = Successor {
            token_hash,
            access_jti: access.jti.clone(),
            access_expires_at: from_unix_seconds(access.expires_at),
            expires_at: tollbooth_storage::now() + chrono::Duration::days(REFRESH_TOKEN_LIFETIME_DAYS),
        };
        (token, successor)
    }

    /// Stores a new refresh token, starting a new family, issued with `access` after the
    /// sign-in `sign_in`, and returns it; it exists only in this answer.
    pub fn store_refresh_token(
        &self,
        conn: &mut DbConnection,
        access: &AccessTokenClaims,
        sign_in: &SignIn,
    ) -> Result<String, StorageError> {
        let (token, token_hash) = self.refresh_token_secret();
        let now = tollbooth_storage::now();
        let row = RefreshToken {
            token_hash,
            family_id: ulid::Ulid::new().to_string(),
            tenant_id: access.tid.clone(),
            client_id: access.client_id.clone(),
            user_id: access.sub.clone(),
            scope: access.scope.clone(),
            access_jti: access.jti.clone(),
            access_expires_at: from_unix_seconds(access.exp),
            expires_at: now + chrono::Duration::days(REFRESH_TOKEN_LIFETIME_DAYS),
            used_at: None,
            revoked_at: None,
            created_at: now,
            auth_time: sign_in.auth_time.map(from_unix_seconds),
            session_id: sign_in.session_id.clone(),
            audience: Some(access.aud.clone()),
        };
        refresh_tokens::insert(conn, &row)?;
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Secrets never reach a log line through `{:?}`.
    #[test]
    fn debug_output_holds_no_token() {
        let response = TokenResponse {
            access_token: "eyJ.the-token".into(),
            token_type: "Bearer",
            expires_in: 60,
            scope: "profile".into(),
            refresh_token: Some("rt_the-refresh".into()),
            id_token: Some("eyJ.the-id-token".into()),
        };
        let printed = format!("{response:?}");
        assert!(!printed.contains("the-token") && !printed.contains("the-refresh") && printed.contains("profile"));
        assert!(!printed.contains("the-id-token"));
    }
}
