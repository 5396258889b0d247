//! Who may do what (docs/security.md, "Authorization"): the scope arithmetic every layer shares.
//! The management API applies it to principals (`tollbooth_resource::authorization`); the
//! authorization and token endpoints apply it to users and clients. There is no second
//! permission system: a rule about scopes lives here or nowhere.

pub const ADMIN: &str = "admin";
pub const OPERATOR: &str = "operator";

/// The scopes the management API understands. `admin` holds every other one of its tenant.
pub const MANAGEMENT_SCOPES: &[&str] = &[
    ADMIN,
    "organizations:read",
    "organizations:write",
    "users:read",
    "users:write",
    "clients:read",
    "clients:write",
    "api_keys:read",
    "api_keys:write",
    "audit_logs:read",
    "resources:read",
    "resources:write",
];

/// The OpenID Connect scopes: they belong to no resource (docs/api.md, "Resources").
pub const OPENID_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// A user's role: `member` users get tokens without management scopes; `admin` users get the
/// management scopes their client asks for, confined to their organization if they have one.
pub use tollbooth_storage::users::{ROLE_ADMIN, ROLE_MEMBER};
use tollbooth_storage::values::ScopeSet;
pub const ROLES: &[&str] = &[ROLE_MEMBER, ROLE_ADMIN];

pub fn is_management(scope: &str) -> bool {
    MANAGEMENT_SCOPES.contains(&scope) || scope == OPERATOR
}

/// Whether holding `held` grants `needed`: `operator` holds everything (it provisions tenants
/// and their first keys, though it reaches no tenant's data), `admin` every tenant scope, and a
/// `:write` scope includes the matching `:read` (as with Stripe's restricted keys).
pub fn grants(held: &[String], needed: &str) -> bool {
    let write_for_read = needed.strip_suffix(":read").map(|resource| format!("{resource}:write"));
    held.iter().any(|scope| {
        scope == needed
            || scope == OPERATOR
            || (scope == ADMIN && needed != OPERATOR)
            || write_for_read.as_deref() == Some(scope.as_str())
    })
}

/// The rule for objects that hold management scopes (API keys, clients, admin users): whoever
/// creates, changes, rotates or deletes one must hold every management scope it holds. Returns
/// the first such scope `held` lacks.
pub fn first_missing<'a>(held: &[String], object_scopes: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    object_scopes.into_iter().filter(|scope| is_management(scope)).find(|scope| !grants(held, scope))
}

/// The scopes a user's token may carry out of `granted` (at the code exchange and every
/// refresh): only those its client still holds, and for a member never a management scope,
/// whatever the client asked for.
pub fn user_token_scopes(role: &str, client_scopes: &[String], granted: &ScopeSet) -> ScopeSet {
    ScopeSet::of(
        granted
            .iter()
            .filter(|scope| client_scopes.iter().any(|held| held == scope))
            .filter(|scope| role == ROLE_ADMIN || !is_management(scope)),
    )
}

/// The scope a client gets (authorization request, client credentials): what it asked for if
/// that is a subset of its scopes, all of them if it asked for none, `None` if it asked for
/// more.
pub fn client_scope(client_scopes: &[String], requested: &ScopeSet) -> Option<ScopeSet> {
    let allowed = ScopeSet::of(client_scopes.iter().map(String::as_str));
    match requested {
        requested if requested.is_empty() => Some(allowed),
        requested => requested.is_subset(&allowed).then(|| requested.clone()),
    }
}

/// Organization confinement: a client of an organization signs in only that organization's
/// users; a client of the whole tenant signs in any user of the tenant.
pub fn client_may_sign_in(client_organization: Option<&str>, user_organization: Option<&str>) -> bool {
    client_organization.is_none_or(|own| user_organization == Some(own))
}

/// The organization a user's token acts in: the client's when it has one (it signs in only its
/// own organization's users), else the user's.
pub fn token_organization(client_organization: Option<&str>, user_organization: Option<&str>) -> Option<String> {
    client_organization.or(user_organization).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn admin_holds_tenant_scopes_but_not_operator() {
        assert!(grants(&held(&[ADMIN]), "clients:write"));
        assert!(!grants(&held(&[ADMIN]), OPERATOR));
        assert!(grants(&held(&[OPERATOR]), ADMIN));
    }

    #[test]
    fn write_includes_read_not_the_reverse() {
        assert!(grants(&held(&["clients:write"]), "clients:read"));
        assert!(!grants(&held(&["clients:read"]), "clients:write"));
        assert!(!grants(&held(&["users:write"]), "clients:read"));
    }

    #[test]
    fn acting_on_an_object_needs_every_management_scope_it_holds() {
        let narrow = held(&["api_keys:write"]);
        assert_eq!(first_missing(&narrow, ["api_keys:read", "admin"]), Some("admin"));
        assert_eq!(first_missing(&narrow, ["api_keys:read", "orders:read"]), None, "API scopes are not management");
        assert_eq!(first_missing(&held(&[ADMIN]), ["users:write", "clients:write"]), None);
    }

    #[test]
    fn members_tokens_carry_no_management_scope() {
        let client = held(&["openid", "users:read", "orders:read"]);
        let scopes = |text: &str| ScopeSet::parse(text).unwrap();
        assert_eq!(
            user_token_scopes(ROLE_MEMBER, &client, &scopes("openid users:read orders:read")),
            scopes("openid orders:read")
        );
        assert_eq!(user_token_scopes(ROLE_ADMIN, &client, &scopes("users:read")), scopes("users:read"));
        assert_eq!(
            user_token_scopes(ROLE_ADMIN, &held(&["openid"]), &scopes("users:read openid")),
            scopes("openid"),
            "taken from the client"
        );
    }

    #[test]
    fn clients_get_what_they_ask_within_their_scopes() {
        let client = held(&["read", "write"]);
        let scopes = |text: &str| ScopeSet::parse(text).unwrap();
        assert_eq!(client_scope(&client, &scopes("")), Some(scopes("read write")), "none asked: all");
        assert_eq!(client_scope(&client, &scopes("read")), Some(scopes("read")));
        assert_eq!(client_scope(&client, &scopes("read admin")), None);
    }

    #[test]
    fn organization_clients_sign_in_only_their_users() {
        assert!(client_may_sign_in(None, Some("org_b")));
        assert!(client_may_sign_in(Some("org_a"), Some("org_a")));
        assert!(!client_may_sign_in(Some("org_a"), Some("org_b")));
        assert!(!client_may_sign_in(Some("org_a"), None));
        assert_eq!(token_organization(Some("org_a"), Some("org_b")).as_deref(), Some("org_a"));
        assert_eq!(token_organization(None, Some("org_b")).as_deref(), Some("org_b"));
    }
}
