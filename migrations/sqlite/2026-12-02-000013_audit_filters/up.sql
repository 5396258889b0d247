-- The console and GET /api/v1/audit_logs filter a tenant's events by action, by actor, or by
-- both, newest first: each filter reads one index range in id order (docs/api.md, "Audit logs").
CREATE INDEX audit_events_by_action ON audit_events (tenant_id, action, id);
CREATE INDEX audit_events_by_actor ON audit_events (tenant_id, actor_id, id);
CREATE INDEX audit_events_by_action_and_actor ON audit_events (tenant_id, action, actor_id, id);
