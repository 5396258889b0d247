//! `POST /oauth/token` (RFC 6749 §4.4, §5). oxide-auth runs the client-credentials grant with
//! our registrar (the client loaded from storage) and issuer (JWTs). What oxide-auth does not
//! do is done here: JSON bodies, grant dispatch, and errors with RFC 6749 §5.2 statuses.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use base64::Engine;
use chrono::Utc;
use oxide_auth::code_grant::client_credentials as cc;
use oxide_auth::code_grant::error::AccessTokenErrorType;
use oxide_auth::primitives::grant::Grant;
use oxide_auth::primitives::issuer::{IssuedToken, Issuer, RefreshedToken, TokenType};
use oxide_auth::primitives::registrar::{BoundClient, ClientUrl, PreGrant, RegisteredUrl, Registrar, RegistrarError};
use oxide_auth::primitives::scope::Scope;
use serde::Serialize;
use tollbooth_storage::clients::Client;
use tollbooth_storage::rate_limit::{Verdict, named};

use crate::OAuth;
use crate::body::FormBody;
use crate::client_auth::client_authenticates;
use crate::error::{OAuthError, OAuthErrorKind, no_store};
use crate::jwt::{self, AccessTokenClaims};
use crate::keys::KeySnapshot;
use crate::rate_limit_headers;

pub const CLIENT_CREDENTIALS: &str = "client_credentials";
pub const AUTHORIZATION_CODE: &str = "authorization_code";
pub const REFRESH_TOKEN: &str = "refresh_token";

/// The grants this server issues tokens for; discovery advertises exactly these.
pub const SUPPORTED_GRANTS: &[&str] = &[AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN];

/// The parameters of a token request, from a form (RFC 6749) or a JSON body (SPEC §3).
#[derive(Default, Clone)]
pub struct TokenParams(HashMap<String, String>);

/// Names only: the values hold secrets (`client_secret`, `code`, `refresh_token`, …).
impl std::fmt::Debug for TokenParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.0.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("TokenParams").field("names", &names).finish_non_exhaustive()
    }
}

impl TokenParams {
    pub fn parse(request: &HttpRequest, body: &[u8]) -> Result<Self, OAuthError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            .unwrap_or_default();
        let mut params = HashMap::new();
        let mut put = |name: String, value: String| {
            // RFC 6749 §3.2: request parameters must not be repeated.
            if params.insert(name.clone(), value).is_some() {
                return Err(OAuthError::invalid_request(format!("The parameter `{name}` is repeated.")));
            }
            Ok(())
        };
        match content_type.as_str() {
            "application/x-www-form-urlencoded" => {
                for (name, value) in url::form_urlencoded::parse(body) {
                    put(name.into_owned(), value.into_owned())?;
                }
            }
            "application/json" => {
                let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
                    .map_err(|_| OAuthError::invalid_request("The request body is not a JSON object."))?;
                for (name, value) in object {
                    match value {
                        serde_json::Value::String(text) => put(name, text)?,
                        _ => {
                            return Err(OAuthError::invalid_request(format!(
                                "The parameter `{name}` must be a string."
                            )));
                        }
                    }
                }
            }
            _ => {
                return Err(OAuthError::invalid_request(
                    "The body must be application/x-www-form-urlencoded or application/json.",
                ));
            }
        }
        Ok(TokenParams(params))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// `client_secret_basic` credentials (RFC 6749 §2.3.1: id and secret are form-urlencoded).
pub struct BasicCredentials {
    pub client_id: String,
    secret: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl BasicCredentials {
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// `Ok(None)` when no Basic header was sent; a malformed one fails client authentication.
    pub fn from_request(request: &HttpRequest) -> Result<Option<Self>, OAuthError> {
        let Some(value) = request.headers().get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let value = value.to_str().map_err(|_| OAuthError::invalid_client(true))?;
        let Some((scheme, encoded)) = value.split_once(' ') else {
            return Err(OAuthError::invalid_client(true));
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return Ok(None);
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| OAuthError::invalid_client(true))?;
        let (id, secret) = decoded.split_once(':').ok_or_else(|| OAuthError::invalid_client(true))?;
        Ok(Some(BasicCredentials { client_id: form_decode(id), secret: form_decode(secret) }))
    }
}

fn form_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// The token request (RFC 6749 §4.4.2), as a form or JSON body, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// `client_credentials`.
    grant_type: String,
    /// Space-separated; a subset of the client's scopes. Default: all of them.
    scope: Option<String>,
    /// `client_secret_post` only; with `client_secret_basic` the id is in the Basic header.
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// `POST /oauth/token`.
#[utoipa::path(post, path = "/oauth/token", operation_id = "requestToken", tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded",
        description = "Also accepted as application/json with string values."),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "An RFC 9068 JWT access token; `Cache-Control: no-store`", body = TokenResponse),
        (status = 400, description = "invalid_request, unsupported_grant_type, unauthorized_client or invalid_scope", body = crate::error::OAuthErrorBody),
        (status = 401, description = "invalid_client; `WWW-Authenticate: Basic` when Basic was used", body = crate::error::OAuthErrorBody),
        (status = 429, description = "rate_limit_exceeded (per client id or IP), with Retry-After"),
        (status = 500, description = "server_error", body = crate::error::OAuthErrorBody),
    ))]
pub async fn token(request: HttpRequest, FormBody(body): FormBody, oauth: web::Data<OAuth>) -> HttpResponse {
    let mut verdict = Verdict { allowed: true, windows: Vec::new() };
    let mut response = match limited_token(&request, &body, &oauth, &mut verdict).await {
        Ok(response) => response,
        Err(error) => error.error_response(),
    };
    rate_limit_headers::insert(&mut response, rate_limit_headers::of(&verdict, rate_limit_headers::unix_now()));
    response
}

/// The token endpoint is limited per IP address (IPv6 by /64), every request; then per client,
/// only requests that authenticated as that client (docs/security.md, "Bounds"): a stranger
/// who knows a client id cannot spend its budget, and made-up ids create no counters. A
/// refusal leaves `verdict` describing the window that refused.
async fn limited_token(
    request: &HttpRequest,
    body: &[u8],
    oauth: &web::Data<OAuth>,
    verdict: &mut Verdict,
) -> Result<HttpResponse, OAuthError> {
    let now = || chrono::Utc::now().timestamp().max(0) as u64;
    let address = crate::client_address::rate_limit_address(request);
    if let Some(limiter) = &oauth.rate_limiter {
        *verdict = limiter.check(&format!("ip:{address}"), &named("ip", &limiter.rules().token_per_ip)).await;
        if !verdict.allowed {
            return Err(OAuthError::rate_limited(verdict.retry_after(now())));
        }
    }
    let params = TokenParams::parse(request, body)?;
    let basic = BasicCredentials::from_request(request)?;
    let authenticated = match &oauth.rate_limiter {
        Some(_) => authenticated_client(oauth, request, &params).await,
        None => None,
    };
    if let (Some(limiter), Some(client)) = (&oauth.rate_limiter, &authenticated) {
        let windows = named("client", &limiter.rules().token_per_client);
        let by_client = limiter.check(&client_budget(client, &address), &windows).await;
        *verdict = std::mem::replace(verdict, Verdict { allowed: true, windows: Vec::new() }).and(by_client);
        if !verdict.allowed {
            return Err(OAuthError::rate_limited(verdict.retry_after(now())));
        }
    }
    match params.get("grant_type") {
        None => Err(OAuthError::invalid_request("The parameter `grant_type` is required.")),
        Some(CLIENT_CREDENTIALS) => client_credentials(oauth, &params, basic, authenticated).await,
        Some(AUTHORIZATION_CODE) => crate::code_exchange::authorization_code(oauth.clone(), params, basic).await,
        Some(REFRESH_TOKEN) => crate::refresh::refresh_grant(oauth.clone(), request, params, authenticated).await,
        Some(_) => Err(OAuthError::new(
            OAuthErrorKind::UnsupportedGrantType,
            format!("Supported grant types: {}.", SUPPORTED_GRANTS.join(", ")),
        )),
    }
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

/// The client a token request authenticated as, if it did: a confidential client whose secret
/// checked out, or a public client (which has no secret) naming itself, by the one rule of
/// `client_auth`. Only such a request spends a client's budget (docs/security.md, "Bounds"); an
/// unknown client, a wrong secret or a malformed request spends the caller's address's alone,
/// and the grant then answers it.
async fn authenticated_client(oauth: &OAuth, request: &HttpRequest, params: &TokenParams) -> Option<Arc<Client>> {
    crate::client_auth::authenticate_client(oauth, request, params, true).await.ok()
}

/// The per-client rate-limit subject of an authenticated `client` calling from `address`: its
/// own, or for a public client (which anyone may name) its own per address.
pub(crate) fn client_budget(client: &Client, address: &str) -> String {
    if client.confidential { format!("client:{}", client.id) } else { format!("client:{}|{address}", client.id) }
}

/// The RFC 6749 §5.1 success body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    access_token: String,
    #[schema(value_type = String, example = "Bearer")]
    token_type: &'static str,
    expires_in: i64,
    scope: String,
    /// For the authorization-code and refresh grants (when the client may refresh).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<String>,
}

/// `grant_type=client_credentials`; `authenticated` is the client the request already proved to
/// be (when rate limiting checked it first), whose secret need not be checked again.
async fn client_credentials(
    oauth: &OAuth,
    params: &TokenParams,
    basic: Option<BasicCredentials>,
    authenticated: Option<Arc<Client>>,
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
    let authenticated = authenticated.filter(|c| c.id == client_id && c.confidential);
    // The secret the budget check verified: the registrar accepts exactly it without a second
    // HMAC, and checks any other passphrase in full.
    let verified_secret = match (&authenticated, &basic) {
        (None, _) => None,
        (Some(_), Some(basic)) => Some(basic.secret().to_owned()),
        (Some(_), None) => params.get("client_secret").map(str::to_owned),
    };
    let client = match authenticated {
        Some(client) => Some(client),
        None => oauth.clients.find(&client_id).await?,
    };
    if !used_basic && params.get("client_secret").is_none() {
        // A public client identifies itself but cannot authenticate: RFC 6749 §4.4 is not for it.
        return Err(match client {
            Some(client) if !client.confidential => OAuthError::new(
                OAuthErrorKind::UnauthorizedClient,
                "Public clients cannot use the client_credentials grant.",
            ),
            _ => OAuthError::invalid_client(false),
        });
    }
    if let Some(scope) = params.get("scope")
        && scope.parse::<Scope>().is_err()
    {
        return Err(OAuthError::new(OAuthErrorKind::InvalidScope, "The scope is malformed."));
    }

    let keys = oauth.keys.snapshot();
    let mut endpoint = ClientCredentialsEndpoint {
        registrar: ClientRegistrar {
            client: client.as_deref(),
            oauth,
            verified_secret: verified_secret.as_deref(),
            rejection: Cell::new(None),
        },
        issuer: JwtIssuer {
            oauth,
            keys: &keys,
            client: client.as_deref(),
            organization_id: client.as_ref().and_then(|c| c.organization_id.clone()),
            issued: None,
        },
        no_extension: (),
    };
    let request = ClientCredentialsRequest { params, basic: basic.as_ref() };
    let result = cc::client_credentials(&mut endpoint, &request).and_then(|pending| {
        let owner = client_id.clone();
        pending.issue(&mut endpoint, owner, false)
    });
    match result {
        Ok(_) => {
            crate::metrics::token_issued(CLIENT_CREDENTIALS);
            let (_, issued) =
                endpoint.issuer.issued.take().ok_or_else(|| OAuthError::server_error("issuer kept no token"))?;
            let mut response = HttpResponse::Ok().json(issued);
            no_store(&mut response);
            Ok(response)
        }
        Err(error) => Err(flow_error(error, &endpoint.registrar, used_basic)),
    }
}

/// Signs an access token of `client` for `subject` with `scope`, living the client's
/// `access_token_ttl`; its claims and the RFC 6749 §5.1 body.
pub(crate) fn mint_access_token(
    oauth: &OAuth,
    keys: &KeySnapshot,
    client: &Client,
    subject: String,
    scope: &str,
    organization_id: Option<String>,
) -> Result<(AccessTokenClaims, TokenResponse), jwt::SignError> {
    let identity = AccessTokenIdentity::new(client);
    let claims = identity.claims(oauth, client, subject, scope, organization_id);
    let response = sign_access_token(keys, &claims)?;
    Ok((claims, response))
}

/// The `jti` and times of an access token, chosen before the token itself when they must be
/// stored first (the refresh grant records the `jti` together with the new refresh token).
pub(crate) struct AccessTokenIdentity {
    pub jti: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl AccessTokenIdentity {
    pub fn new(client: &Client) -> Self {
        let issued_at = Utc::now().timestamp();
        AccessTokenIdentity {
            jti: ulid::Ulid::new().to_string(),
            issued_at,
            expires_at: issued_at + i64::from(client.access_token_ttl),
        }
    }

    pub fn claims(
        self,
        oauth: &OAuth,
        client: &Client,
        subject: String,
        scope: &str,
        organization_id: Option<String>,
    ) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: oauth.settings.issuer.clone(),
            sub: subject,
            aud: oauth.settings.audience.clone(),
            exp: self.expires_at,
            iat: self.issued_at,
            jti: self.jti,
            client_id: client.id.clone(),
            scope: scope.to_owned(),
            tid: client.tenant_id.clone(),
            org_id: organization_id,
        }
    }
}

/// The RFC 6749 §5.1 body carrying `claims`, signed.
pub(crate) fn sign_access_token(
    keys: &KeySnapshot,
    claims: &AccessTokenClaims,
) -> Result<TokenResponse, jwt::SignError> {
    Ok(TokenResponse {
        access_token: jwt::sign(keys, claims)?,
        token_type: "Bearer",
        expires_in: claims.exp - claims.iat,
        scope: claims.scope.clone(),
        refresh_token: None,
    })
}

/// SPEC §3: the scope a client gets: what it asked for if that is a subset of its scopes, all
/// of its scopes if it asked for none, `None` if it asked for more.
pub fn allowed_scope(client: &Client, requested: Option<Scope>) -> Option<Scope> {
    let allowed = client.scopes.join(" ").parse::<Scope>().ok()?;
    match requested {
        Some(requested) if requested.iter().next().is_some() => allowed.priviledged_to(&requested).then_some(requested),
        _ => Some(allowed),
    }
}

/// Maps oxide-auth's outcome to RFC 6749 §5.2 (its own mapping makes everything a 500).
fn flow_error(error: cc::Error, registrar: &ClientRegistrar, used_basic: bool) -> OAuthError {
    match error {
        cc::Error::Unauthorized(..) => OAuthError::invalid_client(used_basic),
        cc::Error::Invalid(mut description) => match description.description().kind() {
            AccessTokenErrorType::UnsupportedGrantType => {
                OAuthError::new(OAuthErrorKind::UnsupportedGrantType, "Unsupported grant type.")
            }
            _ => OAuthError::invalid_request(
                "The request is missing a parameter or offers more than one client credential.",
            ),
        },
        cc::Error::Ignore => registrar
            .rejection
            .take()
            .unwrap_or_else(|| OAuthError::server_error("client credentials flow ignored the request")),
        cc::Error::Primitive(_) => OAuthError::server_error("client credentials flow primitive failed"),
    }
}

struct ClientCredentialsRequest<'a> {
    params: &'a TokenParams,
    basic: Option<&'a BasicCredentials>,
}

impl cc::Request for ClientCredentialsRequest<'_> {
    fn valid(&self) -> bool {
        true
    }

    fn authorization(&self) -> Option<(Cow<'_, str>, Cow<'_, [u8]>)> {
        self.basic.map(|b| (Cow::Borrowed(b.client_id.as_str()), Cow::Borrowed(b.secret.as_bytes())))
    }

    fn scope(&self) -> Option<Cow<'_, str>> {
        self.params.get("scope").map(Cow::Borrowed)
    }

    fn grant_type(&self) -> Option<Cow<'_, str>> {
        self.params.get("grant_type").map(Cow::Borrowed)
    }

    fn extension(&self, key: &str) -> Option<Cow<'_, str>> {
        // With Basic, a client_id repeated in the body (already checked equal) is not a second credential.
        if self.basic.is_some() && key == "client_id" {
            return None;
        }
        self.params.get(key).map(Cow::Borrowed)
    }

    fn allow_credentials_in_body(&self) -> bool {
        true // client_secret_post, SPEC §3
    }
}

struct ClientCredentialsEndpoint<'a> {
    registrar: ClientRegistrar<'a>,
    issuer: JwtIssuer<'a>,
    no_extension: (),
}

impl cc::Endpoint for ClientCredentialsEndpoint<'_> {
    fn registrar(&self) -> &dyn Registrar {
        &self.registrar
    }

    fn issuer(&mut self) -> &mut dyn Issuer {
        &mut self.issuer
    }

    fn extension(&mut self) -> &mut dyn cc::Extension {
        &mut self.no_extension
    }
}

/// A registrar that knows the one client of this request, already loaded from storage.
struct ClientRegistrar<'a> {
    client: Option<&'a Client>,
    oauth: &'a OAuth,
    /// A secret of this request already checked against this client (by the same rule).
    verified_secret: Option<&'a str>,
    /// Why a later step refused: oxide-auth reports such refusals only as "ignore".
    rejection: Cell<Option<OAuthError>>,
}

impl ClientRegistrar<'_> {
    fn refuse(&self, kind: OAuthErrorKind, description: &str) -> RegistrarError {
        self.rejection.set(Some(OAuthError::new(kind, description)));
        RegistrarError::Unspecified
    }
}

impl Registrar for ClientRegistrar<'_> {
    fn bound_redirect<'b>(&self, bound: ClientUrl<'b>) -> Result<BoundClient<'b>, RegistrarError> {
        let client = self.client.ok_or(RegistrarError::Unspecified)?;
        if !client.allows_grant(CLIENT_CREDENTIALS) {
            return Err(self.refuse(
                OAuthErrorKind::UnauthorizedClient,
                "This client is not allowed the client_credentials grant.",
            ));
        }
        // Client credentials redirect nowhere; oxide-auth still wants a URL in the grant.
        Ok(BoundClient {
            client_id: bound.client_id,
            redirect_uri: Cow::Owned(RegisteredUrl::Semantic(self.oauth.issuer_url.clone())),
        })
    }

    fn negotiate(&self, bound: BoundClient, requested: Option<Scope>) -> Result<PreGrant, RegistrarError> {
        let client = self.client.ok_or(RegistrarError::Unspecified)?;
        let scope = allowed_scope(client, requested).ok_or_else(|| {
            self.refuse(OAuthErrorKind::InvalidScope, "The requested scope exceeds the scopes allowed for this client.")
        })?;
        Ok(PreGrant { client_id: bound.client_id.into_owned(), redirect_uri: bound.redirect_uri.into_owned(), scope })
    }

    fn check(&self, client_id: &str, passphrase: Option<&[u8]>) -> Result<(), RegistrarError> {
        // RFC 6749 §4.4: client credentials are for confidential clients only.
        let client = self.client.filter(|c| c.id == client_id).ok_or(RegistrarError::Unspecified)?;
        match passphrase.map(std::str::from_utf8) {
            Some(Ok(secret)) if self.verified_secret == Some(secret) => Ok(()),
            Some(Ok(secret)) if client_authenticates(self.oauth, client, Some(secret), false) => Ok(()),
            _ => Err(RegistrarError::Unspecified),
        }
    }
}

/// Issues RFC 9068 JWTs; keeps what it issued for our own response body.
pub(crate) struct JwtIssuer<'a> {
    pub(crate) oauth: &'a OAuth,
    pub(crate) keys: &'a KeySnapshot,
    pub(crate) client: Option<&'a Client>,
    /// `org_id` of the token: the client's, or the user's for user tokens.
    pub(crate) organization_id: Option<String>,
    /// The claims of the last token issued, and the response body for it.
    pub(crate) issued: Option<(AccessTokenClaims, TokenResponse)>,
}

impl Issuer for JwtIssuer<'_> {
    fn issue(&mut self, grant: Grant) -> Result<IssuedToken, ()> {
        let client = self.client.ok_or(())?;
        let mut scopes: Vec<&str> = grant.scope.iter().collect();
        scopes.sort_unstable();
        let (claims, response) = mint_access_token(
            self.oauth,
            self.keys,
            client,
            grant.owner_id,
            &scopes.join(" "),
            self.organization_id.clone(),
        )
        .map_err(|err| tracing::error!(error = %err, "signing failed"))?;
        let token = IssuedToken {
            token: response.access_token.clone(),
            refresh: None,
            until: chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default(),
            token_type: TokenType::Bearer,
        };
        self.issued = Some((claims, response));
        Ok(token)
    }

    fn refresh(&mut self, _refresh: &str, _grant: Grant) -> Result<RefreshedToken, ()> {
        Err(())
    }

    fn recover_token(&self, _token: &str) -> Result<Option<Grant>, ()> {
        Err(())
    }

    fn recover_refresh(&self, _token: &str) -> Result<Option<Grant>, ()> {
        Err(())
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    /// Secrets never reach a log line through `{:?}`.
    #[test]
    fn debug_output_holds_no_secret() {
        let basic = BasicCredentials { client_id: "client_a".into(), secret: "cs_the-secret".into() };
        let params = TokenParams(HashMap::from([("client_secret".to_owned(), "cs_the-secret".to_owned())]));
        let response = TokenResponse {
            access_token: "eyJ.the-token".into(),
            token_type: "Bearer",
            expires_in: 60,
            scope: "profile".into(),
            refresh_token: Some("rt_the-refresh".into()),
        };
        for printed in [format!("{basic:?}"), format!("{params:?}"), format!("{response:?}")] {
            assert!(
                !printed.contains("the-secret") && !printed.contains("the-token") && !printed.contains("the-refresh")
            );
        }
        assert!(format!("{basic:?}").contains("client_a") && format!("{params:?}").contains("client_secret"));
    }
}
