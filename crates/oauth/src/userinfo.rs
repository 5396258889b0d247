//! `GET`/`POST /oauth/userinfo` (OpenID Connect Core §5.3): the claims about the signed-in user
//! that the access token's scopes release, for a token of this server holding `openid`, whatever
//! its audience. Refusals are RFC 6750 §3 errors with a Bearer challenge.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tollbooth_http::bearer;
use tollbooth_storage::ids::{self, Id};
use tollbooth_storage::values::ScopeSet;
use tollbooth_storage::{Reach, StorageError, users};

use crate::error::{OAuthError, OAuthErrorKind};
use crate::jwt::TokenRejection;
use crate::limits::Limits;
use crate::oidc::{self, UserClaims};
use crate::request::{FormBody, TokenParams};
use crate::state::OAuth;

#[utoipa::path(get, path = "/oauth/userinfo", operation_id = "getUserInfo", tag = "oauth",
    responses(
        (status = 200, description = "The user's claims that the token's scopes release (`sub`; `email`, `email_verified` with `email`; `name` with `profile`)", content_type = "application/json", body = Object),
        (status = 401, description = "invalid_token, with `WWW-Authenticate: Bearer`", body = crate::error::OAuthErrorBody),
        (status = 403, description = "insufficient_scope: the token does not hold `openid`", body = crate::error::OAuthErrorBody),
    ))]
pub async fn userinfo(request: HttpRequest, oauth: web::Data<OAuth>) -> HttpResponse {
    answer(&request, None, &oauth).await
}

/// The same, with the token in the `Authorization` header or as the form field `access_token`
/// (RFC 6750 §2.2).
#[utoipa::path(post, path = "/oauth/userinfo", operation_id = "postUserInfo", tag = "oauth",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Optionally `access_token`, if not in the `Authorization` header"),
    responses(
        (status = 200, description = "The user's claims", content_type = "application/json", body = Object),
        (status = 401, description = "invalid_token, with `WWW-Authenticate: Bearer`", body = crate::error::OAuthErrorBody),
        (status = 403, description = "insufficient_scope", body = crate::error::OAuthErrorBody),
    ))]
pub async fn userinfo_form(
    request: HttpRequest,
    body: Result<FormBody, OAuthError>,
    oauth: web::Data<OAuth>,
) -> HttpResponse {
    answer(&request, Some(body), &oauth).await
}

async fn answer(request: &HttpRequest, body: Option<Result<FormBody, OAuthError>>, oauth: &OAuth) -> HttpResponse {
    let mut limits = Limits::default();
    let result = match limits.count_address(oauth, request).await {
        Ok(()) => claims(request, body, oauth).await,
        Err(refusal) => Err(refusal),
    };
    limits
        .answer(result.map(|claims| HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(claims)))
}

/// The request's bearer token: in the `Authorization` header or the form, never both (RFC 6750 §2).
fn bearer_token(request: &HttpRequest, form: Option<&TokenParams>) -> Result<String, OAuthError> {
    let from_header = match request.headers().get(header::AUTHORIZATION) {
        Some(value) => match value.to_str().ok().and_then(bearer::token_of) {
            Some(token) => Some(token.to_owned()),
            None => {
                let description = "The Authorization header is not a Bearer token.";
                return Err(OAuthError::bearer(OAuthErrorKind::InvalidRequest, description));
            }
        },
        None => None,
    };
    let from_form = form.and_then(|params| params.get("access_token")).map(str::to_owned);
    match (from_header, from_form) {
        (Some(_), Some(_)) => {
            Err(OAuthError::bearer(OAuthErrorKind::InvalidRequest, "Send the token in one place, not two."))
        }
        (Some(token), None) | (None, Some(token)) => Ok(token),
        (None, None) => Err(OAuthError::no_bearer_token()),
    }
}

async fn claims(
    request: &HttpRequest,
    body: Option<Result<FormBody, OAuthError>>,
    oauth: &OAuth,
) -> Result<UserClaims, OAuthError> {
    let form = match body {
        Some(body) => match body?.0 {
            // A POST with the token in its header need not have a body.
            empty if empty.is_empty() => None,
            form => Some(TokenParams::parse(request, &form)?),
        },
        None => None,
    };
    let token = bearer_token(request, form.as_ref())?;
    let claims = oauth.verify_access_token(&token).await.map_err(|rejection| match rejection {
        TokenRejection::Unavailable => OAuthError::temporarily_unavailable("revocations could not be checked"),
        TokenRejection::Expired => OAuthError::bearer(OAuthErrorKind::InvalidToken, "The access token has expired."),
        _ => OAuthError::bearer(OAuthErrorKind::InvalidToken, "The access token is not valid."),
    })?;
    let scope = ScopeSet::parse(&claims.scope).map_err(|_| OAuthError::server_error("issued scope is malformed"))?;
    if !scope.contains(oidc::OPENID) {
        return Err(OAuthError::bearer(OAuthErrorKind::InsufficientScope, "The access token does not hold `openid`."));
    }
    // A client's own token (client credentials) names no user.
    let not_a_user = || OAuthError::bearer(OAuthErrorKind::InvalidToken, "The access token is not a user's.");
    let user_id = Id::<ids::User>::parse(&claims.sub).ok_or_else(not_a_user)?;
    let reach = Reach { tenant_id: claims.tid.clone(), organization_id: None };
    match oauth.db.run(move |conn| users::get(conn, &reach, user_id.as_str())).await {
        Ok(user) => Ok(UserClaims::of((&user).into(), &scope)),
        Err(StorageError::NotFound) => Err(not_a_user()),
        Err(err) => Err(err.into()),
    }
}
