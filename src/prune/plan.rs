//! Deciding what to remove: a pure function from inventories, a [`Policy`]
//! and a few facts (now, GC roots, verify findings, the mark) to a [`Plan`].
//! No file system access, so every rule is unit-tested on hand-built
//! inventories.
//!
//! ## Units and last use
//! The module cache is decided per module version (a [`VersionRecord`]):
//! its extracted tree, its `cache/download/.../@v/<version>.*` files and any
//! `.tmp-` extraction leftovers. A version's last use is the newest time of
//! any of its files: atime or mtime, whichever is newer, with
//! [`AgeSource::Atime`]; mtime alone with [`AgeSource::Mtime`] (a `noatime`
//! mount). A version without files counts as never used.
//!
//! ## Protection
//! A version is *protected* when it is a GC root (`roots`), its module path
//! matches a `keep` glob (GOPRIVATE-style, [`match_prefix_patterns`]), or it
//! is among the `keep_latest` newest versions of its module (semver order,
//! [`compare_versions`]: pseudo-versions sort below the release they
//! precede, `+incompatible` is ignored; only versions with a `.mod`, zip or
//! tree count; `golang.org/toolchain` is left to `toolchains_keep_latest`).
//! `keep_latest` never removes anything by itself. Protected versions are
//! untouched by every rule except two that only remove what Go cannot use:
//!
//! - `remove_corrupted` applies to roots and kept versions too. A corrupted
//!   copy fails the build (or silently builds modified code) either way;
//!   removing it lets `go` fetch it again. In an offline CI image that means
//!   the build needs the network for that module: better than a broken build.
//! - `remove_debris` removes only what Go would discard or redo by itself.
//!
//! ## Rules, in the order they are applied
//! 1. **corrupted** (`remove_corrupted`): the targets verify names, as given.
//! 2. **debris** (`remove_debris`): a `.partial` marker with its incomplete
//!    tree (`ExtractedTree`: the executor's tree removal also clears the
//!    marker; removing the marker alone would make Go trust a half-extracted
//!    tree), or the marker alone when there is no tree; temp downloads
//!    (`DownloadFiles [Temp]`); `.tmp-` extraction dirs (`ExtractTemp`);
//!    orphans: a tree whose `.ziphash` is gone (Go treats it as incomplete and
//!    re-extracts it; `golang.org/fips140` excepted, it has no ziphash by
//!    design) becomes `ExtractedTree`, or `ModuleVersion` when the version has
//!    no download files at all; a `.ziphash` with neither zip nor tree. A zip
//!    without `.mod`/`.info` is *not* debris: Go still uses it once it has
//!    fetched the `.mod`. `.lock` files are never removed.
//! 3. **all** (`Policy::everything`, `--all`): every unprotected version,
//!    every VCS repository, the sumdb cache, and the scan's leftovers
//!    (names that are not UTF-8, empty module path directories), as
//!    `go clean -modcache` leaves none of them.
//! 4. **only roots**: every unprotected version that is not a root
//!    (no-op when no roots were given).
//! 5. **unused since mark** (`--unused-since-mark`): versions whose newest
//!    atime/mtime is before the mark (the wall-clock time `gokeep mark` ran;
//!    it set atimes into the past, so any read since then shows). This always
//!    reads atime: on a `noatime` mount it would select every old version, so
//!    the caller must refuse the flag there.
//! 6. **`max_age`**: versions last used before `now - max_age`.
//! 7. **`toolchains_keep_latest`**: `golang.org/toolchain` versions beyond the
//!    newest N per platform, in Go's toolchain version order (`gover`).
//! 8. **`zips_only_after`**: `ExtractedTree` of versions that have a zip and a
//!    `.ziphash` (so Go re-extracts offline), no `.partial`, and whose tree
//!    was last used before `now - zips_only_after`. It applies to versions
//!    that `keep` and `keep_latest` protect (they keep their zip, so they
//!    still build offline), not to roots. Not for toolchains (cmd/go
//!    modifies their trees after extraction).
//! 9. **`vcs_max_age`**: `cache/vcs/<hash>` repositories last used before the cutoff.
//! 10. **sumdb = "remove"**: `cache/download/sumdb`.
//! 11. **`max_size`**: while the cache's on-disk bytes minus everything the
//!     rules above free exceed `max_size`, evict the least recently used
//!     unprotected version (ties by module path, then version).
//!
//! A version selected by several rules appears once, as the strongest target
//! any rule chose for it (`ModuleVersion` beats `ExtractedTree` beats
//! `DownloadFiles`), with the reason of the first rule that chose that
//! target. The only exception is a tree and some download files chosen
//! without the whole version (say `zips_only_after` plus a temp download):
//! neither contains the other, so both are planned. A whole version also
//! takes its `.tmp-` extraction dirs (`ExtractTemp`) with it.
//!
//! ## GOCACHE
//! `max_age` → `BuildEntriesBefore { now - max_age - 1h }` (the hour is
//! Go's mtime quantum, [`GOCACHE_MTIME_INTERVAL`], which Go's own `Trim` adds too); `max_size` → the
//! cutoff at the end of the oldest UTC day of `build_entries_by_day` after
//! which what remains fits; both → the later cutoff. A cutoff is never later
//! than `now - 2h` ([`MIN_BUILD_ENTRY_AGE`]: Go refreshes an entry's mtime
//! only once it is an hour old, so a newer one may be in use). Bytes count whole days before the cutoff only, so they
//! are a lower bound. `fuzz = "remove"` → `FuzzCache`; `testcache = "expire"`
//! → `ExpireTestResults`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use crate::go::pattern::match_prefix_patterns;
use crate::go::version::{self, compare_versions};
use crate::layout::{Category, DownloadFile, TOOLCHAIN_MODULE};
use crate::policy::{FuzzMode, Policy, SumdbMode, TestcacheMode, format_duration};
use crate::scan::{CacheInventory, Stats, VersionRecord};
use crate::timestamp::Timestamp;

use super::atime::AgeSource;
use super::toolchains::InUse;
use super::{Adjusted, KeptItem, Plan, PlanItem, Reason, Target};
use super::{GOCACHE_MTIME_INTERVAL, MIN_BUILD_ENTRY_AGE};

const DAY_SECS: i64 = 86_400;
/// Everything [`plan`] decides from.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub modcache: Option<&'a CacheInventory>,
    pub gocache: Option<&'a CacheInventory>,
    pub policy: &'a Policy,
    pub now: Timestamp,
    /// `(module, version)` pairs from `roots::collect_roots`; `None` when the
    /// policy names no projects.
    pub roots: Option<&'a BTreeSet<(String, String)>>,
    /// From verify: what to remove and the kind of finding (used only with
    /// `remove_corrupted`).
    pub corrupted: &'a [(Target, String)],
    /// `--unused-since-mark`: the wall-clock time `gokeep mark` ran (not the
    /// past time it stamped into atimes, which must be earlier). Always read
    /// from atime, so refuse the flag when `age_source` is `Mtime`.
    pub mark: Option<Timestamp>,
    pub age_source: AgeSource,
    /// Toolchains that no rule may remove (`super::toolchains::in_use`).
    pub in_use: &'a [InUse],
}

/// Decides what to remove. Pure: no file system access.
#[must_use]
pub fn plan(input: &PlanInput) -> Plan {
    let mut out = Plan {
        modcache: input.modcache.map(|i| i.root.clone()),
        gocache: input.gocache.map(|i| i.root.clone()),
        items: Vec::new(),
        kept: Vec::new(),
        adjusted: Vec::new(),
    };
    let mut others = Others::default();
    if let Some(inv) = input.modcache {
        ModcachePlanner::new(input, inv).run(&mut others, &mut out.items);
    } else if input.policy.modcache.remove_corrupted {
        for (target, finding) in input.corrupted {
            others.add(target.clone(), Reason::Corrupted { finding: finding.clone() }, Stats::default(), None);
        }
    }
    if let Some(inv) = input.gocache {
        plan_gocache(input, inv, &mut others);
        if let Some(age) = input.policy.gocache.max_age.filter(|a| *a < MIN_BUILD_ENTRY_AGE) {
            out.adjusted.push(Adjusted {
                rule: "gocache.max_age".into(),
                asked: format_duration(age),
                used: format_duration(MIN_BUILD_ENTRY_AGE),
                why: "go marks a build-cache entry used at most once an hour, so a younger one may be in use".into(),
            });
        }
    }
    let mut seen: BTreeSet<Target> = out.items.iter().map(|i| i.target.clone()).collect();
    out.items.extend(others.items.into_iter().filter(|i| seen.insert(i.target.clone())));
    if let Some(inv) = input.modcache {
        for t in input.in_use {
            if inv.versions.iter().any(|v| v.module == TOOLCHAIN_MODULE && v.version == t.version && v.holds_content())
            {
                let target = Target::ModuleVersion { module: TOOLCHAIN_MODULE.to_owned(), version: t.version.clone() };
                out.kept.push(KeptItem { target, why: t.why.clone() });
            }
        }
    }
    out
}

fn secs(d: Duration) -> u64 {
    d.as_secs()
}

fn before(now: Timestamp, d: Duration) -> Timestamp {
    Timestamp(now.0.saturating_sub(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)))
}

fn item(target: Target, reason: Reason, s: &Stats, last_used: Option<Timestamp>) -> PlanItem {
    PlanItem { target, reason, apparent_bytes: s.apparent_bytes, disk_bytes: s.disk_bytes, last_used }
}

/// Targets that are not a module version's parts, first reason wins.
#[derive(Default)]
struct Others {
    items: Vec<PlanItem>,
}

impl Others {
    fn add(&mut self, target: Target, reason: Reason, s: Stats, last_used: Option<Timestamp>) {
        if !self.items.iter().any(|i| i.target == target) {
            self.items.push(item(target, reason, &s, last_used));
        }
    }

    fn disk_bytes(&self) -> u64 {
        self.items.iter().map(|i| i.disk_bytes).sum()
    }
}

/// What the rules chose for one module version.
#[derive(Debug, Default, Clone)]
struct Selection {
    whole: Option<Reason>,
    tree: Option<Reason>,
    files: BTreeSet<DownloadFile>,
    files_reason: Option<Reason>,
    temps: Option<Reason>,
}

impl Selection {
    fn whole(&mut self, r: Reason) {
        self.whole.get_or_insert(r);
    }
    fn tree(&mut self, r: Reason) {
        self.tree.get_or_insert(r);
    }
    fn files(&mut self, files: impl IntoIterator<Item = DownloadFile>, r: Reason) {
        let before = self.files.len();
        self.files.extend(files.into_iter().filter(|f| *f != DownloadFile::Lock));
        if self.files.len() > before {
            self.files_reason.get_or_insert(r);
        }
    }
    fn temps(&mut self, r: Reason) {
        self.temps.get_or_insert(r);
    }

    /// Bytes this selection frees (`keep_metadata`: the policy's).
    fn freed(&self, v: &VersionRecord, keep_metadata: bool) -> Stats {
        if let Some(reason) = &self.whole {
            if keeps_metadata(keep_metadata, reason) {
                let mut s = content(v);
                if let Some(e) = &v.extract_temp {
                    s += e;
                }
                return s;
            }
            return v.total();
        }
        let mut s = Stats::default();
        if self.tree.is_some()
            && let Some(e) = &v.extracted
        {
            s += e;
        }
        for f in &self.files {
            if let Some(b) = v.download_by_file.get(f) {
                s += b;
            }
        }
        if self.temps.is_some()
            && let Some(e) = &v.extract_temp
        {
            s += e;
        }
        s
    }
}

/// Whether a version removed for `reason` keeps its `.info` and `.mod`
/// under `keep_metadata`: not a corrupted one (its `.mod` may be what is
/// wrong), not `--all` (`go clean -modcache` leaves nothing), not debris (a
/// tree without download files has none).
fn keeps_metadata(keep_metadata: bool, reason: &Reason) -> bool {
    keep_metadata && !matches!(reason, Reason::Corrupted { .. } | Reason::All | Reason::Debris)
}

/// What [`Target::VersionContent`] removes: the extracted tree and every
/// download file but `.info`, `.mod` and `.lock`.
fn content(v: &VersionRecord) -> Stats {
    let mut s = Stats::default();
    for (f, b) in &v.download_by_file {
        if !matches!(f, DownloadFile::Info | DownloadFile::Mod | DownloadFile::Lock) {
            s += b;
        }
    }
    if let Some(e) = &v.extracted {
        s += e;
    }
    s
}

/// Counts towards `keep_latest`: a version Go could build from.
fn present(v: &VersionRecord) -> bool {
    v.extracted.is_some() || v.has(DownloadFile::Mod) || v.has(DownloadFile::Zip)
}

struct ModcachePlanner<'a> {
    input: &'a PlanInput<'a>,
    inv: &'a CacheInventory,
    sel: Vec<Selection>,
    protected: Vec<bool>,
    index: HashMap<(&'a str, &'a str), usize>,
}

impl<'a> ModcachePlanner<'a> {
    fn new(input: &'a PlanInput<'a>, inv: &'a CacheInventory) -> Self {
        let index =
            inv.versions.iter().enumerate().map(|(i, v)| ((v.module.as_str(), v.version.as_str()), i)).collect();
        let protected = protected_versions(input, inv);
        Self { input, inv, sel: vec![Selection::default(); inv.versions.len()], protected, index }
    }

    fn last_used(&self, s: &Stats) -> Option<Timestamp> {
        self.input.age_source.last_used(s)
    }

    fn rooted(&self, i: usize) -> bool {
        let v = &self.inv.versions[i];
        self.input.roots.is_some_and(|r| r.contains(&(v.module.clone(), v.version.clone())))
    }

    /// Unprotected versions with something to remove.
    fn candidates(&self) -> impl Iterator<Item = (usize, &'a VersionRecord)> + '_ {
        let inv = self.inv;
        inv.versions.iter().enumerate().filter(|(i, v)| !self.protected[*i] && v.holds_content())
    }

    fn run(mut self, others: &mut Others, items: &mut Vec<PlanItem>) {
        let p = &self.input.policy.modcache;
        let now = self.input.now;
        if p.remove_corrupted {
            self.corrupted(others);
        }
        if p.remove_debris {
            self.debris();
        }
        if p.all {
            for (i, _) in self.candidates().collect::<Vec<_>>() {
                self.sel[i].whole(Reason::All);
            }
            for (hash, s) in &self.inv.vcs_repos {
                others.add(Target::VcsRepo { hash: hash.clone() }, Reason::All, *s, self.last_used(s));
            }
            if let Some(s) = self.inv.categories.get(&Category::Sumdb) {
                others.add(Target::Sumdb, Reason::All, *s, self.last_used(s));
            }
            for (path, s) in &self.inv.leftovers {
                others.add(Target::Leftover { path: path.clone() }, Reason::All, *s, self.last_used(s));
            }
        }
        if self.input.policy.roots.only_roots
            && let Some(roots) = self.input.roots
        {
            for (i, v) in self.candidates().collect::<Vec<_>>() {
                if !roots.contains(&(v.module.clone(), v.version.clone())) {
                    self.sel[i].whole(Reason::NotARoot);
                }
            }
        }
        if let Some(mark) = self.input.mark {
            for (i, v) in self.candidates().collect::<Vec<_>>() {
                if v.total().last_used().is_none_or(|t| t < mark) {
                    self.sel[i].whole(Reason::UnusedSinceMark { mark });
                }
            }
        }
        if let Some(age) = p.max_age {
            let cutoff = before(now, age);
            for (i, v) in self.candidates().collect::<Vec<_>>() {
                if self.last_used(&v.total()).is_none_or(|t| t < cutoff) {
                    self.sel[i].whole(Reason::MaxAge { max_age_secs: secs(age) });
                }
            }
        }
        if let Some(n) = p.toolchains_keep_latest {
            self.toolchains(n);
        }
        if let Some(after) = p.zips_only_after {
            let cutoff = before(now, after);
            // keep and keep_latest protect a version, not its tree: the zip stays,
            // so the version still builds offline. Roots keep their trees ready.
            let inv = self.inv;
            let unrooted: Vec<usize> = (0..inv.versions.len()).filter(|&i| !self.rooted(i)).collect();
            for (i, v) in unrooted.into_iter().map(|i| (i, &inv.versions[i])) {
                let Some(tree) = &v.extracted else { continue };
                if !v.is_toolchain()
                    && v.has(DownloadFile::Zip)
                    && v.has(DownloadFile::Ziphash)
                    && !v.has(DownloadFile::Partial)
                    && self.last_used(tree).is_none_or(|t| t < cutoff)
                {
                    self.sel[i].tree(Reason::ZipsOnlyAfter { after_secs: secs(after) });
                }
            }
        }
        if let Some(age) = p.vcs_max_age {
            let cutoff = before(now, age);
            for (hash, s) in &self.inv.vcs_repos {
                if self.last_used(s).is_none_or(|t| t < cutoff) {
                    let reason = Reason::VcsMaxAge { max_age_secs: secs(age) };
                    others.add(Target::VcsRepo { hash: hash.clone() }, reason, *s, self.last_used(s));
                }
            }
        }
        if p.sumdb == SumdbMode::Remove
            && let Some(s) = self.inv.categories.get(&Category::Sumdb)
        {
            others.add(Target::Sumdb, Reason::Sumdb, *s, self.last_used(s));
        }
        if let Some(max) = p.max_size {
            self.max_size(max, others.disk_bytes());
        }
        self.emit(items);
    }

    fn corrupted(&mut self, others: &mut Others) {
        for (target, finding) in self.input.corrupted {
            let reason = Reason::Corrupted { finding: finding.clone() };
            let found = match target {
                Target::ModuleVersion { module, version }
                | Target::ExtractedTree { module, version }
                | Target::DownloadFiles { module, version, .. } => {
                    self.index.get(&(module.as_str(), version.as_str())).copied()
                }
                _ => None,
            };
            match (target, found) {
                (Target::ModuleVersion { .. }, Some(i)) => self.sel[i].whole(reason),
                (Target::ExtractedTree { .. }, Some(i)) => self.sel[i].tree(reason),
                (Target::DownloadFiles { files, .. }, Some(i)) => self.sel[i].files(files.iter().copied(), reason),
                _ => {
                    let s = match target {
                        Target::VcsRepo { hash } => self.inv.vcs_repos.get(hash).copied().unwrap_or_default(),
                        Target::Sumdb => self.inv.categories.get(&Category::Sumdb).copied().unwrap_or_default(),
                        _ => Stats::default(),
                    };
                    others.add(target.clone(), reason, s, None);
                }
            }
        }
    }

    fn debris(&mut self) {
        for (i, v) in self.inv.versions.iter().enumerate() {
            let s = &mut self.sel[i];
            let d = v.debris();
            if d.whole {
                s.whole(Reason::Debris);
            } else if d.tree {
                s.tree(Reason::Debris);
            }
            if d.partial_alone {
                s.files([DownloadFile::Partial], Reason::Debris);
            }
            if d.temps {
                s.files([DownloadFile::Temp], Reason::Debris);
            }
            if d.lone_ziphash {
                s.files([DownloadFile::Ziphash], Reason::Debris);
            }
            if d.extract_temps {
                s.temps(Reason::Debris);
            }
        }
    }

    fn toolchains(&mut self, keep: usize) {
        let mut by_platform: BTreeMap<&str, Vec<(usize, &str)>> = BTreeMap::new();
        for (i, v) in self.inv.versions.iter().enumerate() {
            if let Some((go, platform)) =
                v.is_toolchain().then(|| version::split_toolchain_module_version(&v.version)).flatten()
            {
                by_platform.entry(platform).or_default().push((i, go));
            }
        }
        for mut versions in by_platform.into_values() {
            versions.sort_by(|a, b| version::compare_go(b.1, a.1).then_with(|| b.1.cmp(a.1)));
            for &(i, _) in versions.iter().skip(keep) {
                if !self.protected[i] && self.inv.versions[i].holds_content() {
                    self.sel[i].whole(Reason::ToolchainsKeepLatest { keep_latest: keep });
                }
            }
        }
    }

    fn max_size(&mut self, max: u64, freed_elsewhere: u64) {
        let keep = self.input.policy.modcache.keep_metadata;
        let freed: u64 = self.inv.versions.iter().zip(&self.sel).map(|(v, s)| s.freed(v, keep).disk_bytes).sum::<u64>()
            + freed_elsewhere;
        let mut remaining = self.inv.total.disk_bytes.saturating_sub(freed);
        if remaining <= max {
            return;
        }
        let mut lru: Vec<(Option<Timestamp>, usize)> = self
            .candidates()
            .filter(|(i, _)| self.sel[*i].whole.is_none())
            .map(|(i, v)| (self.last_used(&v.total()), i))
            .collect();
        // None (never used) sorts first; ties keep inventory order (module, then semver).
        lru.sort();
        for (_, i) in lru {
            if remaining <= max {
                break;
            }
            let v = &self.inv.versions[i];
            let already = self.sel[i].freed(v, keep).disk_bytes;
            self.sel[i].whole(Reason::MaxSize { max_size_bytes: max });
            remaining = remaining.saturating_sub(self.sel[i].freed(v, keep).disk_bytes - already);
        }
    }

    fn emit(self, items: &mut Vec<PlanItem>) {
        for (v, s) in self.inv.versions.iter().zip(self.sel) {
            let (module, version) = (v.module.clone(), v.version.clone());
            let temps_reason = s.temps.clone().or_else(|| s.whole.clone());
            if let Some(reason) = s.whole {
                if keeps_metadata(self.input.policy.modcache.keep_metadata, &reason) {
                    // A version already down to its metadata has nothing more to give.
                    let bytes = content(v);
                    if v.extracted.is_some()
                        || v.download_kinds()
                            .any(|f| !matches!(f, DownloadFile::Info | DownloadFile::Mod | DownloadFile::Lock))
                    {
                        let last = self.input.age_source.last_used(&v.total());
                        let target = Target::VersionContent { module: module.clone(), version: version.clone() };
                        items.push(item(target, reason, &bytes, last));
                    }
                } else {
                    let mut bytes = v.download();
                    if let Some(e) = &v.extracted {
                        bytes += e;
                    }
                    let last = self.input.age_source.last_used(&bytes);
                    items.push(item(
                        Target::ModuleVersion { module: module.clone(), version: version.clone() },
                        reason,
                        &bytes,
                        last,
                    ));
                }
            } else {
                if let (Some(reason), Some(tree)) = (s.tree.clone(), &v.extracted) {
                    let last = self.input.age_source.last_used(tree);
                    let target = Target::ExtractedTree { module: module.clone(), version: version.clone() };
                    items.push(item(target, reason, tree, last));
                }
                let mut files = s.files;
                if s.tree.is_some() {
                    // The tree removal clears the marker itself, after the tree is gone.
                    files.remove(&DownloadFile::Partial);
                }
                if let (Some(reason), false) = (s.files_reason, files.is_empty()) {
                    let mut bytes = Stats::default();
                    for f in &files {
                        if let Some(b) = v.download_by_file.get(f) {
                            bytes += b;
                        }
                    }
                    let last = self.input.age_source.last_used(&bytes);
                    let target = Target::DownloadFiles {
                        module: module.clone(),
                        version: version.clone(),
                        files: files.into_iter().collect(),
                    };
                    items.push(item(target, reason, &bytes, last));
                }
            }
            if let (Some(reason), Some(temp)) = (temps_reason, &v.extract_temp) {
                // Leftover dirs are summed per version; the first carries the bytes.
                for (n, dir) in v.extract_temp_dirs.iter().enumerate() {
                    let bytes = if n == 0 { *temp } else { Stats::default() };
                    let target =
                        Target::ExtractTemp { module: module.clone(), version: version.clone(), dir: dir.clone() };
                    items.push(item(target, reason.clone(), &bytes, self.input.age_source.last_used(temp)));
                }
            }
        }
    }
}

/// Roots, keep globs and the `keep_latest` newest versions of each module.
fn protected_versions(input: &PlanInput, inv: &CacheInventory) -> Vec<bool> {
    let p = &input.policy.modcache;
    let mut protected: Vec<bool> = inv
        .versions
        .iter()
        .map(|v| {
            input.roots.is_some_and(|r| r.contains(&(v.module.clone(), v.version.clone())))
                || p.keep.iter().any(|g| match_prefix_patterns(g, &v.module))
                || (v.module == TOOLCHAIN_MODULE && input.in_use.iter().any(|t| t.version == v.version))
        })
        .collect();
    if let Some(n) = p.keep_latest {
        let mut by_module: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, v) in inv.versions.iter().enumerate() {
            if v.module != TOOLCHAIN_MODULE && present(v) {
                by_module.entry(&v.module).or_default().push(i);
            }
        }
        for mut idx in by_module.into_values() {
            let vs = &inv.versions;
            idx.sort_by(|&a, &b| {
                compare_versions(&vs[b].version, &vs[a].version).then_with(|| vs[b].version.cmp(&vs[a].version))
            });
            for &i in idx.iter().take(n) {
                protected[i] = true;
            }
        }
    }
    protected
}

/// Build-cache bytes in whole UTC days that end at or before `cutoff`.
fn gocache_bytes_before(inv: &CacheInventory, cutoff: Timestamp) -> Stats {
    let mut s = Stats::default();
    for (day, d) in &inv.build_entries_by_day {
        if (day + 1) * DAY_SECS <= cutoff.0 {
            s += d;
        }
    }
    s
}

fn plan_gocache(input: &PlanInput, inv: &CacheInventory, others: &mut Others) {
    let g = &input.policy.gocache;
    let floor = i64::try_from(MIN_BUILD_ENTRY_AGE.as_secs()).expect("two hours");
    let latest = Timestamp(input.now.0 - floor);
    let fuzz = inv.categories.get(&Category::Fuzz).copied().filter(|s| !s.is_empty());
    let mut cut: Option<(Timestamp, Reason)> = None;
    if let Some(age) = g.max_age {
        let cutoff = before(input.now, age + GOCACHE_MTIME_INTERVAL).min(latest);
        cut = Some((cutoff, Reason::GocacheMaxAge { max_age_secs: secs(age) }));
    }
    if let Some(max) = g.max_size {
        let mut remaining = inv.total.disk_bytes;
        if g.fuzz == FuzzMode::Remove {
            remaining = remaining.saturating_sub(fuzz.map_or(0, |s| s.disk_bytes));
        }
        if let Some((c, _)) = &cut {
            remaining = remaining.saturating_sub(gocache_bytes_before(inv, *c).disk_bytes);
        }
        let mut size_cut = None;
        for (day, s) in &inv.build_entries_by_day {
            if remaining <= max {
                break;
            }
            let end = Timestamp((day + 1) * DAY_SECS);
            if cut.as_ref().is_some_and(|(c, _)| end <= *c) {
                continue;
            }
            remaining = remaining.saturating_sub(s.disk_bytes);
            size_cut = Some(end.min(latest));
        }
        if let Some(c) = size_cut
            && cut.as_ref().is_none_or(|(old, _)| c > *old)
        {
            cut = Some((c, Reason::GocacheMaxSize { max_size_bytes: max }));
        }
    }
    // Only worth planning when some entry can be older than the cutoff.
    if let Some((cutoff, reason)) = cut
        && inv.build_entries_by_day.keys().next().is_some_and(|day| day * DAY_SECS < cutoff.0)
    {
        others.add(Target::BuildEntriesBefore { cutoff }, reason, gocache_bytes_before(inv, cutoff), None);
    }
    if g.fuzz == FuzzMode::Remove
        && let Some(s) = fuzz
    {
        others.add(Target::FuzzCache, Reason::Fuzz, s, input.age_source.last_used(&s));
    }
    if g.testcache == TestcacheMode::Expire {
        others.add(Target::ExpireTestResults, Reason::Testcache, Stats::default(), None);
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::policy::{GocachePolicy, ModcachePolicy, Overrides, RootsPolicy};
    use crate::scan::CacheKind;

    const NOW: i64 = 1_800_000_000;
    const DAY: Duration = Duration::from_secs(86_400);
    /// Every version was downloaded this long ago; reads set atime.
    const DOWNLOADED_DAYS_AGO: i64 = 400;

    fn days_ago(d: i64) -> Timestamp {
        Timestamp(NOW - d * DAY_SECS)
    }

    /// Files of `bytes` bytes, downloaded long ago and last read `used` days ago.
    fn stats(bytes: u64, used: i64) -> Stats {
        Stats {
            apparent_bytes: bytes,
            disk_bytes: bytes,
            files: 1,
            dirs: 0,
            oldest_mtime: Some(days_ago(DOWNLOADED_DAYS_AGO)),
            newest_mtime: Some(days_ago(DOWNLOADED_DAYS_AGO)),
            oldest_atime: Some(days_ago(used)),
            newest_atime: Some(days_ago(used)),
        }
    }

    /// A version as `go mod download` leaves it: 1000-byte tree, 100-byte
    /// zip, 10-byte ziphash, info and mod, empty lock; all last read `used` days ago.
    fn ver(module: &str, version: &str, used: i64) -> VersionRecord {
        let mut v = VersionRecord {
            module: module.into(),
            version: version.into(),
            extracted: Some(stats(1000, used)),
            ..VersionRecord::default()
        };
        for (f, b) in [
            (DownloadFile::Zip, 100),
            (DownloadFile::Ziphash, 10),
            (DownloadFile::Info, 10),
            (DownloadFile::Mod, 10),
            (DownloadFile::Lock, 0),
        ] {
            v = with(v, f, b, used);
        }
        v
    }

    fn with(mut v: VersionRecord, f: DownloadFile, bytes: u64, used: i64) -> VersionRecord {
        let s = stats(bytes, used);
        *v.download_by_file.entry(f).or_default() += &s;
        v
    }

    fn without(mut v: VersionRecord, f: DownloadFile) -> VersionRecord {
        v.download_by_file.remove(&f);
        v
    }

    fn no_tree(mut v: VersionRecord) -> VersionRecord {
        v.extracted = None;
        v
    }

    fn with_temp_dir(mut v: VersionRecord) -> VersionRecord {
        v.extract_temp = Some(stats(500, 300));
        v.extract_temp_dirs.insert(PathBuf::from(format!("{}@{}.tmp-123", v.module, v.version)));
        v
    }

    fn inv(versions: Vec<VersionRecord>) -> CacheInventory {
        let mut total = Stats::default();
        for v in &versions {
            total += &v.total();
        }
        CacheInventory {
            kind: CacheKind::ModCache,
            root: PathBuf::from("/cache/mod"),
            total,
            categories: BTreeMap::new(),
            versions,
            build_entries_by_day: BTreeMap::new(),
            vcs_repos: BTreeMap::new(),
            leftovers: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    fn modcache(p: ModcachePolicy) -> Policy {
        Policy { modcache: p, ..Policy::default() }
    }

    fn input<'a>(m: &'a CacheInventory, policy: &'a Policy) -> PlanInput<'a> {
        PlanInput {
            modcache: Some(m),
            gocache: None,
            policy,
            now: Timestamp(NOW),
            roots: None,
            corrupted: &[],
            mark: None,
            age_source: AgeSource::Atime,
            in_use: &[],
        }
    }

    /// `kind module@version reason`, one line per item, in plan order.
    fn summary(p: &Plan) -> Vec<String> {
        p.items
            .iter()
            .map(|i| {
                let t = match &i.target {
                    Target::ModuleVersion { module, version } => format!("whole {module}@{version}"),
                    Target::VersionContent { module, version } => format!("content {module}@{version}"),
                    Target::ExtractedTree { module, version } => format!("tree {module}@{version}"),
                    Target::DownloadFiles { module, version, files } => format!("files {module}@{version} {files:?}"),
                    Target::ExtractTemp { module, version, .. } => format!("tmpdir {module}@{version}"),
                    other => format!("{other:?}"),
                };
                let r = serde_json::to_value(&i.reason).unwrap()["rule"].as_str().unwrap().to_owned();
                format!("{t} {r}")
            })
            .collect()
    }

    fn run(m: &CacheInventory, policy: &Policy) -> Vec<String> {
        summary(&plan(&input(m, policy)))
    }

    fn roots(v: &[(&str, &str)]) -> BTreeSet<(String, String)> {
        v.iter().map(|(m, v)| ((*m).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn keep_metadata_removes_the_content_of_old_versions_and_leaves_their_info_and_mod() {
        let m = inv(vec![
            ver("a.com/x", "v1.0.0", 100),
            // Pruned before with keep_metadata: nothing more to remove.
            without(without(no_tree(ver("b.com/y", "v1.0.0", 100)), DownloadFile::Zip), DownloadFile::Ziphash),
            ver("c.com/z", "v1.0.0", 1),
        ]);
        let p = modcache(ModcachePolicy { max_age: Some(30 * DAY), keep_metadata: true, ..Default::default() });
        let plan = plan(&input(&m, &p));
        assert_eq!(summary(&plan), ["content a.com/x@v1.0.0 max_age"]);
        // Tree, zip and ziphash; not the 10-byte .info and .mod.
        assert_eq!(plan.items[0].apparent_bytes, 1110);
        // Without the option the same rule takes the whole version, metadata included.
        let p = modcache(ModcachePolicy { max_age: Some(30 * DAY), ..Default::default() });
        assert_eq!(run(&m, &p), ["whole a.com/x@v1.0.0 max_age", "whole b.com/y@v1.0.0 max_age"]);
    }

    #[test]
    fn keep_metadata_never_keeps_what_corruption_or_all_removes() {
        let m = inv(vec![ver("a.com/x", "v1.0.0", 1), ver("b.com/y", "v1.0.0", 1)]);
        let corrupted =
            [(Target::ModuleVersion { module: "a.com/x".into(), version: "v1.0.0".into() }, "mod_mismatch".to_owned())];
        let p = modcache(ModcachePolicy { remove_corrupted: true, keep_metadata: true, ..Default::default() });
        let plan = plan(&PlanInput { corrupted: &corrupted, ..input(&m, &p) });
        assert_eq!(summary(&plan), ["whole a.com/x@v1.0.0 corrupted"]);
        let p = Policy::everything().with_overrides(&Overrides { keep_metadata: true, ..Default::default() }).unwrap();
        assert_eq!(run(&m, &p), ["whole a.com/x@v1.0.0 all", "whole b.com/y@v1.0.0 all"]);
    }

    #[test]
    fn keep_metadata_counts_only_content_towards_max_size() {
        // 1130 bytes each, 20 of them metadata: evicting one leaves 1150 of 2260.
        let m = inv(vec![ver("a.com/x", "v1.0.0", 50), ver("b.com/y", "v1.0.0", 10)]);
        let p = modcache(ModcachePolicy { max_size: Some(1150), keep_metadata: true, ..Default::default() });
        assert_eq!(run(&m, &p), ["content a.com/x@v1.0.0 max_size"]);
        let p = modcache(ModcachePolicy { max_size: Some(1149), keep_metadata: true, ..Default::default() });
        assert_eq!(run(&m, &p), ["content a.com/x@v1.0.0 max_size", "content b.com/y@v1.0.0 max_size"]);
    }

    #[test]
    fn empty_policy_plans_nothing() {
        let m = inv(vec![ver("a.com/x", "v1.0.0", 999)]);
        let p = plan(&input(&m, &Policy::default()));
        assert!(p.items.is_empty());
        assert_eq!(p.modcache, Some(PathBuf::from("/cache/mod")));
    }

    #[test]
    fn max_age_removes_versions_unused_for_longer() {
        let m = inv(vec![ver("a.com/x", "v1.0.0", 40), ver("a.com/x", "v1.1.0", 5), ver("b.com/y", "v0.1.0", 31)]);
        let p = modcache(ModcachePolicy { max_age: Some(30 * DAY), ..Default::default() });
        assert_eq!(run(&m, &p), ["whole a.com/x@v1.0.0 max_age", "whole b.com/y@v0.1.0 max_age"]);
        let planned = plan(&input(&m, &p));
        let first = &planned.items[0];
        assert_eq!((first.disk_bytes, first.apparent_bytes), (1130, 1130), "tree + download files");
        assert_eq!(first.last_used, Some(days_ago(40)));
    }

    #[test]
    fn mtime_age_source_ignores_reads() {
        // Read yesterday, downloaded 400 days ago: only atime says "used".
        let m = inv(vec![ver("a.com/x", "v1.0.0", 1)]);
        let p = modcache(ModcachePolicy { max_age: Some(30 * DAY), ..Default::default() });
        assert!(run(&m, &p).is_empty());
        let mut i = input(&m, &p);
        i.age_source = AgeSource::Mtime;
        assert_eq!(summary(&plan(&i)), ["whole a.com/x@v1.0.0 max_age"]);
    }

    #[test]
    fn size_cap_evicts_least_recently_used_until_under() {
        let m = inv(vec![
            ver("a.com/x", "v1.0.0", 3),
            ver("a.com/x", "v1.1.0", 1),
            ver("b.com/y", "v0.1.0", 7),
            ver("c.com/z", "v2.0.0", 5),
        ]);
        // 4 × 1130 bytes; a cap of 2300 needs two evictions: the two least recently used.
        let p = modcache(ModcachePolicy { max_size: Some(2300), ..Default::default() });
        assert_eq!(run(&m, &p), ["whole b.com/y@v0.1.0 max_size", "whole c.com/z@v2.0.0 max_size"]);
        // A cap already met removes nothing; a cap of 0 removes everything.
        let p = modcache(ModcachePolicy { max_size: Some(4520), ..Default::default() });
        assert!(run(&m, &p).is_empty());
        let p = modcache(ModcachePolicy { max_size: Some(0), ..Default::default() });
        assert_eq!(run(&m, &p).len(), 4);
    }

    #[test]
    fn size_cap_counts_everything_on_disk_and_bytes_other_rules_free() {
        let mut m = inv(vec![ver("a.com/x", "v1.0.0", 40), ver("b.com/y", "v1.0.0", 10), ver("c.com/z", "v1.0.0", 2)]);
        // max_age frees a.com/x (1130); 2260 remain, so a 2300 cap needs nothing more ...
        let p = modcache(ModcachePolicy { max_age: Some(30 * DAY), max_size: Some(2300), ..Default::default() });
        assert_eq!(run(&m, &p), ["whole a.com/x@v1.0.0 max_age"]);
        // ... unless something that is not a module version (here 500 bytes of sumdb) fills the cache.
        m.total.disk_bytes += 500;
        assert_eq!(run(&m, &p), ["whole a.com/x@v1.0.0 max_age", "whole b.com/y@v1.0.0 max_size"]);
        // Removing the sumdb cache counts too.
        m.categories.insert(Category::Sumdb, stats(500, 0));
        let p = modcache(ModcachePolicy {
            max_age: Some(30 * DAY),
            max_size: Some(2300),
            sumdb: SumdbMode::Remove,
            ..Default::default()
        });
        assert_eq!(run(&m, &p), ["whole a.com/x@v1.0.0 max_age", "Sumdb sumdb"]);
    }

    #[test]
    fn size_cap_upgrades_a_dropped_tree_counting_only_the_extra_bytes() {
        let m = inv(vec![ver("a.com/x", "v1.0.0", 20), ver("b.com/y", "v1.0.0", 1)]);
        // zips_only_after frees a.com/x's tree (1000): 1260 remain. A 1200 cap
        // then takes the rest of a.com/x (130), the least recently used.
        let p = modcache(ModcachePolicy { zips_only_after: Some(7 * DAY), max_size: Some(1200), ..Default::default() });
        assert_eq!(run(&m, &p), ["whole a.com/x@v1.0.0 max_size"]);
        let p = modcache(ModcachePolicy { zips_only_after: Some(7 * DAY), max_size: Some(1300), ..Default::default() });
        assert_eq!(run(&m, &p), ["tree a.com/x@v1.0.0 zips_only_after"]);
    }

    #[test]
    fn keep_globs_beat_remove_rules() {
        let m = inv(vec![
            ver("example.com/corp/lib", "v1.0.0", 90),
            ver("example.com/corp/lib/v2", "v2.0.0", 90),
            ver("example.com/corporate", "v1.0.0", 90),
        ]);
        let p = modcache(ModcachePolicy {
            max_age: Some(DAY),
            max_size: Some(0),
            all: true,
            keep: vec!["example.com/corp/*".into()],
            ..Default::default()
        });
        assert_eq!(run(&m, &p), ["whole example.com/corporate@v1.0.0 all"]);
    }

    #[test]
    fn keep_latest_uses_semver_order_with_pseudo_versions_and_incompatible() {
        let m = inv(vec![
            ver("a.com/x", "v0.0.0-20190101000000-abcdefabcdef", 90),
            ver("a.com/x", "v1.2.0", 90),
            ver("a.com/x", "v1.10.0", 90),
            ver("a.com/x", "v1.10.1-0.20200101000000-abcdefabcdef", 90),
            ver("a.com/x", "v1.9.0-rc.1", 90),
            ver("a.com/x", "v2.0.0+incompatible", 90),
            ver("b.com/y", "v0.1.0", 90),
        ]);
        let p = modcache(ModcachePolicy { max_age: Some(DAY), keep_latest: Some(2), ..Default::default() });
        // Kept: v2.0.0+incompatible (build metadata ignored, still v2 > v1) and the
        // pseudo-version v1.10.1-0... (it sorts above v1.10.0, below v1.10.1);
        // b.com/y has a single version.
        assert_eq!(
            run(&m, &p),
            [
                "whole a.com/x@v0.0.0-20190101000000-abcdefabcdef max_age",
                "whole a.com/x@v1.2.0 max_age",
                "whole a.com/x@v1.10.0 max_age",
                "whole a.com/x@v1.9.0-rc.1 max_age",
            ]
        );
    }

    #[test]
    fn keep_latest_alone_removes_nothing_and_counts_only_buildable_versions() {
        let info_only = no_tree(without(
            without(without(ver("a.com/x", "v1.3.0", 90), DownloadFile::Zip), DownloadFile::Ziphash),
            DownloadFile::Mod,
        ));
        let m = inv(vec![ver("a.com/x", "v1.1.0", 90), ver("a.com/x", "v1.2.0", 90), info_only]);
        let p = modcache(ModcachePolicy { keep_latest: Some(1), ..Default::default() });
        assert!(run(&m, &p).is_empty());
        // A version known only by its .info is not "the latest": v1.2.0 is.
        let p = modcache(ModcachePolicy { keep_latest: Some(1), max_age: Some(DAY), ..Default::default() });
        assert_eq!(run(&m, &p), ["whole a.com/x@v1.1.0 max_age", "whole a.com/x@v1.3.0 max_age"]);
    }

    #[test]
    fn roots_beat_every_remove_rule_but_corruption() {
        let m = inv(vec![ver("a.com/x", "v1.0.0", 400), ver("b.com/y", "v1.0.0", 400)]);
        let r = roots(&[("a.com/x", "v1.0.0")]);
        let mut p = modcache(ModcachePolicy {
            max_age: Some(DAY),
            max_size: Some(0),
            zips_only_after: Some(DAY),
            all: true,
            ..Default::default()
        });
        p.roots = RootsPolicy { projects: vec!["/p".into()], only_roots: true, ..RootsPolicy::default() };
        let mut i = input(&m, &p);
        i.roots = Some(&r);
        i.mark = Some(Timestamp(NOW));
        assert_eq!(summary(&plan(&i)), ["whole b.com/y@v1.0.0 all"]);
        // A corrupted root is removed only when asked to: go fetches it again.
        let corrupted =
            [(Target::ExtractedTree { module: "a.com/x".into(), version: "v1.0.0".into() }, "dir_hash".to_owned())];
        i.corrupted = &corrupted;
        assert_eq!(summary(&plan(&i)), ["whole b.com/y@v1.0.0 all"]);
        p.modcache.remove_corrupted = true;
        let mut i = input(&m, &p);
        i.roots = Some(&r);
        i.corrupted = &corrupted;
        assert_eq!(summary(&plan(&i)), ["tree a.com/x@v1.0.0 corrupted", "whole b.com/y@v1.0.0 all"]);
    }

    #[test]
    fn only_roots_removes_every_other_version() {
        let m = inv(vec![
            ver("a.com/x", "v1.0.0", 0),
            ver("a.com/x", "v1.1.0", 0),
            ver("b.com/y", "v2.0.0+incompatible", 0),
        ]);
        let r = roots(&[("a.com/x", "v1.1.0"), ("b.com/y", "v2.0.0+incompatible")]);
        let p = Policy {
            roots: RootsPolicy { projects: vec!["/p".into()], only_roots: true, ..RootsPolicy::default() },
            ..Policy::default()
        };
        let mut i = input(&m, &p);
        i.roots = Some(&r);
        assert_eq!(summary(&plan(&i)), ["whole a.com/x@v1.0.0 not_a_root"]);
        // Without a root set (no projects resolved) nothing counts as "not a root".
        i.roots = None;
        assert!(plan(&i).items.is_empty());
    }

    #[test]
    fn unused_since_mark_removes_exactly_the_unread_versions() {
        let mark = days_ago(1);
        let m = inv(vec![
            ver("a.com/x", "v1.0.0", 0), // read after the mark
            ver("a.com/x", "v1.1.0", 2), // stamped into the past, not read
            ver("b.com/y", "v1.0.0", 1), // read the second the mark was taken
        ]);
        let p = Policy::default();
        let mut i = input(&m, &p);
        i.mark = Some(mark);
        let planned = plan(&i);
        assert_eq!(summary(&planned), ["whole a.com/x@v1.1.0 unused_since_mark"]);
        assert_eq!(planned.items[0].reason, Reason::UnusedSinceMark { mark });
    }

    #[test]
    fn corrupted_targets_are_planned_only_with_remove_corrupted() {
        let m = inv(vec![ver("a.com/x", "v1.0.0", 0)]);
        let corrupted = [
            (Target::ModuleVersion { module: "a.com/x".into(), version: "v1.0.0".into() }, "zip_hash".to_owned()),
            (Target::ModuleVersion { module: "gone.com/z".into(), version: "v1.0.0".into() }, "missing".to_owned()),
            (Target::Sumdb, "bad_tile".to_owned()),
        ];
        let p = Policy::default();
        let mut i = input(&m, &p);
        i.corrupted = &corrupted;
        assert!(plan(&i).items.is_empty());
        let p = modcache(ModcachePolicy { remove_corrupted: true, ..Default::default() });
        let mut i = input(&m, &p);
        i.corrupted = &corrupted;
        let planned = plan(&i);
        assert_eq!(
            summary(&planned),
            ["whole a.com/x@v1.0.0 corrupted", "whole gone.com/z@v1.0.0 corrupted", "Sumdb corrupted"]
        );
        assert_eq!(planned.items[0].reason, Reason::Corrupted { finding: "zip_hash".into() });
    }

    #[test]
    fn debris_is_partial_downloads_temp_files_and_orphans_never_locks() {
        let m = inv(vec![
            // Interrupted extraction: the incomplete tree goes (with its marker).
            with(ver("a.com/partial", "v1.0.0", 0), DownloadFile::Partial, 0, 0),
            // A marker without a tree: just the marker.
            with(no_tree(ver("a.com/marker", "v1.0.0", 0)), DownloadFile::Partial, 0, 0),
            // A temp download beside a complete version.
            with(ver("a.com/temp", "v1.0.0", 0), DownloadFile::Temp, 4000, 0),
            // A pre-Go-1.16 extraction dir.
            with_temp_dir(ver("a.com/tmpdir", "v1.0.0", 0)),
            // A tree whose ziphash is gone: Go will not use it.
            without(ver("a.com/noziphash", "v1.0.0", 0), DownloadFile::Ziphash),
            // A tree with no download files at all (only the lock).
            VersionRecord {
                download_by_file: [(DownloadFile::Lock, Stats::default())].into(),
                ..ver("a.com/bare", "v1.0.0", 0)
            },
            // A ziphash with neither zip nor tree.
            no_tree(without(
                without(without(ver("a.com/hashonly", "v1.0.0", 0), DownloadFile::Zip), DownloadFile::Mod),
                DownloadFile::Info,
            )),
            // Not debris: fips140 trees have no ziphash by design; a zip without .mod/.info
            // is still used once Go has the .mod; a version left with only its lock.
            without(without(ver("golang.org/fips140", "v1.0.0", 0), DownloadFile::Ziphash), DownloadFile::Zip),
            no_tree(without(without(ver("a.com/ziponly", "v1.0.0", 0), DownloadFile::Mod), DownloadFile::Info)),
            VersionRecord {
                extracted: None,
                ..with(
                    VersionRecord { module: "a.com/lock".into(), version: "v1.0.0".into(), ..Default::default() },
                    DownloadFile::Lock,
                    0,
                    0,
                )
            },
        ]);
        let p = modcache(ModcachePolicy { remove_debris: true, ..Default::default() });
        let planned = plan(&input(&m, &p));
        assert_eq!(
            summary(&planned),
            [
                "tree a.com/partial@v1.0.0 debris",
                "files a.com/marker@v1.0.0 [Partial] debris",
                "files a.com/temp@v1.0.0 [Temp] debris",
                "tmpdir a.com/tmpdir@v1.0.0 debris",
                "tree a.com/noziphash@v1.0.0 debris",
                "whole a.com/bare@v1.0.0 debris",
                "files a.com/hashonly@v1.0.0 [Ziphash] debris",
            ]
        );
        let temp = &planned.items[2];
        assert_eq!(temp.disk_bytes, 4000, "only the temp file's bytes");
        let Target::ExtractTemp { dir, .. } = &planned.items[3].target else { panic!() };
        assert_eq!(dir, &PathBuf::from("a.com/tmpdir@v1.0.0.tmp-123"));
        assert_eq!(planned.items[3].disk_bytes, 500);
    }

    #[test]
    fn debris_is_removed_from_roots_and_kept_modules_too() {
        let m = inv(vec![with(ver("a.com/x", "v1.0.0", 0), DownloadFile::Temp, 5, 0)]);
        let r = roots(&[("a.com/x", "v1.0.0")]);
        let p = modcache(ModcachePolicy { remove_debris: true, keep: vec!["a.com".into()], ..Default::default() });
        let mut i = input(&m, &p);
        i.roots = Some(&r);
        assert_eq!(summary(&plan(&i)), ["files a.com/x@v1.0.0 [Temp] debris"]);
    }

    #[test]
    fn zips_only_after_drops_trees_go_can_re_extract_offline() {
        let m = inv(vec![
            ver("a.com/old", "v1.0.0", 10),
            ver("a.com/recent", "v1.0.0", 2),
            without(ver("a.com/nozip", "v1.0.0", 10), DownloadFile::Zip),
            with(ver("a.com/partial", "v1.0.0", 10), DownloadFile::Partial, 0, 10),
            ver(TOOLCHAIN_MODULE, "v0.0.1-go1.22.1.linux-amd64", 10),
        ]);
        let p = modcache(ModcachePolicy { zips_only_after: Some(7 * DAY), ..Default::default() });
        let planned = plan(&input(&m, &p));
        assert_eq!(summary(&planned), ["tree a.com/old@v1.0.0 zips_only_after"]);
        assert_eq!(planned.items[0].disk_bytes, 1000);
    }

    #[test]
    fn toolchains_keep_latest_per_platform_in_go_version_order() {
        let tc = |v: &str| ver(TOOLCHAIN_MODULE, v, 0);
        let m = inv(vec![
            tc("v0.0.1-go1.9.5.linux-amd64"),
            tc("v0.0.1-go1.21.0.linux-amd64"),
            tc("v0.0.1-go1.21rc2.linux-amd64"),
            tc("v0.0.1-go1.22rc1.linux-amd64"),
            tc("v0.0.1-go1.20.1.darwin-arm64"),
        ]);
        let p =
            modcache(ModcachePolicy { toolchains_keep_latest: Some(1), keep_latest: Some(5), ..Default::default() });
        // 1.22rc1 is the newest (semver would rank "21rc2"/"22rc1" above "21.0" wrongly or not at all);
        // keep_latest does not shield toolchains.
        assert_eq!(
            run(&m, &p),
            [
                "whole golang.org/toolchain@v0.0.1-go1.9.5.linux-amd64 toolchains_keep_latest",
                "whole golang.org/toolchain@v0.0.1-go1.21.0.linux-amd64 toolchains_keep_latest",
                "whole golang.org/toolchain@v0.0.1-go1.21rc2.linux-amd64 toolchains_keep_latest",
            ]
        );
        // Roots still win: a go.mod `toolchain` line makes one a root.
        let r = roots(&[(TOOLCHAIN_MODULE, "v0.0.1-go1.21.0.linux-amd64")]);
        let mut i = input(&m, &p);
        i.roots = Some(&r);
        assert_eq!(summary(&plan(&i)).len(), 2);
    }

    #[test]
    fn toolchains_in_use_are_kept_by_every_rule_and_the_plan_says_why() {
        let tc = |v: &str| ver(TOOLCHAIN_MODULE, v, 0);
        let m = inv(vec![
            tc("v0.0.1-go1.21.0.linux-amd64"),
            tc("v0.0.1-go1.22.0.linux-amd64"),
            tc("v0.0.1-go1.23.0.linux-amd64"),
        ]);
        let in_use = [
            InUse { version: "v0.0.1-go1.21.0.linux-amd64".into(), why: "GOTOOLCHAIN=go1.21.0 pins it".into() },
            InUse { version: "v0.0.1-go9.9.9.linux-amd64".into(), why: "not cached".into() },
        ];
        let cases = [
            (
                modcache(ModcachePolicy { toolchains_keep_latest: Some(1), ..Default::default() }),
                vec!["whole golang.org/toolchain@v0.0.1-go1.22.0.linux-amd64 toolchains_keep_latest"],
            ),
            (
                Policy::everything(),
                vec![
                    "whole golang.org/toolchain@v0.0.1-go1.22.0.linux-amd64 all",
                    "whole golang.org/toolchain@v0.0.1-go1.23.0.linux-amd64 all",
                ],
            ),
        ];
        for (p, want) in cases {
            let mut i = input(&m, &p);
            i.in_use = &in_use;
            let got = plan(&i);
            assert_eq!(summary(&got), want);
            assert_eq!(got.kept.len(), 1, "only a cached toolchain is reported as kept");
            assert_eq!(got.kept[0].why, "GOTOOLCHAIN=go1.21.0 pins it");
        }
    }

    #[test]
    fn a_version_chosen_by_several_rules_appears_once_as_the_strongest_target() {
        let m = inv(vec![
            // debris (temp file) + zips_only_after (tree) + max_age (whole) → whole, max_age.
            with(ver("a.com/x", "v1.0.0", 40), DownloadFile::Temp, 7, 40),
            // debris (temp file) + zips_only_after (tree), not old enough for max_age → both parts.
            with(ver("b.com/y", "v1.0.0", 10), DownloadFile::Temp, 7, 10),
            // corrupted (whole) before max_age → whole, corrupted; its .tmp- dir goes with it.
            with_temp_dir(ver("c.com/z", "v1.0.0", 40)),
        ]);
        let corrupted =
            [(Target::ModuleVersion { module: "c.com/z".into(), version: "v1.0.0".into() }, "zip_hash".to_owned())];
        let p = modcache(ModcachePolicy {
            max_age: Some(30 * DAY),
            zips_only_after: Some(7 * DAY),
            remove_debris: true,
            remove_corrupted: true,
            ..Default::default()
        });
        let mut i = input(&m, &p);
        i.corrupted = &corrupted;
        assert_eq!(
            summary(&plan(&i)),
            [
                "whole a.com/x@v1.0.0 max_age",
                "tree b.com/y@v1.0.0 zips_only_after",
                "files b.com/y@v1.0.0 [Temp] debris",
                "whole c.com/z@v1.0.0 corrupted",
                "tmpdir c.com/z@v1.0.0 debris",
            ]
        );
    }

    #[test]
    fn everything_removes_every_unit_of_the_module_cache() {
        let mut m = inv(vec![
            ver("a.com/x", "v1.0.0", 0),
            with_temp_dir(ver("b.com/y", "v1.0.0", 0)),
            VersionRecord {
                module: "c.com/lockonly".into(),
                version: "v1.0.0".into(),
                download_by_file: [(DownloadFile::Lock, Stats::default())].into(),
                ..Default::default()
            },
        ]);
        m.vcs_repos.insert("0123abcd".into(), stats(300, 0));
        m.categories.insert(Category::Sumdb, stats(50, 0));
        let p = Policy::everything();
        assert_eq!(
            run(&m, &p),
            [
                "whole a.com/x@v1.0.0 all",
                "whole b.com/y@v1.0.0 all",
                "tmpdir b.com/y@v1.0.0 all",
                "VcsRepo { hash: \"0123abcd\" } all",
                "Sumdb all",
            ]
        );
    }

    #[test]
    fn vcs_repositories_age_out_one_by_one() {
        let mut m = inv(vec![]);
        m.vcs_repos.insert("old".into(), stats(300, 60));
        m.vcs_repos.insert("new".into(), stats(300, 1));
        let p = modcache(ModcachePolicy { vcs_max_age: Some(30 * DAY), ..Default::default() });
        let planned = plan(&input(&m, &p));
        assert_eq!(summary(&planned), ["VcsRepo { hash: \"old\" } vcs_max_age"]);
        assert_eq!(planned.items[0].disk_bytes, 300);
    }

    fn gocache_inv(days: &[(i64, u64)]) -> CacheInventory {
        let mut g = inv(vec![]);
        g.kind = CacheKind::BuildCache;
        g.root = PathBuf::from("/cache/build");
        for &(ago, bytes) in days {
            let day = (NOW - ago * DAY_SECS).div_euclid(DAY_SECS);
            g.build_entries_by_day.insert(day, stats(bytes, ago));
            g.total += &stats(bytes, ago);
        }
        g
    }

    fn gocache_plan(g: &CacheInventory, gp: GocachePolicy) -> Plan {
        let policy = Policy { gocache: gp, ..Policy::default() };
        plan(&PlanInput { modcache: None, gocache: Some(g), ..input(g, &policy) })
    }

    #[test]
    fn gocache_max_age_cuts_by_mtime_and_never_within_the_last_two_hours() {
        let g = gocache_inv(&[(10, 1000), (3, 100), (0, 10)]);
        let p = gocache_plan(&g, GocachePolicy { max_age: Some(5 * DAY), ..Default::default() });
        assert_eq!(p.gocache, Some(PathBuf::from("/cache/build")));
        assert_eq!(p.items.len(), 1);
        // Go's mtime quantum on top, as Go's own trim adds it.
        assert_eq!(p.items[0].target, Target::BuildEntriesBefore { cutoff: Timestamp(days_ago(5).0 - 3600) });
        assert_eq!(p.items[0].reason, Reason::GocacheMaxAge { max_age_secs: 5 * 86_400 });
        assert_eq!(p.items[0].disk_bytes, 1000, "whole days before the cutoff");
        let p = gocache_plan(&g, GocachePolicy { max_age: Some(Duration::from_secs(60)), ..Default::default() });
        assert_eq!(p.items[0].target, Target::BuildEntriesBefore { cutoff: Timestamp(NOW - 7200) });
    }

    #[test]
    fn gocache_max_size_cuts_after_the_oldest_days() {
        let g = gocache_inv(&[(10, 1000), (3, 100), (0, 10)]);
        let p = gocache_plan(&g, GocachePolicy { max_size: Some(200), ..Default::default() });
        let day10_end = Timestamp(((NOW - 10 * DAY_SECS).div_euclid(DAY_SECS) + 1) * DAY_SECS);
        assert_eq!(p.items[0].target, Target::BuildEntriesBefore { cutoff: day10_end });
        assert_eq!(p.items[0].reason, Reason::GocacheMaxSize { max_size_bytes: 200 });
        assert_eq!(p.items[0].disk_bytes, 1000);
        // Nothing to do when under the cap; never past now - 1h even for a cap of 0.
        assert!(gocache_plan(&g, GocachePolicy { max_size: Some(5000), ..Default::default() }).items.is_empty());
        let p = gocache_plan(&g, GocachePolicy { max_size: Some(0), ..Default::default() });
        assert_eq!(p.items[0].target, Target::BuildEntriesBefore { cutoff: Timestamp(NOW - 7200) });
        // With max_age too, the later cutoff wins.
        let p = gocache_plan(&g, GocachePolicy { max_size: Some(200), max_age: Some(DAY), ..Default::default() });
        assert_eq!(p.items[0].target, Target::BuildEntriesBefore { cutoff: Timestamp(days_ago(1).0 - 3600) });
        assert_eq!(p.items[0].reason, Reason::GocacheMaxAge { max_age_secs: 86_400 });
    }

    #[test]
    fn gocache_fuzz_and_testcache() {
        let mut g = gocache_inv(&[(1, 10)]);
        g.categories.insert(Category::Fuzz, stats(70, 1));
        let p = gocache_plan(
            &g,
            GocachePolicy { fuzz: FuzzMode::Remove, testcache: TestcacheMode::Expire, ..Default::default() },
        );
        assert_eq!(summary(&p), ["FuzzCache fuzz", "ExpireTestResults testcache"]);
        assert_eq!(p.items[0].disk_bytes, 70);
        assert!(gocache_plan(&g, GocachePolicy::default()).items.is_empty());
    }

    #[test]
    fn combined_policy() {
        let mut m = inv(vec![
            ver("example.com/corp/lib", "v1.0.0", 200),                   // kept by glob
            ver("a.com/x", "v1.0.0", 60),                                 // max_age
            ver("a.com/x", "v1.1.0", 60),                                 // newest: keep_latest
            ver("b.com/root", "v1.0.0", 300),                             // root
            with(ver("c.com/y", "v1.0.0", 3), DownloadFile::Temp, 10, 3), // debris; only version: keep_latest
            ver("d.com/z", "v1.0.0", 10),                                 // zips_only_after
            ver("d.com/z", "v1.1.0", 5),                                  // newest of d.com/z
            ver("e.com/w", "v1.0.0", 8),                                  // LRU victim for the cap
            ver("e.com/w", "v1.1.0", 2),                                  // newest of e.com/w
        ]);
        m.vcs_repos.insert("abc".into(), stats(100, 90));
        let r = roots(&[("b.com/root", "v1.0.0")]);
        let p = Policy {
            modcache: ModcachePolicy {
                max_age: Some(30 * DAY),
                keep: vec!["example.com/corp".into()],
                keep_latest: Some(1),
                remove_debris: true,
                zips_only_after: Some(7 * DAY),
                vcs_max_age: Some(30 * DAY),
                // 9 × 1130 + 10 = 10180 (the vcs repo is not in this hand-made total).
                max_size: Some(6900),
                ..Default::default()
            },
            ..Policy::default()
        };
        let mut i = input(&m, &p);
        i.roots = Some(&r);
        assert_eq!(
            summary(&plan(&i)),
            [
                // zips_only_after drops the trees of kept versions too (keep glob, keep_latest);
                // what it frees brings the cache under the cap, so max_size evicts nothing.
                "tree example.com/corp/lib@v1.0.0 zips_only_after",
                "whole a.com/x@v1.0.0 max_age",
                "tree a.com/x@v1.1.0 zips_only_after",
                "files c.com/y@v1.0.0 [Temp] debris",
                "tree d.com/z@v1.0.0 zips_only_after",
                "tree e.com/w@v1.0.0 zips_only_after",
                "VcsRepo { hash: \"abc\" } vcs_max_age",
            ]
        );
    }
}
