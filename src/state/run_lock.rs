//! The gokeep run lock: one gokeep run that changes a cache at a time.
//!
//! `<state dir>/run.lock` is held (an exclusive `flock`, released when the
//! process exits, however it exits) by every run that deletes or stamps:
//! two prunes of one cache would otherwise race each other's plans, and a
//! mark taken while a prune removes would record versions that are going.
//! The holder writes its pid and command line into the file, so a run that
//! finds it busy can say who holds it. A scheduled run (`--if-idle`) skips
//! when it is busy, as cargo's automatic GC does: the next tick comes soon
//! and nothing is lost. A run someone started by hand waits.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::golock::{self, HeldLock, LockError};

/// The lock file's name in the state directory.
pub const RUN_LOCK_FILE: &str = "run.lock";

/// Who holds the run lock, as the holder recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub command: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} ({})", self.pid, self.command)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunLockError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("cannot record the run lock's holder in {path}: {source}")]
    Record { path: PathBuf, source: std::io::Error },
}

/// The run lock, held until dropped.
#[derive(Debug)]
pub struct RunLock {
    _held: HeldLock,
}

/// The outcome of [`try_acquire`].
#[derive(Debug)]
pub enum Attempt {
    Acquired(RunLock),
    /// Another run holds it; who, when its record could be read.
    Busy {
        path: PathBuf,
        holder: Option<Holder>,
    },
}

/// `<state dir>/run.lock`.
#[must_use]
pub fn path_in(state_dir: &Path) -> PathBuf {
    state_dir.join(RUN_LOCK_FILE)
}

/// Takes the run lock in `state_dir` if nobody holds it, recording this
/// process (`command` is its command line).
///
/// # Errors
/// When the lock file cannot be opened, locked or written.
pub fn try_acquire(state_dir: &Path, command: &str) -> Result<Attempt, RunLockError> {
    let path = path_in(state_dir);
    match golock::try_lock_for(&path, Duration::ZERO)? {
        Some(held) => Ok(Attempt::Acquired(record(held, command)?)),
        None => Ok(Attempt::Busy { holder: holder(&path), path }),
    }
}

/// Takes the run lock in `state_dir`, waiting as long as another run holds it.
///
/// # Errors
/// When the lock file cannot be opened, locked or written.
pub fn acquire(state_dir: &Path, command: &str) -> Result<RunLock, RunLockError> {
    record(golock::lock_blocking(&path_in(state_dir))?, command)
}

fn record(held: HeldLock, command: &str) -> Result<RunLock, RunLockError> {
    let text = serde_json::to_string(&Holder { pid: std::process::id(), command: command.to_owned() })
        .expect("a holder serialises");
    let mut f = held.file();
    let err = |e| RunLockError::Record { path: held.path().to_owned(), source: e };
    f.set_len(0).map_err(err)?;
    // The file was opened without O_APPEND; write from the start.
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(0)).map_err(err)?;
    f.write_all(format!("{text}\n").as_bytes()).map_err(err)?;
    Ok(RunLock { _held: held })
}

/// The holder recorded in the lock file at `path`. Read without the lock
/// (the holder has it): a run that took it a moment ago and has not written
/// yet reads as unknown.
fn holder(path: &Path) -> Option<Holder> {
    let mut text = String::new();
    File::options()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .ok()?
        .read_to_string(&mut text)
        .ok()?;
    serde_json::from_str(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_finds_the_lock_busy_and_reads_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let Attempt::Acquired(held) = try_acquire(dir.path(), "prune --max-age 30d").unwrap() else {
            panic!("the first run takes a free lock")
        };
        match try_acquire(dir.path(), "mark").unwrap() {
            Attempt::Busy { holder, path } => {
                assert_eq!(path, dir.path().join(RUN_LOCK_FILE));
                assert_eq!(holder, Some(Holder { pid: std::process::id(), command: "prune --max-age 30d".into() }));
            }
            Attempt::Acquired(_) => panic!("a held run lock was taken twice"),
        }
        drop(held);
        assert!(matches!(try_acquire(dir.path(), "mark").unwrap(), Attempt::Acquired(_)));
    }
}
