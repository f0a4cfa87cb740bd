//! The standard test world: a set of synthetic modules with the shapes that
//! matter to a cache tool, published to a `file://` proxy, every version
//! downloaded by the real `go`, and a small consumer library built so that
//! GOCACHE holds real action and output entries.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use gokeep::go::version;

use super::module::{Module, go_file};
use super::sandbox::GoSandbox;

/// The consumer's module path.
#[allow(dead_code)]
pub const CONSUMER_MODULE: &str = "example.com/consumer";

fn helper_file(package: &str) -> String {
    format!(
        "package {package}\n\n// Double is a second exported function, in a second file.\nfunc Double(n int) int {{ return 2 * n }}\n"
    )
}

/// A module version whose root package `package` has a `Name()` function
/// returning `path@version`, plus a helper file.
fn simple(path: &str, version: &str, package: &str) -> Module {
    Module::named(path, version, package, &format!("{path}@{version}")).file("helper.go", helper_file(package))
}

/// The standard modules, every one with a root package exporting `Name()`:
///
/// - `example.com/Org/Lib` v1.0.0 and v1.1.0: upper-case path (escaped `!org/!lib` on disk);
///   v1.1.0 adds a sub-package and a LICENSE;
/// - `example.com/a` v1.0.0 and v1.2.0: v1.2.0 requires and imports
///   `example.com/Org/Lib` v1.1.0, and its source tree holds the nested
///   module `b/` (with its own go.mod), which the zip leaves out;
/// - `example.com/a/b` v1.0.0: the nested module, inside `example.com/a`'s path;
/// - `example.com/c` v1.0.0 and `example.com/c/v2` v2.0.0-rc.1 (a pre-release
///   of a major-version-suffixed module, nested in `example.com/c`'s path);
/// - `example.com/old` v2.0.0+incompatible: no go.mod in its zip;
/// - `example.com/pseudo` v0.0.0-20240101000000-abcdefabcdef: a pseudo-version
///   whose `.info` time matches its timestamp.
#[allow(dead_code)]
pub fn standard_modules() -> Vec<Module> {
    vec![
        simple("example.com/Org/Lib", "v1.0.0", "lib"),
        simple("example.com/Org/Lib", "v1.1.0", "lib")
            .file("LICENSE", "Test fixture licence: do what you like.\n")
            .file("sub/sub.go", go_file("sub", "example.com/Org/Lib/sub@v1.1.0")),
        simple("example.com/a", "v1.0.0", "a"),
        Module::new("example.com/a", "v1.2.0")
            .require("example.com/Org/Lib", "v1.1.0")
            .file(
                "a.go",
                "// Package a is a gokeep test fixture.\npackage a\n\nimport lib \"example.com/Org/Lib\"\n\n\
                 // Name says which module version this is.\nfunc Name() string { return \"example.com/a@v1.2.0 using \" + lib.Name() }\n",
            )
            .file("helper.go", helper_file("a"))
            .file("util/util.go", go_file("util", "example.com/a/util@v1.2.0"))
            // A nested module in the source tree: x/mod/zip omits it.
            .file("b/go.mod", "module example.com/a/b\n\ngo 1.21\n")
            .file("b/b.go", go_file("b", "nested, must not be in example.com/a's zip")),
        simple("example.com/a/b", "v1.0.0", "b"),
        simple("example.com/c", "v1.0.0", "c"),
        simple("example.com/c/v2", "v2.0.0-rc.1", "c").file("README.md", "# c v2\n\nA pre-release.\n"),
        simple("example.com/old", "v2.0.0+incompatible", "old").without_go_mod(),
        simple("example.com/pseudo", "v0.0.0-20240101000000-abcdefabcdef", "pseudo"),
    ]
}

/// Published modules, a module cache holding every version, and a consumer
/// module built once (so GOCACHE has entries).
pub struct Fixture {
    pub sandbox: GoSandbox,
    /// The consumer module's directory (a library package, not `main`).
    pub consumer: PathBuf,
    /// `(path, version)` of every published module version, all downloaded.
    pub modules: Vec<(String, String)>,
    /// The published module versions themselves.
    pub published: Vec<Module>,
}

#[allow(dead_code)]
impl Fixture {
    /// [`standard_modules`], all downloaded, the consumer built.
    pub fn standard() -> Self {
        Self::with_modules(standard_modules())
    }

    /// Publishes `modules` (each must have a root package exporting
    /// `func Name() string`), writes a consumer requiring and importing the
    /// latest version of each module path, downloads every version with
    /// `go mod download` and builds the consumer.
    pub fn with_modules(modules: Vec<Module>) -> Self {
        let fx = Self::published_only(modules);
        fx.download_all();
        fx.consumer_go_build_ok();
        fx
    }

    /// Publishes `modules` and writes the consumer, but runs no `go` command.
    pub fn published_only(modules: Vec<Module>) -> Self {
        let sandbox = GoSandbox::new();
        for m in &modules {
            m.publish(&sandbox.proxy_dir());
        }
        let consumer = sandbox.root().join("consumer");
        fs::create_dir_all(&consumer).expect("creating consumer dir");
        let latest = latest_versions(&modules);
        let mut go_mod = format!("module {CONSUMER_MODULE}\n\ngo 1.21\n\nrequire (\n");
        let mut imports = String::new();
        let mut calls = String::new();
        for (i, (path, version)) in latest.iter().enumerate() {
            let _ = writeln!(go_mod, "\t{path} {version}");
            let _ = writeln!(imports, "\tm{i} {path:?}");
            let _ = writeln!(calls, "\t\tm{i}.Name(),");
        }
        go_mod.push_str(")\n");
        let source = format!(
            "// Package consumer uses one package of every fixture module.\npackage consumer\n\nimport (\n{imports})\n\n\
             // Names lists what each dependency says it is.\nfunc Names() []string {{\n\treturn []string{{\n{calls}\t}}\n}}\n"
        );
        fs::write(consumer.join("go.mod"), go_mod).expect("writing consumer go.mod");
        fs::write(consumer.join("consumer.go"), source).expect("writing consumer.go");
        let ids = modules.iter().map(|m| (m.path.clone(), m.version.clone())).collect();
        Self { sandbox, consumer, modules: ids, published: modules }
    }

    pub fn modcache(&self) -> PathBuf {
        self.sandbox.modcache()
    }

    pub fn gocache(&self) -> PathBuf {
        self.sandbox.gocache()
    }

    /// The published module version `path@version`.
    pub fn module(&self, path: &str, version: &str) -> &Module {
        self.published
            .iter()
            .find(|m| m.path == path && m.version == version)
            .unwrap_or_else(|| panic!("{path}@{version} is not a fixture module"))
    }

    /// `go mod download path@version ...` for every published version, run
    /// in the consumer directory.
    pub fn download_all(&self) {
        let ids: Vec<String> = self.published.iter().map(Module::id).collect();
        let mut args = vec!["mod", "download"];
        args.extend(ids.iter().map(String::as_str));
        self.sandbox.go_ok(&self.consumer, &args);
    }

    /// `go build ./...` in the consumer; returns stdout.
    pub fn consumer_go_build_ok(&self) -> String {
        self.sandbox.go_ok(&self.consumer, &["build", "./..."])
    }

    /// `go mod verify` in the consumer, without judging the result.
    pub fn consumer_go_mod_verify(&self) -> std::process::Output {
        self.sandbox.go(&self.consumer, &["mod", "verify"])
    }

    /// Absolute path of a published version's extracted tree in GOMODCACHE.
    pub fn extracted_dir(&self, path: &str, version: &str) -> PathBuf {
        self.modcache().join(self.module(path, version).extracted_rel())
    }

    /// Absolute path of `cache/download/<path>/@v/<version>.<suffix>`.
    pub fn download_file(&self, path: &str, version: &str, suffix: &str) -> PathBuf {
        self.modcache().join(self.module(path, version).download_file_rel(suffix))
    }
}

/// The highest version of each module path, in first-seen path order.
fn latest_versions(modules: &[Module]) -> Vec<(String, String)> {
    let mut latest: Vec<(String, String)> = Vec::new();
    for m in modules {
        match latest.iter_mut().find(|(p, _)| *p == m.path) {
            Some((_, v)) => {
                if version::compare_versions(&m.version, v).is_gt() {
                    v.clone_from(&m.version);
                }
            }
            None => latest.push((m.path.clone(), m.version.clone())),
        }
    }
    latest
}

/// Sizes of `path` as `du -sb` (apparent) and `du -sB1` (on disk) report them.
#[allow(dead_code)]
pub fn du(path: &Path) -> (u64, u64) {
    (du_with(path, "-sb"), du_with(path, "-sB1"))
}

/// `du <flag> <path>`'s number. du does not follow symbolic links and counts
/// hard links once, like gokeep.
#[allow(dead_code)]
pub fn du_with(path: &Path, flag: &str) -> u64 {
    let out = std::process::Command::new("du").arg(flag).arg(path).output().expect("running du");
    assert!(out.status.success(), "du {flag} {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("du printed {text:?}"))
}
