//! `GET /api/v1/audit_logs` (docs/api.md): the tenant's audit events, newest first by default.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tollbooth_storage::audit::{self, AuditEvent, AuditFilter};
use tollbooth_storage::ids;
use tollbooth_storage::pagination::{Page, PageRequest};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::{ApiError, FieldError};
use crate::pagination::{List, page_request_filtered};
use crate::{ManagementApi, rfc3339, scopes};

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    #[schema(example = "audit_event")]
    pub object: &'static str,
    #[schema(example = "evt_01JD6Q2Z7V1K8S3J9M4N5P6R7T")]
    pub id: String,
    /// Who acted: an API key, a client (its own token), a user; `null` for a failed sign-in
    /// with an unknown email (its keyed hash is in `metadata.email_hash`), and for what
    /// `tollbooth bootstrap` created (the first tenant, its keys and admin user).
    pub actor: Option<Party>,
    /// `<object>.<verb>`, e.g. `client.created`, `api_key.rotated`, `user.sign_in_failed`.
    pub action: String,
    /// What was acted on.
    pub target: Option<Party>,
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: chrono::NaiveDateTime,
}

impl From<AuditEvent> for AuditEventView {
    fn from(event: AuditEvent) -> Self {
        AuditEventView {
            object: "audit_event",
            id: event.id,
            actor: event.actor_id.map(Party::of),
            action: event.action,
            target: event.target_id.map(Party::of),
            ip: event.ip,
            metadata: event.metadata.0,
            created_at: event.created_at,
        }
    }
}

/// An actor or target of an audit event: `{"type": "api_key", "id": "key_…"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Party {
    /// `api_key`, `client`, `user`, `organization`, `tenant`, or `token` (a revoked token's jti).
    #[serde(rename = "type")]
    #[schema(example = "api_key")]
    pub kind: &'static str,
    pub id: String,
}

impl Party {
    /// The party an id names, by its prefix.
    fn of(id: String) -> Party {
        let kind = match id.split_once('_').map(|(prefix, _)| prefix) {
            Some(ids::API_KEY) => "api_key",
            Some(ids::CLIENT) => "client",
            Some(ids::USER) => "user",
            Some(ids::ORGANIZATION) => "organization",
            Some(ids::TENANT) => "tenant",
            _ => "token",
        };
        Party { kind, id }
    }
}

/// The filters of the audit log list, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AuditFilterParams {
    /// Only events of this action, e.g. `api_key.created`.
    #[param(max_length = 100)]
    action: Option<String>,
    /// Only events of this actor (an API key, user or client id).
    #[param(max_length = 100)]
    actor_id: Option<String>,
}

/// The longest action or actor id a filter may name: longer ones match nothing we write.
const MAX_FILTER_CHARS: usize = 100;

/// The list query of `GET /api/v1/audit_logs`: the page and the filters (`action`, `actor_id`).
pub fn audit_query(request: &HttpRequest) -> Result<(PageRequest, AuditFilter), ApiError> {
    let (page, filters) = page_request_filtered::<ids::AuditEvent>(request, &["action", "actor_id"])?;
    let mut filter = AuditFilter::default();
    let mut errors = Vec::new();
    for (name, value) in filters {
        if value.is_empty() {
            continue;
        }
        if value.chars().count() > MAX_FILTER_CHARS || value.chars().any(char::is_control) {
            let message = format!("{name} has at most {MAX_FILTER_CHARS} characters and no control characters.");
            errors.push(FieldError::new(name, "invalid", message));
        } else if name == "action" {
            filter.action = Some(value);
        } else {
            filter.actor_id = Some(value);
        }
    }
    crate::validate::finish(errors)?;
    Ok((page, filter))
}

/// A page of the tenant's audit events, as `principal` may read them (tenant level only).
pub async fn page_of(
    api: &ManagementApi,
    principal: &Principal,
    filter: AuditFilter,
    page: PageRequest,
) -> Result<Page<AuditEvent>, ApiError> {
    let reach = principal.tenant_reach_with(scopes::AUDIT_LOGS_READ)?;
    api.db.run(move |conn| audit::list(conn, &reach.tenant_id, &filter, &page)).await.map_err(ApiError::from)
}

#[utoipa::path(get, path = "/api/v1/audit_logs", operation_id = "listAuditLogs", tag = "audit_logs",
    params(crate::pagination::ListParams, AuditFilterParams),
    responses((status = 200, description = "A page of audit events", body = List<AuditEventView>)))]
pub async fn list(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ApiError> {
    // The scope is checked before the query is read, so a narrower key learns nothing from it.
    principal.tenant_reach_with(scopes::AUDIT_LOGS_READ)?;
    let (page, filter) = audit_query(&request)?;
    List::respond(page_of(&api, &principal, filter, page).await?.map(AuditEventView::from))
}
