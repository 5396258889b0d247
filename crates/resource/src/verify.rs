//! Forward authentication (docs/protect-your-api.md): whether a credential presented to one of
//! a tenant's own APIs is good for it, who it is, and whether its plan allows the call. One
//! function answers `GET /verify` (for nginx `auth_request`, Caddy `forward_auth`, Traefik
//! ForwardAuth and Envoy's ext_authz) and `POST /api/v1/verify` (for code).
//!
//! A key or a token seen in the last second costs no database round trip (the API key cache,
//! the signing keys and the revocation cache), and the plan is one atomic counter check.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::{Deserialize, Serialize};
use tollbooth_http::methods::is_write;
use tollbooth_http::rate_limit_headers::{self, unix_now};
use tollbooth_storage::Reach;
use tollbooth_storage::rate_limit::{Budget, Verdict};
use utoipa::ToSchema;

use crate::auth::{Credential, Principal, by_access_token, by_api_key, looks_like_jwt, presented_credential};
use crate::error::{ApiError, ApiErrorKind, FieldError};
use crate::extract::{ApiJson, query_pairs};
use crate::state::ManagementApi;

/// A credential good for the API it was presented to.
#[derive(Debug)]
pub struct Verified {
    pub tenant_id: String,
    pub organization_id: Option<String>,
    /// The API key's id, or the token's subject (a user, or the client of a client-credentials
    /// token).
    pub subject: String,
    /// The scopes of this API that the credential holds.
    pub scopes: Vec<String>,
    /// The call as counted against the plan; `None` when rate limiting is off.
    pub verdict: Option<Verdict>,
}

/// Why a credential is refused: the answer's status says it to a proxy.
#[derive(Debug)]
pub enum Refusal {
    /// 503 while the database is away (the key lookup, the revocation check), 500 when
    /// something else of ours failed; nothing is counted either way.
    Failed(ApiError),
    /// 401: missing, invalid, expired, revoked, or for another API.
    Unauthenticated(ApiError),
    /// 403: the credential lacks the scope the proxy asked for.
    InsufficientScope(ApiError),
    /// 429: the caller's plan is spent; the counts say until when.
    RateLimited(Verdict),
}

/// What is asked: the credential, the API (its identifier, the `aud` of its tokens), the scope
/// the call needs if any, whether the call writes (it then counts in the write windows), and,
/// for a caller that may ask only about credentials within its reach, that reach.
pub struct Question<'a> {
    pub credential: Option<&'a str>,
    pub resource: &'a str,
    pub scope: Option<&'a str>,
    pub write: bool,
    pub within: Option<&'a Reach>,
}

/// Answers `question`: the one function under both endpoints.
pub async fn verify(api: &ManagementApi, question: Question<'_>) -> Result<Verified, Refusal> {
    let credential = question.credential.ok_or_else(|| Refusal::Unauthenticated(ApiError::missing_api_key()))?;
    let (principal, own_limit) = match looks_like_jwt(credential) {
        true => by_access_token(api, credential, question.resource).await.map(|principal| (principal, None)),
        false => by_api_key(api, credential).await.map(|(principal, key)| (principal, key.own_limit())),
    }
    .map_err(|err| match err.kind {
        ApiErrorKind::Internal | ApiErrorKind::Unavailable => Refusal::Failed(err),
        _ => Refusal::Unauthenticated(err),
    })?;
    let not_for_this_api = || {
        let message = "This credential is not for this API.";
        Refusal::Unauthenticated(ApiError::new(ApiErrorKind::InvalidApiKey, message))
    };
    // An operator key belongs to no tenant, and so to none of a tenant's APIs.
    let tenant_id = principal.tenant_id.clone().ok_or_else(not_for_this_api)?;
    // Before anything is counted: a credential out of the caller's reach (another tenant's,
    // or for an organization's caller another organization's or the tenant's own) is nothing
    // to it.
    let out_of_reach = |reach: &Reach| {
        reach.tenant_id != tenant_id
            || reach.organization_id.as_ref().is_some_and(|own| principal.organization_id.as_ref() != Some(own))
    };
    if question.within.is_some_and(out_of_reach) {
        return Err(not_for_this_api());
    }
    let resources = api.oauth.resources.of_tenant(&tenant_id).await.map_err(|err| Refusal::Failed(err.into()))?;
    let resource = resources.iter().find(|r| r.identifier == question.resource).ok_or_else(not_for_this_api)?;
    let scopes: Vec<String> = principal.scopes.iter().filter(|s| resource.scopes.contains(s)).cloned().collect();
    // A token's audience already names this API; a key is for the APIs whose scopes it holds.
    if scopes.is_empty() && matches!(principal.credential, Credential::ApiKey { .. }) {
        return Err(not_for_this_api());
    }
    if let Some(needed) = question.scope.filter(|needed| !scopes.iter().any(|held| held == needed)) {
        return Err(Refusal::InsufficientScope(ApiError::insufficient_scope(needed)));
    }
    let verdict = match &api.rate_limiter {
        Some(limiter) => {
            // The tenant's plan is the ceiling; an organization's plan and a key's own limit
            // divide it further, counted in the same check (docs/protect-your-api.md).
            let plan = api.tenant_plan(&tenant_id).await.map_err(Refusal::Failed)?;
            let organization_plan = match principal.organization_id.as_deref() {
                Some(organization) => api.organization_plan(organization).await.map_err(Refusal::Failed)?,
                None => None,
            };
            let budget = Budget::Api { tenant_id: &tenant_id, plan: &plan, write: question.write };
            let plan_of = principal.organization_id.as_deref().zip(organization_plan.as_deref());
            let own = own_limit.map(|window| (principal.actor_id(), window));
            let verdict = limiter.count_within(budget, plan_of, own).await;
            if !verdict.allowed {
                return Err(Refusal::RateLimited(verdict));
            }
            Some(verdict)
        }
        None => None,
    };
    Ok(Verified {
        subject: principal.actor_id().to_owned(),
        tenant_id,
        organization_id: principal.organization_id,
        scopes,
        verdict,
    })
}

/// Whether the original request writes, as the proxies pass its method: if any header says
/// so (a client may add a header a proxy does not replace, never remove the proxy's).
fn forwarded_write(request: &HttpRequest) -> bool {
    ["X-Forwarded-Method", "X-Original-Method"]
        .iter()
        .flat_map(|name| request.headers().get_all(*name))
        .filter_map(|value| value.to_str().ok())
        .any(is_write)
}

/// What a header of the answer says when the credential has nothing for it: proxies copy
/// every identity header, so none is ever left out for a client's own to take its place.
const NONE: &str = "-";

/// The query of `GET /verify`, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct VerifyParams {
    /// The API's identifier (or in `X-Tollbooth-Resource`).
    resource: String,
    /// A scope the call needs: 403 without it.
    scope: Option<String>,
    /// `403`: answer a spent plan with 403 and `X-Tollbooth-Rate-Limited: 1` instead of 429,
    /// for nginx's `auth_request`, which passes on only 401 and 403 (docs/protect-your-api.md).
    limited_status: Option<u16>,
}

/// `GET /verify?resource=<identifier>[&scope=<scope>][&limited_status=403]`.
#[utoipa::path(get, path = "/verify", operation_id = "forwardAuth", tag = "verify", params(VerifyParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "Good for the API: `X-Tollbooth-Tenant`, `-Organization`, `-Subject`, `-Scopes` (`-` for none) and the rate-limit headers"),
        (status = 401, description = "Missing, invalid, expired, revoked, or for another API", body = crate::error::ErrorBody),
        (status = 403, description = "The credential lacks `scope`", body = crate::error::ErrorBody),
        (status = 429, description = "The caller's plan is spent (`Retry-After`)", body = crate::error::ErrorBody)))]
pub async fn forward_auth(request: HttpRequest, api: web::Data<ManagementApi>) -> HttpResponse {
    let (mut resource, mut scope, mut limited_as_forbidden) = (None, None, false);
    let pairs = match query_pairs(&request) {
        Ok(pairs) => pairs,
        Err(err) => return err.error_response(),
    };
    for (name, value) in pairs {
        match name.as_str() {
            "resource" => resource = Some(value),
            "scope" => scope = Some(value),
            "limited_status" if value == "403" => limited_as_forbidden = true,
            "limited_status" => {
                let invalid = FieldError::new("limited_status", "invalid", "limited_status can only be 403.");
                return ApiError::validation(vec![invalid]).error_response();
            }
            _ => return ApiError::invalid_request(format!("Unknown query parameter `{name}`.")).error_response(),
        }
    }
    let write = forwarded_write(&request);
    answer(&request, &api, resource, scope, write, limited_as_forbidden).await
}

/// Any method on `/verify/{original path}`: Envoy's ext_authz asks with the original request's
/// method, path and query (its `path_prefix` is `/verify`). The query is the client's, so the
/// API and the scope come only from headers the proxy sets: `X-Tollbooth-Resource` and
/// `X-Tollbooth-Scope`.
pub async fn forward_auth_of_original(request: HttpRequest, api: web::Data<ManagementApi>) -> HttpResponse {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (resource, scope) = (header("X-Tollbooth-Resource"), header("X-Tollbooth-Scope"));
    let write = is_write(request.method().as_str()) || forwarded_write(&request);
    answer(&request, &api, resource, scope, write, false).await
}

async fn answer(
    request: &HttpRequest,
    api: &ManagementApi,
    resource: Option<String>,
    scope: Option<String>,
    write: bool,
    limited_as_forbidden: bool,
) -> HttpResponse {
    let Some(resource) = resource else {
        let missing = FieldError::new("resource", "required", "Name the API with ?resource=<identifier>.");
        return ApiError::validation(vec![missing]).error_response();
    };
    let question = Question {
        credential: presented_credential(request),
        resource: &resource,
        scope: scope.as_deref(),
        write,
        within: None,
    };
    let answer = match verify(api, question).await {
        Ok(verified) => {
            let mut answer = HttpResponse::Ok().finish();
            let scopes = verified.scopes.join(" ");
            let identity = [
                (&TENANT, verified.tenant_id.as_str()),
                (&ORGANIZATION, verified.organization_id.as_deref().unwrap_or(NONE)),
                (&SUBJECT, verified.subject.as_str()),
                (&SCOPES, if scopes.is_empty() { NONE } else { scopes.as_str() }),
            ];
            for (name, value) in identity {
                // Ids and scope tokens are printable ASCII; anything else is no answer to give.
                let Ok(value) = HeaderValue::from_str(value) else {
                    return ApiError::internal(format!("{name} is not a header value")).error_response();
                };
                answer.headers_mut().insert(name.clone(), value);
            }
            if let Some(verdict) = &verified.verdict {
                rate_limit_headers::insert(&mut answer, rate_limit_headers::of(verdict, unix_now()));
            }
            answer
        }
        Err(refusal) => refusal_answer(request, api, refusal).await,
    };
    if limited_as_forbidden && answer.status() == actix_web::http::StatusCode::TOO_MANY_REQUESTS {
        // nginx's auth_request passes on only 401 and 403 (docs/protect-your-api.md, "nginx").
        let mut answer = answer;
        answer.head_mut().status = actix_web::http::StatusCode::FORBIDDEN;
        answer.headers_mut().insert(RATE_LIMITED.clone(), HeaderValue::from_static("1"));
        return answer;
    }
    answer
}

/// The identity headers of a good credential's answer.
static TENANT: header::HeaderName = header::HeaderName::from_static("x-tollbooth-tenant");
static ORGANIZATION: header::HeaderName = header::HeaderName::from_static("x-tollbooth-organization");
static SUBJECT: header::HeaderName = header::HeaderName::from_static("x-tollbooth-subject");
static SCOPES: header::HeaderName = header::HeaderName::from_static("x-tollbooth-scopes");

/// Marks a spent plan answered 403 (`limited_status=403`), which a proxy turns back into 429.
static RATE_LIMITED: header::HeaderName = header::HeaderName::from_static("x-tollbooth-rate-limited");

/// The answer to a refused credential. A failed authentication also counts against the
/// caller's address (docs/security.md, "Bounds"): a stranger's loop of made-up keys, each a
/// database read, stops at the per-address limit.
async fn refusal_answer(request: &HttpRequest, api: &ManagementApi, refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Unauthenticated(err) => {
            if let Some(limiter) = &api.rate_limiter {
                let address = tollbooth_http::client_address::rate_limit_address(request);
                let verdict = limiter.count(Budget::Address(&address)).await;
                if !verdict.allowed {
                    return rate_limited(&verdict);
                }
            }
            err.error_response()
        }
        Refusal::InsufficientScope(err) | Refusal::Failed(err) => err.error_response(),
        Refusal::RateLimited(verdict) => rate_limited(&verdict),
    }
}

fn rate_limited(verdict: &Verdict) -> HttpResponse {
    let mut answer = ApiError::rate_limited(verdict.retry_after(unix_now())).error_response();
    rate_limit_headers::insert(&mut answer, rate_limit_headers::of(verdict, unix_now()));
    answer
}

/// `POST /api/v1/verify`: the credential to check.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyCredential {
    /// The API key or access token the call presented.
    #[schema(value_type = String, required = true)]
    pub credential: Option<String>,
    /// The API's identifier (a resource's `identifier`, the `aud` of its tokens).
    #[schema(value_type = String, required = true)]
    pub resource: Option<String>,
    /// A scope the call needs.
    pub scope: Option<String>,
    /// The call's HTTP method: a write counts in the plan's write windows too. Default `GET`.
    pub method: Option<String>,
}

impl std::fmt::Debug for VerifyCredential {
    /// Never the credential: it is a secret of the caller's customer.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyCredential")
            .field("credential", &self.credential.as_ref().map(|_| "<redacted>"))
            .field("resource", &self.resource)
            .field("scope", &self.scope)
            .field("method", &self.method)
            .finish()
    }
}

/// Where the plan stands after the call.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitView {
    pub limit: u64,
    pub remaining: u64,
    /// Unix second at which the tightest window resets.
    pub reset: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub valid: bool,
    /// `invalid_token`, `insufficient_scope` or `rate_limit_exceeded` when not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    pub tenant_id: Option<String>,
    pub organization_id: Option<String>,
    pub subject: Option<String>,
    pub scopes: Vec<String>,
    pub rate_limit: Option<RateLimitView>,
}

fn rate_limit_view(verdict: &Verdict) -> Option<RateLimitView> {
    verdict.tightest().map(|window| RateLimitView {
        limit: window.window.limit,
        remaining: if verdict.allowed { window.remaining() } else { 0 },
        reset: window.reset_at,
    })
}

#[utoipa::path(post, path = "/api/v1/verify", operation_id = "verifyCredential", tag = "verify", request_body = VerifyCredential,
    responses((status = 200, description = "Whether the credential is good for the API, and whose it is", body = Verification)))]
pub async fn verify_for_code(
    principal: Principal,
    api: web::Data<ManagementApi>,
    ApiJson(input): ApiJson<VerifyCredential>,
) -> Result<HttpResponse, ApiError> {
    // Any credential of a tenant may ask about the credentials within its reach, and only those.
    let Some(tenant_id) = principal.tenant_id.clone() else {
        let message = "Operator keys belong to no tenant; verify with a key or token of the tenant.";
        return Err(ApiError::new(ApiErrorKind::InsufficientScope(crate::scopes::ADMIN.to_owned()), message));
    };
    let reach = Reach { tenant_id, organization_id: principal.organization_id.clone() };
    let mut errors = Vec::new();
    if input.credential.as_deref().is_none_or(str::is_empty) {
        errors.push(FieldError::new("credential", "required", "credential is required."));
    }
    if input.resource.as_deref().is_none_or(str::is_empty) {
        errors.push(FieldError::new("resource", "required", "resource is required."));
    }
    crate::validate::finish(errors)?;
    let resource = input.resource.unwrap_or_default();
    let question = Question {
        credential: input.credential.as_deref(),
        resource: &resource,
        scope: input.scope.as_deref(),
        write: input.method.as_deref().is_some_and(is_write),
        within: Some(&reach),
    };
    let answer = match verify(&api, question).await {
        Ok(verified) => Verification {
            valid: true,
            error: None,
            rate_limit: verified.verdict.as_ref().and_then(rate_limit_view),
            tenant_id: Some(verified.tenant_id),
            organization_id: verified.organization_id,
            subject: Some(verified.subject),
            scopes: verified.scopes,
        },
        Err(Refusal::Failed(err)) => return Err(err),
        Err(Refusal::Unauthenticated(_)) => refused("invalid_token", None),
        Err(Refusal::InsufficientScope(_)) => refused("insufficient_scope", None),
        Err(Refusal::RateLimited(verdict)) => refused("rate_limit_exceeded", rate_limit_view(&verdict)),
    };
    Ok(HttpResponse::Ok().json(answer))
}

fn refused(error: &'static str, rate_limit: Option<RateLimitView>) -> Verification {
    Verification {
        valid: false,
        error: Some(error),
        tenant_id: None,
        organization_id: None,
        subject: None,
        scopes: Vec::new(),
        rate_limit,
    }
}
