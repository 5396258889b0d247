//! Read-through caches (clients, resources, API keys, revoked tokens) fill themselves from the database
//! and are corrected when this instance changes what they hold. A read that began before such
//! a change may have seen the old row; cached after it, a deleted client, a rotated-out secret
//! or a revoked token would work again until the entry expired. The guard leaves that read's
//! answer uncached.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use moka::sync::Cache;

/// Counts invalidations; the lock makes "check, then store" and "count, then invalidate"
/// exclude each other.
#[derive(Clone, Default)]
pub struct InvalidationGuard {
    invalidations: Arc<Mutex<u64>>,
}

impl InvalidationGuard {
    /// Call before reading the database; hand the result to [`Self::store_unless_invalidated`].
    pub fn begin_read(&self) -> u64 {
        *self.lock()
    }

    /// Runs `store` (the cache insert) unless an invalidation came since `began`.
    pub fn store_unless_invalidated(&self, began: u64, store: impl FnOnce()) {
        let invalidations = self.lock();
        if *invalidations == began {
            store();
        }
    }

    /// Runs `invalidate` (a cache removal, or an overwrite with the new truth) so that reads in
    /// flight will not undo it.
    pub fn invalidate(&self, invalidate: impl FnOnce()) {
        let mut invalidations = self.lock();
        *invalidations += 1;
        invalidate();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, u64> {
        self.invalidations.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A read-through cache of values by string key, guarded: what a load returns is kept for
/// `time_to_live` unless an invalidation raced it.
#[derive(Clone)]
pub struct ReadThrough<V: Clone + Send + Sync + 'static> {
    cache: Cache<String, V>,
    guard: InvalidationGuard,
}

impl<V: Clone + Send + Sync + 'static> ReadThrough<V> {
    pub fn new(max_capacity: u64, time_to_live: Duration) -> Self {
        let cache = Cache::builder().max_capacity(max_capacity).time_to_live(time_to_live).build();
        ReadThrough { cache, guard: InvalidationGuard::default() }
    }

    /// The value of `key`, from the cache or from `load`, which is awaited only after the read
    /// began (futures run when awaited), so an invalidation during it is seen.
    pub async fn get_or_load<E, Load>(&self, key: &str, load: Load) -> Result<V, E>
    where
        Load: Future<Output = Result<V, E>>,
    {
        if let Some(hit) = self.cache.get(key) {
            return Ok(hit);
        }
        let began = self.guard.begin_read();
        let loaded = load.await?;
        self.guard.store_unless_invalidated(began, || self.cache.insert(key.to_owned(), loaded.clone()));
        Ok(loaded)
    }

    /// Forgets `key` after what it holds changed here.
    pub fn invalidate(&self, key: &str) {
        self.guard.invalidate(|| self.cache.invalidate(key));
    }

    /// Forgets every key.
    pub fn invalidate_all(&self) {
        self.guard.invalidate(|| self.cache.invalidate_all());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_stored() {
        let guard = InvalidationGuard::default();
        let mut stored = Vec::new();
        let began = guard.begin_read();
        guard.invalidate(|| {});
        guard.store_unless_invalidated(began, || stored.push("raced"));
        let began = guard.begin_read();
        guard.store_unless_invalidated(began, || stored.push("clean"));
        assert_eq!(stored, ["clean"]);
    }
}
