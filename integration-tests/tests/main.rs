//! Black-box tests: the real server over real HTTP, on SQLite always and on PostgreSQL when
//! `TOLLBOOTH_TEST_DATABASE_URL` is set. One test binary, so linking happens once.

mod support;

mod api_errors;
mod api_keys_api;
mod audiences;
mod audit_logs;
mod authorization;
mod authorization_code;
mod bounds;
mod browser;
mod chaos;
mod client_credentials;
mod clients_api;
mod config;
mod console;
mod console_browser;
mod database_connections;
mod edge;
mod introspection;
mod isolation;
mod layout;
mod list_plans;
mod metrics;
mod oauth2_client;
mod oidc;
mod openapi_document;
mod organizations_api;
mod pagination_property;
mod proxies;
mod rate_limits;
mod refresh_tokens;
mod relying_parties;
mod resources_api;
mod scale_out;
mod schema;
mod secrets_at_rest;
mod secrets_in_logs;
mod shutdown;
mod signing_keys;
mod tenants_api;
mod two_instances;
mod user_tokens;
mod users_api;
mod verify;
