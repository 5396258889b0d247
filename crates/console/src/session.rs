//! The console's sign-in session and CSRF tokens (docs/console.md), without server state: a
//! value signed with the session key derived from the pepper, under a purpose of its own so
//! that no OAuth session cookie is ever a console one. The cookie is `HttpOnly`,
//! `SameSite=Strict` and, over HTTPS, `__Host-` prefixed (so `Secure`); it is re-issued on every
//! page, and a session idle for [`IDLE_SECONDS`] or older than [`MAX_SECONDS`] is over.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use tollbooth_oauth::session::SessionKeys;

/// A console session ends after this long without a page view.
pub const IDLE_SECONDS: i64 = 30 * 60;
/// And this long after the sign-in, however busy.
pub const MAX_SECONDS: i64 = 12 * 3600;

const SESSION_NAME: &str = "tb_console";
const SIGN_IN_NONCE_NAME: &str = "tb_console_csrf";

fn cookie_name(name: &str, secure: bool) -> String {
    if secure { format!("__Host-{name}") } else { name.to_owned() }
}

fn cookie(name: &str, value: String, secure: bool, max_age: i64) -> Cookie<'static> {
    Cookie::build(cookie_name(name, secure), value)
        // `__Host-` cookies must have Path=/.
        .path(if secure { "/" } else { "/console" })
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish()
}

fn random_id() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A console user signed in to one tenant. Who they are and what they may do is read again on
/// every page (the user may have been deleted or lost the admin role since).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub user_id: String,
    pub tenant_id: String,
    /// Random per sign-in: CSRF tokens are bound to it.
    id: String,
    signed_in_at: i64,
    last_seen: i64,
}

impl ConsoleSession {
    pub fn new(user_id: String, tenant_id: String, now: i64) -> Self {
        ConsoleSession { user_id, tenant_id, id: random_id(), signed_in_at: now, last_seen: now }
    }

    /// The request's session if its cookie is genuine, neither idle nor too old at `now`.
    pub fn of(request: &HttpRequest, keys: &SessionKeys, secure: bool, now: i64) -> Option<Self> {
        let cookie = request.cookie(&cookie_name(SESSION_NAME, secure))?;
        let (payload, mac) = cookie.value().split_once('.')?;
        if !keys.session.verify(&format!("console|{payload}"), mac) {
            return None;
        }
        let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let fields: Vec<&str> = decoded.split('|').collect();
        let [user_id, tenant_id, id, signed_in_at, last_seen] = fields.as_slice() else { return None };
        let session = ConsoleSession {
            user_id: (*user_id).to_owned(),
            tenant_id: (*tenant_id).to_owned(),
            id: (*id).to_owned(),
            signed_in_at: signed_in_at.parse().ok()?,
            last_seen: last_seen.parse().ok()?,
        };
        session.is_live(now).then_some(session)
    }

    fn is_live(&self, now: i64) -> bool {
        now - self.last_seen <= IDLE_SECONDS && now - self.signed_in_at <= MAX_SECONDS
    }

    /// The session cookie, seen at `now`: the idle time starts again.
    pub fn cookie(&self, keys: &SessionKeys, secure: bool, now: i64) -> Cookie<'static> {
        let payload = URL_SAFE_NO_PAD
            .encode(format!("{}|{}|{}|{}|{now}", self.user_id, self.tenant_id, self.id, self.signed_in_at));
        let value = format!("{payload}.{}", keys.session.hash(&format!("console|{payload}")));
        cookie(SESSION_NAME, value, secure, IDLE_SECONDS)
    }

    /// The cookie that ends the session (sign out).
    pub fn removal(secure: bool) -> Cookie<'static> {
        let mut removal = cookie(SESSION_NAME, String::new(), secure, 0);
        removal.make_removal();
        removal
    }

    /// The CSRF token of this session's forms.
    pub fn csrf_token(&self, keys: &SessionKeys) -> String {
        keys.csrf.hash(&format!("console|{}|{}", self.user_id, self.id))
    }

    pub fn accepts_csrf(&self, keys: &SessionKeys, token: Option<&str>) -> bool {
        token.is_some_and(|token| keys.csrf.verify(&format!("console|{}|{}", self.user_id, self.id), token))
    }
}

/// The sign-in form's CSRF protection, before there is a session: a random nonce in a cookie of
/// its own and its keyed hash in the form.
pub struct SignInNonce(String);

impl SignInNonce {
    /// The request's nonce if it has one (so open tabs stay valid), else a new one.
    pub fn for_form(request: &HttpRequest, secure: bool) -> Self {
        let existing = request.cookie(&cookie_name(SIGN_IN_NONCE_NAME, secure)).map(|c| c.value().to_owned());
        SignInNonce(existing.filter(|nonce| nonce.len() == 22).unwrap_or_else(random_id))
    }

    pub fn cookie(&self, secure: bool) -> Cookie<'static> {
        cookie(SIGN_IN_NONCE_NAME, self.0.clone(), secure, IDLE_SECONDS)
    }

    pub fn token(&self, keys: &SessionKeys) -> String {
        keys.csrf.hash(&format!("console-sign-in|{}", self.0))
    }

    /// Whether the form's token is the one of the request's nonce cookie.
    pub fn verify(request: &HttpRequest, keys: &SessionKeys, secure: bool, token: Option<&str>) -> bool {
        match (request.cookie(&cookie_name(SIGN_IN_NONCE_NAME, secure)), token) {
            (Some(nonce), Some(token)) => keys.csrf.verify(&format!("console-sign-in|{}", nonce.value()), token),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_when_idle_or_old() {
        let session = ConsoleSession::new("user_1".into(), "ten_1".into(), 1_000);
        assert!(session.is_live(1_000 + IDLE_SECONDS));
        assert!(!session.is_live(1_000 + IDLE_SECONDS + 1), "idle too long");
        let busy = ConsoleSession { last_seen: 1_000 + MAX_SECONDS, ..session.clone() };
        assert!(busy.is_live(1_000 + MAX_SECONDS));
        let old = ConsoleSession { last_seen: 1_000 + MAX_SECONDS + 1, ..session };
        assert!(!old.is_live(1_000 + MAX_SECONDS + 1), "older than the longest session");
    }
}
