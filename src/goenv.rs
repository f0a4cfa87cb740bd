//! The effective Go environment, resolved the way `go env` does it, without
//! running `go`.
//!
//! gokeep must find the same caches and proxies that `go` would use, so this
//! module mirrors `cmd/go/internal/cfg` (`EnvFile`, `initEnvCache`,
//! `readEnvFile`, `Getenv`, `EnvOrAndChanged`, `findGOROOT`, `gopathDir`),
//! `go/build.defaultGOPATH` and `cmd/go/internal/cache.DefaultDir`:
//!
//! 1. a non-empty process environment variable wins (an empty one is unset);
//! 2. then the user's env file (`$GOENV`, else `<user config dir>/go/env`;
//!    `GOENV=off` disables it), the file `go env -w` writes;
//! 3. then `$GOROOT/go.env` (Go 1.21+), which ships the proxy, checksum
//!    database and toolchain defaults;
//! 4. then the default built into `go` (often derived from another variable:
//!    GOMODCACHE from GOPATH, GONOPROXY/GONOSUMDB from GOPRIVATE).
//!
//! The resolution itself is the pure [`resolve`]: it takes the environment as
//! a map and the file contents the caller read, so every rule is unit-tested
//! without touching the process environment. [`GoEnv::from_process`] does the
//! reading. Values Go would reject or silently disable (a relative
//! GOMODCACHE, a relative GOCACHE, GOCACHE=off, a GOENV naming a missing
//! file) become [`Problem`]s in the result; resolution itself never fails.
//!
//! Paths are handled with Unix rules (`/` separator, `:` list separator on
//! everything but Windows), which is what gokeep supports.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The variables gokeep resolves, in the order `go env` lists them.
pub const KEYS: &[&str] = &[
    "GOCACHE",
    "GOENV",
    "GOFLAGS",
    "GOINSECURE",
    "GOMODCACHE",
    "GONOPROXY",
    "GONOSUMDB",
    "GOPATH",
    "GOPRIVATE",
    "GOPROXY",
    "GOROOT",
    "GOSUMDB",
    "GOTOOLCHAIN",
];

/// Built into `go` 1.13–1.20; since 1.21 they come from `$GOROOT/go.env`.
const LEGACY_GOPROXY: &str = "https://proxy.golang.org,direct";
const LEGACY_GOSUMDB: &str = "sum.golang.org";

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// The process environment.
    Env,
    /// The user's env file (`go env -w`).
    GoenvFile { path: PathBuf },
    /// `$GOROOT/go.env`.
    GorootEnv { path: PathBuf },
    /// GOROOT found from the `go` executable on PATH, as `go` finds itself.
    GoOnPath { path: PathBuf },
    /// Computed from another variable (GOMODCACHE from GOPATH, GONOPROXY and
    /// GONOSUMDB from GOPRIVATE).
    Derived { from: String },
    /// The default built into `go`.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Env => f.write_str("env"),
            Source::GoenvFile { path } => write!(f, "goenv file {}", path.display()),
            Source::GorootEnv { path } => write!(f, "GOROOT go.env {}", path.display()),
            Source::GoOnPath { path } => write!(f, "go on PATH {}", path.display()),
            Source::Derived { from } => write!(f, "derived from {from}"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// One resolved variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Var {
    pub value: String,
    pub source: Source,
}

/// Something in the environment that `go` would reject, ignore or turn off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Problem {
    /// The variable concerned.
    pub key: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("{key}={value} is not an absolute path")]
    NotAbsolute { key: &'static str, value: String },
    #[error("GOCACHE is off: Go has no build cache")]
    CacheOff,
    #[error("cannot determine {key}: {reason}")]
    Undetermined { key: &'static str, reason: String },
}

/// The effective Go environment: every variable of [`KEYS`] with its value
/// and source, plus what is wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct GoEnv {
    pub vars: BTreeMap<String, Var>,
    pub problems: Vec<Problem>,
    /// The GOWORK setting (`cfg.Getenv`: the process, then the GOENV file).
    /// Not one of [`KEYS`]: `go env GOWORK` prints the go.work found from
    /// the working directory, which is a project's business, not the
    /// environment's.
    #[serde(skip)]
    #[schemars(skip)]
    pub gowork: Option<String>,
}

/// The operating system whose conventions locate the user config and cache
/// directories (Go's `os.UserConfigDir` / `os.UserCacheDir`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostOs {
    /// Linux and the BSDs: XDG variables, then `$HOME/.config` / `$HOME/.cache`.
    Unix,
    MacOs,
    Windows,
}

impl HostOs {
    #[must_use]
    pub fn current() -> Self {
        if cfg!(target_os = "macos") {
            HostOs::MacOs
        } else if cfg!(windows) {
            HostOs::Windows
        } else {
            HostOs::Unix
        }
    }

    fn list_separator(self) -> char {
        if self == HostOs::Windows { ';' } else { ':' }
    }
}

/// What reading a file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContents {
    Text(String),
    Missing,
    Unreadable(String),
}

impl FileContents {
    /// Reads a small config file; Go reads these whole too.
    #[must_use]
    pub fn read(path: &Path) -> Self {
        match std::fs::read(path) {
            Ok(bytes) => FileContents::Text(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == ErrorKind::NotFound => FileContents::Missing,
            Err(e) => FileContents::Unreadable(e.to_string()),
        }
    }

    fn text(&self) -> &str {
        match self {
            FileContents::Text(t) => t,
            _ => "",
        }
    }
}

/// Where the user's env file is, per `cfg.EnvFile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvFileLocation {
    /// `explicit` when `$GOENV` named it.
    Path { path: PathBuf, explicit: bool },
    /// `GOENV=off`.
    Off,
    /// No user config directory; Go then reads no user file.
    Unavailable(String),
}

/// A located GOROOT and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goroot {
    pub path: PathBuf,
    pub source: Source,
}

/// Everything [`resolve`] needs, gathered by the caller.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The process environment. Empty values count as unset, as in Go.
    pub env: BTreeMap<String, String>,
    pub os: HostOs,
    /// Contents of the file [`user_env_file`] names (ignored when it names none).
    pub user_file: FileContents,
    /// The GOROOT `go` would run from, if one was found.
    pub goroot: Option<Goroot>,
    /// Contents of `<goroot>/go.env`.
    pub goroot_env: FileContents,
    /// First line of `<goroot>/VERSION` (`go1.26.8`), when readable.
    pub go_version: Option<String>,
}

/// `KEY=VALUE` lines as `cfg.readEnvFile` reads them: split on `\n` only,
/// a line counts when it has a `=` and starts with `A`–`Z`; the key is
/// everything before the first `=`, the value everything after, untrimmed
/// (no quoting, no expansion, a trailing `\r` is kept).
#[must_use]
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    text.split('\n')
        .filter(|line| line.as_bytes().first().is_some_and(u8::is_ascii_uppercase))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A non-empty process environment value.
fn env_var<'a>(env: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    env.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

/// Go's `os.UserConfigDir`.
pub fn user_config_dir(env: &BTreeMap<String, String>, os: HostOs) -> Result<String, String> {
    user_dir(env, os, "XDG_CONFIG_HOME", ".config", "Library/Application Support", "AppData")
}

/// Go's `os.UserCacheDir`.
pub fn user_cache_dir(env: &BTreeMap<String, String>, os: HostOs) -> Result<String, String> {
    user_dir(env, os, "XDG_CACHE_HOME", ".cache", "Library/Caches", "LocalAppData")
}

fn user_dir(
    env: &BTreeMap<String, String>,
    os: HostOs,
    xdg: &str,
    unix_rel: &str,
    mac_rel: &str,
    windows_var: &str,
) -> Result<String, String> {
    match os {
        HostOs::Windows => {
            env_var(env, windows_var).map(str::to_owned).ok_or(format!("%{windows_var}% is not defined"))
        }
        HostOs::MacOs => {
            env_var(env, "HOME").map(|h| format!("{h}/{mac_rel}")).ok_or_else(|| "$HOME is not defined".to_owned())
        }
        HostOs::Unix => {
            if let Some(dir) = env_var(env, xdg) {
                if !Path::new(dir).is_absolute() {
                    return Err(format!("path in ${xdg} is relative"));
                }
                return Ok(dir.to_owned());
            }
            env_var(env, "HOME")
                .map(|h| format!("{h}/{unix_rel}"))
                .ok_or_else(|| format!("neither ${xdg} nor $HOME are defined"))
        }
    }
}

/// `cfg.EnvFile`: `$GOENV` unless `off`, else `<user config dir>/go/env`.
#[must_use]
pub fn user_env_file(env: &BTreeMap<String, String>, os: HostOs) -> EnvFileLocation {
    match env_var(env, "GOENV") {
        Some("off") => EnvFileLocation::Off,
        Some(file) => EnvFileLocation::Path { path: PathBuf::from(file), explicit: true },
        None => match user_config_dir(env, os) {
            Ok(dir) => EnvFileLocation::Path { path: PathBuf::from(clean(&format!("{dir}/go/env"))), explicit: false },
            Err(reason) => EnvFileLocation::Unavailable(reason),
        },
    }
}

/// Go's `filepath.Clean` for `/`-separated paths: purely lexical.
#[must_use]
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// The user file and `go.env` as lookup layers, in `cfg.readEnvFile` order.
struct Layers {
    user_path: Option<PathBuf>,
    user: BTreeMap<String, String>,
    goroot_path: Option<PathBuf>,
    goroot: BTreeMap<String, String>,
}

impl Layers {
    fn new(inputs: &Inputs, location: &EnvFileLocation) -> Self {
        let mut user = BTreeMap::new();
        let user_path = match location {
            EnvFileLocation::Path { path, .. } => {
                // Within the user file a later line wins.
                user.extend(parse_env_file(inputs.user_file.text()));
                Some(path.clone())
            }
            _ => None,
        };
        let mut goroot = BTreeMap::new();
        let goroot_path = inputs.goroot.as_ref().map(|g| g.path.join("go.env"));
        if goroot_path.is_some() {
            for (k, v) in parse_env_file(inputs.goroot_env.text()) {
                // readEnvFile skips keys already in its map, and that map
                // holds earlier go.env lines too: the first line wins here.
                if !user.contains_key(&k) {
                    goroot.entry(k).or_insert(v);
                }
            }
        }
        Self { user_path, user, goroot_path, goroot }
    }

    /// `cfg.Getenv`: the value and where it came from; `None` when no layer
    /// has the key. A file entry with an empty value still counts: it hides
    /// `go.env`, and the default applies.
    fn get(&self, env: &BTreeMap<String, String>, key: &str) -> Option<(String, Source)> {
        if let Some(v) = env_var(env, key) {
            return Some((v.to_owned(), Source::Env));
        }
        if let (Some(v), Some(path)) = (self.user.get(key), &self.user_path) {
            return Some((v.clone(), Source::GoenvFile { path: path.clone() }));
        }
        if let (Some(v), Some(path)) = (self.goroot.get(key), &self.goroot_path) {
            return Some((v.clone(), Source::GorootEnv { path: path.clone() }));
        }
        None
    }

    /// `cfg.EnvOrAndChanged` / `envOr`: an empty result falls back to `def`.
    fn get_or(&self, env: &BTreeMap<String, String>, key: &str, def: &str, def_source: Source) -> Var {
        match self.get(env, key) {
            Some((value, source)) if !value.is_empty() => Var { value, source },
            // An empty file entry that leaves nothing: the file is the reason.
            Some((_, source)) if def.is_empty() => Var { value: String::new(), source },
            _ => Var { value: def.to_owned(), source: def_source },
        }
    }
}

/// True for Go releases before 1.21, which built in GOPROXY and GOSUMDB
/// defaults instead of shipping `go.env`.
fn before_go_1_21(version: &str) -> bool {
    let Some(rest) = version.strip_prefix("go1.") else { return false };
    let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
    minor.parse::<u32>().is_ok_and(|m| m < 21)
}

struct Resolver<'a> {
    inputs: &'a Inputs,
    layers: Layers,
    env: GoEnv,
}

impl Resolver<'_> {
    fn set(&mut self, key: &str, var: Var) {
        self.env.vars.insert(key.to_owned(), var);
    }

    fn problem(&mut self, key: &str, message: String) {
        self.env.problems.push(Problem { key: key.to_owned(), message });
    }

    fn value(&self, key: &str) -> &str {
        self.env.vars.get(key).map_or("", |v| v.value.as_str())
    }

    fn goenv(&mut self, location: &EnvFileLocation) {
        let var = match location {
            // With GOENV=off, `go env GOENV` prints an empty value.
            EnvFileLocation::Off => Var { value: String::new(), source: Source::Env },
            EnvFileLocation::Path { path, explicit } => Var {
                value: path.to_string_lossy().into_owned(),
                source: if *explicit { Source::Env } else { Source::Default },
            },
            EnvFileLocation::Unavailable(reason) => {
                let reason = reason.clone();
                self.problem("GOENV", format!("no user env file: {reason}"));
                Var { value: String::new(), source: Source::Default }
            }
        };
        self.set("GOENV", var);
        if let EnvFileLocation::Path { path, explicit } = location {
            match &self.inputs.user_file {
                FileContents::Missing if *explicit => {
                    self.problem("GOENV", format!("GOENV names {} which does not exist", path.display()));
                }
                FileContents::Unreadable(e) => {
                    let msg = format!("cannot read env file {}: {e}; go ignores it", path.display());
                    self.problem("GOENV", msg);
                }
                _ => {}
            }
        }
    }

    fn goroot(&mut self) {
        let env = &self.inputs.env;
        let var = if let Some(v) = env_var(env, "GOROOT") {
            Var { value: v.to_owned(), source: Source::Env }
        } else if let Some(g) = &self.inputs.goroot {
            Var { value: g.path.to_string_lossy().into_owned(), source: g.source.clone() }
        } else {
            self.problem("GOROOT", "GOROOT is not set and no go executable was found on PATH".to_owned());
            Var { value: String::new(), source: Source::Default }
        };
        self.set("GOROOT", var);
        if let Some(g) = &self.inputs.goroot {
            match &self.inputs.goroot_env {
                FileContents::Text(_) => {}
                FileContents::Missing if self.legacy_defaults() => {}
                FileContents::Missing => {
                    let msg = format!(
                        "{} does not exist: GOPROXY and GOSUMDB have no default",
                        g.path.join("go.env").display()
                    );
                    self.problem("GOROOT", msg);
                }
                FileContents::Unreadable(e) => {
                    self.problem("GOROOT", format!("cannot read {}: {e}", g.path.join("go.env").display()));
                }
            }
        }
    }

    /// Without `go.env`, Go before 1.21 (or an unknown Go) had the defaults
    /// built in.
    fn legacy_defaults(&self) -> bool {
        !matches!(self.inputs.goroot_env, FileContents::Text(_))
            && self.inputs.go_version.as_deref().is_none_or(before_go_1_21)
    }

    /// `go/build.defaultGOPATH` then `EnvOrAndChanged("GOPATH", …)`.
    fn gopath(&mut self) {
        let sep = self.inputs.os.list_separator();
        let home_var = if self.inputs.os == HostOs::Windows { "USERPROFILE" } else { "HOME" };
        let default = match env_var(&self.inputs.env, home_var) {
            Some(home) => {
                let def = clean(&format!("{home}/go"));
                let goroot = self.value("GOROOT");
                if !goroot.is_empty() && def == clean(goroot) { String::new() } else { def }
            }
            None => String::new(),
        };
        let var = self.layers.get_or(&self.inputs.env, "GOPATH", &default, Source::Default);
        if var.value.is_empty() {
            let reason = if default.is_empty() && env_var(&self.inputs.env, home_var).is_some() {
                "its default $HOME/go is GOROOT".to_owned()
            } else {
                format!("${home_var} is not set")
            };
            self.problem("GOPATH", format!("GOPATH is not set and has no default: {reason}"));
        }
        for entry in var.value.split(sep).filter(|e| !e.is_empty()) {
            if !Path::new(entry).is_absolute() {
                self.problem("GOPATH", format!("GOPATH entry {entry:?} is relative; go requires absolute paths"));
            }
        }
        self.set("GOPATH", var);
    }

    /// `EnvOrAndChanged("GOMODCACHE", gopathDir("pkg/mod"))`.
    fn gomodcache(&mut self) {
        let sep = self.inputs.os.list_separator();
        let gopath = self.value("GOPATH").to_owned();
        let first = gopath.split(sep).next().unwrap_or("");
        let default = if first.is_empty() { String::new() } else { clean(&format!("{first}/pkg/mod")) };
        let def_source = if default.is_empty() { Source::Default } else { Source::Derived { from: "GOPATH".into() } };
        let var = self.layers.get_or(&self.inputs.env, "GOMODCACHE", &default, def_source);
        if var.value.is_empty() {
            let why = if gopath.is_empty() { "GOPATH is not set" } else { "the first GOPATH entry is empty" };
            self.problem("GOMODCACHE", format!("GOMODCACHE is not set and {why}"));
        } else if !Path::new(&var.value).is_absolute() {
            self.problem("GOMODCACHE", format!("GOMODCACHE={} is not an absolute path", var.value));
        }
        self.set("GOMODCACHE", var);
    }

    /// `cache.DefaultDir`: a relative GOCACHE turns the cache off.
    fn gocache(&mut self) {
        let (default, default_err) = match user_cache_dir(&self.inputs.env, self.inputs.os) {
            Ok(dir) => (clean(&format!("{dir}/go-build")), None),
            Err(e) => ("off".to_owned(), Some(e)),
        };
        let var = match self.layers.get(&self.inputs.env, "GOCACHE") {
            Some((value, source)) if !value.is_empty() => {
                if value == "off" {
                    self.problem("GOCACHE", "GOCACHE=off: go has no build cache and go build fails".to_owned());
                    Var { value, source }
                } else if Path::new(&value).is_absolute() {
                    Var { value, source }
                } else {
                    let msg = format!("GOCACHE={value} is not an absolute path; go treats the build cache as off");
                    self.problem("GOCACHE", msg);
                    Var { value: "off".to_owned(), source }
                }
            }
            _ => {
                if let Some(e) = default_err {
                    self.problem("GOCACHE", format!("GOCACHE is not defined and {e}; the build cache is off"));
                }
                Var { value: default, source: Source::Default }
            }
        };
        self.set("GOCACHE", var);
    }

    fn plain(&mut self, key: &str, default: &str) {
        let var = self.layers.get_or(&self.inputs.env, key, default, Source::Default);
        self.set(key, var);
    }

    /// GONOPROXY and GONOSUMDB fall back to GOPRIVATE.
    fn private_derived(&mut self, key: &str) {
        let private = self.value("GOPRIVATE").to_owned();
        let source = if private.is_empty() { Source::Default } else { Source::Derived { from: "GOPRIVATE".into() } };
        let var = self.layers.get_or(&self.inputs.env, key, &private, source);
        self.set(key, var);
    }
}

/// Resolves every variable of [`KEYS`] from `inputs`. Pure: no process
/// environment, no file system.
#[must_use]
pub fn resolve(inputs: &Inputs) -> GoEnv {
    let location = user_env_file(&inputs.env, inputs.os);
    let layers = Layers::new(inputs, &location);
    let mut r = Resolver { inputs, layers, env: GoEnv::default() };
    r.goenv(&location);
    r.goroot();
    r.gopath();
    r.gomodcache();
    r.gocache();
    let legacy = r.legacy_defaults();
    r.plain("GOPROXY", if legacy { LEGACY_GOPROXY } else { "" });
    r.plain("GOSUMDB", if legacy { LEGACY_GOSUMDB } else { "" });
    r.plain("GOPRIVATE", "");
    r.private_derived("GONOPROXY");
    r.private_derived("GONOSUMDB");
    r.plain("GOFLAGS", "");
    r.plain("GOINSECURE", "");
    r.plain("GOTOOLCHAIN", "");
    r.env.gowork = r.layers.get(&inputs.env, "GOWORK").map(|(v, _)| v);
    r.env
}

/// `cfg.findGOROOT` without `runtime.GOROOT()`: an explicit GOROOT (the user
/// file's, then the environment's), else the directory two or three levels
/// above the `go` executable found on PATH, before and after resolving
/// symlinks, when it looks like a GOROOT (has `pkg/tool`).
#[must_use]
pub fn locate_goroot(
    env: &BTreeMap<String, String>,
    user_file_goroot: Option<(&str, &Path)>,
    os: HostOs,
) -> Option<Goroot> {
    if let Some((v, path)) = user_file_goroot.filter(|(v, _)| !v.is_empty()) {
        return Some(Goroot { path: PathBuf::from(clean(v)), source: Source::GoenvFile { path: path.to_owned() } });
    }
    if let Some(v) = env_var(env, "GOROOT") {
        return Some(Goroot { path: PathBuf::from(clean(v)), source: Source::Env });
    }
    let exe = find_on_path(env_var(env, "PATH")?, if os == HostOs::Windows { "go.exe" } else { "go" }, os)?;
    let looks_like_goroot = |dir: &Path| std::fs::metadata(dir.join("pkg/tool")).is_ok_and(|m| m.is_dir());
    let mut candidates = vec![exe.clone()];
    if let Ok(real) = std::fs::canonicalize(&exe) {
        candidates.push(real);
    }
    for bin in &candidates {
        for up in [2, 3] {
            let dir = PathBuf::from(clean(&format!("{}{}", bin.display(), "/..".repeat(up))));
            if looks_like_goroot(&dir) {
                return Some(Goroot { path: dir, source: Source::GoOnPath { path: exe } });
            }
        }
    }
    None
}

/// The first executable file named `name` in a PATH list (an empty entry is
/// the current directory), made absolute.
fn find_on_path(path_list: &str, name: &str, os: HostOs) -> Option<PathBuf> {
    path_list.split(os.list_separator()).find_map(|dir| {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(name);
        let md = std::fs::metadata(&candidate).ok()?;
        if !md.is_file() || !is_executable(&md) {
            return None;
        }
        std::path::absolute(&candidate).ok()
    })
}

#[cfg(unix)]
fn is_executable(md: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    md.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_md: &std::fs::Metadata) -> bool {
    true
}

impl GoEnv {
    /// Resolves the environment of this process, reading the user env file,
    /// `$GOROOT/go.env` and `$GOROOT/VERSION`.
    #[must_use]
    pub fn from_process() -> Self {
        let env = std::env::vars_os()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
            .collect();
        Self::from_env(env, HostOs::current())
    }

    /// Like [`GoEnv::from_process`] for a given environment map; reads the
    /// files that environment points at.
    #[must_use]
    pub fn from_env(env: BTreeMap<String, String>, os: HostOs) -> Self {
        let location = user_env_file(&env, os);
        let user_file = match &location {
            EnvFileLocation::Path { path, .. } => FileContents::read(path),
            _ => FileContents::Missing,
        };
        let file_goroot = match &location {
            EnvFileLocation::Path { path, .. } => {
                parse_env_file(user_file.text()).into_iter().rev().find(|(k, _)| k == "GOROOT").map(|(_, v)| (v, path))
            }
            _ => None,
        };
        let goroot = locate_goroot(&env, file_goroot.as_ref().map(|(v, p)| (v.as_str(), p.as_path())), os);
        let (goroot_env, go_version) = match &goroot {
            Some(g) => (
                FileContents::read(&g.path.join("go.env")),
                match FileContents::read(&g.path.join("VERSION")) {
                    FileContents::Text(t) => t.lines().next().map(str::to_owned),
                    _ => None,
                },
            ),
            None => (FileContents::Missing, None),
        };
        resolve(&Inputs { env, os, user_file, goroot, goroot_env, go_version })
    }

    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(|v| v.value.as_str())
    }

    /// GOMODCACHE as an absolute directory.
    pub fn modcache_dir(&self) -> Result<PathBuf, EnvError> {
        let v = self.get("GOMODCACHE").filter(|v| !v.is_empty()).ok_or_else(|| EnvError::Undetermined {
            key: "GOMODCACHE",
            reason: self.problem_for("GOMODCACHE").unwrap_or("it is empty").to_owned(),
        })?;
        let p = PathBuf::from(v);
        if p.is_absolute() { Ok(p) } else { Err(EnvError::NotAbsolute { key: "GOMODCACHE", value: v.into() }) }
    }

    /// GOCACHE as an absolute directory; [`EnvError::CacheOff`] when Go has
    /// no build cache (GOCACHE=off, relative, or no user cache directory).
    pub fn gocache_dir(&self) -> Result<PathBuf, EnvError> {
        let v = self.get("GOCACHE").filter(|v| !v.is_empty()).ok_or_else(|| EnvError::Undetermined {
            key: "GOCACHE",
            reason: self.problem_for("GOCACHE").unwrap_or("it is empty").to_owned(),
        })?;
        if v == "off" {
            return Err(EnvError::CacheOff);
        }
        let p = PathBuf::from(v);
        if p.is_absolute() { Ok(p) } else { Err(EnvError::NotAbsolute { key: "GOCACHE", value: v.into() }) }
    }

    fn problem_for(&self, key: &str) -> Option<&str> {
        self.problems.iter().find(|p| p.key == key).map(|p| p.message.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const GO_ENV: &str =
        "# defaults\nGOPROXY=https://proxy.golang.org,direct\nGOSUMDB=sum.golang.org\n\nGOTOOLCHAIN=local\n";

    fn inputs(pairs: &[(&str, &str)], user_file: &str) -> Inputs {
        Inputs {
            env: env(pairs),
            os: HostOs::Unix,
            user_file: if user_file.is_empty() { FileContents::Missing } else { FileContents::Text(user_file.into()) },
            goroot: Some(Goroot { path: "/usr/local/go".into(), source: Source::Default }),
            goroot_env: FileContents::Text(GO_ENV.into()),
            go_version: Some("go1.26.8".into()),
        }
    }

    fn var(e: &GoEnv, key: &str) -> (String, Source) {
        let v = &e.vars[key];
        (v.value.clone(), v.source.clone())
    }

    fn user_file() -> Source {
        Source::GoenvFile { path: "/h/.config/go/env".into() }
    }

    fn goroot_file() -> Source {
        Source::GorootEnv { path: "/usr/local/go/go.env".into() }
    }

    #[test]
    fn env_file_lines_follow_go_rules() {
        let text = "GOPROXY=a=b\n# GOSUMDB=off\nlower=x\n GOFLAGS=-x\nNOEQUALS\n\nGOPRIVATE= x \r\nGOINSECURE=";
        assert_eq!(
            parse_env_file(text),
            vec![
                ("GOPROXY".into(), "a=b".into()),
                ("GOPRIVATE".into(), " x \r".into()),
                ("GOINSECURE".into(), String::new()),
            ]
        );
    }

    #[test]
    fn clean_matches_go_filepath_clean() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("/a/b/", "/a/b"),
            ("a//b/./c/..", "a/b"),
            ("/../a", "/a"),
            ("../../a", "../../a"),
            ("a/../..", ".."),
        ] {
            assert_eq!(clean(input), want, "{input}");
        }
    }

    #[test]
    fn clean_environment_uses_home_and_go_env_defaults() {
        let e = resolve(&inputs(&[("HOME", "/h")], ""));
        assert_eq!(var(&e, "GOPATH"), ("/h/go".into(), Source::Default));
        assert_eq!(var(&e, "GOMODCACHE"), ("/h/go/pkg/mod".into(), Source::Derived { from: "GOPATH".into() }));
        assert_eq!(var(&e, "GOCACHE"), ("/h/.cache/go-build".into(), Source::Default));
        assert_eq!(var(&e, "GOENV"), ("/h/.config/go/env".into(), Source::Default));
        assert_eq!(var(&e, "GOPROXY"), ("https://proxy.golang.org,direct".into(), goroot_file()));
        assert_eq!(var(&e, "GOTOOLCHAIN"), ("local".into(), goroot_file()));
        assert_eq!(var(&e, "GONOPROXY"), (String::new(), Source::Default));
        assert!(e.problems.is_empty(), "{:?}", e.problems);
    }

    #[test]
    fn precedence_is_env_then_user_file_then_go_env() {
        let file = "GOPROXY=file-proxy\nGOSUMDB=file-db\nGOFLAGS=-mod=mod\n";
        let e = resolve(&inputs(&[("HOME", "/h"), ("GOPROXY", "env-proxy"), ("GOFLAGS", "")], file));
        assert_eq!(var(&e, "GOPROXY"), ("env-proxy".into(), Source::Env));
        assert_eq!(var(&e, "GOSUMDB"), ("file-db".into(), user_file()));
        assert_eq!(var(&e, "GOFLAGS"), ("-mod=mod".into(), user_file()), "empty env value is unset");
        assert_eq!(var(&e, "GOTOOLCHAIN"), ("local".into(), goroot_file()));
    }

    #[test]
    fn later_user_file_line_wins_but_first_go_env_line_wins() {
        let mut i = inputs(&[("HOME", "/h")], "GOFLAGS=-a\nGOFLAGS=-b\n");
        i.goroot_env = FileContents::Text("GOTOOLCHAIN=first\nGOTOOLCHAIN=second\n".into());
        let e = resolve(&i);
        assert_eq!(e.get("GOFLAGS"), Some("-b"));
        assert_eq!(e.get("GOTOOLCHAIN"), Some("first"));
    }

    #[test]
    fn empty_user_file_entry_hides_go_env_value() {
        let e = resolve(&inputs(&[("HOME", "/h")], "GOPROXY=\n"));
        assert_eq!(var(&e, "GOPROXY"), (String::new(), user_file()));
    }

    #[test]
    fn goenv_off_ignores_the_user_file_but_not_go_env() {
        let e = resolve(&inputs(&[("HOME", "/h"), ("GOENV", "off")], "GOPROXY=file-proxy\n"));
        assert_eq!(var(&e, "GOENV"), (String::new(), Source::Env));
        assert_eq!(var(&e, "GOPROXY"), ("https://proxy.golang.org,direct".into(), goroot_file()));
    }

    #[test]
    fn explicit_goenv_naming_a_missing_file_is_a_problem() {
        let e = resolve(&inputs(&[("HOME", "/h"), ("GOENV", "/nope/env")], ""));
        assert_eq!(var(&e, "GOENV"), ("/nope/env".into(), Source::Env));
        assert!(e.problems.iter().any(|p| p.key == "GOENV" && p.message.contains("/nope/env")));
        let default_missing = resolve(&inputs(&[("HOME", "/h")], ""));
        assert!(default_missing.problems.is_empty());
    }

    #[test]
    fn xdg_dirs_move_config_and_cache_and_relative_ones_are_errors() {
        let e = resolve(&inputs(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "/cfg/"), ("XDG_CACHE_HOME", "/c")], ""));
        assert_eq!(e.get("GOENV"), Some("/cfg/go/env"));
        assert_eq!(e.get("GOCACHE"), Some("/c/go-build"));
        let rel = resolve(&inputs(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "cfg"), ("XDG_CACHE_HOME", "c")], ""));
        assert_eq!(rel.get("GOENV"), Some(""));
        assert_eq!(rel.get("GOCACHE"), Some("off"));
        assert!(matches!(rel.gocache_dir(), Err(EnvError::CacheOff)));
        assert_eq!(rel.problems.len(), 2, "{:?}", rel.problems);
    }

    #[test]
    fn macos_and_windows_use_their_own_dirs() {
        let mut i = inputs(&[("HOME", "/Users/u")], "");
        i.os = HostOs::MacOs;
        let e = resolve(&i);
        assert_eq!(e.get("GOENV"), Some("/Users/u/Library/Application Support/go/env"));
        assert_eq!(e.get("GOCACHE"), Some("/Users/u/Library/Caches/go-build"));
        let mut w = inputs(&[("AppData", r"C:\Users\u\AppData\Roaming"), ("LocalAppData", r"C:\L")], "");
        w.os = HostOs::Windows;
        assert_eq!(user_config_dir(&w.env, w.os).as_deref(), Ok(r"C:\Users\u\AppData\Roaming"));
        assert_eq!(user_cache_dir(&w.env, w.os).as_deref(), Ok(r"C:\L"));
    }

    #[test]
    fn first_gopath_entry_feeds_gomodcache() {
        let e = resolve(&inputs(&[("HOME", "/h"), ("GOPATH", "/a/b/:/c")], ""));
        assert_eq!(var(&e, "GOPATH"), ("/a/b/:/c".into(), Source::Env));
        assert_eq!(e.get("GOMODCACHE"), Some("/a/b/pkg/mod"));
        let empty_first = resolve(&inputs(&[("HOME", "/h"), ("GOPATH", ":/c")], ""));
        assert_eq!(empty_first.get("GOMODCACHE"), Some(""));
        assert!(empty_first.modcache_dir().is_err());
        assert!(empty_first.problems.iter().any(|p| p.key == "GOMODCACHE"));
    }

    #[test]
    fn gopath_from_user_file_feeds_gomodcache() {
        let e = resolve(&inputs(&[("HOME", "/h")], "GOPATH=/f\n"));
        assert_eq!(var(&e, "GOPATH"), ("/f".into(), user_file()));
        assert_eq!(e.get("GOMODCACHE"), Some("/f/pkg/mod"));
    }

    #[test]
    fn no_home_means_no_gopath_and_no_cache() {
        let e = resolve(&inputs(&[], ""));
        assert_eq!(e.get("GOPATH"), Some(""));
        assert_eq!(e.get("GOMODCACHE"), Some(""));
        assert_eq!(e.get("GOCACHE"), Some("off"));
        assert_eq!(e.get("GOENV"), Some(""));
        for key in ["GOPATH", "GOMODCACHE", "GOCACHE", "GOENV"] {
            assert!(e.problems.iter().any(|p| p.key == key), "{key}: {:?}", e.problems);
        }
    }

    #[test]
    fn default_gopath_equal_to_goroot_is_dropped() {
        let mut i = inputs(&[("HOME", "/h")], "");
        i.goroot = Some(Goroot { path: "/h/go".into(), source: Source::Default });
        assert_eq!(resolve(&i).get("GOPATH"), Some(""));
    }

    #[test]
    fn relative_values_are_problems_not_failures() {
        let e = resolve(&inputs(&[("HOME", "/h"), ("GOMODCACHE", "rel/mod"), ("GOCACHE", "rel/cache")], ""));
        assert_eq!(e.get("GOMODCACHE"), Some("rel/mod"));
        assert!(matches!(e.modcache_dir(), Err(EnvError::NotAbsolute { key: "GOMODCACHE", .. })));
        assert_eq!(var(&e, "GOCACHE"), ("off".into(), Source::Env));
        assert!(matches!(e.gocache_dir(), Err(EnvError::CacheOff)));
        assert_eq!(e.problems.len(), 2, "{:?}", e.problems);
    }

    #[test]
    fn gocache_off_is_reported() {
        let e = resolve(&inputs(&[("HOME", "/h")], "GOCACHE=off\n"));
        assert_eq!(var(&e, "GOCACHE"), ("off".into(), user_file()));
        assert!(matches!(e.gocache_dir(), Err(EnvError::CacheOff)));
        assert!(e.problems.iter().any(|p| p.key == "GOCACHE"));
    }

    #[test]
    fn goprivate_feeds_gonoproxy_and_gonosumdb_unless_they_are_set() {
        let e = resolve(&inputs(&[("HOME", "/h"), ("GOPRIVATE", "corp.example"), ("GONOSUMDB", "none")], ""));
        assert_eq!(var(&e, "GONOPROXY"), ("corp.example".into(), Source::Derived { from: "GOPRIVATE".into() }));
        assert_eq!(var(&e, "GONOSUMDB"), ("none".into(), Source::Env));
        let from_file = resolve(&inputs(&[("HOME", "/h")], "GOPRIVATE=f.example\nGONOPROXY=\n"));
        assert_eq!(from_file.get("GONOPROXY"), Some("f.example"), "empty file entry falls back to GOPRIVATE");
    }

    #[test]
    fn go_before_1_21_without_go_env_had_built_in_defaults() {
        let mut i = inputs(&[("HOME", "/h")], "");
        i.goroot_env = FileContents::Missing;
        i.go_version = Some("go1.20.14".into());
        let old = resolve(&i);
        assert_eq!(var(&old, "GOPROXY"), (LEGACY_GOPROXY.into(), Source::Default));
        assert_eq!(old.get("GOSUMDB"), Some(LEGACY_GOSUMDB));
        assert!(old.problems.is_empty());
        i.go_version = Some("go1.26.8".into());
        let new = resolve(&i);
        assert_eq!(new.get("GOPROXY"), Some(""));
        assert!(new.problems.iter().any(|p| p.key == "GOROOT"));
    }

    #[test]
    fn goroot_env_wins_over_located_goroot() {
        let e = resolve(&inputs(&[("HOME", "/h"), ("GOROOT", "/opt/go/")], ""));
        assert_eq!(var(&e, "GOROOT"), ("/opt/go/".into(), Source::Env));
        let mut i = inputs(&[("HOME", "/h")], "");
        i.goroot = None;
        let none = resolve(&i);
        assert_eq!(none.get("GOROOT"), Some(""));
        assert!(none.problems.iter().any(|p| p.key == "GOROOT"));
    }

    #[test]
    fn user_file_goroot_locates_go_env_before_the_environment_does() {
        let file = Path::new("/h/.config/go/env");
        let e = env(&[("GOROOT", "/env/go"), ("PATH", "")]);
        let found = locate_goroot(&e, Some(("/file/go/", file)), HostOs::Unix).unwrap();
        assert_eq!(found, Goroot { path: "/file/go".into(), source: Source::GoenvFile { path: file.into() } });
        let from_env = locate_goroot(&e, Some(("", file)), HostOs::Unix).unwrap();
        assert_eq!(from_env, Goroot { path: "/env/go".into(), source: Source::Env });
    }

    #[test]
    fn every_key_is_resolved_and_sources_render() {
        let e = resolve(&inputs(&[("HOME", "/h")], ""));
        assert_eq!(e.vars.keys().map(String::as_str).collect::<Vec<_>>(), KEYS);
        assert_eq!(goroot_file().to_string(), "GOROOT go.env /usr/local/go/go.env");
        assert_eq!(Source::Derived { from: "GOPRIVATE".into() }.to_string(), "derived from GOPRIVATE");
        let json = serde_json::to_value(&e.vars["GOPROXY"].source).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "goroot_env", "path": "/usr/local/go/go.env"}));
    }
}
