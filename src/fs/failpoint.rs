//! A testing hook for crash safety: with `GOKEEP_FAILPOINT=<n>` in the
//! environment, the process aborts (SIGABRT, no unwinding, no destructors,
//! no buffered output flushed: as close to a power cut as a process can get
//! without help) right after its n-th file-system mutation. Every mutation
//! site in gokeep (unlink, rmdir, mkdir, chmod, create, write, truncate,
//! rename, utimes) calls [`mutated`] once it has happened, so a test can stop
//! a run after each of them in turn (n = 1, 2, …) and check what is left.
//!
//! Always compiled in, so `cargo test` runs it against the very binary users
//! get: unset (or 0, or not a number) it costs one load of an initialised
//! `OnceLock` per mutation, and nothing ever aborts.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming the mutation to stop after.
pub const ENV: &str = "GOKEEP_FAILPOINT";

static TARGET: OnceLock<u64> = OnceLock::new();
static COUNT: AtomicU64 = AtomicU64::new(0);

/// Counts one file-system mutation; aborts the process when it is the one
/// [`ENV`] names. Read once: the count spans the whole process.
pub fn mutated() {
    let target = *TARGET.get_or_init(|| std::env::var(ENV).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(0));
    if target != 0 && COUNT.fetch_add(1, Ordering::SeqCst) + 1 == target {
        std::process::abort();
    }
}

/// `mutated()` after a successful call, passing its result through.
pub fn after<T, E>(result: Result<T, E>) -> Result<T, E> {
    if result.is_ok() {
        mutated();
    }
    result
}
