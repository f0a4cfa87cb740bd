//! The doctor's rules: what in the effective Go environment makes module
//! downloads fail, leak private paths or go unverified. Each finding has a
//! rule id, a severity, a message naming the value concerned and, where one
//! exists, a concrete fix as a `go env -w` line. Secrets (netrc passwords,
//! URL user info) are never copied into a finding.
//!
//! Pure: the caller reads the process environment, the GOENV file and the
//! netrc file and passes their contents in.

use std::collections::BTreeMap;

use serde::Serialize;

use super::route::{Entry, Route, SumdbAccess, parse_gosumdb, proxy_list, route};
use crate::go::pattern::{match_prefix_patterns, path_match};
use crate::goenv::GoEnv;

/// One scale of severity for every finding gokeep reports, cache or configuration.
pub use crate::verify::finding::Severity;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// The variable concerned.
    pub key: String,
    pub message: String,
    /// A command that fixes it, when there is one.
    pub fix: Option<String>,
}

/// What the rules read besides the resolved environment.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The process environment (empty values count as unset, as in Go).
    pub process: BTreeMap<String, String>,
    /// The GOENV file's `KEY=VALUE` lines, in order.
    pub file: Vec<(String, String)>,
    /// The netrc file's text when GOAUTH uses netrc and the file exists.
    pub netrc: Option<String>,
}

impl Inputs {
    /// Reads what the rules need: the given process environment, the GOENV
    /// file `env` names, and the netrc file (`$NETRC`, else `~/.netrc`) as
    /// `auth.netrcPath` finds it. Missing files are simply absent.
    #[must_use]
    pub fn read(process: BTreeMap<String, String>, env: &GoEnv) -> Self {
        let file = env
            .get("GOENV")
            .filter(|p| !p.is_empty())
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| crate::goenv::parse_env_file(&t))
            .unwrap_or_default();
        let netrc_path = process
            .get("NETRC")
            .filter(|v| !v.is_empty())
            .cloned()
            .or_else(|| process.get("HOME").filter(|v| !v.is_empty()).map(|h| format!("{h}/.netrc")));
        let netrc = netrc_path.and_then(|p| std::fs::read_to_string(p).ok());
        Self { process, file, netrc }
    }
}

/// Every variable `go help environment` documents, plus the runtime's own:
/// a `GO*` name outside this list is not read by Go.
pub const KNOWN_VARS: &[&str] = &[
    "GO111MODULE",
    "GO386",
    "GOAMD64",
    "GOARCH",
    "GOARM",
    "GOARM64",
    "GOAUTH",
    "GOBIN",
    "GOCACHE",
    "GOCACHEPROG",
    "GOCOVERDIR",
    "GODEBUG",
    "GOENV",
    "GOEXE",
    "GOEXPERIMENT",
    "GOFIPS140",
    "GOFLAGS",
    "GOGCCFLAGS",
    "GOHOSTARCH",
    "GOHOSTOS",
    "GOINSECURE",
    "GOMIPS",
    "GOMIPS64",
    "GOMOD",
    "GOMODCACHE",
    "GONOPROXY",
    "GONOSUMDB",
    "GOOS",
    "GOPATH",
    "GOPPC64",
    "GOPRIVATE",
    "GOPROXY",
    "GORISCV64",
    "GOROOT",
    "GOSUMDB",
    "GOTELEMETRY",
    "GOTELEMETRYDIR",
    "GOTMPDIR",
    "GOTOOLCHAIN",
    "GOTOOLDIR",
    "GOVCS",
    "GOVERSION",
    "GOWASM",
    "GOWORK",
    "GO_EXTLINK_ENABLED",
    "GOGC",
    "GOMAXPROCS",
    "GOMEMLIMIT",
    "GOTRACEBACK",
    "GOROOT_FINAL",
    "GO_GCFLAGS",
    "GO_LDFLAGS",
];

/// Names from proposals and pre-release builds that Go never shipped, with
/// what to use instead.
const NEVER_SHIPPED: &[(&str, &str)] =
    &[("GONOSUMCHECK", "GONOSUMDB"), ("GONOVERIFY", "GONOSUMDB"), ("GOSUMDBPRIVATE", "GONOSUMDB")];

/// Hosts that only serve public modules: a path on them is not private.
const PUBLIC_HOSTS: &[&str] = &[
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "golang.org",
    "google.golang.org",
    "gopkg.in",
    "go.uber.org",
    "k8s.io",
    "sigs.k8s.io",
    "cloud.google.com",
    "go.opentelemetry.io",
    "honnef.co",
    "gotest.tools",
    "go.etcd.io",
    "gorm.io",
    "go.mongodb.org",
    "dario.cat",
    "filippo.io",
    "mvdan.cc",
    "modernc.org",
    "lukechampine.com",
];

/// Shell-quotes a `go env -w KEY=VALUE` argument when it needs it (`|`, `*`, spaces).
#[must_use]
pub fn go_env_w(key: &str, value: &str) -> String {
    let arg = format!("{key}={value}");
    if arg.chars().all(|c| c.is_ascii_alphanumeric() || "=,./:_-+@".contains(c)) {
        format!("go env -w {arg}")
    } else {
        format!("go env -w '{}'", arg.replace('\'', r"'\''"))
    }
}

fn var<'a>(env: &'a GoEnv, key: &str) -> &'a str {
    env.get(key).unwrap_or("")
}

/// A URL with any `user:password@` removed, so findings never carry it.
#[must_use]
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host_end = rest.find('/').unwrap_or(rest.len());
            match rest[..host_end].rfind('@') {
                Some(at) => format!("{scheme}://xxxxx@{}", &rest[at + 1..]),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

struct Out(Vec<Finding>);

impl Out {
    fn add(&mut self, rule: &'static str, severity: Severity, key: &str, message: String, fix: Option<String>) {
        self.0.push(Finding { rule, severity, key: key.to_owned(), message, fix });
    }
}

/// Runs every environment rule.
#[must_use]
pub fn lint(env: &GoEnv, inputs: &Inputs) -> Vec<Finding> {
    let mut out = Out(Vec::new());
    goproxy(env, &mut out);
    gosumdb(env, &mut out);
    patterns(env, &mut out);
    unknown_vars(inputs, &mut out);
    conflicts(inputs, &mut out);
    goflags(env, inputs, &mut out);
    toolchain(env, inputs, &mut out);
    goauth(inputs, &mut out);
    out.0
}

fn goproxy(env: &GoEnv, out: &mut Out) {
    let value = var(env, "GOPROXY");
    let list = match proxy_list(value, var(env, "GONOPROXY")) {
        Ok(list) => list,
        Err(e) => {
            out.add(
                "goproxy-invalid",
                Severity::Error,
                "GOPROXY",
                format!("GOPROXY={} is unusable: every download fails with \"{e}\"", redact(value)),
                Some(go_env_w("GOPROXY", "https://proxy.golang.org,direct")),
            );
            return;
        }
    };
    let proxies: Vec<(&str, bool)> = list
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::Proxy { url, fall_back_on_error } => Some((url.as_str(), *fall_back_on_error)),
            _ => None,
        })
        .collect();
    let ends_direct = list.entries.last() == Some(&Entry::Direct);
    // `,` between two proxies: only 404/410 reach the second one.
    if proxies.len() >= 2 && proxies[..proxies.len() - 1].iter().any(|(_, pipe)| !pipe) {
        let fixed = rebuild(&proxies, ends_direct, true);
        let firsts: Vec<String> =
            proxies[..proxies.len() - 1].iter().filter(|(_, p)| !p).map(|(u, _)| redact(u)).collect();
        out.add(
            "goproxy-comma-no-fallback",
            Severity::Warning,
            "GOPROXY",
            format!(
                "a 403, 5xx, timeout or TLS error from {} is fatal: `,` moves to the next proxy only on 404 or 410",
                firsts.join(", ")
            ),
            Some(go_env_w("GOPROXY", &fixed)),
        );
    }
    if !list.unreachable.is_empty() {
        let fixed = list.written.join(",");
        out.add(
            "goproxy-unreachable-entries",
            Severity::Warning,
            "GOPROXY",
            format!(
                "{} after `direct`/`off` are never used: Go stops at the first of those",
                list.unreachable.iter().map(|u| redact(u)).collect::<Vec<_>>().join(", ")
            ),
            Some(go_env_w("GOPROXY", &fixed)),
        );
    }
    let mut seen = Vec::new();
    for (url, _) in &proxies {
        let norm = url.trim_end_matches('/');
        if seen.contains(&norm) {
            out.add(
                "goproxy-duplicate",
                Severity::Warning,
                "GOPROXY",
                format!("{} appears twice: a failing proxy is asked twice", redact(url)),
                Some(go_env_w("GOPROXY", &rebuild_dedup(&proxies, ends_direct))),
            );
        } else {
            seen.push(norm);
        }
        if url.starts_with("http://") {
            out.add(
                "goproxy-plain-http",
                Severity::Warning,
                "GOPROXY",
                format!(
                    "{} is plain http: module paths and contents travel unencrypted (GOINSECURE does not apply to proxies)",
                    redact(url)
                ),
                Some(go_env_w("GOPROXY", &value.replace("http://", "https://"))),
            );
        }
    }
    if list.entries.last() == Some(&Entry::Off) && proxies.is_empty() && var(env, "GONOPROXY").is_empty() {
        out.add(
            "goproxy-off",
            Severity::Info,
            "GOPROXY",
            "GOPROXY=off: only modules already in the module cache can be used".into(),
            None,
        );
    }
}

fn rebuild(proxies: &[(&str, bool)], ends_direct: bool, pipes: bool) -> String {
    let mut s = String::new();
    for (i, (url, _)) in proxies.iter().enumerate() {
        if i > 0 {
            s.push(if pipes || proxies[i - 1].1 { '|' } else { ',' });
        }
        s.push_str(url);
    }
    if ends_direct {
        s.push_str(",direct");
    }
    s
}

fn rebuild_dedup(proxies: &[(&str, bool)], ends_direct: bool) -> String {
    let mut kept: Vec<(&str, bool)> = Vec::new();
    for p in proxies {
        if !kept.iter().any(|k| k.0.trim_end_matches('/') == p.0.trim_end_matches('/')) {
            kept.push(*p);
        }
    }
    rebuild(&kept, ends_direct, false)
}

fn gosumdb(env: &GoEnv, out: &mut Out) {
    let value = var(env, "GOSUMDB");
    if value == "off" {
        out.add(
            "gosumdb-off",
            Severity::Warning,
            "GOSUMDB",
            "GOSUMDB=off: a module's first download is trusted without any check; list private paths in GOPRIVATE instead"
                .into(),
            Some(go_env_w("GOSUMDB", "sum.golang.org")),
        );
        return;
    }
    if let Err(e) = parse_gosumdb(value) {
        out.add(
            "gosumdb-invalid",
            Severity::Error,
            "GOSUMDB",
            format!("GOSUMDB={value:?} is rejected by go (\"{e}\"): every new module fails verification"),
            Some(go_env_w("GOSUMDB", "sum.golang.org")),
        );
    }
}

/// Why a glob can never match a module path, if it cannot.
fn dead_glob(glob: &str) -> Option<&'static str> {
    if glob != glob.trim() {
        return Some("has spaces around it (Go does not trim list entries)");
    }
    if glob.contains("://") {
        return Some("has a URL scheme; module paths have none");
    }
    if glob.contains(char::is_whitespace) {
        return Some("contains a space");
    }
    if glob.contains('@') {
        return Some("contains a version; patterns match paths only");
    }
    if path_match(glob, "").is_err() {
        return Some("is not a valid pattern (path.Match syntax)");
    }
    None
}

fn globs(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').filter(|g| !g.is_empty())
}

fn patterns(env: &GoEnv, out: &mut Out) {
    for key in ["GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOINSECURE"] {
        let value = var(env, key);
        // Derived values are reported under GOPRIVATE.
        if key != "GOPRIVATE" && env.vars.get(key).is_some_and(|v| v.source.to_string().starts_with("derived")) {
            continue;
        }
        let dead: Vec<(&str, &str)> = globs(value).filter_map(|g| dead_glob(g).map(|why| (g, why))).collect();
        if dead.is_empty() {
            continue;
        }
        let fixed: Vec<String> = globs(value)
            .filter_map(|g| {
                let t = g.trim();
                let t = t.split_once("://").map_or(t, |(_, rest)| rest);
                let t = t.split_once('@').map_or(t, |(p, _)| p);
                (dead_glob(t).is_none() && !t.is_empty()).then(|| t.to_owned())
            })
            .collect();
        for (g, why) in &dead {
            out.add(
                "pattern-matches-nothing",
                Severity::Warning,
                key,
                format!("{key} entry {g:?} {why}: it matches no module path"),
                Some(go_env_w(key, &fixed.join(","))),
            );
        }
    }
    // GONOPROXY set apart from GOPRIVATE: paths it covers are fetched
    // directly but still looked up in the public checksum database.
    if var(env, "GOSUMDB") != "off" {
        let nosumdb = var(env, "GONOSUMDB");
        let leaking: Vec<&str> = globs(var(env, "GONOPROXY"))
            .filter(|g| !globs(nosumdb).any(|n| n == *g) && !match_prefix_patterns(nosumdb, g))
            .collect();
        if !leaking.is_empty() {
            let mut all: Vec<&str> = globs(nosumdb).collect();
            all.extend(&leaking);
            out.add(
                "gonoproxy-without-gonosumdb",
                Severity::Warning,
                "GONOSUMDB",
                format!(
                    "{} bypass the proxy (GONOPROXY) but not the checksum database: their paths are sent to {} and their lookups fail with 404/410",
                    leaking.join(", "),
                    parse_gosumdb(var(env, "GOSUMDB")).map_or_else(|_| "the checksum database".to_owned(), |d| d.name)
                ),
                Some(go_env_w("GONOSUMDB", &all.join(","))),
            );
        }
    }
    for g in globs(var(env, "GOINSECURE")) {
        let first = g.split('/').next().unwrap_or(g);
        let labels: Vec<&str> = first.split('.').collect();
        let wide = first.contains('*') && labels.iter().filter(|l| !l.contains(['*', '?', '['])).count() < 2;
        if wide {
            out.add(
                "goinsecure-too-wide",
                Severity::Warning,
                "GOINSECURE",
                format!("GOINSECURE entry {g:?} turns off HTTPS checks for whole top-level domains"),
                Some(go_env_w("GOINSECURE", "<your.host>/<path>")),
            );
        }
    }
}

/// The known name a typo most likely meant: one edit away (or a swap).
fn nearest(name: &str) -> Option<&'static str> {
    KNOWN_VARS.iter().copied().find(|k| edit_distance(name, k) <= 1 || is_swap(name, k))
}

fn is_swap(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    diff.len() == 2 && diff[1] == diff[0] + 1 && a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]]
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn unknown_vars(inputs: &Inputs, out: &mut Out) {
    let from_env = inputs.process.iter().filter(|(_, v)| !v.is_empty()).map(|(k, _)| (k.as_str(), "the environment"));
    let from_file = inputs.file.iter().map(|(k, _)| (k.as_str(), "the GOENV file"));
    let mut seen = Vec::new();
    for (name, place) in from_env.chain(from_file) {
        if !name.starts_with("GO") || KNOWN_VARS.contains(&name) || seen.contains(&(name, place)) {
            continue;
        }
        seen.push((name, place));
        let (meant, certain) = match NEVER_SHIPPED.iter().find(|(n, _)| *n == name) {
            Some((_, use_instead)) => (Some(*use_instead), true),
            None => (nearest(name), false),
        };
        // Other tools use GO-prefixed names too (GOPLS_*, GORELEASER_*):
        // in the environment only near-misses are reported.
        if meant.is_none() && place == "the environment" {
            continue;
        }
        let message = match meant {
            Some(m) if certain => {
                format!("{name} in {place} is not a Go variable (it never shipped); Go ignores it: use {m}")
            }
            Some(m) => format!("{name} in {place} is not a Go variable; Go ignores it. Did you mean {m}?"),
            None => format!("{name} in {place} is not a Go variable; Go ignores it"),
        };
        let fix = if place == "the GOENV file" { format!("go env -u {name}") } else { format!("unset {name}") };
        out.add("unknown-variable", Severity::Warning, name, message, Some(fix));
    }
}

fn conflicts(inputs: &Inputs, out: &mut Out) {
    let file: BTreeMap<&str, &str> = inputs.file.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for (k, v) in &inputs.process {
        if v.is_empty() || !KNOWN_VARS.contains(&k.as_str()) {
            continue;
        }
        if let Some(fv) = file.get(k.as_str()).filter(|fv| *fv != v) {
            let secret = k == "GOAUTH";
            let show = |s: &str| if secret { "…".to_owned() } else { format!("{:?}", redact(s)) };
            out.add(
                "env-overrides-file",
                Severity::Info,
                k,
                format!("{k} is {} in the environment and {} in the GOENV file: the environment wins, and `go env -w {k}` fails while it is set", show(v), show(fv)),
                Some(format!("go env -u {k}")),
            );
        }
    }
}

fn goflags(env: &GoEnv, inputs: &Inputs, out: &mut Out) {
    let value = inputs
        .process
        .get("GOFLAGS")
        .filter(|v| !v.is_empty())
        .map(String::as_str)
        .or_else(|| inputs.file.iter().rev().find(|(k, _)| k == "GOFLAGS").map(|(_, v)| v.as_str()))
        .or_else(|| env.get("GOFLAGS"))
        .unwrap_or("");
    let words = match split_quoted(value) {
        Ok(w) => w,
        Err(e) => {
            out.add(
                "goflags-invalid",
                Severity::Error,
                "GOFLAGS",
                format!("every go command fails with \"go: parsing $GOFLAGS: {e}\""),
                Some(go_env_w("GOFLAGS", "")),
            );
            return;
        }
    };
    for f in &words {
        let bad = !f.starts_with('-')
            || f == "-"
            || f == "--"
            || f.starts_with("---")
            || f.starts_with("-=")
            || f.starts_with("--=");
        if bad {
            let kept: Vec<&str> = words.iter().filter(|w| w.starts_with('-') && *w != f).map(String::as_str).collect();
            out.add(
                "goflags-invalid",
                Severity::Error,
                "GOFLAGS",
                format!("every go command fails with \"go: parsing $GOFLAGS: non-flag {f:?}\" (write -flag=value, not -flag value)"),
                Some(go_env_w("GOFLAGS", &kept.join(" "))),
            );
        }
    }
}

/// `cmd/internal/quoted.Split`: fields split on spaces, `'` or `"` quoting a
/// whole field.
fn split_quoted(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        let Some(c) = rest.chars().next() else { return Ok(out) };
        if c == '\'' || c == '"' {
            let Some(end) = rest[1..].find(c) else { return Err(format!("unterminated {c} string")) };
            out.push(rest[1..=end].to_owned());
            rest = &rest[end + 2..];
            continue;
        }
        let end = rest.find([' ', '\t', '\n', '\r']).unwrap_or(rest.len());
        out.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
}

fn toolchain(env: &GoEnv, _inputs: &Inputs, out: &mut Out) {
    let value = var(env, "GOTOOLCHAIN");
    if value == "local" || value.ends_with("+path") || value == "path" {
        return;
    }
    let r = route(env, "golang.org/toolchain");
    let through: Vec<String> = r.proxies().iter().map(|p| redact(p)).collect();
    if r.error.is_none() && through.is_empty() {
        out.add(
            "toolchain-no-proxy",
            Severity::Warning,
            "GOTOOLCHAIN",
            format!("GOTOOLCHAIN={value} may switch toolchains, which are downloaded as golang.org/toolchain through GOPROXY, but GOPROXY sends that path to no proxy: a switch fails"),
            Some(go_env_w("GOTOOLCHAIN", "local")),
        );
    }
    if let SumdbAccess::Invalid { error } = &r.sumdb {
        out.add(
            "toolchain-needs-sumdb",
            Severity::Warning,
            "GOSUMDB",
            format!("GOTOOLCHAIN={value} may download a toolchain, which Go always checks against the checksum database: with GOSUMDB as it is, that fails ({error})"),
            Some(go_env_w("GOTOOLCHAIN", "local")),
        );
    }
}

/// Machines of netrc entries that Go drops because login or password is
/// missing (`auth.parseNetrc` keeps only complete entries).
#[must_use]
pub fn incomplete_netrc_machines(data: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<(String, bool, bool)> = None;
    let mut in_macro = false;
    let flush = |c: &mut Option<(String, bool, bool)>, out: &mut Vec<String>| {
        if let Some((m, login, password)) = c.take()
            && !(login && password)
        {
            out.push(m);
        }
    };
    'lines: for line in data.split('\n') {
        if in_macro {
            in_macro = !line.is_empty();
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let mut i = 0;
        while i + 1 < f.len() {
            match f[i] {
                "machine" => {
                    flush(&mut current, &mut out);
                    current = Some((f[i + 1].to_owned(), false, false));
                }
                "login" => {
                    if let Some(c) = current.as_mut() {
                        c.1 = true;
                    }
                }
                "password" => {
                    if let Some(c) = current.as_mut() {
                        c.2 = true;
                    }
                }
                "macdef" => in_macro = true,
                _ => {}
            }
            if current.as_ref().is_some_and(|c| c.1 && c.2) {
                current = None;
            }
            i += 2;
        }
        if f.get(i) == Some(&"default") {
            break 'lines;
        }
    }
    flush(&mut current, &mut out);
    out
}

fn goauth(inputs: &Inputs, out: &mut Out) {
    let value = inputs
        .process
        .get("GOAUTH")
        .filter(|v| !v.is_empty())
        .map(String::as_str)
        .or_else(|| inputs.file.iter().rev().find(|(k, _)| k == "GOAUTH").map(|(_, v)| v.as_str()))
        .unwrap_or("netrc");
    let cmds: Vec<&str> = value.split(';').map(str::trim).collect();
    for c in &cmds {
        let words: Vec<&str> = c.split_whitespace().collect();
        let problem = match words.first() {
            None => {
                Some("GOAUTH has an empty command: go stops with \"GOAUTH encountered an empty command\"".to_owned())
            }
            Some(&"off") if cmds.len() != 1 => {
                Some("GOAUTH=off cannot be combined with other methods: go stops".to_owned())
            }
            Some(&"git") if words.len() != 2 || !words[1].starts_with('/') => {
                Some("GOAUTH's git method needs one absolute directory: go stops".to_owned())
            }
            _ => None,
        };
        if let Some(message) = problem {
            out.add("goauth-invalid", Severity::Error, "GOAUTH", message, Some(go_env_w("GOAUTH", "netrc")));
        }
    }
    if cmds.iter().any(|c| c.split_whitespace().next() == Some("netrc"))
        && let Some(data) = &inputs.netrc
    {
        for machine in incomplete_netrc_machines(data) {
            out.add(
                "netrc-incomplete",
                Severity::Warning,
                "GOAUTH",
                format!("the netrc entry for {machine} lacks a login or a password: Go ignores it and sends no credentials to {machine}"),
                None,
            );
        }
    }
}

/// Per-module rule: a path that looks private (not on a public host) and
/// that GOPRIVATE/GONOPROXY does not cover is sent to proxies and, unless
/// GONOSUMDB covers it, to the checksum database.
#[must_use]
pub fn lint_route(r: &Route) -> Option<Finding> {
    let host = r.module.split('/').next().unwrap_or("");
    if r.private_fetch || r.module == "golang.org/toolchain" || !host.contains('.') || is_public_host(host) {
        return None;
    }
    let mut to: Vec<String> = r.proxies().into_iter().filter(|p| !same_organisation(host, p)).map(redact).collect();
    if let SumdbAccess::Consulted { db, .. } = &r.sumdb {
        to.push(format!("checksum database {}", db.name));
    }
    if to.is_empty() {
        return None;
    }
    let org = private_pattern(host);
    Some(Finding {
        rule: "private-path-leak",
        severity: Severity::Warning,
        key: "GOPRIVATE".into(),
        message: format!(
            "{} is on {host}, not a public code host, and GOPRIVATE does not cover it: its path is sent to {}; if it is private, the download fails (404/410) and the path leaks",
            r.module,
            to.join(", ")
        ),
        fix: Some(go_env_w("GOPRIVATE", &org)),
    })
}

fn is_public_host(host: &str) -> bool {
    PUBLIC_HOSTS.iter().any(|h| host == *h || host.ends_with(&format!(".{h}")))
}

/// The registrable-looking tail of a host (`git.corp.example` → `corp.example`).
fn org_domain(host: &str) -> &str {
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() <= 2 {
        return host;
    }
    let start = host.len() - labels[labels.len() - 2..].join(".").len();
    &host[start..]
}

fn same_organisation(module_host: &str, proxy: &str) -> bool {
    let proxy_host = proxy.split_once("://").map_or(proxy, |(_, r)| r);
    let proxy_host = proxy_host.split(['/', ':']).next().unwrap_or("");
    let proxy_host = proxy_host.rsplit('@').next().unwrap_or(proxy_host);
    org_domain(proxy_host) == org_domain(module_host) || proxy.starts_with("file://")
}

/// The GOPRIVATE-style pattern covering `module`'s organisation.
#[must_use]
pub fn go_env_w_value_for_private(module: &str) -> String {
    private_pattern(module.split('/').next().unwrap_or(module))
}

fn private_pattern(host: &str) -> String {
    let org = org_domain(host);
    if org == host { org.to_owned() } else { format!("*.{org},{org}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goenv::{Source, Var};

    fn env(pairs: &[(&str, &str)]) -> GoEnv {
        let mut e = GoEnv::default();
        let defaults =
            [("GOPROXY", "https://proxy.golang.org,direct"), ("GOSUMDB", "sum.golang.org"), ("GOTOOLCHAIN", "local")];
        for (k, v) in defaults.iter().chain(pairs) {
            e.vars.insert((*k).to_owned(), Var { value: (*v).to_owned(), source: Source::Env });
        }
        e
    }

    fn run(pairs: &[(&str, &str)]) -> Vec<Finding> {
        lint(&env(pairs), &Inputs::default())
    }

    fn only(findings: &[Finding], rule: &str) -> Finding {
        let hits: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule).collect();
        assert_eq!(hits.len(), 1, "{rule} in {findings:#?}");
        hits[0].clone()
    }

    #[test]
    fn default_environment_has_no_findings() {
        assert_eq!(run(&[]), vec![]);
    }

    #[test]
    fn comma_between_proxies_is_flagged_with_a_pipe_fix() {
        let f = only(
            &run(&[("GOPROXY", "https://corp.example/proxy,https://proxy.golang.org,direct")]),
            "goproxy-comma-no-fallback",
        );
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.message,
            "a 403, 5xx, timeout or TLS error from https://corp.example/proxy is fatal: `,` moves to the next proxy only on 404 or 410"
        );
        assert_eq!(
            f.fix.as_deref(),
            Some("go env -w 'GOPROXY=https://corp.example/proxy|https://proxy.golang.org,direct'")
        );
        assert!(run(&[("GOPROXY", "https://corp.example/proxy|https://proxy.golang.org,direct")]).is_empty());
    }

    #[test]
    fn entries_after_direct_or_off_are_unreachable() {
        let f = only(&run(&[("GOPROXY", "direct,https://proxy.golang.org")]), "goproxy-unreachable-entries");
        assert_eq!(
            f.message,
            "https://proxy.golang.org after `direct`/`off` are never used: Go stops at the first of those"
        );
        assert_eq!(f.fix.as_deref(), Some("go env -w GOPROXY=direct"));
    }

    #[test]
    fn unusable_goproxy_is_an_error_with_go_wording() {
        let f = only(&run(&[("GOPROXY", ",")]), "goproxy-invalid");
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.message,
            "GOPROXY=, is unusable: every download fails with \"GOPROXY list is not the empty string, but contains no entries\""
        );
        assert_eq!(f.fix.as_deref(), Some("go env -w GOPROXY=https://proxy.golang.org,direct"));
    }

    #[test]
    fn duplicates_and_plain_http_are_flagged_without_credentials() {
        let fs =
            run(&[("GOPROXY", "http://bob:s3cret@proxy.corp.example|http://bob:s3cret@proxy.corp.example,direct")]);
        let dup = only(&fs, "goproxy-duplicate");
        assert_eq!(dup.message, "http://xxxxx@proxy.corp.example appears twice: a failing proxy is asked twice");
        assert_eq!(dup.fix.as_deref(), Some("go env -w GOPROXY=http://bob:s3cret@proxy.corp.example,direct"));
        let http = only(&run(&[("GOPROXY", "http://proxy.corp.example,direct")]), "goproxy-plain-http");
        assert_eq!(
            http.message,
            "http://proxy.corp.example is plain http: module paths and contents travel unencrypted (GOINSECURE does not apply to proxies)"
        );
        assert_eq!(http.fix.as_deref(), Some("go env -w GOPROXY=https://proxy.corp.example,direct"));
        assert!(
            fs.iter()
                .filter(|f| f.rule == "goproxy-plain-http")
                .all(|f| f.message.starts_with("http://xxxxx@proxy.corp.example is plain http"))
        );
        assert!(fs.iter().all(|f| !f.message.contains("s3cret")));
    }

    #[test]
    fn goproxy_off_alone_is_noted() {
        let f = only(&run(&[("GOPROXY", "off")]), "goproxy-off");
        assert_eq!(
            (f.severity, f.message.as_str()),
            (Severity::Info, "GOPROXY=off: only modules already in the module cache can be used")
        );
        assert_eq!(f.fix, None);
    }

    #[test]
    fn gosumdb_off_and_malformed_forms() {
        let f = only(&run(&[("GOSUMDB", "off")]), "gosumdb-off");
        assert_eq!(f.fix.as_deref(), Some("go env -w GOSUMDB=sum.golang.org"));
        assert_eq!(
            f.message,
            "GOSUMDB=off: a module's first download is trusted without any check; list private paths in GOPRIVATE instead"
        );
        let f = only(&run(&[("GOSUMDB", "sum.corp.example")]), "gosumdb-invalid");
        assert_eq!(f.fix.as_deref(), Some("go env -w GOSUMDB=sum.golang.org"));
        assert_eq!(
            f.message,
            "GOSUMDB=\"sum.corp.example\" is rejected by go (\"invalid GOSUMDB: malformed verifier id\"): every new module fails verification"
        );
    }

    #[test]
    fn globs_that_match_nothing_are_flagged_and_cleaned() {
        let f = only(
            &run(&[
                ("GOPRIVATE", "https://git.corp.example/team"),
                ("GONOPROXY", "https://git.corp.example/team"),
                ("GONOSUMDB", "https://git.corp.example/team"),
            ])
            .into_iter()
            .filter(|f| f.key == "GOPRIVATE")
            .collect::<Vec<_>>(),
            "pattern-matches-nothing",
        );
        assert_eq!(
            f.message,
            "GOPRIVATE entry \"https://git.corp.example/team\" has a URL scheme; module paths have none: it matches no module path"
        );
        assert_eq!(f.fix.as_deref(), Some("go env -w GOPRIVATE=git.corp.example/team"));
        let fs = run(&[("GOPRIVATE", "corp.example, other.example")]);
        let f = fs.iter().find(|f| f.rule == "pattern-matches-nothing" && f.key == "GOPRIVATE").unwrap();
        assert_eq!(
            f.message,
            "GOPRIVATE entry \" other.example\" has spaces around it (Go does not trim list entries): it matches no module path"
        );
        assert_eq!(f.fix.as_deref(), Some("go env -w GOPRIVATE=corp.example,other.example"));
        let f = only(&run(&[("GONOSUMDB", "corp.example/[a-")]), "pattern-matches-nothing");
        assert!(f.message.ends_with("is not a valid pattern (path.Match syntax): it matches no module path"));
    }

    #[test]
    fn gonoproxy_without_gonosumdb_leaks_to_the_checksum_database() {
        let f = only(&run(&[("GONOPROXY", "*.corp.example")]), "gonoproxy-without-gonosumdb");
        assert_eq!(
            f.message,
            "*.corp.example bypass the proxy (GONOPROXY) but not the checksum database: their paths are sent to sum.golang.org and their lookups fail with 404/410"
        );
        assert_eq!(f.fix.as_deref(), Some("go env -w 'GONOSUMDB=*.corp.example'"));
        assert!(run(&[("GONOPROXY", "git.corp.example/x"), ("GONOSUMDB", "*.corp.example")]).is_empty());
    }

    #[test]
    fn goinsecure_for_a_whole_tld_is_too_wide() {
        let f = only(&run(&[("GOINSECURE", "*.com")]), "goinsecure-too-wide");
        assert_eq!(f.message, "GOINSECURE entry \"*.com\" turns off HTTPS checks for whole top-level domains");
        assert_eq!(f.fix.as_deref(), Some("go env -w 'GOINSECURE=<your.host>/<path>'"));
        assert!(run(&[("GOINSECURE", "*.corp.example")]).is_empty());
    }

    #[test]
    fn unknown_variables_typos_and_never_shipped_names() {
        let inputs = Inputs {
            process: [("GOPRIVTE", "corp.example"), ("GOPLS_LOG", "1"), ("GONOSUMCHECK", "corp.example")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .into(),
            file: vec![("GOFOO".into(), "x".into())],
            netrc: None,
        };
        let fs = lint(&env(&[]), &inputs);
        let names: Vec<(&str, &str)> = fs.iter().map(|f| (f.key.as_str(), f.message.as_str())).collect();
        assert_eq!(
            names,
            vec![
                (
                    "GONOSUMCHECK",
                    "GONOSUMCHECK in the environment is not a Go variable (it never shipped); Go ignores it: use GONOSUMDB"
                ),
                (
                    "GOPRIVTE",
                    "GOPRIVTE in the environment is not a Go variable; Go ignores it. Did you mean GOPRIVATE?"
                ),
                ("GOFOO", "GOFOO in the GOENV file is not a Go variable; Go ignores it"),
            ]
        );
        assert_eq!(fs[1].fix.as_deref(), Some("unset GOPRIVTE"));
        assert_eq!(fs[2].fix.as_deref(), Some("go env -u GOFOO"));
    }

    #[test]
    fn environment_over_file_conflict_hides_goauth_values() {
        let inputs = Inputs {
            process: [("GOPROXY", "https://a.example"), ("GOAUTH", "git /home/me/secret")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .into(),
            file: vec![("GOPROXY".into(), "https://b.example".into()), ("GOAUTH".into(), "netrc".into())],
            netrc: None,
        };
        let fs: Vec<Finding> =
            lint(&env(&[]), &inputs).into_iter().filter(|f| f.rule == "env-overrides-file").collect();
        assert_eq!(fs.len(), 2);
        assert_eq!(
            fs[0].message,
            "GOAUTH is … in the environment and … in the GOENV file: the environment wins, and `go env -w GOAUTH` fails while it is set"
        );
        assert_eq!(fs[1].fix.as_deref(), Some("go env -u GOPROXY"));
    }

    #[test]
    fn goflags_non_flags_and_bad_quotes_stop_every_command() {
        let f = only(&run(&[("GOFLAGS", "-mod=mod -tags foo")]), "goflags-invalid");
        assert_eq!(
            f.message,
            "every go command fails with \"go: parsing $GOFLAGS: non-flag \"foo\"\" (write -flag=value, not -flag value)"
        );
        assert_eq!(f.fix.as_deref(), Some("go env -w 'GOFLAGS=-mod=mod -tags'"));
        let f = only(&run(&[("GOFLAGS", "'-ldflags=-s")]), "goflags-invalid");
        assert_eq!(f.message, "every go command fails with \"go: parsing $GOFLAGS: unterminated ' string\"");
        assert!(run(&[("GOFLAGS", "-mod=mod '-ldflags=-s -w'")]).is_empty());
    }

    #[test]
    fn toolchain_switch_needs_a_proxy_and_the_checksum_database() {
        let f = only(&run(&[("GOTOOLCHAIN", "auto"), ("GOPROXY", "direct")]), "toolchain-no-proxy");
        assert!(f.message.starts_with("GOTOOLCHAIN=auto may switch toolchains"));
        assert_eq!(f.fix.as_deref(), Some("go env -w GOTOOLCHAIN=local"));
        let fs = run(&[("GOTOOLCHAIN", "auto"), ("GOSUMDB", "off")]);
        let f = only(&fs, "toolchain-needs-sumdb");
        assert!(f.message.ends_with("that fails (checksum database disabled by GOSUMDB=off)"));
        assert_eq!(f.fix.as_deref(), Some("go env -w GOTOOLCHAIN=local"));
        assert!(run(&[("GOTOOLCHAIN", "go1.22.0+path"), ("GOPROXY", "direct")]).is_empty());
    }

    #[test]
    fn goauth_forms_and_netrc_entries_go_ignores_never_showing_secrets() {
        let f = only(
            &lint(
                &env(&[]),
                &Inputs { process: [("GOAUTH".to_owned(), "off;netrc".to_owned())].into(), ..Inputs::default() },
            ),
            "goauth-invalid",
        );
        assert_eq!(f.message, "GOAUTH=off cannot be combined with other methods: go stops");
        assert_eq!(f.fix.as_deref(), Some("go env -w GOAUTH=netrc"));
        let git =
            Inputs { process: [("GOAUTH".to_owned(), "git relative/dir".to_owned())].into(), ..Inputs::default() };
        let f = only(&lint(&env(&[]), &git), "goauth-invalid");
        assert_eq!(f.message, "GOAUTH's git method needs one absolute directory: go stops");
        let netrc = "machine ok.example login u password p1\nmachine nopass.example login u\nmachine nologin.example password hunter2\n";
        let fs = lint(&env(&[]), &Inputs { netrc: Some(netrc.into()), ..Inputs::default() });
        let msgs: Vec<&str> = fs.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "the netrc entry for nopass.example lacks a login or a password: Go ignores it and sends no credentials to nopass.example",
                "the netrc entry for nologin.example lacks a login or a password: Go ignores it and sends no credentials to nologin.example",
            ]
        );
        assert!(msgs.iter().all(|m| !m.contains("hunter2")));
        assert_eq!(incomplete_netrc_machines("machine a login u\npassword p\nmachine b login x"), vec!["b"]);
    }

    #[test]
    fn private_looking_path_sent_to_a_foreign_proxy_is_a_leak() {
        let e = env(&[("GOPROXY", "https://proxy.golang.org|https://athens.corp.example,direct")]);
        let f = lint_route(&route(&e, "git.corp.example/team/lib")).unwrap();
        assert_eq!(
            f.message,
            "git.corp.example/team/lib is on git.corp.example, not a public code host, and GOPRIVATE does not cover it: its path is sent to https://proxy.golang.org, checksum database sum.golang.org; if it is private, the download fails (404/410) and the path leaks"
        );
        assert_eq!(f.fix.as_deref(), Some("go env -w 'GOPRIVATE=*.corp.example,corp.example'"));
        assert_eq!(lint_route(&route(&e, "github.com/x/y")), None);
        let covered = env(&[("GONOPROXY", "*.corp.example"), ("GONOSUMDB", "*.corp.example")]);
        assert_eq!(lint_route(&route(&covered, "git.corp.example/team/lib")), None);
    }
}
