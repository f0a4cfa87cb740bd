//! Ctrl-C while gokeep deletes: the first one stops the executor between
//! items (the items in hand are finished, the run is journaled, exit 130);
//! a second one ends the process at once, which the `.partial` protocol
//! also leaves safe for go.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::SIGINT;
use signal_hook::flag;

/// A flag that SIGINT sets from now on.
pub fn watch() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    // Registered first, so it sees the flag before the second handler sets it:
    // only a Ctrl-C that finds the flag already set ends the process.
    flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&stop))?;
    flag::register(SIGINT, Arc::clone(&stop))?;
    Ok(stop)
}

/// Whether Ctrl-C was pressed since [`watch`].
pub fn stopped(stop: &AtomicBool) -> bool {
    stop.load(Ordering::Relaxed)
}
