//! The authorization request's query (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1, RFC
//! 7636 §4.3): unique parameters, then what it asks of the sign-in and its PKCE challenge.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use tollbooth_oauth::authorize::{Authentication, valid_challenge};
use tollbooth_oauth::request::unique_parameters;

fuzz_target!(|data: &[u8]| {
    let Some(params) = unique_parameters(data) else { return };
    let _ = Authentication::of(&params);
    // An accepted challenge is canonical base64url of 32 bytes: the one encoding of its
    // digest, so no two spellings of one challenge pass.
    if let Some(challenge) = params.get("code_challenge").filter(|challenge| valid_challenge(challenge)) {
        let digest = URL_SAFE_NO_PAD.decode(challenge).expect("a valid challenge decodes");
        assert_eq!(&URL_SAFE_NO_PAD.encode(digest), challenge);
    }
});
