//! Module paths and versions checked by Go's rules before they name a file.
//!
//! Text pasted into `explain` is untrusted: `verifying ../victim@v1.0.0`
//! must not become `$GOMODCACHE/../victim@v1.0.0`. cmd/go only ever writes
//! cache entries for paths that pass `module.CheckPath` and canonical
//! semantic versions (`golang.org/x/mod/module` and `.../semver`), so
//! anything else cannot be in the cache and is never looked up. Ported from
//! x/mod as vendored in Go 1.26.

/// Why a module path is not one cmd/go would cache.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed module path {path:?}: {reason}")]
pub struct BadPath {
    pub path: String,
    pub reason: String,
}

/// Why a version is not one cmd/go would cache.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{version:?} is not a canonical semantic version")]
pub struct BadVersion {
    pub version: String,
}

const BAD_WINDOWS_NAMES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn mod_path_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

fn first_path_ok(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.')
}

fn check_elem(elem: &str) -> Result<(), String> {
    if elem.is_empty() {
        return Err("empty path element".into());
    }
    if elem.chars().all(|c| c == '.') {
        return Err(format!("invalid path element {elem:?}"));
    }
    if elem.starts_with('.') {
        return Err("leading dot in path element".into());
    }
    if elem.ends_with('.') {
        return Err("trailing dot in path element".into());
    }
    if let Some(c) = elem.chars().find(|&c| !mod_path_ok(c)) {
        return Err(format!("invalid char {c:?}"));
    }
    let short = elem.split('.').next().unwrap_or(elem);
    if BAD_WINDOWS_NAMES.iter().any(|b| b.eq_ignore_ascii_case(short)) {
        return Err(format!("{short:?} disallowed as path element component on Windows"));
    }
    if let Some(t) = short.rfind('~')
        && t + 1 < short.len()
        && short[t + 1..].bytes().all(|b| b.is_ascii_digit())
    {
        return Err("trailing tilde and digits in path element".into());
    }
    Ok(())
}

/// `module.SplitPathVersion`'s validity: a `/vN` (or gopkg.in `.vN`) suffix
/// must be a major version of at least 2 without a leading zero.
fn path_version_ok(path: &str) -> bool {
    if let Some(rest) = path.strip_prefix("gopkg.in/") {
        let Some(dot) = rest.rfind(".v") else { return false };
        let major = &rest[dot + 2..];
        let unstable = major.strip_suffix("-unstable").unwrap_or(major);
        return !unstable.is_empty()
            && unstable.bytes().all(|b| b.is_ascii_digit())
            && !(unstable.len() > 1 && unstable.starts_with('0'));
    }
    let digits = path.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits == path.len() {
        return true;
    }
    let head = &path[..path.len() - digits];
    if head.len() < 2 || !head.ends_with('v') {
        return true;
    }
    let sep = head.as_bytes()[head.len() - 2];
    if sep == b'.' {
        return false;
    }
    if sep != b'/' {
        return true;
    }
    let major = &path[path.len() - digits..];
    !(major.starts_with('0') || major == "1")
}

/// `module.CheckPath`: whether cmd/go accepts `path` as a module path.
pub fn check_path(path: &str) -> Result<(), BadPath> {
    let bad = |reason: &str| Err(BadPath { path: path.to_owned(), reason: reason.to_owned() });
    if path.is_empty() {
        return bad("empty string");
    }
    if path.starts_with('-') {
        return bad("leading dash");
    }
    if path.contains("//") {
        return bad("double slash");
    }
    if path.ends_with('/') {
        return bad("trailing slash");
    }
    if path.starts_with('/') {
        return bad("leading slash");
    }
    for elem in path.split('/') {
        if let Err(e) = check_elem(elem) {
            return bad(&e);
        }
    }
    let first = path.split('/').next().unwrap_or(path);
    if !first.contains('.') {
        return bad("missing dot in first path element");
    }
    if let Some(c) = first.chars().find(|&c| !first_path_ok(c)) {
        return bad(&format!("invalid char {c:?} in first path element"));
    }
    if !path_version_ok(path) {
        return bad("invalid version");
    }
    Ok(())
}

fn is_num(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && !(s.len() > 1 && s.starts_with('0'))
}

fn is_ident_list(s: &str, numbers_canonical: bool) -> bool {
    !s.is_empty()
        && s.split('.').all(|id| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && (!numbers_canonical || !id.bytes().all(|b| b.is_ascii_digit()) || is_num(id))
        })
}

/// A version as cmd/go names cache entries: `semver.Canonical(v) == v`,
/// plus the `+incompatible` build suffix that module versions may carry.
pub fn check_version(version: &str) -> Result<(), BadVersion> {
    let bad = || Err(BadVersion { version: version.to_owned() });
    let Some(rest) = version.strip_prefix('v') else { return bad() };
    let rest = rest.strip_suffix("+incompatible").unwrap_or(rest);
    if rest.contains('+') {
        return bad();
    }
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 || !parts.iter().all(|p| is_num(p)) {
        return bad();
    }
    if let Some(p) = pre
        && !is_ident_list(p, true)
    {
        return bad();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_would_leave_the_cache_are_refused() {
        for p in ["../victim", "example.com/../x", "/etc/passwd", "example.com/./x", "example.com//x", "a/b", ""] {
            assert!(check_path(p).is_err(), "{p}");
        }
        assert!(check_path("../victim").unwrap_err().to_string().contains("../victim"));
    }

    #[test]
    fn real_module_paths_pass() {
        for p in [
            "github.com/docker/compose/v2",
            "gopkg.in/h2non/gentleman.v2",
            "gopkg.in/yaml.v3",
            "example.com/Org/Lib",
            "moul.io/u",
            "golang.org/x/mod",
            "dev.gaijin.team/go/golib",
        ] {
            assert_eq!(check_path(p), Ok(()), "{p}");
        }
        for p in ["github.com/x/y/v1", "github.com/x/y/v01", "gopkg.in/yaml", "Example.com/x", "example.com/COM1"] {
            assert!(check_path(p).is_err(), "{p}");
        }
    }

    #[test]
    fn only_canonical_versions_pass() {
        for v in
            ["v1.0.0", "v2.8.0+incompatible", "v0.0.0-20180713101209-23f4a3d5091b", "v1.1.3-ibc-v7.3.0", "v1.0.0-rc.1"]
        {
            assert_eq!(check_version(v), Ok(()), "{v}");
        }
        for v in ["latest", "v1.0", "v1", "1.0.0", "v1.0.0/../../x", "v1.0.0+meta", "v01.0.0", "v1.0.0-", "v1.0.0-01"] {
            assert!(check_version(v).is_err(), "{v}");
        }
    }
}
