//! gokeep's records of the links it made: `<state dir>/links/<key>.json`,
//! one file per consumer, keyed by a hash of the consumer's canonical path,
//! beside `<key>.lock`, which every change to that consumer's files and
//! record is made under (so two gokeep runs never interleave their edits).

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Mode, OverrideError};
use crate::timestamp::Timestamp;

/// Bytes as base64 in JSON: go.mod and go.work are restored exactly, and
/// need not be UTF-8 for that.
mod bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option, reason = "the signature serde's `with` calls")]
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let v: Option<String> = Option::deserialize(d)?;
        v.map(|t| base64::engine::general_purpose::STANDARD.decode(t).map_err(serde::de::Error::custom)).transpose()
    }
}

/// One link: what gokeep changed, and how to take it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LinkRecord {
    pub module: String,
    /// The linked checkout, absolute.
    pub target: PathBuf,
    pub mode: Mode,
    /// For a version-specific replace.
    #[serde(default)]
    pub version: Option<String>,
    /// The go.mod or go.work gokeep edited (or created).
    pub file: PathBuf,
    /// The directory as written in the file (`../lib`).
    pub written_path: String,
    /// `use` lines gokeep added besides the target's (the consumer's, in a
    /// go.work that did not use it).
    #[serde(default)]
    pub extra_uses: Vec<String>,
    /// The replace gokeep rewrote, if the module was replaced already:
    /// `(path, version)` of its old right-hand side.
    #[serde(default)]
    pub previous: Option<(String, String)>,
    /// The file's bytes before the link; `None`: gokeep created the file.
    #[serde(with = "bytes")]
    #[schemars(with = "Option<String>")]
    pub before: Option<Vec<u8>>,
    /// The bytes gokeep wrote.
    #[serde(with = "bytes")]
    #[schemars(with = "Option<String>")]
    pub after: Option<Vec<u8>>,
    pub linked_at: Timestamp,
}

/// The record file of one consumer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Records {
    pub schema_version: u32,
    pub consumer: PathBuf,
    /// Oldest first.
    pub links: Vec<LinkRecord>,
}

/// `<state dir>/links`.
pub fn links_dir() -> Result<PathBuf, OverrideError> {
    Ok(crate::state::state_dir().map_err(crate::state::journal::JournalError::from)?.join("links"))
}

/// The key of a consumer: the first 16 bytes of SHA-256 of its canonical path, in hex.
#[must_use]
pub fn key(consumer: &Path) -> String {
    let h = Sha256::digest(consumer.as_os_str().as_encoded_bytes());
    h[..16].iter().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The consumer's lock, held until dropped.
#[derive(Debug)]
pub struct ConsumerLock {
    _held: crate::golock::HeldLock,
}

/// Takes the consumer's lock (gokeep's one lock implementation, `golock`),
/// waiting for another gokeep run to finish.
pub fn lock(dir: &Path, consumer: &Path) -> Result<ConsumerLock, OverrideError> {
    let path = dir.join(format!("{}.lock", key(consumer)));
    fs::create_dir_all(dir).map_err(|e| OverrideError::Lock { path: path.clone(), source: e })?;
    let held = crate::golock::lock_blocking(&path)
        .map_err(|e| OverrideError::Lock { path: path.clone(), source: std::io::Error::other(e) })?;
    Ok(ConsumerLock { _held: held })
}

fn record_path(dir: &Path, consumer: &Path) -> PathBuf {
    dir.join(format!("{}.json", key(consumer)))
}

/// The consumer's records; none yet is an empty set.
pub fn load(dir: &Path, consumer: &Path) -> Result<Records, OverrideError> {
    let path = record_path(dir, consumer);
    match fs::read(&path) {
        Ok(b) => parse(&path, &b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(Records { schema_version: 1, consumer: consumer.to_owned(), links: Vec::new() })
        }
        Err(e) => Err(OverrideError::Read { path, source: e }),
    }
}

fn parse(path: &Path, b: &[u8]) -> Result<Records, OverrideError> {
    serde_json::from_slice(b).map_err(|e| OverrideError::BadRecord { path: path.to_owned(), reason: e.to_string() })
}

/// Writes the consumer's records atomically; none left removes the file.
pub fn store(dir: &Path, records: &Records) -> Result<(), OverrideError> {
    let path = record_path(dir, &records.consumer);
    // Under the consumer's lock: a temp file of the record is one a stopped run left.
    crate::fs::atomic::remove_stale_temps(&path).map_err(|e| OverrideError::Write { path: path.clone(), source: e })?;
    if records.links.is_empty() {
        return match crate::fs::failpoint::after(fs::remove_file(&path)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(OverrideError::Write { path, source: e }),
            _ => Ok(()),
        };
    }
    let mut text = serde_json::to_vec_pretty(records).expect("records serialise");
    text.push(b'\n');
    fs::create_dir_all(dir).map_err(|e| OverrideError::Write { path: path.clone(), source: e })?;
    crate::fs::atomic::replace_file(&path, &text).map_err(|e| OverrideError::Write { path, source: e })
}

/// Every consumer's records, sorted by consumer path.
pub fn load_all(dir: &Path) -> Result<Vec<Records>, OverrideError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(OverrideError::Read { path: dir.to_owned(), source: e }),
    };
    let mut out = Vec::new();
    for e in entries {
        let e = e.map_err(|e| OverrideError::Read { path: dir.to_owned(), source: e })?;
        let path = e.path();
        if path.extension().is_some_and(|x| x == "json") {
            let b = fs::read(&path).map_err(|e| OverrideError::Read { path: path.clone(), source: e })?;
            out.push(parse(&path, &b)?);
        }
    }
    out.sort_by(|a, b| a.consumer.cmp(&b.consumer));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_bytes_exactly() {
        let t = tempfile::tempdir().unwrap();
        let rec = LinkRecord {
            module: "example.com/lib".into(),
            target: "/src/lib".into(),
            mode: Mode::Replace,
            version: None,
            file: "/src/app/go.mod".into(),
            written_path: "../lib".into(),
            extra_uses: Vec::new(),
            previous: None,
            before: Some(b"module m\r\n\xff".to_vec()),
            after: None,
            linked_at: Timestamp(1),
        };
        let rs = Records { schema_version: 1, consumer: "/src/app".into(), links: vec![rec] };
        store(t.path(), &rs).unwrap();
        assert_eq!(load(t.path(), Path::new("/src/app")).unwrap(), rs);
        assert_eq!(load_all(t.path()).unwrap(), vec![rs.clone()]);
        store(t.path(), &Records { links: Vec::new(), ..rs }).unwrap();
        assert!(load_all(t.path()).unwrap().is_empty());
    }
}
