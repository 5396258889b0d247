//! The authorization request's query (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1, RFC
//! 7636 §4.3): unique parameters, then what it asks of the sign-in and its PKCE challenge.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollbooth_oauth::authorize::{Authentication, valid_challenge};
use tollbooth_oauth::request::unique_parameters;

fuzz_target!(|data: &[u8]| {
    let Some(params) = unique_parameters(data) else { return };
    let _ = Authentication::of(&params);
    if let Some(challenge) = params.get("code_challenge").filter(|challenge| valid_challenge(challenge)) {
        assert_eq!(challenge.len(), 43, "a SHA-256 challenge is 43 characters of base64url");
    }
});
