//! `/api/v1/organizations`: the tenant's customers (docs/api.md). An organization key sees only
//! its own organization and cannot create, change or delete organizations.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tollbooth_storage::ids::Id;
use tollbooth_storage::organizations::{self, Organization};
use tollbooth_storage::{DbConnection, Reach, ids, in_transaction};
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::auth::Principal;
use crate::crud;
use crate::error::{ApiError, FieldError};
use crate::extract::ApiJson;
use crate::{ManagementApi, rfc3339, scopes, validate};

type Metadata = serde_json::Map<String, serde_json::Value>;
const MAX_METADATA_BYTES: usize = 8 * 1024;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    #[schema(example = "organization")]
    pub object: &'static str,
    #[schema(example = "org_01JD6Q2Z7V1K8S3J9M4N5P6R7T")]
    pub id: String,
    pub name: String,
    #[schema(value_type = Vec<String>)]
    pub domains: Box<RawValue>,
    #[schema(value_type = Object)]
    pub metadata: Box<RawValue>,
    /// Its own rate-limit plan for calls verified for its keys and tokens
    /// (docs/protect-your-api.md); `null`: its tenant's.
    pub plan: Option<String>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: chrono::NaiveDateTime,
}

impl From<Organization> for OrganizationView {
    fn from(org: Organization) -> Self {
        OrganizationView {
            object: "organization",
            id: org.id,
            name: org.name,
            domains: stored_json(org.domains, "[]"),
            metadata: stored_json(org.metadata, "{}"),
            plan: org.plan,
            created_at: org.created_at,
            updated_at: org.updated_at,
        }
    }
}

/// JSON text this server stored, served as it is; `empty` if it is somehow not JSON.
fn stored_json(text: String, empty: &str) -> Box<RawValue> {
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::from_string(empty.to_owned()).expect("valid JSON"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganization {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    /// Lower-case DNS names.
    #[schema(max_items = 100)]
    pub domains: Option<Vec<String>>,
    /// Free-form JSON object, at most 8 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
    /// One of the server's plans, for calls verified for its keys and tokens; default: its
    /// tenant's.
    pub plan: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganization {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    /// Replaces the whole list.
    #[schema(max_items = 100)]
    pub domains: Option<Vec<String>>,
    /// Replaces the whole metadata object.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
    /// One of the server's plans; `null`: its tenant's again.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub plan: Option<Option<String>>,
}

/// A field that may be sent as `null` (`Some(None)`), apart from not sent at all (`None`).
fn present<'de, D: serde::Deserializer<'de>>(value: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(value).map(Some)
}

/// A plan an organization may have: one of the server's (`rate_limit.plans`).
fn check_plan(api: &ManagementApi, plan: Option<&str>, errors: &mut Vec<FieldError>) {
    if let Some(plan) = plan.filter(|plan| !api.plans.iter().any(|known| known == plan)) {
        let message = format!("`{plan}` is not one of this server's plans: {}.", api.plans.join(", "));
        errors.push(FieldError::new("plan", "unknown", message));
    }
}

/// The organization a new object of an organization-confined caller belongs to: its own.
pub fn owning_organization(reach: &Reach, asked: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    match (&reach.organization_id, asked) {
        (Some(own), Some(asked)) if *own != asked => {
            errors.push(FieldError::new("organization_id", "not_found", "No such organization."));
            None
        }
        (Some(own), _) => Some(own.clone()),
        (None, asked) => asked,
    }
}

/// Refuses an `organization_id` that is not an organization of the tenant (inside the
/// transaction that stores the object, so the check cannot go stale). A malformed id cannot
/// exist and is refused without a query (PostgreSQL would fail on a U+0000 in it).
pub fn check_organization_exists(
    conn: &mut DbConnection,
    tenant_id: &str,
    organization_id: Option<&str>,
) -> Result<(), ApiError> {
    match organization_id {
        Some(org)
            if !Id::<ids::Organization>::parse(org)
                .map_or(Ok(false), |org| organizations::exists_in_tenant_for_insert(conn, tenant_id, &org))? =>
        {
            Err(ApiError::validation(vec![FieldError::new("organization_id", "not_found", "No such organization.")]))
        }
        _ => Ok(()),
    }
}

/// Organization keys cannot change organizations. Another organization's id answers 404, as
/// every object out of reach does; only their own answers 403.
fn changeable_organization(principal: &Principal, id: &str) -> Result<(), ApiError> {
    let reach = principal.reach_with(scopes::ORGANIZATIONS_WRITE)?;
    match &reach.organization_id {
        Some(own) if own != id => Err(ApiError::not_found("organization")),
        Some(_) => principal.tenant_reach_with(scopes::ORGANIZATIONS_WRITE).map(drop),
        None => Ok(()),
    }
}

fn check_domains(domains: &[String], errors: &mut Vec<FieldError>) {
    validate::list_length("domains", domains, errors);
    for (i, domain) in domains.iter().enumerate() {
        if let Err(message) = validate::domain_name(domain) {
            errors.push(FieldError::new(format!("domains[{i}]"), "invalid", message));
        } else if domains[..i].contains(domain) {
            errors.push(FieldError::new(format!("domains[{i}]"), "duplicate", "This domain is listed twice."));
        }
    }
}

/// Domain lists and metadata maps always serialize.
fn json_text(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn check_metadata(metadata: &Metadata, errors: &mut Vec<FieldError>) {
    if serde_json::to_vec(metadata).map_or(true, |bytes| bytes.len() > MAX_METADATA_BYTES) {
        errors.push(FieldError::new("metadata", "too_large", "metadata is at most 8 KiB of JSON."));
    }
}

#[utoipa::path(post, path = "/api/v1/organizations", operation_id = "createOrganization", tag = "organizations", request_body = CreateOrganization,
    responses((status = 201, description = "The organization", body = OrganizationView)))]
pub async fn create(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    ApiJson(input): ApiJson<CreateOrganization>,
) -> Result<HttpResponse, ApiError> {
    let organization = create_organization(&api, &principal, &request, input).await?;
    Ok(HttpResponse::Created().json(OrganizationView::from(organization)))
}

/// Creates an organization in the caller's tenant, validated and audited.
pub async fn create_organization(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    input: CreateOrganization,
) -> Result<Organization, ApiError> {
    let reach = principal.tenant_reach_with(scopes::ORGANIZATIONS_WRITE)?;
    let mut errors = Vec::new();
    let name = validate::name("name", input.name.as_deref(), &mut errors);
    let domains = input.domains.unwrap_or_default();
    check_domains(&domains, &mut errors);
    let metadata = input.metadata.unwrap_or_default();
    check_metadata(&metadata, &mut errors);
    check_plan(api, input.plan.as_deref(), &mut errors);
    validate::finish(errors)?;
    let now = tollbooth_storage::now();
    let organization = Organization {
        id: ids::new_id(ids::ORGANIZATION),
        tenant_id: reach.tenant_id,
        name,
        domains: json_text(&domains),
        metadata: json_text(&metadata),
        created_at: now,
        updated_at: now,
        plan: input.plan,
    };
    let actor = Actor::of(principal, request);
    let stored = organization.clone();
    api.db
        .run(move |conn| {
            in_transaction(conn, |conn| {
                organizations::insert(conn, &stored)?;
                actor.record(conn, "organization.created", &stored.id)
            })
        })
        .await
        .map_err(ApiError::from)?;
    Ok(organization)
}

crud::read_handlers! {
    Organization as OrganizationView, scope: scopes::ORGANIZATIONS_READ, tag: "organizations",
    get "getOrganization": "/api/v1/organizations/{id}", "Organization id" => "The organization",
    list "listOrganizations": "/api/v1/organizations" => "A page of organizations",
}

#[utoipa::path(patch, path = "/api/v1/organizations/{id}", operation_id = "updateOrganization", tag = "organizations", request_body = UpdateOrganization,
    params(("id" = String, Path, description = "Organization id")),
    responses((status = 200, description = "The updated organization", body = OrganizationView)))]
pub async fn update(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
    ApiJson(input): ApiJson<UpdateOrganization>,
) -> Result<HttpResponse, ApiError> {
    let organization = update_organization(&api, &principal, &request, &id, input).await?;
    Ok(HttpResponse::Ok().json(OrganizationView::from(organization)))
}

/// Changes the organization `id` as `input` says, validated and audited.
pub async fn update_organization(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    id: &str,
    input: UpdateOrganization,
) -> Result<Organization, ApiError> {
    changeable_organization(principal, id)?;
    let mut errors = Vec::new();
    let name = input.name.as_deref().map(|name| validate::name("name", Some(name), &mut errors));
    if let Some(domains) = &input.domains {
        check_domains(domains, &mut errors);
    }
    if let Some(metadata) = &input.metadata {
        check_metadata(metadata, &mut errors);
    }
    if let Some(plan) = &input.plan {
        check_plan(api, plan.as_deref(), &mut errors);
    }
    validate::finish(errors)?;
    let actor = Actor::of(principal, request);
    let organization = crud::modify(
        api,
        principal,
        scopes::ORGANIZATIONS_WRITE,
        id,
        "organization.updated",
        actor,
        move |org: &mut Organization| {
            if let Some(name) = &name {
                org.name = name.clone();
            }
            if let Some(domains) = &input.domains {
                org.domains = json_text(domains);
            }
            if let Some(metadata) = &input.metadata {
                org.metadata = json_text(metadata);
            }
            if let Some(plan) = &input.plan {
                org.plan = plan.clone();
            }
            Ok(())
        },
    )
    .await?;
    api.organization_plans.invalidate(&organization.id);
    Ok(organization)
}

#[utoipa::path(delete, path = "/api/v1/organizations/{id}", operation_id = "deleteOrganization", tag = "organizations",
    params(("id" = String, Path, description = "Organization id")),
    responses((status = 204, description = "Deleted, with its users, clients and API keys")))]
pub async fn delete(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let _ = delete_organization(&api, &principal, &request, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes the organization `id` with its users, clients and keys, which stop working at once.
pub async fn delete_organization(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    id: &str,
) -> Result<Organization, ApiError> {
    changeable_organization(principal, id)?;
    let actor = Actor::of(principal, request);
    let organization: Organization = crud::delete(api, principal, scopes::ORGANIZATIONS_WRITE, id, actor).await?;
    // Its clients and keys went with it (cascade): stop them authenticating here at once.
    api.organization_plans.invalidate(&organization.id);
    let org_id = organization.id.clone();
    api.api_keys.invalidate_where(move |key| key.organization_id.as_deref() == Some(org_id.as_str()));
    api.oauth.clients.invalidate_all();
    Ok(organization)
}
