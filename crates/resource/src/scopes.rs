//! Management API scopes (SPEC §4): `admin` holds every tenant scope, and a `:write` scope
//! includes the matching `:read` (as with Stripe's restricted keys).

pub use tollbooth_oauth::discovery::MANAGEMENT_SCOPES;

pub const ADMIN: &str = "admin";
pub const OPERATOR: &str = "operator";
pub const ORGANIZATIONS_READ: &str = "organizations:read";
pub const ORGANIZATIONS_WRITE: &str = "organizations:write";
pub const USERS_READ: &str = "users:read";
pub const USERS_WRITE: &str = "users:write";
pub const CLIENTS_READ: &str = "clients:read";
pub const CLIENTS_WRITE: &str = "clients:write";
pub const API_KEYS_READ: &str = "api_keys:read";
pub const API_KEYS_WRITE: &str = "api_keys:write";
pub const AUDIT_LOGS_READ: &str = "audit_logs:read";

/// Whether holding `held` grants `needed`.
pub fn grants(held: &[String], needed: &str) -> bool {
    let write_for_read = needed.strip_suffix(":read").map(|resource| format!("{resource}:write"));
    held.iter().any(|scope| {
        scope == needed || (scope == ADMIN && needed != OPERATOR) || write_for_read.as_deref() == Some(scope.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn admin_holds_tenant_scopes_but_not_operator() {
        assert!(grants(&held(&[ADMIN]), CLIENTS_WRITE));
        assert!(!grants(&held(&[ADMIN]), OPERATOR));
    }

    #[test]
    fn write_includes_read_not_the_reverse() {
        assert!(grants(&held(&[CLIENTS_WRITE]), CLIENTS_READ));
        assert!(!grants(&held(&[CLIENTS_READ]), CLIENTS_WRITE));
        assert!(!grants(&held(&["users:write"]), CLIENTS_READ));
    }
}
