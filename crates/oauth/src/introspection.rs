//! `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009), both for
//! authenticated clients.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::OAuth;
use crate::body::FormBody;
use crate::client_auth::authenticate_client;
use crate::error::{OAuthError, no_store};
use crate::jwt::{AccessTokenClaims, TokenRejection};
use crate::token::{TokenParams, client_budget};
use std::sync::Arc;
use tollbooth_storage::clients::Client;
use tollbooth_storage::rate_limit::{Verdict, named};

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
        Err(TokenRejection::Unavailable) => Err(OAuthError::server_error("revocations could not be checked")),
        _ => Ok(None),
    }
}

/// The client of an introspection or revocation request, counted like the token endpoint
/// counts (docs/security.md, "Bounds"): every request per address, failed authentications
/// included; then the client's budget once it authenticated.
async fn limited_client(
    oauth: &OAuth,
    request: &HttpRequest,
    params: &TokenParams,
    allow_public: bool,
) -> Result<Arc<Client>, OAuthError> {
    let address = crate::client_address::rate_limit_address(request);
    let refused =
        |verdict: Verdict| OAuthError::rate_limited(verdict.retry_after(chrono::Utc::now().timestamp().max(0) as u64));
    if let Some(limiter) = &oauth.rate_limiter {
        let verdict = limiter.check(&format!("ip:{address}"), &named("ip", &limiter.rules().token_per_ip)).await;
        if !verdict.allowed {
            return Err(refused(verdict));
        }
    }
    let client = authenticate_client(oauth, request, params, allow_public).await?;
    if let Some(limiter) = &oauth.rate_limiter {
        let windows = named("client", &limiter.rules().token_per_client);
        let verdict = limiter.check(&client_budget(&client, &address), &windows).await;
        if !verdict.allowed {
            return Err(refused(verdict));
        }
    }
    Ok(client)
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
pub async fn introspect(
    request: HttpRequest,
    FormBody(body): FormBody,
    oauth: web::Data<OAuth>,
) -> Result<HttpResponse, OAuthError> {
    let params = TokenParams::parse(&request, &body)?;
    let client = limited_client(&oauth, &request, &params, false).await?;
    let token = token_of(&params)?;
    let answer = match active_claims(&oauth, token, &client.tenant_id).await? {
        Some(claims) => {
            serde_json::to_value(Introspection { active: true, claims: Some(claims), token_type: Some("Bearer") })
        }
        None => match crate::refresh::live_refresh_token(&oauth, token, &client.tenant_id).await? {
            Some(refresh) => Ok(serde_json::json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": refresh.scope,
                "client_id": refresh.client_id,
                "sub": refresh.user_id,
                "tid": refresh.tenant_id,
                "iss": oauth.settings.issuer,
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
pub async fn revoke(
    request: HttpRequest,
    FormBody(body): FormBody,
    oauth: web::Data<OAuth>,
) -> Result<HttpResponse, OAuthError> {
    let params = TokenParams::parse(&request, &body)?;
    let client = limited_client(&oauth, &request, &params, true).await?;
    let token = token_of(&params)?;
    // RFC 7009 §2.1: a client revokes only tokens issued to it. The hint is only a hint: an
    // access token is a JWT, a refresh token is not, and both are tried. Revoking a refresh
    // token revokes its family and the access tokens issued with it.
    let revoked = match active_claims(&oauth, token, &client.tenant_id).await? {
        Some(claims) if claims.client_id == client.id => {
            oauth.revocations.revoke(&claims.jti, &claims.tid, claims.exp).await?;
            Some("access_token")
        }
        Some(_) => None,
        None => crate::refresh::revoke_family_of(&oauth, token, &client).await?.then_some("refresh_token"),
    };
    if let Some(token_type) = revoked {
        tracing::info!(client_id = %client.id, token_type, "token revoked");
        // Audited like every revocation, naming the revoked token's client (its own).
        let mut metadata = serde_json::Map::new();
        metadata.insert("token_type".into(), token_type.into());
        let ip = Some(crate::client_address::client_address(&request));
        let (tenant, id) = (Some(client.tenant_id.as_str()), Some(client.id.as_str()));
        let event = tollbooth_storage::audit::AuditEvent::new(tenant, id, "token.revoked", id, ip, metadata);
        oauth.db.run(move |conn| tollbooth_storage::audit::record(conn, &event)).await?;
    }
    let mut response = HttpResponse::Ok().finish();
    no_store(&mut response);
    Ok(response)
}
