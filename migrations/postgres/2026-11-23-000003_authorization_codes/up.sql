-- Authorization codes (RFC 6749 §4.1), stored as keyed hashes, single use, short-lived.
-- `issued_jti` remembers the access token issued from the code, so a second use can revoke it
-- (RFC 6749 §4.1.2).
CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    issued_jti TEXT,
    issued_expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);
