//! The one module that speaks oxide-auth. The stack runs two flows through it, and every other
//! module sees only our own types (`Client`, `ScopeSet`, `OAuthError`):
//!
//! - **The authorization endpoint** (RFC 6749 §4.1.1): oxide-auth's state machine negotiates
//!   the scope with the client's registration and, on consent, binds the grant to the user and
//!   builds the redirect with `code` and `state`.
//! - **The code grant** (RFC 6749 §4.1.3): oxide-auth checks the request's shape — the grant
//!   type, the code, the `redirect_uri` being the one the code was issued for, the code
//!   belonging to the client, its expiry — against a code the grant has already redeemed.
//!
//! What oxide-auth cannot express is written directly, each in its own grant module:
//!
//! - **Client authentication** is done once per request before any grant (`client_auth`);
//!   oxide-auth's flows would authenticate again through their registrar, so ours accepts
//!   exactly the client already authenticated.
//! - **Redeeming a code** (one use, reuse revoking what the first use issued, PKCE, the user's
//!   organization and role) and **issuing** (RFC 9068 JWTs, refresh-token families) need the
//!   database in one transaction and errors of our own; oxide-auth's `Authorizer` and `Issuer`
//!   can only answer `Err(())`. So the grant redeems and issues, and oxide-auth sees a
//!   redeemed grant and an issuer that records nothing.
//! - **Client credentials** (RFC 6749 §4.4): oxide-auth's flow reports every refusal but
//!   authentication as "ignore"; after authentication the grant is three checks.
//! - **Refresh** (RFC 6749 §6): oxide-auth fixes the new token's lifetime at one hour and knows
//!   nothing of token families (RFC 9700 §4.14.2).
//!
//! oxide-auth 0.6 also names an error redirect's text `description`; this module builds error
//! redirects from the error type instead, with RFC 6749 §4.1.2.1's `error_description`.

use std::borrow::Cow;
use std::collections::HashMap;

use oxide_auth::code_grant::accesstoken as token_flow;
use oxide_auth::code_grant::authorization as authorization_flow;
use oxide_auth::code_grant::error::{AccessTokenErrorType, AuthorizationErrorType};
use oxide_auth::primitives::authorizer::Authorizer;
use oxide_auth::primitives::grant::{Extensions, Grant};
use oxide_auth::primitives::issuer::{IssuedToken, Issuer, RefreshedToken, TokenType};
use oxide_auth::primitives::registrar::{BoundClient, ClientUrl, PreGrant, RegisteredUrl, Registrar, RegistrarError};
use oxide_auth::primitives::scope::Scope;
use tollbooth_storage::clients::Client;
use tollbooth_storage::values::ScopeSet;

use crate::error::{OAuthError, OAuthErrorKind};
use crate::policy;

fn to_scope(scopes: &ScopeSet) -> Result<Scope, ()> {
    scopes.to_string().parse::<Scope>().map_err(drop)
}

fn from_scope(scope: &Scope) -> ScopeSet {
    ScopeSet::of(scope.iter())
}

/// An authorization request oxide-auth refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationRefusal {
    /// Sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
    Redirect { error: &'static str, description: &'static str },
    /// Shown to the person on an error page: oxide-auth would not redirect.
    Page(&'static str),
}

/// An authorization request the client's registration allows, waiting for the user's consent.
pub struct PendingAuthorization<'a> {
    pending: authorization_flow::Pending,
    client: &'a Client,
}

/// Runs oxide-auth's authorization flow on a request whose client, `redirect_uri` (one of the
/// client's, exactly), `response_type` and PKCE parameters were already checked.
pub fn start_authorization<'a>(
    client: &'a Client,
    params: &HashMap<String, String>,
    redirect_uri: &str,
) -> Result<PendingAuthorization<'a>, AuthorizationRefusal> {
    let request = AuthorizeRequest { params, redirect_uri };
    let mut endpoint =
        AuthorizeEndpoint { registrar: ClientRegistrar { client }, authorizer: CodeMinter(None), extension: () };
    match authorization_flow::authorization_code(&mut endpoint, &request) {
        Ok(pending) => Ok(PendingAuthorization { pending, client }),
        Err(authorization_flow::Error::Redirect(mut url)) => Err(refusal(url.description().kind())),
        Err(_) => Err(AuthorizationRefusal::Page("The authorization request is not valid.")),
    }
}

fn refusal(kind: AuthorizationErrorType) -> AuthorizationRefusal {
    let (error, description) = match kind {
        AuthorizationErrorType::InvalidScope => {
            ("invalid_scope", "The requested scope exceeds the scopes allowed for this client.")
        }
        AuthorizationErrorType::AccessDenied => ("access_denied", "The user denied the request."),
        AuthorizationErrorType::UnsupportedResponseType => {
            ("unsupported_response_type", "Only response_type=code is supported.")
        }
        AuthorizationErrorType::UnauthorizedClient => {
            ("unauthorized_client", "This client may not use the authorization code grant.")
        }
        AuthorizationErrorType::ServerError | AuthorizationErrorType::TemporarilyUnavailable => {
            ("server_error", "The authorization server could not process the request.")
        }
        AuthorizationErrorType::InvalidRequest => ("invalid_request", "The authorization request is not valid."),
    };
    AuthorizationRefusal::Redirect { error, description }
}

impl PendingAuthorization<'_> {
    /// The scope the user is asked to consent to.
    pub fn scope(&self) -> ScopeSet {
        from_scope(&self.pending.pre_grant().scope)
    }

    /// The redirect after the user's consent: `make_code` is given the granted scope and returns
    /// the new code (the caller stores it), which oxide-auth puts in the URL with `state`.
    pub fn approve(self, user_id: &str, make_code: impl FnOnce(&ScopeSet) -> String) -> Result<url::Url, OAuthError> {
        let mut endpoint = AuthorizeEndpoint {
            registrar: ClientRegistrar { client: self.client },
            authorizer: CodeMinter(Some(Box::new(make_code))),
            extension: (),
        };
        self.pending
            .authorize(&mut endpoint, Cow::Borrowed(user_id))
            .map_err(|_| OAuthError::server_error("authorizing produced no redirect"))
    }
}

/// The authorization request as oxide-auth reads it.
struct AuthorizeRequest<'a> {
    params: &'a HashMap<String, String>,
    redirect_uri: &'a str,
}

impl authorization_flow::Request for AuthorizeRequest<'_> {
    fn valid(&self) -> bool {
        true
    }
    fn client_id(&self) -> Option<Cow<'_, str>> {
        self.params.get("client_id").map(|s| Cow::Borrowed(s.as_str()))
    }
    fn scope(&self) -> Option<Cow<'_, str>> {
        self.params.get("scope").filter(|s| !s.is_empty()).map(|s| Cow::Borrowed(s.as_str()))
    }
    fn redirect_uri(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.redirect_uri))
    }
    fn state(&self) -> Option<Cow<'_, str>> {
        self.params.get("state").map(|s| Cow::Borrowed(s.as_str()))
    }
    fn response_type(&self) -> Option<Cow<'_, str>> {
        self.params.get("response_type").map(|s| Cow::Borrowed(s.as_str()))
    }
    fn extension(&self, key: &str) -> Option<Cow<'_, str>> {
        self.params.get(key).map(|s| Cow::Borrowed(s.as_str()))
    }
}

/// The registration of the request's one client, already loaded (and, at the token endpoint,
/// already authenticated).
struct ClientRegistrar<'a> {
    client: &'a Client,
}

impl Registrar for ClientRegistrar<'_> {
    fn bound_redirect<'b>(&self, bound: ClientUrl<'b>) -> Result<BoundClient<'b>, RegistrarError> {
        // RFC 6749 §3.1.2.3: an exact match of a registered URI (checked before too).
        let uri = bound.redirect_uri.ok_or(RegistrarError::Unspecified)?;
        if !self.client.redirect_uris.iter().any(|registered| registered == uri.as_str()) {
            return Err(RegistrarError::Unspecified);
        }
        Ok(BoundClient { client_id: bound.client_id, redirect_uri: Cow::Owned(RegisteredUrl::Exact(uri.into_owned())) })
    }

    fn negotiate(&self, bound: BoundClient, requested: Option<Scope>) -> Result<PreGrant, RegistrarError> {
        let requested = requested.as_ref().map(from_scope).unwrap_or_default();
        let scope = policy::client_scope(&self.client.scopes, &requested).ok_or(RegistrarError::Unspecified)?;
        let scope = to_scope(&scope).map_err(|()| RegistrarError::Unspecified)?;
        Ok(PreGrant { client_id: bound.client_id.into_owned(), redirect_uri: bound.redirect_uri.into_owned(), scope })
    }

    /// The token endpoint authenticated the client before the grant ran: only its id is checked.
    fn check(&self, client_id: &str, passphrase: Option<&[u8]>) -> Result<(), RegistrarError> {
        if client_id == self.client.id && passphrase.is_none() { Ok(()) } else { Err(RegistrarError::Unspecified) }
    }
}

type MakeCode<'a> = Box<dyn FnOnce(&ScopeSet) -> String + 'a>;

/// Makes the code of an approved request with the caller's function.
struct CodeMinter<'a>(Option<MakeCode<'a>>);

impl Authorizer for CodeMinter<'_> {
    fn authorize(&mut self, grant: Grant) -> Result<String, ()> {
        let make_code = self.0.take().ok_or(())?;
        Ok(make_code(&from_scope(&grant.scope)))
    }

    fn extract(&mut self, _code: &str) -> Result<Option<Grant>, ()> {
        Err(()) // codes are redeemed by the token endpoint
    }
}

struct AuthorizeEndpoint<'a> {
    registrar: ClientRegistrar<'a>,
    authorizer: CodeMinter<'a>,
    extension: (),
}

impl authorization_flow::Endpoint for AuthorizeEndpoint<'_> {
    fn registrar(&self) -> &dyn Registrar {
        &self.registrar
    }
    fn authorizer(&mut self) -> &mut dyn Authorizer {
        &mut self.authorizer
    }
    fn extension(&mut self) -> &mut dyn authorization_flow::Extension {
        &mut self.extension
    }
}

/// A code-exchange request's parameters (RFC 6749 §4.1.3).
pub struct CodeExchange<'a> {
    pub grant_type: &'a str,
    pub code: &'a str,
    pub redirect_uri: Option<&'a str>,
}

/// A code the grant has redeemed: what it was issued for.
pub struct RedeemedCode<'a> {
    pub client_id: &'a str,
    pub user_id: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a ScopeSet,
}

/// How long oxide-auth is told a redeemed grant lives: redeeming it checked the code's own
/// expiry already, and a code that expires during the exchange must not be reported as a
/// `redirect_uri` mismatch.
const REDEEMED_GRANT_LIFETIME: chrono::Duration = chrono::Duration::seconds(60);

/// Checks the exchange of `code`, already redeemed as `redeemed`, by the authenticated
/// `client` against RFC 6749 §4.1.3 with oxide-auth's access-token flow.
pub fn confirm_code_exchange(
    client: &Client,
    request: &CodeExchange<'_>,
    redeemed: &RedeemedCode<'_>,
) -> Result<(), OAuthError> {
    let grant = Grant {
        owner_id: redeemed.user_id.to_owned(),
        client_id: redeemed.client_id.to_owned(),
        scope: to_scope(redeemed.scope).map_err(|()| OAuthError::server_error("stored scope is malformed"))?,
        redirect_uri: url::Url::parse(redeemed.redirect_uri)
            .map_err(|_| OAuthError::server_error("stored redirect URI is malformed"))?,
        until: chrono::Utc::now() + REDEEMED_GRANT_LIFETIME,
        extensions: Extensions::new(),
    };
    let mut endpoint = ExchangeEndpoint {
        registrar: ClientRegistrar { client },
        authorizer: RedeemedGrant { code: request.code, grant: Some(grant) },
        issuer: NoIssuer,
        extension: (),
    };
    let exchange = ExchangeRequest { request, client_id: &client.id };
    match token_flow::access_token(&mut endpoint, &exchange) {
        Ok(_) => Ok(()),
        Err(token_flow::Error::Unauthorized(..)) => Err(OAuthError::invalid_client(false)),
        Err(token_flow::Error::Invalid(mut description)) => Err(match description.description().kind() {
            AccessTokenErrorType::InvalidGrant => {
                OAuthError::new(OAuthErrorKind::InvalidGrant, "The code was issued for another redirect_uri.")
            }
            AccessTokenErrorType::UnsupportedGrantType => {
                OAuthError::new(OAuthErrorKind::UnsupportedGrantType, "Unsupported grant type.")
            }
            _ => OAuthError::invalid_request("The request needs code and redirect_uri."),
        }),
        Err(token_flow::Error::Primitive(_)) => Err(OAuthError::server_error("code exchange primitive failed")),
    }
}

struct ExchangeRequest<'a> {
    request: &'a CodeExchange<'a>,
    client_id: &'a str,
}

impl token_flow::Request for ExchangeRequest<'_> {
    fn valid(&self) -> bool {
        true
    }
    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.request.code))
    }
    /// Authenticated already: the client only names itself here.
    fn authorization(&self) -> token_flow::Authorization<'_> {
        token_flow::Authorization::None
    }
    fn client_id(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.client_id))
    }
    fn redirect_uri(&self) -> Option<Cow<'_, str>> {
        self.request.redirect_uri.map(Cow::Borrowed)
    }
    fn grant_type(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.request.grant_type))
    }
    fn extension(&self, _key: &str) -> Option<Cow<'_, str>> {
        None
    }
    fn allow_credentials_in_body(&self) -> bool {
        false
    }
}

/// Hands oxide-auth the grant of the code already redeemed.
struct RedeemedGrant<'a> {
    code: &'a str,
    grant: Option<Grant>,
}

impl Authorizer for RedeemedGrant<'_> {
    fn authorize(&mut self, _: Grant) -> Result<String, ()> {
        Err(())
    }
    fn extract(&mut self, code: &str) -> Result<Option<Grant>, ()> {
        Ok(if code == self.code { self.grant.take() } else { None })
    }
}

/// The grant issues the tokens; oxide-auth's flow must still be given an issuer.
struct NoIssuer;

impl Issuer for NoIssuer {
    fn issue(&mut self, grant: Grant) -> Result<IssuedToken, ()> {
        Ok(IssuedToken { token: String::new(), refresh: None, until: grant.until, token_type: TokenType::Bearer })
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

struct ExchangeEndpoint<'a> {
    registrar: ClientRegistrar<'a>,
    authorizer: RedeemedGrant<'a>,
    issuer: NoIssuer,
    extension: (),
}

impl token_flow::Endpoint for ExchangeEndpoint<'_> {
    fn registrar(&self) -> &dyn Registrar {
        &self.registrar
    }
    fn authorizer(&mut self) -> &mut dyn Authorizer {
        &mut self.authorizer
    }
    fn issuer(&mut self) -> &mut dyn Issuer {
        &mut self.issuer
    }
    fn extension(&mut self) -> &mut dyn token_flow::Extension {
        &mut self.extension
    }
}
