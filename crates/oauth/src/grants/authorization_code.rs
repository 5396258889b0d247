//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6). In one transaction, from
//! redeeming the code to recording what it issued: a second use of the code waits for the
//! first (row lock, or SQLite's write lock) and then finds all it must revoke. oxide-auth checks
//! the request against the redeemed code (`crate::oxide`).

use base64::Engine;
use sha2::{Digest, Sha256};
use tollbooth_storage::authorization_codes::{self, AuthorizationCode, Redemption};
use tollbooth_storage::clients::Client;
use tollbooth_storage::values::ScopeSet;
use tollbooth_storage::{DbConnection, Reach, StorageError, in_transaction, refresh_tokens, revoked_tokens, users};

use super::GrantType;
use crate::audience;
use crate::error::{OAuthError, OAuthErrorKind};
use crate::issue::{Holder, TokenIssuer, TokenResponse};
use crate::oidc::SignIn;
use crate::oxide::{self, CodeExchange, RedeemedCode};
use crate::policy;
use crate::revocations::Revocations;

/// The request's values besides the client.
pub struct CodeRequest<'a> {
    pub code: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
    /// RFC 8707: the API the token is for; it must be the one the granted scopes are for.
    pub resource: Option<&'a str>,
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) equals the challenge.
fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    valid_verifier(verifier)
        && base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

fn refused(description: &str) -> OAuthError {
    OAuthError::new(OAuthErrorKind::InvalidGrant, description)
}

/// Exchanges the code for an access token (and a refresh token, for clients that may refresh).
/// Access tokens a reused code revoked are also remembered in `revocations`, this instance's
/// cache.
pub fn grant(
    issuer: &TokenIssuer,
    revocations: &Revocations,
    conn: &mut DbConnection,
    client: &Client,
    request: &CodeRequest<'_>,
) -> Result<TokenResponse, OAuthError> {
    // Checked before the code is used up: a malformed request does not spend it.
    let (Some(code), Some(redirect_uri)) = (request.code, request.redirect_uri) else {
        return Err(OAuthError::invalid_request("The request needs code and redirect_uri."));
    };
    if url::Url::parse(redirect_uri).is_err() {
        return Err(OAuthError::invalid_request("The redirect_uri is not an absolute URI."));
    }
    audience::check_named(&issuer.audiences(), &client.scopes, request.resource)?;
    // A refusal is an answer, not a failure: the transaction commits what a reuse revoked.
    let (answer, revoked) = in_transaction(conn, |conn| {
        let mut revoked = Vec::new();
        let answer = exchange(issuer, conn, client, code, request, &mut revoked)?;
        Ok::<_, OAuthError>((answer, revoked))
    })?;
    for jti in revoked {
        revocations.remember_revoked(&jti);
    }
    answer
}

/// `Err` for a failure that rolls the transaction back; `Ok(Err(..))` for a refusal.
fn exchange(
    issuer: &TokenIssuer,
    conn: &mut DbConnection,
    client: &Client,
    code: &str,
    request: &CodeRequest<'_>,
    revoked: &mut Vec<String>,
) -> Result<Result<TokenResponse, OAuthError>, OAuthError> {
    let code_hash = issuer.hasher.hash(code);
    let now = tollbooth_storage::now();
    let stored = match authorization_codes::redeem(conn, &code_hash, now)? {
        Redemption::Redeemed(stored) => stored,
        Redemption::Reused(stored) => {
            revoked.extend(revoke_first_use(conn, &stored, now)?);
            tracing::warn!(client_id = %stored.client_id, "authorization code reused: its tokens are revoked");
            return Ok(Err(refused("The authorization code was already used; the tokens issued from it are revoked.")));
        }
        Redemption::Invalid => return Ok(Err(refused("The authorization code is invalid or expired."))),
    };
    if stored.client_id != client.id {
        return Ok(Err(refused("The authorization code was issued to another client.")));
    }
    match (&stored.code_challenge, request.code_verifier) {
        (Some(challenge), Some(verifier)) if verifier_matches(verifier, challenge) => {}
        (Some(_), _) => return Ok(Err(refused("PKCE verification failed: code_verifier does not match."))),
        (None, Some(_)) => return Ok(Err(refused("No code_challenge was sent for this code; omit code_verifier."))),
        (None, None) => {}
    }
    let reach = Reach { tenant_id: stored.tenant_id.clone(), organization_id: None };
    let user = match users::get(conn, &reach, &stored.user_id) {
        Ok(user) => user,
        Err(StorageError::NotFound) => return Ok(Err(refused("The user of this code no longer exists."))),
        Err(err) => return Err(err.into()),
    };
    // docs/security.md: organization confinement and roles hold again at the exchange.
    let client_organization = client.organization_id.as_deref();
    if !policy::client_may_sign_in(client_organization, user.organization_id.as_deref()) {
        return Ok(Err(refused("The user is not a member of this client's organization.")));
    }
    let granted = ScopeSet::parse(&stored.scope).map_err(|_| OAuthError::server_error("stored scope is malformed"))?;
    let redeemed = RedeemedCode {
        client_id: &stored.client_id,
        user_id: &stored.user_id,
        redirect_uri: &stored.redirect_uri,
        scope: &granted,
    };
    let exchange =
        CodeExchange { grant_type: GrantType::AuthorizationCode.name(), code, redirect_uri: request.redirect_uri };
    if let Err(error) = oxide::confirm_code_exchange(client, &exchange, &redeemed) {
        return Ok(Err(error));
    }

    let scope = policy::user_token_scopes(&user.role, &client.scopes, &granted);
    let organization_id = policy::token_organization(client_organization, user.organization_id.as_deref());
    // RFC 8707 §2.2: a resource named when the code was requested holds for its exchange.
    let resource = match (stored.resource.as_deref(), request.resource) {
        (Some(authorized), Some(named)) if authorized != named => {
            let description = "The resource is not the one the code was issued for.";
            return Ok(Err(OAuthError::new(OAuthErrorKind::InvalidTarget, description)));
        }
        (authorized, named) => authorized.or(named),
    };
    let audience = match audience::for_client(&issuer.audiences(), &client.scopes, &scope, resource) {
        Ok(audience) => audience,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let holder = Holder { client, subject: stored.user_id.clone(), scope: &scope, organization_id, audience };
    let (claims, mut body) = issuer.access_token(holder)?;
    authorization_codes::record_issued(
        conn,
        &code_hash,
        &claims.jti,
        tollbooth_storage::from_unix_seconds(claims.exp),
    )?;
    let sign_in = SignIn::stored(stored.auth_time, stored.session_id.as_deref(), stored.nonce.as_deref());
    issuer.add_id_token(&mut body, &claims, client, ((&user).into(), &sign_in))?;
    // docs/oauth.md: the code grant answers with a refresh token, for clients that may refresh.
    if client.allows_grant(GrantType::RefreshToken.name()) {
        body.refresh_token = Some(issuer.store_refresh_token(conn, &claims, &sign_in)?);
    }
    Ok(Ok(body))
}

/// RFC 6749 §4.1.2: a second use revokes the tokens issued from the first: its access token and
/// the whole refresh-token family that began with it. The first use ran in one transaction, so
/// whatever it issued is recorded by now. Returns the revoked access tokens' `jti`s.
fn revoke_first_use(
    conn: &mut DbConnection,
    stored: &AuthorizationCode,
    now: chrono::NaiveDateTime,
) -> Result<Vec<String>, StorageError> {
    let (Some(jti), Some(expires_at)) = (&stored.issued_jti, stored.issued_expires_at) else {
        return Ok(Vec::new());
    };
    // The family first, as a refresh-token reuse locks it, so that the two never wait on each
    // other (PostgreSQL would abort one: a deadlock).
    let family = refresh_tokens::revoke_family_issued_with(conn, jti, now)?;
    revoked_tokens::revoke(conn, jti, &stored.tenant_id, expires_at)?;
    Ok(std::iter::once(jti.clone()).chain(family).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{client, database_for_tests, issuer_for_tests, store_client_and_user, test_issuer};

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const REDIRECT: &str = "https://app.test/cb";

    /// RFC 6749 §4.1.2, on the grant alone (no server): a malformed request spends nothing, the
    /// code is exchanged once, and its reuse revokes the refresh family the first use began.
    #[test]
    fn a_code_is_exchanged_once_and_its_reuse_revokes_what_it_issued() {
        let db = database_for_tests();
        let (keys, hasher) = issuer_for_tests();
        let issuer = test_issuer(&keys, &hasher);
        let revocations = Revocations::new(db.clone());
        let client = client(false, &["authorization_code", "refresh_token"], &["read", "users:read"]);
        db.run_blocking(|conn| {
            let user = store_client_and_user(conn, &client)?;
            let now = tollbooth_storage::now();
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER));
            let code = AuthorizationCode {
                code_hash: hasher.hash("the-code"),
                tenant_id: client.tenant_id.clone(),
                client_id: client.id.clone(),
                user_id: user.id.clone(),
                redirect_uri: REDIRECT.into(),
                scope: "read users:read".into(),
                code_challenge: Some(challenge),
                expires_at: now + chrono::Duration::seconds(60),
                used_at: None,
                issued_jti: None,
                issued_expires_at: None,
                created_at: now,
                nonce: None,
                auth_time: Some(now),
                session_id: None,
                resource: None,
            };
            authorization_codes::insert(conn, &code)?;
            let request = |redirect_uri| CodeRequest {
                code: Some("the-code"),
                redirect_uri,
                code_verifier: Some(VERIFIER),
                resource: None,
            };

            let refused = grant(&issuer, &revocations, conn, &client, &request(Some("/cb"))).unwrap_err();
            assert_eq!(refused.kind, OAuthErrorKind::InvalidRequest);
            let issued = grant(&issuer, &revocations, conn, &client, &request(Some(REDIRECT))).unwrap();
            assert_eq!(issued.scope, "read", "a member's token carries no management scope");
            let refresh = issued.refresh_token.expect("the client may refresh");

            let reused = grant(&issuer, &revocations, conn, &client, &request(Some(REDIRECT))).unwrap_err();
            assert_eq!(reused.kind, OAuthErrorKind::InvalidGrant);
            let family = refresh_tokens::find(conn, &hasher.hash(&refresh))?.expect("stored");
            assert!(family.revoked_at.is_some(), "the reuse revoked the refresh token the first use issued");
            Ok(())
        })
        .unwrap();
    }
}
