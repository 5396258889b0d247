-- docs/api.md, "Resources": a tenant's APIs. An identifier names one API in the whole
-- deployment (it is the `aud` of that API's tokens); scopes are unique within the tenant,
-- which the API checks inside the transaction that stores them.
CREATE TABLE resources (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    identifier TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX resources_by_tenant ON resources (tenant_id, id COLLATE "C");
