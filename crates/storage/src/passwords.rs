//! User passwords (docs/security.md): Argon2id with the crate's OWASP defaults. Hashing is slow on
//! purpose and holds 19 MiB while it runs: requests reach it only through [`bounded`], which
//! runs at most one sign-in hash per core, and one management hash, at a time
//! (docs/security.md, "Bounds").

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 1024;

/// How long a request waits for a free hashing slot before it is turned away.
pub const QUEUE_WAIT: Duration = Duration::from_secs(1);

/// Who asks for a hash: the two never wait on each other, so a tenant setting passwords in a
/// loop through the management API cannot keep people from signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashing {
    /// Checking a password at sign-in: one slot per core (Argon2 is CPU-bound; more at once
    /// would only share the cores and multiply the memory).
    SignIn,
    /// Setting a password through the management API: one slot.
    Management,
}

static SIGN_IN_SLOTS: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))));
static MANAGEMENT_SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(1)));

/// Password hashing is at capacity: answer 503 (or 429) with `Retry-After`, do not queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Runs `work` (a hash or a verification) on a blocking thread once one of `who`'s slots is
/// free, waiting at most [`QUEUE_WAIT`]; [`Busy`] past that.
pub async fn bounded<T: Send + 'static>(who: Hashing, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
    let slots: Arc<Semaphore> = match who {
        Hashing::SignIn => Arc::clone(&SIGN_IN_SLOTS),
        Hashing::Management => Arc::clone(&MANAGEMENT_SLOTS),
    };
    let permit = tokio::time::timeout(QUEUE_WAIT, slots.acquire_owned()).await.map_err(|_| Busy)?.map_err(|_| Busy)?;
    // The permit goes with the work: a request dropped while its hash runs frees the slot only
    // when the hash is done.
    let result = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await;
    // A panic inside Argon2 is a bug; the request fails rather than the server.
    result.map_err(|_| Busy)
}

/// The PHC string of a new Argon2id hash of `password`, with a fresh salt.
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Whether `password` matches the stored PHC string. Unknown users should be checked against
/// [`dummy_hash`] so that both cases cost the same.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of a random password, computed once: what an unknown email is compared against.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&crate::secrets::generate_server_secret()).expect("argon2 hashes"))
}

#[cfg(test)]
mod tests {
    use super::{Busy, Hashing, bounded};

    #[tokio::test]
    async fn management_hashing_never_holds_up_sign_in() {
        let busy =
            tokio::spawn(bounded(Hashing::Management, || std::thread::sleep(std::time::Duration::from_millis(1500))));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        assert_eq!(bounded(Hashing::SignIn, || 1).await, Ok(1));
        assert!(started.elapsed() < std::time::Duration::from_millis(500), "sign-in has slots of its own");
        assert_eq!(bounded(Hashing::Management, || 2).await, Err(Busy), "the management slot is taken past the wait");
        busy.await.unwrap().unwrap();
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let stored = super::hash("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(super::verify("correct horse", &stored));
        assert!(!super::verify("wrong horse", &stored));
        assert!(!super::verify("correct horse", "garbage"));
    }
}
