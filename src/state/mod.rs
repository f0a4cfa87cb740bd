//! gokeep's own state, never inside Go's caches: `go clean -modcache` would
//! delete it, and Go's layout is Go's.
//!
//! The state dir is `$GOKEEP_STATE_DIR` if set, else `gokeep/` under the
//! user's state directory (`$XDG_STATE_HOME`, `~/.local/state` on Linux; the
//! platform's local data directory elsewhere). It holds the run [`journal`], the [`marks`] of `gokeep mark`, what
//! `gokeep verify` last found clean ([`verified`]) and the [`run_lock`] that
//! keeps gokeep runs from overlapping.

use std::path::PathBuf;

pub mod journal;
pub mod marks;
pub mod run_lock;
pub mod verified;

/// Overrides where gokeep keeps its state (journal, marks, run lock).
pub const STATE_DIR_ENV: &str = "GOKEEP_STATE_DIR";

/// Neither the override nor a home directory says where the state lives.
#[derive(Debug, thiserror::Error)]
#[error("cannot determine a state directory: set {STATE_DIR_ENV} or HOME")]
pub struct NoStateDir;

/// gokeep's own state directory (see the module docs).
///
/// # Errors
/// [`NoStateDir`] when neither `$GOKEEP_STATE_DIR` nor a home directory is known.
pub fn state_dir() -> Result<PathBuf, NoStateDir> {
    if let Some(d) = std::env::var_os(STATE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .map(|d| d.join("gokeep"))
        .ok_or(NoStateDir)
}
