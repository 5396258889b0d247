//! `POST /oauth/token` (RFC 6749 §3.2, §5): the endpoint and nothing else. It limits the
//! caller's address, parses the request, authenticates the client once, limits the client,
//! and hands both to the grant; each grant lives in `crate::grants`.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use tollbooth_http::client_address::rate_limit_address;
use tollbooth_http::rate_limit_headers;
use tollbooth_storage::clients::Client;
use tollbooth_storage::rate_limit::{Budget, Verdict};

use crate::client_auth::{self, PublicClients};
use crate::error::{OAuthError, OAuthErrorKind, no_store};
use crate::grants::{self, GrantType, authorization_code, client_credentials, refresh_token};
use crate::issue::TokenResponse;
use crate::request::{FormBody, TokenParams};
use crate::state::OAuth;

/// The token request (RFC 6749 §4.1.3, §4.4.2, §6), as a form or JSON body, for the OpenAPI
/// document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// `client_credentials`, `authorization_code` or `refresh_token`.
    grant_type: String,
    /// Space-separated; a subset of the client's scopes (or of the original grant's, on
    /// refresh). Default: all of them.
    scope: Option<String>,
    /// `client_secret_post` and public clients; with `client_secret_basic` the id is in the
    /// Basic header.
    client_id: Option<String>,
    client_secret: Option<String>,
    /// `authorization_code`: the code, the redirect URI it was issued for, and the PKCE verifier.
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    /// `refresh_token`.
    refresh_token: Option<String>,
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
        Ok(issued) => {
            let mut response = HttpResponse::Ok().json(issued);
            no_store(&mut response);
            response
        }
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
) -> Result<TokenResponse, OAuthError> {
    let address = rate_limit_address(request);
    if let Some(limiter) = &oauth.rate_limiter {
        *verdict = limiter.count(Budget::OAuthAddress(&address)).await;
        refuse_when_full(verdict)?;
    }
    let params = TokenParams::parse(request, body)?;
    let grant_type = match params.get("grant_type") {
        None => return Err(OAuthError::invalid_request("The parameter `grant_type` is required.")),
        Some(name) => GrantType::parse(name).ok_or_else(|| {
            OAuthError::new(
                OAuthErrorKind::UnsupportedGrantType,
                format!("Supported grant types: {}.", grants::supported().join(", ")),
            )
        })?,
    };
    let client = client_auth::authenticate(oauth, request, &params, PublicClients::Allowed).await?;
    if let Some(limiter) = &oauth.rate_limiter {
        let budget = Budget::Client { client_id: &client.id, confidential: client.confidential, address: &address };
        let by_client = limiter.count(budget).await;
        *verdict = std::mem::replace(verdict, Verdict { allowed: true, windows: Vec::new() }).and(by_client);
        refuse_when_full(verdict)?;
    }
    let issued = grant(oauth, grant_type, client, params).await?;
    crate::metrics::token_issued(grant_type.name());
    Ok(issued)
}

fn refuse_when_full(verdict: &Verdict) -> Result<(), OAuthError> {
    if verdict.allowed {
        Ok(())
    } else {
        Err(OAuthError::rate_limited(verdict.retry_after(rate_limit_headers::unix_now())))
    }
}

/// Runs the grant; those that use the database run on its blocking threads.
async fn grant(
    oauth: &web::Data<OAuth>,
    grant_type: GrantType,
    client: Arc<Client>,
    params: TokenParams,
) -> Result<TokenResponse, OAuthError> {
    let keys = oauth.keys.snapshot();
    match grant_type {
        GrantType::ClientCredentials => {
            client_credentials::grant(&oauth.token_issuer(&keys), &client, params.get("scope"))
        }
        GrantType::AuthorizationCode => {
            let oauth = web::Data::clone(oauth);
            oauth
                .db
                .clone()
                .run(move |conn| {
                    let request = authorization_code::CodeRequest {
                        code: params.get("code"),
                        redirect_uri: params.get("redirect_uri"),
                        code_verifier: params.get("code_verifier"),
                    };
                    authorization_code::grant(&oauth.token_issuer(&keys), &oauth.revocations, conn, &client, &request)
                })
                .await
        }
        GrantType::RefreshToken => {
            let oauth = web::Data::clone(oauth);
            oauth
                .db
                .clone()
                .run(move |conn| {
                    let request = refresh_token::RefreshRequest {
                        refresh_token: params.get("refresh_token"),
                        scope: params.get("scope"),
                    };
                    refresh_token::grant(&oauth.token_issuer(&keys), &oauth.revocations, conn, &client, &request)
                })
                .await
        }
    }
}
