//! `GET /api/v1/audit_logs` (docs/api.md): the tenant's audit events, newest first by default.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tollbooth_storage::audit::{self, AuditEvent};
use tollbooth_storage::ids;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::pagination::{List, page_request};
use crate::{ManagementApi, rfc3339, scopes};

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    #[schema(example = "audit_event")]
    pub object: &'static str,
    #[schema(example = "evt_01JD6Q2Z7V1K8S3J9M4N5P6R7T")]
    pub id: String,
    /// Who acted: an API key, a client (its own token), a user; `null` for a failed sign-in
    /// with an unknown email (its keyed hash is in `metadata.email_hash`).
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

#[utoipa::path(get, path = "/api/v1/audit_logs", operation_id = "listAuditLogs", tag = "audit_logs", params(crate::pagination::ListParams),
    responses((status = 200, description = "A page of audit events", body = List<AuditEventView>)))]
pub async fn list(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ApiError> {
    let reach = principal.tenant_reach_with(scopes::AUDIT_LOGS_READ)?;
    let page = page_request::<ids::AuditEvent>(&request)?;
    let page = api.db.run(move |conn| audit::list(conn, &reach.tenant_id, &page)).await.map_err(ApiError::from)?;
    List::respond(page.map(AuditEventView::from))
}
