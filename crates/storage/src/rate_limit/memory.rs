//! Counters in this process: exact for one instance.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use futures_util::future::{BoxFuture, FutureExt};

use super::{Counter, CounterStore, Outcome, StoreStatus};

const SHARDS: usize = 32;
/// Expired counters are swept from a shard once it holds this many.
const SWEEP_AT: usize = 4096;
/// The most counters the store holds (docs/security.md, "Bounds"): about 150 bytes each, so
/// some 40 MiB at most, whatever strangers send. A check whose subject finds its shard full of
/// live counters is counted in that shard's overflow subject, shared by every such check:
/// under a flood of new subjects the newcomers are limited together, those already counted
/// keep their exact counts.
pub const DEFAULT_CAPACITY: usize = 262_144;
/// A full shard is swept at most this often, so a flood does not make every check a full scan.
const SWEEP_INTERVAL_SECONDS: u64 = 1;

/// A subject's counts in its latest two windows of one length, as (end of window, count): a
/// request that computed its window just before a boundary may reach the store just after
/// another request opened the next window, and must still count in its own.
#[derive(Default)]
struct Entry {
    windows: [(u64, u64); 2],
}

impl Entry {
    fn count(&self, reset_at: u64) -> Option<u64> {
        self.windows.iter().find(|(end, _)| *end == reset_at).map(|(_, count)| *count)
    }

    /// Whether the entry can count in the window ending at `reset_at`: one of its two, or a
    /// newer one (which replaces the older of the two).
    fn can_count(&self, reset_at: u64) -> bool {
        self.windows.iter().any(|(end, _)| *end <= reset_at)
    }

    /// Counts one request in the window ending at `reset_at`; its count after.
    fn add(&mut self, reset_at: u64) -> u64 {
        if let Some(slot) = self.windows.iter_mut().find(|(end, _)| *end == reset_at) {
            slot.1 += 1;
            return slot.1;
        }
        let oldest = if self.windows[0].0 <= self.windows[1].0 { 0 } else { 1 };
        self.windows[oldest] = (reset_at, 1);
        1
    }

    fn live(&self, now: u64) -> bool {
        self.windows.iter().any(|(end, _)| *end > now)
    }
}

struct Shard {
    counters: HashMap<String, Entry>,
    /// Unix second of the last sweep.
    swept_at: u64,
}

pub struct MemoryCounters {
    /// A subject's counters share one key prefix and so, hashed by it, one shard: a check
    /// takes one lock.
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
    shard_capacity: usize,
}

impl Default for MemoryCounters {
    fn default() -> Self {
        MemoryCounters::with_capacity(DEFAULT_CAPACITY)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The part of a key that names its subject: `tb:{subject}`.
fn subject_of(key: &str) -> &str {
    key.find('}').map_or(key, |end| &key[..=end])
}

/// A counter's slot: its key without the window's index (`tb:{subject}:class:seconds`).
fn slot_of(key: &str) -> &str {
    key.rfind(':').map_or(key, |end| &key[..end])
}

/// The key of the same window in the shard's overflow subject.
fn overflow_key(key: &str) -> String {
    let rest = key.find('}').map_or("", |end| &key[end + 1..]);
    format!("tb:{{overflow}}{rest}")
}

impl MemoryCounters {
    /// A store of at most about `capacity` counters.
    pub fn with_capacity(capacity: usize) -> Self {
        let empty = || Mutex::new(Shard { counters: HashMap::new(), swept_at: 0 });
        MemoryCounters {
            shards: (0..SHARDS).map(|_| empty()).collect(),
            hasher: RandomState::new(),
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// How many counters the store holds, live or expired.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).counters.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, counters: &[Counter]) -> &Mutex<Shard> {
        let subject = counters.first().map_or("", |c| subject_of(&c.key));
        &self.shards[(self.hasher.hash_one(subject) as usize) % SHARDS]
    }

    /// The same check as [`CounterStore::hit`], synchronously.
    pub fn hit_now(&self, counters: &[Counter]) -> Outcome {
        let now = now();
        let mut guard = self.shard(counters).lock().unwrap_or_else(|p| p.into_inner());
        let Shard { counters: shard, swept_at } = &mut *guard;
        // One slot per subject and window, whatever the window's index: a window that rolls
        // over reuses its slot, so a subject counted before a flood never becomes a newcomer.
        let new_slots = counters.iter().filter(|c| c.counted && !shard.contains_key(slot_of(&c.key))).count();
        if (shard.len() >= SWEEP_AT || shard.len() + new_slots > self.shard_capacity) && *swept_at < now {
            shard.retain(|_, entry| entry.live(now));
            *swept_at = now + SWEEP_INTERVAL_SECONDS - 1;
        }
        let overflowing = new_slots > 0 && shard.len() + new_slots > self.shard_capacity;
        let overflow: Vec<Counter>;
        let counters = if overflowing {
            overflow = counters.iter().map(|c| Counter { key: overflow_key(&c.key), ..c.clone() }).collect();
            &overflow[..]
        } else {
            counters
        };
        let counts: Vec<u64> = counters
            .iter()
            .map(|c| shard.get(slot_of(&c.key)).and_then(|e| e.count(c.reset_at)).unwrap_or(0))
            .collect();
        // A request that stalled past two windows cannot be counted exactly: it is refused.
        let stale = |c: &Counter| shard.get(slot_of(&c.key)).is_some_and(|e| !e.can_count(c.reset_at));
        if counters.iter().zip(&counts).any(|(c, count)| c.counted && (*count >= c.limit || stale(c))) {
            return Outcome { allowed: false, counts };
        }
        let counts = counters
            .iter()
            .zip(counts)
            .map(|(c, read)| {
                if !c.counted {
                    return read;
                }
                shard.entry(slot_of(&c.key).to_owned()).or_default().add(c.reset_at)
            })
            .collect();
        Outcome { allowed: true, counts }
    }
}

impl CounterStore for MemoryCounters {
    fn hit<'a>(&'a self, counters: &'a [Counter]) -> BoxFuture<'a, Outcome> {
        std::future::ready(self.hit_now(counters)).boxed()
    }

    fn status(&self) -> StoreStatus {
        StoreStatus::Memory
    }
}

#[cfg(test)]
mod tests {
    use super::super::Window;
    use super::*;

    #[test]
    fn counts_up_to_the_limit_and_refusals_cost_nothing() {
        let store = MemoryCounters::default();
        let now = now();
        let counters = [
            Counter::new("s", "all", Window { seconds: 3600, limit: 3 }, now, true),
            Counter::new("s", "all", Window { seconds: 86_400, limit: 10 }, now, true),
        ];
        for expected in 1..=3 {
            let outcome = store.hit_now(&counters);
            assert!(outcome.allowed);
            assert_eq!(outcome.counts, vec![expected, expected]);
        }
        let refused = store.hit_now(&counters);
        assert_eq!(refused, Outcome { allowed: false, counts: vec![3, 3] });
        let read_only: Vec<Counter> = counters.iter().map(|c| Counter { counted: false, ..c.clone() }).collect();
        let read = store.hit_now(&read_only);
        assert_eq!(
            read,
            Outcome { allowed: true, counts: vec![3, 3] },
            "the refusal consumed nothing; reads count nothing"
        );
        // Another subject has its own budget.
        let other = [Counter::new("t", "all", Window { seconds: 3600, limit: 3 }, now, true)];
        assert!(store.hit_now(&other).allowed);
    }

    #[test]
    fn a_flood_of_subjects_stays_within_capacity_and_shares_the_overflow() {
        let store = MemoryCounters::with_capacity(SHARDS * 8);
        let now = now();
        let window = Window { seconds: 3600, limit: 1_000 };
        let known = |at| [Counter::new("ip:known", "ip-1h", window, at, true)];
        assert!(store.hit_now(&known(now)).allowed);
        // The flood comes in the next window, in the same class.
        let next = now + 3600;
        for i in 0..10_000 {
            store.hit_now(&[Counter::new(&format!("ip:{i}"), "ip-1h", window, next, true)]);
        }
        assert!(store.len() <= SHARDS * 8 + SHARDS, "{} counters", store.len());
        // A subject counted before the flood keeps its own slot, window after window.
        let outcome = store.hit_now(&known(next));
        assert_eq!(outcome, Outcome { allowed: true, counts: vec![1] });
        // Newcomers past the capacity share one budget, so the flood is limited as one.
        let newcomer = [Counter::new("ip:new", "ip-1h", Window { seconds: 3600, limit: 5 }, next, true)];
        assert!(!store.hit_now(&newcomer).allowed, "the overflow subject is spent");
    }

    #[test]
    fn a_request_late_for_its_window_still_counts_in_it() {
        let store = MemoryCounters::default();
        let now = now();
        let window = Window { seconds: 10, limit: 2 };
        let at = |t| [Counter::new("ip:a", "ip-10s", window, t, true)];
        assert_eq!(store.hit_now(&at(now)).counts, vec![1]);
        assert_eq!(store.hit_now(&at(now + 10)).counts, vec![1], "the next window opens");
        assert_eq!(store.hit_now(&at(now)).counts, vec![2], "a late request of the first window counts there");
        assert!(!store.hit_now(&at(now)).allowed, "and the first window is full");
        assert_eq!(store.hit_now(&at(now + 10)).counts, vec![2]);
        assert!(store.hit_now(&at(now + 20)).allowed, "a third window replaces the oldest");
        assert!(!store.hit_now(&at(now)).allowed, "a request two windows late is refused, not miscounted");
    }
}
