//! How `gokeep explain` reads: its `--json` document and its text.

use crate::cli::render::verify::FixJson;
use gokeep::timestamp::Timestamp;
use gokeep::verify::explain::{Against, Confidence, ErrorExplanation, Explanation, Verdict};
use gokeep::verify::paste::Incomplete;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ExplainJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) generated_at: Timestamp,
    pub(crate) explanations: &'a [Explanation],
    pub(crate) errors: &'a [ErrorExplanation],
    pub(crate) incomplete: &'a [Incomplete],
    pub(crate) fix: Option<FixJson>,
}

pub(crate) fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::CacheCorrupted => "the module cache is corrupted",
        Verdict::GoSumWrong => "go.sum is wrong or was edited",
        Verdict::UpstreamChanged => "the upstream tag was moved (or the proxy serves other bits)",
        Verdict::LocalReplace => "a local replace is in play",
        Verdict::Undetermined => "undetermined",
        Verdict::NotFromThisCache => "this error did not come from this cache as it is now",
        Verdict::GoSumMissingLine => "go.sum lacks a line",
        Verdict::Configuration => "a configuration problem (proxy, checksum database, module path)",
    }
}

pub(crate) fn render(es: &[Explanation], modcache: &Path) -> String {
    let mut s = String::new();
    for e in es {
        let m = &e.mismatch;
        let against = match &m.against {
            Against::SumFile { label } => label.clone(),
            Against::Sumdb { db } => format!("checksum database {db}"),
        };
        let _ = writeln!(
            s,
            "{}@{}{}: checksum mismatch against {against}",
            m.module,
            m.version,
            if m.go_mod { "/go.mod" } else { "" }
        );
        let _ = writeln!(s, "  downloaded  {}", m.downloaded);
        let _ = writeln!(s, "  recorded    {}", m.recorded);
        s.push_str("\nWitnesses:\n");
        for w in &e.witnesses {
            let agree = match (w.hash.is_some(), w.agrees_with_downloaded, w.agrees_with_recorded) {
                (false, _, _) => "no say",
                (true, true, _) => "= downloaded",
                (true, false, true) => "= recorded",
                (true, false, false) => "= neither",
            };
            let _ = write!(s, "  {:<44} {:<13}", w.name, agree);
            if let Some(h) = &w.hash {
                let _ = write!(s, " {h}");
            }
            if let Some(n) = &w.note {
                let _ = write!(s, " ({n})");
            }
            s.push('\n');
            if let Some(p) = &w.path {
                let p = p
                    .strip_prefix(modcache)
                    .map_or_else(|_| p.display().to_string(), |r| format!("$GOMODCACHE/{}", r.display()));
                let _ = writeln!(s, "  {:<44} {p}", "");
            }
        }
        let conf = match e.confidence {
            Confidence::Likely if e.verdict != Verdict::Undetermined => " (likely)",
            _ => "",
        };
        let _ = writeln!(s, "\nVerdict: {}{conf}", verdict_words(e.verdict));
        let _ = writeln!(s, "  {}", e.summary);
        let _ = writeln!(s, "What to do: {}", e.advice);
        s.push('\n');
    }
    s
}

pub(crate) fn render_errors(es: &[ErrorExplanation]) -> String {
    let mut s = String::new();
    for e in es {
        let _ = writeln!(s, "{}", e.error.text);
        if !e.read.is_empty() {
            s.push_str("\nRead now:\n");
            for r in &e.read {
                let _ = writeln!(s, "  {r}");
            }
        }
        let _ = writeln!(s, "\nVerdict: {}", verdict_words(e.verdict));
        let _ = writeln!(s, "  {}", e.summary);
        let _ = writeln!(s, "What to do: {}", e.advice);
        s.push('\n');
    }
    s
}

pub(crate) fn render_incomplete(is: &[Incomplete]) -> String {
    let mut s = String::new();
    for i in is {
        let _ = writeln!(s, "{}", i.text);
        let _ = writeln!(s, "  cannot be explained: {}", i.missing);
        for (name, h) in [("downloaded", &i.downloaded), ("recorded", &i.recorded)] {
            if let Some(h) = h {
                let _ = writeln!(s, "  {name:<11} {h}");
            }
        }
        s.push('\n');
    }
    s
}
