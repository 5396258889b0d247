//! Secrets at rest (docs/security.md, "Secrets at rest"): what must be stored in a form that
//! can be read back — private signing keys, a generated pepper — is sealed with AES-256-GCM
//! under a key-encryption key (KEK) from configuration, never from the database, the way Ory
//! Hydra encrypts its JSON Web Keys with its system secret. Keys are derived from the configured
//! text with HKDF-SHA-256 (RFC 5869), each purpose with its own label.
//!
//! Sealed text is `sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`; the key id (the
//! first 8 hex digits of the SHA-256 of the derived key) says which configured key opens it, so
//! keys can be rotated: the first configured key seals, every configured key opens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

const PREFIX: &str = "sealed:v1:";
const KEK_LABEL: &[u8] = b"tollbooth key-encryption v1";

/// A 256-bit key derived from `secret` for one `label` (RFC 5869: HKDF-Extract with a fixed
/// salt, then HKDF-Expand with the label as info). Distinct labels give unrelated keys.
pub fn derive_key(secret: &[u8], label: &[u8]) -> [u8; 32] {
    struct Len32;
    impl ring::hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"tollbooth");
    let mut out = [0u8; 32];
    salt.extract(secret)
        .expand(&[label], Len32)
        .and_then(|okm| okm.fill(&mut out))
        .expect("HKDF-SHA-256 gives 32 bytes");
    out
}

/// Why a stored value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("it is sealed with key {0}, which is not among secrets.encryption_keys")]
    UnknownKey(String),
    #[error("it does not open with its key: the key or the stored value is not the one sealed")]
    Corrupt,
    #[error("it is not sealed, and no encryption key is configured to open it")]
    NoKey,
}

struct Kek {
    id: String,
    key: LessSafeKey,
}

/// The configured key-encryption keys. Cheap to share behind an `Arc`.
pub struct Sealer {
    keys: Vec<Kek>,
    random: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Sealer").field("key_ids", &ids).finish()
    }
}

impl Sealer {
    /// Keys from their configured text, the sealing one first.
    pub fn new(secrets: &[SecretString]) -> Sealer {
        let keys = secrets
            .iter()
            .map(|secret| {
                let bytes = derive_key(secret.expose_secret().as_bytes(), KEK_LABEL);
                let id = hex::encode(&ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref()[..4]);
                let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &bytes).expect("a 256-bit key"));
                Kek { id, key }
            })
            .collect();
        Sealer { keys, random: SystemRandom::new() }
    }

    /// The id of the key that seals, if any.
    pub fn sealing_key_id(&self) -> Option<&str> {
        self.keys.first().map(|k| k.id.as_str())
    }

    /// Whether `stored` is sealed with the sealing key (else it should be sealed again).
    pub fn is_current(&self, stored: &str) -> bool {
        let id = stored.strip_prefix(PREFIX).and_then(|rest| rest.split_once(':')).map(|(id, _)| id);
        id.is_some() && id == self.sealing_key_id()
    }

    /// `plaintext` sealed with the first key, bound to `context` (what the value is, e.g.
    /// `signing_key:<kid>`: a sealed value moved to another row does not open). Unsealed when
    /// no key is configured.
    pub fn seal(&self, plaintext: &str, context: &str) -> String {
        let Some(kek) = self.keys.first() else { return plaintext.to_owned() };
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).expect("the system's random source works");
        let mut sealed = plaintext.as_bytes().to_vec();
        kek.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut sealed)
            .expect("AES-256-GCM seals any length stored here");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", kek.id, URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The plaintext of a stored value: opened if sealed, as it is if not (rows written before
    /// encryption, which `seal` then replaces).
    pub fn open(&self, stored: &str, context: &str) -> Result<SecretString, SealError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(SecretString::from(stored.to_owned()));
        };
        let (id, encoded) = rest.split_once(':').ok_or(SealError::Corrupt)?;
        if self.keys.is_empty() {
            return Err(SealError::NoKey);
        }
        let kek = self.keys.iter().find(|k| k.id == id).ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| SealError::Corrupt)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Corrupt);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Corrupt)?;
        let mut sealed = sealed.to_vec();
        let plaintext =
            kek.key.open_in_place(nonce, Aad::from(context.as_bytes()), &mut sealed).map_err(|_| SealError::Corrupt)?;
        String::from_utf8(plaintext.to_vec()).map(SecretString::from).map_err(|_| SealError::Corrupt)
    }
}

/// Seals every stored secret not yet sealed with the sealing key: rows from before encryption
/// was configured, and rows sealed with a key being rotated out. One transaction; returns how
/// many rows were sealed again. A row that opens with none of the keys fails the whole call.
pub fn reseal_stored(conn: &mut crate::DbConnection, sealer: &Sealer) -> Result<usize, crate::StorageError> {
    use crate::{server_secrets, signing_keys};
    if sealer.sealing_key_id().is_none() {
        return Ok(0);
    }
    let unreadable = |what: String, err: SealError| crate::StorageError::Unavailable(format!("{what}: {err}"));
    crate::in_transaction(conn, |conn| {
        let mut resealed = 0;
        for (kid, stored) in signing_keys::all_private_keys(conn)? {
            if !sealer.is_current(&stored) {
                let context = signing_keys::seal_context(&kid);
                let plain = sealer.open(&stored, &context).map_err(|e| unreadable(format!("signing key {kid}"), e))?;
                signing_keys::set_private_key(conn, &kid, &sealer.seal(plain.expose_secret(), &context))?;
                resealed += 1;
            }
        }
        for (name, stored) in server_secrets::all(conn)? {
            if !sealer.is_current(&stored) {
                let context = server_secrets::seal_context(&name);
                let plain = sealer.open(&stored, &context).map_err(|e| unreadable(format!("secret {name}"), e))?;
                server_secrets::set(conn, &name, &sealer.seal(plain.expose_secret(), &context))?;
                resealed += 1;
            }
        }
        Ok(resealed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(keys: &[&str]) -> Sealer {
        Sealer::new(&keys.iter().map(|k| SecretString::from(k.to_string())).collect::<Vec<_>>())
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let (old, new) = ("an old key-encryption key of 32+ chars", "a new key-encryption key of 32+ chars!");
        let sealed = sealer(&[old]).seal("-----BEGIN PRIVATE KEY-----", "signing_key:k1");
        assert!(sealed.starts_with("sealed:v1:") && !sealed.contains("PRIVATE"));
        let opened = sealer(&[new, old]).open(&sealed, "signing_key:k1").unwrap();
        assert_eq!(opened.expose_secret(), "-----BEGIN PRIVATE KEY-----", "any configured key opens");
        assert!(!sealer(&[new, old]).is_current(&sealed), "the rotation seals it again");
        assert_eq!(sealer(&[old]).open(&sealed, "signing_key:k2").unwrap_err(), SealError::Corrupt);
        assert!(matches!(sealer(&[new]).open(&sealed, "signing_key:k1"), Err(SealError::UnknownKey(_))));
        assert_eq!(sealer(&[]).open(&sealed, "signing_key:k1").unwrap_err(), SealError::NoKey);
        assert_eq!(sealer(&[old]).open("plain", "x").unwrap().expose_secret(), "plain", "not yet sealed");
    }

    #[test]
    fn labels_derive_unrelated_keys() {
        assert_ne!(derive_key(b"pepper", b"session v1"), derive_key(b"pepper", b"csrf v1"));
        assert_eq!(derive_key(b"pepper", b"session v1"), derive_key(b"pepper", b"session v1"));
    }
}
