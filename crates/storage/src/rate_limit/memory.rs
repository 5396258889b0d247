//! Counters in this process: exact for one instance.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use futures_util::future::{BoxFuture, FutureExt};

use super::{Counter, CounterStore, Outcome, StoreStatus};

const SHARDS: usize = 32;
/// Expired counters are swept from a shard once it holds this many.
const SWEEP_AT: usize = 4096;

struct Entry {
    count: u64,
    /// Unix second after which the counter is gone.
    expires_at: u64,
}

pub struct MemoryCounters {
    /// A subject's counters share one key prefix and so, hashed by it, one shard: a check
    /// takes one lock.
    shards: Vec<Mutex<HashMap<String, Entry>>>,
    hasher: RandomState,
}

impl Default for MemoryCounters {
    fn default() -> Self {
        MemoryCounters { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(), hasher: RandomState::new() }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The part of a key that names its subject: `tb:{subject}`.
fn subject_of(key: &str) -> &str {
    key.find('}').map_or(key, |end| &key[..=end])
}

impl MemoryCounters {
    fn shard(&self, counters: &[Counter]) -> &Mutex<HashMap<String, Entry>> {
        let subject = counters.first().map_or("", |c| subject_of(&c.key));
        &self.shards[(self.hasher.hash_one(subject) as usize) % SHARDS]
    }

    /// The same check as [`CounterStore::hit`], synchronously.
    pub fn hit_now(&self, counters: &[Counter]) -> Outcome {
        let now = now();
        let mut shard = self.shard(counters).lock().unwrap_or_else(|p| p.into_inner());
        if shard.len() >= SWEEP_AT {
            shard.retain(|_, entry| entry.expires_at > now);
        }
        let current = |shard: &HashMap<String, Entry>, key: &str| {
            shard.get(key).filter(|e| e.expires_at > now).map_or(0, |e| e.count)
        };
        let counts: Vec<u64> = counters.iter().map(|c| current(&shard, &c.key)).collect();
        if counters.iter().zip(&counts).any(|(c, count)| c.counted && *count >= c.limit) {
            return Outcome { allowed: false, counts };
        }
        let counts = counters
            .iter()
            .zip(counts)
            .map(|(c, read)| {
                if !c.counted {
                    return read;
                }
                let entry = shard.entry(c.key.clone()).or_insert(Entry { count: 0, expires_at: 0 });
                if entry.expires_at <= now {
                    *entry = Entry { count: 0, expires_at: now + c.ttl };
                }
                entry.count += 1;
                entry.count
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
}
