//! Prune policies: the TOML schema, its validation into a [`Policy`], and the
//! human duration and size syntax (`"30d"`, `"10GiB"`) they use.
//!
//! A policy file has three optional tables; every rule is optional and rules
//! combine (see `prune::plan` for how they interact):
//!
//! ```toml
//! [modcache]
//! max_age = "30d"            # remove versions unused for 30 days
//! max_size = "10GiB"         # then evict least recently used versions until under
//! keep = ["example.com/corp/*"]  # never remove these (GOPRIVATE-style globs)
//! keep_latest = 2            # never remove the newest 2 versions of each module
//! remove_corrupted = true    # remove what `gokeep verify` found broken
//! remove_debris = true       # .partial markers, temp downloads, orphans
//! zips_only_after = "7d"     # drop extracted trees unused for 7 days, keep zips
//! vcs_max_age = "30d"        # cache/vcs repositories unused for 30 days
//! sumdb = "keep"             # or "remove": cache/download/sumdb
//! toolchains_keep_latest = 1 # golang.org/toolchain versions per platform
//!
//! [gocache]
//! max_age = "3d"  max_size = "5GiB"  fuzz = "keep"  testcache = "keep"  refresh_kept = false
//!
//! [roots]
//! projects = ["~/src/*"]     # module versions these projects need are never removed
//! only_roots = false         # true: remove every other version (CI images)
//!
//! [discover]                 # `--discover`: every user's caches on the host
//! homes = true               # each home in the passwd file: ~/go/pkg/mod, ~/.cache/go-build, ~/.config/go/env
//! units = true               # GOMODCACHE/GOCACHE in systemd user units
//! globs = ["/srv/runner/*/go/pkg/mod"]  # more caches (CI runners' work dirs)
//! passwd = "/etc/passwd"
//! ```
//!
//! Errors name the file, line, column and dotted key
//! (`laptop.toml:3:12: modcache.max_size: "ten gigs" is not a size ...`);
//! unknown keys are errors, so a typo never silently disables a rule.
//! This module never touches the file system except to read the policy file.

use std::fmt::{self, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// Kept here for callers that still name it through `policy`.
pub use crate::go::pattern::match_prefix_patterns;
use crate::go::pattern::path_match;
use crate::layout::CacheKind;

/// A validated prune policy. `Policy::default()` removes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Policy {
    pub modcache: ModcachePolicy,
    pub gocache: GocachePolicy,
    pub roots: RootsPolicy,
    pub discover: DiscoverPolicy,
}

/// Rules for GOMODCACHE. Durations are "unused for at least".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ModcachePolicy {
    pub max_age: Option<Duration>,
    /// On-disk bytes the module cache may keep.
    pub max_size: Option<u64>,
    /// Module path globs, matched like GOPRIVATE ([`match_prefix_patterns`]).
    pub keep: Vec<String>,
    pub keep_latest: Option<usize>,
    pub remove_corrupted: bool,
    pub remove_debris: bool,
    pub zips_only_after: Option<Duration>,
    pub vcs_max_age: Option<Duration>,
    pub sumdb: SumdbMode,
    pub toolchains_keep_latest: Option<usize>,
    /// Every module version, VCS repository and the sumdb cache: the
    /// `go clean -modcache` equivalent, done unit by unit. Not settable from
    /// TOML; see [`Policy::everything`] and [`Overrides::all`].
    pub all: bool,
}

/// Rules for GOCACHE.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct GocachePolicy {
    pub max_age: Option<Duration>,
    pub max_size: Option<u64>,
    pub fuzz: FuzzMode,
    pub testcache: TestcacheMode,
    /// Set kept entries' mtimes to now after pruning, so that Go's own 5-day
    /// trim does not delete a cache baked into an image at its first build.
    /// The cost: entries that are never used again also live 5 more days.
    pub refresh_kept: bool,
}

/// GC roots for the module cache.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RootsPolicy {
    /// Project directories or globs (`~` is the home directory, `*` `?` `[..]`
    /// match within one path element).
    pub projects: Vec<String>,
    /// Where each `projects` entry came from, in step with it: `file:line:col`
    /// of the policy, or `--root`. Warnings name it.
    pub origins: Vec<String>,
    /// Remove every module version the projects do not need.
    pub only_roots: bool,
}

/// Where `--discover` looks for the caches of every user on the host. It
/// selects caches and removes nothing itself: each cache found is pruned by
/// the rules above, as its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DiscoverPolicy {
    /// Look in every home directory of the passwd file: `~/go/pkg/mod`,
    /// `~/.cache/go-build` and what the user's `go env -w` file sets.
    pub homes: bool,
    /// Read GOMODCACHE/GOCACHE from systemd user units
    /// (`~/.config/systemd/user/*.service`, `/etc/systemd/user/*.service`).
    pub units: bool,
    /// More cache directories, as absolute globs (`*` `?` `[..]` within one
    /// path element): CI runners' work directories.
    pub globs: Vec<String>,
    /// The accounts file whose homes are searched and whose names are shown.
    pub passwd: PathBuf,
}

/// The accounts file of the host.
pub const DEFAULT_PASSWD: &str = "/etc/passwd";

impl Default for DiscoverPolicy {
    fn default() -> Self {
        DiscoverPolicy { homes: true, units: true, globs: Vec::new(), passwd: PathBuf::from(DEFAULT_PASSWD) }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SumdbMode {
    #[default]
    Keep,
    Remove,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FuzzMode {
    #[default]
    Keep,
    Remove,
}

/// `expire` does what `go clean -testcache` does: cached test results
/// recorded before now are ignored (nothing is deleted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestcacheMode {
    #[default]
    Keep,
    Expire,
}

/// Why a policy could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// Something wrong at a place in the file; `key` is dotted
    /// (`modcache.max_size`) and empty when the file does not parse that far.
    #[error("{}", Located(self))]
    Invalid { path: PathBuf, line: usize, column: usize, key: String, message: String },
    /// A bad value given on the command line.
    #[error("{flag}: {message}")]
    Flag { flag: String, message: String },
}

struct Located<'a>(&'a PolicyError);

/// The most characters of one key an error shows.
const MAX_KEY_SHOWN: usize = 64;

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PolicyError::Invalid { path, line, column, key, message } = self.0 else { return Ok(()) };
        write!(f, "{}:{line}:{column}: ", path.display())?;
        // A key as long as a file (a pasted blob) is named by its start, in
        // the key and wherever the parser's message quotes it.
        let (mut key, mut message) = (key.clone(), message.clone());
        for part in key.clone().split('.').filter(|p| p.chars().count() > MAX_KEY_SHOWN) {
            let short = format!("{}…", part.chars().take(MAX_KEY_SHOWN).collect::<String>());
            key = key.replace(part, &short);
            message = message.replace(part, &short);
        }
        if !key.is_empty() {
            write!(f, "{key}: ")?;
        }
        f.write_str(&message)
    }
}

// ---------------------------------------------------------------------------
// The TOML schema as written. Values that need their own parsing keep their
// span so that errors point at them.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    modcache: RawModcache,
    #[serde(default)]
    gocache: RawGocache,
    #[serde(default)]
    roots: RawRoots,
    #[serde(default)]
    discover: RawDiscover,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawModcache {
    max_age: Option<Spanned<toml::Value>>,
    max_size: Option<Spanned<toml::Value>>,
    #[serde(default)]
    keep: Vec<Spanned<String>>,
    keep_latest: Option<Spanned<usize>>,
    #[serde(default)]
    remove_corrupted: bool,
    #[serde(default)]
    remove_debris: bool,
    zips_only_after: Option<Spanned<toml::Value>>,
    vcs_max_age: Option<Spanned<toml::Value>>,
    #[serde(default)]
    sumdb: SumdbMode,
    toolchains_keep_latest: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGocache {
    max_age: Option<Spanned<toml::Value>>,
    max_size: Option<Spanned<toml::Value>>,
    #[serde(default)]
    fuzz: FuzzMode,
    #[serde(default)]
    testcache: TestcacheMode,
    #[serde(default)]
    refresh_kept: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRoots {
    #[serde(default)]
    projects: Vec<Spanned<String>>,
    only_roots: Option<Spanned<bool>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDiscover {
    homes: Option<bool>,
    units: Option<bool>,
    #[serde(default)]
    globs: Vec<Spanned<String>>,
    passwd: Option<Spanned<String>>,
}

/// Turns raw values into checked ones, remembering where they were.
struct Checker<'a> {
    text: &'a str,
    origin: &'a Path,
}

impl Checker<'_> {
    fn error(&self, span: Range<usize>, key: &str, message: String) -> PolicyError {
        let (line, column) = line_col(self.text, span.start);
        PolicyError::Invalid { path: self.origin.to_owned(), line, column, key: key.to_owned(), message }
    }

    fn duration(&self, key: &str, v: Option<Spanned<toml::Value>>) -> Result<Option<Duration>, PolicyError> {
        let Some(v) = v else { return Ok(None) };
        let span = v.span();
        let d = match v.into_inner() {
            toml::Value::String(s) => {
                parse_duration(&s).map_err(|m| self.error(span.clone(), key, format!("{s:?} {m}")))?
            }
            other => {
                return Err(self.error(
                    span,
                    key,
                    format!("expected a duration string such as \"30d\", found {}", other.type_str()),
                ));
            }
        };
        Ok(Some(d))
    }

    fn size(&self, key: &str, v: Option<Spanned<toml::Value>>) -> Result<Option<u64>, PolicyError> {
        let Some(v) = v else { return Ok(None) };
        let span = v.span();
        match v.into_inner() {
            toml::Value::String(s) => parse_size(&s).map(Some).map_err(|m| self.error(span, key, format!("{s:?} {m}"))),
            toml::Value::Integer(n) => u64::try_from(n)
                .map_err(|_| format!("{n} is not a size (it is negative)"))
                .and_then(|b| nonzero_size(b).map_err(|m| format!("{n} {m}")))
                .map(Some)
                .map_err(|m| self.error(span, key, m)),
            other => Err(self.error(
                span,
                key,
                format!("expected a size such as \"10GiB\" or a number of bytes, found {}", other.type_str()),
            )),
        }
    }

    fn globs(&self, key: &str, globs: Vec<Spanned<String>>) -> Result<Vec<String>, PolicyError> {
        globs
            .into_iter()
            .map(|g| {
                let span = g.span();
                let g = g.into_inner();
                check_keep_glob(&g).map_err(|m| self.error(span, key, m))?;
                Ok(g)
            })
            .collect()
    }
}

impl Checker<'_> {
    /// Globs and the passwd file must be absolute: a timer's working
    /// directory is nobody's choice.
    fn discover(&self, raw: RawDiscover) -> Result<DiscoverPolicy, PolicyError> {
        let absolute = |key: &str, v: Spanned<String>| {
            let span = v.span();
            let v = v.into_inner();
            if Path::new(&v).is_absolute() {
                Ok(v)
            } else {
                Err(self.error(span, key, format!("{v:?} is not an absolute path")))
            }
        };
        let mut globs = Vec::new();
        for g in raw.globs {
            let span = g.span();
            let g = absolute("discover.globs", g)?;
            for part in g.split('/') {
                if path_match(part, "").is_err() {
                    return Err(self.error(span, "discover.globs", format!("{g:?} is not a valid pattern ({part:?})")));
                }
            }
            globs.push(g);
        }
        let passwd = match raw.passwd {
            Some(p) => PathBuf::from(absolute("discover.passwd", p)?),
            None => PathBuf::from(DEFAULT_PASSWD),
        };
        Ok(DiscoverPolicy { homes: raw.homes.unwrap_or(true), units: raw.units.unwrap_or(true), globs, passwd })
    }
}

impl Policy {
    pub fn from_file(path: &Path) -> Result<Policy, PolicyError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| PolicyError::Read { path: path.to_owned(), source })?;
        Self::from_toml(&text, path)
    }

    /// Parses and validates policy text; `origin` is the file name errors name.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Policy, PolicyError> {
        let check = Checker { text, origin };
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let (line, column) = line_col(text, offset);
            PolicyError::Invalid {
                path: origin.to_owned(),
                line,
                column,
                key: key_at(text, offset),
                message: e.message().trim().to_owned(),
            }
        })?;
        let mc = raw.modcache;
        let keep_latest = match mc.keep_latest {
            Some(k) if *k.get_ref() == 0 => {
                return Err(check.error(
                    k.span(),
                    "modcache.keep_latest",
                    "must be at least 1 (it protects the newest N versions of each module)".into(),
                ));
            }
            k => k.map(Spanned::into_inner),
        };
        let modcache = ModcachePolicy {
            max_age: check.duration("modcache.max_age", mc.max_age)?,
            max_size: check.size("modcache.max_size", mc.max_size)?,
            keep: check.globs("modcache.keep", mc.keep)?,
            keep_latest,
            remove_corrupted: mc.remove_corrupted,
            remove_debris: mc.remove_debris,
            zips_only_after: check.duration("modcache.zips_only_after", mc.zips_only_after)?,
            vcs_max_age: check.duration("modcache.vcs_max_age", mc.vcs_max_age)?,
            sumdb: mc.sumdb,
            toolchains_keep_latest: mc.toolchains_keep_latest,
            all: false,
        };
        let gc = raw.gocache;
        let gocache = GocachePolicy {
            max_age: check.duration("gocache.max_age", gc.max_age)?,
            max_size: check.size("gocache.max_size", gc.max_size)?,
            fuzz: gc.fuzz,
            testcache: gc.testcache,
            refresh_kept: gc.refresh_kept,
        };
        let rc = raw.roots;
        let only_roots = match rc.only_roots {
            // Without projects every version would count as "not a root".
            Some(o) if *o.get_ref() && rc.projects.is_empty() => {
                return Err(check.error(
                    o.span(),
                    "roots.only_roots",
                    "needs roots.projects (with no projects it would remove every module version)".into(),
                ));
            }
            o => o.is_some_and(Spanned::into_inner),
        };
        let origins = rc
            .projects
            .iter()
            .map(|p| {
                let (line, column) = line_col(text, p.span().start);
                format!("{}:{line}:{column}", origin.display())
            })
            .collect();
        let roots =
            RootsPolicy { projects: rc.projects.into_iter().map(Spanned::into_inner).collect(), origins, only_roots };
        let discover = check.discover(raw.discover)?;
        Ok(Policy { modcache, gocache, roots, discover })
    }

    /// The `go clean -modcache` equivalent: every module version, VCS
    /// repository and the sumdb cache, removed unit by unit under Go's locks.
    /// GOCACHE is left alone, as `go clean -modcache` leaves it.
    #[must_use]
    pub fn everything() -> Policy {
        let mut p = Policy::default();
        p.modcache.all = true;
        p.modcache.sumdb = SumdbMode::Remove;
        p
    }

    /// Combines a policy (possibly the default, empty one) with command-line
    /// flags: scalar flags replace the file's value, lists are appended to,
    /// switches can only turn a rule on.
    pub fn with_overrides(mut self, o: &Overrides) -> Result<Policy, PolicyError> {
        let m = &mut self.modcache;
        if let Some(d) = o.max_age {
            if d.is_zero() {
                return Err(PolicyError::Flag { flag: "--max-age".into(), message: "must be longer than 0".into() });
            }
            m.max_age = Some(d);
        }
        if let Some(s) = o.max_size {
            m.max_size = Some(s);
        }
        for g in &o.keep {
            check_keep_glob(g).map_err(|message| PolicyError::Flag { flag: "--keep".into(), message })?;
            m.keep.push(g.clone());
        }
        m.remove_corrupted |= o.corrupted;
        m.remove_debris |= o.debris;
        if o.all {
            m.all = true;
            m.sumdb = SumdbMode::Remove;
        }
        if o.roots_only {
            self.roots.projects.clear();
            self.roots.origins.clear();
        }
        self.roots.projects.extend(o.roots.iter().cloned());
        self.roots.origins.extend(o.roots.iter().map(|_| "--root".to_owned()));
        self.roots.only_roots |= o.only_roots;
        if self.roots.only_roots && self.roots.projects.is_empty() {
            return Err(PolicyError::Flag {
                flag: "--only-roots".into(),
                message: "needs at least one --root or roots.projects entry".into(),
            });
        }
        Ok(self)
    }

    /// Whether any rule of the policy removes from, or refreshes, `cache`:
    /// a command looks only at the caches its policy touches.
    #[must_use]
    pub fn touches(&self, cache: CacheKind) -> bool {
        match cache {
            CacheKind::ModCache => {
                let m = &self.modcache;
                m.max_age.is_some()
                    || m.max_size.is_some()
                    || m.remove_corrupted
                    || m.remove_debris
                    || m.zips_only_after.is_some()
                    || m.vcs_max_age.is_some()
                    || m.sumdb == SumdbMode::Remove
                    || m.toolchains_keep_latest.is_some()
                    || m.all
                    || self.roots.only_roots
            }
            CacheKind::BuildCache => {
                let g = &self.gocache;
                g.max_age.is_some()
                    || g.max_size.is_some()
                    || g.fuzz == FuzzMode::Remove
                    || g.testcache == TestcacheMode::Expire
                    || g.refresh_kept
            }
        }
    }
}

/// Command-line flags that adjust a policy (`gokeep prune --max-age ...`).
/// `max_age` and `max_size` apply to the module cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools, reason = "one field per command-line switch")]
pub struct Overrides {
    pub max_age: Option<Duration>,
    pub max_size: Option<u64>,
    pub keep: Vec<String>,
    /// More `[roots] projects` entries.
    pub roots: Vec<String>,
    /// `--roots-only`: `roots` replace the policy's projects instead of adding to them.
    pub roots_only: bool,
    pub only_roots: bool,
    pub corrupted: bool,
    pub debris: bool,
    /// `--all`: see [`Policy::everything`].
    pub all: bool,
}

// ---------------------------------------------------------------------------
// Durations and sizes.

const DURATION_EXAMPLES: &str = "(examples: 30d, 12h, 2w, 90m, 1d12h)";
const SIZE_EXAMPLES: &str = "(examples: 10GiB, 500MB, 1.5G, 4096B)";

/// Parses `30d`, `12h`, `2w`, `90m`, `45s`, `1.5d` and sums like `1d12h`.
/// Units: `s`, `m` (minutes), `h`, `d`, `w`, also spelt out (`days`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("is not a duration {DURATION_EXAMPLES}");
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut secs = 0f64;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_end);
        let tail = tail.trim_start();
        let unit_end = tail.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let n: f64 = num.parse().map_err(|_| bad())?;
        let per = match unit.to_ascii_lowercase().as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            "w" | "week" | "weeks" => 604_800.0,
            "" => return Err(format!("needs a unit {DURATION_EXAMPLES}")),
            _ => return Err(bad()),
        };
        secs += n * per;
        rest = tail.trim_start();
    }
    if !secs.is_finite() || secs > 1e12 {
        return Err(bad());
    }
    let d = Duration::from_secs(secs.round() as u64);
    if d.is_zero() {
        return Err(format!("must be longer than 0 (a zero age would select everything) {DURATION_EXAMPLES}"));
    }
    Ok(d)
}

/// A duration as people write it in a policy: `30d`, `3h`, `1d12h`, `90s`.
#[must_use]
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, per) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= per {
            let _ = write!(out, "{}{unit}", secs / per);
            secs %= per;
        }
    }
    out
}

/// Parses `10GiB`, `500MB`, `1.5G`, `750k` or `100B`.
/// `KB`/`MB`/`GB`/`TB` are powers of 1000; `KiB`... and the single letters
/// `K`/`M`/`G`/`T` (as `du -h` prints them) are powers of 1024. A bare number
/// is refused: `--max-age 30` is refused for lacking a unit, and `--max-size 10`
/// meaning ten bytes would be the same slip with the opposite effect.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("is not a size {SIZE_EXAMPLES}");
    let t = s.trim();
    let num_end = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(num_end);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" => return Err(format!("has no unit: write {num}GiB, {num}MB or {num}B {SIZE_EXAMPLES}")),
        "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => return Err(bad()),
    };
    let bytes = n * mult;
    if !bytes.is_finite() || bytes > u64::MAX as f64 {
        return Err(bad());
    }
    nonzero_size(bytes.round() as u64)
}

/// A size cap of zero bytes would evict every version: that is `--all`, asked for by name.
fn nonzero_size(bytes: u64) -> Result<u64, String> {
    if bytes == 0 {
        return Err("must be at least 1 byte (a zero cap would evict every entry; use --all for that)".into());
    }
    Ok(bytes)
}

// ---------------------------------------------------------------------------
// Keep globs: GOPRIVATE semantics.

fn check_keep_glob(g: &str) -> Result<(), String> {
    if g.split(',').all(|p| p.trim_end_matches('/').is_empty()) {
        return Err(format!("{g:?} is an empty pattern"));
    }
    for p in g.split(',') {
        // path.Match reports a bad pattern even when the name is empty.
        if path_match(p, "").is_err() {
            return Err(format!("{p:?} is not a valid pattern (syntax as in GOPRIVATE: *, ?, [a-z], \\x)"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Error positions.

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

/// The dotted key an offset belongs to: the table header above it plus the
/// `key =` on its line (or the nearest one above, for multi-line arrays).
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let mut key = None;
    let mut table = String::new();
    let lines_above = text[..line_end].lines().rev();
    for (i, line) in lines_above.enumerate() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix('[') {
            let name = h.trim_start_matches('[').split(']').next().unwrap_or("").trim();
            // The offset is on the header itself: an unknown table.
            if i == 0 {
                return name.to_owned();
            }
            name.clone_into(&mut table);
            break;
        }
        if key.is_none()
            && let Some((k, _)) = t.split_once('=')
        {
            let k = k.trim();
            if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || "_-.\"'".contains(c)) {
                key = Some(k.trim_matches(['"', '\'']).to_owned());
            }
        }
    }
    match (table.is_empty(), key) {
        (_, None) => table,
        (true, Some(k)) => k,
        (false, Some(k)) => format!("{table}.{k}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::from_toml(text, Path::new("schedules/x.toml"))
    }

    fn err(text: &str) -> String {
        parse(text).expect_err("policy should be rejected").to_string()
    }

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn full_policy_parses_into_typed_rules() {
        let p = parse(
            r#"
[modcache]
max_age = "30d"
max_size = "10GiB"
keep = ["example.com/corp/*", "*.internal"]
keep_latest = 2
remove_corrupted = true
remove_debris = true
zips_only_after = "7d"
vcs_max_age = "2w"
sumdb = "remove"
toolchains_keep_latest = 1

[gocache]
max_age = "3d"
max_size = 5368709120
fuzz = "remove"
testcache = "expire"
refresh_kept = true

[roots]
projects = ["~/src/*"]
only_roots = true
"#,
        )
        .unwrap();
        let m = &p.modcache;
        assert_eq!(m.max_age, Some(30 * DAY));
        assert_eq!(m.max_size, Some(10 << 30));
        assert_eq!(m.keep, ["example.com/corp/*", "*.internal"]);
        assert_eq!(m.keep_latest, Some(2));
        assert!(m.remove_corrupted && m.remove_debris && !m.all);
        assert_eq!(m.zips_only_after, Some(7 * DAY));
        assert_eq!(m.vcs_max_age, Some(14 * DAY));
        assert_eq!(m.sumdb, SumdbMode::Remove);
        assert_eq!(m.toolchains_keep_latest, Some(1));
        let g = &p.gocache;
        assert_eq!((g.max_age, g.max_size), (Some(3 * DAY), Some(5 << 30)));
        assert_eq!((g.fuzz, g.testcache, g.refresh_kept), (FuzzMode::Remove, TestcacheMode::Expire, true));
        assert_eq!(p.roots.projects, vec!["~/src/*".to_owned()]);
        assert!(p.roots.only_roots);
        assert_eq!(p.roots.origins.len(), 1);
        assert!(p.roots.origins[0].starts_with("schedules/x.toml:"), "{:?}", p.roots.origins);
    }

    #[test]
    fn empty_policy_removes_nothing() {
        let p = parse("# nothing\n").unwrap();
        assert_eq!(p, Policy::default());
        assert!(!p.touches(CacheKind::ModCache) && !p.touches(CacheKind::BuildCache));
        let all = Policy::everything();
        assert!(all.touches(CacheKind::ModCache) && !all.touches(CacheKind::BuildCache));
    }

    #[test]
    fn garbage_size_names_file_line_column_and_key() {
        assert_eq!(
            err("[modcache]\nmax_age = \"30d\"\nmax_size = \"ten gigs\"\n"),
            "schedules/x.toml:3:12: modcache.max_size: \"ten gigs\" is not a size (examples: 10GiB, 500MB, 1.5G, 4096B)"
        );
    }

    #[test]
    fn garbage_duration_and_wrong_types_are_located() {
        assert_eq!(
            err("[gocache]\n  max_age = \"soon\"\n"),
            "schedules/x.toml:2:13: gocache.max_age: \"soon\" is not a duration (examples: 30d, 12h, 2w, 90m, 1d12h)"
        );
        assert_eq!(
            err("[modcache]\nmax_age = 30\n"),
            "schedules/x.toml:2:11: modcache.max_age: expected a duration string such as \"30d\", found integer"
        );
        assert_eq!(
            err("[modcache]\nmax_age = \"30\"\n"),
            "schedules/x.toml:2:11: modcache.max_age: \"30\" needs a unit (examples: 30d, 12h, 2w, 90m, 1d12h)"
        );
        assert!(err("[modcache]\nmax_size = -5\n").starts_with("schedules/x.toml:2:12: modcache.max_size: -5 is not"));
    }

    #[test]
    fn unknown_keys_and_tables_are_named() {
        let e = err("[modcache]\nmax_age = \"30d\"\nmax_sise = \"1G\"\n");
        assert!(e.starts_with("schedules/x.toml:3:1: modcache.max_sise: unknown field `max_sise`"), "{e}");
        let e = err("[modcahce]\nmax_age = \"30d\"\n");
        assert!(e.starts_with("schedules/x.toml:1:2: modcahce: unknown field `modcahce`"), "{e}");
        let e = err("[roots]\nprojects = [\n  \"a\",\n  3,\n]\n");
        assert!(e.starts_with("schedules/x.toml:4:3: roots.projects: "), "{e}");
    }

    #[test]
    fn bad_enum_values_and_syntax_errors_are_located() {
        let e = err("[modcache]\nsumdb = \"delete\"\n");
        assert!(e.starts_with("schedules/x.toml:2:9: modcache.sumdb: unknown variant `delete`"), "{e}");
        let e = err("[modcache]\nmax_age = \n");
        assert!(e.starts_with("schedules/x.toml:2:"), "{e}");
    }

    #[test]
    fn values_that_would_select_everything_are_refused() {
        assert!(err("[modcache]\nmax_age = \"0d\"\n").contains("modcache.max_age: \"0d\" must be longer than 0"));
        assert!(err("[modcache]\nmax_size = 0\n").contains("modcache.max_size: 0 must be at least 1 byte"));
        assert!(err("[modcache]\nkeep_latest = 0\n").contains("modcache.keep_latest: must be at least 1"));
        assert!(err("[roots]\nonly_roots = true\n").starts_with("schedules/x.toml:2:14: roots.only_roots: needs"));
        assert!(
            err("[modcache]\nkeep = [\"ex[ample.com\"]\n").contains("modcache.keep: \"ex[ample.com\" is not a valid")
        );
        assert!(err("[modcache]\nkeep = [\"\"]\n").contains("modcache.keep: \"\" is an empty pattern"));
    }

    #[test]
    fn discover_section_defaults_to_homes_and_units_and_checks_paths() {
        let p = parse("[modcache]\nmax_age = \"30d\"\n").unwrap();
        assert_eq!(p.discover, DiscoverPolicy::default());
        assert!(p.discover.homes && p.discover.units && p.discover.globs.is_empty());
        assert_eq!(p.discover.passwd, Path::new("/etc/passwd"));
        let p = parse(
            "[discover]\nhomes = false\nunits = false\nglobs = [\"/srv/runner/*/go/pkg/mod\"]\npasswd = \"/srv/passwd\"\n",
        )
        .unwrap();
        assert_eq!(
            p.discover,
            DiscoverPolicy {
                homes: false,
                units: false,
                globs: vec!["/srv/runner/*/go/pkg/mod".into()],
                passwd: "/srv/passwd".into(),
            }
        );
        assert_eq!(
            err("[discover]\nglobs = [\"runner/*/go\"]\n"),
            "schedules/x.toml:2:10: discover.globs: \"runner/*/go\" is not an absolute path"
        );
        assert!(
            err("[discover]\nglobs = [\"/srv/[a\"]\n").contains("discover.globs: \"/srv/[a\" is not a valid pattern")
        );
        assert!(err("[discover]\npasswd = \"passwd\"\n").contains("discover.passwd: \"passwd\" is not an absolute"));
        assert!(err("[discover]\nhome = true\n").contains("discover.home: unknown field `home`"));
    }

    #[test]
    fn missing_file_is_named() {
        let e = Policy::from_file(Path::new("/nonexistent/p.toml")).unwrap_err();
        assert!(matches!(e, PolicyError::Read { .. }));
        assert!(e.to_string().starts_with("cannot read policy /nonexistent/p.toml: "), "{e}");
    }

    #[test]
    fn overrides_replace_scalars_and_append_lists() {
        let base = parse("[modcache]\nmax_age = \"30d\"\nkeep = [\"a.com\"]\n[roots]\nprojects = [\"/p\"]\n").unwrap();
        let o = Overrides {
            max_age: Some(DAY),
            max_size: Some(100),
            keep: vec!["b.com/*".into()],
            roots: vec!["/q".into()],
            corrupted: true,
            debris: true,
            ..Overrides::default()
        };
        let p = base.with_overrides(&o).unwrap();
        assert_eq!(p.modcache.max_age, Some(DAY));
        assert_eq!(p.modcache.max_size, Some(100));
        assert_eq!(p.modcache.keep, ["a.com", "b.com/*"]);
        assert_eq!(p.roots.projects, ["/p", "/q"]);
        assert!(p.modcache.remove_corrupted && p.modcache.remove_debris);
        let all = Policy::default().with_overrides(&Overrides { all: true, ..Overrides::default() }).unwrap();
        assert_eq!(all, Policy::everything());
    }

    #[test]
    fn bad_override_values_name_the_flag() {
        let bad_keep = Overrides { keep: vec!["[".into()], ..Overrides::default() };
        let e = Policy::default().with_overrides(&bad_keep).unwrap_err().to_string();
        assert!(e.starts_with("--keep: \"[\" is not a valid pattern"), "{e}");
        let e = Policy::default().with_overrides(&Overrides { only_roots: true, ..Overrides::default() });
        assert!(e.unwrap_err().to_string().starts_with("--only-roots: needs"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Ok(30 * DAY));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_duration("2w"), Ok(14 * DAY));
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("1.5d"), Ok(Duration::from_secs(129_600)));
        assert_eq!(parse_duration("1d12h"), Ok(Duration::from_secs(129_600)));
        assert_eq!(parse_duration("7 days"), Ok(7 * DAY));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("30").unwrap_err().starts_with("needs a unit"));
        assert!(parse_duration("30y").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("-1d").is_err());
    }

    #[test]
    fn durations_print_as_written() {
        for s in ["30d", "3h", "1d12h", "45s", "1h30m", "2h"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
        assert_eq!(format_duration(parse_duration("2w").unwrap()), "14d");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10GiB"), Ok(10 << 30));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("750k"), Ok(750 * 1024));
        assert_eq!(parse_size("1 TiB"), Ok(1 << 40));
        assert_eq!(parse_size("1048576B"), Ok(1_048_576));
        assert!(parse_size("1048576").unwrap_err().starts_with("has no unit"));
        assert!(parse_size("0.4").is_err());
        assert!(parse_size("0GiB").unwrap_err().contains("zero cap"));
        assert!(parse_duration("0d").unwrap_err().contains("longer than 0"));
        assert_eq!(parse_size("12b"), Ok(12));
        assert!(parse_size("ten gigs").is_err());
        assert!(parse_size("10GiBs").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("-1G").is_err());
    }

    #[test]
    fn shipped_schedules_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schedules");
        for name in ["nightly.toml", "laptop.toml", "ci-image.toml"] {
            let p = Policy::from_file(&dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
            assert!(p.touches(CacheKind::ModCache) || p.touches(CacheKind::BuildCache), "{name} selects nothing");
        }
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncé=x", 7), (2, 4));
        assert_eq!(line_col("", 0), (1, 1));
    }
}
