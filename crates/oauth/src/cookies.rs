//! The cookies of the server's sign-in pages — the authorization endpoint's and the console's —
//! built one way: `HttpOnly`; over HTTPS `__Host-` prefixed (RFC 6265bis §4.1.3.2: `Secure`,
//! `Path=/`, no `Domain`, so no other host or plain-HTTP page can set or overwrite them); over
//! plain HTTP (development on loopback) plain names on a path of their own, which clients then
//! still send. Signed values carry a purpose, so a value signed for one use is never taken for
//! another.

use actix_web::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use tollbooth_storage::secrets::SecretHasher;

/// Where a family of cookies lives.
#[derive(Debug, Clone, Copy)]
pub struct CookieScope {
    /// The path over plain HTTP (over HTTPS, `__Host-` cookies must have `Path=/`).
    pub plain_http_path: &'static str,
    pub same_site: SameSite,
}

impl CookieScope {
    /// The name of a cookie: with the `__Host-` prefix when served over HTTPS.
    pub fn name(name: &str, secure: bool) -> String {
        if secure { format!("__Host-{name}") } else { name.to_owned() }
    }

    pub fn cookie(&self, name: &str, value: String, secure: bool, max_age_seconds: i64) -> Cookie<'static> {
        Cookie::build(Self::name(name, secure), value)
            .path(if secure { "/" } else { self.plain_http_path })
            .http_only(true)
            .same_site(self.same_site)
            .secure(secure)
            .max_age(actix_web::cookie::time::Duration::seconds(max_age_seconds))
            .finish()
    }

    /// A cookie that deletes the one called `name`.
    pub fn removal(&self, name: &str, secure: bool) -> Cookie<'static> {
        let mut removal = self.cookie(name, String::new(), secure, 0);
        removal.make_removal();
        removal
    }
}

/// How long [`random_value`]s are: 32 random bytes, base64url.
pub const RANDOM_VALUE_LENGTH: usize = 43;

/// A new random value (a nonce, a session id): 256 bits.
pub fn random_value() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The keyed hash of `payload` for `purpose`.
pub fn mac(hasher: &SecretHasher, purpose: &str, payload: &str) -> String {
    hasher.hash(&format!("{purpose}|{payload}"))
}

/// `fields` signed for `purpose`, as a cookie value: their base64url form, `.`, its MAC.
pub fn signed(hasher: &SecretHasher, purpose: &str, fields: &str) -> String {
    let payload = URL_SAFE_NO_PAD.encode(fields);
    let mac = mac(hasher, purpose, &payload);
    format!("{payload}.{mac}")
}

/// The fields of a value [`signed`] for `purpose`, if its MAC holds.
pub fn verified(hasher: &SecretHasher, purpose: &str, value: &str) -> Option<String> {
    let (payload, mac) = value.split_once('.')?;
    if !hasher.verify(&format!("{purpose}|{payload}"), mac) {
        return None;
    }
    String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_value_opens_only_for_its_purpose_and_unaltered() {
        let hasher = SecretHasher::new(b"a pepper for this test");
        let value = signed(&hasher, "console", "user_1|ten_1");
        assert_eq!(verified(&hasher, "console", &value).as_deref(), Some("user_1|ten_1"));
        assert_eq!(verified(&hasher, "session", &value), None, "another purpose");
        let mut altered = value.clone();
        altered.insert(1, 'x');
        assert_eq!(verified(&hasher, "console", &altered), None);
        assert_eq!(verified(&SecretHasher::new(b"another pepper"), "console", &value), None);
    }
}
