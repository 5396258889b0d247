//! Who a console page is for: the request's session, and its user read again, who must still
//! exist and still be an admin of the tenant. They act as [`Principal::console_user`], so what
//! they may reach and do is the API's rule (docs/security.md, "Authorization").

use actix_web::{HttpRequest, HttpResponse};
use tollbooth_oauth::OAuth;
use tollbooth_resource::ManagementApi;
use tollbooth_resource::auth::Principal;
use tollbooth_storage::users::{self, ROLE_ADMIN, User};
use tollbooth_storage::{Reach, StorageError};

use crate::error::ConsoleError;
use crate::form::Form;
use crate::pages::Frame;
use crate::session::{ConsoleSession, tenant_of, unix_now};

/// A signed-in admin of the page's tenant.
pub struct SignedIn {
    session: ConsoleSession,
    pub user: User,
    pub principal: Principal,
    csrf: String,
    plans: Vec<String>,
}

impl SignedIn {
    /// The signed-in admin of `raw_tenant_id`, or why not: no (live) session is a way to the
    /// sign-in form, a user who is no longer an admin a 403 that ends the session.
    pub async fn of(request: &HttpRequest, raw_tenant_id: &str, api: &ManagementApi) -> Result<Self, ConsoleError> {
        let oauth = &api.oauth;
        let tenant_id = tenant_of(raw_tenant_id).ok_or(ConsoleError::NoSuchPage)?;
        let secure = oauth.settings.issuer.is_https();
        let sign_in =
            |end_session| ConsoleError::SignInNeeded { tenant_id: tenant_id.as_str().to_owned(), end_session, secure };
        let session = ConsoleSession::of(request, &oauth.session_keys, secure, unix_now())
            .filter(|s| s.tenant_id == tenant_id.as_str())
            .ok_or_else(|| sign_in(false))?;
        let reach = Reach { tenant_id: session.tenant_id.clone(), organization_id: None };
        let user_id = session.user_id.clone();
        let user = match api.db.run(move |conn| users::get(conn, &reach, &user_id)).await {
            Ok(user) => user,
            // A session that no longer holds ends here, so the browser is not stuck with it.
            Err(StorageError::NotFound) => return Err(sign_in(true)),
            Err(err) => return Err(err.into()),
        };
        if !session.still_holds(&oauth.session_keys, &user) {
            return Err(sign_in(true));
        }
        if user.role != ROLE_ADMIN {
            return Err(ConsoleError::NotAdmin { secure });
        }
        let csrf = session.csrf_token(&oauth.session_keys);
        Ok(SignedIn { principal: Principal::console_user(&user), session, user, csrf, plans: api.plans.clone() })
    }

    /// The signed-in admin who posted `form`, once its CSRF token is the session's: checked
    /// before anything the form asks is read.
    pub async fn posting(
        request: &HttpRequest,
        raw_tenant_id: &str,
        api: &ManagementApi,
        form: &Form,
    ) -> Result<Self, ConsoleError> {
        let signed_in = SignedIn::of(request, raw_tenant_id, api).await?;
        if !signed_in.session.accepts_csrf(&api.oauth.session_keys, form.one("csrf")) {
            return Err(ConsoleError::ExpiredForm);
        }
        Ok(signed_in)
    }

    /// What every page shows of who is signed in.
    pub fn frame(&self) -> Frame<'_> {
        Frame {
            tenant_id: &self.user.tenant_id,
            email: &self.user.email,
            organization_id: self.user.organization_id.as_deref(),
            csrf: &self.csrf,
            plans: &self.plans,
        }
    }

    /// Whether the user manages the whole tenant (not one organization).
    pub fn is_tenant_admin(&self) -> bool {
        self.user.organization_id.is_none()
    }

    /// `answer` with the session cookie re-issued: the idle time starts again.
    pub fn refreshed(&self, mut answer: HttpResponse, oauth: &OAuth) -> HttpResponse {
        let cookie = self.session.cookie(&oauth.session_keys, oauth.settings.issuer.is_https(), unix_now());
        let _ = answer.add_cookie(&cookie);
        answer
    }
}
