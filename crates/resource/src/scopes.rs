//! Management API scopes (docs/api.md): `admin` holds every tenant scope, and a `:write` scope
//! includes the matching `:read` (as with Stripe's restricted keys).

pub use tollbooth_oauth::policy::{ADMIN, MANAGEMENT_SCOPES, OPERATOR, grants};

pub const ORGANIZATIONS_READ: &str = "organizations:read";
pub const ORGANIZATIONS_WRITE: &str = "organizations:write";
pub const USERS_READ: &str = "users:read";
pub const USERS_WRITE: &str = "users:write";
pub const CLIENTS_READ: &str = "clients:read";
pub const CLIENTS_WRITE: &str = "clients:write";
pub const API_KEYS_READ: &str = "api_keys:read";
pub const API_KEYS_WRITE: &str = "api_keys:write";
pub const AUDIT_LOGS_READ: &str = "audit_logs:read";
pub const RESOURCES_READ: &str = "resources:read";
pub const RESOURCES_WRITE: &str = "resources:write";
