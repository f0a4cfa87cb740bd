//! Local overrides of a module a consumer requires: `link` points the
//! consumer at a local checkout (a `use` line in go.work, or a `replace` in
//! go.mod), `unlink` takes it back byte for byte, `links` says which
//! overrides exist and whether Go honours them, `check` finds overrides about
//! to be committed.
//!
//! What gokeep changed is recorded in its own state directory (never in the
//! user's repository): the file, the bytes before and the bytes written. An
//! unchanged file is restored exactly; a file edited since (by an editor,
//! `go mod tidy`, `go get`) loses only gokeep's lines, by a three-way merge
//! of the edit onto the old bytes, else by dropping the directive.
//!
//! Planning ([`plan`]) is pure: bytes in, bytes out. [`ops`] reads the files,
//! and writes them only under the consumer's lock, after checking that the
//! file still holds the bytes the plan was made from.

pub mod check;
pub mod inspect;
pub mod ops;
pub mod plan;
pub mod state;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use ops::{LinkPlan, LinkRequest, UnlinkPlan, apply_link, apply_unlink, plan_link, plan_unlink};
pub use state::LinkRecord;

/// How a link points the consumer at the local checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A `use` line in go.work: go.mod stays untouched.
    Work,
    /// A `replace <module> => <dir>` line in go.mod.
    Replace,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Work => "work",
            Mode::Replace => "replace",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("{dir} has no go.mod: a linked directory must be a module (run `go mod init` there)")]
    NoGoMod { dir: PathBuf },
    #[error("{dir} is not a directory")]
    NotADir { dir: PathBuf },
    #[error("no go.mod in {dir} or any directory above it: run gokeep in the consuming module, or pass --project")]
    NoConsumer { dir: PathBuf },
    #[error("{file} declares no module path")]
    NoModulePath { file: PathBuf },
    #[error(transparent)]
    Parse(#[from] crate::go::modfile::ParseError),
    #[error("{edit}")]
    Edit { edit: String },
    #[error(
        "{consumer} does not require {module} ({go_mod} has no require line for it): link a module the consumer uses, or pass --force"
    )]
    NotRequired { consumer: String, module: String, go_mod: PathBuf },
    #[error("{module} is already linked to {target} in {consumer}: run `gokeep unlink {module}` first")]
    AlreadyLinked { module: String, target: PathBuf, consumer: PathBuf },
    #[error("{module} is not linked in {consumer}")]
    NotLinked { module: String, consumer: PathBuf },
    #[error("{path} is read-only: gokeep does not edit a file its owner protected (chmod u+w {path} to allow it)")]
    ReadOnly { path: PathBuf },
    #[error("{path} changed while gokeep was preparing the edit; nothing was written: run the command again")]
    Raced { path: PathBuf },
    #[error("--version {version}: {reason}")]
    BadVersion { version: String, reason: String },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot lock {path}: {source}")]
    Lock { path: PathBuf, source: std::io::Error },
    #[error("gokeep's link record {path} is unreadable ({reason}); move it aside to start afresh")]
    BadRecord { path: PathBuf, reason: String },
    #[error(transparent)]
    StateDir(#[from] crate::state::journal::JournalError),
    #[error("cannot run git in {dir}: {source}")]
    Git { dir: PathBuf, source: std::io::Error },
}
