//! Tollbooth's management API (`/api/v1`, docs/api.md): authentication, the error type,
//! pagination, the authorization rule, and one handler module per kind of object.

pub mod api_keys;
pub mod audit;
pub mod audit_logs;
pub mod auth;
pub mod authorization;
pub mod clients;
pub mod crud;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod organizations;
pub mod pagination;
pub mod rate_limits;
pub mod resources;
mod rfc3339;
mod routes;
pub mod scopes;
mod state;
pub mod tenants;
pub mod users;
mod validate;
pub mod verify;

pub use routes::routes;
pub use state::{ManagementApi, TENANT_PLAN_CACHE_TTL};
