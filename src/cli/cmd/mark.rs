//! `gokeep mark`: stamp the module cache so that `prune --unused-since-mark`
//! can remove exactly what no build read afterwards.

use anyhow::Context;

use gokeep::prune::atime::{AgeSource, age_source_for};
use gokeep::prune::mark;
use gokeep::state::journal::{self, JournalEntry};
use gokeep::state::marks;
use gokeep::timestamp::Timestamp;

use crate::cli::cache_root;
use crate::cli::exit::UsageError;
use crate::cli::render::mark::MarkJson;
use crate::cli::{Outcome, Printer, Settings};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The CI-image recipe: `gokeep mark`, run the job's builds and tests, then \
`gokeep prune --unused-since-mark --yes`: module versions none of them read are removed.

mark sets the access time of every module version file to two days ago (modification times are \
kept). Linux's default relatime refreshes an access time older than a day on the next read, so \
every file a build reads afterwards is fresh again. On a noatime mount reads leave no trace: \
mark refuses to run there.")]
pub struct Args {}

pub fn run(_args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let root = cache_root::modcache(settings, printer)?;
    let (source, why) = age_source_for(root.path());
    if source == AgeSource::Mtime {
        return Err(
            UsageError(format!("cannot mark {}: {why}; reads leave no trace there", root.path().display())).into()
        );
    }
    let _run_lock = match crate::cli::run_lock::take(settings, printer)? {
        crate::cli::run_lock::Taken::Skip => return Ok(Outcome::Clean),
        lock => lock,
    };
    let now = Timestamp::now();
    let m = mark::mark(&root, now);
    let saved = marks::save(&m.record).context("recording the mark")?;
    let entry = JournalEntry {
        time: now,
        command: crate::cli::command_line(),
        modcache: Some(root.path().to_owned()),
        gocache: None,
        items: m.record.versions,
        files: m.record.files,
        dirs: 0,
        apparent_bytes: 0,
        disk_bytes: 0,
        duration_ms: started.elapsed().as_millis() as u64,
        failures: m.failures.len() as u64,
        skipped: 0,
    };
    if let Err(e) = journal::append(&entry) {
        printer.warn(&format!("not journaled: {e}"));
    }
    if printer.json {
        printer.json(&MarkJson { schema_version: 1, mark: &m.record, failures: &m.failures })?;
    } else {
        printer.note(&format!(
            "gokeep: marked {} module versions ({} files) in {}; recorded in {}",
            m.record.versions,
            m.record.files,
            root.path().display(),
            saved.display()
        ));
        for f in &m.failures {
            printer.warn(&format!("{}: {}", f.path.display(), f.message));
        }
    }
    if m.failures.is_empty() {
        Ok(Outcome::Clean)
    } else {
        anyhow::bail!("{} files could not be marked", m.failures.len())
    }
}
