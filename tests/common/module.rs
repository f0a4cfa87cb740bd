//! Synthetic Go modules and the `file://` GOPROXY layout they are published
//! in, so that the real `go` command can download them with no network.
//!
//! The proxy protocol (`cmd/go/internal/modfetch/proxy.go`) reads, for a module
//! path escaped with `module.EscapePath`:
//! `<path>/@v/list`, `<path>/@v/<version>.info` (JSON `Version` + `Time`),
//! `<path>/@v/<version>.mod` and `<path>/@v/<version>.zip`, whose entries all
//! start with `<path>@<version>/` (unescaped). The zip follows
//! `golang.org/x/mod/zip.Create`: files inside a subdirectory that holds its
//! own go.mod (a nested module) and vendored packages are left out, go.mod
//! only at the root.

use std::fmt::Write as _;
use std::fs;
use std::io::{Cursor, Write as _};
use std::path::{Path, PathBuf};

use gokeep::go::{modpath, version};

/// Time used in `.info` files unless a pseudo-version names its own.
const DEFAULT_TIME: &str = "2024-03-01T12:00:00Z";

/// How a module version's go.mod comes about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoMod {
    /// `module <path>\n\ngo 1.21\n` plus the `require` lines.
    Generated,
    /// Exactly this text (in the zip and as the `.mod` file).
    Custom(String),
    /// No go.mod in the zip, as for `+incompatible` versions; the proxy then
    /// serves `module <path>\n` as the `.mod`, like proxy.golang.org does.
    Absent,
}

/// One version of a synthetic module.
#[derive(Debug, Clone)]
pub struct Module {
    /// Unescaped module path (`example.com/Org/Lib`).
    pub path: String,
    /// Canonical semantic version (`v1.0.0`, `v2.0.0+incompatible`, ...).
    pub version: String,
    /// Files relative to the module root, without go.mod (see [`GoMod`]).
    pub files: Vec<(String, Vec<u8>)>,
    /// `require` lines of the generated go.mod.
    pub requires: Vec<(String, String)>,
    pub go_mod: GoMod,
    /// RFC 3339 time for the `.info` file.
    pub time: String,
}

#[allow(dead_code)]
impl Module {
    /// A module version with no files yet; a pseudo-version's `.info` time
    /// is taken from the version, as Go requires.
    pub fn new(path: &str, version: &str) -> Self {
        let time = pseudo_version_time(version).unwrap_or_else(|| DEFAULT_TIME.to_owned());
        Self {
            path: path.to_owned(),
            version: version.to_owned(),
            files: Vec::new(),
            requires: Vec::new(),
            go_mod: GoMod::Generated,
            time,
        }
    }

    /// A module version whose root package `package` exports
    /// `func Name() string` returning `name`: what a [`Fixture`]'s consumer
    /// imports and calls.
    ///
    /// [`Fixture`]: super::fixture::Fixture
    pub fn named(path: &str, version: &str, package: &str, name: &str) -> Self {
        Self::new(path, version).file(&format!("{package}.go"), go_file(package, name))
    }

    /// Adds a file (path relative to the module root, `/`-separated).
    #[must_use]
    pub fn file(mut self, name: &str, content: impl Into<Vec<u8>>) -> Self {
        assert!(name != "go.mod", "set go.mod with Module::go_mod, not as a file");
        self.files.push((name.to_owned(), content.into()));
        self
    }

    /// Adds a `require` line to the generated go.mod.
    #[must_use]
    pub fn require(mut self, path: &str, version: &str) -> Self {
        self.requires.push((path.to_owned(), version.to_owned()));
        self
    }

    /// Replaces the generated go.mod with this text.
    #[must_use]
    pub fn go_mod(mut self, text: &str) -> Self {
        self.go_mod = GoMod::Custom(text.to_owned());
        self
    }

    /// Publishes without a go.mod (for `+incompatible` versions).
    #[must_use]
    pub fn without_go_mod(mut self) -> Self {
        self.go_mod = GoMod::Absent;
        self
    }

    /// Sets the `.info` time (RFC 3339).
    #[must_use]
    pub fn time(mut self, rfc3339: &str) -> Self {
        rfc3339.clone_into(&mut self.time);
        self
    }

    /// `path@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.path, self.version)
    }

    pub fn escaped_path(&self) -> String {
        modpath::escape(&self.path)
    }

    pub fn escaped_version(&self) -> String {
        modpath::escape(&self.version)
    }

    /// The extracted tree's path relative to GOMODCACHE: `<escaped path>@<escaped version>`.
    pub fn extracted_rel(&self) -> PathBuf {
        PathBuf::from(format!("{}@{}", self.escaped_path(), self.escaped_version()))
    }

    /// `cache/download/<escaped path>/@v` relative to GOMODCACHE.
    pub fn download_rel(&self) -> PathBuf {
        Path::new("cache/download").join(self.escaped_path()).join("@v")
    }

    /// `cache/download/<escaped path>/@v/<escaped version>.<suffix>` relative to GOMODCACHE.
    pub fn download_file_rel(&self, suffix: &str) -> PathBuf {
        self.download_rel().join(format!("{}.{suffix}", self.escaped_version()))
    }

    /// The go.mod placed at the zip root, if any.
    pub fn go_mod_text(&self) -> Option<String> {
        match &self.go_mod {
            GoMod::Generated => {
                let mut s = format!("module {}\n\ngo 1.21\n", self.path);
                if !self.requires.is_empty() {
                    s.push_str("\nrequire (\n");
                    for (p, v) in &self.requires {
                        let _ = writeln!(s, "\t{p} {v}");
                    }
                    s.push_str(")\n");
                }
                Some(s)
            }
            GoMod::Custom(text) => Some(text.clone()),
            GoMod::Absent => None,
        }
    }

    /// The `.mod` file the proxy serves.
    pub fn mod_file(&self) -> String {
        self.go_mod_text().unwrap_or_else(|| format!("module {}\n", self.path))
    }

    /// The `.info` file the proxy serves.
    pub fn info_json(&self) -> String {
        serde_json::json!({ "Version": self.version, "Time": self.time }).to_string()
    }

    /// The files that go in the zip, after `x/mod/zip.Create`'s omissions,
    /// sorted by name.
    pub fn zip_files(&self) -> Vec<(String, Vec<u8>)> {
        let mut all: Vec<(String, Vec<u8>)> = self.files.clone();
        if let Some(go_mod) = self.go_mod_text() {
            all.push(("go.mod".to_owned(), go_mod.into_bytes()));
        }
        for (name, _) in &all {
            check_file_path(name);
        }
        // Directories (other than the root) that hold a nested module's go.mod.
        let nested: Vec<String> =
            all.iter().filter_map(|(n, _)| n.strip_suffix("/go.mod").map(|d| format!("{d}/"))).collect();
        let mut kept: Vec<(String, Vec<u8>)> = all
            .into_iter()
            .filter(|(n, _)| !nested.iter().any(|d| n.starts_with(d.as_str())))
            .filter(|(n, _)| !is_vendored(n))
            .collect();
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        kept
    }

    /// The module zip: every entry prefixed `<path>@<version>/`, deflated,
    /// with a fixed timestamp so the bytes are reproducible.
    pub fn zip_bytes(&self) -> Vec<u8> {
        let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        for (name, data) in self.zip_files() {
            zw.start_file(format!("{}@{}/{name}", self.path, self.version), opts).expect("start zip entry");
            zw.write_all(&data).expect("write zip entry");
        }
        zw.finish().expect("finish zip").into_inner()
    }

    /// Writes this version into a `file://` GOPROXY directory: `.info`,
    /// `.mod`, `.zip`, and the version added to `@v/list` (kept sorted by
    /// semantic version, no duplicates).
    pub fn publish(&self, proxy_dir: &Path) {
        let dir = proxy_dir.join(self.escaped_path()).join("@v");
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let ver = self.escaped_version();
        let write = |name: String, data: &[u8]| {
            let p = dir.join(name);
            fs::write(&p, data).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
        };
        write(format!("{ver}.info"), self.info_json().as_bytes());
        write(format!("{ver}.mod"), self.mod_file().as_bytes());
        write(format!("{ver}.zip"), &self.zip_bytes());
        let list = dir.join("list");
        let old = fs::read_to_string(&list).unwrap_or_default();
        let mut versions: Vec<&str> = old.lines().filter(|l| !l.is_empty()).collect();
        versions.push(&self.version);
        versions.sort_by(|a, b| version::compare_versions(a, b).then_with(|| a.cmp(b)));
        versions.dedup();
        let mut text = versions.join("\n");
        text.push('\n');
        write("list".to_owned(), text.as_bytes());
    }
}

/// `vX.Y.Z-[pre.]yyyymmddhhmmss-<rev>`'s timestamp as RFC 3339.
/// Go source of package `package` with `func Name() string` returning `name`.
pub(super) fn go_file(package: &str, name: &str) -> String {
    format!(
        "// Package {package} is a gokeep test fixture.\npackage {package}\n\n\
         // Name says which module version this is.\nfunc Name() string {{ return {name:?} }}\n"
    )
}

fn pseudo_version_time(version: &str) -> Option<String> {
    if !version::is_pseudo_version(version) {
        return None;
    }
    let core = version.split('+').next()?;
    let mut parts = core.rsplitn(3, ['-', '.']);
    let _rev = parts.next()?;
    let t = parts.next()?;
    Some(format!("{}-{}-{}T{}:{}:{}Z", &t[0..4], &t[4..6], &t[6..8], &t[8..10], &t[10..12], &t[12..14]))
}

/// The subset of `module.CheckFilePath` a fixture can get wrong.
fn check_file_path(name: &str) {
    assert!(
        !name.is_empty()
            && !name.starts_with('/')
            && !name.ends_with('/')
            && name.split('/').all(|e| !e.is_empty() && e != "." && e != ".."),
        "module file path {name:?} is not clean and relative"
    );
    let base = name.rsplit('/').next().unwrap_or(name);
    assert!(
        !base.eq_ignore_ascii_case("go.mod") || base == "go.mod",
        "go.mod files must have lower-case names: {name:?}"
    );
}

/// Files in `vendor/` other than `vendor/modules.txt` (`isVendoredPackage`
/// for go ≥ 1.24 modules, and the conservative choice for older ones).
fn is_vendored(name: &str) -> bool {
    name.starts_with("vendor/") && name != "vendor/modules.txt"
}
