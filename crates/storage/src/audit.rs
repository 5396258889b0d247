use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::pagination::{Page, PageRequest};
use crate::schema::audit_events;
use crate::{DbConnection, Json, StorageError};

/// Who did what to which object, when, from where (docs/api.md).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
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
    /// Details; never holds a secret.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub metadata: Json<serde_json::Map<String, serde_json::Value>>,
    pub created_at: NaiveDateTime,
}

impl AuditEvent {
    /// A new event of `tenant_id`, now: `actor_id` did `action` (`client.created`) to
    /// `target_id`, from `ip`.
    pub fn new(
        tenant_id: Option<&str>,
        actor_id: Option<&str>,
        action: &str,
        target_id: Option<&str>,
        ip: Option<String>,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> AuditEvent {
        AuditEvent {
            id: crate::ids::new_id(crate::ids::AUDIT_EVENT),
            tenant_id: tenant_id.map(str::to_owned),
            actor_id: actor_id.map(str::to_owned),
            action: action.to_owned(),
            target_id: target_id.map(str::to_owned),
            ip,
            metadata: Json(metadata),
            created_at: crate::now(),
        }
    }
}

pub fn record(conn: &mut DbConnection, event: &AuditEvent) -> Result<(), StorageError> {
    diesel::insert_into(audit_events::table).values(event.clone()).execute(conn)?;
    Ok(())
}

/// Which events of a tenant a list holds: all, or those of one action and/or one actor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor_id: Option<String>,
}

/// A page of the tenant's events that pass `filter`. Each filter, and the two together, has an
/// index that starts with the tenant and ends with the id (migration 000013), so a page reads
/// only its own rows however many events the tenant has.
pub fn list(
    conn: &mut DbConnection,
    tenant_id: &str,
    filter: &AuditFilter,
    page: &PageRequest,
) -> Result<Page<AuditEvent>, StorageError> {
    // Built inside the macro: each backend's branch boxes the query for its own backend.
    crate::keyset_page!(
        conn,
        {
            let mut query = audit_events::table
                .filter(audit_events::tenant_id.eq(tenant_id.to_owned()))
                .select(AuditEvent::as_select())
                .into_boxed();
            if let Some(action) = &filter.action {
                query = query.filter(audit_events::action.eq(action.clone()));
            }
            if let Some(actor_id) = &filter.actor_id {
                query = query.filter(audit_events::actor_id.eq(actor_id.clone()));
            }
            query
        },
        audit_events::id,
        page,
        AuditEvent
    )
}

/// Deletes the events recorded before `before` (the retention period's start), 5,000 at a time
/// so no one statement holds the database's write lock for long; returns how many.
pub fn delete_before(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, StorageError> {
    let mut deleted = 0;
    loop {
        let batch: Vec<String> = audit_events::table
            .filter(audit_events::created_at.lt(before))
            .select(audit_events::id)
            .limit(5_000)
            .load(conn)?;
        if batch.is_empty() {
            return Ok(deleted);
        }
        deleted += diesel::delete(audit_events::table.filter(audit_events::id.eq_any(&batch))).execute(conn)?;
    }
}
