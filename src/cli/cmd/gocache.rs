//! `gokeep gocache`: build-cache maintenance that is not removal.

use gokeep::prune::mark;
use gokeep::timestamp::Timestamp;

use crate::cli::cache_root;
use crate::cli::exit::UsageError;
use crate::cli::render::gocache::RefreshJson;
use crate::cli::{Outcome, Printer, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: GocacheCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum GocacheCommand {
    /// Set every build-cache entry's modification time to now.
    #[command(long_about = "\
Set every build-cache entry's modification time to now.

Go deletes build-cache entries unused for 5 days (by modification time, which it refreshes at \
most hourly when an entry is used), at most once a day, at the end of a build. A cache baked \
into a CI image is therefore mostly deleted by the first build that runs once the image is 5 \
days old. Run `gokeep gocache refresh` last when building the image (after any pruning) so the \
5 days count from then.

Trade-off: afterwards Go cannot tell which of these entries it really used; all of them stay 5 \
more days, used or not, and the cache does not shrink by itself before then.")]
    Refresh,
}

pub fn run(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    match args.command {
        GocacheCommand::Refresh => {
            let root = cache_root::gocache(settings, printer)?
                .ok_or_else(|| UsageError("Go's build cache is off (GOCACHE=off)".into()))?;
            let r = mark::refresh_build_entries(&root, Timestamp::now());
            if printer.json {
                printer.json(&RefreshJson {
                    schema_version: 1,
                    gocache: root.path(),
                    refreshed_entries: r.entries,
                    failures: &r.failures,
                })?;
            } else {
                printer.note(&format!(
                    "gokeep: refreshed {} build cache entries in {}",
                    r.entries,
                    root.path().display()
                ));
                for f in &r.failures {
                    printer.warn(&format!("{}: {}", f.path.display(), f.message));
                }
            }
            if r.failures.is_empty() {
                Ok(Outcome::Clean)
            } else {
                anyhow::bail!("{} entries could not be refreshed", r.failures.len())
            }
        }
    }
}
