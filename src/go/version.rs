//! Go's version rules: semantic versions as `golang.org/x/mod/semver` reads
//! and orders them (with `module.CanonicalVersion`), pseudo-versions, and Go
//! toolchain versions as `cmd/go/internal/gover` orders them.

use std::cmp::Ordering;

/// A parsed semantic version as Go's `semver` package reads it
/// (`v1`, `v1.2` are shorthands for `v1.0.0`, `v1.2.0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Semver<'a> {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub prerelease: &'a str,
    pub build: &'a str,
}

/// Parses `v`-prefixed semantic versions; `None` when Go would call it invalid.
#[must_use]
pub fn parse_semver(v: &str) -> Option<Semver<'_>> {
    let rest = v.strip_prefix('v')?;
    let (core, build) = match rest.find('+') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (nums, prerelease) = match core.find('-') {
        Some(i) => (&core[..i], &core[i + 1..]),
        None => (core, ""),
    };
    let parts: Vec<&str> = nums.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    // Go accepts the v1 / v1.2 shorthands only without pre-release or build.
    if parts.len() < 3 && (!prerelease.is_empty() || !build.is_empty()) {
        return None;
    }
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
            return None;
        }
        s.parse().ok()
    };
    let ident_ok = |s: &str, numeric_leading_zero_ok: bool| {
        !s.is_empty()
            && s.split('.').all(|id| {
                !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && (numeric_leading_zero_ok
                        || !(id.len() > 1 && id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit())))
            })
    };
    if core.contains('-') && !ident_ok(prerelease, false) {
        return None;
    }
    if rest.contains('+') && !ident_ok(build, true) {
        return None;
    }
    Some(Semver {
        major: num(parts[0])?,
        minor: parts.get(1).map_or(Some(0), |s| num(s))?,
        patch: parts.get(2).map_or(Some(0), |s| num(s))?,
        prerelease,
        build,
    })
}

/// Orders versions the way `semver.Compare` does: invalid versions sort
/// before all valid ones (and equal to each other), build metadata (such as
/// `+incompatible`) is ignored, pre-releases (and so pseudo-versions) sort
/// before their release.
#[must_use]
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (parse_semver(a), parse_semver(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => (x.major, x.minor, x.patch)
            .cmp(&(y.major, y.minor, y.patch))
            .then_with(|| compare_prerelease(x.prerelease, y.prerelease)),
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    let mut xs = a.split('.');
    let mut ys = b.split('.');
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let xn = x.bytes().all(|c| c.is_ascii_digit());
                let yn = y.bytes().all(|c| c.is_ascii_digit());
                let ord = match (xn, yn) {
                    (true, true) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

/// The parts of a pseudo-version (`module.parsePseudoVersion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pseudo<'a> {
    /// `vX.0.0`, `vX.Y.(Z+1)-0` or `vX.Y.Z-pre.0`.
    pub base: &'a str,
    /// `yyyymmddhhmmss`, UTC.
    pub timestamp: &'a str,
    pub rev: &'a str,
    /// `+incompatible` or other build metadata, with its `+`.
    pub build: &'a str,
}

/// Splits a pseudo-version (`v0.0.0-20191109021931-daa7c04131f5`,
/// `v1.2.4-0.2019...-abc`, `v1.2.3-pre.0.2019...-abc`) as
/// `module.IsPseudoVersion` and `parsePseudoVersion` read it; `None` for
/// anything else.
#[must_use]
pub fn parse_pseudo(v: &str) -> Option<Pseudo<'_>> {
    if v.matches('-').count() < 2 {
        return None;
    }
    parse_semver(v)?;
    let (body, build) = v.find('+').map_or((v, ""), |i| v.split_at(i));
    let (head, rev) = body.rsplit_once('-')?;
    if rev.is_empty() || !rev.bytes().all(|b| b.is_ascii_alphanumeric()) || head.len() < 14 {
        return None;
    }
    let (prefix, timestamp) = head.split_at(head.len() - 14);
    if !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // `v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)` before the timestamp.
    let digits = |s: &str| -> Option<usize> {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (n > 0).then_some(n)
    };
    let rest = prefix.strip_prefix('v')?;
    let rest = rest[digits(rest)?..].strip_prefix('.')?;
    let base = if let Some(after) = rest.strip_prefix("0.0-")
        && after.is_empty()
    {
        &prefix[..prefix.len() - 1]
    } else {
        let rest = rest[digits(rest)?..].strip_prefix('.')?;
        let pre = rest[digits(rest)?..].strip_prefix('-')?;
        if pre != "0." && !pre.ends_with(".0.") {
            return None;
        }
        &prefix[..prefix.len() - 1]
    };
    Some(Pseudo { base, timestamp, rev, build })
}

/// `module.IsPseudoVersion`.
#[must_use]
pub fn is_pseudo_version(v: &str) -> bool {
    parse_pseudo(v).is_some()
}

/// `semver.Canonical` as `module.CanonicalVersion` extends it: `v1.2` becomes
/// `v1.2.0`, build metadata goes except `+incompatible`; `None` when invalid.
#[must_use]
pub fn canonical(v: &str) -> Option<String> {
    let s = parse_semver(v)?;
    let mut out = format!("v{}.{}.{}", s.major, s.minor, s.patch);
    if !s.prerelease.is_empty() {
        out.push('-');
        out.push_str(s.prerelease);
    }
    if s.build == "incompatible" {
        out.push_str("+incompatible");
    }
    Some(out)
}

/// A version as cmd/go names cache entries (`module.CanonicalVersion(v) == v`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{version:?} is not a canonical semantic version")]
pub struct NotCanonical {
    pub version: String,
}

/// Whether `v` is canonical: the only form a cache entry of cmd/go can have,
/// so text that is not one never names a file.
pub fn check_canonical(v: &str) -> Result<(), NotCanonical> {
    if canonical(v).as_deref() == Some(v) { Ok(()) } else { Err(NotCanonical { version: v.to_owned() }) }
}

/// `semver.Major`: `v2` for `v2.3.4`; `None` when invalid.
#[must_use]
pub fn major(v: &str) -> Option<String> {
    parse_semver(v).map(|s| format!("v{}", s.major))
}

/// `semver.Build` without its `+`: `incompatible` for `v2.0.0+incompatible`.
#[must_use]
pub fn build(v: &str) -> &str {
    parse_semver(v).map_or("", |s| s.build)
}

/// A Go toolchain version split as `cmd/go/internal/gover.Parse` does;
/// `None` where Go's parse returns the zero version.
#[must_use]
pub fn parse_go(x: &str) -> Option<[&str; 5]> {
    fn cut_int(x: &str) -> Option<(&str, &str)> {
        let i = x.bytes().take_while(u8::is_ascii_digit).count();
        if i == 0 || (x.starts_with('0') && i != 1) {
            return None;
        }
        Some(x.split_at(i))
    }
    let (major, x) = cut_int(x)?;
    if x.is_empty() {
        return Some([major, "0", "0", "", ""]);
    }
    let (minor, x) = cut_int(x.strip_prefix('.')?)?;
    if x.is_empty() {
        // Before Go 1.21 a missing patch means .0; from 1.21 on "1.21" is the
        // language version, which sorts before 1.21rc1 and 1.21.0.
        let patch = if cmp_int(minor, "21") == Ordering::Less { "0" } else { "" };
        return Some([major, minor, patch, "", ""]);
    }
    if let Some(p) = x.strip_prefix('.') {
        let (patch, rest) = cut_int(p)?;
        return rest.is_empty().then_some([major, minor, patch, "", ""]);
    }
    let i = x.bytes().take_while(u8::is_ascii_lowercase).count();
    if i == 0 {
        return None;
    }
    let (kind, x) = x.split_at(i);
    if x.is_empty() {
        return Some([major, minor, "", kind, ""]);
    }
    let (pre, rest) = cut_int(x)?;
    rest.is_empty().then_some([major, minor, "", kind, pre])
}

fn cmp_int(x: &str, y: &str) -> Ordering {
    x.len().cmp(&y.len()).then_with(|| x.cmp(y))
}

/// `gover.Compare` for Go versions without the `go` prefix (`1.21rc1`,
/// `1.22.3`): malformed versions sort first.
#[must_use]
pub fn compare_go(x: &str, y: &str) -> Ordering {
    match (parse_go(x), parse_go(y)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => cmp_int(a[0], b[0])
            .then_with(|| cmp_int(a[1], b[1]))
            .then_with(|| cmp_int(a[2], b[2]))
            .then_with(|| a[3].cmp(b[3]))
            .then_with(|| cmp_int(a[4], b[4])),
    }
}

/// The `golang.org/toolchain` module version of a Go release for a
/// platform, as `GOTOOLCHAIN` switching downloads it:
/// `v0.0.1-go1.22.1.linux-amd64` for `("1.22.1", "linux", "amd64")`.
#[must_use]
pub fn toolchain_module_version(go: &str, goos: &str, goarch: &str) -> String {
    format!("v0.0.1-go{go}.{goos}-{goarch}")
}

/// `golang.org/toolchain` version for a Go release on this machine, if the
/// release is exact (`1.22.1`, `1.23rc1`; a language version like `1.22`
/// makes `go` query the network, so it names no cached toolchain).
#[must_use]
pub fn host_toolchain_version(go: &str) -> Option<String> {
    let v = go.strip_prefix("go").unwrap_or(go);
    let exact = v.matches('.').count() == 2 || v.contains("rc") || v.contains("beta");
    if !exact || !v.starts_with("1.") {
        return None;
    }
    let goos = match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    };
    let goarch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        arch => arch,
    };
    Some(toolchain_module_version(v, goos, goarch))
}

/// Reverses [`toolchain_module_version`]: `v0.0.1-go1.26.8.linux-amd64` is
/// (`1.26.8`, `linux-amd64`).
#[must_use]
pub fn split_toolchain_module_version(version: &str) -> Option<(&str, &str)> {
    version.strip_prefix("v0.0.1-go")?.rsplit_once('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_order_matches_go() {
        let mut vs = vec![
            "v1.10.0",
            "v1.2.0",
            "v2.0.0+incompatible",
            "v1.2.0-rc.1",
            "v0.0.0-20191109021931-daa7c04131f5",
            "v1.2.0-rc.10",
            "v1.2.0-rc.2",
            "v1.2.0-beta",
            "bogus",
            "v1.2.1-0.20200101000000-abcdefabcdef",
        ];
        vs.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            vs,
            [
                "bogus",
                "v0.0.0-20191109021931-daa7c04131f5",
                "v1.2.0-beta",
                "v1.2.0-rc.1",
                "v1.2.0-rc.2",
                "v1.2.0-rc.10",
                "v1.2.0",
                "v1.2.1-0.20200101000000-abcdefabcdef",
                "v1.10.0",
                "v2.0.0+incompatible",
            ]
        );
        assert_eq!(compare_versions("v1", "v1.0.0"), Ordering::Equal);
        assert_eq!(parse_semver("v01.0.0"), None);
        assert_eq!(parse_semver("v1.0.0-01"), None);
    }

    #[test]
    fn pseudo_versions_are_recognised() {
        assert!(is_pseudo_version("v0.0.0-20191109021931-daa7c04131f5"));
        assert!(is_pseudo_version("v1.2.4-0.20191109021931-daa7c04131f5"));
        assert!(is_pseudo_version("v1.2.3-pre.0.20191109021931-daa7c04131f5+incompatible"));
        assert!(!is_pseudo_version("v1.2.3"));
        assert!(!is_pseudo_version("v1.2.3-rc.1"));
    }

    #[test]
    fn pseudo_versions_use_x_mod_vectors() {
        // x/mod's pseudoTests: (older, version).
        for (older, v) in [
            ("", "v0.0.0-20060102150405-hash"),
            ("", "v1.0.0-20060102150405-hash"),
            ("", "v2.0.0-20060102150405-hash"),
            ("v0.0.0", "v0.0.1-0.20060102150405-hash"),
            ("v1.2.3", "v1.2.4-0.20060102150405-hash"),
            ("v1.2.99999999999999999", "v1.2.100000000000000000-0.20060102150405-hash"),
            ("v1.2.3-pre", "v1.2.3-pre.0.20060102150405-hash"),
            ("v1.3.0-pre", "v1.3.0-pre.0.20060102150405-hash"),
            ("v0.0.0--", "v0.0.0--.0.20060102150405-hash"),
            ("v1.0.0+metadata", "v1.0.1-0.20060102150405-hash+metadata"),
            ("v2.0.0+incompatible", "v2.0.1-0.20060102150405-hash+incompatible"),
            ("v2.3.0-pre+incompatible", "v2.3.0-pre.0.20060102150405-hash+incompatible"),
        ] {
            let p = parse_pseudo(v).unwrap_or_else(|| panic!("{v}"));
            assert_eq!((p.timestamp, p.rev), ("20060102150405", "hash"), "{v}");
            assert!(!is_pseudo_version(older), "{older}");
        }
        assert!(!is_pseudo_version("---"));
        assert!(!is_pseudo_version("v1.2.3-rc.1"));
    }

    #[test]
    fn canonical_versions_are_completed_and_lose_build_metadata() {
        assert_eq!(canonical("v1.2").as_deref(), Some("v1.2.0"));
        assert_eq!(canonical("v1").as_deref(), Some("v1.0.0"));
        assert_eq!(canonical("v1.2.3-pre+meta").as_deref(), Some("v1.2.3-pre"));
        assert_eq!(canonical("v2.0.0+incompatible").as_deref(), Some("v2.0.0+incompatible"));
        assert_eq!(canonical("1.2.3"), None);
        assert_eq!(major("v2.3.4").as_deref(), Some("v2"));
        assert_eq!(build("v2.0.0+incompatible"), "incompatible");
    }

    #[test]
    fn toolchain_module_versions_split_back() {
        let v = toolchain_module_version("1.23rc1", "darwin", "arm64");
        assert_eq!(v, "v0.0.1-go1.23rc1.darwin-arm64");
        assert_eq!(split_toolchain_module_version(&v), Some(("1.23rc1", "darwin-arm64")));
        assert_eq!(split_toolchain_module_version("v1.0.0"), None);
    }

    #[test]
    fn go_toolchain_versions_order_like_gover() {
        let mut vs = ["1.21.0", "1.21rc1", "1.21", "1.20", "1.9.5", "1.21.10", "1.21.2", "1.21beta1", "bogus"];
        vs.sort_by(|a, b| compare_go(a, b));
        assert_eq!(vs, ["bogus", "1.9.5", "1.20", "1.21", "1.21beta1", "1.21rc1", "1.21.0", "1.21.2", "1.21.10"]);
        assert_eq!(compare_go("1.20", "1.20.0"), Ordering::Equal);
    }

    #[test]
    fn only_canonical_versions_name_cache_entries() {
        for v in
            ["v1.0.0", "v2.8.0+incompatible", "v0.0.0-20180713101209-23f4a3d5091b", "v1.1.3-ibc-v7.3.0", "v1.0.0-rc.1"]
        {
            assert_eq!(check_canonical(v), Ok(()), "{v}");
        }
        for v in ["latest", "v1.0", "v1", "1.0.0", "v1.0.0/../../x", "v1.0.0+meta", "v01.0.0", "v1.0.0-", "v1.0.0-01"] {
            assert!(check_canonical(v).is_err(), "{v}");
        }
    }
}
