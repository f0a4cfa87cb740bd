//! Prometheus textfile-collector output for `status --metrics`, so a timer
//! can feed `node_exporter`. Written atomically: the collector may read at
//! any moment.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use gokeep::report::CacheReport;
use gokeep::scan::CacheKind;
use gokeep::timestamp::Timestamp;

fn cache_label(kind: CacheKind) -> &'static str {
    match kind {
        CacheKind::ModCache => "modcache",
        CacheKind::BuildCache => "gocache",
    }
}

/// Renders the metrics in the text exposition format.
pub fn render(reports: &[CacheReport], now: Timestamp) -> String {
    let mut s = String::new();
    let mut family = |name: &str, help: &str, samples: &mut dyn Iterator<Item = (String, u64)>| {
        let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, v) in samples {
            let _ = writeln!(s, "{name}{{{labels}}} {v}");
        }
    };
    family(
        "gokeep_cache_bytes",
        "Size of the cache; size=\"disk\" counts allocated blocks, size=\"apparent\" file lengths.",
        &mut reports.iter().flat_map(|r| {
            let c = cache_label(r.kind);
            [
                (format!("cache=\"{c}\",size=\"disk\""), r.disk_bytes),
                (format!("cache=\"{c}\",size=\"apparent\""), r.apparent_bytes),
            ]
        }),
    );
    family(
        "gokeep_cache_files",
        "Files in the cache.",
        &mut reports.iter().map(|r| (format!("cache=\"{}\"", cache_label(r.kind)), r.files)),
    );
    family(
        "gokeep_cache_items",
        "Module versions (modcache) or action and output entries (gocache).",
        &mut reports.iter().map(|r| (format!("cache=\"{}\"", cache_label(r.kind)), r.items)),
    );
    family(
        "gokeep_cache_category_bytes",
        "On-disk bytes per category.",
        &mut reports.iter().flat_map(|r| {
            r.categories.iter().map(|c| {
                (format!("cache=\"{}\",category=\"{}\"", cache_label(r.kind), c.category.name()), c.disk_bytes)
            })
        }),
    );
    family(
        "gokeep_cache_untouched_bytes",
        "On-disk bytes not used for longer than older_than_days.",
        &mut reports.iter().flat_map(|r| {
            r.age.iter().map(|b| {
                (format!("cache=\"{}\",older_than_days=\"{}\"", cache_label(r.kind), b.older_than_days), b.disk_bytes)
            })
        }),
    );
    family(
        "gokeep_scan_warnings",
        "Entries the scan could not read.",
        &mut reports.iter().map(|r| (format!("cache=\"{}\"", cache_label(r.kind)), r.warnings.len() as u64)),
    );
    let _ = writeln!(
        s,
        "# HELP gokeep_scan_timestamp_seconds When the scan ran.\n# TYPE gokeep_scan_timestamp_seconds gauge\ngokeep_scan_timestamp_seconds {}",
        now.0
    );
    s
}

/// Writes `text` to `path` atomically, readable by the collector.
pub fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    gokeep::fs::atomic::replace_file(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_belongs_to_a_declared_gauge() {
        let text = render(&[], Timestamp(1_700_000_000));
        let mut declared = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert_eq!(kind, "gauge");
                declared.push(name.to_owned());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(declared.iter().any(|d| d == name), "undeclared sample {line}");
            }
        }
        assert!(text.ends_with("gokeep_scan_timestamp_seconds 1700000000\n"));
    }

    #[test]
    fn a_cache_renders_labelled_samples_with_its_figures() {
        use gokeep::layout::Category;
        use gokeep::scan::{CacheInventory, Stats};
        let zips = Stats { apparent_bytes: 1000, disk_bytes: 4096, files: 2, ..Stats::default() };
        let inv = CacheInventory {
            kind: CacheKind::ModCache,
            root: "/m".into(),
            total: zips,
            categories: [(Category::Zips, zips)].into(),
            versions: Vec::new(),
            build_entries_by_day: std::collections::BTreeMap::new(),
            vcs_repos: std::collections::BTreeMap::new(),
            leftovers: std::collections::BTreeMap::new(),
            warnings: Vec::new(),
        };
        let report = gokeep::report::cache_report(&inv, 10, Timestamp(0));
        let text = render(&[report], Timestamp(0));
        for line in [
            "gokeep_cache_bytes{cache=\"modcache\",size=\"disk\"} 4096",
            "gokeep_cache_bytes{cache=\"modcache\",size=\"apparent\"} 1000",
            "gokeep_cache_files{cache=\"modcache\"} 2",
            "gokeep_cache_category_bytes{cache=\"modcache\",category=\"zips\"} 4096",
            "gokeep_cache_untouched_bytes{cache=\"modcache\",older_than_days=\"7\"} 0",
            "gokeep_scan_warnings{cache=\"modcache\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
    }
}
