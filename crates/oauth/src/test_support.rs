//! Values for the unit tests of grants and the issuer, built without a server or a database.

use tollbooth_storage::Json;
use tollbooth_storage::clients::Client;
use tollbooth_storage::secrets::SecretHasher;

use crate::keys::{KeySnapshot, SigningAlgorithm, generate_signing_key};

/// A signing key of its own and a hasher.
pub fn issuer_for_tests() -> (KeySnapshot, SecretHasher) {
    let key = generate_signing_key(SigningAlgorithm::ES256, tollbooth_storage::now()).expect("a new key");
    (KeySnapshot::from_keys(&[key]).expect("a snapshot"), SecretHasher::new(b"pepper of the unit tests"))
}

/// A client of tenant `ten_test` with these grant types and scopes.
pub fn client(confidential: bool, grant_types: &[&str], scopes: &[&str]) -> Client {
    let owned = |items: &[&str]| Json(items.iter().map(|s| s.to_string()).collect());
    let now = tollbooth_storage::now();
    Client {
        id: "client_test".into(),
        tenant_id: "ten_test".into(),
        organization_id: None,
        name: "Test".into(),
        confidential,
        secret_hash: None,
        secret_redacted: None,
        previous_secret_hash: None,
        previous_secret_expires_at: None,
        redirect_uris: owned(&["https://app.test/cb"]),
        grant_types: owned(grant_types),
        scopes: owned(scopes),
        skip_consent: false,
        access_token_ttl: 300,
        created_at: now,
        updated_at: now,
    }
}
