//! Go's errors about a module's bytes, found in whatever people paste.
//!
//! Pasted text rarely looks like go printed it: `BuildKit` prefixes every line
//! with a step and a time (`#17 0.367 `), CI systems with an elapsed time or
//! a timestamp, Markdown quotes with `> `, JSON logs turn tabs and newlines
//! into `\t` and `\n`, web forms collapse the newlines, terminals add ANSI
//! colours and PowerShell adds its own lines. Instead of expecting go's
//! lines to start a line, the decoder reads go's labels (`checksum
//! mismatch`, `downloaded:`, `go.sum:`) in order, allowing any run of
//! whitespace and such decorations between them.
//!
//! The forms are those of every cmd/go since 1.11
//! (`cmd/go/internal/modfetch/fetch.go`, `modcmd/verify.go`,
//! `modload/import.go`):
//!
//! - `verifying M@V[/go.mod]: checksum mismatch` / `downloaded: H` /
//!   `go.sum: H` (any sum file), or `sum.golang.org: H` (Go 1.12-1.13's
//!   checksum-database form);
//! - `M@V: verifying module|go.mod: checksum mismatch` / `downloaded: H` /
//!   `<db>: H` (Go 1.14+ checksum database; 1.14 also wrote `M@V/go.mod:
//!   verifying module`);
//! - `zip: checksum error`, `zip: not a valid zip file` (unzipping a cached
//!   zip), `unexpected ziphash`, `missing ziphash`, `zip has been modified`,
//!   `dir has been modified`, `missing go.sum entry`;
//! - proxy and checksum-database failures (`reading URL: 410 Gone`,
//!   `cannot authenticate record data`, `checksum missing from sumdb
//!   response`, `malformed module path`).
//!
//! Hashes are only hashes when they are `h1:` and 44 base64 characters.
//! Module paths and versions are only kept when Go itself would accept them
//! ([`crate::go::modpath`], [`crate::go::version`]), so nothing pasted can name a file outside the
//! cache.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::explain::{Against, Mismatch};
use crate::go::{modpath, version};

/// One error about a module's bytes that is not a checksum mismatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct GoError {
    pub kind: ErrorKind,
    /// The module, when the text names one Go would accept.
    pub module: Option<String>,
    /// Its version, when canonical.
    pub version: Option<String>,
    /// go's own line, decorations removed.
    pub text: String,
    /// The command go suggested (`go mod download M`, `go get P@V`).
    pub suggested: Option<String>,
}

/// The kinds of error [`decode`] recognises besides checksum mismatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// `zip: checksum error`: a file in the cached zip fails its CRC.
    ZipChecksumError,
    /// `zip: not a valid zip file`: the cached (or served) zip is truncated or not a zip.
    NotAValidZip,
    /// `unexpected ziphash`: the `.ziphash` file holds something that is not a hash.
    UnexpectedZiphash,
    /// `missing ziphash` (`go mod verify`).
    MissingZiphash,
    /// `zip has been modified` (`go mod verify`).
    ZipModified,
    /// `dir has been modified` (`go mod verify`).
    DirModified,
    /// `missing go.sum entry`: go.sum lacks a line go needs.
    MissingGoSumEntry,
    /// The checksum database's record lacks the module (`checksum missing from sumdb response`).
    SumdbMissingChecksum,
    /// `cannot authenticate record data in server response`.
    SumdbCannotAuthenticate,
    /// `reading URL: 404 Not Found` / `410 Gone` / other HTTP failures from a proxy or the checksum database.
    ProxyHttpError,
    /// `malformed module path`.
    MalformedModulePath,
}

impl ErrorKind {
    /// Whether removing the cache's copy of the version can cure it.
    #[must_use]
    pub fn is_cache_problem(self) -> bool {
        matches!(
            self,
            Self::ZipChecksumError
                | Self::NotAValidZip
                | Self::UnexpectedZiphash
                | Self::MissingZiphash
                | Self::ZipModified
                | Self::DirModified
        )
    }

    /// Whether it is about reaching a proxy or the checksum database (configuration, network).
    #[must_use]
    pub fn is_configuration_problem(self) -> bool {
        matches!(
            self,
            Self::SumdbMissingChecksum
                | Self::SumdbCannotAuthenticate
                | Self::ProxyHttpError
                | Self::MalformedModulePath
        )
    }
}

/// A `checksum mismatch` that could not be decoded in full, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Incomplete {
    /// go's line, decorations removed.
    pub text: String,
    /// The module and version, when the text names them.
    pub module: Option<String>,
    pub version: Option<String>,
    pub downloaded: Option<String>,
    pub recorded: Option<String>,
    /// The record's label (`go.sum`, `sum.golang.org`), when present.
    pub label: Option<String>,
    /// What is missing or wrong, in plain words (a sentence).
    pub missing: String,
}

/// Everything found in one paste.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Decoded {
    pub mismatches: Vec<Mismatch>,
    pub errors: Vec<GoError>,
    pub incomplete: Vec<Incomplete>,
}

impl Decoded {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.mismatches.is_empty() && self.errors.is_empty() && self.incomplete.is_empty()
    }
}

fn re(s: &str) -> Regex {
    Regex::new(s).expect("static regex")
}

/// Decorations that may stand between two of go's tokens: whitespace, a
/// `BuildKit` step and time, an elapsed time, a timestamp, quote marks, CI
/// annotations, and the error-record lines `PowerShell` puts after the first
/// line of a native command's stderr (`At line:1 char:1`, `+ …`). Only whole
/// tokens, so a hash is never eaten.
const GAP: &str = r"(?:\s|At line:\d+ char:\d+|\+ [^\n]*|>|\|\s|#\d+\s+\d+(?:\.\d+)?\s|\d+\.\d+s?\s|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s|\[\d\d:\d\d:\d\d(?:\.\d+)?\]\s?|##\[[a-z]+\]|::[a-z]+::)*";

static ANSI: LazyLock<Regex> = LazyLock::new(|| re(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"));

static ANNOTATION: LazyLock<Regex> =
    LazyLock::new(|| re(r"##\[[a-z]+\]|::(?:error|warning|notice|debug|group|endgroup)(?: [^:\n]*)?::"));
static MISMATCH: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?P<id>[^\s:@'`]+@[^\s:@'`/]+)(?P<gm>/go\.mod)?:{GAP}(?:verifying{GAP}(?P<vk>module|go\.mod):{GAP})?checksum{GAP}mismatch"
    ))
});
static DOWNLOADED: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"^{GAP}downloaded:{GAP}(?P<h>[^\s]+)")));
static RECORDED: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"^{GAP}(?P<label>(?:[A-Za-z]:)?[^\s:]+):{GAP}(?P<h>[^\s]+)")));
static CACHE_ZIP: LazyLock<Regex> = LazyLock::new(|| {
    re(r"cache[/\\]download[/\\](?P<m>[^\s:]+?)[/\\]@v[/\\](?P<v>[^/\\\s:]+?)\.(?:zip|ziphash|mod)\b")
});
static LEAD: LazyLock<Regex> = LazyLock::new(|| re(&format!("^{GAP}")));
static LONE_MISMATCH: LazyLock<Regex> = LazyLock::new(|| re(r"checksum\s+mismatch"));
static HASH: LazyLock<Regex> = LazyLock::new(|| re(r"^h1:[A-Za-z0-9+/]{43}=$"));
static LONE_DOWNLOADED: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"downloaded:{GAP}(?P<h>h1:[^\s]+)")));

static ZIP_ERR: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^(?P<ctx>[^\n]*?)zip: (?P<what>checksum error|not a valid zip file)"));
static UNEXPECTED_ZIPHASH: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^(?P<ctx>[^\n]*?)unexpected ziphash"));
static VERIFY_ERR: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?m)(?P<m>[^\s:@]+) (?P<v>[^\s:@]*) ?: (?P<what>missing ziphash|zip has been modified|dir has been modified)")
});
static MISSING_SUM: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^(?P<ctx>[^\n]*?)missing go\.sum entry[^\n]*"));
static SUGGESTION: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:^\s*|try ')(?P<cmd>go (?:get|mod download|mod tidy)(?: [^\s']+)?)(?:'|\s|$)"));
static HTTP_ERR: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^(?P<ctx>[^\n]*?)reading (?P<url>https?://\S+|file://\S+): (?P<status>\d{3}\b[^\n]*)"));
static SUMDB_ERR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?m)^(?P<ctx>[^\n]*?)(?P<what>cannot authenticate record data in server response|checksum missing from sumdb response)",
    )
});
static MALFORMED: LazyLock<Regex> = LazyLock::new(|| re(r#"malformed module path "(?P<p>[^"]*)": (?P<why>[^\n]*)"#));

/// The text with go's tokens where go put them: lossy bytes already turned
/// into text, CR/LF unified, ANSI colours dropped, and the `\t`/`\n` escapes
/// of JSON logs turned back into tabs and newlines.
#[must_use]
pub fn normalize(text: &str) -> String {
    let t = text.replace("\r\n", "\n").replace('\r', "\n");
    let t = ANSI.replace_all(&t, "");
    // CI annotations are never part of go's text, but may be glued to it.
    let t = ANNOTATION.replace_all(&t, "");
    t.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\t", "\t").replace("\\\"", "\"")
}

fn is_hash(h: &str) -> bool {
    HASH.is_match(h)
}

/// `path@version` from a token, when Go would accept the path; the version
/// only when canonical.
fn split_id(id: &str) -> Option<(String, Option<String>)> {
    let id = id.trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | '(' | ')' | ',' | ';'));
    let (m, v) = match id.rsplit_once('@') {
        Some((m, v)) => (m, Some(v)),
        None => (id, None),
    };
    modpath::check_path(m).ok()?;
    Some((m.to_owned(), v.filter(|v| version::check_canonical(v).is_ok()).map(str::to_owned)))
}

/// The module an error line is about: the last `path[@version]` token of
/// its context that Go would accept as a module (a source position such as
/// `.../pkg/mod/x@v1/f.go:6:8` names the importer, not the broken module).
fn id_in(ctx: &str) -> (Option<String>, Option<String>) {
    // `unzip $GOMODCACHE/cache/download/<escaped path>/@v/<escaped version>.zip`
    if let Some(c) = CACHE_ZIP.captures(ctx) {
        let (m, v) = (unescape(&c["m"].replace('\\', "/")), unescape(&c["v"]));
        if let (Some(m), Some(v)) = (m, v)
            && modpath::check_path(&m).is_ok()
        {
            let v = version::check_canonical(&v).is_ok().then_some(v);
            return (Some(m), v);
        }
    }
    for seg in ctx.rsplit(": ") {
        // `unknown import path "P"` names a package, which may lie deep inside its module.
        if seg.contains("import path") {
            return (None, None);
        }
        for tok in seg.split_whitespace().rev() {
            if tok.contains(".go:") || tok.contains("/pkg/mod/") || tok.contains('\\') {
                return (None, None);
            }
            if let Some((m, v)) = split_id(tok) {
                return (Some(m), v);
            }
        }
    }
    (None, None)
}

/// The module path or version a cache file name spells (`!x` is `X`), or
/// `None` for a spelling cmd/go never writes (no cache file name holds a backslash).
fn unescape(s: &str) -> Option<String> {
    modpath::unescape(s).filter(|u| !u.contains('\\'))
}

fn clean_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// go repeats an error once per package that needs the module: one is enough.
fn push_error(out: &mut Vec<GoError>, e: GoError) {
    let same = |o: &GoError| {
        o.kind == e.kind && o.module == e.module && o.version == e.version && (e.module.is_some() || o.text == e.text)
    };
    if !out.iter().any(same) {
        out.push(e);
    }
}

fn sum_file_label(label: &str) -> bool {
    label.ends_with("go.sum") || label.ends_with("go.work.sum")
}

// One pass per form, in the order go prints them.
#[allow(clippy::too_many_lines)]
fn decode_mismatches(t: &str, d: &mut Decoded) {
    let mut covered = Vec::new();
    for c in MISMATCH.captures_iter(t) {
        let whole = c.get(0).expect("match");
        covered.push(whole.range());
        let mut head = clean_line(whole.as_str());
        if t[..whole.start()].trim_end_matches([' ', '\t']).ends_with("verifying") {
            head = format!("verifying {head}");
        }
        let id = &c["id"];
        let id = id.strip_prefix("verifying").unwrap_or(id);
        let (m, v) = id.rsplit_once('@').unwrap_or((id, ""));
        let go_mod = c.name("gm").is_some() || c.name("vk").is_some_and(|k| k.as_str() == "go.mod");
        let sumdb_form = c.name("vk").is_some();
        let rest = &t[whole.end()..];
        let dl = DOWNLOADED.captures(rest);
        let rec = dl.as_ref().and_then(|dl| RECORDED.captures(&rest[dl.get(0).expect("match").end()..]));
        let downloaded = dl.as_ref().map(|c| c["h"].to_owned());
        let (label, recorded) =
            rec.as_ref().map_or((None, None), |c| (Some(c["label"].to_owned()), Some(c["h"].to_owned())));
        let mut inc = Incomplete {
            text: head.clone(),
            module: Some(m.to_owned()),
            version: Some(v.to_owned()),
            downloaded: downloaded.clone(),
            recorded: recorded.clone(),
            label: label.clone(),
            missing: String::new(),
        };
        if let Err(e) = modpath::check_path(m) {
            inc.module = None;
            inc.missing = format!("{e}: not a module Go would download, so nothing was looked up");
        } else if let Err(e) = version::check_canonical(v) {
            inc.version = None;
            inc.missing = format!("{e}: not a version Go would download, so nothing was looked up");
        } else if downloaded.is_none() {
            inc.missing = "missing the `downloaded: h1:…` line that follows go's `checksum mismatch` line".into();
        } else if recorded.is_none() || label.as_deref() == Some("SECURITY ERROR") {
            inc.missing = "missing the `go.sum: h1:…` (or checksum database) line after `downloaded:`".into();
        } else if !downloaded.as_deref().is_some_and(is_hash) || !recorded.as_deref().is_some_and(is_hash) {
            let bad = [&downloaded, &recorded].into_iter().flatten().find(|h| !is_hash(h)).cloned().unwrap_or_default();
            inc.missing =
                format!("{bad:?} is not a whole hash (`h1:` and 44 base64 characters): paste go's lines unshortened");
        }
        if !inc.missing.is_empty() {
            if !d.incomplete.contains(&inc) {
                d.incomplete.push(inc);
            }
            continue;
        }
        let label = label.expect("checked");
        let against = if sumdb_form || !sum_file_label(&label) {
            Against::Sumdb { db: label }
        } else {
            Against::SumFile { label }
        };
        let mm = Mismatch {
            module: m.to_owned(),
            version: v.to_owned(),
            go_mod,
            against,
            downloaded: downloaded.expect("checked"),
            recorded: recorded.expect("checked"),
        };
        if !d.mismatches.contains(&mm) {
            d.mismatches.push(mm);
        }
    }
    // `checksum mismatch` without a module (a paste that begins at
    // `downloaded:`, or a head go never prints).
    for lone in LONE_MISMATCH.find_iter(t) {
        if covered.iter().any(|r| r.contains(&lone.start())) {
            continue;
        }
        let line_start = t[..lone.start()].rfind('\n').map_or(0, |i| i + 1);
        let line_end = t[lone.end()..].find('\n').map_or(t.len(), |i| lone.end() + i);
        let rest = &t[lone.end()..];
        let dl = DOWNLOADED.captures(rest);
        let rec = dl.as_ref().and_then(|dl| RECORDED.captures(&rest[dl.get(0).expect("match").end()..]));
        let downloaded = dl.as_ref().map(|c| c["h"].to_owned()).filter(|h| is_hash(h));
        let (label, recorded) = rec
            .as_ref()
            .map_or((None, None), |c| (Some(c["label"].to_owned()), Some(c["h"].to_owned()).filter(|h| is_hash(h))));
        let (module, version) = id_in(&t[line_start..lone.start()]);
        let missing = match (&module, &downloaded, &recorded) {
            (None, Some(_), Some(_)) => {
                "missing the module path: the line `verifying MODULE@VERSION: checksum mismatch` before the hashes"
                    .to_owned()
            }
            (_, None, _) => {
                "missing the hashes: the `downloaded: h1:…` and `go.sum: h1:…` lines that follow `checksum mismatch`"
                    .to_owned()
            }
            _ => "missing the `go.sum: h1:…` (or checksum database) line after `downloaded:`".to_owned(),
        };
        let inc = Incomplete {
            text: clean_line(&t[line_start..line_end]),
            module,
            version,
            downloaded,
            recorded,
            label,
            missing,
        };
        if !d.incomplete.contains(&inc) {
            d.incomplete.push(inc);
        }
    }
    // Hashes with no `checksum mismatch` at all: a paste that starts below it.
    if d.mismatches.is_empty()
        && d.incomplete.is_empty()
        && let Some(dl) = LONE_DOWNLOADED.captures(t)
    {
        let at = dl.get(0).expect("match");
        let rec = RECORDED.captures(&t[at.end()..]);
        let h = dl["h"].to_owned();
        let line_end = t[at.start()..].find('\n').map_or(t.len(), |i| at.start() + i);
        d.incomplete.push(Incomplete {
            text: clean_line(&t[at.start()..line_end]),
            module: None,
            version: None,
            downloaded: Some(h).filter(|h| is_hash(h)),
            recorded: rec.as_ref().map(|c| c["h"].to_owned()).filter(|h| is_hash(h)),
            label: rec.as_ref().map(|c| c["label"].to_owned()),
            missing:
                "missing the module path: the line `verifying MODULE@VERSION: checksum mismatch` before the hashes"
                    .into(),
        });
    }
}

fn line_at(t: &str, start: usize, end: usize) -> String {
    let s = t[..start].rfind('\n').map_or(0, |i| i + 1);
    let e = t[end..].find('\n').map_or(t.len(), |i| end + i);
    clean_line(&t[s..e])
}

#[allow(clippy::too_many_lines)]
fn decode_errors(t: &str, d: &mut Decoded) {
    for c in ZIP_ERR.captures_iter(t) {
        let (module, version) = id_in(&c["ctx"]);
        let kind = if &c["what"] == "checksum error" { ErrorKind::ZipChecksumError } else { ErrorKind::NotAValidZip };
        let m = c.get(0).expect("match");
        push_error(
            &mut d.errors,
            GoError { kind, module, version, text: line_at(t, m.start(), m.end()), suggested: None },
        );
    }
    for c in UNEXPECTED_ZIPHASH.captures_iter(t) {
        let (module, version) = id_in(&c["ctx"]);
        let m = c.get(0).expect("match");
        push_error(
            &mut d.errors,
            GoError {
                kind: ErrorKind::UnexpectedZiphash,
                module,
                version,
                text: line_at(t, m.start(), m.end()),
                suggested: None,
            },
        );
    }
    for c in VERIFY_ERR.captures_iter(t) {
        let kind = match &c["what"] {
            "missing ziphash" => ErrorKind::MissingZiphash,
            "zip has been modified" => ErrorKind::ZipModified,
            _ => ErrorKind::DirModified,
        };
        let module = modpath::check_path(&c["m"]).ok().map(|()| c["m"].to_owned());
        let version = version::check_canonical(&c["v"]).ok().map(|()| c["v"].to_owned());
        let m = c.get(0).expect("match");
        push_error(
            &mut d.errors,
            GoError { kind, module, version, text: line_at(t, m.start(), m.end()), suggested: None },
        );
    }
    for c in MISSING_SUM.captures_iter(t) {
        let m = c.get(0).expect("match");
        let line = m.as_str();
        let (module, version) =
            match line.find(" for module providing package ").or_else(|| line.find(" needed to verify package ")) {
                // A package, not a module: go names the module in its suggestion.
                Some(_) => (None, None),
                None => id_in(&c["ctx"]),
            };
        // go's suggestion: on the same line (`try '…'`) or the next one.
        let after = &t[m.end()..];
        let next = after.trim_start_matches([' ', '\t', '\n']).lines().next().unwrap_or("");
        let next = LEAD.replace(next, "");
        let suggested =
            SUGGESTION.captures(line).or_else(|| SUGGESTION.captures(&next)).map(|s| s["cmd"].trim().to_owned());
        push_error(
            &mut d.errors,
            GoError {
                kind: ErrorKind::MissingGoSumEntry,
                module,
                version,
                text: clean_line(&format!("{}{}", &c["ctx"], &line[c["ctx"].len()..])),
                suggested,
            },
        );
    }
    for c in HTTP_ERR.captures_iter(t) {
        let url = &c["url"];
        // `…/lookup/M@V` names the version; else the context does.
        let (module, version) = url
            .split_once("/lookup/")
            .and_then(|(_, id)| split_id(id))
            .map_or_else(|| id_in(&c["ctx"]), |(m, v)| (Some(m), v));
        let m = c.get(0).expect("match");
        push_error(
            &mut d.errors,
            GoError {
                kind: ErrorKind::ProxyHttpError,
                module,
                version,
                text: line_at(t, m.start(), m.end()),
                suggested: None,
            },
        );
    }
    for c in SUMDB_ERR.captures_iter(t) {
        let kind = if c["what"].starts_with("cannot") {
            ErrorKind::SumdbCannotAuthenticate
        } else {
            ErrorKind::SumdbMissingChecksum
        };
        let (module, version) = id_in(&c["ctx"]);
        let m = c.get(0).expect("match");
        push_error(
            &mut d.errors,
            GoError { kind, module, version, text: line_at(t, m.start(), m.end()), suggested: None },
        );
    }
    for c in MALFORMED.captures_iter(t) {
        let m = c.get(0).expect("match");
        push_error(
            &mut d.errors,
            GoError {
                kind: ErrorKind::MalformedModulePath,
                module: None,
                version: None,
                text: line_at(t, m.start(), m.end()),
                suggested: None,
            },
        );
    }
}

/// Every error about a module's bytes or checksums in `text`.
#[must_use]
pub fn decode(text: &str) -> Decoded {
    let t = normalize(text);
    let mut d = Decoded::default();
    decode_mismatches(&t, &mut d);
    decode_errors(&t, &mut d);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const B: &str = "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=";

    fn go_sum_error() -> String {
        format!(
            "verifying example.com/a@v1.2.0: checksum mismatch\n\tdownloaded: {A}\n\tgo.sum:     {B}\n\nSECURITY ERROR\nThis download does NOT match an earlier download recorded in go.sum.\n"
        )
    }

    fn each_line(text: &str, before: &str, after: &str) -> String {
        text.lines().fold(String::new(), |mut s, l| {
            s.push_str(before);
            s.push_str(l);
            s.push_str(after);
            s
        })
    }

    fn one(text: &str) -> Mismatch {
        let d = decode(text);
        assert_eq!(d.mismatches.len(), 1, "{text:?} -> {d:#?}");
        d.mismatches[0].clone()
    }

    #[test]
    fn every_decoration_style_gives_the_same_mismatch() {
        let plain = one(&go_sum_error());
        let styles: Vec<String> = vec![
            each_line(&go_sum_error(), "#17 0.367 ", "\n"),
            each_line(&go_sum_error(), "4.710 ", "\n"),
            each_line(&go_sum_error(), "> ", "\n"),
            each_line(&go_sum_error(), "2024-07-28T10:00:00.1234567Z ", "\n"),
            each_line(&go_sum_error(), "##[error]", "\n"),
            each_line(&go_sum_error(), "\x1b[31m", "\x1b[0m\n"),
            go_sum_error().replace('\t', "\\t").replace('\n', "\\n"),
            go_sum_error().replace(['\n', '\t'], " "),
            each_line(&go_sum_error(), "#17 0.367 ", " "),
            go_sum_error().replace('\n', "\r\n"),
        ];
        for s in styles {
            assert_eq!(one(&s), plain, "{s:?}");
        }
    }

    #[test]
    fn powershell_error_records_between_the_lines_are_skipped() {
        let t = format!(
            "go : verifying example.com/a@v1.2.0: checksum mismatch\nAt line:1 char:1\n+ go build ./...\n+ ~~~~~~~~~~~~~~\n    + CategoryInfo          : NotSpecified: (verifying examp...ecksum mismatch:String) [], RemoteException\n    + FullyQualifiedErrorId : NativeCommandError\n \n\tdownloaded: {A}\n\tgo.sum:     {B}\n"
        );
        assert_eq!(one(&t), one(&go_sum_error()));
    }

    #[test]
    fn old_checksum_database_form_names_the_database() {
        let t = format!(
            "verifying github.com/google/gofuzz@v1.0.0/go.mod: checksum mismatch\n\tdownloaded: {A}\n\tsum.golang.org: {B}\n"
        );
        let m = one(&t);
        assert_eq!(m.against, Against::Sumdb { db: "sum.golang.org".into() });
        assert!(m.go_mod);
        let t = format!(
            "go: github.com/pierrec/lz4/v4@v4.0.0/go.mod: verifying module: checksum mismatch\n\tdownloaded: {A}\n\tsum.golang.org: {B}\n"
        );
        let m = one(&t);
        assert_eq!((m.module.as_str(), m.go_mod), ("github.com/pierrec/lz4/v4", true));
        assert_eq!(m.against, Against::Sumdb { db: "sum.golang.org".into() });
    }

    #[test]
    fn split_tabs_do_not_leak_into_hashes() {
        let t = format!(
            "verifying example.com/a@v1.2.0: checksum mismatch\n\tdownloaded: {A}\n\tgo.sum:\n{B}\nSECURITY ERROR\n"
        );
        assert_eq!(one(&t).recorded, B);
        let t = format!(
            "verifying example.com/a@v1.2.0: checksum mismatch\n\tdownloaded: {A}\n\tgo.sum: h1:4WFH…=  SECURITY ERROR\n"
        );
        let d = decode(&t);
        assert!(d.mismatches.is_empty());
        assert!(d.incomplete[0].missing.contains("not a whole hash"), "{d:#?}");
    }

    #[test]
    fn paths_go_would_refuse_are_never_kept() {
        let t = format!("verifying ../victim@v1.0.0: checksum mismatch\n\tdownloaded: {A}\n\tgo.sum: {B}\n");
        let d = decode(&t);
        assert!(d.mismatches.is_empty());
        assert!(d.incomplete[0].module.is_none());
        assert!(d.incomplete[0].missing.contains("malformed module path"), "{d:#?}");
        let t =
            format!("verifying example.com/a@v1.0.0/../../x: checksum mismatch\n\tdownloaded: {A}\n\tgo.sum: {B}\n");
        assert!(decode(&t).mismatches.is_empty());
    }

    #[test]
    fn a_mismatch_without_hashes_says_what_is_missing() {
        let d = decode("go: verifying example.com/a@v1.2.0: checksum mismatch");
        assert!(d.mismatches.is_empty());
        assert!(d.incomplete[0].missing.contains("downloaded"), "{d:#?}");
        let d = decode(&format!("\tdownloaded: {A}\n\tgo.sum:     {B}\n"));
        assert_eq!(d.incomplete[0].recorded.as_deref(), Some(B));
        assert!(d.incomplete[0].missing.contains("module path"));
    }

    #[test]
    fn other_errors_about_a_modules_bytes() {
        let d = decode("go: example.com/a@v1.2.0: zip: checksum error\n");
        assert_eq!(d.errors[0].kind, ErrorKind::ZipChecksumError);
        assert_eq!(d.errors[0].module.as_deref(), Some("example.com/a"));
        assert_eq!(d.errors[0].version.as_deref(), Some("v1.2.0"));
        let d = decode(
            "/Users/x/go/pkg/mod/github.com/sirupsen/logrus@v1.9.3/terminal_check_bsd.go:6:8: zip: not a valid zip file\n",
        );
        assert_eq!((d.errors[0].kind, d.errors[0].module.as_deref()), (ErrorKind::NotAValidZip, None));
        let d = decode("example.com/a v1.2.0: dir has been modified (/home/u/go/pkg/mod/example.com/a@v1.2.0)\n");
        assert_eq!(d.errors[0].kind, ErrorKind::DirModified);
        assert_eq!(d.errors[0].version.as_deref(), Some("v1.2.0"));
        let d = decode(
            "go: github.com/spf13/pflag@v1.0.5: missing go.sum entry; to add it:\n\tgo mod download github.com/spf13/pflag\n",
        );
        assert_eq!(d.errors[0].kind, ErrorKind::MissingGoSumEntry);
        assert_eq!(d.errors[0].suggested.as_deref(), Some("go mod download github.com/spf13/pflag"));
        let d = decode(
            "verifying github.com/rs/cors@v1.6.0/go.mod: github.com/rs/cors@v1.6.0/go.mod: reading https://goproxy.io/sumdb/sum.golang.org/lookup/github.com/rs/cors@v1.6.0: 410 Gone\n",
        );
        assert_eq!(d.errors[0].kind, ErrorKind::ProxyHttpError);
        assert_eq!(d.errors[0].module.as_deref(), Some("github.com/rs/cors"));
    }
}
