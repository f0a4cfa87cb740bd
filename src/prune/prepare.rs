//! Everything a prune does before it deletes, as one library call: a
//! [`Request`] (the policy and the flags, as data) becomes recognised cache
//! roots, a scanned inventory and a [`Plan`], so a timer or another command
//! runs the same pipeline as `gokeep prune` without its argument parser.
//!
//! Two steps, so that a caller can take gokeep's run lock between them:
//! [`recognise`] checks the request and the roots and reads the projects'
//! requirements, writing nothing; [`Ready::prepare`] scans and plans.
//! What the user should hear comes back as [`Notice`]s; nothing is printed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fs::remove::{self, CacheRoot, Refusal};
use crate::goenv::GoEnv;
use crate::layout::CacheKind;
use crate::policy::{Overrides, Policy, PolicyError};
use crate::scan::{self, ScanError, ScanOptions, ScanWarning, VersionRecord};
use crate::state::marks::{self, MarkError};
use crate::timestamp::Timestamp;

use super::atime::{AgeSource, age_source_for};
use super::plan::{self, PlanInput};
use super::roots::{self, RootsError};
use super::toolchains;
use super::{Plan, Target};

/// A prune, as data.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The policy file's rules, or the empty policy.
    pub policy: Policy,
    /// Whether `policy` came from a file (a file's build-cache rules are
    /// skipped when Go's build cache is off; a flag's are an error).
    pub from_file: bool,
    /// Rules and roots given beside the file: extra `[roots] projects`, or
    /// replacements with `roots_only`.
    pub overrides: Overrides,
    /// `gocache.max_age`, replacing the file's.
    pub gocache_max_age: Option<Duration>,
    /// Remove exactly the module versions nothing read since `gokeep mark`.
    pub unused_since_mark: bool,
    /// The module cache, as named (resolved here, once).
    pub modcache: PathBuf,
    /// The build cache, as named; `None` when Go's build cache is off.
    pub gocache: Option<PathBuf>,
    /// The user's home, for `~` in `roots.projects`.
    pub home: Option<PathBuf>,
    /// Prune only this cache; the policy's rules for the other are left
    /// out (a host-wide run prunes each discovered cache on its own).
    pub only: Option<CacheKind>,
}

/// Something the user should hear about; the run goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A `roots.projects` entry (written at `origin`) named no project here.
    UnmatchedProject { origin: String, why: String },
    /// Something the scan could not read.
    Scan(ScanWarning),
    /// Age rules read modification times on this mount, and why.
    AgesFromMtime { why: String },
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(
        "nothing to prune: give --policy FILE or a rule (--max-age, --max-size, --only-roots, --corrupted, \
         --debris, --all, --unused-since-mark, --gocache-max-age)"
    )]
    NothingToPrune,
    #[error("--gocache-max-age: Go's build cache is off (GOCACHE=off)")]
    BuildCacheOff,
    #[error("--unused-since-mark: {why}; reads leave no trace there")]
    MarkWithoutAtime { why: String },
    #[error("--unused-since-mark: {} has no mark; run `gokeep mark` first", root.display())]
    NoMark { root: PathBuf },
    #[error("roots.projects: cannot tell the home directory for `~`")]
    NoHome,
    #[error(
        "only_roots: no project found ({} matched nothing); refusing to remove every module version. \
         Name the projects with --root DIR (--roots-only to replace the policy's)",
        entries.join(", ")
    )]
    NoProject { entries: Vec<String> },
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Roots(#[from] RootsError),
    #[error(transparent)]
    Marks(#[from] MarkError),
    #[error(transparent)]
    Scan(#[from] ScanError),
}

/// A checked request: roots recognised, projects read, nothing scanned yet.
#[derive(Debug)]
pub struct Ready {
    pub policy: Policy,
    pub mod_root: Option<CacheRoot>,
    pub build_root: Option<CacheRoot>,
    pub notices: Vec<Notice>,
    age_source: AgeSource,
    age_note: String,
    mark: Option<Timestamp>,
    roots: Option<BTreeSet<(String, String)>>,
}

/// What a run decided, before anything is deleted.
#[derive(Debug)]
pub struct Prepared {
    pub plan: Plan,
    pub policy: Policy,
    pub mod_root: Option<CacheRoot>,
    pub build_root: Option<CacheRoot>,
    /// Everything to tell the user, [`recognise`]'s first.
    pub notices: Vec<Notice>,
}

/// Finds the corrupted versions among those scanned (verify's hashing),
/// as targets with the kind of finding; asked only with `remove_corrupted`.
pub type FindCorrupted<'a> = &'a (dyn Fn(&Path, &[VersionRecord]) -> Vec<(Target, String)> + Sync);

/// [`recognise`] then [`Ready::prepare`].
///
/// # Errors
/// As those two.
pub fn prepare(
    request: Request,
    env: &GoEnv,
    scan: &ScanOptions,
    now: Timestamp,
    corrupted: FindCorrupted<'_>,
) -> Result<Prepared, PrepareError> {
    recognise(request)?.prepare(env, scan, now, corrupted)
}

/// The policy the request adds up to, its roots recognised (a refused root is
/// not even scanned) and the projects' requirements read. Writes nothing.
///
/// # Errors
/// A request that removes nothing or cannot be honoured, a policy or flag
/// value that is wrong, a refused root, an unreadable project or mark.
pub fn recognise(request: Request) -> Result<Ready, PrepareError> {
    let mut policy = request.policy.with_overrides(&request.overrides)?;
    if let Some(a) = request.gocache_max_age {
        policy.gocache.max_age = Some(a);
    }
    let wants_mod = request.only != Some(CacheKind::BuildCache)
        && (policy.touches(CacheKind::ModCache) || request.unused_since_mark);
    let wants_build = request.only != Some(CacheKind::ModCache) && policy.touches(CacheKind::BuildCache);
    if !wants_mod && !wants_build {
        return Err(PrepareError::NothingToPrune);
    }
    let mod_root = if wants_mod { Some(remove::recognise_modcache(&request.modcache)?) } else { None };
    let build_root = match &request.gocache {
        Some(g) if wants_build => Some(remove::recognise_gocache(g)?),
        None if wants_build && !request.from_file => return Err(PrepareError::BuildCacheOff),
        _ => None,
    };
    let (age_source, age_note) = match &mod_root {
        Some(r) => age_source_for(r.path()),
        None => (AgeSource::Atime, String::new()),
    };
    let mark = match (&mod_root, request.unused_since_mark) {
        (Some(root), true) => {
            if age_source == AgeSource::Mtime {
                return Err(PrepareError::MarkWithoutAtime { why: age_note });
            }
            let m = marks::load(root.path())?.ok_or_else(|| PrepareError::NoMark { root: root.path().to_owned() })?;
            Some(m.marked_at)
        }
        _ => None,
    };
    let mut notices = Vec::new();
    let roots = if policy.roots.projects.is_empty() || !wants_mod {
        None
    } else {
        Some(project_roots(&policy, request.home.as_deref(), &mut notices)?)
    };
    Ok(Ready { policy, mod_root, build_root, notices, age_source, age_note, mark, roots })
}

/// The module versions the policy's projects need. An entry that names no
/// project on this machine is a notice naming where it was written; with
/// `only_roots` and no project at all, nothing would be kept, so that is refused.
fn project_roots(
    policy: &Policy,
    home: Option<&Path>,
    notices: &mut Vec<Notice>,
) -> Result<BTreeSet<(String, String)>, PrepareError> {
    let home = home.ok_or(PrepareError::NoHome)?;
    let r = &policy.roots;
    let projects = roots::expand_projects(&r.projects, home)?;
    let origin = |i: usize| r.origins.get(i).map_or("roots.projects", String::as_str).to_owned();
    for (i, why) in &projects.unmatched {
        notices.push(Notice::UnmatchedProject { origin: origin(*i), why: why.to_string() });
    }
    if projects.dirs.is_empty() && r.only_roots {
        let entries = r.projects.iter().enumerate().map(|(i, p)| format!("{p:?} ({})", origin(i))).collect();
        return Err(PrepareError::NoProject { entries });
    }
    Ok(roots::collect_roots(&projects.dirs)?)
}

impl Ready {
    /// Scans the recognised roots and plans.
    ///
    /// # Errors
    /// A cache that cannot be scanned.
    pub fn prepare(
        self,
        env: &GoEnv,
        scan: &ScanOptions,
        now: Timestamp,
        corrupted: FindCorrupted<'_>,
    ) -> Result<Prepared, PrepareError> {
        let Ready { policy, mod_root, build_root, mut notices, age_source, age_note, mark, roots } = self;
        let inventory =
            scan::scan(mod_root.as_ref().map(CacheRoot::path), build_root.as_ref().map(CacheRoot::path), scan);
        let mod_inv = inventory.modcache.transpose()?;
        let build_inv = inventory.gocache.transpose()?;
        for inv in mod_inv.iter().chain(build_inv.iter()) {
            notices.extend(inv.warnings.iter().cloned().map(Notice::Scan));
        }
        if mod_inv.is_some()
            && age_source == AgeSource::Mtime
            && (policy.modcache.max_age.is_some() || policy.modcache.max_size.is_some())
        {
            notices.push(Notice::AgesFromMtime { why: age_note });
        }
        let in_use = mod_root.as_ref().map(|r| toolchains::in_use(env, r.path())).unwrap_or_default();
        // Corruption is found by hashing, the one rule the inventory cannot decide.
        let corrupted = match &mod_inv {
            Some(inv) if policy.modcache.remove_corrupted => corrupted(&inv.root, &inv.versions),
            _ => Vec::new(),
        };
        let mut plan = plan::plan(&PlanInput {
            modcache: mod_inv.as_ref(),
            gocache: build_inv.as_ref(),
            policy: &policy,
            now,
            roots: roots.as_ref(),
            corrupted: &corrupted,
            mark,
            age_source,
            in_use: &in_use,
        });
        if plan.items.iter().all(|i| i.target.is_build()) {
            plan.modcache = None;
        }
        if !plan.items.iter().any(|i| i.target.is_build()) {
            plan.gocache = None;
        }
        Ok(Prepared { plan, policy, mod_root, build_root, notices })
    }
}
