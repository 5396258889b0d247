//! JWT verification (RFC 7519, RFC 7515): access tokens and ID-token hints presented by
//! anyone. A key of each algorithm is made once, under the kid `fuzz`, so that inputs naming
//! it reach signature verification.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tollbooth_oauth::jwt::{self, TokenExpectations};
use tollbooth_oauth::keys::{KeySnapshot, SigningAlgorithm, generate_signing_key};

static KEYS: LazyLock<KeySnapshot> = LazyLock::new(|| {
    let now = chrono::Utc::now().naive_utc();
    let mut key = generate_signing_key(SigningAlgorithm::ES256, now).expect("a key");
    key.kid = "fuzz".to_owned();
    KeySnapshot::from_keys(&[key], SigningAlgorithm::ES256).expect("a snapshot")
});

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let expectations = TokenExpectations { issuer: "https://issuer.example".to_owned() };
    // Nothing a stranger can write verifies: there is no way to sign with the key.
    assert!(jwt::verify(&KEYS, &expectations, token, 0).is_err());
    assert!(jwt::verify_id_token_hint(&KEYS, &expectations, token).is_err());
});
