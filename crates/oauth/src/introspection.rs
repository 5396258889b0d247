//! `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009), both for
//! authenticated clients.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use std::sync::Arc;

use tollbooth_storage::clients::Client;
use tollbooth_storage::refresh_tokens::{self, RefreshToken};
use tollbooth_storage::{StorageError, in_transaction};

use crate::client_auth::{self, PublicClients};
use crate::error::{OAuthError, no_store};
use crate::jwt::{AccessTokenClaims, TokenRejection};
use crate::limits::Limits;
use crate::request::{FormBody, TokenParams};
use crate::state::OAuth;

/// RFC 7662 §2.2: an active token's metadata; an inactive one is only `{"active": false}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Introspection {
    active: bool,
    #[serde(flatten)]
    #[schema(value_type = Option<Object>)]
    claims: Option<AccessTokenClaims>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
}

/// The RFC 7662/7009 request: the token and an optional hint of its type.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenReference {
    token: String,
    /// `access_token` or `refresh_token`; a hint only.
    token_type_hint: Option<String>,
}

/// The claims of `token` if it is one of our access tokens, unexpired, unrevoked, and of the
/// caller's tenant: what introspection may disclose and revocation may revoke.
async fn active_claims(oauth: &OAuth, token: &str, tenant_id: &str) -> Result<Option<AccessTokenClaims>, OAuthError> {
    match oauth.verify_access_token(token).await {
        Ok(claims) if claims.tid == tenant_id => Ok(Some(claims)),
        Err(TokenRejection::Unavailable) => {
            Err(OAuthError::temporarily_unavailable("revocations could not be checked"))
        }
        _ => Ok(None),
    }
}

/// The live refresh token with this secret, if it belongs to `tenant_id`.
async fn live_refresh_token(oauth: &OAuth, token: &str, tenant_id: &str) -> Result<Option<RefreshToken>, StorageError> {
    let hash = oauth.hasher.hash(token);
    let row = oauth.db.run(move |conn| refresh_tokens::find(conn, &hash)).await?;
    let now = tollbooth_storage::now();
    Ok(row.filter(|r| r.tenant_id == tenant_id && r.is_live(now)))
}

/// Revokes the family of the refresh token `token` if it belongs to `client` (RFC 7009 §2.1),
/// with the access tokens issued with it. Returns whether a token was found.
async fn revoke_family_of(oauth: &OAuth, token: &str, client: &Client) -> Result<bool, StorageError> {
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

/// The request's parameters and its client, counted as `crate::limits` describes.
async fn authenticated_client(
    request: &HttpRequest,
    body: &[u8],
    oauth: &OAuth,
    limits: &mut Limits,
    public: PublicClients,
) -> Result<(TokenParams, Arc<Client>), OAuthError> {
    limits.count_address(oauth, request).await?;
    let params = TokenParams::parse(request, body)?;
    let client = client_auth::authenticate(oauth, request, &params, public).await?;
    limits.count_client(oauth, request, &client).await?;
    Ok((params, client))
}

fn token_of(params: &TokenParams) -> Result<&str, OAuthError> {
    params.get("token").ok_or_else(|| OAuthError::invalid_request("The parameter `token` is required."))
}

#[utoipa::path(post, path = "/oauth/introspect", operation_id = "introspectToken", tag = "oauth",
    request_body(content = TokenReference, content_type = "application/x-www-form-urlencoded"),
    security(("client_secret_basic" = [])),
    responses(
        (status = 200, description = "RFC 7662 answer; `{\"active\": false}` for anything unknown, expired, revoked or of another tenant", body = Introspection),
        (status = 400, description = "invalid_request", body = crate::error::OAuthErrorBody),
        (status = 401, description = "invalid_client", body = crate::error::OAuthErrorBody),
    ))]
pub async fn introspect(request: HttpRequest, FormBody(body): FormBody, oauth: web::Data<OAuth>) -> HttpResponse {
    let mut limits = Limits::default();
    let result = introspected(&request, &body, &oauth, &mut limits).await;
    limits.answer(result)
}

async fn introspected(
    request: &HttpRequest,
    body: &[u8],
    oauth: &OAuth,
    limits: &mut Limits,
) -> Result<HttpResponse, OAuthError> {
    let (params, client) = authenticated_client(request, body, oauth, limits, PublicClients::Refused).await?;
    let token = token_of(&params)?;
    let answer = match active_claims(oauth, token, &client.tenant_id).await? {
        Some(claims) => {
            serde_json::to_value(Introspection { active: true, claims: Some(claims), token_type: Some("Bearer") })
        }
        None => match live_refresh_token(oauth, token, &client.tenant_id).await? {
            Some(refresh) => Ok(serde_json::json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": refresh.scope,
                "client_id": refresh.client_id,
                "sub": refresh.user_id,
                "tid": refresh.tenant_id,
                "iss": oauth.settings.issuer.as_str(),
                "iat": refresh.created_at.and_utc().timestamp(),
                "exp": refresh.expires_at.and_utc().timestamp(),
            })),
            None => Ok(serde_json::json!({ "active": false })),
        },
    }
    .map_err(OAuthError::server_error)?;
    let mut response = HttpResponse::Ok().json(answer);
    no_store(&mut response);
    Ok(response)
}

#[utoipa::path(post, path = "/oauth/revoke", operation_id = "revokeToken", tag = "oauth",
    request_body(content = TokenReference, content_type = "application/x-www-form-urlencoded"),
    security(("client_secret_basic" = []), ()),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke (RFC 7009 §2.2: unknown tokens are not an error)"),
        (status = 400, description = "invalid_request", body = crate::error::OAuthErrorBody),
        (status = 401, description = "invalid_client", body = crate::error::OAuthErrorBody),
    ))]
pub async fn revoke(request: HttpRequest, FormBody(body): FormBody, oauth: web::Data<OAuth>) -> HttpResponse {
    let mut limits = Limits::default();
    let result = revoked(&request, &body, &oauth, &mut limits).await;
    limits.answer(result)
}

async fn revoked(
    request: &HttpRequest,
    body: &[u8],
    oauth: &OAuth,
    limits: &mut Limits,
) -> Result<HttpResponse, OAuthError> {
    let (params, client) = authenticated_client(request, body, oauth, limits, PublicClients::Allowed).await?;
    let token = token_of(&params)?;
    // RFC 7009 §2.1: a client revokes only tokens issued to it. The hint is only a hint: an
    // access token is a JWT, a refresh token is not, and both are tried. Revoking a refresh
    // token revokes its family and the access tokens issued with it.
    let revoked = match active_claims(oauth, token, &client.tenant_id).await? {
        Some(claims) if claims.client_id == client.id => {
            oauth.revocations.revoke(&claims.jti, &claims.tid, claims.exp).await?;
            Some("access_token")
        }
        Some(_) => None,
        None => revoke_family_of(oauth, token, &client).await?.then_some("refresh_token"),
    };
    if let Some(token_type) = revoked {
        tracing::info!(client_id = %client.id, token_type, "token revoked");
        // Audited like every revocation, naming the revoked token's client (its own).
        let mut metadata = serde_json::Map::new();
        metadata.insert("token_type".into(), token_type.into());
        let ip = Some(tollbooth_http::client_address::client_address(request));
        let (tenant, id) = (Some(client.tenant_id.as_str()), Some(client.id.as_str()));
        let event = tollbooth_storage::audit::AuditEvent::new(tenant, id, "token.revoked", id, ip, metadata);
        oauth.db.run(move |conn| tollbooth_storage::audit::record(conn, &event)).await?;
    }
    let mut response = HttpResponse::Ok().finish();
    no_store(&mut response);
    Ok(response)
}
