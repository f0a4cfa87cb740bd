//! `--online` witnesses: the module proxy's copy of a version and the
//! checksum database's `/lookup` answer, fetched fresh.
//!
//! `file://` proxies are read directly. `http(s)://` URLs are fetched with
//! `curl` (present on practically every machine that runs go), which keeps
//! a TLS stack out of gokeep's build; without curl the witness says so.
//! The sumdb answer's signature is not checked here: it is one witness
//! among several, labelled as fetched, never a reason to accept a hash.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::dirhash;
use super::sumdb::parse_lookup;
use crate::layout::escape;

/// The proxy URLs of a GOPROXY list, in order, without `direct`/`off`
/// (which end the list, as in `modfetch/proxy.go`).
#[must_use]
pub fn proxy_urls(goproxy: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in goproxy.split([',', '|']).map(str::trim).filter(|e| !e.is_empty()) {
        if entry == "direct" || entry == "off" {
            break;
        }
        let url = if entry.contains("://") { entry.to_owned() } else { format!("https://{entry}") };
        out.push(url.trim_end_matches('/').to_owned());
    }
    out
}

fn get(url: &str, dest: &Path) -> Result<(), String> {
    if let Some(path) = url.strip_prefix("file://") {
        std::fs::copy(path, dest).map(|_| ()).map_err(|e| format!("{path}: {e}"))
    } else {
        let out = Command::new("curl")
            .args(["-fsSL", "--max-time", "60", "-o"])
            .arg(dest)
            .arg(url)
            .output()
            .map_err(|e| format!("cannot run curl: {e}"))?;
        if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).trim().to_owned()) }
    }
}

/// Fetches the version's zip (or `.mod`) from the first proxy that has it
/// and hashes it. Returns the URL tried last and the hash or the error.
#[must_use]
pub fn proxy_hash(
    goproxy: &str,
    module: &str,
    version: &str,
    go_mod: bool,
) -> Option<(String, Result<String, String>)> {
    let tmp = tempfile::tempdir().ok()?;
    let dest: PathBuf = tmp.path().join("download");
    let mut last = None;
    for base in proxy_urls(goproxy) {
        let url = format!("{base}/{}/@v/{}.{}", escape(module), escape(version), if go_mod { "mod" } else { "zip" });
        let r = get(&url, &dest).and_then(|()| {
            if go_mod {
                std::fs::read(&dest).map(|d| dirhash::hash_go_mod(&d)).map_err(|e| e.to_string())
            } else {
                dirhash::hash_zip(&dest)
                    .map_err(|e| e.to_string())
                    .and_then(|z| z.tree.h1.ok_or_else(|| "zip holds entries that cannot be hashed".to_owned()))
            }
        });
        let ok = r.is_ok();
        last = Some((url, r));
        if ok {
            break;
        }
    }
    last
}

/// Asks the checksum database (`https://<db>/lookup/...`) for the version.
pub fn sumdb_hash(db: &str, module: &str, version: &str, go_mod: bool) -> (String, Result<String, String>) {
    let url = format!("https://{db}/lookup/{}@{}", escape(module), escape(version));
    let r = (|| {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dest = tmp.path().join("lookup");
        get(&url, &dest)?;
        let data = std::fs::read(&dest).map_err(|e| e.to_string())?;
        let (zip, gm) = parse_lookup(&data, module, version);
        (if go_mod { gm } else { zip }).ok_or_else(|| "no record in the answer".to_owned())
    })();
    (url, r)
}

/// `module.MatchPrefixPatterns`: whether `path` (or a prefix of it, by
/// whole elements) matches one of the comma-separated globs, as GOPRIVATE,
/// GONOPROXY and GONOSUMDB are read. `*` and `?` do not cross `/`.
#[must_use]
pub fn match_prefix_patterns(globs: &str, path: &str) -> bool {
    let elems: Vec<&str> = path.split('/').collect();
    globs.split(',').map(|g| g.trim().trim_end_matches('/')).filter(|g| !g.is_empty()).any(|g| {
        let n = g.matches('/').count() + 1;
        n <= elems.len() && glob(g.as_bytes(), elems[..n].join("/").as_bytes())
    })
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&p[1..], s) || (s.first().is_some_and(|c| *c != b'/') && glob(p, &s[1..])),
        (Some(b'?'), Some(c)) if *c != b'/' => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_patterns_match_like_go() {
        assert!(match_prefix_patterns("*.corp.example.com", "git.corp.example.com/x/y"));
        assert!(match_prefix_patterns("rsc.io/private", "rsc.io/private/quux"));
        assert!(!match_prefix_patterns("rsc.io/private", "rsc.io/privateX"));
        assert!(!match_prefix_patterns("rsc.io/private/x", "rsc.io/private"));
        assert!(match_prefix_patterns("*", "example.com/a"));
        assert!(!match_prefix_patterns("", "example.com/a"));
    }

    #[test]
    fn proxy_list_stops_at_direct_and_adds_https() {
        assert_eq!(
            proxy_urls("proxy.example.com/, file:///tmp/p|direct,https://never"),
            ["https://proxy.example.com", "file:///tmp/p"]
        );
        assert!(proxy_urls("off").is_empty());
    }
}
