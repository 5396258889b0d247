//! Signing a person in with an email and a password, for every page that does it (the
//! authorization endpoint, the console): attempts limited per address (IPv6 by /64),
//! per email and address, and per account from all addresses; Argon2 at bounded concurrency,
//! an unknown email costing the same work as a wrong password; every outcome audited, naming
//! the user, or for an unknown email a keyed hash of it, never the password (docs/security.md,
//! "Bounds"). Each caller decides what else a sign-in needs (an organization, a role) and
//! renders its own pages.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use tollbooth_storage::rate_limit::{Budget, Verdict, WindowUsage};
use tollbooth_storage::users::User;
use tollbooth_storage::values::Email;
use tollbooth_storage::{StorageError, audit, passwords, tenants, users};

use crate::state::OAuth;

/// What checking an email and password found, once the attempt was allowed.
pub enum Credentials {
    /// The password is the user's. The caller records the outcome ([`record`]): a sign-in, or a
    /// refusal for a reason of its own.
    Valid(User),
    /// A wrong password or an unknown email: audited and counted already.
    Invalid,
}

/// Why an attempt was not even checked.
#[derive(Debug)]
pub enum Refusal {
    /// A sign-in budget is spent: try again after this many seconds.
    TooManyAttempts(u64),
    /// Password checks are at capacity.
    Busy,
    /// The database failed; the cause is in the log.
    Failed,
}

impl Refusal {
    /// The status, the sentence for the person, and the seconds for `Retry-After`, which every
    /// sign-in page answers this refusal with.
    pub fn answer(&self) -> (StatusCode, String, Option<u64>) {
        match self {
            Refusal::TooManyAttempts(wait) => (
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many sign-in attempts. Try again in {wait} seconds."),
                Some(*wait),
            ),
            Refusal::Busy => {
                (StatusCode::SERVICE_UNAVAILABLE, "Too many sign-ins at once. Try again in a moment.".into(), Some(1))
            }
            Refusal::Failed => {
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again.".into(), None)
            }
        }
    }
}

/// An outcome a caller records after [`Credentials::Valid`].
pub enum Outcome<'a> {
    SignedIn,
    /// The user belongs to no organization the client serves (docs/security.md).
    OutsideOrganization {
        client_id: &'a str,
    },
    /// The console admits admins only (docs/console.md).
    NotAdmin,
}

/// Checks `typed_email` (normalized here, as the email is stored) and `password` against the
/// users of `tenant_id`, within the sign-in limits. A wrong password or unknown email is
/// audited and counted against the account before this returns.
pub async fn check(
    oauth: &OAuth,
    request: &HttpRequest,
    tenant_id: &str,
    typed_email: &str,
    password: &str,
) -> Result<Credentials, Refusal> {
    let email = Email::normalize(typed_email);
    allowed(oauth, request, tenant_id, &email).await?;
    let (tenant, lookup) = (tenant_id.to_owned(), email.clone());
    let user = oauth.db.run(move |conn| users::find_by_email(conn, &tenant, &lookup)).await.map_err(|err| {
        tracing::error!(error = %err, "looking up a signing-in user failed");
        Refusal::Failed
    })?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let password = password.to_owned();
    let matches = passwords::bounded(passwords::Hashing::SignIn, move || {
        let hash = stored.as_deref().unwrap_or_else(|| passwords::dummy_hash());
        passwords::verify(&password, hash) && stored.is_some()
    })
    .await
    .map_err(|passwords::Busy| Refusal::Busy)?;
    match user {
        Some(user) if matches => return Ok(Credentials::Valid(user)),
        Some(user) => {
            audit_event(oauth, request, tenant_id, "user.sign_in_failed", Some(&user.id), Default::default()).await
        }
        // An unknown email is audited in its tenant; a tenant that does not exist has no log
        // for a stranger to fill.
        None if tenant_exists(oauth, tenant_id).await => {
            let mut metadata = serde_json::Map::new();
            metadata.insert("email_hash".into(), oauth.hasher.hash(&format!("email|{email}")).into());
            audit_event(oauth, request, tenant_id, "user.sign_in_failed", None, metadata).await;
        }
        None => {}
    }
    if let Some(limiter) = &oauth.rate_limiter {
        limiter.count(Budget::SignInAccount { tenant_id, email: &email }).await;
    }
    Ok(Credentials::Invalid)
}

/// Records what became of a sign-in whose credentials were valid.
/// Refusals are `user.sign_in_refused` events whose `reason` is `outside_organization` (with
/// the `client_id`) or `not_admin`.
pub async fn record(oauth: &OAuth, request: &HttpRequest, user: &User, outcome: Outcome<'_>) {
    let mut metadata = serde_json::Map::new();
    let action = match outcome {
        Outcome::SignedIn => "user.signed_in",
        Outcome::OutsideOrganization { client_id } => {
            metadata.insert("reason".into(), "outside_organization".into());
            metadata.insert("client_id".into(), client_id.into());
            "user.sign_in_refused"
        }
        Outcome::NotAdmin => {
            metadata.insert("reason".into(), "not_admin".into());
            "user.sign_in_refused"
        }
    };
    audit_event(oauth, request, &user.tenant_id, action, Some(&user.id), metadata).await;
}

async fn tenant_exists(oauth: &OAuth, tenant_id: &str) -> bool {
    let id = tenant_id.to_owned();
    !matches!(oauth.db.run(move |conn| tenants::get(conn, &id)).await, Err(StorageError::NotFound))
}

async fn audit_event(
    oauth: &OAuth,
    request: &HttpRequest,
    tenant_id: &str,
    action: &str,
    user_id: Option<&str>,
    metadata: serde_json::Map<String, serde_json::Value>,
) {
    let address = Some(tollbooth_http::client_address::client_address(request));
    let event = audit::AuditEvent::new(Some(tenant_id), user_id, action, user_id, address, metadata);
    if let Err(err) = oauth.db.run(move |conn| audit::record(conn, &event)).await {
        tracing::error!(error = %err, "recording a sign-in event failed");
    }
}

/// Sign-in attempts are limited per address and per email and address before any password is
/// hashed, and per account from all addresses, where only failures count: the owner's own
/// sign-ins never use that budget up.
async fn allowed(oauth: &OAuth, request: &HttpRequest, tenant_id: &str, email: &str) -> Result<(), Refusal> {
    let Some(limiter) = &oauth.rate_limiter else { return Ok(()) };
    let now = tollbooth_http::rate_limit_headers::unix_now();
    let address = tollbooth_http::client_address::rate_limit_address(request);
    for budget in [Budget::SignInAddress(&address), Budget::SignInEmail { email, address: &address }] {
        let verdict = limiter.count(budget).await;
        if !verdict.allowed {
            return Err(Refusal::TooManyAttempts(verdict.retry_after(now)));
        }
    }
    // The account's failures are only read here; a failure counts after the password check.
    let verdict = limiter.read(Budget::SignInAccount { tenant_id, email }).await;
    if verdict.any_full() {
        let full = Verdict {
            allowed: false,
            windows: verdict.windows.into_iter().map(|w| WindowUsage { counted: true, ..w }).collect(),
        };
        return Err(Refusal::TooManyAttempts(full.retry_after(now)));
    }
    Ok(())
}
