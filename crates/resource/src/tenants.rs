//! `/api/v1/tenants` (docs/api.md): operator keys only. Creating a tenant also creates its first
//! `admin` key, returned once in `api_key`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tollbooth_storage::api_keys::{self, NewApiKey};
use tollbooth_storage::ids::Id;
use tollbooth_storage::tenants::{self, Tenant};
use tollbooth_storage::{StorageError, ids, in_transaction};
use utoipa::ToSchema;

use crate::api_keys::ApiKeyView;
use crate::audit::Actor;
use crate::auth::Principal;
use crate::error::{ApiError, FieldError};
use crate::extract::ApiJson;
use crate::pagination::{List, page_request};
use crate::{ManagementApi, crud, rfc3339, scopes, validate};

const ENVIRONMENTS: &[&str] = &["live", "test"];

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    #[schema(example = "tenant")]
    pub object: &'static str,
    #[schema(example = "ten_01JD6Q2Z7V1K8S3J9M4N5P6R7T")]
    pub id: String,
    pub name: String,
    /// The rate-limit plan.
    pub plan: String,
    /// `live` or `test` (its keys are `sk_test_…`).
    pub environment: String,
    /// Only when the tenant is created: its first key, with scope `admin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKeyView>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: chrono::NaiveDateTime,
}

impl From<Tenant> for TenantView {
    fn from(tenant: Tenant) -> Self {
        TenantView {
            object: "tenant",
            id: tenant.id,
            name: tenant.name,
            plan: tenant.plan,
            environment: tenant.environment,
            api_key: None,
            created_at: tenant.created_at,
            updated_at: tenant.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, pattern = "\\S")]
    name: Option<String>,
    /// A configured plan; default `rate_limit.plan_default`.
    plan: Option<String>,
    /// `live` (default) or `test`.
    #[schema(pattern = "^(live|test)$")]
    environment: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    name: Option<String>,
    plan: Option<String>,
}

fn check_plan(api: &ManagementApi, plan: &str, errors: &mut Vec<FieldError>) {
    if !api.plans.iter().any(|p| p == plan) {
        errors.push(FieldError::new("plan", "invalid", format!("Unknown plan; plans are {}.", api.plans.join(", "))));
    }
}

/// A path's tenant id; a malformed one cannot exist, so it is answered like an unknown one.
fn tenant_id(raw: &str) -> Result<Id<ids::Tenant>, ApiError> {
    Id::parse(raw).ok_or_else(|| ApiError::not_found("tenant"))
}

fn tenant_not_found(err: StorageError) -> ApiError {
    match err {
        StorageError::NotFound => ApiError::not_found("tenant"),
        other => other.into(),
    }
}

#[utoipa::path(post, path = "/api/v1/tenants", operation_id = "createTenant", tag = "tenants", request_body = CreateTenant,
    responses((status = 201, description = "The tenant, with its first admin key in `api_key`", body = TenantView)))]
pub async fn create(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    ApiJson(input): ApiJson<CreateTenant>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::OPERATOR)?;
    let mut errors = Vec::new();
    let name = validate::name("name", input.name.as_deref(), &mut errors);
    let plan = input.plan.unwrap_or_else(|| api.plan_default.clone());
    check_plan(&api, &plan, &mut errors);
    let environment = input.environment.unwrap_or_else(|| "live".to_owned());
    if !ENVIRONMENTS.contains(&environment.as_str()) {
        errors.push(FieldError::new("environment", "invalid", "environment is `live` or `test`."));
    }
    validate::finish(errors)?;
    let now = tollbooth_storage::now();
    let tenant = Tenant { id: ids::new_id(ids::TENANT), name, plan, environment, created_at: now, updated_at: now };
    let (key, secret) = api_keys::new_key(
        &api.hasher,
        NewApiKey {
            rate_limit: None,
            tenant_id: Some(&tenant.id),
            organization_id: None,
            name: "Admin key",
            scopes: vec![scopes::ADMIN.to_owned()],
            environment: &tenant.environment,
            expires_at: None,
        },
    );
    let actor = Actor::of(&principal, &request).on_tenant(&tenant.id);
    let (stored_tenant, stored_key) = (tenant.clone(), key.clone());
    api.db
        .run(move |conn| {
            in_transaction(conn, |conn| {
                tenants::insert(conn, &stored_tenant)?;
                api_keys::insert(conn, &stored_key)?;
                actor.record(conn, "tenant.created", &stored_tenant.id)?;
                actor.record(conn, "api_key.created", &stored_key.id)
            })
        })
        .await
        .map_err(ApiError::from)?;
    let view = TenantView { api_key: Some(ApiKeyView::with_secret(key, Some(&secret))), ..TenantView::from(tenant) };
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, path = "/api/v1/tenants/{id}", operation_id = "getTenant", tag = "tenants", params(("id" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The tenant", body = TenantView)))]
pub async fn get(
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::OPERATOR)?;
    let id = tenant_id(&id)?;
    let tenant = api.db.run(move |conn| tenants::get(conn, &id)).await.map_err(tenant_not_found)?;
    Ok(HttpResponse::Ok().json(TenantView::from(tenant)))
}

#[utoipa::path(get, path = "/api/v1/tenants", operation_id = "listTenants", tag = "tenants", params(crate::pagination::ListParams),
    responses((status = 200, description = "A page of tenants", body = List<TenantView>)))]
pub async fn list(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::OPERATOR)?;
    let page = page_request::<ids::Tenant>(&request)?;
    let page = api.db.run(move |conn| tenants::list(conn, &page)).await.map_err(ApiError::from)?;
    List::respond(page.map(TenantView::from))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{id}", operation_id = "updateTenant", tag = "tenants", request_body = UpdateTenant,
    params(("id" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The updated tenant", body = TenantView)))]
pub async fn update(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
    ApiJson(input): ApiJson<UpdateTenant>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::OPERATOR)?;
    let id = tenant_id(&id)?;
    let mut errors = Vec::new();
    let name = input.name.as_deref().map(|name| validate::name("name", Some(name), &mut errors));
    if let Some(plan) = &input.plan {
        check_plan(&api, plan, &mut errors);
    }
    validate::finish(errors)?;
    let actor = Actor::of(&principal, &request).on_tenant(&id);
    let tenant = api
        .db
        .run(move |conn| {
            crud::read_modify_write(
                conn,
                |conn| tenants::get(conn, &id).map_err(tenant_not_found),
                |tenant: &mut Tenant| {
                    if let Some(name) = &name {
                        tenant.name = name.clone();
                    }
                    if let Some(plan) = &input.plan {
                        tenant.plan = plan.clone();
                    }
                    Ok(())
                },
                |conn, tenant, read_at| Ok(tenants::update(conn, tenant, read_at)?),
                |conn| actor.record(conn, "tenant.updated", &id),
            )
        })
        .await?;
    api.tenant_plans.invalidate(&tenant.id);
    Ok(HttpResponse::Ok().json(TenantView::from(tenant)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{id}", operation_id = "deleteTenant", tag = "tenants", params(("id" = String, Path, description = "Tenant id")),
    responses((status = 204, description = "Deleted with everything in it; its keys and clients stop working at once")))]
pub async fn delete(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::OPERATOR)?;
    let id = tenant_id(&id)?;
    let actor = Actor::of(&principal, &request).on_tenant(&id);
    let deleted = id.clone();
    let id_for_cache = id.clone();
    let tokens_expire_by = crud::tokens_expire_by(&api);
    api.db
        .run(move |conn| {
            in_transaction(conn, |conn| {
                tenants::get(conn, &id).map_err(tenant_not_found)?;
                tenants::delete(conn, &id)?;
                // Its access tokens (`tid`) stop at once too (docs/security.md, "Token lifecycle").
                tollbooth_storage::revoked_tokens::revoke_subject(conn, &id, &id, tokens_expire_by, tokens_expire_by)?;
                actor.record(conn, "tenant.deleted", &id)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    api.api_keys.invalidate_where(move |key| key.tenant_id.as_deref() == Some(deleted.as_str()));
    api.oauth.clients.invalidate_all();
    api.tenant_plans.invalidate(id_for_cache.as_str());
    api.oauth.revocations.forget_cached_answers();
    Ok(HttpResponse::NoContent().finish())
}
