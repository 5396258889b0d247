//! Signing keys (docs/security.md): generated on first start, stored in the database, published in the
//! JWKS, rotated by `tollbooth keys rotate`. A retired key stays published until every token
//! it signed has expired. Each instance keeps the published set in memory and reloads it
//! periodically and whenever a token names a key it does not know.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::NaiveDateTime;
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{ES256, EdDSA, JwsSigner, JwsVerifier, RS256};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tollbooth_storage::{Database, StorageError, signing_keys, signing_keys::SigningKey};

/// The JWS algorithms Tollbooth signs with (docs/oauth.md: ES256 by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    #[default]
    ES256,
    RS256,
    EdDSA,
}

impl SigningAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            SigningAlgorithm::ES256 => "ES256",
            SigningAlgorithm::RS256 => "RS256",
            SigningAlgorithm::EdDSA => "EdDSA",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [SigningAlgorithm::ES256, SigningAlgorithm::RS256, SigningAlgorithm::EdDSA]
            .into_iter()
            .find(|alg| alg.name() == name)
    }

    fn generate(self) -> Result<(Vec<u8>, Jwk), KeyError> {
        let (pem, jwk) = match self {
            SigningAlgorithm::ES256 => {
                let pair = ES256.generate_key_pair()?;
                (pair.to_pem_private_key(), pair.to_jwk_public_key())
            }
            SigningAlgorithm::RS256 => {
                let pair = RS256.generate_key_pair(2048)?;
                (pair.to_pem_private_key(), pair.to_jwk_public_key())
            }
            SigningAlgorithm::EdDSA => {
                let pair = EdDSA.generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519)?;
                (pair.to_pem_private_key(), pair.to_jwk_public_key())
            }
        };
        Ok((pem, jwk))
    }

    fn signer(self, pem: &[u8]) -> Result<Box<dyn JwsSigner>, KeyError> {
        Ok(match self {
            SigningAlgorithm::ES256 => match RingEs256Signer::from_pem(pem) {
                Some(signer) => Box::new(signer),
                None => Box::new(ES256.signer_from_pem(pem)?),
            },
            SigningAlgorithm::RS256 => Box::new(RS256.signer_from_pem(pem)?),
            SigningAlgorithm::EdDSA => Box::new(EdDSA.signer_from_pem(pem)?),
        })
    }

    fn verifier(self, jwk: &Jwk) -> Result<Box<dyn JwsVerifier>, KeyError> {
        Ok(match self {
            SigningAlgorithm::ES256 => Box::new(ES256.verifier_from_jwk(jwk)?),
            SigningAlgorithm::RS256 => Box::new(RS256.verifier_from_jwk(jwk)?),
            SigningAlgorithm::EdDSA => Box::new(EdDSA.verifier_from_jwk(jwk)?),
        })
    }
}

/// ES256 signatures made by ring rather than by josekit's OpenSSL signer, whose per-signature
/// context set-up in OpenSSL 3 cost four times the curve arithmetic: about a third of the
/// server's CPU per refresh grant. josekit still builds and verifies the tokens.
#[derive(Debug, Clone)]
struct RingEs256Signer {
    key_pair: Arc<EcdsaKeyPair>,
    random: SystemRandom,
}

#[derive(Debug, thiserror::Error)]
#[error("ECDSA signing failed")]
struct EcdsaSigningFailed;

impl RingEs256Signer {
    /// The signer of a PKCS#8 PEM P-256 key (as josekit writes them); `None` for a PEM ring
    /// does not read, which josekit's signer then handles.
    fn from_pem(pem: &[u8]) -> Option<Self> {
        let pem = std::str::from_utf8(pem).ok()?;
        let body = pem.trim().strip_prefix("-----BEGIN PRIVATE KEY-----")?.strip_suffix("-----END PRIVATE KEY-----")?;
        let body: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(body).ok()?;
        let random = SystemRandom::new();
        let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &random).ok()?;
        Some(RingEs256Signer { key_pair: Arc::new(key_pair), random })
    }
}

impl JwsSigner for RingEs256Signer {
    fn algorithm(&self) -> &dyn josekit::jws::JwsAlgorithm {
        &ES256
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    /// JWS ES256 signatures are R and S, 32 bytes each (RFC 7518 §3.4).
    fn signature_len(&self) -> usize {
        64
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, josekit::JoseError> {
        let signature = self
            .key_pair
            .sign(&self.random, message)
            .map_err(|_| josekit::JoseError::InvalidSignature(EcdsaSigningFailed.into()))?;
        Ok(signature.as_ref().to_vec())
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(self.clone())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("signing key error: {0}")]
    Jose(#[from] josekit::JoseError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("stored signing key {kid} is unusable: {reason}")]
    Unusable { kid: String, reason: String },
    #[error("no current signing key")]
    NoCurrentKey,
}

/// A key that signs: the newest unretired key of its algorithm.
struct CurrentKey {
    kid: String,
    signer: Box<dyn JwsSigner>,
}

/// The signing keys in use and every published key's verifier, as of the last load. Access
/// tokens are signed with the key of `token.signing_algorithm`; ID tokens with the RS256 key,
/// or the ES256 key for clients that ask for it (OpenID Connect Core §15.1, docs/oidc.md).
pub struct KeySnapshot {
    access_token_algorithm: SigningAlgorithm,
    /// The current key of `access_token_algorithm`: a snapshot always has one.
    access_token_key: CurrentKey,
    /// The current keys of the other algorithms.
    current: HashMap<SigningAlgorithm, CurrentKey>,
    verifiers: HashMap<String, Box<dyn JwsVerifier>>,
    /// The RFC 7517 JWK Set document, serialized once per load.
    pub jwks_json: Arc<str>,
}

/// The algorithms a server with access tokens signed by `access_token_algorithm` keeps a
/// current key of: that one, and the two ID tokens are signed with.
pub fn algorithms_in_use(access_token_algorithm: SigningAlgorithm) -> Vec<SigningAlgorithm> {
    let mut algorithms = vec![access_token_algorithm];
    for id_token_algorithm in [SigningAlgorithm::RS256, SigningAlgorithm::ES256] {
        if !algorithms.contains(&id_token_algorithm) {
            algorithms.push(id_token_algorithm);
        }
    }
    algorithms
}

impl KeySnapshot {
    /// The key access tokens are signed with: its `kid` and signer.
    pub fn access_token_signer(&self) -> (&str, &dyn JwsSigner) {
        (self.access_token_key.kid.as_str(), self.access_token_key.signer.as_ref())
    }

    /// The current key of `algorithm`, if this server keeps one.
    pub fn signer(&self, algorithm: SigningAlgorithm) -> Option<(&str, &dyn JwsSigner)> {
        if algorithm == self.access_token_algorithm {
            return Some(self.access_token_signer());
        }
        self.current.get(&algorithm).map(|key| (key.kid.as_str(), key.signer.as_ref()))
    }

    pub fn verifier(&self, kid: &str) -> Option<&dyn JwsVerifier> {
        self.verifiers.get(kid).map(AsRef::as_ref)
    }

    /// The snapshot of `keys` (private keys opened, newest first): of each algorithm, the first
    /// one not retired signs. There must be one of `access_token_algorithm`.
    pub fn from_keys(keys: &[SigningKey], access_token_algorithm: SigningAlgorithm) -> Result<Self, KeyError> {
        let mut verifiers = HashMap::new();
        let mut current = HashMap::new();
        let mut published = Vec::new();
        for key in keys {
            let unusable = |reason: String| KeyError::Unusable { kid: key.kid.clone(), reason };
            let algorithm =
                SigningAlgorithm::parse(&key.algorithm).ok_or_else(|| unusable("unknown algorithm".into()))?;
            let jwk = Jwk::from_bytes(key.public_jwk.as_bytes()).map_err(|e| unusable(e.to_string()))?;
            verifiers.insert(key.kid.clone(), algorithm.verifier(&jwk)?);
            published.push(serde_json::Value::Object(jwk.into()));
            if key.retired_at.is_none() && !current.contains_key(&algorithm) {
                let signer = algorithm.signer(key.private_key_pem.as_bytes())?;
                current.insert(algorithm, CurrentKey { kid: key.kid.clone(), signer });
            }
        }
        let access_token_key = current.remove(&access_token_algorithm).ok_or(KeyError::NoCurrentKey)?;
        let jwks_json = serde_json::json!({ "keys": published }).to_string();
        Ok(KeySnapshot { access_token_algorithm, access_token_key, current, verifiers, jwks_json: jwks_json.into() })
    }
}

/// A new key of `algorithm`, ready to store: its public JWK carries `kid`, `alg` and `use`.
pub fn generate_signing_key(algorithm: SigningAlgorithm, now: NaiveDateTime) -> Result<SigningKey, KeyError> {
    let kid = ulid::Ulid::new().to_string().to_lowercase();
    let (pem, mut jwk) = algorithm.generate()?;
    jwk.set_key_id(&kid);
    jwk.set_algorithm(algorithm.name());
    jwk.set_key_use("sig");
    Ok(SigningKey {
        kid,
        algorithm: algorithm.name().to_owned(),
        private_key_pem: String::from_utf8(pem)
            .map_err(|e| KeyError::Unusable { kid: String::new(), reason: e.to_string() })?,
        public_jwk: jwk.to_string(),
        created_at: now,
        retired_at: None,
        expires_at: None,
    })
}

/// `key` as stored: its private key sealed with the database's key-encryption key.
fn sealed(db: &Database, key: &SigningKey) -> SigningKey {
    let context = signing_keys::seal_context(&key.kid);
    SigningKey { private_key_pem: db.sealer().seal(&key.private_key_pem, &context), ..key.clone() }
}

/// Stored keys with their private keys opened, for signing.
fn opened(db: &Database, keys: Vec<SigningKey>) -> Result<Vec<SigningKey>, KeyError> {
    keys.into_iter()
        .map(|key| {
            let context = signing_keys::seal_context(&key.kid);
            let pem = db.sealer().open(&key.private_key_pem, &context);
            let pem = pem.map_err(|e| KeyError::Unusable { kid: key.kid.clone(), reason: e.to_string() })?;
            Ok(SigningKey { private_key_pem: pem.expose_secret().to_owned(), ..key })
        })
        .collect()
}

/// Stores a new current key of each algorithm in use and retires the old ones, which stay
/// published for `longest_token_lifetime` so that every token they signed can still be verified.
/// Returns the new keys' ids and how many keys were retired.
pub fn rotate(
    db: &Database,
    access_token_algorithm: SigningAlgorithm,
    longest_token_lifetime: chrono::Duration,
) -> Result<(Vec<String>, usize), KeyError> {
    let now = tollbooth_storage::now();
    let keys = algorithms_in_use(access_token_algorithm)
        .into_iter()
        .map(|algorithm| Ok(sealed(db, &generate_signing_key(algorithm, now)?)))
        .collect::<Result<Vec<_>, KeyError>>()?;
    let retired = db.run_blocking(|conn| signing_keys::rotate(conn, &keys, now, now + longest_token_lifetime))?;
    Ok((keys.into_iter().map(|key| key.kid).collect(), retired))
}

/// The in-memory key set of one instance.
pub struct KeyRing {
    db: Database,
    access_token_algorithm: SigningAlgorithm,
    snapshot: RwLock<Arc<KeySnapshot>>,
    last_reload: std::sync::Mutex<Instant>,
}

/// An unknown `kid` triggers a reload at most this often, so forged kids cannot flood the database.
const MIN_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

impl KeyRing {
    /// Loads the published keys, creating a first key of each algorithm in use that has none
    /// (a server upgraded from before ID tokens gets its RS256 key here). Runs at start-up,
    /// before the server accepts requests.
    pub fn load_or_create(db: Database, access_token_algorithm: SigningAlgorithm) -> Result<Self, KeyError> {
        let now = tollbooth_storage::now();
        let mut keys = db.run_blocking(|conn| signing_keys::published(conn, now))?;
        let mut created = false;
        for algorithm in algorithms_in_use(access_token_algorithm) {
            if keys.iter().any(|k| k.retired_at.is_none() && k.algorithm == algorithm.name()) {
                continue;
            }
            let key = sealed(&db, &generate_signing_key(algorithm, now)?);
            db.run_blocking(|conn| signing_keys::insert(conn, &key))?;
            tracing::info!(kid = %key.kid, algorithm = algorithm.name(), "generated a first signing key");
            created = true;
        }
        if created {
            keys = db.run_blocking(|conn| signing_keys::published(conn, now))?;
        }
        let snapshot = KeySnapshot::from_keys(&opened(&db, keys)?, access_token_algorithm)?;
        Ok(KeyRing {
            db,
            access_token_algorithm,
            snapshot: RwLock::new(Arc::new(snapshot)),
            last_reload: std::sync::Mutex::new(Instant::now()),
        })
    }

    pub fn snapshot(&self) -> Arc<KeySnapshot> {
        self.snapshot.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Re-reads the published keys (another instance or the CLI may have rotated them).
    pub async fn reload(&self) -> Result<(), KeyError> {
        *self.last_reload.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        let now = tollbooth_storage::now();
        let keys = self.db.run(move |conn| signing_keys::published(conn, now)).await?;
        let snapshot = KeySnapshot::from_keys(&opened(&self.db, keys)?, self.access_token_algorithm)?;
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(snapshot);
        Ok(())
    }

    /// Reloads if the last reload is older than the minimum interval; returns whether it did.
    pub async fn reload_if_stale(&self) -> bool {
        let stale = self.last_reload.lock().unwrap_or_else(|p| p.into_inner()).elapsed() >= MIN_RELOAD_INTERVAL;
        if stale && let Err(err) = self.reload().await {
            tracing::warn!(error = %err, "reloading signing keys failed");
        }
        stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ring signer reads the keys this server generates, and what it signs verifies with
    /// josekit against the published JWK.
    #[test]
    fn es256_tokens_signed_by_ring_verify_with_the_published_key() {
        let key = generate_signing_key(SigningAlgorithm::ES256, tollbooth_storage::now()).unwrap();
        assert!(!format!("{key:?}").contains("PRIVATE KEY"), "no private key in Debug output");
        let signer = RingEs256Signer::from_pem(key.private_key_pem.as_bytes()).expect("ring reads josekit's PEM");
        let snapshot = KeySnapshot::from_keys(std::slice::from_ref(&key), SigningAlgorithm::ES256).unwrap();
        let verifier = snapshot.verifier(&key.kid).unwrap();
        let mut payload = josekit::jwt::JwtPayload::new();
        payload.set_subject("user_1");
        let mut header = josekit::jws::JwsHeader::new();
        header.set_key_id(key.kid.as_str());
        let token = josekit::jwt::encode_with_signer(&payload, &header, &signer).unwrap();
        let (verified, _) = josekit::jwt::decode_with_verifier(&token, verifier).unwrap();
        assert_eq!(verified.subject(), Some("user_1"));
        let mut forged = token.clone();
        forged.replace_range(forged.len() - 4.., "AAAA");
        assert!(josekit::jwt::decode_with_verifier(&forged, verifier).is_err());
        assert!(RingEs256Signer::from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").is_none());
    }
}
