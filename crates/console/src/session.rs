//! The console's sign-in session and CSRF tokens (docs/console.md), without server state: a
//! value signed with the session key derived from the pepper, under a purpose of its own so
//! that no OAuth session cookie is ever a console one, built like every sign-in cookie
//! (`tollbooth_oauth::cookies`) with `SameSite=Strict`. It is re-issued on every page; a
//! session idle for [`IDLE_SECONDS`], older than [`MAX_SECONDS`], or made before the user's
//! password last changed is over.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use tollbooth_oauth::cookies::{self, CookieScope, RANDOM_VALUE_LENGTH, random_value};
use tollbooth_oauth::session::SessionKeys;
use tollbooth_storage::ids::{self, Id};
use tollbooth_storage::users::User;

/// Now, in Unix seconds: what session times are counted in.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The tenant id of a console path (a malformed one names no console).
pub fn tenant_of(raw: &str) -> Option<Id<ids::Tenant>> {
    Id::parse(raw)
}

/// A console session ends after this long without a page view.
pub const IDLE_SECONDS: i64 = 30 * 60;
/// And this long after the sign-in, however busy.
pub const MAX_SECONDS: i64 = 12 * 3600;

const CONSOLE_COOKIES: CookieScope = CookieScope { plain_http_path: "/console", same_site: SameSite::Strict };
const SESSION_NAME: &str = "tb_console";
const SIGN_IN_NONCE_NAME: &str = "tb_console_csrf";
/// The purposes values are signed for: none is ever taken for another.
const SESSION_PURPOSE: &str = "console";
const CSRF_PURPOSE: &str = "console-csrf";
const SIGN_IN_PURPOSE: &str = "console-sign-in";
const PASSWORD_PURPOSE: &str = "console-password";

/// A console user signed in to one tenant. Who they are and what they may do is read again on
/// every page (the user may have been deleted, lost the admin role or changed their password
/// since).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub user_id: String,
    pub tenant_id: String,
    /// Random per sign-in: CSRF tokens are bound to it.
    id: String,
    /// A keyed hash of the password hash at sign-in: a new password ends the session.
    password_mark: String,
    signed_in_at: i64,
    last_seen: i64,
}

fn password_mark(keys: &SessionKeys, user: &User) -> String {
    cookies::mac(&keys.session, PASSWORD_PURPOSE, user.password_hash.as_deref().unwrap_or_default())
}

impl ConsoleSession {
    pub fn new(keys: &SessionKeys, user: &User, now: i64) -> Self {
        ConsoleSession {
            user_id: user.id.clone(),
            tenant_id: user.tenant_id.clone(),
            id: random_value(),
            password_mark: password_mark(keys, user),
            signed_in_at: now,
            last_seen: now,
        }
    }

    /// The request's session if its cookie is genuine, neither idle nor too old at `now`.
    pub fn of(request: &HttpRequest, keys: &SessionKeys, secure: bool, now: i64) -> Option<Self> {
        let cookie = request.cookie(&CookieScope::name(SESSION_NAME, secure))?;
        let fields = cookies::verified(&keys.session, SESSION_PURPOSE, cookie.value())?;
        let fields: Vec<&str> = fields.split('|').collect();
        let [user_id, tenant_id, id, password_mark, signed_in_at, last_seen] = fields.as_slice() else {
            return None;
        };
        let session = ConsoleSession {
            user_id: (*user_id).to_owned(),
            tenant_id: (*tenant_id).to_owned(),
            id: (*id).to_owned(),
            password_mark: (*password_mark).to_owned(),
            signed_in_at: signed_in_at.parse().ok()?,
            last_seen: last_seen.parse().ok()?,
        };
        session.is_live(now).then_some(session)
    }

    fn is_live(&self, now: i64) -> bool {
        now - self.last_seen <= IDLE_SECONDS && now - self.signed_in_at <= MAX_SECONDS
    }

    /// Whether `user`, as read now, is still the one who signed in: same password.
    pub fn still_holds(&self, keys: &SessionKeys, user: &User) -> bool {
        self.password_mark == password_mark(keys, user)
    }

    /// The session cookie, seen at `now`: the idle time starts again.
    pub fn cookie(&self, keys: &SessionKeys, secure: bool, now: i64) -> Cookie<'static> {
        let fields = format!(
            "{}|{}|{}|{}|{}|{now}",
            self.user_id, self.tenant_id, self.id, self.password_mark, self.signed_in_at
        );
        CONSOLE_COOKIES.cookie(
            SESSION_NAME,
            cookies::signed(&keys.session, SESSION_PURPOSE, &fields),
            secure,
            IDLE_SECONDS,
        )
    }

    /// The cookie that ends the session (sign out, or a session that no longer holds).
    pub fn removal(secure: bool) -> Cookie<'static> {
        CONSOLE_COOKIES.removal(SESSION_NAME, secure)
    }

    /// The CSRF token of this session's forms.
    pub fn csrf_token(&self, keys: &SessionKeys) -> String {
        cookies::mac(&keys.csrf, CSRF_PURPOSE, &format!("{}|{}", self.user_id, self.id))
    }

    pub fn accepts_csrf(&self, keys: &SessionKeys, token: Option<&str>) -> bool {
        let expected = format!("{CSRF_PURPOSE}|{}|{}", self.user_id, self.id);
        token.is_some_and(|token| keys.csrf.verify(&expected, token))
    }
}

/// The sign-in form's CSRF protection, before there is a session: a random nonce in a cookie of
/// its own and its keyed hash in the form.
pub struct SignInNonce(String);

impl SignInNonce {
    /// The request's nonce if it has one (so open tabs stay valid), else a new one.
    pub fn for_form(request: &HttpRequest, secure: bool) -> Self {
        let existing = request.cookie(&CookieScope::name(SIGN_IN_NONCE_NAME, secure)).map(|c| c.value().to_owned());
        SignInNonce(existing.filter(|nonce| nonce.len() == RANDOM_VALUE_LENGTH).unwrap_or_else(random_value))
    }

    pub fn cookie(&self, secure: bool) -> Cookie<'static> {
        CONSOLE_COOKIES.cookie(SIGN_IN_NONCE_NAME, self.0.clone(), secure, IDLE_SECONDS)
    }

    pub fn token(&self, keys: &SessionKeys) -> String {
        cookies::mac(&keys.csrf, SIGN_IN_PURPOSE, &self.0)
    }

    /// Whether the form's token is the one of the request's nonce cookie.
    pub fn verify(request: &HttpRequest, keys: &SessionKeys, secure: bool, token: Option<&str>) -> bool {
        match (request.cookie(&CookieScope::name(SIGN_IN_NONCE_NAME, secure)), token) {
            (Some(nonce), Some(token)) => keys.csrf.verify(&format!("{SIGN_IN_PURPOSE}|{}", nonce.value()), token),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> ConsoleSession {
        ConsoleSession {
            user_id: "user_1".into(),
            tenant_id: "ten_1".into(),
            id: random_value(),
            password_mark: "mark".into(),
            signed_in_at: 1_000,
            last_seen: 1_000,
        }
    }

    #[test]
    fn a_session_ends_when_idle_or_old() {
        let session = session();
        assert!(session.is_live(1_000 + IDLE_SECONDS));
        assert!(!session.is_live(1_000 + IDLE_SECONDS + 1), "idle too long");
        let busy = ConsoleSession { last_seen: 1_000 + MAX_SECONDS, ..session.clone() };
        assert!(busy.is_live(1_000 + MAX_SECONDS));
        let old = ConsoleSession { last_seen: 1_000 + MAX_SECONDS + 1, ..session };
        assert!(!old.is_live(1_000 + MAX_SECONDS + 1), "older than the longest session");
    }

    /// The cookie round trip keeps the sign-in time and restarts the idle time; nothing but the
    /// console's own signature opens it.
    #[test]
    fn the_cookie_holds_the_session_and_only_the_consoles_signature_opens_it() {
        use tollbooth_storage::secrets::SecretHasher;
        let keys = SessionKeys { session: SecretHasher::new(b"session key"), csrf: SecretHasher::new(b"csrf key") };
        let session = session();
        let cookie = session.cookie(&keys, false, 1_500);
        let request = actix_web::test::TestRequest::default().cookie(cookie.clone()).to_http_request();
        let opened = ConsoleSession::of(&request, &keys, false, 1_500 + IDLE_SECONDS).expect("live");
        assert_eq!((opened.signed_in_at, opened.last_seen), (1_000, 1_500));
        assert!(ConsoleSession::of(&request, &keys, false, 1_500 + IDLE_SECONDS + 1).is_none());
        let oauth_signed = cookies::signed(&keys.session, "session", "user_1|ten_1|x|mark|1000|1500");
        let forged =
            actix_web::test::TestRequest::default().cookie(Cookie::new(SESSION_NAME, oauth_signed)).to_http_request();
        assert!(
            ConsoleSession::of(&forged, &keys, false, 1_500).is_none(),
            "an OAuth-signed value is no console session"
        );
        assert!(session.accepts_csrf(&keys, Some(&session.csrf_token(&keys))));
        let another = ConsoleSession { id: random_value(), ..session.clone() };
        assert!(!session.accepts_csrf(&keys, Some(&another.csrf_token(&keys))), "another session's token");
    }
}
