-- docs/api.md, "Resources": an identifier names one tenant's API for good. Tokens for it may
-- still be alive after the resource is deleted or renamed, and resource servers trust `aud`
-- alone, so no other tenant may ever claim it. Kept after the resource (and the tenant) goes.
CREATE TABLE resource_identifiers (
    identifier TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO resource_identifiers (identifier, tenant_id, created_at)
    SELECT identifier, tenant_id, created_at FROM resources;
