//! Refresh tokens (RFC 6749 §6, RFC 9700 §4.14): opaque, stored as keyed hashes, replaced on
//! every use by a new token of the same family. Presenting a used token is taken as theft:
//! the whole family and the access tokens issued with it are revoked.
//!
//! Written directly rather than through oxide-auth's refresh flow, which fixes the new token's
//! lifetime at one hour and knows nothing of token families.

use actix_web::{HttpRequest, HttpResponse, web};
use oxide_auth::primitives::scope::Scope;
use secrecy::ExposeSecret;
use tollbooth_storage::clients::Client;
use tollbooth_storage::refresh_tokens::{self, RefreshToken};
use tollbooth_storage::{DbConnection, StorageError, in_transaction, secrets};

use crate::OAuth;
use crate::client_auth::authenticate_client;
use crate::error::{OAuthError, OAuthErrorKind, no_store};
use crate::jwt::AccessTokenClaims;
use crate::keys::KeySnapshot;
use crate::token::{TokenParams, TokenResponse, mint_access_token};

/// How long a refresh token can be used (each use starts a new one).
pub const REFRESH_TOKEN_LIFETIME_DAYS: i64 = 30;

/// Stores a new refresh token issued with `access` (in `family`, or a new family) and returns
/// it; it exists only in this answer.
pub fn issue_refresh_token(
    oauth: &OAuth,
    conn: &mut DbConnection,
    family_id: Option<String>,
    scope: &str,
    access: &AccessTokenClaims,
) -> Result<String, StorageError> {
    let (token, row) = new_refresh_token(oauth, family_id, scope, access);
    refresh_tokens::insert(conn, &row)?;
    Ok(token)
}

/// A new refresh token issued with `access`, and the row that stores it.
fn new_refresh_token(
    oauth: &OAuth,
    family_id: Option<String>,
    scope: &str,
    access: &AccessTokenClaims,
) -> (String, RefreshToken) {
    let secret = secrets::generate_client_secret();
    let token = format!("rt_{}", secret.expose_secret().trim_start_matches("cs_"));
    let now = tollbooth_storage::now();
    let row = RefreshToken {
        token_hash: oauth.hasher.hash(&token),
        family_id: family_id.unwrap_or_else(|| ulid::Ulid::new().to_string()),
        tenant_id: access.tid.clone(),
        client_id: access.client_id.clone(),
        user_id: access.sub.clone(),
        scope: scope.to_owned(),
        access_jti: access.jti.clone(),
        access_expires_at: chrono::DateTime::from_timestamp(access.exp, 0).unwrap_or_default().naive_utc(),
        expires_at: now + chrono::Duration::days(REFRESH_TOKEN_LIFETIME_DAYS),
        used_at: None,
        revoked_at: None,
        created_at: now,
    };
    (token, row)
}

/// The live refresh token with this secret, if it belongs to `tenant_id`: for introspection.
pub async fn live_refresh_token(
    oauth: &OAuth,
    token: &str,
    tenant_id: &str,
) -> Result<Option<RefreshToken>, StorageError> {
    let hash = oauth.hasher.hash(token);
    let row = oauth.db.run(move |conn| refresh_tokens::find(conn, &hash)).await?;
    let now = tollbooth_storage::now();
    Ok(row.filter(|r| r.tenant_id == tenant_id && r.is_live(now)))
}

/// Revokes the family of the refresh token `token` if it belongs to `client`: for RFC 7009.
/// Returns whether a token was found.
pub async fn revoke_family_of(oauth: &OAuth, token: &str, client: &Client) -> Result<bool, StorageError> {
    let hash = oauth.hasher.hash(token);
    let client_id = client.id.clone();
    let revoked = oauth
        .db
        .run(move |conn| {
            in_transaction(conn, |conn| match refresh_tokens::find(conn, &hash)? {
                Some(row) if row.client_id == client_id => {
                    refresh_tokens::revoke_family(conn, &row.family_id, tollbooth_storage::now()).map(Some)
                }
                _ => Ok(None),
            })
        })
        .await?;
    let found = revoked.is_some();
    for jti in revoked.unwrap_or_default() {
        oauth.revocations.remember_revoked(&jti);
    }
    Ok(found)
}

enum Outcome {
    Issued(TokenResponse),
    /// Refused; any access tokens a reuse revoked, for this instance's revocation cache.
    Refused(OAuthError, Vec<String>),
}

fn refused(kind: OAuthErrorKind, description: &str) -> Outcome {
    Outcome::Refused(OAuthError::new(kind, description), Vec::new())
}

/// `grant_type=refresh_token`.
pub async fn refresh_grant(
    oauth: web::Data<OAuth>,
    request: &HttpRequest,
    params: TokenParams,
) -> Result<HttpResponse, OAuthError> {
    let client = authenticate_client(&oauth, request, &params, true).await?;
    if !client.allows_grant(crate::token::REFRESH_TOKEN) {
        return Err(OAuthError::new(OAuthErrorKind::UnauthorizedClient, "This client may not use refresh tokens."));
    }
    let token = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("The parameter `refresh_token` is required."))?;
    let requested = match params.get("scope").map(str::parse::<Scope>) {
        Some(Ok(scope)) => Some(scope),
        Some(Err(_)) => return Err(OAuthError::new(OAuthErrorKind::InvalidScope, "The scope is malformed.")),
        None => None,
    };
    let hash = oauth.hasher.hash(token);
    let keys = oauth.keys.snapshot();
    let db = oauth.db.clone();
    let worker = oauth.clone();
    let outcome = db.run(move |conn| rotate(&worker, &keys, conn, &client, &hash, requested)).await?;
    match outcome {
        Outcome::Issued(body) => {
            crate::metrics::token_issued(crate::token::REFRESH_TOKEN);
            let mut response = HttpResponse::Ok().json(body);
            no_store(&mut response);
            Ok(response)
        }
        Outcome::Refused(error, revoked) => {
            for jti in revoked {
                oauth.revocations.remember_revoked(&jti);
            }
            Err(error)
        }
    }
}

/// Checks and replaces the refresh token with hash `hash`, on a blocking thread: two round
/// trips (read, then use up and replace in one atomic statement) when all is well.
fn rotate(
    oauth: &OAuth,
    keys: &KeySnapshot,
    conn: &mut DbConnection,
    client: &Client,
    hash: &str,
    requested: Option<Scope>,
) -> Result<Outcome, OAuthError> {
    let now = tollbooth_storage::now();
    // The user's row goes with their tokens (ON DELETE CASCADE), so a missing holder is a missing token.
    let Some((row, holder_organization)) = refresh_tokens::find_with_holder_organization(conn, hash)? else {
        return Ok(refused(OAuthErrorKind::InvalidGrant, "The refresh token is invalid."));
    };
    if row.client_id != client.id {
        return Ok(refused(OAuthErrorKind::InvalidGrant, "The refresh token was issued to another client."));
    }
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Ok(refused(OAuthErrorKind::InvalidGrant, "The refresh token is revoked or expired."));
    }
    // RFC 6749 §6: a narrower scope is allowed, a wider one is not. Checked before the token is
    // used up, so a refused request does not consume it.
    let original = row.scope.parse::<Scope>().map_err(|_| OAuthError::server_error("stored scope is malformed"))?;
    let scope = match requested {
        Some(requested) if requested.iter().next().is_some() => {
            if !original.priviledged_to(&requested) {
                return Ok(refused(OAuthErrorKind::InvalidScope, "The requested scope exceeds the original grant."));
            }
            requested
        }
        _ => original,
    };
    if row.used_at.is_some() {
        return revoke_reused_family(conn, client, &row.family_id, now);
    }
    let mut scopes: Vec<&str> = scope.iter().collect();
    scopes.sort_unstable();
    let organization = holder_organization.or_else(|| client.organization_id.clone());
    let (claims, mut body) =
        mint_access_token(oauth, keys, client, row.user_id.clone(), &scopes.join(" "), organization)
            .map_err(OAuthError::server_error)?;
    // The new refresh token keeps the original grant's scope (RFC 6749 §6).
    let (token, successor) = new_refresh_token(oauth, Some(row.family_id.clone()), &row.scope, &claims);
    if !refresh_tokens::replace(conn, hash, &successor, now)? {
        // Another request used (or revoked) the token between our read and our write.
        return revoke_reused_family(conn, client, &row.family_id, now);
    }
    body.refresh_token = Some(token);
    Ok(Outcome::Issued(body))
}

/// RFC 9700 §4.14.2: a used token presented again revokes its whole family.
fn revoke_reused_family(
    conn: &mut DbConnection,
    client: &Client,
    family_id: &str,
    now: chrono::NaiveDateTime,
) -> Result<Outcome, OAuthError> {
    let revoked = in_transaction(conn, |conn| refresh_tokens::revoke_family(conn, family_id, now))?;
    tracing::warn!(client_id = %client.id, "refresh token reused: its family is revoked");
    let error =
        OAuthError::new(OAuthErrorKind::InvalidGrant, "The refresh token was already used; its family is revoked.");
    Ok(Outcome::Refused(error, revoked))
}
