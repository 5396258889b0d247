//! Which API a token is for (docs/oauth.md, "Audiences"; RFC 8707): every access token is for
//! one resource, and its `aud` is that resource's identifier. The management API is a built-in
//! resource whose scopes are the management scopes; the OpenID scopes belong to no resource.
//! A leaf: plain values in, the audience and the scope out.

use tollbooth_storage::resources::Resource;
use tollbooth_storage::values::ScopeSet;

use crate::error::{OAuthError, OAuthErrorKind};
use crate::policy;

/// The resources a client of one tenant may ask tokens for.
pub struct Audiences<'a> {
    /// The management API's identifier (`token.audience`).
    pub management: &'a str,
    /// The issuer: the audience of a token with only OpenID scopes, which only userinfo takes.
    pub issuer: &'a str,
    /// The client's tenant's resources.
    pub resources: &'a [Resource],
}

/// The API a scope belongs to: a tenant resource's identifier, the management API's, or none
/// (an OpenID scope).
fn owner<'a>(audiences: &Audiences<'a>, scope: &str) -> Option<&'a str> {
    if policy::OPENID_SCOPES.contains(&scope) {
        return None;
    }
    let resource = audiences.resources.iter().find(|r| r.scopes.iter().any(|s| s == scope));
    // A scope no resource defines (one a client kept after its API was deleted, or held from
    // before resources existed) counts as the management API's.
    Some(resource.map_or(audiences.management, |r| r.identifier.as_str()))
}

fn invalid_target(description: &str) -> OAuthError {
    OAuthError::new(OAuthErrorKind::InvalidTarget, description)
}

/// The audience of a token granting `granted` (already within what the client holds).
/// `resource` is the request's RFC 8707 parameter. A token with OpenID scopes only is for the
/// issuer's userinfo endpoint, unless it names the management API (whose `/users/me` needs no
/// scope); one with no scope at all is the management API's. [`for_client`] narrows this for
/// clients that hold no management scope.
pub fn choose(audiences: &Audiences<'_>, granted: &ScopeSet, resource: Option<&str>) -> Result<String, OAuthError> {
    let mut owners: Vec<&str> = granted.iter().filter_map(|scope| owner(audiences, scope)).collect();
    owners.sort_unstable();
    owners.dedup();
    match (owners.as_slice(), resource) {
        // No scope at all: the management API's, as before resources existed.
        ([], None) if granted.is_empty() => Ok(audiences.management.to_owned()),
        ([], None) => Ok(audiences.issuer.to_owned()),
        ([only], None) => Ok((*only).to_owned()),
        ([only], Some(named)) if *only == named => Ok(named.to_owned()),
        ([], Some(named)) if named == audiences.management || named == audiences.issuer => Ok(named.to_owned()),
        ([], Some(_)) | ([_], Some(_)) => Err(invalid_target("The requested scope is not a scope of this resource.")),
        (_, _) => Err(OAuthError::new(
            OAuthErrorKind::InvalidScope,
            "The requested scope spans more than one resource; ask for one resource's scopes.",
        )),
    }
}

/// The audience of a token granting `granted` to a client holding `client_scopes`: as
/// [`choose`] says, but the management API only for a client holding one of its scopes, since
/// its `/users/me` shows more of a user than the OpenID scopes release. For any other client a
/// token with OpenID scopes only (or none) is the issuer's, and a scope no API defines (one
/// kept after its API was deleted) is refused.
pub fn for_client(
    audiences: &Audiences<'_>,
    client_scopes: &[String],
    granted: &ScopeSet,
    resource: Option<&str>,
) -> Result<String, OAuthError> {
    let chosen = choose(audiences, granted, resource)?;
    if chosen != audiences.management || client_scopes.iter().any(|s| policy::is_management(s)) {
        return Ok(chosen);
    }
    if resource.is_some() {
        return Err(invalid_target("This client holds no scope of the management API."));
    }
    if granted.iter().all(|scope| policy::OPENID_SCOPES.contains(&scope)) {
        return Ok(audiences.issuer.to_owned());
    }
    Err(OAuthError::new(OAuthErrorKind::InvalidScope, "A requested scope belongs to no API of this tenant."))
}

/// What a client gets when it names no scope (client credentials): its scopes of the named
/// resource, or, naming none, of its only resource. A client holding scopes of several
/// resources must name one.
pub fn default_scope(
    audiences: &Audiences<'_>,
    client_scopes: &[String],
    resource: Option<&str>,
) -> Result<ScopeSet, OAuthError> {
    let held = ScopeSet::of(client_scopes.iter().map(String::as_str));
    let target = match resource {
        Some(named) => named.to_owned(),
        None => match choose(audiences, &held, None) {
            Ok(only) => {
                let scope = of_owner(audiences, &held, &only);
                // OpenID scopes only: the token carries them (they belong to no API).
                return Ok(if scope.is_empty() { held } else { scope });
            }
            Err(_) => {
                return Err(invalid_target("This client holds scopes of several resources: name one with `resource`."));
            }
        },
    };
    let scope = of_owner(audiences, &held, &target);
    if scope.is_empty() {
        return Err(invalid_target("This client holds no scope of this resource."));
    }
    Ok(scope)
}

/// The scopes of `held` that belong to the API `identifier`.
fn of_owner(audiences: &Audiences<'_>, held: &ScopeSet, identifier: &str) -> ScopeSet {
    ScopeSet::of(held.iter().filter(|scope| owner(audiences, scope) == Some(identifier)))
}

/// Refuses a `resource` parameter that names no API of the tenant, the management API or the
/// issuer (RFC 8707 §2: an absolute URI; an unknown one is `invalid_target`), and the management
/// API for a client that holds none of its scopes: its `/users/me` would show a user's whole
/// record to a client the user let see only what OpenID scopes release.
pub fn check_named(
    audiences: &Audiences<'_>,
    client_scopes: &[String],
    resource: Option<&str>,
) -> Result<(), OAuthError> {
    if resource == Some(audiences.management) && !client_scopes.iter().any(|s| policy::is_management(s)) {
        return Err(invalid_target("This client holds no scope of the management API."));
    }
    match resource {
        Some(named)
            if named != audiences.management
                && named != audiences.issuer
                && !audiences.resources.iter().any(|r| r.identifier == named) =>
        {
            Err(invalid_target("The resource is not an API of this client's tenant."))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollbooth_storage::Json;

    fn resource(identifier: &str, scopes: &[&str]) -> Resource {
        let now = tollbooth_storage::now();
        Resource {
            id: "res_x".into(),
            tenant_id: "ten_x".into(),
            name: "API".into(),
            identifier: identifier.into(),
            scopes: Json(scopes.iter().map(|s| s.to_string()).collect()),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_token_is_for_one_resource() {
        let resources = [resource("https://orders", &["orders:read"]), resource("https://stock", &["stock:read"])];
        let audiences = Audiences { management: "https://as/api", issuer: "https://as", resources: &resources };
        let scopes = |text: &str| ScopeSet::parse(text).unwrap();
        assert_eq!(choose(&audiences, &scopes("orders:read"), None).unwrap(), "https://orders");
        assert_eq!(choose(&audiences, &scopes("users:read"), None).unwrap(), "https://as/api");
        assert_eq!(choose(&audiences, &scopes("openid email"), None).unwrap(), "https://as");
        assert_eq!(choose(&audiences, &scopes("openid"), Some("https://as/api")).unwrap(), "https://as/api");
        assert_eq!(choose(&audiences, &scopes(""), None).unwrap(), "https://as/api");
        assert_eq!(
            choose(&audiences, &scopes("openid orders:read"), Some("https://orders")).unwrap(),
            "https://orders"
        );
        let kind = |granted, named| choose(&audiences, &scopes(granted), named).unwrap_err().kind;
        assert_eq!(kind("orders:read stock:read", None), OAuthErrorKind::InvalidScope);
        assert_eq!(kind("orders:read", Some("https://stock")), OAuthErrorKind::InvalidTarget);

        let client = ["orders:read".to_owned(), "stock:read".to_owned(), "openid".to_owned()];
        assert_eq!(default_scope(&audiences, &client, Some("https://stock")).unwrap(), scopes("stock:read"));
        assert_eq!(default_scope(&audiences, &client, None).unwrap_err().kind, OAuthErrorKind::InvalidTarget);
        assert_eq!(default_scope(&audiences, &client[..1], None).unwrap(), scopes("orders:read"));
        assert_eq!(
            default_scope(&audiences, &client[..1], Some("https://as/api")).unwrap_err().kind,
            OAuthErrorKind::InvalidTarget
        );
        let held = |scopes: &[&str]| scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let management_client = held(&["openid", "users:read"]);
        let openid_client = held(&["openid", "stale:scope"]);
        let for_openid = |granted| for_client(&audiences, &openid_client, &scopes(granted), None);
        assert_eq!(
            for_client(&audiences, &management_client, &scopes("openid"), Some("https://as/api")).unwrap(),
            "https://as/api"
        );
        assert_eq!(for_openid("openid").unwrap(), "https://as");
        assert_eq!(for_openid("").unwrap(), "https://as", "no scope: not the management API's either");
        assert_eq!(for_openid("openid stale:scope").unwrap_err().kind, OAuthErrorKind::InvalidScope);
        let named = for_client(&audiences, &openid_client, &scopes("openid"), Some("https://as/api"));
        assert_eq!(named.unwrap_err().kind, OAuthErrorKind::InvalidTarget);
        assert!(check_named(&audiences, &held(&["orders:read"]), Some("https://elsewhere")).is_err());
        assert!(check_named(&audiences, &held(&["openid", "users:read"]), Some("https://as/api")).is_ok());
        assert!(check_named(&audiences, &held(&["openid", "orders:read"]), Some("https://as/api")).is_err());
        assert!(check_named(&audiences, &held(&["openid"]), Some("https://as")).is_ok());
    }
}
