//! The run journal: one JSON line per prune or mark run (a run that found
//! nothing to remove is recorded too: a timer's silence is then visible),
//! appended to `<state dir>/journal.jsonl`, read back by `gokeep log`.
//!
//! Each line is written with a single `write` on a file opened `O_APPEND`,
//! under an exclusive `flock` of the journal, so lines from concurrent runs
//! never interleave. A write that fails part way (a full disk, a file size
//! limit) is rolled back: the journal is cut back to its length before the
//! line, which the lock makes safe. A line that still does not parse (a crash
//! mid-write, a newer schema) is reported and skipped, never fatal.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::timestamp::Timestamp;

use super::{NoStateDir, state_dir};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(transparent)]
    NoStateDir(#[from] NoStateDir),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
}

/// `<state dir>/journal.jsonl`.
pub fn journal_path() -> Result<PathBuf, JournalError> {
    Ok(state_dir()?.join("journal.jsonl"))
}

/// One run. Field names are the `--json` schema of `gokeep log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JournalEntry {
    /// When the run started (RFC 3339).
    pub time: Timestamp,
    /// The command line, e.g. `prune --max-age 30d --yes`.
    pub command: String,
    #[serde(default)]
    pub modcache: Option<PathBuf>,
    #[serde(default)]
    pub gocache: Option<PathBuf>,
    /// Planned items.
    pub items: u64,
    pub files: u64,
    pub dirs: u64,
    pub apparent_bytes: u64,
    /// Bytes freed on disk.
    pub disk_bytes: u64,
    pub duration_ms: u64,
    pub failures: u64,
    #[serde(default)]
    pub skipped: u64,
}

/// Appends `entry` to the journal at `path`, creating it (and its directory).
pub fn append_to(path: &Path, entry: &JournalEntry) -> Result<(), JournalError> {
    let err = |e| JournalError::Write { path: path.to_owned(), source: e };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(err)?;
    }
    let mut line = serde_json::to_string(entry).expect("journal entries serialise");
    line.push('\n');
    let mut f = OpenOptions::new().create(true).read(true).append(true).open(path).map_err(err)?;
    // Held until `f` is closed: the length read below stays the end of the
    // journal, so a rollback cuts only this run's bytes.
    f.lock().map_err(err)?;
    // After a torn last line (a crash mid-write), start a new line, or this
    // entry would be glued to it and lost with it.
    let len = f.metadata().map_err(err)?.len();
    let mut last = [b'\n'];
    if len > 0 {
        std::os::unix::fs::FileExt::read_exact_at(&f, &mut last, len - 1).map_err(err)?;
    }
    if last[0] != b'\n' {
        line.insert(0, '\n');
    }
    if let Err(e) = crate::fs::failpoint::after(f.write_all(line.as_bytes())) {
        // Part of the line may be on disk: take it back, so no later run
        // finds a torn line. Shrinking needs no free space.
        return Err(match f.set_len(len) {
            Ok(()) => err(e),
            Err(undo) => err(std::io::Error::new(e.kind(), format!("{e}; undoing the partial write failed: {undo}"))),
        });
    }
    Ok(())
}

/// Appends `entry` to the user's journal; returns its path.
pub fn append(entry: &JournalEntry) -> Result<PathBuf, JournalError> {
    let path = journal_path()?;
    append_to(&path, entry)?;
    Ok(path)
}

/// A journal line that could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct BadLine {
    pub line: usize,
    pub message: String,
}

/// Every entry of the journal at `path`, oldest first; a missing journal is empty.
pub fn read_from(path: &Path) -> Result<(Vec<JournalEntry>, Vec<BadLine>), JournalError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(JournalError::Read { path: path.to_owned(), source: e }),
    };
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str(line) {
            Ok(e) => entries.push(e),
            Err(e) => bad.push(BadLine { line: i + 1, message: e.to_string() }),
        }
    }
    Ok((entries, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u64) -> JournalEntry {
        JournalEntry {
            time: Timestamp(1_700_000_000 + n as i64),
            command: format!("prune --max-age {n}d"),
            modcache: Some(PathBuf::from("/m")),
            gocache: None,
            items: n,
            files: 10 * n,
            dirs: n,
            apparent_bytes: 1000 * n,
            disk_bytes: 4096 * n,
            duration_ms: 5,
            failures: 0,
            skipped: 0,
        }
    }

    #[test]
    fn entries_round_trip_and_torn_lines_are_skipped() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("sub/journal.jsonl");
        append_to(&p, &entry(1)).unwrap();
        append_to(&p, &entry(2)).unwrap();
        OpenOptions::new().append(true).open(&p).unwrap().write_all(b"{\"time\":\"2023-").unwrap();
        let (entries, bad) = read_from(&p).unwrap();
        assert_eq!(entries, vec![entry(1), entry(2)]);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 3);
        let line = fs::read_to_string(&p).unwrap().lines().next().unwrap().to_owned();
        assert!(line.starts_with("{\"time\":\"2023-11-14T22:13:21Z\",\"command\":\"prune --max-age 1d\""), "{line}");
        // The next run's entry is not lost with the torn line.
        append_to(&p, &entry(3)).unwrap();
        let (entries, bad) = read_from(&p).unwrap();
        assert_eq!(entries, vec![entry(1), entry(2), entry(3)]);
        assert_eq!(bad.len(), 1);
    }

    #[test]
    fn a_missing_journal_is_empty() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(read_from(&t.path().join("none")).unwrap(), (Vec::new(), Vec::new()));
    }
}
