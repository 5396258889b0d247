//! `grant_type=refresh_token` (RFC 6749 §6, RFC 9700 §4.14): refresh tokens are opaque, stored
//! as keyed hashes, and replaced on every use by a new token of the same family. Presenting a
//! used token is taken as theft: the whole family and the access tokens issued with it are
//! revoked. Written directly, not through oxide-auth: see `crate::oxide` for why.

use tollbooth_storage::clients::Client;
use tollbooth_storage::refresh_tokens;
use tollbooth_storage::values::ScopeSet;
use tollbooth_storage::{DbConnection, in_transaction};

use super::GrantType;
use crate::audience;
use crate::audience::Audiences;
use crate::error::{OAuthError, OAuthErrorKind};
use crate::issue::{AccessTokenIdentity, Holder, TokenIssuer, TokenResponse};
use crate::oidc::{self, Profile, SignIn};
use crate::policy;
use crate::revocations::Revocations;

/// The request's values besides the client.
pub struct RefreshRequest<'a> {
    pub refresh_token: Option<&'a str>,
    pub scope: Option<&'a str>,
    /// RFC 8707: the API the new token is for, one the original grant's scopes are for.
    pub resource: Option<&'a str>,
}

/// Uses up the refresh token and issues its successor with a new access token. Access tokens
/// a reuse revoked are also remembered in `revocations`, this instance's cache.
pub fn grant(
    issuer: &TokenIssuer,
    revocations: &Revocations,
    conn: &mut DbConnection,
    client: &Client,
    request: &RefreshRequest<'_>,
) -> Result<TokenResponse, OAuthError> {
    if !client.allows_grant(GrantType::RefreshToken.name()) {
        return Err(OAuthError::new(OAuthErrorKind::UnauthorizedClient, "This client may not use refresh tokens."));
    }
    let token = request
        .refresh_token
        .ok_or_else(|| OAuthError::invalid_request("The parameter `refresh_token` is required."))?;
    let requested = ScopeSet::parse(request.scope.unwrap_or_default())
        .map_err(|_| OAuthError::new(OAuthErrorKind::InvalidScope, "The scope is malformed."))?;
    audience::check_named(&issuer.audiences(), &client.scopes, request.resource)?;
    let hash = issuer.hasher.hash(token);
    match rotate(issuer, conn, client, &hash, requested, request.resource)? {
        Ok(body) => Ok(body),
        Err((error, revoked)) => {
            for jti in revoked {
                revocations.remember_revoked(&jti);
            }
            Err(error)
        }
    }
}

/// A refusal, with any access tokens a reuse revoked.
type Refusal = (OAuthError, Vec<String>);

fn refused(description: &str) -> Result<Result<TokenResponse, Refusal>, OAuthError> {
    Ok(Err((OAuthError::new(OAuthErrorKind::InvalidGrant, description), Vec::new())))
}

/// Uses up the refresh token with hash `hash` and issues its successor. When all is well that
/// is one round trip on PostgreSQL; why a token was refused is looked up only after the atomic
/// use-and-replace found it not live.
fn rotate(
    issuer: &TokenIssuer,
    conn: &mut DbConnection,
    client: &Client,
    hash: &str,
    requested: ScopeSet,
    resource: Option<&str>,
) -> Result<Result<TokenResponse, Refusal>, OAuthError> {
    // Whatever can fail after the token is used up is checked before: a client whose refresh
    // failed on our side would retry with a used token, and that revokes its family.
    if client.scopes.iter().any(|s| s == oidc::OPENID) && issuer.keys.signer(oidc::id_token_algorithm(client)).is_none()
    {
        return Err(OAuthError::server_error("no current key for this client's ID tokens"));
    }
    let now = tollbooth_storage::now();
    let access = AccessTokenIdentity::new(client);
    let (token, successor) = issuer.refresh_token_successor(&access);
    let used = if requested.is_empty() && resource.is_none() {
        refresh_tokens::use_and_replace(conn, hash, &client.id, &successor, now)?
    } else {
        // RFC 6749 §6: a narrower scope is allowed, a wider one is not; RFC 8707: a resource the
        // grant covers is. A refused request must not use the token up, so the refusal rolls
        // this transaction back.
        in_transaction(conn, |conn| {
            let used = refresh_tokens::use_and_replace(conn, hash, &client.id, &successor, now)?;
            if let Some(used) = &used {
                let stored = stored_scope(&used.scope)?;
                if !requested.is_subset(&stored) {
                    return Err(OAuthError::new(
                        OAuthErrorKind::InvalidScope,
                        "The requested scope exceeds the original grant.",
                    ));
                }
                let granted = if requested.is_empty() { &stored } else { &requested };
                // The scope the token will carry, as the exchange below computes it.
                let carried = policy::user_token_scopes(&used.holder.role, &client.scopes, granted);
                refresh_audience(&issuer.audiences(), &client.scopes, &carried, resource, used.audience.as_deref())?;
            }
            Ok(used)
        })?
    };
    let Some(used) = used else {
        return explain_refusal(conn, client, hash, now);
    };
    // docs/security.md: every refresh applies organization confinement and the user's role as
    // they are now. (The used token's successor exists, but nobody ever saw its secret.)
    let (client_organization, holder_organization) =
        (client.organization_id.as_deref(), used.holder.organization_id.as_deref());
    if !policy::client_may_sign_in(client_organization, holder_organization) {
        return refused("The user is not a member of this client's organization.");
    }
    let granted = if requested.is_empty() { stored_scope(&used.scope)? } else { requested };
    let scope = policy::user_token_scopes(&used.holder.role, &client.scopes, &granted);
    let organization_id = policy::token_organization(client_organization, holder_organization);
    let stored_audience = used.audience.as_deref();
    let audience = match refresh_audience(&issuer.audiences(), &client.scopes, &scope, resource, stored_audience) {
        Ok(audience) => audience,
        Err(refusal) => return Ok(Err((refusal, Vec::new()))),
    };
    let holder = Holder { client, subject: used.user_id.clone(), scope: &scope, organization_id, audience };
    let claims = issuer.claims(access, holder);
    let mut body = issuer.sign(&claims)?;
    // OpenID Connect Core §12.2: a refresh of a sign-in answers with a new ID token of the same
    // sign-in (its `auth_time` and `sid`; no `nonce`), with the user as using the token read them.
    let sign_in = SignIn::stored(used.auth_time, used.session_id.as_deref(), None);
    let holder = &used.holder;
    let profile =
        Profile { id: &used.user_id, email: &holder.email, email_verified: holder.email_verified, name: &holder.name };
    issuer.add_id_token(&mut body, &claims, client, (profile, &sign_in))?;
    // The new refresh token keeps the original grant's scope (RFC 6749 §6).
    body.refresh_token = Some(token);
    Ok(Ok(body))
}

/// RFC 8707 §2.2: the API a refreshed token is for: its grant's (`stored`), named or not, or
/// the issuer's for a scope narrowed to OpenID scopes; never another API. A token stored
/// before audiences were kept (`stored` is `None`) gets what its scope chooses now, and with
/// OpenID scopes only stays the management API's, as it was, for a client holding one of its
/// scopes.
fn refresh_audience(
    audiences: &Audiences<'_>,
    client_scopes: &[String],
    scope: &ScopeSet,
    resource: Option<&str>,
    stored: Option<&str>,
) -> Result<String, OAuthError> {
    let choose = |named: Option<&str>| audience::for_client(audiences, client_scopes, scope, named);
    let to_issuer = |refusal: OAuthError| match choose(None) {
        Ok(chosen) if chosen == audiences.issuer => Ok(chosen),
        _ => Err(refusal),
    };
    match (resource, stored) {
        (None, None) => match choose(None)? {
            chosen if chosen == audiences.issuer => Ok(choose(Some(audiences.management)).unwrap_or(chosen)),
            chosen => Ok(chosen),
        },
        (Some(named), None) => choose(Some(named)),
        (Some(named), Some(stored)) if named == stored || named == audiences.issuer => choose(Some(named)),
        (Some(_), Some(_)) => {
            Err(OAuthError::new(OAuthErrorKind::InvalidTarget, "The refresh token's grant is for another resource."))
        }
        (None, Some(stored)) => choose(Some(stored)).or_else(to_issuer),
    }
}

fn stored_scope(scope: &str) -> Result<ScopeSet, OAuthError> {
    ScopeSet::parse(scope).map_err(|_| OAuthError::server_error("stored scope is malformed"))
}

/// Why the token with hash `hash` could not be used; a used one revokes its family.
fn explain_refusal(
    conn: &mut DbConnection,
    client: &Client,
    hash: &str,
    now: chrono::NaiveDateTime,
) -> Result<Result<TokenResponse, Refusal>, OAuthError> {
    let Some(row) = refresh_tokens::find(conn, hash)? else {
        return refused("The refresh token is invalid.");
    };
    if row.client_id != client.id {
        return refused("The refresh token was issued to another client.");
    }
    if row.revoked_at.is_some() || row.expires_at <= now {
        return refused("The refresh token is revoked or expired.");
    }
    if row.used_at.is_some() {
        // RFC 9700 §4.14.2: a used token presented again revokes its whole family.
        let revoked = in_transaction(conn, |conn| refresh_tokens::revoke_family(conn, &row.family_id, now))?;
        tracing::warn!(client_id = %client.id, "refresh token reused: its family is revoked");
        let error =
            OAuthError::new(OAuthErrorKind::InvalidGrant, "The refresh token was already used; its family is revoked.");
        return Ok(Err((error, revoked)));
    }
    // Live now, though the use-and-replace just found it not live: another request changed it
    // in between. Refused all the same.
    refused("The refresh token is invalid.")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8707 §2.2: a refresh naming no resource stays with its grant's API; narrowed to OpenID
    /// scopes it may move to the issuer, and to no other API (the API of a deleted resource's
    /// scope is not the management API's to take over).
    #[test]
    fn a_refresh_stays_with_its_grants_api() {
        let now = tollbooth_storage::now();
        let orders = tollbooth_storage::resources::Resource {
            id: "res_x".into(),
            tenant_id: "ten_x".into(),
            name: "Orders".into(),
            identifier: "https://orders".into(),
            scopes: tollbooth_storage::Json(vec!["orders:read".into()]),
            created_at: now,
            updated_at: now,
        };
        let resources = [orders];
        let audiences = Audiences { management: "https://as/api", issuer: "https://as", resources: &resources };
        let scope = |text: &str| ScopeSet::parse(text).unwrap();
        let client = ["openid".to_owned(), "orders:read".to_owned(), "users:read".to_owned()];
        let kept = |text, stored| refresh_audience(&audiences, &client, &scope(text), None, stored);
        assert_eq!(kept("openid orders:read", Some("https://orders")).unwrap(), "https://orders");
        assert_eq!(kept("openid", Some("https://orders")).unwrap(), "https://as", "OpenID scopes only: the issuer");
        assert_eq!(kept("openid", Some("https://as/api")).unwrap(), "https://as/api", "a /users/me token stays one");
        assert_eq!(kept("openid", None).unwrap(), "https://as/api", "stored before audiences were kept");
        assert_eq!(
            kept("stock:read", Some("https://stock")).unwrap_err().kind,
            OAuthErrorKind::InvalidTarget,
            "its API is gone: no moving to the management API"
        );
        let named = |resource, stored| refresh_audience(&audiences, &client, &scope("openid"), Some(resource), stored);
        assert_eq!(named("https://as", Some("https://orders")).unwrap(), "https://as");
        let moved = named("https://as/api", Some("https://as")).unwrap_err();
        assert_eq!(moved.kind, OAuthErrorKind::InvalidTarget, "an issuer grant does not become a management one");
    }
    use crate::test_support::{client, database_for_tests, issuer_for_tests, store_client_and_user, test_issuer};

    /// RFC 6749 §6 and RFC 9700 §4.14.2, on the grant alone (no server): a wider scope is refused
    /// without using the token up, a narrower one is granted, and a used token presented again
    /// revokes its family.
    #[test]
    fn refresh_narrows_never_widens_and_a_reuse_revokes_the_family() {
        let db = database_for_tests();
        let (keys, hasher) = issuer_for_tests();
        let issuer = test_issuer(&keys, &hasher);
        let revocations = Revocations::new(db.clone());
        let client = client(true, &["authorization_code", "refresh_token"], &["read", "write", "admin"]);
        db.run_blocking(|conn| {
            let user = store_client_and_user(conn, &client)?;
            let scope = ScopeSet::parse("read write").unwrap();
            let audience = crate::test_support::TEST_API.to_owned();
            let holder =
                Holder { client: &client, subject: user.id.clone(), scope: &scope, organization_id: None, audience };
            let (claims, _) = issuer.access_token(holder).unwrap();
            let first = issuer.store_refresh_token(conn, &claims, &SignIn::default())?;
            let request = |token, scope| RefreshRequest { refresh_token: Some(token), scope, resource: None };

            let wider = grant(&issuer, &revocations, conn, &client, &request(&first, Some("read admin"))).unwrap_err();
            assert_eq!(wider.kind, OAuthErrorKind::InvalidScope);
            let narrower = grant(&issuer, &revocations, conn, &client, &request(&first, Some("read"))).unwrap();
            assert_eq!(narrower.scope, "read");
            let second = narrower.refresh_token.expect("a successor");

            let reused = grant(&issuer, &revocations, conn, &client, &request(&first, None)).unwrap_err();
            assert_eq!(reused.kind, OAuthErrorKind::InvalidGrant);
            let revoked = grant(&issuer, &revocations, conn, &client, &request(&second, None)).unwrap_err();
            assert_eq!(revoked.kind, OAuthErrorKind::InvalidGrant, "the successor went with its family");
            Ok(())
        })
        .unwrap();
    }
}
