//! The authorization server's shared state, handed to handlers as `web::Data<OAuth>`.

use std::sync::Arc;

use tollbooth_storage::rate_limit::RateLimiter;
use tollbooth_storage::secrets::SecretHasher;
use tollbooth_storage::values::Issuer;

use crate::audience::Audiences;
use crate::clients::ClientDirectory;
use crate::issue::TokenIssuer;
use crate::jwt::{self, AccessTokenClaims, TokenExpectations, TokenRejection};
use crate::keys::{KeyRing, KeySnapshot};
use crate::resources::ResourceDirectory;
use crate::revocations::Revocations;
use crate::session;
use tollbooth_storage::resources::Resource;

/// How long a verified token's claims are remembered.
const VERIFIED_TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// What the authorization server needs from configuration.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// The public base URL: `iss` of every token.
    pub issuer: Issuer,
    /// `aud` of every access token (docs/oauth.md: by default the issuer + `/api`).
    pub audience: String,
    /// Whether confidential clients must use PKCE too (RFC 9700 §2.1.1).
    pub pkce_required: bool,
}

/// The authorization server's shared state, handed to handlers as `web::Data<OAuth>`.
pub struct OAuth {
    pub settings: OAuthSettings,
    pub db: tollbooth_storage::Database,
    pub keys: Arc<KeyRing>,
    pub clients: ClientDirectory,
    pub resources: ResourceDirectory,
    pub revocations: Revocations,
    pub hasher: SecretHasher,
    /// Keys of sign-in sessions and CSRF tokens (not the pepper itself).
    pub session_keys: session::SessionKeys,
    /// `None` when rate limiting is switched off.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    expectations: TokenExpectations,
    /// Tokens whose signature was verified recently, with their claims: an ES256 verification
    /// costs far more than the lookup, and a busy token is presented again and again.
    verified: moka::sync::Cache<String, Arc<AccessTokenClaims>>,
    pub(crate) metadata_json: String,
    /// The OpenID Connect Discovery document, serialized once.
    pub(crate) openid_configuration_json: String,
}

/// What the authorization server shares with the rest of the server, built before it.
pub struct OAuthParts {
    pub db: tollbooth_storage::Database,
    pub keys: Arc<KeyRing>,
    /// The keyed hash of stored secrets.
    pub hasher: SecretHasher,
    /// The keys of sessions and CSRF tokens, derived apart from the hasher's.
    pub session_keys: session::SessionKeys,
    /// `None` when rate limiting is switched off.
    pub rate_limiter: Option<Arc<RateLimiter>>,
}

impl OAuth {
    pub fn new(settings: OAuthSettings, parts: OAuthParts) -> Self {
        let OAuthParts { db, keys, hasher, session_keys, rate_limiter } = parts;
        let expectations = TokenExpectations { issuer: settings.issuer.to_string() };
        let metadata_json = crate::metadata::metadata(settings.issuer.as_str()).to_string();
        let openid_configuration_json = crate::metadata::openid_configuration(settings.issuer.as_str()).to_string();
        OAuth {
            settings,
            clients: ClientDirectory::new(db.clone()),
            resources: ResourceDirectory::new(db.clone()),
            revocations: Revocations::new(db.clone()),
            db,
            keys,
            hasher,
            session_keys,
            rate_limiter,
            expectations,
            verified: moka::sync::Cache::builder().max_capacity(100_000).time_to_live(VERIFIED_TOKEN_CACHE_TTL).build(),
            metadata_json,
            openid_configuration_json,
        }
    }

    /// Deletes what can no longer matter: revocations of expired tokens, expired refresh
    /// tokens, and codes whose tokens (up to `longest_token_lifetime`) have expired too, so a
    /// late reuse of a code can still revoke them. Returns how many rows went.
    pub async fn delete_expired_state(
        &self,
        longest_token_lifetime: chrono::Duration,
    ) -> Result<usize, tollbooth_storage::StorageError> {
        let revocations = self.revocations.delete_expired().await?;
        let now = tollbooth_storage::now();
        let state = self
            .db
            .run(move |conn| {
                let codes = tollbooth_storage::authorization_codes::delete_expired(conn, now - longest_token_lifetime)?;
                let refresh = tollbooth_storage::refresh_tokens::delete_expired(conn, now)?;
                Ok::<_, tollbooth_storage::StorageError>(codes + refresh)
            })
            .await?;
        Ok(revocations + state)
    }

    /// What tokens are issued with, signing with `keys` (one snapshot per request), for a
    /// client of the tenant whose `resources` these are.
    pub fn token_issuer<'a>(&'a self, keys: &'a KeySnapshot, resources: &'a [Resource]) -> TokenIssuer<'a> {
        TokenIssuer {
            issuer: self.settings.issuer.as_str(),
            audience: &self.settings.audience,
            keys,
            hasher: &self.hasher,
            resources,
        }
    }

    /// The APIs a token for a client of the tenant whose `resources` these are may be for.
    pub fn audiences<'a>(&'a self, resources: &'a [Resource]) -> Audiences<'a> {
        Audiences { management: &self.settings.audience, issuer: self.settings.issuer.as_str(), resources }
    }

    /// Verifies an ID token of this server given as a logout hint, reloading the keys once if it
    /// names an unknown one.
    pub async fn verify_id_token_hint(&self, token: &str) -> Result<jwt::IdTokenHint, TokenRejection> {
        self.with_current_keys(|keys| jwt::verify_id_token_hint(keys, &self.expectations, token)).await
    }

    /// `verify` with the keys of this instance, and once more after reloading them if the token
    /// names a key it does not know (another instance or the CLI may have rotated them); a key
    /// still unknown then makes the token invalid.
    async fn with_current_keys<T>(
        &self,
        verify: impl Fn(&KeySnapshot) -> Result<T, TokenRejection>,
    ) -> Result<T, TokenRejection> {
        let verified = match verify(&self.keys.snapshot()) {
            Err(TokenRejection::UnknownKey) if self.keys.reload_if_stale().await => verify(&self.keys.snapshot()),
            other => other,
        };
        verified.map_err(|r| if r == TokenRejection::UnknownKey { TokenRejection::Invalid } else { r })
    }

    /// Verifies one of our access tokens, reloading the keys once if it names an unknown one
    /// (another instance or the CLI may have rotated them), and refuses revoked ones.
    pub async fn verify_access_token(&self, token: &str) -> Result<AccessTokenClaims, TokenRejection> {
        let now = chrono::Utc::now().timestamp();
        let claims = match self.verified.get(token) {
            // Verified before: the signature still holds; only expiry and revocation can change.
            Some(claims) if claims.exp > now => (*claims).clone(),
            Some(_) => return Err(TokenRejection::Expired),
            None => {
                let claims = self.with_current_keys(|keys| jwt::verify(keys, &self.expectations, token, now)).await?;
                self.verified.insert(token.to_owned(), Arc::new(claims.clone()));
                claims
            }
        };
        match self.revocations.is_revoked(&claims).await {
            Ok(false) => Ok(claims),
            Ok(true) => Err(TokenRejection::Invalid),
            Err(err) => {
                tracing::error!(error = %err, "checking revoked tokens failed");
                Err(TokenRejection::Unavailable)
            }
        }
    }
}
