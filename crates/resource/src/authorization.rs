//! The one authorization rule of the management API (docs/security.md, "Authorization"):
//! a principal may write an object only if it holds the scope of the action (`clients:write`)
//! **and** every management scope the object holds before or after the change, within its
//! reach. Every create of an object that holds scopes (a key, a client, a user) calls
//! [`Principal::authorize`]; organizations and tenants hold none, so their creates need only the
//! action's scope. Every change and delete goes through `crud::modify` and `crud::delete`, which
//! call it on the stored object, so a new endpoint built on them cannot forget it.

use tollbooth_oauth::policy;
use tollbooth_storage::api_keys::ApiKey;
use tollbooth_storage::clients::Client;
use tollbooth_storage::organizations::Organization;
use tollbooth_storage::resources::Resource;
use tollbooth_storage::tenants::Tenant;
use tollbooth_storage::users::User;

use crate::auth::{Credential, Principal};
use crate::error::{ApiError, ApiErrorKind};

/// What an object holds that whoever acts on it must hold too.
pub trait Guarded {
    /// The scopes the object grants whoever uses it (only management scopes count).
    fn held_scopes(&self) -> Vec<&str> {
        Vec::new()
    }

    /// Whether the object is the very credential making the request, and with which secret: a
    /// key may always rotate or delete itself with its current one.
    fn presented_by(&self, _principal: &Principal) -> Presented {
        Presented::NotItself
    }
}

/// How the object stands to the request's own credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented {
    NotItself,
    /// The request authenticated with the key's current secret.
    ItselfCurrent,
    /// With a rotated-out secret still in its grace period: it may use the key, not change it.
    ItselfRotatedOut,
}

impl Guarded for ApiKey {
    fn held_scopes(&self) -> Vec<&str> {
        self.scopes.iter().map(String::as_str).collect()
    }

    fn presented_by(&self, principal: &Principal) -> Presented {
        match &principal.credential {
            Credential::ApiKey { key_id, current_secret: true } if *key_id == self.id => Presented::ItselfCurrent,
            Credential::ApiKey { key_id, current_secret: false } if *key_id == self.id => Presented::ItselfRotatedOut,
            _ => Presented::NotItself,
        }
    }
}

impl Guarded for Client {
    /// Any change to a client (its secret, redirect URIs, grants, consent) acts with all of
    /// its scopes: whoever controls a client can obtain its tokens.
    fn held_scopes(&self) -> Vec<&str> {
        self.scopes.iter().map(String::as_str).collect()
    }
}

impl Guarded for User {
    /// An admin user's tokens carry the management scopes their client asks for, up to `admin`:
    /// creating one, or changing or deleting one (a new password takes the account over), needs
    /// `admin` in the user's reach.
    fn held_scopes(&self) -> Vec<&str> {
        if self.role == policy::ROLE_ADMIN { vec![policy::ADMIN] } else { Vec::new() }
    }
}

impl Guarded for Organization {}
impl Guarded for Tenant {}
impl Guarded for Resource {}

impl Principal {
    /// The rule: `needed` (the action's scope), then every management scope `before` (the
    /// stored object) or `after` (the object as it will be stored) holds, unless the object is
    /// the caller's own credential. A refusal is 403 `insufficient_scope` naming the scope.
    pub fn authorize<T: Guarded>(&self, needed: &str, before: Option<&T>, after: Option<&T>) -> Result<(), ApiError> {
        let presented = before.map_or(Presented::NotItself, |object| object.presented_by(self));
        if presented == Presented::ItselfRotatedOut {
            // Whatever it holds: a leaked old secret must not take the key from its owner.
            let message = "A rotated-out secret cannot change its key; use the key's current secret.";
            return Err(ApiError::new(ApiErrorKind::InsufficientScope(needed.to_owned()), message));
        }
        let own = presented == Presented::ItselfCurrent;
        if !own {
            self.require(needed)?;
        }
        let before_scopes: Vec<&str> = before.map(Guarded::held_scopes).unwrap_or_default();
        let after_scopes = after.map(Guarded::held_scopes).unwrap_or_default();
        // Acting on itself, a key needs nothing it already holds, only what the change would add.
        let held = match own {
            true => after_scopes.into_iter().filter(|scope| !before_scopes.contains(scope)).collect(),
            false => [before_scopes, after_scopes].concat(),
        };
        match policy::first_missing(&self.scopes, held) {
            Some(missing) => Err(ApiError::insufficient_scope(missing)),
            None => Ok(()),
        }
    }
}
