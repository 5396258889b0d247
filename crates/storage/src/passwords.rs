//! User passwords (SPEC §2): Argon2id with the crate's OWASP defaults. Hashing is slow on
//! purpose and holds 19 MiB while it runs: requests reach it only through [`bounded`], which
//! runs at most one hash per core at a time (docs/security.md, "Bounds").

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 1024;

/// How long a request waits for a free hashing slot before it is turned away.
pub const QUEUE_WAIT: Duration = Duration::from_secs(1);

/// One permit per core: Argon2 is CPU-bound, more at once would only share the cores and
/// multiply the memory.
static SLOTS: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))));

/// Password hashing is at capacity: answer 503 (or 429) with `Retry-After`, do not queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Runs `work` (a hash or a verification) on a blocking thread once a slot is free, waiting at
/// most [`QUEUE_WAIT`]; [`Busy`] past that.
pub async fn bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
    let permit =
        tokio::time::timeout(QUEUE_WAIT, SLOTS.clone().acquire_owned()).await.map_err(|_| Busy)?.map_err(|_| Busy)?;
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
    #[test]
    fn hashes_verify_only_their_password() {
        let stored = super::hash("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(super::verify("correct horse", &stored));
        assert!(!super::verify("wrong horse", &stored));
        assert!(!super::verify("correct horse", "garbage"));
    }
}
