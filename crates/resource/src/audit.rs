//! Audit events for every change made through the API (docs/api.md), written in the same
//! transaction as the change so neither exists without the other.

use actix_web::HttpRequest;
use tollbooth_storage::audit::{self, AuditEvent};
use tollbooth_storage::{DbConnection, StorageError};

use crate::auth::Principal;

/// Who acted and from where; taken from the request before the work moves off the async worker.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant_id: Option<String>,
    pub actor_id: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn of(principal: &Principal, request: &HttpRequest) -> Self {
        Actor {
            tenant_id: principal.tenant_id.clone(),
            actor_id: principal.actor_id().to_owned(),
            ip: Some(tollbooth_http::client_address::client_address(request)),
        }
    }

    /// The same actor, acting on `tenant_id`: an operator acts on tenants it does not belong
    /// to, and the event belongs to the tenant acted on.
    pub fn on_tenant(&self, tenant_id: &str) -> Self {
        Actor { tenant_id: Some(tenant_id.to_owned()), ..self.clone() }
    }

    /// Records `action` (e.g. `client.created`) on `target_id`.
    pub fn record(&self, conn: &mut DbConnection, action: &str, target_id: &str) -> Result<(), StorageError> {
        let (tenant, actor) = (self.tenant_id.as_deref(), Some(self.actor_id.as_str()));
        let event = AuditEvent::new(tenant, actor, action, Some(target_id), self.ip.clone(), Default::default());
        audit::record(conn, &event)
    }
}
