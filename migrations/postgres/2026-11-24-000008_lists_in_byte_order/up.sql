-- Lists page through ids in byte order (COLLATE "C"): the order of SQLite and of the ids'
-- ULIDs, whatever the database's locale. Only these indexes give that order, so the one
-- cached (generic) plan of a list uses them and cannot walk the primary key filtering by
-- tenant, which for a small tenant beside a large one reads the large one's rows too.
DROP INDEX organizations_by_tenant;
CREATE INDEX organizations_by_tenant ON organizations (tenant_id, id COLLATE "C");
DROP INDEX users_by_tenant;
CREATE INDEX users_by_tenant ON users (tenant_id, id COLLATE "C");
DROP INDEX users_by_organization;
CREATE INDEX users_by_organization ON users (organization_id, id COLLATE "C");
DROP INDEX clients_by_tenant;
CREATE INDEX clients_by_tenant ON clients (tenant_id, id COLLATE "C");
DROP INDEX clients_by_organization;
CREATE INDEX clients_by_organization ON clients (organization_id, id COLLATE "C");
DROP INDEX api_keys_by_tenant;
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id COLLATE "C");
DROP INDEX audit_events_by_tenant;
CREATE INDEX audit_events_by_tenant ON audit_events (tenant_id, id COLLATE "C");
CREATE INDEX tenants_in_byte_order ON tenants (id COLLATE "C");
