//! Object ids: a type prefix and a ULID (`org_01JD6…`), so ids sort by creation time.
//!
//! An id from outside (a path, a query, a JSON body, a token request) is parsed once into an
//! [`Id`] of its kind where it enters; a malformed one is answered there and never reaches a
//! query or a cache. What loads objects by an outside id takes an `Id` (the management API's
//! `Stored` trait, the OAuth client directory); the queries below them take its text.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Mutex, OnceLock};

use ulid::Generator;

pub const TENANT: &str = "ten";
pub const ORGANIZATION: &str = "org";
pub const USER: &str = "user";
pub const CLIENT: &str = "client";
pub const API_KEY: &str = "key";
pub const AUDIT_EVENT: &str = "evt";
pub const RESOURCE: &str = "res";

/// A new id with the given prefix. Ids made by one process are strictly increasing, even
/// within one millisecond, which keyset pagination relies on.
pub fn new_id(prefix: &str) -> String {
    static GENERATOR: OnceLock<Mutex<Generator>> = OnceLock::new();
    let generator = GENERATOR.get_or_init(|| Mutex::new(Generator::new()));
    let ulid = generator
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .generate()
        .unwrap_or_else(|_| ulid::Ulid::new());
    format!("{prefix}_{ulid}")
}

/// True when `id` is `<prefix>_` followed by a well-formed ULID.
fn is_valid(prefix: &str, id: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|ulid| ulid.len() == 26 && ulid::Ulid::from_string(ulid).is_ok_and(|u| u.to_string() == ulid))
}

/// A kind of object with ids of its own prefix.
pub trait Kind {
    const PREFIX: &'static str;
}

macro_rules! kinds {
    ($($(#[$doc:meta])* $name:ident => $prefix:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {}
        impl Kind for $name {
            const PREFIX: &'static str = $prefix;
        }
    )+};
}

kinds! {
    /// `ten_…`
    Tenant => TENANT;
    /// `org_…`
    Organization => ORGANIZATION;
    /// `user_…`
    User => USER;
    /// `client_…`
    Client => CLIENT;
    /// `key_…`
    ApiKey => API_KEY;
    /// `evt_…`
    AuditEvent => AUDIT_EVENT;
    /// `res_…`
    Resource => RESOURCE;
}

/// A well-formed id of kind `K`: it can only be made by parsing (or generating) one.
pub struct Id<K: Kind>(String, PhantomData<fn() -> K>);

impl<K: Kind> Id<K> {
    /// `None` unless `raw` is `K`'s prefix, `_` and a well-formed ULID.
    pub fn parse(raw: &str) -> Option<Self> {
        is_valid(K::PREFIX, raw).then(|| Id(raw.to_owned(), PhantomData))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<K: Kind> Clone for Id<K> {
    fn clone(&self) -> Self {
        Id(self.0.clone(), PhantomData)
    }
}

impl<K: Kind> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K: Kind> Eq for Id<K> {}

impl<K: Kind> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<K: Kind> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<K: Kind> std::ops::Deref for Id<K> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_ids_parse_only_their_kind() {
        let raw = new_id(CLIENT);
        assert_eq!(Id::<Client>::parse(&raw).map(Id::into_string), Some(raw.clone()));
        assert!(Id::<Organization>::parse(&raw).is_none());
        assert!(Id::<Client>::parse("client_x' OR 1=1 --").is_none());
    }

    #[test]
    fn ids_increase_and_validate() {
        let a = new_id(CLIENT);
        let b = new_id(CLIENT);
        assert!(a < b);
        assert!(is_valid(CLIENT, &a));
        assert!(!is_valid(ORGANIZATION, &a));
        assert!(!is_valid(CLIENT, "client_01jd6"));
        assert!(!is_valid(CLIENT, &a.to_lowercase()));
    }
}
