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

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("no \"checksum mismatch\" error found in the input")]
    NothingFound,
}

/// Which record the downloaded hash was compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Against {
    /// A sum file: `go.sum`, `go.work.sum`, or a path.
    SumFile { label: String },
    /// A checksum database (`sum.golang.org`).
    Sumdb { db: String },
}

/// One decoded `checksum mismatch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

fn split_module_version(s: &str) -> Option<(String, String, bool)> {
    let s = s.trim();
    let (s, go_mod) = match s.strip_suffix("/go.mod") {
        Some(r) => (r, true),
        None => (s, false),
    };
    let (m, v) = s.rsplit_once('@')?;
    if m.is_empty() || v.is_empty() || m.contains(char::is_whitespace) {
        return None;
    }
    Some((m.to_owned(), v.to_owned(), go_mod))
}

/// `label: value` on a tab-indented line.
fn labelled(line: Option<&&str>) -> Option<(String, String)> {
    let (label, value) = line?.trim().rsplit_once(": ")?;
    let value = value.trim();
    value.contains(':').then(|| (label.trim().to_owned(), value.to_owned()))
}

/// Every `checksum mismatch` block in `text`.
#[must_use]
pub fn parse(text: &str) -> Vec<Mismatch> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(head) =
            line.strip_suffix(": checksum mismatch").or_else(|| line.trim_end().strip_suffix(": checksum mismatch"))
        else {
            continue;
        };
        let Some((dl_label, downloaded)) = labelled(lines.get(i + 1)) else { continue };
        let Some((label, recorded)) = labelled(lines.get(i + 2)) else { continue };
        if dl_label != "downloaded" {
            continue;
        }
        // The checksum database form: `<m>@<v>: verifying module` / `verifying go.mod`.
        let sumdb = head
            .strip_suffix(": verifying module")
            .map(|h| (h, false))
            .or_else(|| head.strip_suffix(": verifying go.mod").map(|h| (h, true)));
        let parsed = if let Some((h, go_mod)) = sumdb {
            let id = h.rsplit([' ', '\t']).next().unwrap_or(h);
            let id = id.rsplit_once(": ").map_or(id, |(_, r)| r);
            split_module_version(id).map(|(m, v, _)| (m, v, go_mod, Against::Sumdb { db: label.clone() }))
        } else if let Some(pos) = head.rfind("verifying ") {
            split_module_version(&head[pos + "verifying ".len()..])
                .map(|(m, v, go_mod)| (m, v, go_mod, Against::SumFile { label: label.clone() }))
        } else {
            None
        };
        if let Some((module, version, go_mod, against)) = parsed {
            let m = Mismatch { module, version, go_mod, against, downloaded, recorded };
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// One witness and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
}

/// How sure the verdict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// An independent witness (proxy, checksum database) or the cache's own
    /// inconsistency shows it.
    Confirmed,
    /// Only local witnesses: the likeliest reading.
    Likely,
}

/// The explanation of one mismatch.
#[derive(Debug, Clone, Serialize)]
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
    let p = VersionPaths::new(modcache, &m.module, &m.version);
    let mut ws = Vec::new();
    let cache;
    if m.go_mod {
        let h = check.and_then(|c| c.mod_h1.clone());
        ws.push(witness("cached .mod", Some(p.file("mod")), h.clone(), m));
        // The go.mod of the extracted tree, when there is one.
        let tree_go_mod = p.dir.join("go.mod");
        let tree_h = crate::noatime::read(&tree_go_mod).ok().map(|data| dirhash::hash_go_mod(&data));
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
    let sumdb: Vec<_> = if sumdb.is_empty() {
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
    stray: Vec<String>,
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
    let cache_inconsistent = zip_pair_inconsistent || cache_backs_recorded;
    let cache_value = cache.value.clone();
    let stray: Vec<String> = ws
        .iter()
        .filter(|w| is_cache(w) && w.hash.is_some() && !w.agrees_with_downloaded && !w.agrees_with_recorded)
        .map(|w| w.name.clone())
        .collect();
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
        stray,
        indep_says_recorded,
        indep_says_downloaded,
        sumdb_says_downloaded,
        is_sumdb_variant,
    }
}

/// The verdict, its confidence, summary, advice and whether removing the
/// cache's copy is the fix.
fn decide(m: &Mismatch, ext: &External, f: &Facts) -> (Verdict, Confidence, String, String, bool) {
    let id = &f.id;
    if !ext.replaces.is_empty() {
        (
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
        )
    } else if f.cache_inconsistent {
        (
            Verdict::CacheCorrupted,
            Confidence::Confirmed,
            format!("the module cache is corrupted: its own files for {id} disagree with each other"),
            "remove the cache's copy (`gokeep explain --fix` or `gokeep verify --fix`); go downloads it again and checks it against go.sum".into(),
            true,
        )
    } else if f.is_sumdb_variant {
        if f.indep_says_downloaded && !f.sumdb_says_downloaded {
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
        }
    } else if f.indep_says_recorded && !f.indep_says_downloaded {
        (
            Verdict::CacheCorrupted,
            Confidence::Confirmed,
            format!(
                "the module cache holds bits for {id} that go.sum and the proxy/checksum database do not: the cache's copy is bad"
            ),
            "remove the cache's copy (`--fix`); go downloads it again and checks it against go.sum".into(),
            true,
        )
    } else if f.sumdb_says_downloaded {
        (
            Verdict::GoSumWrong,
            Confidence::Confirmed,
            format!("go.sum is wrong or was edited: the cache and the checksum database agree on {}, go.sum says {}", m.downloaded, m.recorded),
            "look at go.sum's history (`git log -p go.sum`); restore the line from the checksum database with `go mod tidy` after removing it, or `gokeep verify --fix --update-go-sum MODULE`".into(),
            false,
        )
    } else if f.indep_says_downloaded {
        (
            Verdict::UpstreamChanged,
            Confidence::Likely,
            format!("the proxy serves the same bits as the cache for {id}, but go.sum recorded other bits: the upstream tag was moved since go.sum was written, or go.sum was edited"),
            "look at go.sum's history; if the tag moved, do not accept the new bits for a public module: ask the author or use another version".into(),
            false,
        )
    } else if f.cache_value.as_deref() == Some(m.downloaded.as_str()) {
        (
            Verdict::GoSumWrong,
            Confidence::Likely,
            format!(
                "go.sum is the odd one out: the cache's copy of {id} agrees with itself ({}), go.sum says {}; go checked this copy against go.sum when it downloaded it, so go.sum was most likely edited since (or the upstream tag moved)",
                m.downloaded, m.recorded
            ),
            "look at go.sum's history (`git log -p go.sum`); run with --online to ask the proxy".into(),
            false,
        )
    } else {
        (
            Verdict::Undetermined,
            Confidence::Likely,
            format!("the cache holds no usable copy of {id} to compare with"),
            "run with --online to compare with the module proxy".into(),
            false,
        )
    }
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
}
