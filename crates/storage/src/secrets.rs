//! Secrets (docs/security.md): generated with 256 bits of randomness, shown once, stored only as an
//! HMAC-SHA-256 keyed with a server-side pepper, so a lookup is one indexed query and a leaked
//! table is useless without the pepper.

use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 43 base62 characters carry 43 · log2(62) ≈ 256.03 bits.
const RANDOM_CHARS: usize = 43;

/// Hashes secrets with the server's pepper. Cheap to clone.
#[derive(Clone)]
pub struct SecretHasher {
    keyed: Hmac<Sha256>,
}

impl SecretHasher {
    pub fn new(pepper: &[u8]) -> Self {
        let keyed = Hmac::<Sha256>::new_from_slice(pepper).expect("HMAC accepts keys of any length");
        SecretHasher { keyed }
    }

    /// The keyed hash of `secret`, hex-encoded: what the database stores and is searched by.
    pub fn hash(&self, secret: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(secret.as_bytes());
        // Into a buffer first: `hex::encode`'s iterator of chars showed in the profile of every
        // key check (docs/capacity.md, "Where the time goes").
        let mut digits = [0u8; 64];
        hex::encode_to_slice(mac.finalize().into_bytes(), &mut digits).expect("a SHA-256 is 32 bytes, 64 digits");
        String::from_utf8(digits.to_vec()).expect("hex digits are ASCII")
    }

    /// Compares `secret` with a stored hash in constant time.
    pub fn verify(&self, secret: &str, stored_hash: &str) -> bool {
        let Ok(expected) = hex::decode(stored_hash) else {
            return false;
        };
        let mut mac = self.keyed.clone();
        mac.update(secret.as_bytes());
        mac.verify_slice(&expected).is_ok()
    }
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher(..)")
    }
}

fn random_base62() -> String {
    let mut rng = rand::rng();
    (0..RANDOM_CHARS).map(|_| BASE62[rng.random_range(0..BASE62.len())] as char).collect()
}

/// A new API key, `sk_<environment>_<random>`.
pub fn generate_api_key(environment: &str) -> SecretString {
    SecretString::from(format!("sk_{environment}_{}", random_base62()))
}

/// A new OAuth client secret, `cs_<random>`; the prefix lets secret scanners find leaks.
pub fn generate_client_secret() -> SecretString {
    SecretString::from(format!("cs_{}", random_base62()))
}

/// A new refresh token, `rt_<random>` (opaque to clients; only its keyed hash is stored).
pub fn generate_refresh_token() -> SecretString {
    SecretString::from(format!("rt_{}", random_base62()))
}

/// A new authorization code: random, unprefixed (it only ever travels in a redirect back to the
/// client, and lives a minute); only its keyed hash is stored.
pub fn generate_authorization_code() -> SecretString {
    SecretString::from(random_base62())
}

/// A new password for a person to type once: random base62 (about 256 bits), no prefix.
pub fn generate_password() -> SecretString {
    SecretString::from(random_base62())
}

/// A random 256-bit value, hex-encoded: for peppers and other server secrets.
pub fn generate_server_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// What list and get answers show of a secret: its prefix and last four characters.
pub fn redact(secret: &SecretString) -> String {
    let secret = secret.expose_secret();
    let prefix_end = secret.rfind('_').map_or(0, |i| i + 1);
    let tail = &secret[secret.len().saturating_sub(4)..];
    format!("{}…{tail}", &secret[..prefix_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_prefix_and_entropy() {
        let key = generate_api_key("test");
        let key = key.expose_secret();
        assert!(key.starts_with("sk_test_"));
        assert_eq!(key.len(), "sk_test_".len() + RANDOM_CHARS);
        assert_ne!(generate_api_key("live").expose_secret(), generate_api_key("live").expose_secret());
    }

    #[test]
    fn hash_is_the_lowercase_hex_of_the_hmac_as_stored() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"pepper").unwrap();
        mac.update(b"sk_live_abc");
        assert_eq!(SecretHasher::new(b"pepper").hash("sk_live_abc"), hex::encode(mac.finalize().into_bytes()));
    }

    #[test]
    fn hash_verifies_only_the_same_secret_and_pepper() {
        let hasher = SecretHasher::new(b"pepper");
        let stored = hasher.hash("sk_live_abc");
        assert!(hasher.verify("sk_live_abc", &stored));
        assert!(!hasher.verify("sk_live_abd", &stored));
        assert!(!SecretHasher::new(b"other").verify("sk_live_abc", &stored));
        assert!(!hasher.verify("sk_live_abc", "not hex"));
    }

    #[test]
    fn redaction_keeps_prefix_and_last_four() {
        let secret = SecretString::from("sk_live_0123456789a1b2".to_owned());
        assert_eq!(redact(&secret), "sk_live_…a1b2");
        let secret = SecretString::from("cs_0123456789zz".to_owned());
        assert_eq!(redact(&secret), "cs_…89zz");
    }
}
