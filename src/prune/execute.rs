//! The executor: carries out a [`Plan`] against live caches that `go` may be
//! using at the same moment. Everything in gokeep that deletes comes here.
//!
//! ## Roots
//! The plan's module and build cache roots are recognised first
//! ([`crate::fs::remove`]), or handed over already recognised
//! ([`execute_in`]); a plan whose root is refused deletes nothing. Every
//! removal, lock, `.partial` marker and `@v/list` rewrite then goes through
//! [`CacheRoot`], relative to the root's descriptor and never through a link.
//!
//! ## Locking
//! Each module version is handled under its `<version>.lock` ([`crate::golock`]),
//! the mutex cmd/go holds while it downloads a zip and while it extracts a
//! tree. A lock still busy after [`LOCK_WAIT`] means a `go` command is
//! downloading or extracting that version right now: the version is skipped and
//! reported, never waited for without bound.
//!
//! ## Order (crash safety and live `go` commands)
//! cmd/go (`modfetch/fetch.go`) calls a version's tree complete when the
//! directory exists, no `<v>.partial` exists and `<v>.ziphash` exists; it reads
//! complete trees without any lock. It checks for the zip *without* the lock
//! (`DownloadZip`'s fast path: zip and ziphash both present) and only then
//! locks to extract it, without checking again. So a whole version goes:
//!
//! 1. lock; remove `.zip`; unlock. The tree still looks complete, so builds
//!    go on reading it, and a `go` that wants the zip finds none and
//!    downloads it again under the lock. A zip that cannot be removed ends
//!    the version here, reported as a failure: step 3 would take it for one
//!    a `go` downloaded again;
//! 2. wait [`ZIP_GRACE`] (once per run, measured per version): `go mod
//!    download` stats the zip in `DownloadZip` and only later looks at the
//!    tree in `Download`, and a `go` that saw the zip and then finds the tree
//!    incomplete unzips a path it never checks again. No `go` is still
//!    between those two steps after the grace;
//! 3. lock again; if a zip is back, a `go` downloaded it meanwhile: skip;
//! 4. create `.partial`: from now on cmd/go treats the tree as absent and
//!    will re-create it under the lock we hold;
//! 5. remove the tree (dirs made writable first);
//! 6. remove `.ziphash`, `.info`, `.mod`, then rewrite `@v/list` from the
//!    `.mod` files that are left, then stale temp files;
//! 7. remove `.partial`; leave `.lock`.
//!
//! [`Target::VersionContent`] goes the same way but for step 6: its `.info`
//! and `.mod` stay and `@v/list` is not rewritten, which is the state cmd/go
//! itself leaves for a version it only needed the go.mod of.
//!
//! A kill at any point leaves one of: a complete tree without a zip (fine for
//! builds, `go mod verify` hashes the tree); a `.partial` with a half-removed
//! tree (cmd/go removes and re-extracts it, `go mod verify` skips it); a
//! `.ziphash` without zip or tree (nothing to verify, `go` downloads again);
//! `.info`/`.mod` alone (a graph-only version, normal). Removing the zip
//! before the ziphash means there is never a zip without its ziphash, which
//! `go mod verify` would report.
//!
//! A version whose tree is absent but whose zip was written seconds ago is
//! skipped: that is cmd/go between its download step and its extract step,
//! which it does under two separate holds of the lock.
//!
//! Only the extracted tree: lock, `.partial`, remove the tree, remove `.partial`.
//!
//! A tree of which nothing could be removed (a root-owned or immutable tree)
//! is still complete: its `.partial` is taken back, or every later `go` would
//! try to re-extract it and fail. A tree left half-removed keeps the marker,
//! and the failure says what is left and how to finish.
//!
//! Directories on the way to a removed tree (`example.com/`) stay: cmd/go
//! creates a tree's parent with `os.MkdirAll` (stat, then mkdir each missing
//! level) under the lock of the version it extracts, so a parent removed
//! between its two steps fails a `go mod download` of a neighbouring
//! version with "mkdir …: no such file or directory". Only `--all`, the
//! `go clean -modcache` equivalent (racy in the same way), removes those it
//! leaves empty, with `rmdir`, never recursively.
//!
//! ## Build cache
//! GOCACHE entries are removed without locks, as cmd/go's own trim does, but
//! never one whose mtime is within [`ExecOptions::min_build_entry_age`] (at
//! least an hour: cmd/go refreshes a used entry's mtime at most hourly), and
//! never `README`, `trim.txt`, `testexpire.txt`.
//!
//! ## Parallelism
//! Items run in parallel (rayon); a build-cache sweep runs its 256 shards in
//! parallel. Per-item failures are collected and the run goes on. The items
//! of one module version (a tree and its `.tmp-` dirs, say) run one after
//! the other on one thread, in plan order: each takes the version lock, and
//! one of them waiting out [`LOCK_WAIT`] behind another would be skipped as
//! "locked by a running go command" when gokeep itself held the lock.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use rayon::prelude::*;

use crate::layout::{self, BuildPath, DownloadFile, escape};
use crate::scan::CacheKind;
use crate::timestamp::Timestamp;

use super::{MIN_BUILD_ENTRY_AGE, Plan, PlanItem, Reason, Removal, Skip, Target};
use crate::fs::beneath::{lstat_at, read_entries};
use crate::fs::remove::{self, CacheRoot, Freed, Refusal};
use crate::golock::{self, VersionLock};

/// How long to retry a busy version lock before skipping the version.
pub const LOCK_WAIT: Duration = Duration::from_secs(2);

/// A zip this young, with no extracted tree, is one cmd/go is about to extract.
pub const FRESH_ZIP: Duration = Duration::from_secs(10);

/// Between taking a version's zip away and marking its tree incomplete: longer
/// than `go mod download` takes from its unlocked look at the zip to its look
/// at the tree (microseconds without a checksum-database lookup).
pub const ZIP_GRACE: Duration = Duration::from_secs(1);

/// Temp files cmd/go writes without the version lock (`.info`, `.mod`) are
/// only removed once older than this.
pub const STALE_TEMP: Duration = Duration::from_secs(600);

/// Asked under a version's lock, before anything of it is removed: `Some(why)`
/// leaves the version alone. A fix planned from evidence seen without the
/// lock (a paste, a verify run) is only carried out if the evidence still holds.
pub type Recheck = std::sync::Arc<dyn Fn(&Target) -> Option<String> + Send + Sync>;

/// How to execute.
#[derive(Clone)]
pub struct ExecOptions {
    /// Build-cache entries younger than this are never removed; values below
    /// [`MIN_BUILD_ENTRY_AGE`] are raised to it.
    pub min_build_entry_age: Duration,
    /// How long a busy version lock is retried before the version is
    /// skipped as held by a running `go` ([`LOCK_WAIT`] by default).
    pub lock_wait: Duration,
    /// See [`Recheck`].
    pub recheck: Option<Recheck>,
    /// Once set (by Ctrl-C, say), no further item is started; the items in
    /// hand are finished, so nothing is left half-removed.
    pub stop: Option<Arc<AtomicBool>>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self { min_build_entry_age: MIN_BUILD_ENTRY_AGE, lock_wait: LOCK_WAIT, recheck: None, stop: None }
    }
}

impl std::fmt::Debug for ExecOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecOptions")
            .field("min_build_entry_age", &self.min_build_entry_age)
            .field("lock_wait", &self.lock_wait)
            .field("recheck", &self.recheck.is_some())
            .field("stop", &self.stop)
            .finish()
    }
}

/// Why a plan could not be executed at all.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the plan removes from the {kind} but names no {kind} root")]
    NoRoot { kind: CacheKind },
}

/// Carries out `plan`, recognising the roots it names. `progress` is called
/// once per item, after it ran.
pub fn execute(plan: &Plan, opts: &ExecOptions, progress: &(dyn Fn(&PlanItem) + Sync)) -> Result<Removal, ExecError> {
    let needs_mod = plan.items.iter().any(|i| !i.target.is_build());
    let needs_build = plan.items.iter().any(|i| i.target.is_build());
    let modcache = match (&plan.modcache, needs_mod) {
        (Some(p), true) => Some(remove::recognise_modcache(p)?),
        _ => None,
    };
    let gocache = match (&plan.gocache, needs_build) {
        (Some(p), true) => Some(remove::recognise_gocache(p)?),
        _ => None,
    };
    execute_in(plan, modcache.as_ref(), gocache.as_ref(), opts, progress)
}

/// Carries out `plan` in roots recognised before the plan was made, so that
/// the directories scanned are the ones written to, opened once.
pub fn execute_in(
    plan: &Plan,
    modcache: Option<&CacheRoot>,
    gocache: Option<&CacheRoot>,
    opts: &ExecOptions,
    progress: &(dyn Fn(&PlanItem) + Sync),
) -> Result<Removal, ExecError> {
    let needs_mod = plan.items.iter().any(|i| !i.target.is_build());
    let needs_build = plan.items.iter().any(|i| i.target.is_build());
    let modcache = match modcache {
        Some(r) if needs_mod => Some(r.clone()),
        None if needs_mod => return Err(ExecError::NoRoot { kind: CacheKind::ModCache }),
        _ => None,
    };
    let gocache = match gocache {
        Some(r) if needs_build => Some(r.clone()),
        None if needs_build => return Err(ExecError::NoRoot { kind: CacheKind::BuildCache }),
        _ => None,
    };
    let exec = Executor {
        modcache,
        gocache,
        min_build_entry_age: opts.min_build_entry_age.max(MIN_BUILD_ENTRY_AGE),
        lock_wait: opts.lock_wait,
        recheck: opts.recheck.clone(),
        now: SystemTime::now(),
        empty_parents: plan.items.iter().any(|i| i.reason == Reason::All),
    };
    let groups = version_groups(&plan.items);
    let stopped = || opts.stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed));
    let run = || {
        // Phase 1: the zips of whole versions, each under its lock.
        let zips_gone: Vec<Vec<Result<(Instant, Removal), Removal>>> =
            groups
                .par_iter()
                .map(|group| {
                    group
                        .iter()
                        .map(|&i| match &plan.items[i].target {
                            _ if stopped() => Err(Removal { not_started: 1, ..Removal::default() }),
                            t @ (Target::ModuleVersion { module, version }
                            | Target::VersionContent { module, version }) => exec.take_zip(t, module, version),
                            _ => Ok((Instant::now(), Removal::default())),
                        })
                        .collect()
                })
                .collect();
        // Phase 2: everything else, whole versions once their grace is over.
        groups
            .par_iter()
            .zip(zips_gone)
            .map(|(group, zips_gone)| {
                let mut r = Removal::default();
                for (&i, zip_gone) in group.iter().zip(zips_gone) {
                    let item = &plan.items[i];
                    r += match zip_gone {
                        Ok((_, mut zip)) if stopped() => {
                            zip.not_started += 1;
                            zip
                        }
                        Ok((at, mut zip)) => {
                            let done = exec.item(&item.target, at);
                            if matches!(item.target, Target::ModuleVersion { .. } | Target::VersionContent { .. })
                                && done.failures.is_empty()
                                && done.skipped.is_empty()
                            {
                                zip.module_versions += 1;
                            }
                            zip += done;
                            zip
                        }
                        Err(r) => r,
                    };
                    progress(item);
                }
                r
            })
            .reduce(Removal::default, |mut a, b| {
                a += b;
                a
            })
    };
    // In the caller's pool: the binary builds the one pool and installs it.
    let mut removal = run();
    removal.failures.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(removal)
}

/// Indices of `items`, grouped so that the items of one module version
/// (which all take its lock) form one group, in plan order; every other item
/// is a group of its own. Groups are in order of their first item.
fn version_groups(items: &[PlanItem]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_version: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let key = match &item.target {
            Target::ModuleVersion { module, version }
            | Target::VersionContent { module, version }
            | Target::ExtractedTree { module, version }
            | Target::DownloadFiles { module, version, .. }
            | Target::ExtractTemp { module, version, .. } => Some((module.as_str(), version.as_str())),
            _ => None,
        };
        if let Some(&g) = key.and_then(|k| by_version.get(&k)) {
            groups[g].push(i);
            continue;
        }
        if let Some(k) = key {
            by_version.insert(k, groups.len());
        }
        groups.push(vec![i]);
    }
    groups
}

/// Whether a whole version's `.info` and `.mod` go with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metadata {
    Remove,
    /// [`Target::VersionContent`]: the module graph still loads offline.
    Keep,
}

struct Executor {
    modcache: Option<CacheRoot>,
    gocache: Option<CacheRoot>,
    min_build_entry_age: Duration,
    lock_wait: Duration,
    recheck: Option<Recheck>,
    now: SystemTime,
    /// The plan empties the cache (`--all`): directories on the way to a
    /// removed tree go too (see the module docs for why only then).
    empty_parents: bool,
}

/// Adds a checked removal's result, or records the refusal as a failure.
fn add(r: &mut Removal, path: &Path, res: Result<Freed, Refusal>) {
    match res {
        Ok(x) => *r += x,
        Err(e) => r.fail(path, e),
    }
}

fn skip(target: &Target, reason: impl Into<String>) -> Removal {
    Removal { skipped: vec![Skip { target: target.clone(), reason: reason.into() }], ..Removal::default() }
}

/// What is left of a tree that could not be removed whole, and how to finish.
/// Counted through the root's descriptor, never through a link.
fn left_behind(root: &CacheRoot, dir: &Path) -> String {
    let (mut files, mut dirs) = (0u64, 0u64);
    if let Ok(fd) = root.open_dir(dir) {
        let mut seen_dirs = std::collections::HashSet::new();
        crate::fs::beneath::walk_files(
            &fd,
            dir,
            &mut |_, _, path, _| {
                files += 1;
                for parent in path.ancestors().skip(1).take_while(|p| *p != dir) {
                    seen_dirs.insert(parent.to_owned());
                }
            },
            &mut |_, _| {},
        );
        dirs = seen_dirs.len() as u64;
    }
    let d = dir.display();
    format!(
        "{files} files and {dirs} directories are left in it, marked incomplete (.partial) so go re-extracts \
         it on next use; to finish, make them removable (`chmod -R u+w {d}`, or `chattr -R -i {d}`, or run as \
         their owner), then run `gokeep prune --debris`, or `go clean -modcache`"
    )
}

impl Executor {
    fn item(&self, target: &Target, zip_gone: Instant) -> Removal {
        match target {
            Target::ModuleVersion { module, version } => {
                self.module_version(target, module, version, zip_gone, Metadata::Remove)
            }
            Target::VersionContent { module, version } => {
                self.module_version(target, module, version, zip_gone, Metadata::Keep)
            }
            Target::ExtractedTree { module, version } => self.extracted_tree(target, module, version),
            Target::DownloadFiles { module, version, files } => self.download_files(target, module, version, files),
            Target::ExtractTemp { module, version, dir } => self.extract_temp(target, module, version, dir),
            Target::VcsRepo { hash } => self.vcs_repo(target, hash),
            Target::Leftover { path } => self.leftover(path),
            Target::Sumdb => {
                let root = self.modcache.as_ref().expect("module cache recognised");
                let p = root.path().join("cache/download/sumdb");
                let mut r = Removal::default();
                add(&mut r, &p, root.remove_tree(&p));
                r
            }
            Target::BuildEntriesBefore { cutoff } => self.build_entries(*cutoff),
            Target::BuildEntry { entry } => self.build_entry(entry),
            Target::ExpireTestResults => {
                let root = self.gocache.as_ref().expect("build cache recognised");
                let mut r = Removal::default();
                let nanos = self.now.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128);
                if let Err(e) = golock::expire_test_results(root, nanos) {
                    r.fail(&root.path().join("testexpire.txt"), e);
                }
                r
            }
            Target::FuzzCache => {
                let root = self.gocache.as_ref().expect("build cache recognised");
                let p = root.path().join("fuzz");
                let mut r = Removal::default();
                add(&mut r, &p, root.remove_tree(&p));
                r
            }
        }
    }

    fn mod_root(&self) -> &CacheRoot {
        self.modcache.as_ref().expect("module cache recognised")
    }

    /// Takes the version lock, or explains why the version is skipped.
    /// The version's lock for the first step that removes anything of it,
    /// with the plan's evidence asked again under it ([`Recheck`]).
    fn lock_first(&self, target: &Target, module: &str, version: &str) -> Result<VersionLock, Removal> {
        let lock = self.lock(target, module, version)?;
        if let Some(why) = self.recheck.as_ref().and_then(|r| r(target)) {
            return Err(skip(target, format!("checked again under its lock: {why}")));
        }
        Ok(lock)
    }

    fn lock(&self, target: &Target, module: &str, version: &str) -> Result<VersionLock, Removal> {
        let root = self.mod_root();
        // Module and version come from the plan: a `..` in them is refused by the root like any path.
        let lock_path = layout::download_path(root.path(), module, version, DownloadFile::Lock);
        match VersionLock::try_acquire(root, module, version, self.lock_wait) {
            Ok(Some(l)) => Ok(l),
            Ok(None) => Err(skip(
                target,
                format!(
                    "its lock was held for {:?} (by a go command downloading or extracting it, or another gokeep)",
                    self.lock_wait
                ),
            )),
            Err(e) => {
                let mut r = Removal::default();
                r.fail(&lock_path, e);
                Err(r)
            }
        }
    }

    fn exists(&self, p: &Path) -> bool {
        self.mod_root().exists(p)
    }

    fn remove_file(&self, r: &mut Removal, p: &Path) {
        add(r, p, self.mod_root().remove_file(p));
    }

    /// `.partial` first, then the tree. Returns true only when the tree is
    /// gone: when the marker could not be written the tree is left alone, and
    /// when the tree could not be removed whole the marker stays, since either
    /// would let cmd/go take a half-removed tree for a complete one. A tree
    /// of which nothing at all could be removed is still complete: the marker
    /// gokeep wrote is taken back, or cmd/go would try (and fail) to remove
    /// and re-extract a tree it could use as it is.
    fn remove_tree_marked(&self, r: &mut Removal, module: &str, version: &str) -> bool {
        let root = self.mod_root().path();
        let dir = layout::extracted_dir(root, module, version);
        if !self.exists(&dir) {
            return true;
        }
        let partial = layout::download_path(root, module, version, DownloadFile::Partial);
        let marked_before = self.exists(&partial);
        // As cmd/go writes it (`os.WriteFile(partial, nil, 0666)`), beneath the root.
        let flags = rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CREATE;
        if let Err(e) = self.mod_root().open_file(&partial, flags, rustix::fs::Mode::from_raw_mode(0o666), false) {
            r.fail(&partial, format!("cannot create the .partial marker: {e}"));
            return false;
        }
        let tree = match self.mod_root().remove_tree(&dir) {
            Ok(t) => t,
            Err(e) => {
                r.fail(&dir, e);
                Freed::default()
            }
        };
        let untouched = tree.files == 0 && tree.dirs == 0;
        *r += tree;
        if !self.exists(&dir) {
            if self.empty_parents {
                self.remove_empty_parents(r, &dir);
            }
            return true;
        }
        if untouched && !marked_before {
            self.remove_file(r, &partial);
            if !self.exists(&partial) {
                return false;
            }
        }
        r.fail(&dir, left_behind(self.mod_root(), &dir));
        false
    }

    /// Why a version whose zip is fresh and whose tree is absent is left
    /// alone, in the words of what was seen: no go command is observed, only
    /// the state cmd/go leaves between its download and its extraction.
    fn fresh_zip_without_tree(&self, module: &str, version: &str) -> Option<String> {
        let root = self.mod_root().path();
        if self.exists(&layout::extracted_dir(root, module, version))
            || self.exists(&layout::download_path(root, module, version, DownloadFile::Partial))
        {
            return None;
        }
        let st = self.mod_root().lstat(&layout::download_path(root, module, version, DownloadFile::Zip)).ok()??;
        let written = SystemTime::UNIX_EPOCH + Duration::from_secs(st.st_mtime.max(0) as u64);
        let age = SystemTime::now().duration_since(written).unwrap_or_default();
        (self.now.duration_since(written).unwrap_or_default() < FRESH_ZIP).then(|| {
            format!(
                "its zip was written {}s ago and has no extracted tree yet: a go command may be about to extract it",
                age.as_secs()
            )
        })
    }

    /// Whether an mtime (seconds) is less than `age` before the run started.
    fn younger_than(&self, mtime: i64, age: Duration) -> bool {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(mtime.max(0) as u64);
        self.now.duration_since(t).unwrap_or_default() < age
    }

    /// Phase 1 of a whole version: only its zip goes (or the version is
    /// skipped). `Err` means phase 2 must not run: a zip that could not be
    /// removed would look like one a running `go` downloaded again, and
    /// removing the rest would leave a zip without its `.ziphash`.
    fn take_zip(&self, target: &Target, module: &str, version: &str) -> Result<(Instant, Removal), Removal> {
        let _lock = self.lock_first(target, module, version)?;
        if let Some(why) = self.fresh_zip_without_tree(module, version) {
            return Err(skip(target, why));
        }
        let mut r = Removal::default();
        self.remove_file(&mut r, &layout::download_path(self.mod_root().path(), module, version, DownloadFile::Zip));
        if r.failures.is_empty() {
            return Ok((Instant::now(), r));
        }
        for f in &mut r.failures {
            f.message =
                format!("cannot remove the zip: {}; the rest of {module}@{version} was left in place", f.message);
        }
        Err(r)
    }

    fn module_version(
        &self,
        target: &Target,
        module: &str,
        version: &str,
        zip_gone: Instant,
        metadata: Metadata,
    ) -> Removal {
        if let Some(wait) = ZIP_GRACE.checked_sub(zip_gone.elapsed()) {
            std::thread::sleep(wait);
        }
        let _lock = match self.lock(target, module, version) {
            Ok(l) => l,
            Err(r) => return r,
        };
        let root = self.mod_root().path();
        let path = |f| layout::download_path(root, module, version, f);
        if self.exists(&path(DownloadFile::Zip)) {
            return skip(target, "its zip is back since gokeep removed it: a go command downloaded it again");
        }
        let mut r = Removal::default();
        if !self.remove_tree_marked(&mut r, module, version) {
            return r;
        }
        self.remove_file(&mut r, &path(DownloadFile::Ziphash));
        if metadata == Metadata::Remove {
            for f in [DownloadFile::Info, DownloadFile::Mod] {
                self.remove_file(&mut r, &path(f));
            }
            self.rewrite_list(&mut r, module);
        }
        self.remove_temps(&mut r, module, version);
        self.remove_file(&mut r, &path(DownloadFile::Partial));
        r
    }

    fn extracted_tree(&self, target: &Target, module: &str, version: &str) -> Removal {
        let _lock = match self.lock_first(target, module, version) {
            Ok(l) => l,
            Err(r) => return r,
        };
        let mut r = Removal::default();
        if self.remove_tree_marked(&mut r, module, version) {
            self.remove_file(
                &mut r,
                &layout::download_path(self.mod_root().path(), module, version, DownloadFile::Partial),
            );
        }
        r
    }

    fn download_files(&self, target: &Target, module: &str, version: &str, files: &[DownloadFile]) -> Removal {
        let _lock = match self.lock_first(target, module, version) {
            Ok(l) => l,
            Err(r) => return r,
        };
        if files.contains(&DownloadFile::Zip)
            && let Some(why) = self.fresh_zip_without_tree(module, version)
        {
            return skip(target, why);
        }
        let root = self.mod_root().path();
        // go writes the .ziphash before it renames the zip into place, under
        // this lock: one the plan saw alone may have its zip (or tree) by now.
        if files.contains(&DownloadFile::Ziphash)
            && !files.contains(&DownloadFile::Zip)
            && (self.exists(&layout::download_path(root, module, version, DownloadFile::Zip))
                || self.exists(&layout::extracted_dir(root, module, version)))
        {
            return skip(target, "its zip or tree is there now: a go command finished downloading it");
        }
        let mut r = Removal::default();
        // Same order as for a whole version; the lock file is never removed.
        for f in [DownloadFile::Zip, DownloadFile::Ziphash, DownloadFile::Info, DownloadFile::Mod] {
            if files.contains(&f) {
                self.remove_file(&mut r, &layout::download_path(root, module, version, f));
            }
            if f == DownloadFile::Zip && !r.failures.is_empty() {
                // A zip left without its `.ziphash` is what `go mod verify` reports.
                return r;
            }
        }
        if files.contains(&DownloadFile::Mod) {
            self.rewrite_list(&mut r, module);
        }
        if files.contains(&DownloadFile::Temp) {
            self.remove_temps(&mut r, module, version);
        }
        if files.contains(&DownloadFile::Partial) {
            // A `.partial` says the tree may be incomplete: the tree goes first,
            // or removing the marker would make a half-extracted tree look complete.
            let dir = layout::extracted_dir(root, module, version);
            if self.exists(&dir) {
                add(&mut r, &dir, self.mod_root().remove_tree(&dir));
            }
            if !self.exists(&dir) {
                self.remove_file(&mut r, &layout::download_path(root, module, version, DownloadFile::Partial));
            }
        }
        r
    }

    fn extract_temp(&self, target: &Target, module: &str, version: &str, dir: &Path) -> Removal {
        let _lock = match self.lock_first(target, module, version) {
            Ok(l) => l,
            Err(r) => return r,
        };
        let root = self.mod_root();
        let dir = if dir.is_absolute() { dir.to_owned() } else { root.path().join(dir) };
        let mut r = Removal::default();
        let expected = format!("{}@{}.tmp-", escape(module), escape(version));
        let rel = dir.strip_prefix(root.path()).ok().and_then(Path::to_str).unwrap_or("");
        if !rel.starts_with(&expected) {
            r.fail(&dir, format!("not a {module}@{version} extraction temp dir"));
            return r;
        }
        // `v1.0.0-rc.tmp-1` is valid semver: a name that is also a version
        // the cache holds files of is that version's tree, under another lock.
        let full = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.rsplit_once('@'))
            .and_then(|(_, v)| layout::unescape(v));
        if let Some(full) = full.filter(|v| self.holds_download_files(module, v)) {
            return skip(target, format!("also the name of version {full}, whose download files the cache holds"));
        }
        add(&mut r, &dir, root.remove_tree(&dir));
        if self.empty_parents && !self.exists(&dir) {
            self.remove_empty_parents(&mut r, &dir);
        }
        r
    }

    /// See [`Target::Leftover`]: a name that is not UTF-8 goes whole, any
    /// other only as an empty directory outside `cache/`.
    fn leftover(&self, rel: &Path) -> Removal {
        let root = self.mod_root();
        let p = root.path().join(rel);
        let mut r = Removal::default();
        if rel.file_name().is_some_and(|n| n.to_str().is_none()) {
            add(&mut r, &p, root.remove_tree(&p));
        } else if rel.starts_with("cache") {
            r.fail(&p, "not a leftover gokeep removes");
            return r;
        } else {
            match root.remove_empty_dir(&p) {
                Ok(true) => r.dirs += 1,
                Ok(false) => {}
                Err(e) => r.fail(&p, e),
            }
        }
        if !self.exists(&p) {
            self.remove_empty_parents(&mut r, &p);
        }
        r
    }

    /// After `gone` was removed: its parent directories outside `cache/`
    /// that are empty now (a module path's `example.com/`), up to the root,
    /// as `go clean -modcache` leaves none. cmd/go re-creates them as it
    /// extracts (`MkdirAll` in x/mod's `Unzip`), so one removed the moment
    /// before it is needed costs nothing.
    fn remove_empty_parents(&self, r: &mut Removal, gone: &Path) {
        let root = self.mod_root();
        let Ok(rel) = gone.strip_prefix(root.path()) else { return };
        if rel.starts_with("cache") {
            return;
        }
        for dir in rel.ancestors().skip(1).take_while(|d| !d.as_os_str().is_empty()) {
            match root.remove_empty_dir(&root.path().join(dir)) {
                Ok(true) => r.dirs += 1,
                _ => return,
            }
        }
    }

    fn holds_download_files(&self, module: &str, version: &str) -> bool {
        [DownloadFile::Lock, DownloadFile::Mod, DownloadFile::Zip, DownloadFile::Ziphash, DownloadFile::Info]
            .into_iter()
            .any(|f| self.exists(&layout::download_path(self.mod_root().path(), module, version, f)))
    }

    fn vcs_repo(&self, target: &Target, hash: &str) -> Removal {
        let root = self.mod_root();
        let mut r = Removal::default();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            r.fail(&root.path().join("cache/vcs").join(hash), "not a cmd/go VCS cache name");
            return r;
        }
        // Opening the lock creates it, beneath the root: never through a symlinked cache/vcs.
        let _lock = match golock::try_lock_vcs(root, hash, self.lock_wait) {
            Ok(Some(l)) => l,
            Ok(None) => {
                let why =
                    format!("its lock was held for {:?} (by a go command using it, or another gokeep)", self.lock_wait);
                return skip(target, why);
            }
            Err(e) => {
                r.fail(&root.path().join("cache/vcs"), e);
                return r;
            }
        };
        let dir = root.path().join("cache/vcs").join(hash);
        // Without its `.info` cmd/go discards and re-creates the repository,
        // so an interrupted removal is repaired on next use.
        let info = root.path().join("cache/vcs").join(format!("{hash}.info"));
        add(&mut r, &info, root.remove_file(&info));
        add(&mut r, &dir, root.remove_tree(&dir));
        r
    }

    fn rewrite_list(&self, r: &mut Removal, module: &str) {
        let at_v = layout::version_dir(self.mod_root().path(), module);
        if let Err(e) = golock::rewrite_version_list(self.mod_root(), &at_v) {
            r.fail(&at_v.join("list"), e);
        }
    }

    /// `<version>.<suffix><digits>.tmp`. Zip temps are written under the
    /// version lock (which we hold), so none is live; `.info`/`.mod` temps
    /// are written without it and are only removed once stale.
    fn remove_temps(&self, r: &mut Removal, module: &str, version: &str) {
        let at_v = layout::version_dir(self.mod_root().path(), module);
        let Ok(dir) = self.mod_root().open_dir(&at_v) else { return };
        let Ok(entries) = read_entries(&dir) else { return };
        for e in entries {
            let Ok(name) = e.name.to_str() else { continue };
            let rel = Path::new("cache/download").join(escape(module)).join("@v").join(name);
            let is_temp = matches!(
                layout::classify_modcache(&rel, false),
                layout::ModPath::Download { version: ref v, file: DownloadFile::Temp, .. } if v == version
            );
            if !is_temp {
                continue;
            }
            let is_zip_temp = name.starts_with(&format!("{}.zip", escape(version)));
            let stale =
                lstat_at(&dir, &e.name).ok().flatten().is_some_and(|st| !self.younger_than(st.st_mtime, STALE_TEMP));
            if stale || is_zip_temp {
                self.remove_file(r, &at_v.join(name));
            }
        }
    }

    /// One entry verify found unusable, whatever its age: Go treats a
    /// missing entry as a miss, a bad one it may use as it is.
    fn build_entry(&self, entry: &Path) -> Removal {
        let root = self.gocache.as_ref().expect("build cache recognised");
        let p = root.path().join(entry);
        let mut r = Removal::default();
        let Ok(Some(st)) = root.lstat(&p) else { return r };
        let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
        let is_dir = kind == rustix::fs::FileType::Directory;
        match layout::classify_gocache(entry, is_dir) {
            BuildPath::Action { .. } | BuildPath::Output { .. } if kind == rustix::fs::FileType::RegularFile => {
                add(&mut r, &p, root.remove_file(&p));
            }
            BuildPath::Output { .. } if is_dir => add(&mut r, &p, root.remove_tree(&p)),
            _ => r.fail(&p, "not a build cache action or output entry"),
        }
        r
    }

    fn build_entries(&self, cutoff: Timestamp) -> Removal {
        let root = self.gocache.as_ref().expect("build cache recognised");
        let floor = Timestamp::from(self.now.checked_sub(self.min_build_entry_age).unwrap_or(SystemTime::UNIX_EPOCH));
        let cutoff = cutoff.min(floor);
        (0..=255u8)
            .into_par_iter()
            .map(|i| {
                let shard = root.path().join(format!("{i:02x}"));
                let mut r = Removal::default();
                let entries = match root.open_dir(&shard).and_then(|d| Ok((read_entries(&d)?, d))) {
                    Ok(e) => e,
                    Err(e) if e.kind() == ErrorKind::NotFound => return r,
                    Err(e) => {
                        r.fail(&shard, e);
                        return r;
                    }
                };
                let (entries, dir) = entries;
                for e in entries {
                    let p = shard.join(e.os_name());
                    let Ok(rel) = p.strip_prefix(root.path()) else { continue };
                    let Ok(Some(st)) = lstat_at(&dir, &e.name) else { continue };
                    let ft = rustix::fs::FileType::from_raw_mode(st.st_mode);
                    let is_dir = ft == rustix::fs::FileType::Directory;
                    let class = layout::classify_gocache(rel, is_dir);
                    if Timestamp(st.st_mtime) >= cutoff {
                        continue;
                    }
                    match class {
                        BuildPath::Action { .. } | BuildPath::Output { .. }
                            if ft == rustix::fs::FileType::RegularFile =>
                        {
                            add(&mut r, &p, root.remove_file(&p));
                        }
                        // An executable entry (`<id>-d/<name>`); go's Trim removes it whole.
                        BuildPath::Output { .. } if is_dir => add(&mut r, &p, root.remove_tree(&p)),
                        _ => {}
                    }
                }
                r
            })
            .reduce(Removal::default, |mut a, b| {
                a += b;
                a
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    /// A module cache laid out as cmd/go leaves it after `go mod download`.
    fn modcache(versions: &[&str]) -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(t.path()).unwrap().join("mod");
        let at_v = root.join("cache/download/example.com/!lib/@v");
        fs::create_dir_all(&at_v).unwrap();
        let mut list = String::new();
        for v in versions {
            for ext in ["info", "mod", "zip", "ziphash", "lock"] {
                fs::write(at_v.join(format!("{v}.{ext}")), format!("{v} {ext}")).unwrap();
            }
            let tree = root.join(format!("example.com/!lib@{v}"));
            fs::create_dir_all(tree.join("sub")).unwrap();
            fs::write(tree.join("sub/a.go"), "package sub").unwrap();
            fs::write(tree.join("go.mod"), "module example.com/Lib").unwrap();
            for d in [tree.join("sub"), tree] {
                fs::set_permissions(&d, fs::Permissions::from_mode(0o555)).unwrap();
            }
            list.push_str(v);
            list.push('\n');
        }
        fs::write(at_v.join("list"), list).unwrap();
        (t, root)
    }

    fn item(target: Target) -> PlanItem {
        PlanItem { target, reason: Reason::All, apparent_bytes: 0, disk_bytes: 0, last_used: None }
    }

    fn plan(root: &Path, targets: Vec<Target>) -> Plan {
        Plan {
            modcache: Some(root.to_owned()),
            gocache: None,
            items: targets.into_iter().map(item).collect(),
            ..Plan::default()
        }
    }

    fn mv(version: &str) -> Target {
        Target::ModuleVersion { module: "example.com/Lib".into(), version: version.into() }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    }

    #[test]
    fn a_module_version_goes_as_a_unit_leaving_its_lock_and_a_rewritten_list() {
        let (_t, root) = modcache(&["v1.0.0", "v1.1.0"]);
        let at_v = root.join("cache/download/example.com/!lib/@v");
        fs::write(at_v.join("v1.0.0.zip123.tmp"), "x").unwrap();
        let r = execute(&plan(&root, vec![mv("v1.0.0")]), &ExecOptions::default(), &|_| {}).unwrap();
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        assert_eq!(r.files, 8, "zip, ziphash, info, mod, temp, go.mod, a.go and our own .partial");
        assert_eq!(r.dirs, 2);
        assert!(!root.join("example.com/!lib@v1.0.0").exists());
        assert!(root.join("example.com/!lib@v1.1.0/sub/a.go").exists());
        assert_eq!(
            names(&at_v),
            ["list", "v1.0.0.lock", "v1.1.0.info", "v1.1.0.lock", "v1.1.0.mod", "v1.1.0.zip", "v1.1.0.ziphash"]
        );
        assert_eq!(fs::read_to_string(at_v.join("list")).unwrap(), "v1.1.0\n");
    }

    #[test]
    fn an_extracted_tree_goes_alone_and_no_partial_is_left() {
        let (_t, root) = modcache(&["v1.0.0"]);
        let t = Target::ExtractedTree { module: "example.com/Lib".into(), version: "v1.0.0".into() };
        let r = execute(&plan(&root, vec![t]), &ExecOptions::default(), &|_| {}).unwrap();
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        assert!(!root.join("example.com/!lib@v1.0.0").exists());
        let at_v = root.join("cache/download/example.com/!lib/@v");
        assert_eq!(names(&at_v), ["list", "v1.0.0.info", "v1.0.0.lock", "v1.0.0.mod", "v1.0.0.zip", "v1.0.0.ziphash"]);
    }

    #[test]
    fn the_items_of_one_version_form_one_group_in_plan_order() {
        let tree = |v: &str| Target::ExtractedTree { module: "example.com/Lib".into(), version: v.into() };
        let temp = |v: &str, n: u32| Target::ExtractTemp {
            module: "example.com/Lib".into(),
            version: v.into(),
            dir: PathBuf::from(format!("example.com/!lib@{v}.tmp-{n}")),
        };
        let files = Target::DownloadFiles {
            module: "example.com/Lib".into(),
            version: "v1.1.0".into(),
            files: vec![DownloadFile::Temp],
        };
        let items: Vec<PlanItem> = vec![
            tree("v1.0.0"),
            mv("v1.1.0"),
            Target::Sumdb,
            temp("v1.0.0", 1),
            files,
            Target::FuzzCache,
            temp("v1.1.0", 2),
            temp("v1.0.0", 3),
        ]
        .into_iter()
        .map(item)
        .collect();
        assert_eq!(version_groups(&items), vec![vec![0, 3, 7], vec![1, 4, 6], vec![2], vec![5]]);
    }

    #[test]
    fn a_tree_and_its_tmp_dirs_never_wait_on_each_other() {
        // With no wait at all for a busy lock, two items of one version
        // running at once would skip one of them as held by a running go.
        let versions: Vec<String> = (0..16).map(|i| format!("v1.{i}.0")).collect();
        let (_t, root) = modcache(&versions.iter().map(String::as_str).collect::<Vec<_>>());
        let mut targets = Vec::new();
        for v in &versions {
            targets.push(Target::ExtractedTree { module: "example.com/Lib".into(), version: v.clone() });
            for n in 0..3 {
                let dir = root.join(format!("example.com/!lib@{v}.tmp-{n}"));
                fs::create_dir_all(dir.join("sub")).unwrap();
                fs::write(dir.join("sub/a.go"), "package sub").unwrap();
                targets.push(Target::ExtractTemp { module: "example.com/Lib".into(), version: v.clone(), dir });
            }
        }
        let opts = ExecOptions { lock_wait: Duration::ZERO, ..ExecOptions::default() };
        // More workers than groups' items, so trees of one module path go at once.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(8).build().unwrap();
        let r = pool.install(|| execute(&plan(&root, targets), &opts, &|_| {})).unwrap();
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        // Every tree went, and so did the module path directory they emptied.
        assert!(!root.join("example.com").exists(), "{:?}", names(&root.join("example.com")));
    }

    #[test]
    fn a_tmp_dir_whose_name_is_a_cached_version_is_that_versions_tree_and_stays() {
        // v1.0.0-rc.tmp-1 is valid semver, and its tree reads like a leftover of v1.0.0-rc.
        let (_t, root) = modcache(&["v1.0.0-rc.tmp-1"]);
        let dir = root.join("example.com/!lib@v1.0.0-rc.tmp-1");
        assert!(dir.join("go.mod").exists());
        let t = Target::ExtractTemp { module: "example.com/Lib".into(), version: "v1.0.0-rc".into(), dir: dir.clone() };
        let r = execute(&plan(&root, vec![t]), &ExecOptions::default(), &|_| {}).unwrap();
        assert_eq!(r.skipped.len(), 1, "{r:?}");
        assert!(dir.join("go.mod").exists());
    }

    #[test]
    fn a_lone_ziphash_whose_zip_arrived_since_the_plan_stays() {
        let (_t, root) = modcache(&["v1.0.0"]);
        let t = Target::DownloadFiles {
            module: "example.com/Lib".into(),
            version: "v1.0.0".into(),
            files: vec![DownloadFile::Ziphash],
        };
        let r = execute(&plan(&root, vec![t]), &ExecOptions::default(), &|_| {}).unwrap();
        assert_eq!(r.skipped.len(), 1, "{r:?}");
        assert!(root.join("cache/download/example.com/!lib/@v/v1.0.0.ziphash").exists());
    }

    #[test]
    fn a_version_locked_by_someone_else_is_skipped_untouched() {
        let (_t, root) = modcache(&["v1.0.0"]);
        let held =
            VersionLock::acquire(&remove::recognise_modcache(&root).unwrap(), "example.com/Lib", "v1.0.0").unwrap();
        let r = execute(&plan(&root, vec![mv("v1.0.0")]), &ExecOptions::default(), &|_| {}).unwrap();
        drop(held);
        assert_eq!(r.skipped.len(), 1);
        assert_eq!(r.files, 0);
        assert!(root.join("example.com/!lib@v1.0.0/go.mod").exists());
    }

    #[test]
    fn a_plan_on_a_directory_that_is_not_a_cache_deletes_nothing() {
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join("precious"), "x").unwrap();
        let err = execute(&plan(t.path(), vec![mv("v1.0.0")]), &ExecOptions::default(), &|_| {}).unwrap_err();
        assert!(matches!(err, ExecError::Refused(Refusal::NotAModCache { .. })), "{err}");
        assert!(t.path().join("precious").exists());
    }

    #[test]
    fn path_tricks_in_plan_items_are_refused() {
        let (t, root) = modcache(&["v1.0.0"]);
        fs::create_dir_all(t.path().join("victim@x")).unwrap();
        let evil = Target::ExtractedTree { module: "../victim".into(), version: "x".into() };
        let r = execute(&plan(&root, vec![evil]), &ExecOptions::default(), &|_| {}).unwrap();
        assert_eq!(r.failures.len(), 1, "{r:?}");
        assert!(t.path().join("victim@x").exists());
    }

    #[test]
    fn build_entries_younger_than_an_hour_and_bookkeeping_stay() {
        let t = tempfile::tempdir().unwrap();
        let g = fs::canonicalize(t.path()).unwrap();
        fs::write(g.join("README"), remove::GOCACHE_README_PREFIX).unwrap();
        fs::write(g.join("trim.txt"), "1").unwrap();
        fs::create_dir(g.join("ab")).unwrap();
        let id = |c: char| format!("ab{}", c.to_string().repeat(62));
        let old = g.join(format!("ab/{}-a", id('0')));
        let young = g.join(format!("ab/{}-d", id('1')));
        let stray = g.join("ab/notes");
        for p in [&old, &young, &stray, &g.join("trim.txt")] {
            fs::write(p, "x").unwrap();
        }
        let long_ago = filetime::FileTime::from_unix_time(Timestamp::now().0 - 7 * 86_400, 0);
        for p in [&old, &stray, &g.join("trim.txt")] {
            filetime::set_file_mtime(p, long_ago).unwrap();
        }
        filetime::set_file_mtime(&young, filetime::FileTime::from_unix_time(Timestamp::now().0 - 1800, 0)).unwrap();
        let plan = Plan {
            modcache: None,
            gocache: Some(g.clone()),
            items: vec![item(Target::BuildEntriesBefore { cutoff: Timestamp::now() })],
            ..Plan::default()
        };
        let opts = ExecOptions { min_build_entry_age: Duration::ZERO, ..ExecOptions::default() };
        let r = execute(&plan, &opts, &|_| {}).unwrap();
        assert_eq!(r.files, 1);
        assert!(!old.exists());
        assert!(young.exists() && stray.exists() && g.join("trim.txt").exists() && g.join("README").exists());
    }
}
