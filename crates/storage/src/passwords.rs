//! User passwords (SPEC §2): Argon2id with the crate's OWASP defaults. Hashing is slow on
//! purpose; call these from a blocking thread, never an async worker.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 1024;

/// The PHC string of a new Argon2id hash of `password`, with a fresh salt.
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Whether `password` matches the stored PHC string. Unknown users should be checked against
/// [`dummy_hash`] so that both cases cost the same.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of a random password, computed once: what an unknown email is compared against.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&crate::secrets::generate_server_secret()).expect("argon2 hashes"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_only_their_password() {
        let stored = super::hash("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(super::verify("correct horse", &stored));
        assert!(!super::verify("wrong horse", &stored));
        assert!(!super::verify("correct horse", "garbage"));
    }
}
