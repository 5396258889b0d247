//! `/api/v1/api_keys` (docs/api.md): keys of the caller's tenant. The secret is shown only by
//! create and rotate; an operator key may create keys for any tenant with `tenant_id`.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tollbooth_storage::api_keys::{self, ApiKey, NewApiKey};
use tollbooth_storage::ids::Id;
use tollbooth_storage::rate_limit::Window;
use tollbooth_storage::{StorageError, ids, in_transaction, secrets, tenants};
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::auth::Principal;
use crate::crud;
use crate::error::{ApiError, FieldError};
use crate::extract::{ApiJson, ApiJsonOrDefault};
use crate::organizations::{check_organization_exists, owning_organization};
use crate::{ManagementApi, rfc3339, scopes, validate};

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    #[schema(example = "api_key")]
    pub object: &'static str,
    #[schema(example = "key_01JD6Q2Z7V1K8S3J9M4N5P6R7T")]
    pub id: String,
    pub name: String,
    pub tenant_id: Option<String>,
    pub organization_id: Option<String>,
    pub scopes: Vec<String>,
    /// `live` or `test`, as the key's prefix says.
    pub environment: String,
    #[schema(example = "sk_live_…a1b2")]
    pub redacted: String,
    /// The secret: only in the answers of create and rotate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(serialize_with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<chrono::NaiveDateTime>,
    /// Its own limit, counted with its plan when `/verify` checks it; `null`: none.
    pub rate_limit: Option<KeyRateLimit>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: chrono::NaiveDateTime,
}

impl ApiKeyView {
    pub fn with_secret(key: ApiKey, secret: Option<&SecretString>) -> Self {
        let rate_limit = key.own_limit().map(|window| KeyRateLimit { window: window.label(), limit: window.limit });
        ApiKeyView {
            rate_limit,
            object: "api_key",
            key: secret.map(|s| s.expose_secret().to_owned()),
            id: key.id,
            name: key.name,
            tenant_id: key.tenant_id,
            organization_id: key.organization_id,
            scopes: key.scopes.0,
            environment: key.environment,
            redacted: key.redacted,
            expires_at: key.expires_at,
            created_at: key.created_at,
            updated_at: key.updated_at,
        }
    }
}

impl From<ApiKey> for ApiKeyView {
    fn from(key: ApiKey) -> Self {
        ApiKeyView::with_secret(key, None)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    /// At least one; management scopes only those the caller holds.
    #[schema(value_type = Vec<String>, required = true, min_items = 1, max_items = 100)]
    pub scopes: Option<Vec<String>>,
    pub organization_id: Option<String>,
    /// RFC 3339, in the future; after it the key stops authenticating.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Operator keys only: the tenant the key is for.
    pub tenant_id: Option<String>,
    /// A limit of its own on the calls `/verify` checks it for (docs/protect-your-api.md).
    pub rate_limit: Option<KeyRateLimit>,
}

/// At most `limit` calls per `window`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRateLimit {
    /// `10s`, `1m`, `1h`, `1d`: a count of seconds, minutes, hours or days.
    #[schema(example = "1m")]
    pub window: String,
    #[schema(minimum = 1, example = 100)]
    pub limit: u64,
}

/// The most calls a key's own limit may allow per window.
const MAX_KEY_LIMIT: u64 = 1_000_000_000;

fn own_limit(value: Option<&KeyRateLimit>, errors: &mut Vec<FieldError>) -> Option<Window> {
    let value = value?;
    let seconds = match Window::parse_duration(&value.window) {
        Ok(seconds) if seconds <= 366 * 86_400 => Some(seconds),
        Ok(_) => {
            errors.push(FieldError::new("rate_limit.window", "out_of_range", "rate_limit.window is at most 366d."));
            None
        }
        Err(message) => {
            errors.push(FieldError::new("rate_limit.window", "invalid", message));
            None
        }
    };
    if !(1..=MAX_KEY_LIMIT).contains(&value.limit) {
        let message = format!("rate_limit.limit is from 1 to {MAX_KEY_LIMIT}.");
        errors.push(FieldError::new("rate_limit.limit", "out_of_range", message));
    }
    Some(Window { seconds: seconds?, limit: value.limit })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateApiKey {
    /// How long the old secret keeps working: 0 revokes it at once; default 86400 (24 h).
    #[schema(minimum = 0, maximum = 2_592_000)]
    pub grace_period_seconds: Option<i64>,
}

fn expiry(value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<chrono::NaiveDateTime> {
    let value = value?;
    match chrono::DateTime::parse_from_rfc3339(value) {
        Ok(at) if at.naive_utc() > tollbooth_storage::now() => Some(at.naive_utc()),
        Ok(_) => {
            errors.push(FieldError::new("expires_at", "in_the_past", "expires_at must be in the future."));
            None
        }
        Err(_) => {
            errors.push(FieldError::new("expires_at", "invalid", "expires_at must be an RFC 3339 timestamp."));
            None
        }
    }
}

/// The answer for a `tenant_id` the caller cannot create keys in: malformed, another
/// tenant's (for a tenant key), or not there.
fn unknown_tenant() -> FieldError {
    FieldError::new("tenant_id", "not_found", "No such tenant.")
}

#[utoipa::path(post, path = "/api/v1/api_keys", operation_id = "createApiKey", tag = "api_keys", request_body = CreateApiKey,
    responses((status = 201, description = "The key, with its secret in `key` (shown only now)", body = ApiKeyView)))]
pub async fn create(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    ApiJson(input): ApiJson<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let (key, secret) = create_key(&api, &principal, &request, input).await?;
    Ok(HttpResponse::Created().json(ApiKeyView::with_secret(key, Some(&secret))))
}

/// Creates a key as `principal` asks, with the API's validation and rule, audited; the key and
/// its secret (which exists nowhere else). The console creates keys with this too.
pub async fn create_key(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    input: CreateApiKey,
) -> Result<(ApiKey, SecretString), ApiError> {
    let mut errors = Vec::new();
    let operator = principal.has_scope(scopes::OPERATOR);
    let (tenant_id, organization_id) = if operator {
        let Some(tenant_id) = input.tenant_id.clone() else {
            return Err(ApiError::validation(vec![FieldError::new(
                "tenant_id",
                "required",
                "Operator keys must name the tenant.",
            )]));
        };
        if Id::<ids::Tenant>::parse(&tenant_id).is_none() {
            errors.push(unknown_tenant());
        }
        (tenant_id, input.organization_id.clone())
    } else {
        let reach = principal.reach_with(scopes::API_KEYS_WRITE)?;
        if input.tenant_id.as_ref().is_some_and(|asked| *asked != reach.tenant_id) {
            errors.push(unknown_tenant());
        }
        let organization_id = owning_organization(&reach, input.organization_id.clone(), &mut errors);
        (reach.tenant_id, organization_id)
    };
    let name = validate::name("name", input.name.as_deref(), &mut errors);
    let key_scopes = input.scopes.unwrap_or_default();
    if key_scopes.is_empty() {
        errors.push(FieldError::new("scopes", "required", "Give the key at least one scope."));
    }
    validate::scope_list(&key_scopes, &mut errors);
    if Id::<ids::Tenant>::parse(&tenant_id).is_some() {
        let resources = api.oauth.resources.of_tenant(&tenant_id).await?;
        validate::defined_scopes(&key_scopes, &[], &resources, &mut errors);
    }
    let expires_at = expiry(input.expires_at.as_deref(), &mut errors);
    let rate_limit = own_limit(input.rate_limit.as_ref(), &mut errors);
    validate::finish(errors)?;

    let actor = Actor::of(principal, request).on_tenant(&tenant_id);
    let hasher = api.hasher.clone();
    let principal = principal.clone();
    api.db
        .run(move |conn| {
            in_transaction(conn, |conn| {
                let tenant = tenants::get(conn, &tenant_id).map_err(|err| match err {
                    StorageError::NotFound => ApiError::validation(vec![unknown_tenant()]),
                    other => other.into(),
                })?;
                check_organization_exists(conn, &tenant.id, organization_id.as_deref())?;
                let (key, secret) = api_keys::new_key(
                    &hasher,
                    NewApiKey {
                        tenant_id: Some(&tenant.id),
                        organization_id: organization_id.as_deref(),
                        name: &name,
                        scopes: key_scopes,
                        environment: &tenant.environment,
                        expires_at,
                        rate_limit,
                    },
                );
                principal.authorize(scopes::API_KEYS_WRITE, None, Some(&key))?;
                api_keys::insert(conn, &key)?;
                actor.record(conn, "api_key.created", &key.id)?;
                Ok::<_, ApiError>((key, secret))
            })
        })
        .await
}

crud::read_handlers! {
    ApiKey as ApiKeyView, scope: scopes::API_KEYS_READ, tag: "api_keys",
    get "getApiKey": "/api/v1/api_keys/{id}", "API key id" => "The key, redacted",
    list "listApiKeys": "/api/v1/api_keys" => "A page of keys, redacted",
}

#[utoipa::path(delete, path = "/api/v1/api_keys/{id}", operation_id = "deleteApiKey", tag = "api_keys", params(("id" = String, Path, description = "API key id")),
    responses((status = 204, description = "Deleted; the key stops authenticating at once")))]
pub async fn delete(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    delete_key(&api, &principal, &request, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes (revokes) the key `id`: it stops authenticating at once on this instance.
pub async fn delete_key(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    id: &str,
) -> Result<ApiKey, ApiError> {
    let actor = Actor::of(principal, request);
    let key: ApiKey = crud::delete(api, principal, scopes::API_KEYS_WRITE, id, actor).await?;
    let key_id = key.id.clone();
    api.api_keys.invalidate_where(move |cached| cached.id == key_id);
    Ok(key)
}

#[utoipa::path(post, path = "/api/v1/api_keys/{id}/rotate", operation_id = "rotateApiKey", tag = "api_keys", request_body = RotateApiKey,
    params(("id" = String, Path, description = "API key id")),
    responses((status = 200, description = "The key with its new secret in `key`", body = ApiKeyView)))]
pub async fn rotate(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
    ApiJsonOrDefault(input): ApiJsonOrDefault<RotateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let (key, secret) = rotate_key(&api, &principal, &request, &id, input).await?;
    Ok(HttpResponse::Ok().json(ApiKeyView::with_secret(key, Some(&secret))))
}

/// Gives the key `id` a new secret; the old one works for the grace period (docs/api.md).
pub async fn rotate_key(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    id: &str,
    input: RotateApiKey,
) -> Result<(ApiKey, SecretString), ApiError> {
    let reach = principal.reach_for(scopes::API_KEYS_WRITE)?;
    let mut errors = Vec::new();
    let grace = validate::grace_period(input.grace_period_seconds, &mut errors);
    validate::finish(errors)?;
    // The secret's prefix follows the key's environment, known once the key is read.
    let current: ApiKey = crud::fetch(api, reach, id).await?;
    let secret = secrets::generate_api_key(&current.environment);
    let (hash, redacted) = (api.hasher.hash(secret.expose_secret()), secrets::redact(&secret));
    let actor = Actor::of(principal, request);
    let (needed, action) = (scopes::API_KEYS_WRITE, "api_key.rotated");
    let key = crud::modify(api, principal, needed, id, action, actor, move |key: &mut ApiKey| {
        let now = tollbooth_storage::now();
        (key.previous_key_hash, key.previous_key_expires_at) = match grace {
            0 => (None, None),
            _ => (Some(key.key_hash.clone()), Some(now + chrono::Duration::seconds(grace))),
        };
        key.key_hash = hash.clone();
        key.redacted = redacted.clone();
        Ok(())
    })
    .await?;
    let key_id = key.id.clone();
    api.api_keys.invalidate_where(move |cached| cached.id == key_id);
    Ok((key, secret))
}
