//! Removing things from Go's caches: a pure [`plan`] step that decides, and a
//! safe [`execute`] step that deletes. Everything in gokeep that deletes
//! (prune, verify --fix) builds a [`Plan`] and hands it to the executor.

pub mod atime;
pub mod execute;
pub mod mark;
pub mod plan;
pub mod prepare;
pub mod roots;
pub mod toolchains;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::fs::remove::Freed;
use crate::layout::DownloadFile;
use crate::timestamp::Timestamp;

pub use execute::{ExecError, ExecOptions, execute};

/// One thing to remove, in Go's own units.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// The extracted tree and every `cache/download/<module>/@v/<version>.*`
    /// file except the `.lock`; `@v/list` is rewritten afterwards.
    ModuleVersion { module: String, version: String },
    /// What a whole version holds for building (zip, `.ziphash`, extracted
    /// tree, temp files) in the order of [`Target::ModuleVersion`]; its
    /// `.info`, `.mod` and `@v/list` line stay, so the module graph still
    /// loads offline (`[modcache] keep_metadata`).
    VersionContent { module: String, version: String },
    /// Only the extracted `<module>@<version>/` tree (Go re-extracts it from the zip).
    ExtractedTree { module: String, version: String },
    /// Some of the version's download files (never `.lock`).
    DownloadFiles { module: String, version: String, files: Vec<DownloadFile> },
    /// A pre-Go-1.16 `<module>@<version>.tmp-*` extraction directory.
    ExtractTemp { module: String, version: String, dir: PathBuf },
    /// `cache/vcs/<hash>` and its `.info` (not its `.lock`).
    VcsRepo { hash: String },
    /// `cache/download/sumdb`.
    Sumdb,
    /// A module cache entry cmd/go cannot have written (its name is not
    /// UTF-8), removed whole, or an empty directory on the way to module
    /// trees, removed only while it is empty. Path relative to the root.
    Leftover {
        #[serde(serialize_with = "lossy_path")]
        path: PathBuf,
    },
    /// GOCACHE action/output entries whose mtime is before `cutoff`
    /// (and never within the last hour, whatever the cutoff).
    BuildEntriesBefore { cutoff: Timestamp },
    /// GOCACHE `fuzz/`.
    FuzzCache,
    /// One GOCACHE entry, `<xx>/<id>-a` or `<xx>/<id>-d` (relative to
    /// GOCACHE) that verify found unusable; cmd/go takes its absence for a
    /// cache miss and rebuilds.
    BuildEntry { entry: PathBuf },
    /// Not a removal: what `go clean -testcache` does (write now into
    /// GOCACHE/testexpire.txt under its lock, only if it is later than the
    /// stored time), so cached test results are ignored.
    ExpireTestResults,
}

impl Target {
    /// Whether this target lives in the build cache (GOCACHE) rather than
    /// the module cache.
    #[must_use]
    pub fn is_build(&self) -> bool {
        matches!(
            self,
            Target::BuildEntriesBefore { .. }
                | Target::FuzzCache
                | Target::ExpireTestResults
                | Target::BuildEntry { .. }
        )
    }

    /// The module version a target belongs to, for those that belong to one.
    #[must_use]
    pub fn module_version(&self) -> Option<(&str, &str)> {
        match self {
            Target::ModuleVersion { module, version }
            | Target::VersionContent { module, version }
            | Target::ExtractedTree { module, version }
            | Target::DownloadFiles { module, version, .. }
            | Target::ExtractTemp { module, version, .. } => Some((module, version)),
            _ => None,
        }
    }
}

/// How every plan, skip and journal message names a target: the module
/// version first, then which of its parts, in the words `go help
/// modcache` uses.
impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::ModuleVersion { module, version } => write!(f, "{module}@{version}"),
            Target::VersionContent { module, version } => {
                write!(f, "{module}@{version} (zip and tree; .info and .mod kept)")
            }
            Target::ExtractedTree { module, version } => write!(f, "{module}@{version} (extracted tree)"),
            Target::DownloadFiles { module, version, files } => {
                write!(f, "{module}@{version} (")?;
                for (i, file) in files.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    match file.suffix() {
                        Some(s) => write!(f, "{sep}.{s}")?,
                        None => write!(f, "{sep}.tmp")?,
                    }
                }
                f.write_str(")")
            }
            Target::ExtractTemp { module, version, .. } => write!(f, "{module}@{version} (old extraction dir)"),
            Target::VcsRepo { hash } => write!(f, "cache/vcs/{hash}"),
            Target::Sumdb => f.write_str("cache/download/sumdb"),
            Target::Leftover { path } => write!(f, "{} (not written by go, or empty)", path.display()),
            Target::BuildEntriesBefore { cutoff } => {
                write!(f, "build cache entries unused since {}", cutoff.rfc3339())
            }
            Target::FuzzCache => f.write_str("build cache fuzz/"),
            Target::BuildEntry { entry } => write!(f, "build cache entry {}", entry.display()),
            Target::ExpireTestResults => f.write_str("cached test results (as go clean -testcache)"),
        }
    }
}

/// JSON has no place for bytes that are not UTF-8: such a name is shown as
/// `Path::to_string_lossy` shows it.
fn lossy_path<S: serde::Serializer>(p: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// Why a target is in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Reason {
    MaxAge { max_age_secs: u64 },
    MaxSize { max_size_bytes: u64 },
    NotARoot,
    KeepLatest { keep_latest: usize },
    ToolchainsKeepLatest { keep_latest: usize },
    ZipsOnlyAfter { after_secs: u64 },
    VcsMaxAge { max_age_secs: u64 },
    UnusedSinceMark { mark: Timestamp },
    Corrupted { finding: String },
    Debris,
    All,
    Sumdb,
    GocacheMaxAge { max_age_secs: u64 },
    GocacheMaxSize { max_size_bytes: u64 },
    Fuzz,
    Testcache,
}

/// One planned removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PlanItem {
    pub target: Target,
    pub reason: Reason,
    pub apparent_bytes: u64,
    pub disk_bytes: u64,
    pub last_used: Option<Timestamp>,
}

/// Everything a run will remove, decided before anything is touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Plan {
    pub modcache: Option<PathBuf>,
    pub gocache: Option<PathBuf>,
    pub items: Vec<PlanItem>,
    /// Versions that a rule may have selected and that stay, with why.
    pub kept: Vec<KeptItem>,
    /// Values the plan used instead of the ones asked for, with why.
    pub adjusted: Vec<Adjusted>,
}

/// A policy value the plan could not use as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Adjusted {
    /// `gocache.max_age`.
    pub rule: String,
    pub asked: String,
    pub used: String,
    pub why: String,
}

/// A version every rule leaves alone, and why (a toolchain in use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct KeptItem {
    pub target: Target,
    pub why: String,
}

/// Go refreshes a used build-cache entry's mtime only when it is an hour old
/// (`markUsed`, mtimeInterval), so an entry a build used a moment ago can
/// carry an mtime an hour older than that use. Two hours keeps every entry
/// used within the last hour, as Go's own `Trim` adds mtimeInterval to its limit.
pub const MIN_BUILD_ENTRY_AGE: Duration = Duration::from_secs(2 * GOCACHE_MTIME_INTERVAL.as_secs());

/// An age rule adds Go's mtime quantum, as Go's `Trim` adds it to its
/// 5-day limit: an entry whose mtime is `max_age` old may have been used up
/// to an hour later, inside `max_age`.
pub use crate::layout::GOCACHE_MTIME_INTERVAL;

/// Something that could not be removed; the rest of the plan still ran.
pub use crate::fs::remove::Failure;

/// A planned item left alone on purpose, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Skip {
    pub target: Target,
    pub reason: String,
}

/// What a run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Removal {
    pub files: u64,
    pub dirs: u64,
    pub apparent_bytes: u64,
    /// Blocks freed; a file with other hard links left frees none.
    pub disk_bytes: u64,
    /// Module versions whose removal finished: nothing failed, nothing was skipped.
    pub module_versions: u64,
    pub failures: Vec<Failure>,
    pub skipped: Vec<Skip>,
    /// Planned items not started because the run was stopped. A whole
    /// version whose zip had already gone keeps its tree, `.ziphash` and
    /// `.mod`: a state go reads and `go mod verify` accepts.
    pub not_started: u64,
}

impl std::ops::AddAssign for Removal {
    fn add_assign(&mut self, o: Removal) {
        self.files += o.files;
        self.dirs += o.dirs;
        self.apparent_bytes += o.apparent_bytes;
        self.disk_bytes += o.disk_bytes;
        self.module_versions += o.module_versions;
        self.failures.extend(o.failures);
        self.skipped.extend(o.skipped);
        self.not_started += o.not_started;
    }
}

impl std::ops::AddAssign<Freed> for Removal {
    fn add_assign(&mut self, o: Freed) {
        self.files += o.files;
        self.dirs += o.dirs;
        self.apparent_bytes += o.apparent_bytes;
        self.disk_bytes += o.disk_bytes;
        self.failures.extend(o.failures);
    }
}

impl Removal {
    pub(crate) fn fail(&mut self, path: &Path, message: impl std::fmt::Display) {
        self.failures.push(Failure::new(path, message));
    }
}
