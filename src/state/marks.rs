//! The marks `gokeep mark` records: `<state dir>/marks.json`, one record per
//! canonical cache root, read back by `prune --unused-since-mark`. The file
//! is replaced atomically under `marks.lock`, so parallel marks sharing a
//! state directory keep each other's records.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::timestamp::Timestamp;

use super::NoStateDir;

#[derive(Debug, thiserror::Error)]
pub enum MarkError {
    #[error(transparent)]
    State(#[from] NoStateDir),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a marks file gokeep wrote: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
}

/// The result of a mark, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MarkRecord {
    pub root: PathBuf,
    /// The atime every file was set to.
    pub stamp: Timestamp,
    /// When the mark was made.
    pub marked_at: Timestamp,
    pub versions: u64,
    pub files: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct MarksFile {
    marks: BTreeMap<PathBuf, MarkRecord>,
}

fn marks_path() -> Result<PathBuf, MarkError> {
    Ok(super::state_dir()?.join("marks.json"))
}

fn read_marks(path: &Path) -> Result<MarksFile, MarkError> {
    match fs::read_to_string(path) {
        Ok(t) => serde_json::from_str(&t).map_err(|source| MarkError::Parse { path: path.to_owned(), source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(MarksFile::default()),
        Err(source) => Err(MarkError::Read { path: path.to_owned(), source }),
    }
}

/// Records `record` as the current mark of its root (atomically replacing the file).
pub fn save(record: &MarkRecord) -> Result<PathBuf, MarkError> {
    let path = marks_path()?;
    let dir = path.parent().expect("marks file has a parent").to_owned();
    let werr = |e| MarkError::Write { path: path.clone(), source: e };
    fs::create_dir_all(&dir).map_err(werr)?;
    // Two marks at once (parallel CI jobs sharing a state dir) must not
    // drop each other's record between read and replace.
    let lock_path = dir.join("marks.lock");
    let _lock = crate::golock::lock_blocking(&lock_path)
        .map_err(|e| MarkError::Write { path: lock_path.clone(), source: std::io::Error::other(e.to_string()) })?;
    let mut marks = read_marks(&path)?;
    marks.marks.insert(record.root.clone(), record.clone());
    let text = serde_json::to_string_pretty(&marks).expect("marks serialise");
    crate::fs::atomic::replace_file(&path, text.as_bytes()).map_err(werr)?;
    Ok(path)
}

/// The current mark of the (canonical) `root`, if any.
pub fn load(root: &Path) -> Result<Option<MarkRecord>, MarkError> {
    Ok(read_marks(&marks_path()?)?.marks.remove(root))
}
