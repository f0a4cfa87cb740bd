//! Taking gokeep's run lock for a command that deletes or stamps: a
//! scheduled run (`--if-idle`) skips when another run holds it, a run
//! someone started waits, after saying whom it waits for.

use anyhow::Context;
use gokeep::state::run_lock::{self, Attempt, RunLock};

use super::{Printer, Settings};

/// What the run goes on with.
pub enum Taken {
    /// Held until dropped.
    Held(#[allow(dead_code, reason = "held, never read: dropping it releases the lock")] RunLock),
    /// gokeep's state directory cannot hold the lock (unwritable, no home):
    /// the run goes on unlocked, as it goes on unjournaled, with a warning.
    /// Every cache operation still takes Go's own locks.
    Unavailable,
    /// A scheduled run found another run under way.
    Skip,
}

/// Takes the run lock: a scheduled run skips when it is busy, another waits.
pub fn take(settings: &Settings, printer: &Printer) -> anyhow::Result<Taken> {
    let unavailable = |e: &dyn std::fmt::Display| {
        printer.warn(&format!("not locked against other gokeep runs: {e}"));
        Taken::Unavailable
    };
    let dir = match gokeep::state::state_dir() {
        Ok(d) => d,
        Err(e) => return Ok(unavailable(&e)),
    };
    let command = super::command_line();
    let attempt = match run_lock::try_acquire(&dir, &command) {
        Ok(a) => a,
        Err(e) => return Ok(unavailable(&e)),
    };
    match attempt {
        Attempt::Acquired(lock) => Ok(Taken::Held(lock)),
        Attempt::Busy { path, holder } => {
            let who = holder.map_or_else(|| "another gokeep run".to_owned(), |h| format!("gokeep {h}"));
            if settings.if_idle {
                printer.note(&format!("gokeep: skipped: {who} holds {}", path.display()));
                return Ok(Taken::Skip);
            }
            printer.note(&format!("gokeep: waiting for {who}, which holds {}", path.display()));
            Ok(Taken::Held(run_lock::acquire(&dir, &command).context("taking gokeep's run lock")?))
        }
    }
}
