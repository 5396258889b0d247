-- Every object of SPEC §1 plus signing keys. Ids are "<prefix>_<ULID>" text, JSON is text,
-- timestamps are naive UTC: the one shape both SQLite and PostgreSQL store alike.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    plan TEXT NOT NULL,
    environment TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    domains TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX organizations_by_tenant ON organizations (tenant_id, id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    organization_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, email)
);
CREATE INDEX users_by_tenant ON users (tenant_id, id);
CREATE INDEX users_by_organization ON users (organization_id, id);

CREATE TABLE clients (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    organization_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    confidential BOOLEAN NOT NULL,
    secret_hash TEXT,
    secret_redacted TEXT,
    previous_secret_hash TEXT,
    previous_secret_expires_at TIMESTAMP,
    redirect_uris TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    scopes TEXT NOT NULL,
    skip_consent BOOLEAN NOT NULL,
    access_token_ttl INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX clients_by_tenant ON clients (tenant_id, id);
CREATE INDEX clients_by_organization ON clients (organization_id, id);

-- tenant_id NULL marks an operator key.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    organization_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    redacted TEXT NOT NULL,
    previous_key_hash TEXT UNIQUE,
    previous_key_expires_at TIMESTAMP,
    scopes TEXT NOT NULL,
    environment TEXT NOT NULL,
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

-- expires_at: when a retired key leaves the JWKS (retirement + the longest token lifetime).
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    algorithm TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP,
    expires_at TIMESTAMP
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_id TEXT,
    ip TEXT,
    metadata TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_by_tenant ON audit_events (tenant_id, id);

-- Server-generated secrets (the hashing pepper when none is configured).
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
