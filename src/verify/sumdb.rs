//! The checksum-database client cache as a witness: cmd/go stores each
//! verified `/lookup` response at
//! `GOMODCACHE/cache/download/sumdb/<db name>/lookup/<escaped path>@<escaped version>`
//! (`cmd/go/internal/modfetch/sumdb.go` `ReadCache`/`WriteCache`,
//! `golang.org/x/mod/sumdb/client.go` `Lookup`). The file is a record id line,
//! the go.sum lines for the version, a blank line and a signed tree note.
//! Records are only written after their signature and inclusion proof were
//! checked, so a record here is what the database said.
//!
//! Tiles (`<db>/tile/...`) hold the same records by index only; finding a
//! version there needs the index from a lookup, so they are not read.
//! With `GOSUMDB=off` or for `GONOSUMDB` modules there is no record at all.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::go::modpath::escape;

/// What one database said about one module version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SumdbRecord {
    /// The database name (`sum.golang.org`).
    pub db: String,
    pub path: PathBuf,
    /// The `h1:` of the module zip.
    pub zip: Option<String>,
    /// The `h1:` of its go.mod.
    pub go_mod: Option<String>,
}

/// The databases that have a cache directory under `cache/download/sumdb`.
#[must_use]
pub fn databases(modcache: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let dir = modcache.join("cache/download/sumdb");
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// Parses a cached lookup response for `module@version`. Garbage yields a
/// record with no hashes rather than an error: it is then simply no witness.
#[must_use]
pub fn parse_lookup(data: &[u8], module: &str, version: &str) -> (Option<String>, Option<String>) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    // Line 1 is the record id.
    if lines.next().is_none_or(|id| id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit())) {
        return (None, None);
    }
    let (mut zip, mut go_mod) = (None, None);
    let go_mod_version = format!("{version}/go.mod");
    for line in lines.take_while(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split(' ').collect();
        if let [m, v, h] = f.as_slice() {
            if *m != module || !h.starts_with("h1:") {
                continue;
            }
            if *v == version {
                zip = Some((*h).to_owned());
            } else if *v == go_mod_version {
                go_mod = Some((*h).to_owned());
            }
        }
    }
    (zip, go_mod)
}

/// Where database `db` caches its lookup record for `module@version`.
#[must_use]
pub fn lookup_path(modcache: &Path, db: &str, module: &str, version: &str) -> PathBuf {
    let name = format!("{}@{}", escape(module), escape(version));
    modcache.join("cache/download/sumdb").join(db).join("lookup").join(name)
}

/// Every cached record for `module@version`, one per database that has one.
#[must_use]
pub fn lookup(modcache: &Path, dbs: &[String], module: &str, version: &str) -> Vec<SumdbRecord> {
    let mut out = Vec::new();
    for db in dbs {
        let path = lookup_path(modcache, db, module, version);
        // An empty file is one cmd/go was still writing: it treats it as missing too.
        let Ok(data) = crate::fs::noatime::read(&path) else { continue };
        if data.is_empty() {
            continue;
        }
        let (zip, go_mod) = parse_lookup(&data, module, version);
        if zip.is_some() || go_mod.is_some() {
            out.push(SumdbRecord { db: db.clone(), path, zip, go_mod });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_lookup_record_and_its_go_mod_line() {
        let data = b"1234\nrsc.io/quote v1.5.2 h1:w5fc=\nrsc.io/quote v1.5.2/go.mod h1:LzX7=\n\ngo.sum database tree\n99\nabc=\n\n\xe2\x80\x94 sum.golang.org Az3g=\n";
        let (z, m) = parse_lookup(data, "rsc.io/quote", "v1.5.2");
        assert_eq!(z.as_deref(), Some("h1:w5fc="));
        assert_eq!(m.as_deref(), Some("h1:LzX7="));
        assert_eq!(parse_lookup(data, "rsc.io/other", "v1.5.2"), (None, None));
    }

    #[test]
    fn garbage_is_no_witness() {
        assert_eq!(parse_lookup(b"\x00\x01\xff", "m", "v1.0.0"), (None, None));
        assert_eq!(parse_lookup(b"", "m", "v1.0.0"), (None, None));
    }
}
