//! The sign-in session and CSRF protection of the authorization pages, without server state:
//! both are values signed (HMAC-SHA-256) with keys of their own, derived from the pepper.
//!
//! Over HTTPS the cookies carry the `__Host-` prefix (RFC 6265bis §4.1.3.2): `Secure`, `Path=/`
//! and no `Domain`, so no other host or plain-HTTP page can set or overwrite them. Over plain
//! HTTP (development on loopback) they keep plain names, which clients then still send.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use tollbooth_storage::secrets::SecretHasher;

use crate::cookies::{self, CookieScope, RANDOM_VALUE_LENGTH, random_value};

/// The keys of sessions and CSRF tokens, derived from the pepper each with its own label: a
/// leaked one forges neither the other nor any stored hash.
#[derive(Clone)]
pub struct SessionKeys {
    pub session: SecretHasher,
    pub csrf: SecretHasher,
}

/// The authorization endpoint's cookies: on `/oauth` over plain HTTP, `SameSite=Lax` so that
/// a client's redirect to the sign-in page carries the session.
const OAUTH_COOKIES: CookieScope = CookieScope { plain_http_path: "/oauth", same_site: SameSite::Lax };
const SESSION_NAME: &str = "tb_session";
const CSRF_NAME: &str = "tb_csrf";
/// How long a sign-in lasts.
pub const SESSION_SECONDS: i64 = 3600;

/// A signed-in user of one tenant, signed in for the clients of one organization (or of the
/// tenant as a whole when `organization_id` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: String,
    pub tenant_id: String,
    pub organization_id: Option<String>,
    /// When the user typed their password (Unix seconds): OpenID Connect's `auth_time`.
    pub auth_time: i64,
    /// A random id of this sign-in: OpenID Connect's `sid`.
    pub session_id: String,
}

/// The raw value of the request's session cookie, genuine or not: what CSRF tokens bind to.
fn session_cookie_value(request: &HttpRequest, secure: bool) -> String {
    request.cookie(&CookieScope::name(SESSION_NAME, secure)).map(|c| c.value().to_owned()).unwrap_or_default()
}

impl Session {
    /// A sign-in of `user_id` now, with a new session id.
    pub fn new(user_id: String, tenant_id: String, organization_id: Option<String>) -> Self {
        Session {
            user_id,
            tenant_id,
            organization_id,
            auth_time: chrono::Utc::now().timestamp(),
            session_id: random_value(),
        }
    }

    /// The session cookie for this user, valid for an hour from the sign-in.
    pub fn cookie(&self, keys: &SessionKeys, secure: bool) -> Cookie<'static> {
        let expires = self.auth_time + SESSION_SECONDS;
        let organization = self.organization_id.as_deref().unwrap_or_default();
        let fields = format!(
            "{}|{}|{organization}|{expires}|{}|{}",
            self.user_id, self.tenant_id, self.auth_time, self.session_id
        );
        let value = cookies::signed(&keys.session, "session", &fields);
        OAUTH_COOKIES.cookie(SESSION_NAME, value, secure, SESSION_SECONDS)
    }

    /// The cookie that ends the request's sign-in session, whoever it was (RP-initiated logout).
    pub fn removal_cookie(secure: bool) -> Cookie<'static> {
        OAUTH_COOKIES.removal(SESSION_NAME, secure)
    }

    /// The session of the request, if its cookie is genuine and unexpired.
    pub fn of(request: &HttpRequest, keys: &SessionKeys, secure: bool) -> Option<Session> {
        let cookie = request.cookie(&CookieScope::name(SESSION_NAME, secure))?;
        let decoded = cookies::verified(&keys.session, "session", cookie.value())?;
        let mut parts = decoded.split('|');
        let (user_id, tenant_id, organization) = (parts.next()?, parts.next()?, parts.next()?);
        let expires = parts.next()?.parse::<i64>().ok()?;
        let auth_time = parts.next()?.parse::<i64>().ok()?;
        let session_id = parts.next()?;
        (expires > chrono::Utc::now().timestamp()).then(|| Session {
            user_id: user_id.to_owned(),
            tenant_id: tenant_id.to_owned(),
            organization_id: (!organization.is_empty()).then(|| organization.to_owned()),
            auth_time,
            session_id: session_id.to_owned(),
        })
    }
}

/// Double-submit CSRF bound to the session: a random nonce in an HttpOnly cookie, and in the
/// form the keyed hash of the nonce and of the session cookie the form will be posted with. A
/// forged cross-site form cannot know it, and a token taken from one session (or from before a
/// sign-in) is refused in another.
pub struct Csrf {
    nonce: String,
    secure: bool,
}

impl Csrf {
    /// The nonce of the request's cookie if any (so open tabs stay valid), else a new one.
    pub fn for_form(request: &HttpRequest, secure: bool) -> Csrf {
        let nonce = request
            .cookie(&CookieScope::name(CSRF_NAME, secure))
            .map(|c| c.value().to_owned())
            .filter(|n| n.len() == RANDOM_VALUE_LENGTH)
            .unwrap_or_else(random_value);
        Csrf { nonce, secure }
    }

    pub fn cookie(&self) -> Cookie<'static> {
        OAUTH_COOKIES.cookie(CSRF_NAME, self.nonce.clone(), self.secure, SESSION_SECONDS)
    }

    fn token_for(keys: &SessionKeys, nonce: &str, session_cookie: &str) -> String {
        cookies::mac(&keys.csrf, "csrf", &format!("{nonce}|{session_cookie}"))
    }

    /// The form token for a page answered to `request`; `new_session` is the session cookie the
    /// same answer sets, if it signs the user in.
    pub fn token(&self, keys: &SessionKeys, request: &HttpRequest, new_session: Option<&Cookie<'_>>) -> String {
        let session = match new_session {
            Some(cookie) => cookie.value().to_owned(),
            None => session_cookie_value(request, self.secure),
        };
        Csrf::token_for(keys, &self.nonce, &session)
    }

    /// Whether the form's token matches the request's CSRF cookie and session cookie.
    pub fn verify(request: &HttpRequest, keys: &SessionKeys, secure: bool, token: Option<&str>) -> bool {
        match (request.cookie(&CookieScope::name(CSRF_NAME, secure)), token) {
            (Some(nonce), Some(token)) => {
                let session = session_cookie_value(request, secure);
                keys.csrf.verify(&format!("csrf|{}|{session}", nonce.value()), token)
            }
            _ => false,
        }
    }
}
