//! The rate-limit response headers, written here and nowhere else (the counters know nothing of
//! HTTP): `X-RateLimit-Limit`, `-Remaining` and `-Reset` for the tightest window, and the IETF
//! httpapi draft's structured `RateLimit-Policy` (every counted window) and `RateLimit` (the
//! tightest). docs/rate-limits.md describes them.

use std::fmt::Write;

use actix_web::HttpResponse;
use actix_web::body::MessageBody;
use actix_web::http::header::{HeaderName, HeaderValue};
use tollbooth_storage::rate_limit::Verdict;

static LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
static REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
static RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
static POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// The headers of `verdict` at Unix second `now`; none when it counted in no window. A window
/// name that is no header value (names are made of window labels, organization ids and
/// credential ids) leaves out the header that would carry it.
pub fn of(verdict: &Verdict, now: u64) -> Vec<(HeaderName, HeaderValue)> {
    let Some(tightest) = verdict.tightest() else { return Vec::new() };
    let mut policy = String::with_capacity(32);
    for (i, w) in verdict.counted().enumerate() {
        let separator = if i == 0 { "" } else { ", " };
        let _ = write!(policy, "{separator}\"{}\";q={};w={}", w.name, w.window.limit, w.window.seconds);
    }
    let remaining = if verdict.allowed { tightest.remaining() } else { 0 };
    let ratelimit = format!("\"{}\";r={};t={}", tightest.name, remaining, tightest.reset_at.saturating_sub(now));
    let mut headers = vec![
        (LIMIT.clone(), HeaderValue::from(tightest.window.limit)),
        (REMAINING.clone(), HeaderValue::from(remaining)),
        (RESET.clone(), HeaderValue::from(tightest.reset_at)),
    ];
    for (name, value) in [(&POLICY, policy), (&RATELIMIT, ratelimit)] {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.push((name.clone(), value));
        }
    }
    headers
}

/// Writes `headers` (from [`of`]) into `response`.
pub fn insert(response: &mut HttpResponse<impl MessageBody>, headers: Vec<(HeaderName, HeaderValue)>) {
    let map = response.headers_mut();
    for (name, value) in headers {
        map.insert(name, value);
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

    use actix_web::http::header::{HeaderName, HeaderValue};
    use tollbooth_storage::rate_limit::{Budget, MemoryCounters, Plan, RateLimiter, Rules, Window};

    fn by_name(headers: Vec<(HeaderName, HeaderValue)>) -> BTreeMap<String, String> {
        headers.into_iter().map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned())).collect()
    }

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
        let headers = by_name(super::of(&read, 0));
        assert_eq!(headers["x-ratelimit-limit"], "3", "a read's tightest window is a counted one");
        assert_eq!(headers["x-ratelimit-remaining"], "1");
        assert_eq!(headers["ratelimit-policy"], "\"1h\";q=3;w=3600, \"1d\";q=100;w=86400");
        assert!(headers["ratelimit"].starts_with("\"1h\";r=1;t="));
        let write = limiter.count(Budget::Tenant { tenant_id: "t", plan: "p", write: true }).await;
        let headers = by_name(super::of(&write, 0));
        assert_eq!(headers["x-ratelimit-remaining"], "0", "a refusal has nothing left");
    }
}
