//! What clients, keys and users are made of, as the API and the console take them: scopes
//! (RFC 6749 §3.3), redirect URIs (RFC 6749 §3.1.2), resource identifiers (RFC 8707 §2),
//! emails and issuers. What parses once parses again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollbooth_storage::values::{Email, Issuer, RedirectUri, ResourceIdentifier, ScopeSet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(scopes) = ScopeSet::parse(text) {
        let again = ScopeSet::parse(&scopes.to_string()).expect("a parsed scope set parses again");
        assert_eq!(again, scopes);
    }
    if let Ok(uri) = RedirectUri::parse(text) {
        assert_eq!(RedirectUri::parse(uri.as_str()).expect("parses again").as_str(), uri.as_str());
    }
    if let Ok(identifier) = ResourceIdentifier::parse(text) {
        assert!(ResourceIdentifier::parse(identifier.as_str()).is_ok());
    }
    if let Some(email) = Email::parse(text) {
        assert_eq!(Email::parse(email.as_str()).expect("parses again").as_str(), email.as_str());
    }
    if let Ok(issuer) = Issuer::parse(text) {
        assert!(Issuer::parse(issuer.as_str()).is_ok());
    }
});
