-- docs/security.md: a user's role decides whether their tokens may carry management scopes.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
-- A reused authorization code revokes the refresh-token family issued with its first use,
-- found by the access token issued together with it (RFC 6749 §4.1.2).
CREATE INDEX refresh_tokens_by_access_jti ON refresh_tokens (access_jti);
-- Audit events older than the retention period are deleted now and then (docs/security.md).
CREATE INDEX audit_events_by_created_at ON audit_events (created_at);
