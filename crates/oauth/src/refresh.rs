//! Refresh tokens (RFC 6749 §6, RFC 9700 §4.14): opaque, stored as keyed hashes, replaced on
//! every use by a new token of the same family. Presenting a used token is taken as theft:
//! the whole family and the access tokens issued with it are revoked.
//!
//! Written directly rather than through oxide-auth's refresh flow, which fixes the new token's
//! lifetime at one hour and knows nothing of token families.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use oxide_auth::primitives::scope::Scope;
use secrecy::ExposeSecret;
use tollbooth_storage::clients::Client;
use tollbooth_storage::refresh_tokens::{self, RefreshToken, Successor};
use tollbooth_storage::{DbConnection, StorageError, from_unix_seconds, in_transaction, secrets};

use crate::OAuth;
use crate::client_auth::authenticate_client;
use crate::error::{OAuthError, OAuthErrorKind, no_store};
use crate::jwt::AccessTokenClaims;
use crate::keys::KeySnapshot;
use crate::policy;
use crate::token::{AccessTokenIdentity, TokenParams, TokenResponse, sign_access_token};

/// How long a refresh token can be used (each use starts a new one).
pub const REFRESH_TOKEN_LIFETIME_DAYS: i64 = 30;

/// Stores a new refresh token, starting a new family, issued with `access`, and returns it;
/// it exists only in this answer.
pub fn issue_refresh_token(
    oauth: &OAuth,
    conn: &mut DbConnection,
    scope: &str,
    access: &AccessTokenClaims,
) -> Result<String, StorageError> {
    let (token, token_hash) = new_refresh_token_secret(oauth);
    let now = tollbooth_storage::now();
    let row = RefreshToken {
        token_hash,
        family_id: ulid::Ulid::new().to_string(),
        tenant_id: access.tid.clone(),
        client_id: access.client_id.clone(),
        user_id: access.sub.clone(),
        scope: scope.to_owned(),
        access_jti: access.jti.clone(),
        access_expires_at: from_unix_seconds(access.exp),
        expires_at: now + chrono::Duration::days(REFRESH_TOKEN_LIFETIME_DAYS),
        used_at: None,
        revoked_at: None,
        created_at: now,
    };
    refresh_tokens::insert(conn, &row)?;
    Ok(token)
}

/// A new refresh token and its keyed hash, which is all that is stored.
fn new_refresh_token_secret(oauth: &OAuth) -> (String, String) {
    let token = secrets::generate_refresh_token();
    let hash = oauth.hasher.hash(token.expose_secret());
    (token.expose_secret().to_owned(), hash)
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

/// `grant_type=refresh_token`; `authenticated` is the client this very request already
/// authenticated as (when rate limiting checked it first, by the same rule), else it is done here.
pub async fn refresh_grant(
    oauth: web::Data<OAuth>,
    request: &HttpRequest,
    params: TokenParams,
    authenticated: Option<Arc<Client>>,
) -> Result<HttpResponse, OAuthError> {
    let client = match authenticated {
        Some(client) => client,
        None => authenticate_client(&oauth, request, &params, true).await?,
    };
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

/// Uses up the refresh token with hash `hash` and issues its successor, on a blocking thread.
/// When all is well that is one round trip on PostgreSQL; why a token was refused is looked up
/// only after the atomic use-and-replace found it not live.
fn rotate(
    oauth: &OAuth,
    keys: &KeySnapshot,
    conn: &mut DbConnection,
    client: &Client,
    hash: &str,
    requested: Option<Scope>,
) -> Result<Outcome, OAuthError> {
    let now = tollbooth_storage::now();
    let access = AccessTokenIdentity::new(client);
    let (token, token_hash) = new_refresh_token_secret(oauth);
    let successor = Successor {
        token_hash,
        access_jti: access.jti.clone(),
        access_expires_at: from_unix_seconds(access.expires_at),
        expires_at: now + chrono::Duration::days(REFRESH_TOKEN_LIFETIME_DAYS),
    };
    let narrowed = requested.filter(|scope| scope.iter().next().is_some());
    let used = match &narrowed {
        None => refresh_tokens::use_and_replace(conn, hash, &client.id, &successor, now)?,
        // RFC 6749 §6: a narrower scope is allowed, a wider one is not. A refused request must
        // not use the token up, so the refusal rolls this transaction back.
        Some(narrowed) => in_transaction(conn, |conn| {
            let used = refresh_tokens::use_and_replace(conn, hash, &client.id, &successor, now)?;
            if let Some(used) = &used
                && !stored_scope(&used.scope)?.priviledged_to(narrowed)
            {
                return Err(OAuthError::new(
                    OAuthErrorKind::InvalidScope,
                    "The requested scope exceeds the original grant.",
                ));
            }
            Ok(used)
        })?,
    };
    let Some(used) = used else {
        return explain_refusal(conn, client, hash, now);
    };
    // docs/security.md: every refresh applies organization confinement and the user's role as
    // they are now. (The used token's successor exists, but nobody ever saw its secret.)
    let (client_organization, holder_organization) =
        (client.organization_id.as_deref(), used.holder_organization_id.as_deref());
    if !policy::client_may_sign_in(client_organization, holder_organization) {
        return Ok(refused(OAuthErrorKind::InvalidGrant, "The user is not a member of this client's organization."));
    }
    let scope = match narrowed {
        Some(narrowed) => narrowed,
        None => stored_scope(&used.scope)?,
    };
    let mut scopes = policy::user_token_scopes(&used.holder_role, &client.scopes, scope.iter());
    scopes.sort_unstable();
    let organization = policy::token_organization(client_organization, holder_organization);
    let claims = access.claims(oauth, client, used.user_id, &scopes.join(" "), organization);
    let mut body = sign_access_token(keys, &claims).map_err(OAuthError::server_error)?;
    // The new refresh token keeps the original grant's scope (RFC 6749 §6).
    body.refresh_token = Some(token);
    Ok(Outcome::Issued(body))
}

fn stored_scope(scope: &str) -> Result<Scope, OAuthError> {
    scope.parse::<Scope>().map_err(|_| OAuthError::server_error("stored scope is malformed"))
}

/// Why the token with hash `hash` could not be used; a used one revokes its family.
fn explain_refusal(
    conn: &mut DbConnection,
    client: &Client,
    hash: &str,
    now: chrono::NaiveDateTime,
) -> Result<Outcome, OAuthError> {
    let Some(row) = refresh_tokens::find(conn, hash)? else {
        return Ok(refused(OAuthErrorKind::InvalidGrant, "The refresh token is invalid."));
    };
    if row.client_id != client.id {
        return Ok(refused(OAuthErrorKind::InvalidGrant, "The refresh token was issued to another client."));
    }
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Ok(refused(OAuthErrorKind::InvalidGrant, "The refresh token is revoked or expired."));
    }
    if row.used_at.is_some() {
        return revoke_reused_family(conn, client, &row.family_id, now);
    }
    // Live now, though the use-and-replace just found it not live: another request changed it
    // in between. Refused all the same.
    Ok(refused(OAuthErrorKind::InvalidGrant, "The refresh token is invalid."))
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
