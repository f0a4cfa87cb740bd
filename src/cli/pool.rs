//! The one thread pool: built here, from `--threads` and the command, and
//! installed as rayon's global pool before any command runs. The library
//! never builds a pool; its parallel work runs in this one.

use super::Command;
use super::exit::UsageError;

/// Removal waits on the file system (journal commits, discards), not on the
/// CPU: with more threads than cores the waits overlap. Four per core halved
/// `prune --all` on a 2-core ext4 machine (bench/prune.sh).
const REMOVAL_THREADS_PER_CORE: usize = 4;

/// How many workers `command` gets without `--threads`: one per core for
/// scanning and hashing, more for a command whose work is mostly removal.
fn default_threads(command: &Command) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    match command {
        Command::Prune(_) => cores * REMOVAL_THREADS_PER_CORE,
        _ => cores,
    }
}

/// Builds the pool and makes it the global one.
pub fn install(threads: Option<u16>, command: &Command) -> Result<(), UsageError> {
    let n = threads.map_or_else(|| default_threads(command), usize::from);
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| UsageError(format!("cannot start {n} worker threads: {e}")))
}
