//! Removing things from Go's caches: a pure [`plan`] step that decides, and a
//! safe [`execute`] step that deletes. Everything in gokeep that deletes
//! (prune, verify --fix) builds a [`Plan`] and hands it to the executor.

pub mod atime;
pub mod plan;
pub mod roots;
pub mod toolchains;

use std::path::PathBuf;

use serde::Serialize;

use crate::layout::DownloadFile;
use crate::timestamp::Timestamp;

/// One thing to remove, in Go's own units.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// The extracted tree and every `cache/download/<module>/@v/<version>.*`
    /// file except the `.lock`; `@v/list` is rewritten afterwards.
    ModuleVersion { module: String, version: String },
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
}

/// How every plan, skip and journal message names a target: the module
/// version first, then which of its parts, in the words `go help
/// modcache` uses.
impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::ModuleVersion { module, version } => write!(f, "{module}@{version}"),
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanItem {
    pub target: Target,
    pub reason: Reason,
    pub apparent_bytes: u64,
    pub disk_bytes: u64,
    pub last_used: Option<Timestamp>,
}

/// Everything a run will remove, decided before anything is touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Adjusted {
    /// `gocache.max_age`.
    pub rule: String,
    pub asked: String,
    pub used: String,
    pub why: String,
}

/// A version every rule leaves alone, and why (a toolchain in use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptItem {
    pub target: Target,
    pub why: String,
}

pub mod beneath;
pub mod execute;
pub mod lock;
pub mod safety;

pub use execute::{ExecError, ExecOptions, Removal, execute};
pub mod journal;
pub mod mark;
