//! `checksum mismatch` errors from cmd/go, decoded and judged.
//!
//! cmd/go prints two shapes (`cmd/go/internal/modfetch/fetch.go`):
//!
//! - go.sum (`haveModSumLocked`):
//!   `verifying <path>@<version>[/go.mod]: checksum mismatch\n\tdownloaded: <h>\n\t<sum file>:     <h>`
//!   where `<sum file>` is `go.sum`, `go.work.sum` or a workspace module's go.sum path;
//! - checksum database (`checkSumDB`, wrapped by `module.VersionError`):
//!   `<path>@<version>: verifying module: checksum mismatch\n\tdownloaded: <h>\n\t<db>: <h>`
//!   (`verifying go.mod:` for the go.mod hash),
//!
//! each followed by a `SECURITY ERROR` paragraph, and possibly prefixed with
//! `go: ` or nested in other messages. [`parse`] finds every such block in
//! pasted output.
//!
//! [`judge`] then lines up the witnesses — the cached zip, its tree, its
//! `.ziphash` and `.mod`, the project's go.sum, the checksum database's
//! cached record and, when fetched, the module proxy's zip — and says which
//! one disagrees with the others. It never proposes accepting a new hash for
//! a module: the only fixes are removing the cache's copy (so go downloads
//! and verifies it again) or asking a person to look at go.sum's history.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::dirhash;
use super::modcache::{VersionCheck, VersionPaths, Ziphash};
use super::paste::{ErrorKind, GoError};
use crate::prune::Target;

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("no \"checksum mismatch\" or other error about a module's bytes found in the input")]
    NothingFound,
}

/// Which record the downloaded hash was compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Against {
    /// A sum file: `go.sum`, `go.work.sum`, or a path.
    SumFile { label: String },
    /// A checksum database (`sum.golang.org`).
    Sumdb { db: String },
}

/// One decoded `checksum mismatch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Mismatch {
    pub module: String,
    pub version: String,
    /// The `/go.mod` variant: the hash is of the go.mod file only.
    pub go_mod: bool,
    pub against: Against,
    /// What go computed from the bits it had.
    pub downloaded: String,
    /// What go.sum or the checksum database records.
    pub recorded: String,
}

/// Every `checksum mismatch` in `text` that could be decoded in full; see
/// [`super::paste::decode`] for the other errors and the incomplete ones.
#[must_use]
pub fn parse(text: &str) -> Vec<Mismatch> {
    super::paste::decode(text).mismatches
}

/// One witness and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Witness {
    pub name: String,
    pub path: Option<PathBuf>,
    /// `None`: this witness has nothing to say (absent, unreadable).
    pub hash: Option<String>,
    pub note: Option<String>,
    /// Whether it agrees with `downloaded` and with `recorded`.
    pub agrees_with_downloaded: bool,
    pub agrees_with_recorded: bool,
}

/// The plain-words outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The cache's own files disagree with each other, or hold bits that the
    /// proxy and the records do not.
    CacheCorrupted,
    /// The cache, the proxy and the checksum database agree; go.sum does not.
    GoSumWrong,
    /// What the proxy (or origin) serves now differs from what was recorded
    /// earlier: the upstream tag was moved, or the proxy serves other bits.
    UpstreamChanged,
    /// A `replace` directive decides which bits are used.
    LocalReplace,
    /// The witnesses at hand cannot decide.
    Undetermined,
    /// The error does not describe this machine as it is now: the pasted
    /// `downloaded:` hash matches no local copy while the local copies
    /// agree with each other, or go.sum no longer records the pasted hash
    /// (another machine, or already fixed).
    NotFromThisCache,
    /// go.sum lacks a line go needs (`missing go.sum entry`).
    GoSumMissingLine,
    /// A proxy or the checksum database could not be reached or refused the
    /// request: GOPROXY, GOSUMDB, GONOSUMDB/GOPRIVATE or the network.
    Configuration,
}

/// How sure the verdict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// An independent witness (proxy, checksum database) or the cache's own
    /// inconsistency shows it.
    Confirmed,
    /// Only local witnesses: the likeliest reading.
    Likely,
}

/// The explanation of one mismatch.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Explanation {
    pub mismatch: Mismatch,
    pub witnesses: Vec<Witness>,
    pub verdict: Verdict,
    pub confidence: Confidence,
    /// Plain words: what happened.
    pub summary: String,
    /// Plain words: what to do. Never "accept the new hash".
    pub advice: String,
    /// Whether `--fix` (removing the cache's copy) is the remedy.
    pub fix_removes_cache_copy: bool,
}

/// Evidence that does not come from GOMODCACHE, gathered by the caller.
#[derive(Debug, Clone, Default)]
pub struct External {
    /// go.sum lines for this module version: (file, line, hash).
    pub go_sum: Vec<(PathBuf, usize, String)>,
    /// `replace` directives mentioning the module: (file, line text).
    pub replaces: Vec<(PathBuf, String)>,
    /// The proxy's answer when fetched (`--online`): (URL, hash or error).
    pub proxy: Option<(String, Result<String, String>)>,
    /// The checksum database's answer when fetched (`--online`): (db, URL, hash or error).
    pub sumdb: Option<(String, String, Result<String, String>)>,
}

fn witness(name: &str, path: Option<PathBuf>, hash: Option<String>, m: &Mismatch) -> Witness {
    Witness {
        name: name.to_owned(),
        path,
        agrees_with_downloaded: hash.as_deref() == Some(m.downloaded.as_str()),
        agrees_with_recorded: hash.as_deref() == Some(m.recorded.as_str()),
        hash,
        note: None,
    }
}

/// The cache's own copies of the hash go reported as `downloaded`.
struct CacheCopies {
    /// The first copy there is (`.ziphash`, zip, tree; or `.mod`, tree go.mod).
    value: Option<String>,
    /// The two copies that produce `downloaded` (`.ziphash` and zip, or
    /// `.mod` and the tree's go.mod) both exist and disagree.
    pair_disagrees: bool,
}

fn copies(first: Option<&String>, second: Option<&String>, rest: Option<&String>) -> CacheCopies {
    CacheCopies {
        value: first.or(second).or(rest).cloned(),
        pair_disagrees: matches!((first, second), (Some(a), Some(b)) if a != b),
    }
}

fn gather(m: &Mismatch, modcache: &Path, check: Option<&VersionCheck>, ext: &External) -> (Vec<Witness>, CacheCopies) {
    // Pasted text names these: only what Go would accept may become a path.
    let valid =
        crate::go::modpath::check_path(&m.module).is_ok() && crate::go::version::check_canonical(&m.version).is_ok();
    let check = check.filter(|_| valid);
    let p = VersionPaths::new(modcache, &m.module, &m.version);
    let mut ws = Vec::new();
    let cache;
    if m.go_mod {
        let h = check.and_then(|c| c.mod_h1.clone());
        ws.push(witness("cached .mod", Some(p.file("mod")), h.clone(), m));
        // The go.mod of the extracted tree, when there is one.
        let tree_go_mod = p.dir.join("go.mod");
        let tree_h = valid
            .then(|| crate::fs::noatime::read(&tree_go_mod).ok().map(|data| dirhash::hash_go_mod(&data)))
            .flatten();
        cache = copies(h.as_ref(), tree_h.as_ref(), None);
        if let Some(th) = tree_h {
            ws.push(witness("go.mod in the extracted tree", Some(tree_go_mod), Some(th), m));
        }
    } else {
        let zh = check.map(|c| match &c.ziphash {
            Ziphash::Valid(h) => (Some(h.clone()), None),
            Ziphash::Missing => (None, Some("missing".to_owned())),
            Ziphash::Unreadable => (None, Some("unreadable".to_owned())),
            Ziphash::Malformed(s) => (None, Some(format!("malformed: {s:?}"))),
        });
        let (zh, zh_note) = zh.unwrap_or((None, Some("not in cache".into())));
        let mut w = witness("cached .ziphash", Some(p.file("ziphash")), zh.clone(), m);
        w.note = zh_note;
        ws.push(w);
        let zip = check.and_then(|c| c.zip_h1.clone());
        let mut w = witness("cached zip (hashed now)", Some(p.file("zip")), zip.clone(), m);
        if zip.is_none() {
            w.note = Some("absent or unreadable".into());
        }
        ws.push(w);
        let dir = check.and_then(|c| c.dir_h1.clone());
        let mut w = witness("extracted tree (hashed now)", Some(p.dir.clone()), dir.clone(), m);
        if dir.is_none() {
            w.note = Some("absent, incomplete or not comparable".into());
        }
        ws.push(w);
        cache = copies(zh.as_ref(), zip.as_ref(), dir.as_ref());
    }
    for (file, line, h) in &ext.go_sum {
        let mut w = witness("go.sum", Some(file.clone()), Some(h.clone()), m);
        w.note = Some(format!("line {line}"));
        ws.push(w);
    }
    let sumdb: Vec<(String, PathBuf, Option<String>)> = check
        .map(|c| {
            c.sumdb
                .iter()
                .map(|r| (r.db.clone(), r.path.clone(), if m.go_mod { r.go_mod.clone() } else { r.zip.clone() }))
                .collect()
        })
        .unwrap_or_default();
    let sumdb: Vec<_> = if sumdb.is_empty() && valid {
        // The cache may hold the record even when it holds no download.
        super::sumdb::lookup(modcache, &super::sumdb::databases(modcache), &m.module, &m.version)
            .into_iter()
            .map(|r| (r.db, r.path, if m.go_mod { r.go_mod } else { r.zip }))
            .collect()
    } else {
        sumdb
    };
    if sumdb.is_empty() && ext.sumdb.is_none() {
        let mut w = witness("checksum database cache", None, None, m);
        w.note = Some("no record (GOSUMDB=off, a private module, or never looked up)".into());
        ws.push(w);
    }
    for (db, path, h) in &sumdb {
        ws.push(witness(&format!("checksum database {db} (cached record)"), Some(path.clone()), h.clone(), m));
    }
    if let Some((db, url, r)) = &ext.sumdb {
        let mut w = witness(&format!("checksum database {db} (fetched now)"), None, r.as_ref().ok().cloned(), m);
        w.note = Some(match r {
            Ok(_) => url.clone(),
            Err(e) => format!("{url}: {e}"),
        });
        ws.push(w);
    }
    if let Some((url, r)) = &ext.proxy {
        let mut w = witness("module proxy", None, r.as_ref().ok().cloned(), m);
        w.note = Some(match r {
            Ok(_) => url.clone(),
            Err(e) => format!("{url}: {e}"),
        });
        ws.push(w);
    }

    (ws, cache)
}

/// What the witnesses say, reduced to the questions the verdict needs.
// Independent yes/no observations, not a state machine.
#[allow(clippy::struct_excessive_bools)]
struct Facts {
    id: String,
    cache_inconsistent: bool,
    cache_value: Option<String>,
    /// Some copy in the cache holds the pasted `downloaded` hash.
    cache_has_downloaded: bool,
    stray: Vec<String>,
    /// go.sum's lines for this version now (none: no line, or no project).
    go_sum_now: Vec<String>,
    indep_says_recorded: bool,
    indep_says_downloaded: bool,
    sumdb_says_downloaded: bool,
    is_sumdb_variant: bool,
}

fn facts(m: &Mismatch, ws: &[Witness], cache: &CacheCopies) -> Facts {
    let id = format!("{}@{}{}", m.module, m.version, if m.go_mod { "/go.mod" } else { "" });
    // The cache's copies that produce `downloaded` (.ziphash and zip, or
    // .mod) disagreeing with each other, or any cache copy backing the
    // recorded hash, mean the cache is what is wrong. A tree that agrees with
    // neither is a separate problem, mentioned but not the verdict.
    let zip_pair_inconsistent = !m.go_mod && cache.pair_disagrees;
    let cache_names = ["cached", "extracted tree", "go.mod in the extracted tree"];
    let is_cache = |w: &Witness| cache_names.iter().any(|n| w.name.starts_with(n));
    let cache_backs_recorded = ws.iter().filter(|w| is_cache(w)).any(|w| w.agrees_with_recorded);
    let cache_has_downloaded = ws.iter().filter(|w| is_cache(w)).any(|w| w.agrees_with_downloaded);
    let cache_inconsistent = zip_pair_inconsistent || (cache_backs_recorded && cache_has_downloaded);
    let cache_value = cache.value.clone();
    let stray: Vec<String> = ws
        .iter()
        .filter(|w| is_cache(w) && w.hash.is_some() && !w.agrees_with_downloaded && !w.agrees_with_recorded)
        .map(|w| w.name.clone())
        .collect();
    let go_sum_now = ws.iter().filter(|w| w.name == "go.sum").filter_map(|w| w.hash.clone()).collect();
    let independent: Vec<&Witness> = ws
        .iter()
        .filter(|w| w.name.starts_with("checksum database") || w.name == "module proxy")
        .filter(|w| w.hash.is_some())
        .collect();
    let indep_says_recorded = independent.iter().any(|w| w.agrees_with_recorded);
    let indep_says_downloaded = independent.iter().any(|w| w.agrees_with_downloaded);
    let sumdb_says_downloaded =
        independent.iter().any(|w| w.name.starts_with("checksum database") && w.agrees_with_downloaded);
    let is_sumdb_variant = matches!(m.against, Against::Sumdb { .. });

    Facts {
        id,
        cache_inconsistent,
        cache_value,
        cache_has_downloaded,
        stray,
        go_sum_now,
        indep_says_recorded,
        indep_says_downloaded,
        sumdb_says_downloaded,
        is_sumdb_variant,
    }
}

/// How to get a second, independent copy of a module that no checksum
/// database covers: its origin, into a throw-away cache, outside any project.
fn refetch_commands(m: &Mismatch) -> String {
    format!(
        "cd \"$(mktemp -d)\" && GOMODCACHE=\"$PWD/mod\" GOFLAGS=-modcacherw GONOSUMDB={module} GOPROXY=direct go mod download -json {module}@{version} | grep '\"{field}\"'",
        module = m.module,
        version = m.version,
        field = if m.go_mod { "GoModSum" } else { "Sum" },
    )
}

type Decision = (Verdict, Confidence, String, String, bool);

/// The verdict, its confidence, summary, advice and whether removing the
/// cache's copy is the fix.
// One ordered table of verdicts: splitting it would hide the order.
#[allow(clippy::too_many_lines)]
fn decide(m: &Mismatch, ext: &External, f: &Facts) -> Decision {
    let id = &f.id;
    if !ext.replaces.is_empty() {
        return (
            Verdict::LocalReplace,
            Confidence::Confirmed,
            format!(
                "a replace directive is in play for {}: go checks the replacement's bits, not the module's ({})",
                m.module,
                ext.replaces.iter().map(|(f, l)| format!("{}: {l}", f.display())).collect::<Vec<_>>().join("; ")
            ),
            "check that the replacement is the version you mean; a directory replacement has no go.sum line at all"
                .into(),
            false,
        );
    }
    if f.cache_inconsistent {
        return (
            Verdict::CacheCorrupted,
            Confidence::Confirmed,
            format!("the module cache is corrupted: its own files for {id} disagree with each other"),
            "remove the cache's copy (`gokeep explain --fix` or `gokeep verify --fix`); go downloads it again and checks it against go.sum".into(),
            true,
        );
    }
    // A go.sum error whose recorded hash go.sum no longer holds is stale.
    if !f.is_sumdb_variant && !f.go_sum_now.is_empty() && !f.go_sum_now.contains(&m.recorded) {
        return (
            Verdict::NotFromThisCache,
            Confidence::Confirmed,
            format!(
                "go.sum no longer records {} for {id} (it says {}): the error is from another checkout or was already fixed",
                m.recorded,
                f.go_sum_now.join(", ")
            ),
            "nothing to repair here; if `go build` still fails, paste its new output".into(),
            false,
        );
    }
    // Copies here that agree with each other but not with the pasted
    // `downloaded` hash: go did not compute that hash from this cache.
    if let Some(v) = f.cache_value.as_ref().filter(|_| !f.cache_has_downloaded) {
        let go_sum_agrees = f.go_sum_now.iter().all(|h| h == v);
        return (
            Verdict::NotFromThisCache,
            Confidence::Confirmed,
            format!(
                "the pasted `downloaded:` hash {} matches no copy here: the cache's copy of {id} is {v}{}, so go did not compute that hash from this cache as it is now (another machine, or already fixed)",
                m.downloaded,
                if go_sum_agrees && !f.go_sum_now.is_empty() { ", and go.sum agrees with it" } else { "" },
            ),
            "nothing here is proven wrong, so nothing is removed; run `gokeep verify` to check this cache, and run explain on the machine that printed the error".into(),
            false,
        );
    }
    if f.is_sumdb_variant {
        return if f.indep_says_downloaded && !f.sumdb_says_downloaded {
            (
                Verdict::UpstreamChanged,
                Confidence::Confirmed,
                format!(
                    "the module proxy serves bits for {id} that the checksum database never recorded: the upstream tag was moved, or the proxy serves other bits"
                ),
                "do not accept the new bits: use another version, or ask the module's author what happened to the tag"
                    .into(),
                false,
            )
        } else {
            (
                Verdict::UpstreamChanged,
                Confidence::Likely,
                format!(
                    "the bits go downloaded for {id} differ from the checksum database's record: the upstream tag was moved, or the proxy or network served other bits"
                ),
                "do not accept the new bits; try another GOPROXY (or --online to compare), or use another version"
                    .into(),
                false,
            )
        };
    }
    if f.indep_says_recorded && !f.indep_says_downloaded {
        return (
            Verdict::CacheCorrupted,
            Confidence::Confirmed,
            format!(
                "the module cache holds bits for {id} that go.sum and the proxy/checksum database do not: the cache's copy is bad"
            ),
            "remove the cache's copy (`--fix`); go downloads it again and checks it against go.sum".into(),
            true,
        );
    }
    if f.indep_says_downloaded && !f.indep_says_recorded {
        let by = if f.sumdb_says_downloaded { "the checksum database" } else { "the module proxy" };
        return (
            Verdict::GoSumWrong,
            if f.sumdb_says_downloaded { Confidence::Confirmed } else { Confidence::Likely },
            format!(
                "go.sum is wrong or was edited: the cache and {by} agree on {}, go.sum says {}{}",
                m.downloaded,
                m.recorded,
                if f.sumdb_says_downloaded { "" } else { " (or the upstream tag moved since go.sum was written)" }
            ),
            "look at go.sum's history (`git log -p go.sum`); `--fix --update-go-sum` restores the line from the independent witness".into(),
            false,
        );
    }
    if f.cache_value.as_deref() == Some(m.downloaded.as_str()) {
        return (
            Verdict::Undetermined,
            Confidence::Likely,
            format!(
                "the cache's copy of {id} agrees with itself ({}) and go.sum says {}: nothing independent (checksum database record, module proxy) says which is right, so neither is changed",
                m.downloaded, m.recorded
            ),
            format!(
                "run with --online to ask the module proxy and the checksum database; for a private module, fetch it again from its origin and compare: {}",
                refetch_commands(m)
            ),
            false,
        );
    }
    (
        Verdict::Undetermined,
        Confidence::Likely,
        format!("the cache holds no usable copy of {id} to compare with"),
        "run with --online to compare with the module proxy".into(),
        false,
    )
}

/// The hash an independent witness (checksum database record, module
/// proxy) gives for this mismatch's version, when it agrees with the
/// cache's copy: the only hash `--update-go-sum` may write.
#[must_use]
pub fn independent_hash(e: &Explanation) -> Option<String> {
    let cache = e
        .witnesses
        .iter()
        .filter(|w| w.name.starts_with("cached") || w.name.starts_with("extracted tree"))
        .find_map(|w| w.hash.clone())?;
    e.witnesses
        .iter()
        .filter(|w| w.name.starts_with("checksum database") || w.name == "module proxy")
        .any(|w| w.hash.as_deref() == Some(cache.as_str()))
        .then_some(cache)
}

/// Lines up the witnesses for `m` and decides. `check` is the cache's view
/// of the version (from [`super::modcache::check_version`]), if it holds it.
#[must_use]
pub fn judge(m: &Mismatch, modcache: &Path, check: Option<&VersionCheck>, ext: &External) -> Explanation {
    let (ws, cache) = gather(m, modcache, check, ext);
    let f = facts(m, &ws, &cache);
    let (verdict, confidence, summary, advice, fix) = decide(m, ext, &f);
    let stray = &f.stray;
    let summary = if stray.is_empty() || verdict == Verdict::CacheCorrupted {
        summary
    } else {
        format!("{summary}. Separately, the {} agrees with neither hash: run `gokeep verify`", stray.join(" and the "))
    };
    Explanation {
        mismatch: m.clone(),
        witnesses: ws,
        verdict,
        confidence,
        summary,
        advice,
        fix_removes_cache_copy: fix,
    }
}

/// The explanation of one error that is not a checksum mismatch.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ErrorExplanation {
    pub error: GoError,
    /// What was read on this machine, and what it says now.
    pub read: Vec<String>,
    pub verdict: Verdict,
    pub summary: String,
    pub advice: String,
    /// What `--fix` removes: only what a local witness proves wrong now.
    pub fix_targets: Vec<Target>,
}

fn error_words(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ZipChecksumError => "a file in the module's zip fails its CRC check",
        ErrorKind::NotAValidZip => "the module's zip is truncated or not a zip",
        ErrorKind::UnexpectedZiphash => "the module's .ziphash file holds something that is not a hash",
        ErrorKind::MissingZiphash => "the module's .ziphash file is missing",
        ErrorKind::ZipModified => "the module's zip no longer matches its .ziphash",
        ErrorKind::DirModified => "the module's extracted tree no longer matches its .ziphash",
        ErrorKind::MissingGoSumEntry => "go.sum lacks a line go needs",
        ErrorKind::SumdbMissingChecksum => "the checksum database's answer did not contain the module",
        ErrorKind::SumdbCannotAuthenticate => "the checksum database's answer could not be authenticated",
        ErrorKind::ProxyHttpError => "a module proxy or the checksum database answered with an HTTP error",
        ErrorKind::MalformedModulePath => "go refused a module path",
    }
}

/// Judges one decoded error against what the cache holds now. `check` is
/// the cache's view of the version when the error names one the cache holds.
#[must_use]
#[allow(clippy::many_single_char_names)]
pub fn judge_error(e: &GoError, modcache: &Path, check: Option<&VersionCheck>) -> ErrorExplanation {
    let what = error_words(e.kind);
    let id = match (&e.module, &e.version) {
        (Some(m), Some(v)) => Some(format!("{m}@{v}")),
        (Some(m), None) => Some(m.clone()),
        _ => None,
    };
    let mut read = Vec::new();
    let (verdict, summary, advice, fix_targets) = if e.kind == ErrorKind::MissingGoSumEntry {
        let cmd = e.suggested.clone().unwrap_or_else(|| match &e.module {
            Some(m) => format!("go mod download {m}"),
            None => "go mod tidy".to_owned(),
        });
        (
            Verdict::GoSumMissingLine,
            format!("{what}{}: the cache is not involved", id.as_ref().map(|i| format!(" ({i})")).unwrap_or_default()),
            format!("run `{cmd}` in the module (or `go mod tidy`), then commit go.sum"),
            Vec::new(),
        )
    } else if e.kind.is_configuration_problem() {
        let advice = match e.kind {
            ErrorKind::MalformedModulePath => "check the import path or the `require`/`replace` line that names it; a path without a dot in its first element needs a `replace` directive".to_owned(),
            _ => "this is a configuration problem, not the cache: check GOPROXY, GOSUMDB, and GOPRIVATE/GONOSUMDB for private modules (`go env GOPROXY GOSUMDB GOPRIVATE GONOSUMDB`), and the network or proxy between here and them".to_owned(),
        };
        (
            Verdict::Configuration,
            format!("{what}{}", id.as_ref().map(|i| format!(" ({i})")).unwrap_or_default()),
            advice,
            Vec::new(),
        )
    } else {
        match (&e.module, &e.version, check) {
            (Some(m), Some(v), Some(c)) => {
                let p = VersionPaths::new(modcache, m, v);
                let bad: Vec<&super::Finding> =
                    c.findings.iter().filter(|f| f.severity == super::Severity::Error).collect();
                for f in &c.findings {
                    read.push(format!("{}: {}", f.kind.name(), f.detail));
                }
                if bad.is_empty() {
                    read.push(format!(
                        "{} and its download files: hashed now, they agree with each other{}",
                        p.dir.display(),
                        c.zip_reference().map(|h| format!(" ({h})")).unwrap_or_default()
                    ));
                    (
                        Verdict::NotFromThisCache,
                        format!("{what} ({m}@{v}), but this cache's copy is whole now: the error is from another machine or was already fixed"),
                        "nothing here is proven wrong, so nothing is removed; run `gokeep verify` to check the whole cache".to_owned(),
                        Vec::new(),
                    )
                } else {
                    let targets: Vec<Target> = bad.iter().flat_map(|f| f.fix.iter().flat_map(|x| x.targets.clone())).collect();
                    (
                        Verdict::CacheCorrupted,
                        format!("{what} ({m}@{v}): the module cache's copy is corrupted"),
                        "remove the cache's copy (`gokeep explain --fix` or `gokeep verify --fix`); go downloads it again and checks it against go.sum".to_owned(),
                        targets,
                    )
                }
            }
            (Some(m), Some(v), None) => {
                read.push(format!("{m}@{v}: not in this cache now"));
                (
                    Verdict::NotFromThisCache,
                    format!("{what} ({m}@{v}), but this cache does not hold that version now: the error is from another machine, or go already removed it"),
                    format!("if `go build` still fails here, run `go mod download {m}@{v}` and paste its output"),
                    Vec::new(),
                )
            }
            (Some(m), None, _) if e.kind == ErrorKind::MissingZiphash && e.text.contains(&format!("{m} : ")) => (
                Verdict::Undetermined,
                format!("{what}, but {m} has no version: it is a module of the workspace (go.work) or a replacement, which the module cache does not hold"),
                "nothing in the cache to repair; `go mod verify` reports workspace modules this way (golang/go#62663): run it with GOWORK=off, or ignore these lines".to_owned(),
                Vec::new(),
            ),
            _ => (
                Verdict::Undetermined,
                format!("{what}, but the error does not say which module version{}", id.map(|i| format!(" of {i}")).unwrap_or_default()),
                "run `gokeep verify` to find the broken copy, then `gokeep verify --fix`; or paste the line that names MODULE@VERSION".to_owned(),
                Vec::new(),
            ),
        }
    };
    ErrorExplanation { error: e.clone(), read, verdict, summary, advice, fix_targets }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shapes below are fetch.go's format strings filled in; the
    // integration tests check the parser against go's real output.
    const GO_SUM: &str = "go: downloading example.com/a v1.2.0\nverifying example.com/a@v1.2.0: checksum mismatch\n\tdownloaded: h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\tgo.sum:     h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n\nSECURITY ERROR\nThis download does NOT match an earlier download recorded in go.sum.\n";
    const SUMDB: &str = "go: example.com/a@v1.2.0: verifying go.mod: checksum mismatch\n\tdownloaded: h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\tsum.golang.org: h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n\nSECURITY ERROR\nThis download does NOT match the one reported by the checksum server.\n";

    #[test]
    fn parses_the_go_sum_variant() {
        let m = parse(GO_SUM);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].module, "example.com/a");
        assert_eq!(m[0].version, "v1.2.0");
        assert!(!m[0].go_mod);
        assert_eq!(m[0].against, Against::SumFile { label: "go.sum".into() });
        assert!(m[0].downloaded.starts_with("h1:AAA"));
        assert!(m[0].recorded.starts_with("h1:BBB"));
    }

    #[test]
    fn parses_the_go_mod_and_sumdb_variants() {
        let m = parse(&GO_SUM.replace("v1.2.0: checksum", "v1.2.0/go.mod: checksum"));
        assert!(m[0].go_mod);
        let m = parse(SUMDB);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].module.as_str(), m[0].version.as_str(), m[0].go_mod), ("example.com/a", "v1.2.0", true));
        assert_eq!(m[0].against, Against::Sumdb { db: "sum.golang.org".into() });
        let m = parse(&SUMDB.replace("verifying go.mod", "verifying module"));
        assert!(!m[0].go_mod);
    }

    #[test]
    fn garbage_yields_nothing_and_crlf_is_fine() {
        assert!(parse("").is_empty());
        assert!(parse("checksum mismatch\n\tdownloaded:\n").is_empty());
        assert!(parse("\u{0}\u{1}verifying @: checksum mismatch\n\tdownloaded: x\n\tgo.sum: y").is_empty());
        assert_eq!(parse(&GO_SUM.replace('\n', "\r\n")).len(), 1);
    }

    #[test]
    fn only_the_pair_that_produced_downloaded_can_disagree() {
        let (a, b) = ("h1:a".to_owned(), "h1:b".to_owned());
        // No .ziphash: a zip and a differing tree are not the pair, so the
        // verdict is not "cache corrupted" and the zip is not removed for it.
        let c = copies(None, Some(&a), Some(&b));
        assert!(!c.pair_disagrees);
        assert_eq!(c.value.as_deref(), Some("h1:a"));
        assert!(copies(Some(&a), Some(&b), None).pair_disagrees);
        assert!(!copies(Some(&a), None, Some(&b)).pair_disagrees);
    }

    fn go_error(
        kind: ErrorKind,
        module: Option<&str>,
        version: Option<&str>,
        text: &str,
        suggested: Option<&str>,
    ) -> GoError {
        GoError {
            kind,
            module: module.map(str::to_owned),
            version: version.map(str::to_owned),
            text: text.to_owned(),
            suggested: suggested.map(str::to_owned),
        }
    }

    #[test]
    fn errors_that_are_not_the_cache_are_routed_to_what_is() {
        let nowhere = Path::new("/nonexistent");
        let e = go_error(
            ErrorKind::MissingGoSumEntry,
            Some("github.com/spf13/pflag"),
            Some("v1.0.5"),
            "go: github.com/spf13/pflag@v1.0.5: missing go.sum entry; to add it:",
            Some("go mod download github.com/spf13/pflag"),
        );
        let x = judge_error(&e, nowhere, None);
        assert_eq!(x.verdict, Verdict::GoSumMissingLine);
        assert!(x.advice.contains("`go mod download github.com/spf13/pflag`"), "{}", x.advice);
        let e = go_error(
            ErrorKind::ProxyHttpError,
            Some("github.com/rs/cors"),
            Some("v1.6.0"),
            "reading https://sum.golang.org/lookup/github.com/rs/cors@v1.6.0: 410 Gone",
            None,
        );
        let x = judge_error(&e, nowhere, None);
        assert_eq!(x.verdict, Verdict::Configuration);
        assert!(x.advice.contains("configuration problem") && x.fix_targets.is_empty());
        let e = go_error(
            ErrorKind::MissingZiphash,
            Some("example.com/ws"),
            None,
            "example.com/ws : missing ziphash: open hash: no such file or directory",
            None,
        );
        let x = judge_error(&e, nowhere, None);
        assert_eq!(x.verdict, Verdict::Undetermined);
        assert!(x.summary.contains("workspace"), "{}", x.summary);
        // A cache problem for a version this cache does not hold now.
        let e = go_error(
            ErrorKind::NotAValidZip,
            Some("example.com/a"),
            Some("v1.0.0"),
            "example.com/a@v1.0.0: zip: not a valid zip file",
            None,
        );
        let x = judge_error(&e, nowhere, None);
        assert_eq!(x.verdict, Verdict::NotFromThisCache);
        assert!(x.fix_targets.is_empty());
    }
}
