//! Object ids: a type prefix and a ULID (`org_01JD6…`), so ids sort by creation time.

use std::sync::{Mutex, OnceLock};

use ulid::Generator;

pub const TENANT: &str = "ten";
pub const ORGANIZATION: &str = "org";
pub const USER: &str = "user";
pub const CLIENT: &str = "client";
pub const API_KEY: &str = "key";
pub const AUDIT_EVENT: &str = "evt";

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
pub fn is_valid(prefix: &str, id: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|ulid| ulid.len() == 26 && ulid::Ulid::from_string(ulid).is_ok_and(|u| u.to_string() == ulid))
}

#[cfg(test)]
mod tests {
    use super::*;

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
