DROP TABLE server_secrets;
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE api_keys;
DROP TABLE clients;
DROP TABLE users;
DROP TABLE organizations;
DROP TABLE tenants;
