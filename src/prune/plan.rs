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
//!    every VCS repository, the sumdb cache.
//! 4. **only roots**: every unprotected version that is not a root
//!    (no-op when no roots were given).
//! 5. **unused since mark** (`--unused-since-mark`): versions whose newest
//!    atime/mtime is before the mark (the wall-clock time `gokeep mark` ran;
//!    it set atimes into the past, so any read since then shows). This always
//!    reads atime: on a `noatime` mount it would select every old version, so
//!    the caller must refuse the flag there.
//! 6. **max_age**: versions last used before `now - max_age`.
//! 7. **toolchains_keep_latest**: `golang.org/toolchain` versions beyond the
//!    newest N per platform, in Go's toolchain version order (`gover`).
//! 8. **zips_only_after**: `ExtractedTree` of versions that have a zip and a
//!    `.ziphash` (so Go re-extracts offline), no `.partial`, and whose tree
//!    was last used before `now - zips_only_after`. Not for toolchains (cmd/go
//!    modifies their trees after extraction).
//! 9. **vcs_max_age**: `cache/vcs/<hash>` repositories last used before the cutoff.
//! 10. **sumdb = "remove"**: `cache/download/sumdb`.
//! 11. **max_size**: while the cache's on-disk bytes minus everything the
//!     rules above free exceed `max_size`, evict the least recently used
//!     unprotected version (ties by module path, then version).
//!
//! A version selected by several rules appears once, as the strongest target
//! any rule chose for it (`ModuleVersion` beats `ExtractedTree` beats
//! `DownloadFiles`), with the reason of the first rule that chose that
//! target. The only exception is a tree and some download files chosen
//! without the whole version (say zips_only_after plus a temp download):
//! neither contains the other, so both are planned. A whole version also
//! takes its `.tmp-` extraction dirs (`ExtractTemp`) with it.
//!
//! ## GOCACHE
//! `max_age` → `BuildEntriesBefore { now - max_age }`; `max_size` → the
//! cutoff at the end of the oldest UTC day of `build_entries_by_day` after
//! which what remains fits; both → the later cutoff. A cutoff is never later
//! than `now - 1h` (Go refreshes an entry's mtime at most hourly, so a newer
//! one may be in use). Bytes count whole days before the cutoff only, so they
//! are a lower bound. `fuzz = "remove"` → `FuzzCache`; `testcache = "expire"`
//! → `ExpireTestResults`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use crate::layout::{Category, DownloadFile, TOOLCHAIN_MODULE, compare_versions};
use crate::policy::{FuzzMode, Policy, SumdbMode, TestcacheMode, match_prefix_patterns};
use crate::scan::{CacheInventory, Stats, VersionRecord};
use crate::timestamp::Timestamp;

use super::atime::AgeSource;
use super::{Plan, PlanItem, Reason, Target};

/// Go refreshes build-cache entry mtimes at most this often.
const GOCACHE_MTIME_INTERVAL_SECS: i64 = 3600;
const DAY_SECS: i64 = 86_400;
/// Go ≥ 1.24 unpacks this module from GOROOT: its tree has no `.ziphash`.
const FIPS140_MODULE: &str = "golang.org/fips140";

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
    /// `--unused-since-mark`: when `gokeep mark` ran.
    pub mark: Option<Timestamp>,
    pub age_source: AgeSource,
}

/// Decides what to remove. Pure: no file system access.
#[must_use]
pub fn plan(input: &PlanInput) -> Plan {
    let mut out = Plan {
        modcache: input.modcache.map(|i| i.root.clone()),
        gocache: input.gocache.map(|i| i.root.clone()),
        items: Vec::new(),
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
    }
    let mut seen: BTreeSet<Target> = out.items.iter().map(|i| i.target.clone()).collect();
    out.items.extend(others.items.into_iter().filter(|i| seen.insert(i.target.clone())));
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

    /// Bytes this selection frees.
    fn freed(&self, v: &VersionRecord) -> Stats {
        if self.whole.is_some() {
            return v.total();
        }
        let mut s = Stats::default();
        if self.tree.is_some() {
            if let Some(e) = &v.extracted {
                s += e;
            }
        }
        for f in &self.files {
            if let Some(b) = v.download_by_file.get(f) {
                s += b;
            }
        }
        if self.temps.is_some() {
            if let Some(e) = &v.extract_temp {
                s += e;
            }
        }
        s
    }
}

/// Something the executor can remove for this version besides its `.lock`.
fn removable(v: &VersionRecord) -> bool {
    v.extracted.is_some() || v.extract_temp.is_some() || v.download_files.iter().any(|f| *f != DownloadFile::Lock)
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
        let index = inv.versions.iter().enumerate().map(|(i, v)| ((v.module.as_str(), v.version.as_str()), i)).collect();
        let protected = protected_versions(input, inv);
        Self { input, inv, sel: vec![Selection::default(); inv.versions.len()], protected, index }
    }

    fn last_used(&self, s: &Stats) -> Option<Timestamp> {
        self.input.age_source.last_used(s)
    }

    /// Unprotected versions with something to remove.
    fn candidates(&self) -> impl Iterator<Item = (usize, &'a VersionRecord)> + '_ {
        let inv = self.inv;
        inv.versions.iter().enumerate().filter(|(i, v)| !self.protected[*i] && removable(v))
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
        }
        if self.input.policy.roots.only_roots {
            if let Some(roots) = self.input.roots {
                for (i, v) in self.candidates().collect::<Vec<_>>() {
                    if !roots.contains(&(v.module.clone(), v.version.clone())) {
                        self.sel[i].whole(Reason::NotARoot);
                    }
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
            for (i, v) in self.candidates().collect::<Vec<_>>() {
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
        if p.sumdb == SumdbMode::Remove {
            if let Some(s) = self.inv.categories.get(&Category::Sumdb) {
                others.add(Target::Sumdb, Reason::Sumdb, *s, self.last_used(s));
            }
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
            let only_lock = v.download_files.iter().all(|f| *f == DownloadFile::Lock);
            if v.has(DownloadFile::Partial) {
                if v.extracted.is_some() {
                    s.tree(Reason::Debris);
                } else {
                    s.files([DownloadFile::Partial], Reason::Debris);
                }
            } else if v.extracted.is_some() && !v.has(DownloadFile::Ziphash) && v.module != FIPS140_MODULE {
                if only_lock {
                    s.whole(Reason::Debris);
                } else {
                    s.tree(Reason::Debris);
                }
            }
            if v.has(DownloadFile::Temp) {
                s.files([DownloadFile::Temp], Reason::Debris);
            }
            if v.has(DownloadFile::Ziphash) && !v.has(DownloadFile::Zip) && v.extracted.is_none() {
                s.files([DownloadFile::Ziphash], Reason::Debris);
            }
            if v.extract_temp.is_some() {
                s.temps(Reason::Debris);
            }
        }
    }

    fn toolchains(&mut self, keep: usize) {
        let mut by_platform: BTreeMap<&str, Vec<(usize, &str)>> = BTreeMap::new();
        for (i, v) in self.inv.versions.iter().enumerate() {
            if let Some((go, platform)) = v.is_toolchain().then(|| toolchain_parts(&v.version)).flatten() {
                by_platform.entry(platform).or_default().push((i, go));
            }
        }
        for mut versions in by_platform.into_values() {
            versions.sort_by(|a, b| compare_gover(b.1, a.1).then_with(|| b.1.cmp(a.1)));
            for &(i, _) in versions.iter().skip(keep) {
                if !self.protected[i] && removable(&self.inv.versions[i]) {
                    self.sel[i].whole(Reason::ToolchainsKeepLatest { keep_latest: keep });
                }
            }
        }
    }

    fn max_size(&mut self, max: u64, freed_elsewhere: u64) {
        let freed: u64 =
            self.inv.versions.iter().zip(&self.sel).map(|(v, s)| s.freed(v).disk_bytes).sum::<u64>() + freed_elsewhere;
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
            let already = self.sel[i].freed(v).disk_bytes;
            self.sel[i].whole(Reason::MaxSize { max_size_bytes: max });
            remaining = remaining.saturating_sub(self.sel[i].freed(v).disk_bytes - already);
        }
    }

    fn emit(self, items: &mut Vec<PlanItem>) {
        for (v, s) in self.inv.versions.iter().zip(self.sel) {
            let (module, version) = (v.module.clone(), v.version.clone());
            let temps_reason = s.temps.clone().or_else(|| s.whole.clone());
            if let Some(reason) = s.whole {
                let mut bytes = v.download;
                if let Some(e) = &v.extracted {
                    bytes += e;
                }
                let last = self.input.age_source.last_used(&bytes);
                items.push(item(Target::ModuleVersion { module: module.clone(), version: version.clone() }, reason, &bytes, last));
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
                    let target = Target::ExtractTemp { module: module.clone(), version: version.clone(), dir: dir.clone() };
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

/// `v0.0.1-go1.26.8.linux-amd64` → (`1.26.8`, `linux-amd64`).
fn toolchain_parts(version: &str) -> Option<(&str, &str)> {
    version.strip_prefix("v0.0.1-go")?.rsplit_once('.')
}

/// A Go toolchain version split as `cmd/go/internal/gover.Parse` does;
/// `None` where Go's parse returns the zero version.
fn parse_gover(x: &str) -> Option<[&str; 5]> {
    fn cut_int(x: &str) -> Option<(&str, &str)> {
        let i = x.bytes().take_while(u8::is_ascii_digit).count();
        if i == 0 || (x.starts_with('0') && i != 1) {
            return None;
        }
        Some(x.split_at(i))
    }
    let (major, x) = cut_int(x)?;
    if x.is_empty() {
        return Some([major, "0", "0", "", ""]);
    }
    let (minor, x) = cut_int(x.strip_prefix('.')?)?;
    if x.is_empty() {
        // Before Go 1.21 a missing patch means .0; from 1.21 on "1.21" is the
        // language version, which sorts before 1.21rc1 and 1.21.0.
        let patch = if cmp_int(minor, "21") == Ordering::Less { "0" } else { "" };
        return Some([major, minor, patch, "", ""]);
    }
    if let Some(p) = x.strip_prefix('.') {
        let (patch, rest) = cut_int(p)?;
        return rest.is_empty().then_some([major, minor, patch, "", ""]);
    }
    let i = x.bytes().take_while(u8::is_ascii_lowercase).count();
    if i == 0 {
        return None;
    }
    let (kind, x) = x.split_at(i);
    if x.is_empty() {
        return Some([major, minor, "", kind, ""]);
    }
    let (pre, rest) = cut_int(x)?;
    rest.is_empty().then_some([major, minor, "", kind, pre])
}

fn cmp_int(x: &str, y: &str) -> Ordering {
    x.len().cmp(&y.len()).then_with(|| x.cmp(y))
}

/// `gover.Compare`: malformed versions sort first.
fn compare_gover(x: &str, y: &str) -> Ordering {
    match (parse_gover(x), parse_gover(y)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => cmp_int(a[0], b[0])
            .then_with(|| cmp_int(a[1], b[1]))
            .then_with(|| cmp_int(a[2], b[2]))
            .then_with(|| a[3].cmp(b[3]))
            .then_with(|| cmp_int(a[4], b[4])),
    }
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
    let latest = Timestamp(input.now.0 - GOCACHE_MTIME_INTERVAL_SECS);
    let fuzz = inv.categories.get(&Category::Fuzz).copied().filter(|s| !s.is_empty());
    let mut cut: Option<(Timestamp, Reason)> = None;
    if let Some(age) = g.max_age {
        cut = Some((before(input.now, age).min(latest), Reason::GocacheMaxAge { max_age_secs: secs(age) }));
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
        if let Some(c) = size_cut {
            if cut.as_ref().is_none_or(|(old, _)| c > *old) {
                cut = Some((c, Reason::GocacheMaxSize { max_size_bytes: max }));
            }
        }
    }
    if let Some((cutoff, reason)) = cut {
        // Only worth planning when some entry can be older than the cutoff.
        if inv.build_entries_by_day.keys().next().is_some_and(|day| day * DAY_SECS < cutoff.0) {
            others.add(Target::BuildEntriesBefore { cutoff }, reason, gocache_bytes_before(inv, cutoff), None);
        }
    }
    if g.fuzz == FuzzMode::Remove {
        if let Some(s) = fuzz {
            others.add(Target::FuzzCache, Reason::Fuzz, s, input.age_source.last_used(&s));
        }
    }
    if g.testcache == TestcacheMode::Expire {
        others.add(Target::ExpireTestResults, Reason::Testcache, Stats::default(), None);
    }
}
