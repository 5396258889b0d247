//! Rate-limit policy (docs/rate-limits.md): plans and rules, and the budgets they give each
//! counted place. Every counted place names its [`Budget`] and calls [`RateLimiter::count`];
//! which subject and windows that means is decided here and nowhere else. The counter stores
//! (`memory`, `redis_store`) know nothing of it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Counter, CounterStore, StoreStatus, Window};

/// A tenant's rate-limit policy: windows for every request, and for writes (POST, PUT, PATCH,
/// DELETE) additional windows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub windows: Vec<Window>,
    pub writes: Vec<Window>,
}

/// Limits of the endpoints that have no tenant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rules {
    /// `POST /oauth/token`, per client id.
    pub token_per_client: Vec<Window>,
    /// `POST /oauth/token`, per IP address.
    pub token_per_ip: Vec<Window>,
    /// The sign-in form, per email and IP address.
    pub sign_in: Vec<Window>,
    /// The sign-in form, per IP address (IPv6 by /64), whatever the email.
    pub sign_in_per_ip: Vec<Window>,
    /// The sign-in form, per account (tenant and email), from all addresses together.
    pub sign_in_per_account: Vec<Window>,
    /// Every other request without a tenant, per IP address: the last line.
    pub per_ip: Vec<Window>,
}

/// Which requests a tenant's window counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowClass {
    /// Every request.
    All,
    /// Writes only (POST, PUT, PATCH, DELETE).
    Writes,
}

impl WindowClass {
    pub fn name(self) -> &'static str {
        match self {
            WindowClass::All => "all",
            WindowClass::Writes => "writes",
        }
    }
}

/// A window of a check, named for headers and answers (`10s`, `writes-10s`, `ip-1m`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedWindow {
    pub name: String,
    pub class: WindowClass,
    pub window: Window,
    /// Whether the request counts in it (a read only reads its tenant's write windows).
    pub counted: bool,
}

/// `windows` named `<prefix>-<label>`, all counted.
fn named(prefix: &str, windows: &[Window]) -> Vec<NamedWindow> {
    windows
        .iter()
        .map(|w| NamedWindow {
            name: format!("{prefix}-{}", w.label()),
            class: WindowClass::All,
            window: *w,
            counted: true,
        })
        .collect()
}

/// One window's state after a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowUsage {
    pub name: String,
    pub class: WindowClass,
    pub window: Window,
    pub counted: bool,
    pub used: u64,
    /// Unix second at which the window ends and its count starts again.
    pub reset_at: u64,
}

impl WindowUsage {
    pub fn remaining(&self) -> u64 {
        self.window.limit.saturating_sub(self.used)
    }
}

/// What a check decided, with every window's usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub windows: Vec<WindowUsage>,
}

/// Nothing counted yet: allowed, in no window.
impl Default for Verdict {
    fn default() -> Self {
        Verdict { allowed: true, windows: Vec::new() }
    }
}

impl Verdict {
    /// Both verdicts at once: allowed if both are, with the windows of both.
    pub fn and(mut self, other: Verdict) -> Verdict {
        self.allowed &= other.allowed;
        self.windows.extend(other.windows);
        self
    }

    /// The windows this request counted in (a read only reads its tenant's write windows).
    pub fn counted(&self) -> impl Iterator<Item = &WindowUsage> {
        self.windows.iter().filter(|w| w.counted)
    }

    /// The counted window closest to refusing: least remaining, then the one that resets last.
    pub fn tightest(&self) -> Option<&WindowUsage> {
        self.counted().min_by_key(|w| (w.remaining(), std::cmp::Reverse(w.reset_at)))
    }

    /// Whether any window is full (a read-only check refuses nothing itself).
    pub fn any_full(&self) -> bool {
        self.windows.iter().any(|w| w.used >= w.window.limit)
    }

    /// Seconds until a refused request can succeed: every full window must have reset.
    pub fn retry_after(&self, now: u64) -> u64 {
        self.counted().filter(|w| w.remaining() == 0).map(|w| w.reset_at.saturating_sub(now)).max().unwrap_or(0).max(1)
    }
}

/// What one request counts against.
#[derive(Debug, Clone, Copy)]
pub enum Budget<'a> {
    /// A tenant's plan: every authenticated `/api/v1` request; a write also counts in the
    /// plan's write windows, which a read only reads.
    Tenant { tenant_id: &'a str, plan: &'a str, write: bool },
    /// Token, introspection and revocation requests from one address (IPv6 by its /64).
    OAuthAddress(&'a str),
    /// Requests that authenticated as a client: a confidential client's own budget; a public
    /// client, which anyone may name, has one per address.
    Client { client_id: &'a str, confidential: bool, address: &'a str },
    /// Sign-in attempts from one address, whatever the email.
    SignInAddress(&'a str),
    /// Sign-in attempts for one email (lower-cased) from one address.
    SignInEmail { email: &'a str, address: &'a str },
    /// Failed sign-ins of one account (tenant and lower-cased email), from every address.
    SignInAccount { tenant_id: &'a str, email: &'a str },
    /// Every other request without a tenant, per address: the last line.
    Address(&'a str),
    /// A call to a tenant's own API verified by `/verify` (docs/protect-your-api.md): counted
    /// against its tenant's plan, apart from the management-API budget; a write also counts in
    /// the plan's write windows.
    Api { tenant_id: &'a str, plan: &'a str, write: bool },
}

/// Plans, rules and the counter store, shared by every endpoint that counts.
pub struct RateLimiter {
    store: Arc<dyn CounterStore>,
    plans: BTreeMap<String, Plan>,
    rules: Rules,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl RateLimiter {
    pub fn new(store: Arc<dyn CounterStore>, plans: BTreeMap<String, Plan>, rules: Rules) -> Self {
        RateLimiter { store, plans, rules }
    }

    pub fn store_status(&self) -> StoreStatus {
        self.store.status()
    }

    pub fn fallbacks(&self) -> u64 {
        self.store.fallbacks()
    }

    /// A tenant's windows under `plan`: all of them count a write; a read counts in the plan's
    /// windows and only reads the write windows.
    fn plan_windows(&self, plan: &str, write: bool) -> Vec<NamedWindow> {
        let Some(plan) = self.plans.get(plan) else { return Vec::new() };
        let all = plan.windows.iter().map(|w| NamedWindow {
            name: w.label(),
            class: WindowClass::All,
            window: *w,
            counted: true,
        });
        let writes = plan.writes.iter().map(|w| NamedWindow {
            class: WindowClass::Writes,
            name: format!("writes-{}", w.label()),
            window: *w,
            counted: write,
        });
        all.chain(writes).collect()
    }

    /// The subject and windows of `budget`.
    fn subject_and_windows(&self, budget: Budget<'_>) -> (String, Vec<NamedWindow>) {
        let rules = &self.rules;
        match budget {
            Budget::Tenant { tenant_id, plan, write } => {
                (format!("tenant:{tenant_id}"), self.plan_windows(plan, write))
            }
            Budget::OAuthAddress(address) => (format!("ip:{address}"), named("ip", &rules.token_per_ip)),
            Budget::Client { client_id, confidential: true, .. } => {
                (format!("client:{client_id}"), named("client", &rules.token_per_client))
            }
            Budget::Client { client_id, confidential: false, address } => {
                (format!("client:{client_id}|{address}"), named("client", &rules.token_per_client))
            }
            Budget::SignInAddress(address) => {
                (format!("sign_in_ip:{address}"), named("sign-in-ip", &rules.sign_in_per_ip))
            }
            Budget::SignInEmail { email, address } => {
                (format!("sign_in:{email}|{address}"), named("sign-in", &rules.sign_in))
            }
            Budget::SignInAccount { tenant_id, email } => {
                (format!("sign_in_account:{tenant_id}|{email}"), named("sign-in-account", &rules.sign_in_per_account))
            }
            Budget::Address(address) => (format!("ip:{address}"), named("ip", &rules.per_ip)),
            Budget::Api { tenant_id, plan, write } => (format!("api:{tenant_id}"), self.plan_windows(plan, write)),
        }
    }

    /// Counts one request against `budget`, in every window or (when one is full) in none, in
    /// one store round trip.
    pub async fn count(&self, budget: Budget<'_>) -> Verdict {
        let (subject, windows) = self.subject_and_windows(budget);
        self.check(&subject, &windows).await
    }

    /// Counts one request against `budget` and, in the same all-or-nothing check, narrower
    /// limits within it: an organization's plan (`plan_of`: its id and plan) and a credential's
    /// own limit (`own`: its id and window). Their counters are kept under the budget's subject,
    /// so one Redis Cluster hash tag holds every counter of the check.
    pub async fn count_within(
        &self,
        budget: Budget<'_>,
        plan_of: Option<(&str, &str)>,
        own: Option<(&str, Window)>,
    ) -> Verdict {
        let write = matches!(budget, Budget::Api { write: true, .. });
        let (subject, mut windows) = self.subject_and_windows(budget);
        if let Some((organization, plan)) = plan_of {
            windows.extend(
                self.plan_windows(plan, write)
                    .into_iter()
                    .map(|w| NamedWindow { name: format!("{organization}-{}", w.name), ..w }),
            );
        }
        if let Some((credential, window)) = own {
            let name = format!("{credential}-{}", window.label());
            windows.push(NamedWindow { name, class: WindowClass::All, window, counted: true });
        }
        self.check(&subject, &windows).await
    }

    /// `budget`'s windows as they stand, counting nothing.
    pub async fn read(&self, budget: Budget<'_>) -> Verdict {
        let (subject, mut windows) = self.subject_and_windows(budget);
        windows.iter_mut().for_each(|w| w.counted = false);
        self.check(&subject, &windows).await
    }

    /// Counts one request of `subject` in `windows`, all or nothing, in one store round trip.
    async fn check(&self, subject: &str, windows: &[NamedWindow]) -> Verdict {
        if windows.is_empty() {
            return Verdict { allowed: true, windows: Vec::new() };
        }
        let now = now();
        let tag = super::subject_tag(subject);
        let counters: Vec<Counter> =
            windows.iter().map(|w| Counter::of_tag(&tag, &w.name, w.window, now, w.counted)).collect();
        let outcome = self.store.hit(&counters).await;
        let windows = windows
            .iter()
            .zip(&counters)
            .zip(&outcome.counts)
            .map(|((w, counter), used)| WindowUsage {
                name: w.name.clone(),
                class: w.class,
                window: w.window,
                counted: w.counted,
                used: *used,
                reset_at: counter.reset_at,
            })
            .collect();
        Verdict { allowed: outcome.allowed, windows }
    }
}

#[cfg(test)]
mod tests {
    use super::super::MemoryCounters;
    use super::*;

    fn limiter() -> RateLimiter {
        let plan = Plan {
            windows: vec![Window { seconds: 3600, limit: 3 }, Window { seconds: 86_400, limit: 100 }],
            writes: vec![Window { seconds: 3600, limit: 1 }],
        };
        RateLimiter::new(
            Arc::new(MemoryCounters::default()),
            BTreeMap::from([("p".to_owned(), plan)]),
            Rules::default(),
        )
    }

    #[tokio::test]
    async fn writes_count_against_both_budgets_and_reads_only_read_write_windows() {
        let limiter = limiter();
        let write = limiter.count(Budget::Tenant { tenant_id: "t", plan: "p", write: true }).await;
        assert!(write.allowed);
        let tightest = write.tightest().unwrap();
        assert_eq!((tightest.name.as_str(), tightest.remaining()), ("writes-1h", 0));
        assert!(
            !limiter.count(Budget::Tenant { tenant_id: "t", plan: "p", write: true }).await.allowed,
            "the write window is full"
        );
        let read = limiter.count(Budget::Tenant { tenant_id: "t", plan: "p", write: false }).await;
        assert!(read.allowed, "reads have budget left");
        let used: Vec<(&str, u64, bool)> = read.windows.iter().map(|w| (w.name.as_str(), w.used, w.counted)).collect();
        assert_eq!(
            used,
            [("1h", 2, true), ("1d", 2, true), ("writes-1h", 1, false)],
            "the refused write consumed nothing"
        );
        let tightest = read.tightest().unwrap();
        assert_eq!(
            (tightest.name.as_str(), tightest.remaining()),
            ("1h", 1),
            "a read's tightest window is a counted one"
        );
        assert_eq!(
            read.windows.iter().map(|w| w.class).collect::<Vec<_>>(),
            [WindowClass::All, WindowClass::All, WindowClass::Writes]
        );
    }
}
