use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::schema::audit_events;
use crate::{DbConnection, StorageError};

/// Who did what to which object, when, from where (SPEC §1).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: String,
    pub tenant_id: Option<String>,
    /// The API key id, or the access token's subject, that acted.
    pub actor_id: Option<String>,
    /// `<object>.<verb>`, e.g. `client.created`.
    pub action: String,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    /// JSON object with details; never holds a secret.
    pub metadata: String,
    pub created_at: NaiveDateTime,
}

pub fn record(conn: &mut DbConnection, event: &AuditEvent) -> Result<(), StorageError> {
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)?;
    Ok(())
}

pub fn list_for_tenant(
    conn: &mut DbConnection,
    tenant_id: &str,
) -> Result<Vec<AuditEvent>, StorageError> {
    Ok(audit_events::table
        .filter(audit_events::tenant_id.eq(tenant_id))
        .order(audit_events::id.desc())
        .select(AuditEvent::as_select())
        .load(conn)?)
}
