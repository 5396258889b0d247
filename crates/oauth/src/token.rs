//! `POST /oauth/token` (RFC 6749 §3.2, §5): the endpoint and nothing else. It limits the
//! caller's address, parses the request, authenticates the client once, limits the client,
//! and hands both to the grant; each grant lives in `crate::grants`, the limits in
//! `crate::limits`.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use tollbooth_storage::DbConnection;
use tollbooth_storage::clients::Client;
use tollbooth_storage::resources::Resource;

use crate::client_auth::{self, PublicClients};
use crate::error::{OAuthError, OAuthErrorKind, no_store};
use crate::grants::{self, GrantType, authorization_code, client_credentials, refresh_token};
use crate::issue::{TokenIssuer, TokenResponse};
use crate::keys::KeySnapshot;
use crate::limits::Limits;
use crate::request::{FormBody, TokenParams};
use crate::revocations::Revocations;
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
    /// RFC 8707: the identifier of the API the token is for (docs/oauth.md, "Audiences").
    resource: Option<String>,
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
    let mut limits = Limits::default();
    let result = issue_token(&request, &body, &oauth, &mut limits).await.map(|issued| {
        let mut response = HttpResponse::Ok().json(issued);
        no_store(&mut response);
        response
    });
    limits.answer(result)
}

/// Limit, parse, authenticate once, limit, dispatch (crate::limits says how requests count).
async fn issue_token(
    request: &HttpRequest,
    body: &[u8],
    oauth: &web::Data<OAuth>,
    limits: &mut Limits,
) -> Result<TokenResponse, OAuthError> {
    limits.count_address(oauth, request).await?;
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
    limits.count_client(oauth, request, &client).await?;
    let issued = grant(oauth, grant_type, client, params).await?;
    crate::metrics::token_issued(grant_type.name());
    Ok(issued)
}

/// Runs the grant; those that use the database run on its blocking threads.
async fn grant(
    oauth: &web::Data<OAuth>,
    grant_type: GrantType,
    client: Arc<Client>,
    params: TokenParams,
) -> Result<TokenResponse, OAuthError> {
    let keys = oauth.keys.snapshot();
    let resources = oauth.resources.of_tenant(&client.tenant_id).await?;
    match grant_type {
        GrantType::ClientCredentials => {
            let request = client_credentials::ClientCredentialsRequest {
                scope: params.get("scope"),
                resource: params.get("resource"),
            };
            client_credentials::grant(&oauth.token_issuer(&keys, &resources), &client, &request)
        }
        GrantType::AuthorizationCode => {
            in_database(oauth, keys, resources, move |issuer, revocations, conn| {
                let request = authorization_code::CodeRequest {
                    code: params.get("code"),
                    redirect_uri: params.get("redirect_uri"),
                    code_verifier: params.get("code_verifier"),
                    resource: params.get("resource"),
                };
                authorization_code::grant(issuer, revocations, conn, &client, &request)
            })
            .await
        }
        GrantType::RefreshToken => {
            in_database(oauth, keys, resources, move |issuer, revocations, conn| {
                let request = refresh_token::RefreshRequest {
                    refresh_token: params.get("refresh_token"),
                    scope: params.get("scope"),
                    resource: params.get("resource"),
                };
                refresh_token::grant(issuer, revocations, conn, &client, &request)
            })
            .await
        }
    }
}

/// Runs a grant that needs the database on one of its connections.
async fn in_database(
    oauth: &web::Data<OAuth>,
    keys: Arc<KeySnapshot>,
    resources: Arc<Vec<Resource>>,
    grant: impl FnOnce(&TokenIssuer, &Revocations, &mut DbConnection) -> Result<TokenResponse, OAuthError> + Send + 'static,
) -> Result<TokenResponse, OAuthError> {
    let oauth = web::Data::clone(oauth);
    oauth.db.clone().run(move |conn| grant(&oauth.token_issuer(&keys, &resources), &oauth.revocations, conn)).await
}
