DROP INDEX audit_events_by_created_at;
DROP INDEX refresh_tokens_by_access_jti;
ALTER TABLE users DROP COLUMN role;
