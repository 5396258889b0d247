//! The rate-limit response headers, written here and nowhere else (the counters know nothing of
//! HTTP): `X-RateLimit-Limit`, `-Remaining` and `-Reset` for the tightest window, and the IETF
//! httpapi draft's structured `RateLimit-Policy` (every counted window) and `RateLimit` (the
//! tightest). docs/rate-limits.md describes them.

use actix_web::HttpResponse;
use actix_web::body::MessageBody;
use actix_web::http::header::{HeaderName, HeaderValue};
use tollbooth_storage::rate_limit::Verdict;

/// The headers of `verdict` at Unix second `now`; none when it counted in no window.
pub fn of(verdict: &Verdict, now: u64) -> Vec<(&'static str, String)> {
    let Some(tightest) = verdict.tightest() else { return Vec::new() };
    let policy = verdict
        .counted()
        .map(|w| format!("\"{}\";q={};w={}", w.name, w.window.limit, w.window.seconds))
        .collect::<Vec<_>>()
        .join(", ");
    let remaining = if verdict.allowed { tightest.remaining() } else { 0 };
    vec![
        ("x-ratelimit-limit", tightest.window.limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", tightest.reset_at.to_string()),
        ("ratelimit-policy", policy),
        ("ratelimit", format!("\"{}\";r={};t={}", tightest.name, remaining, tightest.reset_at.saturating_sub(now))),
    ]
}

/// Writes `headers` (from [`of`]) into `response`.
pub fn insert(response: &mut HttpResponse<impl MessageBody>, headers: Vec<(&'static str, String)>) {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(HeaderName::from_static(name), value);
        }
    }
}

/// Seconds since the Unix epoch, as the windows count them.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use tollbooth_storage::rate_limit::{Budget, MemoryCounters, Plan, RateLimiter, Rules, Window};

    #[tokio::test]
    async fn headers_name_the_tightest_counted_window() {
        let plan = Plan {
            windows: vec![Window { seconds: 3600, limit: 3 }, Window { seconds: 86_400, limit: 100 }],
            writes: vec![Window { seconds: 3600, limit: 1 }],
        };
        let limiter = RateLimiter::new(
            Arc::new(MemoryCounters::default()),
            BTreeMap::from([("p".to_owned(), plan)]),
            Rules::default(),
        );
        limiter.count(Budget::Tenant { tenant_id: "t", plan: "p", write: true }).await;
        let read = limiter.count(Budget::Tenant { tenant_id: "t", plan: "p", write: false }).await;
        let headers: BTreeMap<_, _> = super::of(&read, 0).into_iter().collect();
        assert_eq!(headers["x-ratelimit-limit"], "3", "a read's tightest window is a counted one");
        assert_eq!(headers["x-ratelimit-remaining"], "1");
        assert_eq!(headers["ratelimit-policy"], "\"1h\";q=3;w=3600, \"1d\";q=100;w=86400");
        assert!(headers["ratelimit"].starts_with("\"1h\";r=1;t="));
        let write = limiter.count(Budget::Tenant { tenant_id: "t", plan: "p", write: true }).await;
        let headers: BTreeMap<_, _> = super::of(&write, 0).into_iter().collect();
        assert_eq!(headers["x-ratelimit-remaining"], "0", "a refusal has nothing left");
    }
}
