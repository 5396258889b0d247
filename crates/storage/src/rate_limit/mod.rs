//! Rate limiting in one home (docs/rate-limits.md): `policy` decides what each request counts
//! against; the counters are fixed windows aligned to the Unix epoch. A check counts one
//! request in every window of a subject, or, if any window is full, in none (a refused request
//! costs nothing). Two stores behind one trait: memory (one instance) and Redis (shared,
//! exact across instances, one round trip per check, local fallback when Redis is away).

mod memory;
mod policy;
mod redis_store;

use std::fmt;

use futures_util::future::BoxFuture;

pub use memory::MemoryCounters;
pub use policy::{Budget, Plan, RateLimiter, Rules, Verdict, WindowClass, WindowUsage};
pub use redis_store::{RedisCounters, Spawner};

/// A fixed window: at most `limit` requests per `seconds`, aligned to the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub seconds: u64,
    pub limit: u64,
}

impl Window {
    /// Parses `10s`, `1m`, `1h`, `1d` (any positive count of seconds, minutes, hours, days).
    pub fn parse_duration(text: &str) -> Result<u64, String> {
        let text = text.trim();
        let invalid = || format!("`{text}` is not a window like 10s, 1m, 1h or 1d");
        // The unit is the last character, whatever its width (text comes from API callers too).
        let unit = text.chars().last().ok_or_else(invalid)?;
        let count = &text[..text.len() - unit.len_utf8()];
        let multiplier = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(invalid()),
        };
        match count.parse::<u64>().ok().filter(|n| *n > 0).and_then(|n| n.checked_mul(multiplier)) {
            Some(seconds) => Ok(seconds),
            None => Err(invalid()),
        }
    }

    /// A label for headers and answers: `10s`, `1m`, `1h`, `1d`, or seconds.
    pub fn label(&self) -> String {
        match self.seconds {
            s if s % 86_400 == 0 => format!("{}d", s / 86_400),
            s if s % 3600 == 0 => format!("{}h", s / 3600),
            s if s % 60 == 0 => format!("{}m", s / 60),
            s => format!("{s}s"),
        }
    }
}

/// One window's counter for one subject at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// The store key; all keys of one subject share a Redis Cluster hash tag.
    pub key: String,
    pub limit: u64,
    /// Unix second at which this window ends.
    pub reset_at: u64,
    /// Seconds the key must live (until its window ends, plus a margin).
    pub ttl: u64,
    /// Whether this request counts in the window; a window that does not count is only read
    /// (a read request reads its tenant's write windows, for `GET /rate_limits`).
    pub counted: bool,
}

impl Counter {
    /// The counter of `window` for `subject` (e.g. `tenant:ten_…`) in class `class` (`all`,
    /// `writes`) at Unix time `now`.
    pub fn new(subject: &str, class: &str, window: Window, now: u64, counted: bool) -> Counter {
        Counter::of_tag(&subject_tag(subject), class, window, now, counted)
    }

    /// As [`Counter::new`], for the subject whose [`subject_tag`] is `tag`: a check with several
    /// windows hashes its subject once.
    fn of_tag(tag: &str, class: &str, window: Window, now: u64, counted: bool) -> Counter {
        use std::fmt::Write;
        let index = now / window.seconds;
        let reset_at = (index + 1) * window.seconds;
        // `tb:{<tag>}:<class>:<seconds>:<index>`, written once into a buffer large enough for
        // it (two 20-digit numbers and the separators).
        let mut key = String::with_capacity(tag.len() + class.len() + 48);
        let _ = write!(key, "tb:{{{tag}}}:{class}:{}:{index}", window.seconds);
        Counter { key, limit: window.limit, reset_at, ttl: reset_at - now + 1, counted }
    }
}

/// A subject's part of its keys, of fixed size whatever the subject (a client id or an email
/// from an unauthenticated request can be kilobytes): its kind (`tenant`, `ip`, …, one of this
/// server's own words) and 128 bits of the SHA-256 of the rest, base64url. docs/security.md,
/// "Bounds".
fn subject_tag(subject: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let (kind, value) = subject.split_once(':').unwrap_or(("", subject));
    let digest = sha2::Sha256::digest(value.as_bytes());
    let kind = kind.get(..16).unwrap_or(kind);
    let mut tag = String::with_capacity(kind.len() + 23);
    tag.push_str(kind);
    tag.push(':');
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&digest[..16], &mut tag);
    tag
}

/// What a check found: whether the request was counted, and each window's count after it
/// (when counted) or as it stands (when refused, or for windows only read), in the order the
/// counters were given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub allowed: bool,
    pub counts: Vec<u64>,
}

#[derive(Debug, Clone)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where counters live.
pub trait CounterStore: Send + Sync {
    /// Atomically: if every counted counter is below its limit, adds one to each of them;
    /// otherwise adds nothing. Reads the others.
    fn hit<'a>(&'a self, counters: &'a [Counter]) -> BoxFuture<'a, Outcome>;
    /// `memory`, `redis`, or `redis (fallback: memory)` while Redis is unreachable.
    fn status(&self) -> StoreStatus;
    /// Checks answered locally because the shared store did not answer.
    fn fallbacks(&self) -> u64 {
        0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreStatus {
    Memory,
    Redis,
    /// Redis is configured but unreachable: counting locally until it answers again.
    RedisFallback,
}

impl StoreStatus {
    pub fn name(self) -> &'static str {
        match self {
            StoreStatus::Memory => "memory",
            StoreStatus::Redis => "redis",
            StoreStatus::RedisFallback => "fallback",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_and_label() {
        assert_eq!(Window::parse_duration("10s"), Ok(10));
        assert_eq!(Window::parse_duration("1m"), Ok(60));
        assert_eq!(Window::parse_duration("2h"), Ok(7200));
        assert_eq!(Window::parse_duration("1d"), Ok(86_400));
        for bad in ["0s", "10", "m", "1w", "-1s", ""] {
            assert!(Window::parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(Window { seconds: 3600, limit: 1 }.label(), "1h");
        assert_eq!(Window { seconds: 90, limit: 1 }.label(), "90s");
    }

    #[test]
    fn counters_align_to_the_epoch() {
        let counter = Counter::new("tenant:t", "all", Window { seconds: 10, limit: 5 }, 1_000_007, true);
        assert_eq!(counter.reset_at, 1_000_010);
        use base64::Engine;
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&sha2_of("t")[..16]);
        assert_eq!(counter.key, format!("tb:{{tenant:{tag}}}:all:10:100000"));
        assert_eq!(counter.ttl, 4);
    }

    fn sha2_of(text: &str) -> Vec<u8> {
        use sha2::Digest;
        sha2::Sha256::digest(text.as_bytes()).to_vec()
    }

    #[test]
    fn keys_are_of_fixed_size_whatever_the_subject() {
        let window = Window { seconds: 10, limit: 5 };
        let short = Counter::new("client:c", "client-10s", window, 0, true).key;
        let huge = Counter::new(&format!("client:{}", "x".repeat(30_000)), "client-10s", window, 0, true).key;
        assert_eq!(short.len(), huge.len());
        assert_ne!(short, huge);
    }
}

#[cfg(test)]
mod window_tests {
    use super::Window;

    #[test]
    fn windows_of_any_text_parse_or_are_refused() {
        assert_eq!(Window::parse_duration("10s"), Ok(10));
        assert_eq!(Window::parse_duration(" 2d "), Ok(172_800));
        for text in ["", "s", "1é", "é", "0m", "-1m", "1w", "144115188075855872d", "18446744073709551615h"] {
            assert!(Window::parse_duration(text).is_err(), "{text:?}");
        }
    }
}
