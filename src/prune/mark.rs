//! Exact last-use tracing for CI images: `gokeep mark`, then the job's
//! builds, then `gokeep prune --unused-since-mark`.
//!
//! ## How
//! [`mark`] sets the access time of every file that belongs to a module
//! version (extracted tree files and `cache/download/.../@v/<version>.*`
//! files, `.lock` included) to a stamp two days in the past, leaving mtimes
//! alone. An access time already older than the stamp is left as it is: a
//! mark moves times back, never forward, so age rules keep seeing them. Linux's default `relatime` updates a file's atime on the next read
//! when the atime is more than a day old, so every file a build reads after
//! the mark gets a fresh atime; `strictatime` always does. A version none
//! of whose files has an atime or mtime after the mark was neither read nor
//! written since (the `unused_since_mark` rule of [`super::plan`]). The
//! `.mod` file counts: a version whose go.mod was read for the module graph
//! is needed even if its code was not compiled.
//!
//! On a `noatime` mount reads leave no trace, so marking is refused there
//! (the caller checks the mount; [`crate::prune`]'s age source says which).
//!
//! ## Where the stamp is kept
//! In gokeep's state directory, never inside Go's cache ([`crate::state::marks`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use rustix::fs::FileType;
use serde::Serialize;

use crate::layout::{self, ModPath};
use crate::timestamp::Timestamp;

use super::Failure;
use crate::fs::beneath::{Times, lstat_at, read_entries, set_times_at, walk_files};
use crate::fs::remove::CacheRoot;
use crate::state::marks::MarkRecord;

/// How far in the past the stamp is: more than relatime's one day, so any read refreshes it.
pub const STAMP_AGE_SECS: i64 = 2 * 86_400;

/// What [`mark`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Mark {
    pub record: MarkRecord,
    pub failures: Vec<Failure>,
}

/// Stamps every module version file's atime under `root` (see the module
/// docs). Directories are opened beneath the root's descriptor and every
/// time is set relative to its directory, never through a symbolic link.
#[must_use]
pub fn mark(root: &CacheRoot, now: Timestamp) -> Mark {
    let stamp = Timestamp(now.0 - STAMP_AGE_SECS);
    let times = Times { accessed: Some(stamp.0), modified: None };
    let base = root.path();
    // Units walked in parallel: each top-level directory, and each module under cache/download.
    let mut units: Vec<PathBuf> = Vec::new();
    let subdirs = |dir: &Path, skip: &str| -> Vec<PathBuf> {
        let Ok(fd) = root.open_dir(dir) else { return Vec::new() };
        read_entries(&fd)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.os_name() != skip && e.file_type != FileType::RegularFile && e.file_type != FileType::Symlink)
            .map(|e| dir.join(e.os_name()))
            .collect()
    };
    units.extend(subdirs(base, "cache"));
    units.extend(subdirs(&base.join("cache/download"), "sumdb"));
    let versions = Mutex::new(HashSet::new());
    let failures = Mutex::new(Vec::new());
    let fail = |path: &Path, message: String| {
        failures.lock().expect("poisoned").push(Failure { path: path.to_owned(), message });
    };
    let files: u64 = units
        .par_iter()
        .map(|unit| {
            let mut n = 0;
            let mut seen = HashSet::new();
            let dir = match root.open_dir(unit) {
                Ok(d) => d,
                // Gone, or a file at the top level: nothing of a version to mark.
                Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {
                    return 0;
                }
                Err(e) => {
                    fail(unit, e.to_string());
                    return 0;
                }
            };
            walk_files(
                &dir,
                unit,
                &mut |dir, entry, path, st| {
                    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
                        return;
                    }
                    let Ok(rel) = path.strip_prefix(base) else { return };
                    let class = layout::classify_modcache(rel, false);
                    let Some((m, v)) = class.module_version() else { return };
                    if matches!(
                        class,
                        ModPath::Download { .. } | ModPath::ExtractedFile { .. } | ModPath::ExtractTemp { .. }
                    ) {
                        // A mark only moves times back: an access older than the stamp is
                        // already "unused since the mark", and moving it forward would make
                        // age rules see a version unused for months as two days old.
                        let set = if st.st_atime <= stamp.0 { Ok(()) } else { set_times_at(dir, &entry.name, times) };
                        match set {
                            Ok(()) => {
                                n += 1;
                                seen.insert((m.to_owned(), v.to_owned()));
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                            Err(e) => fail(path, e.to_string()),
                        }
                    }
                },
                &mut |path, e| fail(path, e.to_string()),
            );
            versions.lock().expect("poisoned").extend(seen);
            n
        })
        .sum();
    let versions = versions.into_inner().expect("poisoned").len() as u64;
    let mut failures = failures.into_inner().expect("poisoned");
    failures.sort_by(|a, b| a.path.cmp(&b.path));
    Mark { record: MarkRecord { root: base.to_owned(), stamp, marked_at: now, versions, files }, failures }
}

/// What [`refresh_build_entries`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Refresh {
    pub entries: u64,
    pub failures: Vec<Failure>,
}

/// Sets the mtime of every GOCACHE action and output entry to `now`, so
/// that cmd/go's trim (entries unused for 5 days) counts from now: a build
/// cache baked into an image then survives the image's first 5 days instead
/// of being mostly deleted by the first build after that. The price: Go can
/// no longer tell which of these entries it really used, so they all stay
/// for 5 more days, used or not.
///
/// Each shard is opened beneath the root's descriptor and each entry's time
/// is set relative to it, never through a link: a shard that is a symbolic
/// link is reported, not followed.
#[must_use]
pub fn refresh_build_entries(root: &CacheRoot, now: Timestamp) -> Refresh {
    let times = Times { accessed: None, modified: Some(now.0) };
    (0..=255u8)
        .into_par_iter()
        .map(|i| {
            let mut r = Refresh::default();
            let shard = root.path().join(format!("{i:02x}"));
            let listed = root.open_dir(&shard).and_then(|d| Ok((read_entries(&d)?, d)));
            let (entries, dir) = match listed {
                Ok(x) => x,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return r,
                Err(e) => {
                    r.failures.push(Failure { path: shard, message: e.to_string() });
                    return r;
                }
            };
            for e in entries {
                let p = shard.join(e.os_name());
                let Ok(rel) = p.strip_prefix(root.path()) else { continue };
                let ft = match e.file_type {
                    FileType::Unknown => match lstat_at(&dir, &e.name) {
                        Ok(Some(st)) => FileType::from_raw_mode(st.st_mode),
                        _ => continue,
                    },
                    ft => ft,
                };
                let is_dir = ft == FileType::Directory;
                // An executable entry is a directory; go marks the directory used.
                let is_entry = matches!(
                    layout::classify_gocache(rel, is_dir),
                    layout::BuildPath::Action { .. } | layout::BuildPath::Output { .. }
                );
                if is_entry && (ft == FileType::RegularFile || is_dir) {
                    match set_times_at(&dir, &e.name, times) {
                        Ok(()) => r.entries += 1,
                        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                        Err(err) => r.failures.push(Failure { path: p, message: err.to_string() }),
                    }
                }
            }
            r
        })
        .reduce(Refresh::default, |mut a, b| {
            a.entries += b.entries;
            a.failures.extend(b.failures);
            a
        })
}
