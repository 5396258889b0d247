-- Access tokens revoked before their expiry (RFC 7009), by `jti`. A row is useless once the
-- token has expired anyway, and a periodic task deletes it then.
CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
