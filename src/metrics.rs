//! Prometheus metrics in the text exposition format (0.0.4), as
//! `node_exporter`'s textfile collector reads them: what `status --metrics`
//! writes, and the run metrics a `prune` or `verify` timer leaves behind.
//! Pure: the text is built here; [`crate::fs::atomic`] writes it.
//!
//! ## One file per command
//! `node_exporter` merges families of one name from several files, but a
//! series (name and label values) found in two files fails the whole
//! textfile scrape. So each family has one writer: the cache figures
//! (`gokeep_cache_*`, `gokeep_scan_*`) come from `status` or from `prune`
//! (measured after it pruned, so a host with a prune timer needs no
//! `status --metrics` beside it); `gokeep_prune_*` from `prune`;
//! `gokeep_verify_*` from `verify` only. A `prune` file and a `verify` file
//! can sit in the collector's directory side by side.
//!
//! Every family is a gauge describing the last run: a timer that stops
//! running shows as a `…_last_run_timestamp_seconds` that stops moving.
//! Every finding kind is written, zeros included, so that an alert on one
//! does not depend on the series existing.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use crate::prune::Removal;
use crate::report::CacheReport;
use crate::scan::CacheKind;
use crate::timestamp::Timestamp;
use crate::verify::{FindingKind, Severity, VerifyReport};

/// A sample's value; integers are written without a fraction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Int(n)
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Self {
        Value::Int(n as u64)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) if x.is_nan() => f.write_str("NaN"),
            Value::Float(x) if x.is_infinite() => f.write_str(if x > 0.0 { "+Inf" } else { "-Inf" }),
            // Rust never writes an exponent here, which Go's ParseFloat reads either way.
            Value::Float(x) => write!(f, "{x}"),
        }
    }
}

/// The text of one exposition, family by family. Each family is written
/// whole (HELP, TYPE, then its samples), once.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
    families: BTreeSet<String>,
}

/// One sample: label pairs in the order written, and its value.
pub type Sample = (Vec<(&'static str, String)>, Value);

impl Exposition {
    /// Adds a gauge family. A family with no samples is left out: a TYPE
    /// line with nothing under it says nothing.
    ///
    /// # Panics
    /// On a name or label name the format does not allow, or a family added
    /// twice: both are mistakes in gokeep, not in what it measured.
    pub fn gauge(&mut self, name: &str, help: &str, samples: impl IntoIterator<Item = Sample>) {
        assert!(is_metric_name(name), "{name:?} is not a metric name");
        assert!(self.families.insert(name.to_owned()), "metric family {name} written twice");
        let mut body = String::new();
        for (labels, value) in samples {
            body.push_str(name);
            if !labels.is_empty() {
                body.push('{');
                for (i, (label, v)) in labels.iter().enumerate() {
                    assert!(is_label_name(label), "{label:?} is not a label name");
                    if i > 0 {
                        body.push(',');
                    }
                    let _ = write!(body, "{label}=\"{}\"", escape_label_value(v));
                }
                body.push('}');
            }
            let _ = writeln!(body, " {value}");
        }
        if body.is_empty() {
            return;
        }
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} gauge");
        self.text.push_str(&body);
    }

    #[must_use]
    pub fn finish(self) -> String {
        self.text
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, and not `__…` (reserved for Prometheus).
fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    !s.starts_with("__")
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A label value: backslash, double quote and line feed are escaped.
#[must_use]
pub fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text: backslash and line feed are escaped (a quote is not).
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

fn cache_label(kind: CacheKind) -> &'static str {
    match kind {
        CacheKind::ModCache => "modcache",
        CacheKind::BuildCache => "gocache",
    }
}

/// The labels that name a cache: its kind and its directory (a host may
/// have many of each).
fn cache_labels(r: &CacheReport) -> Vec<(&'static str, String)> {
    vec![("cache", cache_label(r.kind).to_owned()), ("root", r.root.to_string_lossy().into_owned())]
}

fn with(
    mut labels: Vec<(&'static str, String)>,
    name: &'static str,
    value: impl Into<String>,
) -> Vec<(&'static str, String)> {
    labels.push((name, value.into()));
    labels
}

/// The cache figures `status --metrics` writes (and `prune` after pruning).
fn cache_families(e: &mut Exposition, reports: &[CacheReport], now: Timestamp) {
    e.gauge(
        "gokeep_cache_bytes",
        "Size of the cache; size=\"disk\" counts allocated blocks, size=\"apparent\" file lengths.",
        reports.iter().flat_map(|r| {
            [
                (with(cache_labels(r), "size", "disk"), r.disk_bytes.into()),
                (with(cache_labels(r), "size", "apparent"), r.apparent_bytes.into()),
            ]
        }),
    );
    e.gauge("gokeep_cache_files", "Files in the cache.", reports.iter().map(|r| (cache_labels(r), r.files.into())));
    e.gauge(
        "gokeep_cache_items",
        "Module versions (modcache) or action and output entries (gocache).",
        reports.iter().map(|r| (cache_labels(r), r.items.into())),
    );
    e.gauge(
        "gokeep_cache_category_bytes",
        "On-disk bytes per category.",
        reports.iter().flat_map(|r| {
            r.categories.iter().map(|c| (with(cache_labels(r), "category", c.category.name()), c.disk_bytes.into()))
        }),
    );
    e.gauge(
        "gokeep_cache_untouched_bytes",
        "On-disk bytes not used for longer than older_than_days.",
        reports.iter().flat_map(|r| {
            r.age
                .iter()
                .map(|b| (with(cache_labels(r), "older_than_days", b.older_than_days.to_string()), b.disk_bytes.into()))
        }),
    );
    e.gauge(
        "gokeep_scan_warnings",
        "Entries the scan could not read.",
        reports.iter().map(|r| (cache_labels(r), r.warnings.len().into())),
    );
    e.gauge("gokeep_scan_timestamp_seconds", "When the scan ran (Unix time).", [(Vec::new(), unix(now))]);
}

fn unix(t: Timestamp) -> Value {
    Value::Int(u64::try_from(t.0).unwrap_or(0))
}

fn seconds(d: Duration) -> Value {
    Value::Float(d.as_secs_f64())
}

/// What `gokeep status --metrics` writes.
#[must_use]
pub fn status(reports: &[CacheReport], now: Timestamp) -> String {
    let mut e = Exposition::default();
    cache_families(&mut e, reports, now);
    e.finish()
}

/// One prune run, as its metrics describe it.
#[derive(Debug, Clone, Copy)]
pub struct PruneRun<'a> {
    pub started: Timestamp,
    pub duration: Duration,
    /// Items the plan held (whether or not each was carried out).
    pub planned_items: usize,
    pub removal: &'a Removal,
    /// The caches as they are after the run.
    pub caches: &'a [CacheReport],
    /// When the caches were measured.
    pub scanned: Timestamp,
}

/// What a prune run writes: its own figures, then the caches as the run left them.
#[must_use]
pub fn prune(run: &PruneRun) -> String {
    let mut e = Exposition::default();
    let r = run.removal;
    e.gauge(
        "gokeep_prune_last_run_timestamp_seconds",
        "When the last prune run started (Unix time).",
        [(Vec::new(), unix(run.started))],
    );
    e.gauge(
        "gokeep_prune_last_run_duration_seconds",
        "How long the last prune run took.",
        [(Vec::new(), seconds(run.duration))],
    );
    e.gauge(
        "gokeep_prune_last_run_freed_bytes",
        "Bytes the last prune run freed; size=\"disk\" counts allocated blocks, size=\"apparent\" file lengths.",
        [
            (vec![("size", "disk".to_owned())], r.disk_bytes.into()),
            (vec![("size", "apparent".to_owned())], r.apparent_bytes.into()),
        ],
    );
    e.gauge(
        "gokeep_prune_last_run_removed_versions",
        "Module versions the last prune run removed completely (with keep_metadata: all but their .info and .mod).",
        [(Vec::new(), r.module_versions.into())],
    );
    e.gauge("gokeep_prune_last_run_removed_files", "Files the last prune run removed.", [(Vec::new(), r.files.into())]);
    e.gauge(
        "gokeep_prune_last_run_planned_items",
        "Items the plan of the last prune run held.",
        [(Vec::new(), run.planned_items.into())],
    );
    e.gauge(
        "gokeep_prune_last_run_skipped_items",
        "Planned items the last prune run left alone (held by a running go command, or back since planned).",
        [(Vec::new(), r.skipped.len().into())],
    );
    e.gauge(
        "gokeep_prune_last_run_failures",
        "Paths the last prune run could not remove.",
        [(Vec::new(), r.failures.len().into())],
    );
    cache_families(&mut e, run.caches, run.scanned);
    e.finish()
}

/// One owner's prune run under `prune --discover`, as the parent read it.
#[derive(Debug, Clone)]
pub struct OwnerRun {
    pub owner: String,
    pub root: String,
    /// `modcache` or `gocache`.
    pub cache: &'static str,
    /// The owner's gokeep exit code; `None` when it could not start or was killed.
    pub exit_code: Option<i32>,
    pub freed_disk_bytes: u64,
    pub removed_versions: u64,
    pub failures: u64,
}

/// What `prune --discover` writes: one file for every cache on the host,
/// written by the parent, since the owners' runs may not write where
/// `node_exporter` reads, and a series in two files fails the scrape.
#[must_use]
pub fn discover_prune(started: Timestamp, duration: Duration, runs: &[OwnerRun]) -> String {
    let mut e = Exposition::default();
    e.gauge(
        "gokeep_discover_prune_last_run_timestamp_seconds",
        "When the last host-wide prune started (Unix time).",
        [(Vec::new(), unix(started))],
    );
    e.gauge(
        "gokeep_discover_prune_last_run_duration_seconds",
        "How long the last host-wide prune took.",
        [(Vec::new(), seconds(duration))],
    );
    let labels =
        |r: &OwnerRun| vec![("owner", r.owner.clone()), ("cache", r.cache.to_owned()), ("root", r.root.clone())];
    e.gauge(
        "gokeep_discover_prune_exit_code",
        "Exit code of the prune run as the cache's owner (-1: it did not start or was killed).",
        runs.iter().map(|r| (labels(r), Value::Float(f64::from(r.exit_code.unwrap_or(-1))))),
    );
    e.gauge(
        "gokeep_discover_prune_freed_bytes",
        "Bytes on disk the owner's prune run freed.",
        runs.iter().map(|r| (labels(r), r.freed_disk_bytes.into())),
    );
    e.gauge(
        "gokeep_discover_prune_removed_versions",
        "Module versions the owner's prune run removed.",
        runs.iter().map(|r| (labels(r), r.removed_versions.into())),
    );
    e.gauge(
        "gokeep_discover_prune_failures",
        "Paths the owner's prune run could not remove.",
        runs.iter().map(|r| (labels(r), r.failures.into())),
    );
    e.finish()
}

/// One verify run, as its metrics describe it.
#[derive(Debug, Clone, Copy)]
pub struct VerifyRun<'a> {
    pub started: Timestamp,
    pub duration: Duration,
    /// The cache as the run leaves it: after `--fix`, the check run again.
    pub report: &'a VerifyReport,
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// What a verify run writes: its figures and its findings by kind.
#[must_use]
pub fn verify(run: &VerifyRun) -> String {
    let mut e = Exposition::default();
    let r = run.report;
    e.gauge(
        "gokeep_verify_last_run_timestamp_seconds",
        "When the last verify run started (Unix time).",
        [(Vec::new(), unix(run.started))],
    );
    e.gauge(
        "gokeep_verify_last_run_duration_seconds",
        "How long the last verify run took.",
        [(Vec::new(), seconds(run.duration))],
    );
    e.gauge(
        "gokeep_verify_last_run_checked_versions",
        "Module versions the last verify run checked.",
        [(vec![("root", r.modcache.root.to_string_lossy().into_owned())], r.modcache.versions_checked.into())],
    );
    e.gauge(
        "gokeep_verify_last_run_checked_build_entries",
        "Build-cache action and output entries the last verify run checked (with --build-cache).",
        r.gocache.iter().map(|g| {
            (vec![("root", g.root.to_string_lossy().into_owned())], (g.actions_checked + g.outputs_checked).into())
        }),
    );
    e.gauge(
        "gokeep_verify_findings",
        "Findings of the last verify run by kind (after --fix: what is left); severity follows from the kind.",
        FindingKind::ALL.iter().map(|&k| {
            let n = r.findings.iter().filter(|f| f.kind == k).count();
            (vec![("kind", k.name().to_owned()), ("severity", severity_label(k.severity()).to_owned())], n.into())
        }),
    );
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_as_the_format_says() {
        assert_eq!(escape_label_value(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label_value("line\nnext"), "line\\nnext");
        assert_eq!(escape_help("a \"quoted\" \\ help\n"), "a \"quoted\" \\\\ help\\n");
    }

    #[test]
    fn values_are_written_as_prometheus_reads_them() {
        assert_eq!(Value::Int(18_446_744_073_709_551_615).to_string(), "18446744073709551615");
        assert_eq!(Value::Float(0.25).to_string(), "0.25");
        assert_eq!(Value::Float(f64::NAN).to_string(), "NaN");
        assert_eq!(Value::Float(f64::INFINITY).to_string(), "+Inf");
        assert_eq!(Value::Float(f64::NEG_INFINITY).to_string(), "-Inf");
        assert_eq!(Value::Float(1e21).to_string(), "1000000000000000000000");
    }

    #[test]
    fn names_are_checked_against_the_format() {
        assert!(is_metric_name("gokeep_cache_bytes") && is_metric_name("a:b") && is_metric_name("_x"));
        assert!(!is_metric_name("") && !is_metric_name("1x") && !is_metric_name("a-b") && !is_metric_name("é"));
        assert!(is_label_name("cache") && is_label_name("_x1"));
        assert!(!is_label_name("__name") && !is_label_name("a:b") && !is_label_name("9"));
    }

    #[test]
    fn a_family_without_samples_is_left_out() {
        let mut e = Exposition::default();
        e.gauge("x", "none", std::iter::empty());
        assert_eq!(e.finish(), "");
    }

    #[test]
    #[should_panic(expected = "written twice")]
    fn a_family_is_written_once() {
        let mut e = Exposition::default();
        e.gauge("x", "a", [(Vec::new(), Value::Int(1))]);
        e.gauge("x", "a", [(Vec::new(), Value::Int(2))]);
    }

    #[test]
    fn every_finding_kind_is_written_with_zeros() {
        let report = VerifyReport {
            modcache: crate::verify::modcache::ModcacheCheck {
                root: "/m".into(),
                versions_checked: 0,
                versions_hashed: 0,
                versions_unchanged: 0,
                bytes_hashed: 0,
                sumdb_records: 0,
                sumdb_databases: Vec::new(),
                versions: Vec::new(),
                clean: std::collections::BTreeMap::new(),
            },
            gocache: None,
            projects: Vec::new(),
            findings: Vec::new(),
            tally: crate::verify::Tally::default(),
        };
        let run =
            VerifyRun { started: Timestamp(1_700_000_000), duration: Duration::from_millis(1500), report: &report };
        let text = verify(&run);
        for k in FindingKind::ALL {
            let line = format!(
                "gokeep_verify_findings{{kind=\"{}\",severity=\"{}\"}} 0",
                k.name(),
                severity_label(k.severity())
            );
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        assert!(text.contains("gokeep_verify_last_run_duration_seconds 1.5\n"), "{text}");
        assert!(text.contains("gokeep_verify_last_run_timestamp_seconds 1700000000\n"), "{text}");
    }

    #[test]
    fn a_cache_renders_labelled_samples_with_its_figures() {
        use crate::layout::Category;
        use crate::scan::{CacheInventory, Stats};
        let zips = Stats { apparent_bytes: 1000, disk_bytes: 4096, files: 2, ..Stats::default() };
        let inv = CacheInventory {
            kind: CacheKind::ModCache,
            root: "/m/\"odd\"\\dir".into(),
            total: zips,
            categories: [(Category::Zips, zips)].into(),
            versions: Vec::new(),
            build_entries_by_day: std::collections::BTreeMap::new(),
            vcs_repos: std::collections::BTreeMap::new(),
            leftovers: std::collections::BTreeMap::new(),
            warnings: Vec::new(),
        };
        let report = crate::report::cache_report(&inv, 10, Timestamp(0));
        let text = status(&[report], Timestamp(0));
        let labels = r#"cache="modcache",root="/m/\"odd\"\\dir""#;
        for line in [
            format!("gokeep_cache_bytes{{{labels},size=\"disk\"}} 4096"),
            format!("gokeep_cache_bytes{{{labels},size=\"apparent\"}} 1000"),
            format!("gokeep_cache_files{{{labels}}} 2"),
            format!("gokeep_cache_category_bytes{{{labels},category=\"zips\"}} 4096"),
            format!("gokeep_cache_untouched_bytes{{{labels},older_than_days=\"7\"}} 0"),
            format!("gokeep_scan_warnings{{{labels}}} 0"),
            "gokeep_scan_timestamp_seconds 0".to_owned(),
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
    }
}
