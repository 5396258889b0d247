//! The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6): oxide-auth's access-token
//! state machine, with one object as registrar (client authentication), authorizer (redeeming
//! the stored code, once) and issuer (the JWT). It runs on a blocking thread: redeeming a code
//! and reading its user are database work.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use base64::Engine;
use oxide_auth::code_grant::accesstoken as flow;
use oxide_auth::code_grant::error::AccessTokenErrorType;
use oxide_auth::primitives::authorizer::Authorizer;
use oxide_auth::primitives::grant::{Extensions, Grant};
use oxide_auth::primitives::issuer::{IssuedToken, Issuer, RefreshedToken};
use oxide_auth::primitives::registrar::{BoundClient, ClientUrl, PreGrant, Registrar, RegistrarError};
use oxide_auth::primitives::scope::Scope;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use tollbooth_storage::authorization_codes::{self, Redemption};
use tollbooth_storage::clients::Client;
use tollbooth_storage::{DbConnection, Reach, StorageError, in_transaction, refresh_tokens, revoked_tokens, users};

use crate::OAuth;
use crate::client_auth::client_authenticates;
use crate::error::{OAuthError, OAuthErrorKind, no_store};
use crate::policy;
use crate::token::{BasicCredentials, JwtIssuer, TokenParams};

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

struct ExchangeRequest {
    params: TokenParams,
    basic: Option<BasicCredentials>,
}

impl flow::Request for ExchangeRequest {
    fn valid(&self) -> bool {
        true
    }
    fn code(&self) -> Option<Cow<'_, str>> {
        self.params.get("code").map(Cow::Borrowed)
    }
    fn authorization(&self) -> flow::Authorization<'_> {
        match &self.basic {
            Some(basic) => flow::Authorization::UsernamePassword(
                Cow::Borrowed(basic.client_id.as_str()),
                Cow::Borrowed(basic.secret().as_bytes()),
            ),
            None => flow::Authorization::None,
        }
    }
    fn client_id(&self) -> Option<Cow<'_, str>> {
        // With Basic, a client_id repeated in the body (checked equal) is not a second credential.
        if self.basic.is_some() { None } else { self.params.get("client_id").map(Cow::Borrowed) }
    }
    fn redirect_uri(&self) -> Option<Cow<'_, str>> {
        self.params.get("redirect_uri").map(Cow::Borrowed)
    }
    fn grant_type(&self) -> Option<Cow<'_, str>> {
        self.params.get("grant_type").map(Cow::Borrowed)
    }
    fn extension(&self, key: &str) -> Option<Cow<'_, str>> {
        self.params.get(key).map(Cow::Borrowed)
    }
    fn allow_credentials_in_body(&self) -> bool {
        true
    }
}

struct Exchange<'a> {
    oauth: &'a OAuth,
    client: Option<&'a Client>,
    conn: &'a mut DbConnection,
    verifier: Option<String>,
    code_hash: Option<String>,
    issuer: JwtIssuer<'a>,
    /// Why the code was refused: oxide-auth reports it only as a generic invalid request.
    rejection: Option<OAuthError>,
    /// The access tokens a reused code revoked: this instance's revocation cache must know.
    revoked_jtis: Vec<String>,
    storage_error: Option<StorageError>,
    no_extension: (),
}

impl Exchange<'_> {
    fn refuse(&mut self, description: &str) -> Result<Option<Grant>, ()> {
        self.rejection = Some(OAuthError::new(OAuthErrorKind::InvalidGrant, description));
        Ok(None)
    }

    fn failed<T>(&mut self, err: StorageError) -> Result<T, ()> {
        self.storage_error = Some(err);
        Err(())
    }
}

impl Registrar for Exchange<'_> {
    fn bound_redirect<'b>(&self, _: ClientUrl<'b>) -> Result<BoundClient<'b>, RegistrarError> {
        Err(RegistrarError::Unspecified)
    }
    fn negotiate(&self, _: BoundClient, _: Option<Scope>) -> Result<PreGrant, RegistrarError> {
        Err(RegistrarError::Unspecified)
    }
    /// Confidential clients authenticate with their secret; public ones only name themselves
    /// (and must then prove possession with PKCE).
    fn check(&self, client_id: &str, passphrase: Option<&[u8]>) -> Result<(), RegistrarError> {
        let client = self.client.filter(|c| c.id == client_id).ok_or(RegistrarError::Unspecified)?;
        let secret = match passphrase.map(std::str::from_utf8) {
            None => None,
            Some(Ok(secret)) => Some(secret),
            Some(Err(_)) => return Err(RegistrarError::Unspecified),
        };
        // Public clients name themselves here; PKCE, checked when the code is redeemed, proves them.
        if client_authenticates(self.oauth, client, secret, true) { Ok(()) } else { Err(RegistrarError::Unspecified) }
    }
}

impl Authorizer for Exchange<'_> {
    fn authorize(&mut self, _: Grant) -> Result<String, ()> {
        Err(())
    }

    fn extract(&mut self, code: &str) -> Result<Option<Grant>, ()> {
        let hash = self.oauth.hasher.hash(code);
        let now = tollbooth_storage::now();
        let redemption = match authorization_codes::redeem(self.conn, &hash, now) {
            Ok(redemption) => redemption,
            Err(err) => return self.failed(err),
        };
        let code = match redemption {
            Redemption::Redeemed(code) => code,
            Redemption::Reused(code) => {
                // RFC 6749 §4.1.2: a second use revokes the tokens issued from the first: its
                // access token and the whole refresh-token family that began with it. The first
                // use ran in one transaction, so whatever it issued is recorded by now.
                if let (Some(jti), Some(expires_at)) = (&code.issued_jti, code.issued_expires_at) {
                    // The family first, as a refresh-token reuse locks it, so that the two never
                    // wait on each other (PostgreSQL would abort one: a deadlock).
                    let revoked = refresh_tokens::revoke_family_issued_with(self.conn, jti, now).and_then(|family| {
                        revoked_tokens::revoke(self.conn, jti, &code.tenant_id, expires_at).map(|()| family)
                    });
                    match revoked {
                        Ok(family) => self.revoked_jtis.extend(std::iter::once(jti.clone()).chain(family)),
                        Err(err) => return self.failed(err),
                    }
                }
                tracing::warn!(client_id = %code.client_id, "authorization code reused: its tokens are revoked");
                return self.refuse("The authorization code was already used; the tokens issued from it are revoked.");
            }
            Redemption::Invalid => return self.refuse("The authorization code is invalid or expired."),
        };
        if self.client.is_none_or(|c| c.id != code.client_id) {
            return self.refuse("The authorization code was issued to another client.");
        }
        match (&code.code_challenge, &self.verifier) {
            (Some(challenge), Some(verifier)) if verifier_matches(verifier, challenge) => {}
            (Some(_), _) => return self.refuse("PKCE verification failed: code_verifier does not match."),
            (None, Some(_)) => return self.refuse("No code_challenge was sent for this code; omit code_verifier."),
            (None, None) => {}
        }
        let reach = Reach { tenant_id: code.tenant_id.clone(), organization_id: None };
        let user = match users::get(self.conn, &reach, &code.user_id) {
            Ok(user) => user,
            Err(StorageError::NotFound) => return self.refuse("The user of this code no longer exists."),
            Err(err) => return self.failed(err),
        };
        // docs/security.md: organization confinement and roles hold again at the exchange.
        let client_organization = self.client.and_then(|c| c.organization_id.as_deref());
        if !policy::client_may_sign_in(client_organization, user.organization_id.as_deref()) {
            return self.refuse("The user is not a member of this client's organization.");
        }
        self.issuer.organization_id = policy::token_organization(client_organization, user.organization_id.as_deref());
        self.code_hash = Some(hash);
        let (Ok(scope), Ok(redirect_uri)) = (code.scope.parse::<Scope>(), url::Url::parse(&code.redirect_uri)) else {
            return Err(());
        };
        let client_scopes = self.client.map_or(&[][..], |c| &c.scopes[..]);
        let Ok(scope) = policy::user_token_scopes(&user.role, client_scopes, scope.iter()).join(" ").parse::<Scope>()
        else {
            return Err(());
        };
        Ok(Some(Grant {
            owner_id: code.user_id,
            client_id: code.client_id,
            scope,
            redirect_uri,
            until: chrono::Utc::now() + chrono::Duration::seconds(60),
            extensions: Extensions::new(),
        }))
    }
}

impl Issuer for Exchange<'_> {
    fn issue(&mut self, grant: Grant) -> Result<IssuedToken, ()> {
        let token = self.issuer.issue(grant)?;
        let Some((claims, body)) = &mut self.issuer.issued else { return Err(()) };
        if let Some(hash) = &self.code_hash {
            let expires_at = tollbooth_storage::from_unix_seconds(claims.exp);
            if let Err(err) = authorization_codes::record_issued(self.conn, hash, &claims.jti, expires_at) {
                self.storage_error = Some(err);
                return Err(());
            }
        }
        // SPEC §3: the code grant answers with a refresh token, for clients that may refresh.
        if self.client.is_some_and(|c| c.allows_grant(crate::token::REFRESH_TOKEN)) {
            let scope = claims.scope.clone();
            match crate::refresh::issue_refresh_token(self.oauth, self.conn, &scope, claims) {
                Ok(refresh) => body.refresh_token = Some(refresh),
                Err(err) => {
                    self.storage_error = Some(err);
                    return Err(());
                }
            }
        }
        Ok(token)
    }
    fn refresh(&mut self, _: &str, _: Grant) -> Result<RefreshedToken, ()> {
        Err(())
    }
    fn recover_token(&self, _: &str) -> Result<Option<Grant>, ()> {
        Err(())
    }
    fn recover_refresh(&self, _: &str) -> Result<Option<Grant>, ()> {
        Err(())
    }
}

impl flow::Endpoint for Exchange<'_> {
    fn registrar(&self) -> &dyn Registrar {
        self
    }
    fn authorizer(&mut self) -> &mut dyn Authorizer {
        self
    }
    fn issuer(&mut self) -> &mut dyn Issuer {
        self
    }
    fn extension(&mut self) -> &mut dyn flow::Extension {
        &mut self.no_extension
    }
}

/// `grant_type=authorization_code`.
pub async fn authorization_code(
    oauth: web::Data<OAuth>,
    params: TokenParams,
    basic: Option<BasicCredentials>,
) -> Result<HttpResponse, OAuthError> {
    let used_basic = basic.is_some();
    let client_id = match (&basic, params.get("client_id")) {
        (Some(basic), Some(body_id)) if basic.client_id != body_id => {
            return Err(OAuthError::invalid_request("The client_id in the body differs from the one in Basic."));
        }
        (Some(basic), _) => basic.client_id.clone(),
        (None, Some(body_id)) => body_id.to_owned(),
        (None, None) => return Err(OAuthError::invalid_client(false)),
    };
    let client: Option<Arc<Client>> = oauth.clients.find(&client_id).await?;
    let verifier = params.get("code_verifier").map(str::to_owned);
    let request = ExchangeRequest { params, basic };
    let keys = oauth.keys.snapshot();
    let db = oauth.db.clone();
    let revocations = oauth.revocations.clone();
    // One transaction from redeeming the code to recording what it issued: a second use of the
    // code waits for it (row lock, or SQLite's write lock) and then finds all it must revoke.
    let issued = db
        .run(move |conn| {
            in_transaction(conn, |conn| {
                let client = client.as_deref();
                let mut exchange = Exchange {
                    oauth: &oauth,
                    client,
                    conn,
                    verifier,
                    code_hash: None,
                    issuer: JwtIssuer {
                        oauth: &oauth,
                        keys: &keys,
                        client,
                        organization_id: client.and_then(|c| c.organization_id.clone()),
                        issued: None,
                    },
                    rejection: None,
                    revoked_jtis: Vec::new(),
                    storage_error: None,
                    no_extension: (),
                };
                let outcome = flow::access_token(&mut exchange, &request);
                if let Some(err) = exchange.storage_error.take() {
                    return Err(OAuthError::from(err));
                }
                let revoked = std::mem::take(&mut exchange.revoked_jtis);
                let answer = match outcome {
                    Ok(_) => exchange
                        .issuer
                        .issued
                        .take()
                        .map(|(_, body)| body)
                        .ok_or_else(|| OAuthError::server_error("no token")),
                    Err(flow::Error::Unauthorized(..)) => Err(OAuthError::invalid_client(used_basic)),
                    Err(flow::Error::Invalid(mut description)) => {
                        Err(exchange.rejection.take().unwrap_or_else(|| match description.description().kind() {
                            AccessTokenErrorType::InvalidGrant => OAuthError::new(
                                OAuthErrorKind::InvalidGrant,
                                "The code was issued for another redirect_uri.",
                            ),
                            _ => OAuthError::invalid_request("The request needs code and redirect_uri."),
                        }))
                    }
                    Err(flow::Error::Primitive(_)) => Err(OAuthError::server_error("code exchange primitive failed")),
                };
                Ok((answer, revoked))
            })
        })
        .await?;
    let (issued, revoked) = issued;
    for jti in revoked {
        revocations.remember_revoked(&jti);
    }
    let issued = issued?;
    crate::metrics::token_issued(crate::token::AUTHORIZATION_CODE);
    let mut response = HttpResponse::Ok().json(issued);
    no_store(&mut response);
    Ok(response)
}
