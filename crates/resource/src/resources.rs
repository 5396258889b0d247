//! `/api/v1/resources`: the tenant's APIs (docs/api.md, "Resources"). An identifier is unique in
//! the whole deployment and a scope within the tenant; the management API's own identifier and
//! scopes, and the OpenID scopes, belong to no tenant's resource. Resources are tenant-level:
//! organization keys reach none.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tollbooth_oauth::policy;
use tollbooth_storage::resources::{self, Resource};
use tollbooth_storage::values::{ResourceIdentifier, scope_token};
use tollbooth_storage::{DbConnection, Json, ids, in_transaction};
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::auth::Principal;
use crate::crud;
use crate::error::{ApiError, FieldError};
use crate::extract::ApiJson;
use crate::state::ManagementApi;
use crate::{rfc3339, scopes, validate};

/// Every token request of a tenant reads its resources (cached): they stay few.
pub const MAX_RESOURCES_PER_TENANT: usize = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceView {
    #[schema(example = "resource")]
    pub object: &'static str,
    #[schema(example = "res_01JD6Q2Z7V1K8S3J9M4N5P6R7T")]
    pub id: String,
    pub name: String,
    /// The API's absolute URI: the `aud` of its tokens.
    #[schema(example = "https://api.example.com")]
    pub identifier: String,
    /// The scopes this API defines.
    pub scopes: Vec<String>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: chrono::NaiveDateTime,
}

impl From<Resource> for ResourceView {
    fn from(resource: Resource) -> Self {
        ResourceView {
            object: "resource",
            id: resource.id,
            name: resource.name,
            identifier: resource.identifier,
            scopes: resource.scopes.0,
            created_at: resource.created_at,
            updated_at: resource.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateResource {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    /// An absolute https URI (http on a loopback host), without a fragment; unique across the
    /// deployment.
    #[schema(value_type = String, required = true)]
    pub identifier: Option<String>,
    /// Scope tokens, unique within the tenant.
    #[schema(value_type = Vec<String>, required = true, min_items = 1, max_items = 100)]
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateResource {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    pub identifier: Option<String>,
    /// Replaces the whole list.
    #[schema(min_items = 1, max_items = 100)]
    pub scopes: Option<Vec<String>>,
}

/// An identifier a tenant may give its API: not the management API's, not the issuer.
fn check_identifier(api: &ManagementApi, identifier: &str, errors: &mut Vec<FieldError>) {
    let settings = &api.oauth.settings;
    if identifier == settings.audience || identifier == settings.issuer.as_str() {
        let message = "This identifier belongs to the authorization server.";
        errors.push(FieldError::new("identifier", "reserved", message));
    } else if let Err(message) = ResourceIdentifier::parse(identifier) {
        errors.push(FieldError::new("identifier", "invalid", message));
    }
}

/// Scopes an API may define: scope tokens, at least one, no repeats, neither the management
/// API's nor the OpenID scopes.
fn check_scopes(scopes: &[String], errors: &mut Vec<FieldError>) {
    if scopes.is_empty() {
        errors.push(FieldError::new("scopes", "required", "A resource defines at least one scope."));
    }
    validate::list_length("scopes", scopes, errors);
    for (i, scope) in scopes.iter().enumerate() {
        let field = format!("scopes[{i}]");
        if let Err(message) = scope_token(scope) {
            errors.push(FieldError::new(field, "invalid", message));
        } else if policy::is_management(scope) || policy::OPENID_SCOPES.contains(&scope.as_str()) {
            errors.push(FieldError::new(field, "reserved", "This scope belongs to the authorization server."));
        } else if scopes[..i].contains(scope) {
            errors.push(FieldError::new(field, "duplicate", "This scope is listed twice."));
        }
    }
}

/// Refuses an identifier another resource has and scopes another resource of the tenant
/// defines: checked in the transaction that stores `resource`, with the tenant's resources
/// locked against other writers (the unique index on identifiers backs the first rule).
pub fn check_free(conn: &mut DbConnection, resource: &Resource) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if resources::identifier_in_use(conn, &resource.identifier, &resource.id)?
        || !resources::claim_identifier(conn, &resource.identifier, &resource.tenant_id)?
    {
        let message = "Another resource has this identifier; identifiers are unique across the deployment.";
        errors.push(FieldError::new("identifier", "taken", message));
    }
    let others = resources::all_of_tenant_for_write(conn, &resource.tenant_id)?;
    if others.iter().filter(|other| other.id != resource.id).count() >= MAX_RESOURCES_PER_TENANT {
        let message = format!("A tenant has at most {MAX_RESOURCES_PER_TENANT} resources.");
        errors.push(FieldError::new("", "too_many", message));
    }
    for (i, scope) in resource.scopes.iter().enumerate() {
        if let Some(owner) = others.iter().find(|other| other.id != resource.id && other.scopes.contains(scope)) {
            let message = format!("Resource {} already defines this scope.", owner.id);
            errors.push(FieldError::new(format!("scopes[{i}]"), "taken", message));
        }
    }
    validate::finish(errors)
}

#[utoipa::path(post, path = "/api/v1/resources", operation_id = "createResource", tag = "resources", request_body = CreateResource,
    responses((status = 201, description = "The resource", body = ResourceView)))]
pub async fn create(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    ApiJson(input): ApiJson<CreateResource>,
) -> Result<HttpResponse, ApiError> {
    let resource = create_resource(&api, &principal, &request, input).await?;
    Ok(HttpResponse::Created().json(ResourceView::from(resource)))
}

/// Defines an API of the caller's tenant, validated and audited.
pub async fn create_resource(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    input: CreateResource,
) -> Result<Resource, ApiError> {
    let reach = principal.tenant_reach_with(scopes::RESOURCES_WRITE)?;
    let mut errors = Vec::new();
    let name = validate::name("name", input.name.as_deref(), &mut errors);
    let identifier = input.identifier.unwrap_or_default();
    if identifier.is_empty() {
        errors.push(FieldError::new("identifier", "required", "identifier is required."));
    } else {
        check_identifier(api, &identifier, &mut errors);
    }
    let scopes = input.scopes.unwrap_or_default();
    check_scopes(&scopes, &mut errors);
    validate::finish(errors)?;
    let now = tollbooth_storage::now();
    let resource = Resource {
        id: ids::new_id(ids::RESOURCE),
        tenant_id: reach.tenant_id,
        name,
        identifier,
        scopes: Json(scopes),
        created_at: now,
        updated_at: now,
    };
    let actor = Actor::of(principal, request);
    let stored = resource.clone();
    api.db
        .run(move |conn| {
            in_transaction(conn, |conn| {
                check_free(conn, &stored)?;
                resources::insert(conn, &stored)?;
                actor.record(conn, "resource.created", &stored.id)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    api.oauth.resources.invalidate(&resource.tenant_id);
    Ok(resource)
}

crud::stored!(Resource, resources, "resource", ids::Resource, in_tokens: false, before_write: check_free);
crud::versioned!(Resource);

crud::read_handlers! {
    Resource as ResourceView, scope: scopes::RESOURCES_READ, tag: "resources",
    get "getResource": "/api/v1/resources/{id}", "Resource id" => "The resource",
    list "listResources": "/api/v1/resources" => "A page of resources",
}

#[utoipa::path(patch, path = "/api/v1/resources/{id}", operation_id = "updateResource", tag = "resources", request_body = UpdateResource,
    params(("id" = String, Path, description = "Resource id")),
    responses((status = 200, description = "The updated resource", body = ResourceView)))]
pub async fn update(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
    ApiJson(input): ApiJson<UpdateResource>,
) -> Result<HttpResponse, ApiError> {
    let resource = update_resource(&api, &principal, &request, &id, input).await?;
    Ok(HttpResponse::Ok().json(ResourceView::from(resource)))
}

/// Changes the API `id` as `input` says, validated and audited.
pub async fn update_resource(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    id: &str,
    input: UpdateResource,
) -> Result<Resource, ApiError> {
    principal.tenant_reach_with(scopes::RESOURCES_WRITE)?;
    let mut errors = Vec::new();
    let name = input.name.as_deref().map(|name| validate::name("name", Some(name), &mut errors));
    if let Some(identifier) = &input.identifier {
        check_identifier(api, identifier, &mut errors);
    }
    if let Some(scopes) = &input.scopes {
        check_scopes(scopes, &mut errors);
    }
    validate::finish(errors)?;
    let actor = Actor::of(principal, request);
    let resource = crud::modify(
        api,
        principal,
        scopes::RESOURCES_WRITE,
        id,
        "resource.updated",
        actor,
        move |resource: &mut Resource| {
            if let Some(name) = &name {
                resource.name = name.clone();
            }
            if let Some(identifier) = &input.identifier {
                resource.identifier = identifier.clone();
            }
            if let Some(scopes) = &input.scopes {
                resource.scopes = Json(scopes.clone());
            }
            Ok(())
        },
    )
    .await?;
    api.oauth.resources.invalidate(&resource.tenant_id);
    Ok(resource)
}

#[utoipa::path(delete, path = "/api/v1/resources/{id}", operation_id = "deleteResource", tag = "resources",
    params(("id" = String, Path, description = "Resource id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let _ = delete_resource(&api, &principal, &request, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes the API `id`.
pub async fn delete_resource(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    id: &str,
) -> Result<Resource, ApiError> {
    principal.tenant_reach_with(scopes::RESOURCES_WRITE)?;
    let actor = Actor::of(principal, request);
    let deleted: Resource = crud::delete(api, principal, scopes::RESOURCES_WRITE, id, actor).await?;
    api.oauth.resources.invalidate(&deleted.tenant_id);
    Ok(deleted)
}
