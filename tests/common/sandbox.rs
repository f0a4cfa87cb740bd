//! A hermetic Go installation context in a temporary directory: its own HOME,
//! GOPATH, GOMODCACHE, GOCACHE and a `file://` GOPROXY, no network, no
//! checksum database, no toolchain switching, no user `go env -w` file.
//!
//! Both the real `go` and the `gokeep` binary run with a cleared environment
//! plus [`GoSandbox::go_env`], so gokeep resolves the sandbox's caches on its
//! own, exactly as a user's shell would give them to it.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;
use walkdir::WalkDir;

/// The directory holding the `go` these tests run (the first on PATH).
pub fn go_bin_dir() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).find(|dir| dir.join("go").is_file()).expect(
        "the real `go` command is required for gokeep's tests: it was not found on PATH. \
         Install Go (https://go.dev/dl/) and make sure `go` is on PATH.",
    )
}

/// The gokeep binary cargo built for these tests.
pub fn gokeep_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gokeep"))
}

/// A temporary Go world. Dropping it deletes everything, after making the
/// read-only trees Go extracts (dirs 0555) writable again.
pub struct GoSandbox {
    dir: TempDir,
    root: PathBuf,
    env: BTreeMap<String, String>,
}

impl Default for GoSandbox {
    fn default() -> Self {
        Self::new()
    }
}

#[allow(dead_code)]
impl GoSandbox {
    /// Creates `home/`, `gopath/` (with `pkg/mod` as GOMODCACHE),
    /// `home/.cache/go-build` (GOCACHE, where Go's default would put it) and
    /// `proxy/` under a fresh temp dir.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("gokeep-test-").tempdir().expect("creating temp dir");
        // Canonical, so paths compare equal to what gokeep reports.
        let root = fs::canonicalize(dir.path()).expect("canonicalising temp dir");
        let mut sb = Self { dir, root, env: BTreeMap::new() };
        for d in [sb.home(), sb.gopath(), sb.modcache(), sb.gocache(), sb.proxy_dir()] {
            fs::create_dir_all(&d).unwrap_or_else(|e| panic!("creating {}: {e}", d.display()));
        }
        sb.env = sb.hermetic_env();
        sb
    }

    /// A sandbox whose environment is only PATH (the directory of the `go`
    /// under test, then the system's) and HOME: Go falls back to its own
    /// defaults, so a test can compare how gokeep and `go env` resolve them.
    /// Only `home/` is created. Add variables with [`Self::set`].
    pub fn bare() -> Self {
        let dir = tempfile::Builder::new().prefix("gokeep-test-").tempdir().expect("creating temp dir");
        let root = fs::canonicalize(dir.path()).expect("canonicalising temp dir");
        let sb = Self { dir, root, env: BTreeMap::new() };
        fs::create_dir(sb.home()).unwrap_or_else(|e| panic!("creating {}: {e}", sb.home().display()));
        let path = format!("{}:/usr/bin:/bin", go_bin_dir().display());
        let home = sb.home().display().to_string();
        sb.set("PATH", &path).set("HOME", &home)
    }

    /// Sets (or overrides) one variable of the environment `go` and gokeep run with.
    #[must_use]
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    pub fn gopath(&self) -> PathBuf {
        self.root.join("gopath")
    }

    pub fn modcache(&self) -> PathBuf {
        self.gopath().join("pkg/mod")
    }

    pub fn gocache(&self) -> PathBuf {
        self.home().join(".cache/go-build")
    }

    pub fn proxy_dir(&self) -> PathBuf {
        self.root.join("proxy")
    }

    /// `file://<proxy_dir>`.
    pub fn goproxy(&self) -> String {
        format!("file://{}", self.proxy_dir().display())
    }

    /// The whole environment `go` and `gokeep` run with.
    pub fn go_env(&self) -> Vec<(String, String)> {
        self.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// The environment of [`Self::new`]. Only PATH comes from the test
    /// process (to find `go`). GOTELEMETRY is not here: it is not settable
    /// through the environment (`go env` computes it from the telemetry mode
    /// file, which lives under the temp HOME).
    fn hermetic_env(&self) -> BTreeMap<String, String> {
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/go/bin:/usr/bin:/bin".to_owned());
        let s = |p: PathBuf| p.display().to_string();
        [
            ("PATH".into(), path),
            ("HOME".into(), s(self.home())),
            ("GOPATH".into(), s(self.gopath())),
            ("GOMODCACHE".into(), s(self.modcache())),
            ("GOCACHE".into(), s(self.gocache())),
            ("GOPROXY".into(), self.goproxy()),
            ("GOSUMDB".into(), "off".into()),
            ("GOFLAGS".into(), "-mod=mod".into()),
            ("GOTOOLCHAIN".into(), "local".into()),
            ("GOWORK".into(), "off".into()),
            ("GOENV".into(), "off".into()),
            ("GONOSUMDB".into(), String::new()),
            ("GONOPROXY".into(), String::new()),
            ("GOPRIVATE".into(), String::new()),
            ("CGO_ENABLED".into(), "0".into()),
        ]
        .into_iter()
        .collect()
    }

    /// Runs the real `go` in `dir` with [`Self::go_env`] only.
    pub fn go(&self, dir: &Path, args: &[&str]) -> Output {
        self.go_with_env(dir, args, &[])
    }

    /// Like [`Self::go`], with extra variables set (or overridden) on top.
    pub fn go_with_env(&self, dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("go");
        cmd.current_dir(dir).env_clear().envs(self.go_env());
        cmd.envs(extra.iter().map(|(k, v)| (OsStr::new(k), OsStr::new(v))));
        cmd.args(args);
        match cmd.output() {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "the real `go` command is required for gokeep's tests: it was not found on PATH ({e}). \
                 Install Go (https://go.dev/dl/) and make sure `go` is on PATH."
            ),
            Err(e) => panic!("the real `go` command is required for gokeep's tests: running it failed: {e}"),
        }
    }

    /// Runs `go` and returns its stdout; panics with both streams on failure.
    pub fn go_ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.go(dir, args);
        assert!(
            out.status.success(),
            "`go {}` in {} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            args.join(" "),
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `go env -json` as seen from `dir`, for comparisons with gokeep.
    pub fn go_env_json(&self, dir: &Path) -> serde_json::Value {
        serde_json::from_str(&self.go_ok(dir, &["env", "-json"])).expect("go env -json is JSON")
    }

    /// The gokeep binary with a cleared environment plus [`Self::go_env`],
    /// run in the sandbox root. Explicit `--modcache`/`--gocache` still win.
    pub fn gokeep(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(gokeep_bin());
        cmd.current_dir(&self.root).env_clear().envs(self.go_env());
        cmd
    }

    /// gokeep run as user and group 65534 (nobody) through `setpriv`, for
    /// tests about permissions (the tests run as root, which reads anything).
    /// Call [`Self::make_world_readable`] first so nobody can reach the caches.
    pub fn gokeep_as_nobody(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new("setpriv");
        cmd.current_dir("/").env_clear().envs(self.go_env());
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        cmd.arg(gokeep_bin());
        cmd
    }

    /// Adds read (and, for directories, search) permission for everyone on
    /// the whole sandbox, so an unprivileged user can walk it.
    pub fn make_world_readable(&self) {
        for entry in WalkDir::new(&self.root).follow_links(false) {
            let entry = entry.expect("walking sandbox");
            if entry.path_is_symlink() {
                continue;
            }
            let md = entry.metadata().expect("lstat in sandbox");
            let extra = if md.is_dir() { 0o555 } else { 0o444 };
            let mode = md.permissions().mode() | extra;
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("chmod {}: {e}", entry.path().display()));
        }
    }

    /// Makes every directory under `dir` owner-writable again (Go leaves
    /// extracted module trees 0555), so they can be changed or deleted.
    pub fn make_writable(dir: &Path) {
        for entry in WalkDir::new(dir).follow_links(false).into_iter().flatten() {
            if entry.file_type().is_dir()
                && let Ok(md) = entry.metadata()
            {
                let mode = md.permissions().mode() | 0o700;
                let _ = fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode));
            }
        }
    }
}

/// Sets the access and modification times of `path` and everything below
/// it (symbolic links themselves, never their targets) to `days` days ago,
/// so that age-based reports and policies see an old tree.
#[allow(dead_code)]
pub fn age_tree(path: &Path, days: u64) {
    set_tree_times(path, days * 86_400);
}

/// Sets atime and mtime of everything under `path` (links as themselves)
/// to `secs_ago` seconds before now.
pub fn set_tree_times(path: &Path, secs_ago: u64) {
    let when = std::time::SystemTime::now() - std::time::Duration::from_secs(secs_ago);
    let t = filetime::FileTime::from_system_time(when);
    // Children first: setting a directory's times does not touch its
    // children, but walking a directory updates its own atime.
    for entry in WalkDir::new(path).follow_links(false).contents_first(true) {
        let entry = entry.unwrap_or_else(|e| panic!("walking {}: {e}", path.display()));
        filetime::set_symlink_file_times(entry.path(), t, t)
            .unwrap_or_else(|e| panic!("setting times of {}: {e}", entry.path().display()));
    }
}

impl Drop for GoSandbox {
    fn drop(&mut self) {
        // Deleting an entry needs write permission on its directory only;
        // the files themselves may stay 0444.
        Self::make_writable(self.dir.path());
    }
}

/// `go` with GOPROXY=off: only what is in the module cache can be used.
#[allow(dead_code)]
pub fn go_offline(sb: &GoSandbox, dir: &Path, args: &[&str]) -> Output {
    sb.go_with_env(dir, args, &[("GOPROXY", "off")])
}
