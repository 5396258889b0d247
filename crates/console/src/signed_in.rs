//! Who a console page is for: the request's session, and its user read again, who must still
//! exist and still be an admin of the tenant. Their reach is the API's: the tenant, or their
//! organization (docs/security.md, "Authorization").

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use tollbooth_oauth::OAuth;
use tollbooth_storage::users::{self, ROLE_ADMIN, User};
use tollbooth_storage::{Reach, StorageError};

use crate::pages;
use crate::session::ConsoleSession;
use crate::sign_in::{no_such_console, see_other, tenant_of, unix_now};

/// A signed-in admin of the page's tenant.
pub struct SignedIn {
    session: ConsoleSession,
    pub user: User,
}

/// A failure of ours, as a page; the cause goes to the log.
pub fn failed(cause: &StorageError) -> HttpResponse {
    tracing::error!(error = %cause, "a console page failed");
    pages::message(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again.")
}

impl SignedIn {
    /// The signed-in admin of `raw_tenant_id`, or the answer instead: the sign-in form for no
    /// (live) session, 403 for a user who is no longer an admin.
    pub async fn of(request: &HttpRequest, raw_tenant_id: &str, oauth: &OAuth) -> Result<Self, HttpResponse> {
        let tenant_id = tenant_of(raw_tenant_id).ok_or_else(no_such_console)?;
        let secure = oauth.settings.issuer.is_https();
        let to_sign_in = || see_other(&format!("/console/{}/", tenant_id.as_str()));
        let session = ConsoleSession::of(request, &oauth.session_keys, secure, unix_now())
            .filter(|s| s.tenant_id == tenant_id.as_str())
            .ok_or_else(to_sign_in)?;
        // A session that no longer holds ends here, so the browser is not stuck with it.
        let ended = |mut answer: HttpResponse| {
            let _ = answer.add_cookie(&ConsoleSession::removal(secure));
            answer
        };
        let reach = Reach { tenant_id: session.tenant_id.clone(), organization_id: None };
        let user_id = session.user_id.clone();
        let user = match oauth.db.run(move |conn| users::get(conn, &reach, &user_id)).await {
            Ok(user) => user,
            Err(StorageError::NotFound) => return Err(ended(to_sign_in())),
            Err(err) => return Err(failed(&err)),
        };
        if !session.still_holds(&oauth.session_keys, &user) {
            return Err(ended(to_sign_in()));
        }
        if user.role != ROLE_ADMIN {
            let page = pages::message(StatusCode::FORBIDDEN, "Cannot continue", "Only admins can use the console.");
            return Err(ended(page));
        }
        Ok(SignedIn { session, user })
    }

    /// What the user may reach: their organization if they have one, else the tenant.
    pub fn reach(&self) -> Reach {
        Reach { tenant_id: self.user.tenant_id.clone(), organization_id: self.user.organization_id.clone() }
    }

    pub fn csrf_token(&self, oauth: &OAuth) -> String {
        self.session.csrf_token(&oauth.session_keys)
    }

    /// `answer` with the session cookie re-issued: the idle time starts again.
    pub fn refreshed(&self, mut answer: HttpResponse, oauth: &OAuth) -> HttpResponse {
        let cookie = self.session.cookie(&oauth.session_keys, oauth.settings.issuer.is_https(), unix_now());
        let _ = answer.add_cookie(&cookie);
        answer
    }
}
