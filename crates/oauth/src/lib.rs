//! Tollbooth's authorization server: the token endpoint, JWT issuing and verifying,
//! signing keys, JWKS and discovery.

pub mod authorize;
pub mod body;
pub mod cache_guard;
pub mod client_address;
pub mod client_auth;
pub mod clients;
pub mod code_exchange;
pub mod discovery;
pub mod endpoint;
pub mod error;
pub mod introspection;
pub mod jwt;
pub mod keys;
pub mod metrics;
pub mod pages;
pub mod policy;
pub mod rate_limit_headers;
pub mod refresh;
pub mod revocations;
pub mod session;
pub mod token;

use std::sync::Arc;

use actix_web::{HttpResponse, ResponseError, web};
use tollbooth_storage::rate_limit::RateLimiter;
use tollbooth_storage::secrets::SecretHasher;

use crate::clients::ClientDirectory;
use crate::endpoint::Endpoint;
use crate::error::{OAuthError, OAuthErrorKind};
use crate::jwt::{AccessTokenClaims, TokenExpectations, TokenRejection};
use crate::keys::KeyRing;
use crate::revocations::Revocations;

/// How long a verified token's claims are remembered.
const VERIFIED_TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// What the authorization server needs from configuration.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// The public base URL, without a trailing slash: `iss` of every token.
    pub issuer: String,
    /// `aud` of every access token (SPEC §3: default issuer + `/api`).
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
    pub revocations: Revocations,
    pub hasher: SecretHasher,
    /// Keys of sign-in sessions and CSRF tokens (not the pepper itself).
    pub session_keys: session::SessionKeys,
    /// `None` when rate limiting is switched off.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    issuer_url: url::Url,
    expectations: TokenExpectations,
    /// Tokens whose signature was verified recently, with their claims: an ES256 verification
    /// costs far more than the lookup, and a busy token is presented again and again.
    verified: moka::sync::Cache<String, Arc<AccessTokenClaims>>,
    metadata_json: String,
}

impl OAuth {
    /// `(hasher, session_keys)`: the keyed hash of stored secrets, and the keys of sessions and
    /// CSRF tokens derived apart from it.
    pub fn new(
        settings: OAuthSettings,
        db: tollbooth_storage::Database,
        keys: Arc<KeyRing>,
        clients: ClientDirectory,
        revocations: Revocations,
        (hasher, session_keys): (SecretHasher, session::SessionKeys),
        rate_limiter: Option<Arc<RateLimiter>>,
    ) -> Result<Self, url::ParseError> {
        let issuer_url = url::Url::parse(&settings.issuer)?;
        let expectations = TokenExpectations { issuer: settings.issuer.clone(), audience: settings.audience.clone() };
        let metadata_json = discovery::metadata(&settings.issuer).to_string();
        Ok(OAuth {
            settings,
            db,
            keys,
            clients,
            revocations,
            hasher,
            session_keys,
            rate_limiter,
            issuer_url,
            expectations,
            verified: moka::sync::Cache::builder().max_capacity(100_000).time_to_live(VERIFIED_TOKEN_CACHE_TTL).build(),
            metadata_json,
        })
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

    /// Verifies one of our access tokens, reloading the keys once if it names an unknown one
    /// (another instance or the CLI may have rotated them), and refuses revoked ones.
    pub async fn verify_access_token(&self, token: &str) -> Result<AccessTokenClaims, TokenRejection> {
        let now = chrono::Utc::now().timestamp();
        let claims = match self.verified.get(token) {
            // Verified before: the signature still holds; only expiry and revocation can change.
            Some(claims) if claims.exp > now => (*claims).clone(),
            Some(_) => return Err(TokenRejection::Expired),
            None => {
                let claims = match jwt::verify(&self.keys.snapshot(), &self.expectations, token, now) {
                    Err(TokenRejection::UnknownKey) if self.keys.reload_if_stale().await => {
                        jwt::verify(&self.keys.snapshot(), &self.expectations, token, now)
                            .map_err(|r| if r == TokenRejection::UnknownKey { TokenRejection::Invalid } else { r })
                    }
                    Err(TokenRejection::UnknownKey) => Err(TokenRejection::Invalid),
                    other => other,
                }?;
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

/// Registers the OAuth and discovery routes; the app must provide `web::Data<OAuth>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let endpoints = [
        Endpoint::new("/.well-known/oauth-authorization-server").get(discovery::authorization_server_metadata),
        Endpoint::new("/.well-known/jwks.json").get(discovery::jwks),
        Endpoint::new("/oauth/authorize").get(authorize::authorize).post(authorize::submit_authorization),
        Endpoint::new("/oauth/style.css").get(pages::stylesheet),
        Endpoint::new("/oauth/token").post(token::token),
        Endpoint::new("/oauth/introspect").post(introspection::introspect),
        Endpoint::new("/oauth/revoke").post(introspection::revoke),
    ];
    for endpoint in endpoints {
        cfg.service(endpoint.refusing_others_with(method_not_allowed));
    }
}

/// A 405 in RFC 6749's error format, naming the methods to use.
fn method_not_allowed(allow: &str) -> HttpResponse {
    OAuthError::new(OAuthErrorKind::MethodNotAllowed, format!("This endpoint accepts {allow}.")).error_response()
}
