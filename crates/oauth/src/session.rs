//! The sign-in session and CSRF protection of the authorization pages, without server state:
//! both are values signed with the server's keyed hash (HMAC-SHA-256 with the pepper).

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use tollbooth_storage::secrets::SecretHasher;

pub const SESSION_COOKIE: &str = "tb_session";
pub const CSRF_COOKIE: &str = "tb_csrf";
/// How long a sign-in lasts.
pub const SESSION_SECONDS: i64 = 3600;

/// A signed-in user of one tenant, signed in for the clients of one organization (or of the
/// tenant as a whole when `organization_id` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: String,
    pub tenant_id: String,
    pub organization_id: Option<String>,
}

fn sign(hasher: &SecretHasher, purpose: &str, payload: &str) -> String {
    hasher.hash(&format!("{purpose}|{payload}"))
}

fn cookie(name: &'static str, value: String, secure: bool, max_age: i64) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/oauth")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish()
}

impl Session {
    /// The session cookie for this user, valid for an hour.
    pub fn cookie(&self, hasher: &SecretHasher, secure: bool) -> Cookie<'static> {
        let expires = chrono::Utc::now().timestamp() + SESSION_SECONDS;
        let organization = self.organization_id.as_deref().unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(format!("{}|{}|{organization}|{expires}", self.user_id, self.tenant_id));
        let value = format!("{payload}.{}", sign(hasher, "session", &payload));
        cookie(SESSION_COOKIE, value, secure, SESSION_SECONDS)
    }

    /// The session of the request, if its cookie is genuine and unexpired.
    pub fn of(request: &HttpRequest, hasher: &SecretHasher) -> Option<Session> {
        let cookie = request.cookie(SESSION_COOKIE)?;
        let (payload, mac) = cookie.value().split_once('.')?;
        if !hasher.verify(&format!("session|{payload}"), mac) {
            return None;
        }
        let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let mut parts = decoded.split('|');
        let (user_id, tenant_id, organization) = (parts.next()?, parts.next()?, parts.next()?);
        let expires = parts.next()?.parse::<i64>().ok()?;
        (expires > chrono::Utc::now().timestamp()).then(|| Session {
            user_id: user_id.to_owned(),
            tenant_id: tenant_id.to_owned(),
            organization_id: (!organization.is_empty()).then(|| organization.to_owned()),
        })
    }
}

/// Double-submit CSRF: a random nonce in an HttpOnly cookie, and its keyed hash in the form.
/// A forged cross-site form cannot know the hash.
pub struct Csrf {
    pub nonce: String,
    pub token: String,
}

impl Csrf {
    /// The nonce of the request's cookie if any (so open tabs stay valid), else a new one.
    pub fn for_form(request: &HttpRequest, hasher: &SecretHasher) -> Csrf {
        let nonce =
            request.cookie(CSRF_COOKIE).map(|c| c.value().to_owned()).filter(|n| n.len() == 43).unwrap_or_else(|| {
                let bytes: [u8; 32] = rand::rng().random();
                URL_SAFE_NO_PAD.encode(bytes)
            });
        let token = sign(hasher, "csrf", &nonce);
        Csrf { nonce, token }
    }

    pub fn cookie(&self, secure: bool) -> Cookie<'static> {
        cookie(CSRF_COOKIE, self.nonce.clone(), secure, SESSION_SECONDS)
    }

    /// Whether the form's token matches the request's CSRF cookie.
    pub fn verify(request: &HttpRequest, hasher: &SecretHasher, token: Option<&str>) -> bool {
        match (request.cookie(CSRF_COOKIE), token) {
            (Some(nonce), Some(token)) => hasher.verify(&format!("csrf|{}", nonce.value()), token),
            _ => false,
        }
    }
}
