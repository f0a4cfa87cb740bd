//! What `gokeep verify` last found clean, one record per canonical module
//! cache root: `<state dir>/verified.json`. [`crate::verify::incremental`]
//! decides what a record means; this module only keeps the file.
//!
//! The file is replaced atomically under `verified.lock`, so two verifies of
//! different caches sharing a state directory keep each other's records,
//! and a crash leaves the old file or the new one. It is bounded: at most
//! [`MAX_ROOTS`] caches and [`MAX_VERSIONS`] versions in all, the caches
//! verified longest ago dropped first. A file that cannot be read as one
//! gokeep wrote (torn by hand, a format from another gokeep, too large) is
//! no error: the caller is told why it was ignored and verifies everything.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::timestamp::Timestamp;

use super::NoStateDir;

/// The layout of `verified.json`; a file with another is ignored.
pub const FORMAT: u32 = 1;
/// Caches remembered at once.
pub const MAX_ROOTS: usize = 16;
/// Module versions remembered in all (about 200 bytes each in the file).
pub const MAX_VERSIONS: usize = 300_000;
/// A larger file is not read (gokeep never writes one).
const MAX_FILE_BYTES: u64 = 128 << 20;

const FILE_NAME: &str = "verified.json";
const LOCK_NAME: &str = "verified.lock";

#[derive(Debug, thiserror::Error)]
pub enum VerifiedError {
    #[error(transparent)]
    State(#[from] NoStateDir),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// One module version as it verified clean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionMemory {
    /// Digest of what the verdict was drawn from, as `stat` saw it.
    pub stat: String,
    /// The valid `.ziphash`; `None` when there was none (and nothing to hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ziphash: Option<String>,
    /// The zip was hashed (and matched `.ziphash`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub zip: bool,
    /// The extracted tree was hashed (and matched `.ziphash`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tree: bool,
    /// The `h1:` of the `.mod` file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_mod: Option<String>,
}

/// One cache's clean versions, keyed `<module>@<version>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootRecord {
    /// The verify rules the record was produced under.
    pub rules: u32,
    /// The gokeep version that produced it.
    pub gokeep: String,
    pub verified_at: Timestamp,
    pub versions: BTreeMap<String, VersionMemory>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    format: u32,
    roots: BTreeMap<PathBuf, RootRecord>,
}

/// Only the format, read first: a newer layout must be named as such, not
/// reported as a parse error.
#[derive(Deserialize)]
struct Header {
    format: u32,
}

/// What [`load`] found for a root.
#[derive(Debug)]
pub enum Loaded {
    /// No state file, or no record for this root.
    Nothing,
    Record(RootRecord),
    /// The file could not be used; why, in one sentence naming it.
    Ignored(String),
}

/// `<state dir>/verified.json`.
pub fn path() -> Result<PathBuf, NoStateDir> {
    Ok(super::state_dir()?.join(FILE_NAME))
}

/// The record of `root` (canonical) in the file at `path`.
#[must_use]
pub fn load_from(path: &Path, root: &Path) -> Loaded {
    match read(path) {
        Ok(mut file) => file.roots.remove(root).map_or(Loaded::Nothing, Loaded::Record),
        Err(Unusable::Missing) => Loaded::Nothing,
        Err(Unusable::Why(why)) => Loaded::Ignored(why),
    }
}

/// [`load_from`] the user's state directory.
#[must_use]
pub fn load(root: &Path) -> Loaded {
    match path() {
        Ok(p) => load_from(&p, root),
        Err(e) => Loaded::Ignored(e.to_string()),
    }
}

enum Unusable {
    Missing,
    Why(String),
}

fn read(path: &Path) -> Result<StateFile, Unusable> {
    let why = |what: String| Unusable::Why(format!("{}: {what}", path.display()));
    let f = match crate::fs::noatime::open_no_follow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Unusable::Missing),
        Err(e) => return Err(why(format!("cannot read it: {e}"))),
    };
    let mut text = String::new();
    f.take(MAX_FILE_BYTES + 1).read_to_string(&mut text).map_err(|e| why(format!("cannot read it: {e}")))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(why(format!("larger than {} MiB, which gokeep never writes", MAX_FILE_BYTES >> 20)));
    }
    let header: Header = serde_json::from_str(&text).map_err(|e| why(format!("not a file gokeep wrote ({e})")))?;
    if header.format != FORMAT {
        return Err(why(format!("written in format {}, this gokeep reads format {FORMAT}", header.format)));
    }
    serde_json::from_str(&text).map_err(|e| why(format!("not a file gokeep wrote ({e})")))
}

/// Records `record` as what is known of `root` (canonical) in the file at
/// `path`, keeping the other roots' records within the bounds.
pub fn save_to(path: &Path, root: &Path, record: RootRecord) -> Result<(), VerifiedError> {
    let werr = |e| VerifiedError::Write { path: path.to_owned(), source: e };
    let dir = path.parent().expect("the state file has a parent");
    fs::create_dir_all(dir).map_err(werr)?;
    // Two verifies of different caches at once must not drop each other's
    // record between read and replace.
    let lock_path = dir.join(LOCK_NAME);
    let _lock = crate::golock::lock_blocking(&lock_path)
        .map_err(|e| VerifiedError::Write { path: lock_path.clone(), source: std::io::Error::other(e.to_string()) })?;
    // An unusable file is replaced: the caller was told when it loaded.
    let mut others = read(path).map(|f| f.roots).unwrap_or_default();
    others.remove(root);
    let out = StateFile { format: FORMAT, roots: bounded(root, record, others) };
    let text = serde_json::to_string(&out).expect("the verify state serialises");
    crate::fs::atomic::replace_file(path, text.as_bytes()).map_err(werr)
}

/// [`save_to`] the user's state directory; returns the file's path.
pub fn save(root: &Path, record: RootRecord) -> Result<PathBuf, VerifiedError> {
    let p = path()?;
    save_to(&p, root, record)?;
    Ok(p)
}

/// `record` (cut to [`MAX_VERSIONS`]) and the most recently verified of
/// `others` that fit within [`MAX_ROOTS`] and [`MAX_VERSIONS`].
fn bounded(
    root: &Path,
    mut record: RootRecord,
    others: BTreeMap<PathBuf, RootRecord>,
) -> BTreeMap<PathBuf, RootRecord> {
    if record.versions.len() > MAX_VERSIONS {
        // Those left out are hashed again next time: nothing is lost but time.
        record.versions = std::mem::take(&mut record.versions).into_iter().take(MAX_VERSIONS).collect();
    }
    let mut total = record.versions.len();
    let mut out = BTreeMap::new();
    out.insert(root.to_owned(), record);
    let mut others: Vec<(PathBuf, RootRecord)> = others.into_iter().collect();
    others.sort_by_key(|o| std::cmp::Reverse(o.1.verified_at));
    for (r, rec) in others {
        if out.len() >= MAX_ROOTS || total + rec.versions.len() > MAX_VERSIONS {
            continue;
        }
        total += rec.versions.len();
        out.insert(r, rec);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at: i64, n: usize) -> RootRecord {
        let versions = (0..n)
            .map(|i| {
                let m = VersionMemory { stat: format!("s{i}"), ziphash: None, zip: false, tree: false, go_mod: None };
                (format!("example.com/m{i}@v1.0.0"), m)
            })
            .collect();
        RootRecord { rules: 1, gokeep: "0".into(), verified_at: Timestamp(at), versions }
    }

    #[test]
    fn two_roots_keep_two_records() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("state/verified.json");
        save_to(&p, Path::new("/a"), record(1, 2)).unwrap();
        save_to(&p, Path::new("/b"), record(2, 3)).unwrap();
        assert!(matches!(load_from(&p, Path::new("/a")), Loaded::Record(r) if r == record(1, 2)));
        assert!(matches!(load_from(&p, Path::new("/b")), Loaded::Record(r) if r == record(2, 3)));
        assert!(matches!(load_from(&p, Path::new("/c")), Loaded::Nothing));
        let names: Vec<_> = fs::read_dir(p.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "the file and its lock, no temp file left: {names:?}");
    }

    #[test]
    fn a_corrupt_or_foreign_file_is_ignored_with_the_reason_then_replaced() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("verified.json");
        fs::write(&p, b"{\"format\":1,\"roots\":{\"/a\":{\"rul").unwrap();
        assert!(matches!(load_from(&p, Path::new("/a")), Loaded::Ignored(w) if w.contains("not a file gokeep wrote")));
        fs::write(&p, b"{\"format\":99,\"roots\":{}}").unwrap();
        assert!(matches!(load_from(&p, Path::new("/a")), Loaded::Ignored(w) if w.contains("format 99")));
        save_to(&p, Path::new("/a"), record(1, 1)).unwrap();
        assert!(matches!(load_from(&p, Path::new("/a")), Loaded::Record(r) if r == record(1, 1)));
    }

    #[test]
    fn the_oldest_roots_go_first_when_the_bounds_are_reached() {
        let mut others = BTreeMap::new();
        for i in 0..MAX_ROOTS + 3 {
            others.insert(PathBuf::from(format!("/r{i}")), record(i as i64, 1));
        }
        let kept = bounded(Path::new("/new"), record(100, 1), others);
        assert_eq!(kept.len(), MAX_ROOTS);
        assert!(kept.contains_key(Path::new("/new")));
        assert!(!kept.contains_key(Path::new("/r0")) && kept.contains_key(Path::new(&format!("/r{}", MAX_ROOTS + 2))));

        let mut others = BTreeMap::new();
        others.insert(PathBuf::from("/big"), record(5, MAX_VERSIONS - 10));
        others.insert(PathBuf::from("/small"), record(1, 5));
        let kept = bounded(Path::new("/new"), record(100, 20), others);
        let total: usize = kept.values().map(|r| r.versions.len()).sum();
        assert!(total <= MAX_VERSIONS);
        assert!(kept.contains_key(Path::new("/small")) && !kept.contains_key(Path::new("/big")));
        let alone = bounded(Path::new("/new"), record(100, MAX_VERSIONS + 1), BTreeMap::new());
        assert_eq!(alone[Path::new("/new")].versions.len(), MAX_VERSIONS);
    }
}
