//! Read-through caches (clients, resources, API keys, revoked tokens, plans) fill themselves
//! from the database and are corrected when this instance changes what they hold. A read that
//! began before such a change may have seen the old row; cached after it, a deleted client, a
//! rotated-out secret or a revoked token would work again until the entry expired. The guard
//! leaves that read's answer uncached.
//!
//! An entry in use is read again before it expires ([`Entry::claim_refresh`]), in the
//! background, once, while every request keeps answering from the cache: were it left to
//! expire, every request in flight at that moment would read the database at once, and each
//! would wait behind the others' reads (docs/capacity.md, "Cost per request").

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use moka::sync::Cache;

/// Counts invalidations; the lock makes "check, then store" and "count, then invalidate"
/// exclude each other.
#[derive(Clone, Default)]
struct InvalidationGuard {
    invalidations: Arc<Mutex<u64>>,
}

impl InvalidationGuard {
    /// Call before reading the database; hand the result to [`Self::store_unless_invalidated`].
    fn begin_read(&self) -> u64 {
        *self.lock()
    }

    /// Runs `store` (the cache insert) unless an invalidation came since `began`.
    fn store_unless_invalidated(&self, began: u64, store: impl FnOnce()) {
        let invalidations = self.lock();
        if *invalidations == began {
            store();
        }
    }

    /// Runs `invalidate` (a cache removal, or an overwrite with the new truth) so that reads in
    /// flight will not undo it.
    fn invalidate(&self, invalidate: impl FnOnce()) {
        let mut invalidations = self.lock();
        *invalidations += 1;
        invalidate();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, u64> {
        self.invalidations.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A cached value, when it was read, and whether a read of it again has started.
struct Entry<V> {
    value: V,
    read_at: Instant,
    refreshing: AtomicBool,
}

impl<V> Entry<V> {
    /// A value read just now.
    fn new(value: V) -> Self {
        Entry { value, read_at: Instant::now(), refreshing: AtomicBool::new(false) }
    }

    /// The claim to read this entry again, for the caller, when it is `refresh_after` old and no
    /// one else holds the claim.
    fn claim_refresh(self: &Arc<Self>, refresh_after: Duration) -> Option<RefreshClaim<V>> {
        // Read before the swap: while a refresh is under way, the hits of every thread only read
        // the flag's cache line.
        let due = self.read_at.elapsed() >= refresh_after
            && !self.refreshing.load(Ordering::Relaxed)
            && self.refreshing.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok();
        due.then(|| RefreshClaim(self.clone()))
    }
}

/// Held by the one refresh of an entry under way; dropped, it lets the next request that finds
/// the entry due try again (after a failed read, or one whose answer a change here made moot).
struct RefreshClaim<V>(Arc<Entry<V>>);

impl<V> Drop for RefreshClaim<V> {
    fn drop(&mut self) {
        self.0.refreshing.store(false, Ordering::Release);
    }
}

/// When an entry that lives `time_to_live` is read again ahead of its expiry: at three quarters
/// of it, which leaves the read a quarter of it to finish before the entry would expire.
fn refresh_after(time_to_live: Duration) -> Duration {
    time_to_live * 3 / 4
}

/// A read-through cache of values by string key, guarded: what a load returns is kept for
/// `time_to_live` unless an invalidation raced it, and read again in the background ahead of
/// its expiry while it is in use.
#[derive(Clone)]
pub struct ReadThrough<V: Clone + Send + Sync + 'static> {
    cache: Cache<String, Arc<Entry<V>>>,
    guard: InvalidationGuard,
    time_to_live: Duration,
}

impl<V: Clone + Send + Sync + 'static> ReadThrough<V> {
    pub fn new(max_capacity: u64, time_to_live: Duration) -> Self {
        let cache = Cache::builder().max_capacity(max_capacity).time_to_live(time_to_live).build();
        ReadThrough { cache, guard: InvalidationGuard::default(), time_to_live }
    }

    /// As [`Self::new`], for a cache that forgets entries by their value
    /// ([`Self::invalidate_where`]).
    pub fn invalidated_by_value(max_capacity: u64, time_to_live: Duration) -> Self {
        let cache = Cache::builder()
            .max_capacity(max_capacity)
            .time_to_live(time_to_live)
            .support_invalidation_closures()
            .build();
        ReadThrough { cache, guard: InvalidationGuard::default(), time_to_live }
    }

    /// The value of `key`: from the cache, or on a miss from the future `load` makes (called
    /// only then, so a hit builds nothing). An entry due for a refresh answers from the cache
    /// too, and the first request to find it due starts `load`'s future in the background (on
    /// the Tokio runtime, if the caller runs on one); a failed refresh changes nothing, and the
    /// entry expires unless a later one succeeds. Concurrent misses each load.
    pub async fn get_or_load<E, Load, Loading>(&self, key: &str, load: Load) -> Result<V, E>
    where
        Load: FnOnce() -> Loading,
        Loading: Future<Output = Result<V, E>> + Send + 'static,
        E: Send + 'static,
    {
        let Some(entry) = self.cache.get(key) else {
            return self.load_and_store(key.to_owned(), load(), None).await;
        };
        let claim = entry.claim_refresh(refresh_after(self.time_to_live));
        // Without a runtime to run it on, the claim is given up at once.
        let runtime = claim.as_ref().and_then(|_| tokio::runtime::Handle::try_current().ok());
        if let (Some(claim), Some(runtime)) = (claim, runtime) {
            let (cache, key, loading, replacing) = (self.clone(), key.to_owned(), load(), entry.clone());
            runtime.spawn(async move {
                let _claim = claim;
                let _ = cache.load_and_store(key, loading, Some(replacing)).await;
            });
        }
        Ok(entry.value.clone())
    }

    /// Awaits `loading` (futures run when awaited, so after the read began and an invalidation
    /// during it is seen) and stores its value unless such an invalidation came, or, for a
    /// refresh of `replacing`, unless that entry was replaced meanwhile (it expired, and a miss
    /// stored a newer read).
    async fn load_and_store<E>(
        &self,
        key: String,
        loading: impl Future<Output = Result<V, E>>,
        replacing: Option<Arc<Entry<V>>>,
    ) -> Result<V, E> {
        let began = self.guard.begin_read();
        let loaded = loading.await?;
        self.guard.store_unless_invalidated(began, || {
            let current = || self.cache.get(&key);
            if replacing.is_none_or(|replacing| current().is_some_and(|current| Arc::ptr_eq(&current, &replacing))) {
                self.cache.insert(key, Arc::new(Entry::new(loaded.clone())));
            }
        });
        Ok(loaded)
    }

    /// Stores `value` for `key`: the new truth after a change made here, which reads in flight
    /// will not undo.
    pub fn set(&self, key: &str, value: V) {
        self.guard.invalidate(|| self.cache.insert(key.to_owned(), Arc::new(Entry::new(value))));
    }

    /// Forgets `key` after what it holds changed here.
    pub fn invalidate(&self, key: &str) {
        self.guard.invalidate(|| self.cache.invalidate(key));
    }

    /// Forgets every key.
    pub fn invalidate_all(&self) {
        self.guard.invalidate(|| self.cache.invalidate_all());
    }

    /// Forgets every entry whose value `affected` holds for (rare: moka applies the predicate
    /// lazily). Should the cache refuse the predicate (it was not made with
    /// [`Self::invalidated_by_value`]), it forgets everything, the safe answer.
    pub fn invalidate_where(&self, affected: impl Fn(&V) -> bool + Send + Sync + 'static) {
        self.guard.invalidate(|| {
            let predicate = move |_: &String, entry: &Arc<Entry<V>>| affected(&entry.value);
            if self.cache.invalidate_entries_if(predicate).is_err() {
                self.cache.invalidate_all();
            }
            self.cache.run_pending_tasks();
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

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

    #[test]
    fn one_request_claims_a_due_refresh_until_it_gives_it_up() {
        let ttl = Duration::from_secs(1);
        assert!(Arc::new(Entry::new(1)).claim_refresh(refresh_after(ttl)).is_none(), "not due yet");
        let due = Arc::new(Entry { read_at: Instant::now() - refresh_after(ttl), ..Entry::new(1) });
        let claim = due.claim_refresh(refresh_after(ttl));
        assert!(claim.is_some());
        assert!(due.claim_refresh(refresh_after(ttl)).is_none(), "only one refresh at a time");
        drop(claim);
        assert!(due.claim_refresh(refresh_after(ttl)).is_some(), "a refresh that ended leaves it to the next");
        assert!(refresh_after(ttl) < ttl, "the refresh must land before the entry expires");
    }

    /// A long time to live: the tests back-date entries instead of waiting.
    const TTL: Duration = Duration::from_secs(60);

    /// A cache holding `value` for "k", read `age` ago.
    fn holding(value: u32, age: Duration) -> ReadThrough<u32> {
        let cache = ReadThrough::new(10, TTL);
        let entry = Entry { read_at: Instant::now() - age, ..Entry::new(value) };
        cache.cache.insert("k".to_owned(), Arc::new(entry));
        cache
    }

    /// Lets the refresh started in the background run (the test runtime has one thread), until
    /// "k" holds `value`; false if it never does.
    async fn until_holds(cache: &ReadThrough<u32>, value: u32) -> bool {
        for _ in 0..100 {
            if cache.cache.get("k").is_some_and(|entry| entry.value == value) {
                return true;
            }
            tokio::task::yield_now().await;
        }
        false
    }

    /// A load answering `answer`, counted in `loads` when it is made.
    fn counted<T: Send + 'static>(loads: &AtomicUsize, answer: T) -> impl Future<Output = T> + Send + 'static {
        loads.fetch_add(1, Ordering::SeqCst);
        async move { answer }
    }

    #[tokio::test]
    async fn a_due_entry_answers_from_the_cache_while_one_refresh_reads_it_again() {
        let cache = holding(1, refresh_after(TTL));
        let loads = AtomicUsize::new(0);
        let load = || counted(&loads, Ok::<_, ()>(2));
        for _ in 0..10 {
            assert_eq!(cache.get_or_load("k", load).await, Ok(1));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1, "one refresh for ten requests");
        assert!(until_holds(&cache, 2).await, "the refresh stores what it read");
        assert_eq!(cache.get_or_load("k", load).await, Ok(2));
        assert_eq!(loads.load(Ordering::SeqCst), 1, "a fresh entry is not read again");
    }

    #[tokio::test]
    async fn a_failed_refresh_changes_nothing_and_the_next_request_tries_again() {
        let cache = holding(1, refresh_after(TTL));
        let failed = AtomicUsize::new(0);
        let fail = || counted(&failed, Err::<u32, _>("database away"));
        assert_eq!(cache.get_or_load("k", fail).await, Ok(1));
        for _ in 0..100 {
            if cache.cache.get("k").is_some_and(|entry| !entry.refreshing.load(Ordering::Acquire)) {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(cache.get_or_load("k", fail).await, Ok(1));
        assert_eq!(failed.load(Ordering::SeqCst), 2, "the claim was given up after the failure");
        // A miss (here after an invalidation) reports the failure.
        cache.invalidate("k");
        assert_eq!(cache.get_or_load("k", fail).await, Err("database away"));
    }

    #[tokio::test]
    async fn a_late_refresh_does_not_overwrite_a_newer_read() {
        let cache = holding(1, refresh_after(TTL));
        let (answer, answered) = tokio::sync::oneshot::channel::<u32>();
        assert_eq!(cache.get_or_load("k", || async { answered.await.map_err(drop) }).await, Ok(1));
        tokio::task::yield_now().await;
        // Meanwhile the entry expired and a miss stored a newer read.
        cache.cache.insert("k".to_owned(), Arc::new(Entry::new(7)));
        answer.send(2).unwrap();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(cache.get_or_load("k", || async { Ok::<_, ()>(9) }).await, Ok(7));
    }

    #[tokio::test]
    async fn a_refresh_that_raced_a_change_here_does_not_undo_it() {
        let cache = holding(1, refresh_after(TTL));
        let changed_meanwhile = {
            let cache = cache.clone();
            move || async move {
                cache.set("k", 5);
                Ok::<_, ()>(1)
            }
        };
        assert_eq!(cache.get_or_load("k", changed_meanwhile).await, Ok(1));
        assert!(until_holds(&cache, 5).await);
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(cache.get_or_load("k", || async { Ok::<_, ()>(9) }).await, Ok(5));
    }
}
