//! Go's on-disk naming, as pure functions: what any path inside GOMODCACHE or
//! GOCACHE *is*, and the paths cmd/go builds there (escaping and version
//! order come from `go::modpath` and `go::version`).
//!
//! Nothing here touches the disk. The rules come from
//! `cmd/go/internal/modfetch/cache.go` and `fetch.go` (module cache names) and
//! `cmd/go/internal/cache/cache.go` (build cache names).

use std::path::{Component, Path, PathBuf};

use serde::Serialize;

/// The module path of the toolchains that `GOTOOLCHAIN` switching downloads.
pub const TOOLCHAIN_MODULE: &str = "golang.org/toolchain";

/// How stale a used build-cache entry's mtime may be: Go refreshes it only
/// when it is older than this (`mtimeInterval` in `cmd/go/internal/cache`,
/// `markUsed`), and its `Trim` adds it to the age limit.
pub const GOCACHE_MTIME_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

// Kept under these names for the call sites that still use them.
pub use crate::go::modpath::{escape, unescape};
pub use crate::go::version::{Semver, compare_versions, is_pseudo_version, parse_semver};

/// The files cmd/go keeps per module version in `cache/download/<module>/@v/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DownloadFile {
    Zip,
    Ziphash,
    Info,
    Mod,
    Lock,
    Partial,
    /// `<version>.<suffix><random>.tmp`, written then renamed by `tempFile`.
    Temp,
}

impl DownloadFile {
    /// The suffix cmd/go appends to `<escaped version>.`; `None` for temp files.
    #[must_use]
    pub fn suffix(self) -> Option<&'static str> {
        Some(match self {
            Self::Zip => "zip",
            Self::Ziphash => "ziphash",
            Self::Info => "info",
            Self::Mod => "mod",
            Self::Lock => "lock",
            Self::Partial => "partial",
            Self::Temp => return None,
        })
    }
}

/// `cache/download/<escaped module>/@v` under a module cache root.
#[must_use]
pub fn version_dir(modcache: &Path, module: &str) -> PathBuf {
    modcache.join("cache/download").join(escape(module)).join("@v")
}

/// `cache/download/<module>/@v/<version>.<suffix>`.
#[must_use]
pub fn download_path(modcache: &Path, module: &str, version: &str, file: DownloadFile) -> PathBuf {
    let suffix = file.suffix().unwrap_or("tmp");
    version_dir(modcache, module).join(format!("{}.{suffix}", escape(version)))
}

/// The extracted `<module>@<version>` tree.
#[must_use]
pub fn extracted_dir(modcache: &Path, module: &str, version: &str) -> PathBuf {
    modcache.join(format!("{}@{}", escape(module), escape(version)))
}

/// What a path relative to GOMODCACHE is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModPath {
    /// GOMODCACHE itself, `cache/`, `cache/download/`, `cache/vcs/`, or a
    /// directory on the way to a module (`example.com/`, `cache/download/example.com/`).
    Structure,
    /// `cache/download/<module>/@v/` itself.
    VersionDir { module: String },
    /// `cache/download/<module>/@v/list`.
    VersionList { module: String },
    /// `cache/download/<module>/@v/<version>.<suffix>`.
    Download { module: String, version: String, file: DownloadFile },
    /// `<module>@<version>/`, the extracted tree's root.
    ExtractedRoot { module: String, version: String },
    /// Anything below an extracted tree's root.
    ExtractedFile { module: String, version: String },
    /// `<module>@<version>.tmp-<random>` (and below): pre-Go-1.16 extraction leftovers.
    ExtractTemp { module: String, version: String },
    /// `cache/download/sumdb/...`: the checksum-database client cache.
    Sumdb,
    /// `cache/vcs/...`: bare repositories for `GOPROXY=direct`.
    Vcs,
    /// `cache/lock`: the side lock taken while writing go.sum.
    SideLock,
    /// Something cmd/go does not write.
    Unknown,
}

impl ModPath {
    /// The module version this path belongs to, if any.
    #[must_use]
    pub fn module_version(&self) -> Option<(&str, &str)> {
        match self {
            Self::Download { module, version, .. }
            | Self::ExtractedRoot { module, version }
            | Self::ExtractedFile { module, version }
            | Self::ExtractTemp { module, version } => Some((module, version)),
            _ => None,
        }
    }
}

fn components(rel: &Path) -> Option<Vec<&str>> {
    rel.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect()
}

/// Classifies a path relative to GOMODCACHE. `is_dir` tells directories
/// from files where the name alone cannot (`example.com/` vs a stray file).
#[must_use]
pub fn classify_modcache(rel: &Path, is_dir: bool) -> ModPath {
    let Some(c) = components(rel) else { return ModPath::Unknown };
    match c.as_slice() {
        [] => ModPath::Structure,
        ["cache"] | ["cache", "download" | "vcs"] if is_dir => ModPath::Structure,
        ["cache", "lock"] if !is_dir => ModPath::SideLock,
        ["cache", "download", "sumdb", ..] => ModPath::Sumdb,
        ["cache", "vcs", _, ..] => ModPath::Vcs,
        ["cache", "download", rest @ ..] => classify_download(rest, is_dir),
        ["cache", ..] => ModPath::Unknown,
        _ => classify_extracted(&c, is_dir),
    }
}

fn classify_download(rest: &[&str], is_dir: bool) -> ModPath {
    let Some(at_v) = rest.iter().position(|s| *s == "@v") else {
        // Directories on the way to `@v`; a file here is not cmd/go's.
        return if is_dir && rest.iter().all(|s| unescape(s).is_some()) {
            ModPath::Structure
        } else {
            ModPath::Unknown
        };
    };
    let Some(module) = (at_v > 0).then(|| unescape(&rest[..at_v].join("/"))).flatten() else {
        return ModPath::Unknown;
    };
    match &rest[at_v + 1..] {
        [] if is_dir => ModPath::VersionDir { module },
        ["list"] if !is_dir => ModPath::VersionList { module },
        [name] if !is_dir => classify_download_file(module, name),
        _ => ModPath::Unknown,
    }
}

fn classify_download_file(module: String, name: &str) -> ModPath {
    if let Some(stem) = name.strip_suffix(".tmp") {
        // `<version>.<suffix><digits>.tmp`
        let stem = stem.trim_end_matches(|c: char| c.is_ascii_digit());
        for suffix in ["zip", "ziphash", "info", "mod"] {
            if let Some(version) = stem.strip_suffix(suffix).and_then(|s| s.strip_suffix('.')).and_then(unescape) {
                return ModPath::Download { module, version, file: DownloadFile::Temp };
            }
        }
        return ModPath::Unknown;
    }
    let Some((v, suffix)) = name.rsplit_once('.') else { return ModPath::Unknown };
    let file = match suffix {
        "zip" => DownloadFile::Zip,
        "ziphash" => DownloadFile::Ziphash,
        "info" => DownloadFile::Info,
        "mod" => DownloadFile::Mod,
        "lock" => DownloadFile::Lock,
        "partial" => DownloadFile::Partial,
        _ => return ModPath::Unknown,
    };
    match unescape(v) {
        Some(version) if !version.is_empty() => ModPath::Download { module, version, file },
        _ => ModPath::Unknown,
    }
}

fn classify_extracted(c: &[&str], is_dir: bool) -> ModPath {
    let Some(i) = c.iter().position(|s| s.contains('@')) else {
        return if is_dir && c.iter().all(|s| unescape(s).is_some()) { ModPath::Structure } else { ModPath::Unknown };
    };
    let (last, ver) = c[i].split_once('@').expect("contains @");
    let mut prefix: Vec<&str> = c[..i].to_vec();
    prefix.push(last);
    let Some(module) = unescape(&prefix.join("/")).filter(|_| !last.is_empty()) else {
        return ModPath::Unknown;
    };
    // os.MkdirTemp's random part is decimal; anything else after `.tmp-` is a
    // version of its own (`v1.0.0-pre.tmp-x` is valid semver).
    if let Some((v, random)) = ver.split_once(".tmp-")
        && !random.is_empty()
        && random.bytes().all(|b| b.is_ascii_digit())
    {
        return match unescape(v) {
            Some(version) => ModPath::ExtractTemp { module, version },
            None => ModPath::Unknown,
        };
    }
    let Some(version) = unescape(ver).filter(|v| !v.is_empty()) else { return ModPath::Unknown };
    if i + 1 == c.len() {
        if is_dir { ModPath::ExtractedRoot { module, version } } else { ModPath::Unknown }
    } else {
        ModPath::ExtractedFile { module, version }
    }
}

/// What a path relative to GOCACHE is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildPath {
    /// GOCACHE itself or one of its `00`..`ff` shard directories.
    Structure,
    /// `<xx>/<64 hex>-a`: an action (index) entry.
    Action { id: String },
    /// `<xx>/<64 hex>-d`: an output (data) blob named by its SHA-256; or,
    /// since Go 1.24, a directory holding the one executable `go run` or
    /// `go tool` built (`PutExecutable`, `OutputFile` in cache.go).
    Output { id: String },
    /// `README`, `trim.txt`, `testexpire.txt`: cmd/go's own bookkeeping, never removed.
    Bookkeeping,
    /// `log.txt`: the optional access log.
    Log,
    /// `fuzz/...`: the fuzzing corpus cache.
    Fuzz,
    /// Something cmd/go does not write.
    Unknown,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Classifies a path relative to GOCACHE.
#[must_use]
pub fn classify_gocache(rel: &Path, is_dir: bool) -> BuildPath {
    let Some(c) = components(rel) else { return BuildPath::Unknown };
    match c.as_slice() {
        [] => BuildPath::Structure,
        ["fuzz", ..] => BuildPath::Fuzz,
        ["README" | "trim.txt" | "testexpire.txt"] if !is_dir => BuildPath::Bookkeeping,
        ["log.txt"] if !is_dir => BuildPath::Log,
        [shard] if is_dir && is_hex(shard, 2) => BuildPath::Structure,
        [shard, name] if is_hex(shard, 2) => {
            let entry = |suffix: &str| {
                name.strip_suffix(suffix).filter(|id| is_hex(id, 64) && id.starts_with(shard)).map(str::to_owned)
            };
            if let Some(id) = entry("-a").filter(|_| !is_dir) {
                BuildPath::Action { id }
            } else if let Some(id) = entry("-d") {
                BuildPath::Output { id }
            } else {
                BuildPath::Unknown
            }
        }
        _ => BuildPath::Unknown,
    }
}

/// The report categories every byte of a cache is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Module zips and their `.ziphash`.
    Zips,
    /// Extracted module trees.
    Extracted,
    /// `.info`, `.mod`, `list`, `.lock` files and the download tree's directories.
    Metadata,
    /// `cache/download/sumdb`.
    Sumdb,
    /// `cache/vcs`.
    Vcs,
    /// `golang.org/toolchain` downloads and trees.
    Toolchains,
    /// `.partial` markers, temp downloads, `.tmp-` extraction dirs.
    Debris,
    /// GOCACHE action and output entries.
    BuildCache,
    /// GOCACHE `fuzz/`.
    Fuzz,
    /// Directories on the way to modules, bookkeeping files, and anything
    /// cmd/go did not write.
    Other,
}

impl Category {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Zips => "zips",
            Self::Extracted => "extracted",
            Self::Metadata => "metadata",
            Self::Sumdb => "sumdb",
            Self::Vcs => "vcs",
            Self::Toolchains => "toolchains",
            Self::Debris => "debris",
            Self::BuildCache => "build_cache",
            Self::Fuzz => "fuzz",
            Self::Other => "other",
        }
    }
}

impl ModPath {
    /// The report category of this path.
    #[must_use]
    pub fn category(&self) -> Category {
        if self.module_version().is_some_and(|(m, _)| m == TOOLCHAIN_MODULE)
            && !matches!(
                self,
                Self::Download { file: DownloadFile::Partial | DownloadFile::Temp, .. } | Self::ExtractTemp { .. }
            )
        {
            return Category::Toolchains;
        }
        match self {
            Self::Download { file: DownloadFile::Zip | DownloadFile::Ziphash, .. } => Category::Zips,
            Self::Download { file: DownloadFile::Info | DownloadFile::Mod | DownloadFile::Lock, .. }
            | Self::VersionDir { .. }
            | Self::VersionList { .. }
            | Self::SideLock => Category::Metadata,
            Self::Download { file: DownloadFile::Partial | DownloadFile::Temp, .. } | Self::ExtractTemp { .. } => {
                Category::Debris
            }
            Self::ExtractedRoot { .. } | Self::ExtractedFile { .. } => Category::Extracted,
            Self::Sumdb => Category::Sumdb,
            Self::Vcs => Category::Vcs,
            Self::Structure | Self::Unknown => Category::Other,
        }
    }
}

impl BuildPath {
    /// The report category of this path.
    #[must_use]
    pub fn category(&self) -> Category {
        match self {
            Self::Action { .. } | Self::Output { .. } => Category::BuildCache,
            Self::Fuzz => Category::Fuzz,
            Self::Log => Category::Debris,
            Self::Structure | Self::Bookkeeping | Self::Unknown => Category::Other,
        }
    }
}

/// Which of Go's two caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CacheKind {
    ModCache,
    BuildCache,
}

impl std::fmt::Display for CacheKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ModCache => "GOMODCACHE",
            Self::BuildCache => "GOCACHE",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn m(p: &str, dir: bool) -> ModPath {
        classify_modcache(&PathBuf::from(p), dir)
    }
    fn dl(module: &str, version: &str, file: DownloadFile) -> ModPath {
        ModPath::Download { module: module.into(), version: version.into(), file }
    }

    #[test]
    fn download_files_are_classified() {
        let base = "cache/download/example.com/!org/!lib/@v/";
        let module = "example.com/Org/Lib";
        for (suffix, file) in [
            ("zip", DownloadFile::Zip),
            ("ziphash", DownloadFile::Ziphash),
            ("info", DownloadFile::Info),
            ("mod", DownloadFile::Mod),
            ("lock", DownloadFile::Lock),
            ("partial", DownloadFile::Partial),
        ] {
            assert_eq!(m(&format!("{base}v1.0.0-!r!c1.{suffix}"), false), dl(module, "v1.0.0-RC1", file));
        }
        assert_eq!(m(&format!("{base}list"), false), ModPath::VersionList { module: module.into() });
        assert_eq!(m(base, true), ModPath::VersionDir { module: module.into() });
        assert_eq!(m(&format!("{base}v1.0.0.zip123456789.tmp"), false), dl(module, "v1.0.0", DownloadFile::Temp));
        assert_eq!(m(&format!("{base}v1.0.0.info42.tmp"), false), dl(module, "v1.0.0", DownloadFile::Temp));
        assert_eq!(m(&format!("{base}v1.0.0.exe"), false), ModPath::Unknown);
        assert_eq!(m("cache/download/example.com/!org", true), ModPath::Structure);
        assert_eq!(m("cache/download/example.com/stray.txt", false), ModPath::Unknown);
    }

    #[test]
    fn extracted_trees_and_nested_modules_are_told_apart() {
        assert_eq!(
            m("example.com/a@v1.0.0", true),
            ModPath::ExtractedRoot { module: "example.com/a".into(), version: "v1.0.0".into() }
        );
        assert_eq!(
            m("example.com/a/b@v1.0.0", true),
            ModPath::ExtractedRoot { module: "example.com/a/b".into(), version: "v1.0.0".into() }
        );
        assert_eq!(
            m("example.com/a@v1.0.0/b/b.go", false),
            ModPath::ExtractedFile { module: "example.com/a".into(), version: "v1.0.0".into() }
        );
        assert_eq!(
            m("example.com/!org/!lib@v1.2.3/x@y/z.go", false),
            ModPath::ExtractedFile { module: "example.com/Org/Lib".into(), version: "v1.2.3".into() }
        );
        assert_eq!(
            m("example.com/a@v1.0.0.tmp-12345", true),
            ModPath::ExtractTemp { module: "example.com/a".into(), version: "v1.0.0".into() }
        );
        assert_eq!(
            m("example.com/a@v1.0.0-pre.tmp-x", true),
            ModPath::ExtractedRoot { module: "example.com/a".into(), version: "v1.0.0-pre.tmp-x".into() },
            "os.MkdirTemp's suffix is decimal: anything else is a version"
        );
        assert_eq!(m("example.com", true), ModPath::Structure);
        assert_eq!(m("example.com/README", false), ModPath::Unknown);
        assert_eq!(m("example.com/Bad@v1.0.0", true), ModPath::Unknown);
    }

    #[test]
    fn cache_side_paths_are_classified() {
        assert_eq!(m("", true), ModPath::Structure);
        assert_eq!(m("cache", true), ModPath::Structure);
        assert_eq!(m("cache/lock", false), ModPath::SideLock);
        assert_eq!(m("cache/download/sumdb/sum.golang.org/lookup/x@v1", false), ModPath::Sumdb);
        assert_eq!(m("cache/vcs/0123abcd", true), ModPath::Vcs);
        assert_eq!(m("cache/vcs/0123abcd.lock", false), ModPath::Vcs);
        assert_eq!(m("cache/other", false), ModPath::Unknown);
    }

    #[test]
    fn toolchains_have_their_own_category() {
        let tree = m("golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64/bin/go", false);
        assert_eq!(tree.category(), Category::Toolchains);
        let zip = m("cache/download/golang.org/toolchain/@v/v0.0.1-go1.26.8.linux-amd64.zip", false);
        assert_eq!(zip.category(), Category::Toolchains);
        let partial = m("cache/download/golang.org/toolchain/@v/v0.0.1-go1.26.8.linux-amd64.partial", false);
        assert_eq!(partial.category(), Category::Debris);
    }

    #[test]
    fn categories_of_module_paths() {
        assert_eq!(m("cache/download/x.org/m/@v/v1.0.0.zip", false).category(), Category::Zips);
        assert_eq!(m("cache/download/x.org/m/@v/v1.0.0.mod", false).category(), Category::Metadata);
        assert_eq!(m("cache/download/x.org/m/@v/v1.0.0.partial", false).category(), Category::Debris);
        assert_eq!(m("x.org/m@v1.0.0/m.go", false).category(), Category::Extracted);
    }

    #[test]
    fn build_cache_paths_are_classified() {
        let id = format!("ab{}", "0".repeat(62));
        let g = |p: &str, d| classify_gocache(&PathBuf::from(p), d);
        assert_eq!(g(&format!("ab/{id}-a"), false), BuildPath::Action { id: id.clone() });
        assert_eq!(g(&format!("ab/{id}-d"), false), BuildPath::Output { id: id.clone() });
        assert_eq!(g(&format!("ab/{id}-d"), true), BuildPath::Output { id: id.clone() }, "an executable entry");
        assert_eq!(g(&format!("ab/{id}-a"), true), BuildPath::Unknown, "go writes no action directory");
        assert_eq!(g(&format!("cd/{id}-d"), false), BuildPath::Unknown, "shard must match the id");
        assert_eq!(g("ab", true), BuildPath::Structure);
        assert_eq!(g("README", false), BuildPath::Bookkeeping);
        assert_eq!(g("trim.txt", false), BuildPath::Bookkeeping);
        assert_eq!(g("testexpire.txt", false), BuildPath::Bookkeeping);
        assert_eq!(g("log.txt", false), BuildPath::Log);
        assert_eq!(g("fuzz/example.com/m/FuzzX/abc", false), BuildPath::Fuzz);
        assert_eq!(g("zz", true), BuildPath::Unknown);
        assert_eq!(g(&format!("ab/{id}-a").to_uppercase(), false), BuildPath::Unknown);
    }
}
