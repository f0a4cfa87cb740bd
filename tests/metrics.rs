//! Prometheus textfile metrics of `status --metrics`, `prune` (flag or the
//! policy's `[metrics] textfile`) and `verify --metrics`, on caches the real
//! `go` wrote: every file is read by the strict exposition reader in
//! `tests/common/exposition.rs` (and promtool, where installed), and its
//! figures agree with the same run's `--json` report.

// Counts and byte sizes read back as f64 are exact integers: equality is the point.
#![allow(clippy::float_cmp)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::exposition::{check_exposition, parse_exposition};
use common::*;

fn read_metrics(path: &Path, what: &str) -> common::exposition::Exposition {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{what} wrote no {}: {e}", path.display()));
    check_exposition(what, &text)
}

/// Only the textfile itself in its directory: the temp file was renamed, not left.
fn only_file_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn status_metrics_parse_and_carry_the_reported_sizes() {
    let fx = Fixture::standard();
    let dir = fx.sandbox.root().join("textfile");
    fs::create_dir(&dir).unwrap();
    let file = dir.join("gokeep.prom");
    let status = cmd_ok(fx.sandbox.gokeep().arg("status").arg("--metrics").arg(&file).arg("--json"));
    let m = read_metrics(&file, "status --metrics");
    assert_eq!(only_file_in(&dir), ["gokeep.prom"]);
    assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o644, "node_exporter must read it");
    for cache in status["caches"].as_array().unwrap() {
        let root = cache["root"].as_str().unwrap();
        let kind = if cache["kind"] == "mod_cache" { "modcache" } else { "gocache" };
        let disk = m.value("gokeep_cache_bytes", &[("cache", kind), ("root", root), ("size", "disk")]);
        assert_eq!(disk, cache["disk_bytes"].as_f64().unwrap(), "{kind} at {root}");
        assert_eq!(m.value("gokeep_cache_files", &[("root", root)]), cache["files"].as_f64().unwrap());
    }
    // `-` prints the same families on stdout, alone.
    let stdout = run_ok(fx.sandbox.gokeep().args(["status", "--metrics", "-"]));
    assert_eq!(check_exposition("status --metrics -", &stdout).names(), m.names());
}

#[test]
fn a_cache_path_with_quotes_and_backslashes_is_escaped_in_its_label() {
    let fx = Fixture::standard();
    // A copy of the module cache under a name that needs every escape.
    let odd = fx.sandbox.root().join("odd \"mod\" \\cache");
    copy_tree(&fx.modcache(), &odd);
    let out = run_ok(fx.sandbox.gokeep().arg("--modcache").arg(&odd).args(["status", "--metrics", "-"]));
    let m = check_exposition("status --metrics - of an odd path", &out);
    let root = odd.to_str().unwrap();
    let raw = format!("root=\"{}\"", root.replace('\\', "\\\\").replace('"', "\\\""));
    assert!(out.contains(&raw), "{raw} not in\n{out}");
    assert!(m.value("gokeep_cache_files", &[("cache", "modcache"), ("root", root)]) > 0.0);
}

#[test]
fn prune_writes_its_run_and_the_caches_it_left_to_the_policys_textfile() {
    let fx = Fixture::standard();
    age_tree(&fx.modcache(), 100);
    let dir = fx.sandbox.root().join("textfile");
    fs::create_dir(&dir).unwrap();
    let file = dir.join("gokeep-prune.prom");
    let policy = fx.sandbox.root().join("policy.toml");
    fs::write(
        &policy,
        format!("[modcache]\nmax_age = \"30d\"\n\n[metrics]\ntextfile = {:?}\n", file.to_str().unwrap()),
    )
    .unwrap();
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as f64;
    let doc = cmd_ok(fx.sandbox.gokeep().arg("prune").arg("--policy").arg(&policy).args(["--yes", "--json"]));
    let m = read_metrics(&file, "prune");
    assert_eq!(only_file_in(&dir), ["gokeep-prune.prom"]);

    let result = &doc["result"];
    assert_eq!(
        m.value("gokeep_prune_last_run_freed_bytes", &[("size", "disk")]),
        result["disk_bytes"].as_f64().unwrap()
    );
    assert_eq!(
        m.value("gokeep_prune_last_run_freed_bytes", &[("size", "apparent")]),
        result["apparent_bytes"].as_f64().unwrap()
    );
    let whole =
        doc["plan"]["items"].as_array().unwrap().iter().filter(|i| i["target"]["kind"] == "module_version").count();
    assert_eq!(whole, fx.modules.len(), "every version was 100 days old");
    assert_eq!(m.value("gokeep_prune_last_run_removed_versions", &[]), whole as f64);
    assert_eq!(result["module_versions"].as_u64().unwrap(), whole as u64);
    assert_eq!(m.value("gokeep_prune_last_run_removed_files", &[]), result["files"].as_f64().unwrap());
    assert_eq!(m.value("gokeep_prune_last_run_planned_items", &[]), doc["plan"]["total_items"].as_f64().unwrap());
    assert_eq!(m.value("gokeep_prune_last_run_failures", &[]), 0.0);
    let started = m.value("gokeep_prune_last_run_timestamp_seconds", &[]);
    assert!(started >= before - 1.0, "started {started}, test began {before}");
    assert!(m.value("gokeep_prune_last_run_duration_seconds", &[]) >= 0.0);

    // The caches as the prune left them: what `status` measures now.
    let status = cmd_ok(fx.sandbox.gokeep().args(["status", "--json"]));
    let modcache = status["caches"].as_array().unwrap().iter().find(|c| c["root"] == fx.modcache().to_str().unwrap());
    let modcache = modcache.expect("status reports the module cache");
    let root = fx.modcache();
    let labels = [("cache", "modcache"), ("root", root.to_str().unwrap()), ("size", "apparent")];
    assert_eq!(m.value("gokeep_cache_bytes", &labels), modcache["apparent_bytes"].as_f64().unwrap());
    assert_eq!(m.value("gokeep_cache_items", &[("cache", "modcache")]), 0.0, "every version went");
    let status_families = parse_exposition(&run_ok(fx.sandbox.gokeep().args(["status", "--metrics", "-"]))).unwrap();
    assert!(status_families.names().is_subset(&m.names()), "prune's file carries everything status --metrics writes");
}

#[test]
fn the_metrics_flag_wins_over_the_policy_and_a_dry_run_writes_nothing() {
    let fx = Fixture::standard();
    let policy_file = fx.sandbox.root().join("from-policy.prom");
    let flag_file = fx.sandbox.root().join("from-flag.prom");
    let policy = fx.sandbox.root().join("policy.toml");
    fs::write(
        &policy,
        format!("[modcache]\nmax_age = \"30d\"\n[metrics]\ntextfile = {:?}\n", policy_file.to_str().unwrap()),
    )
    .unwrap();
    run_ok(fx.sandbox.gokeep().arg("prune").arg("--policy").arg(&policy).arg("--dry-run"));
    assert!(!policy_file.exists(), "a dry run is not a run");
    run_ok(
        fx.sandbox
            .gokeep()
            .arg("prune")
            .arg("--policy")
            .arg(&policy)
            .arg("--metrics-file")
            .arg(&flag_file)
            .arg("--yes"),
    );
    assert!(!policy_file.exists());
    let m = read_metrics(&flag_file, "prune --metrics-file");
    assert_eq!(m.value("gokeep_prune_last_run_removed_versions", &[]), 0.0, "nothing was 30 days old");
    let (code, _, err) = run(fx.sandbox.gokeep().args(["prune", "--max-age", "30d", "--yes", "--metrics", "-"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--metrics -"), "{err}");
}

#[test]
fn verify_metrics_count_findings_by_kind_and_share_no_series_with_prune() {
    let fx = Fixture::standard();
    // One edited tree file: a dir_modified finding.
    let dir = fx.extracted_dir("example.com/a", "v1.0.0");
    GoSandbox::make_writable(&dir);
    let f = dir.join("helper.go");
    fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&f, "package a\n\n// edited\n").unwrap();
    let file = fx.sandbox.root().join("gokeep-verify.prom");
    let r = cmd(fx.sandbox.gokeep().arg("verify").arg("--metrics").arg(&file).args(["--json", "--build-cache"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let m = read_metrics(&file, "verify --metrics");
    let findings = r.json["findings"].as_array().unwrap();
    let of_kind = |k: &str| findings.iter().filter(|f| f["kind"] == k).count() as f64;
    assert_eq!(of_kind("dir_modified"), 1.0);
    let family = m.family("gokeep_verify_findings").unwrap();
    assert_eq!(family.samples.len(), 20, "every kind, zeros included");
    for (labels, value) in &family.samples {
        assert_eq!(*value, of_kind(&labels["kind"]), "{labels:?}");
    }
    assert_eq!(m.value("gokeep_verify_findings", &[("kind", "dir_modified"), ("severity", "error")]), 1.0);
    assert_eq!(
        m.value("gokeep_verify_last_run_checked_versions", &[]),
        r.json["modcache"]["versions_checked"].as_f64().unwrap()
    );
    let gc = &r.json["gocache"];
    let entries = gc["actions_checked"].as_f64().unwrap() + gc["outputs_checked"].as_f64().unwrap();
    assert_eq!(m.value("gokeep_verify_last_run_checked_build_entries", &[]), entries);

    // Both files in one collector directory: no family (hence no series) twice.
    let prune_file = fx.sandbox.root().join("gokeep-prune.prom");
    run_ok(fx.sandbox.gokeep().args(["prune", "--max-age", "30d", "--yes", "--metrics"]).arg(&prune_file));
    let prune_text = fs::read_to_string(&prune_file).unwrap();
    let verify_text = fs::read_to_string(&file).unwrap();
    check_exposition("the prune and verify files together", &format!("{prune_text}{verify_text}"));
}

/// The reader catches what Prometheus or `node_exporter` would reject.
#[test]
fn the_exposition_reader_rejects_what_prometheus_rejects() {
    let ok = "# HELP a_b Help with \\\\ and \\n.\n# TYPE a_b gauge\na_b{x=\"q\\\"\\\\\\n\",y=\"\"} 1.5e3\na_b 2\n";
    let parsed = parse_exposition(ok).unwrap();
    assert_eq!(parsed.value("a_b", &[("x", "q\"\\\n")]), 1500.0);
    assert_eq!(parsed.family("a_b").unwrap().help, "Help with \\ and \n.");
    for (bad, why) in [
        ("a 1\n", "no HELP"),
        ("# HELP a h\na 1\n", "no TYPE"),
        ("# HELP a h\n# TYPE a gauge\na 1", "no final newline"),
        ("# HELP a h\n# TYPE a gauge\n# TYPE a gauge\na 1\n", "second TYPE"),
        ("# HELP a h\n# HELP a h\n# TYPE a gauge\na 1\n", "second HELP"),
        ("# HELP a h\n# TYPE a gauge\na 1\n# TYPE a gauge\n", "TYPE after samples"),
        ("# HELP a h\n# TYPE a gauge\na 1\na 2\n", "a series twice"),
        (
            "# HELP a h\n# TYPE a gauge\na{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n",
            "a series twice, labels reordered",
        ),
        ("# HELP a h\n# TYPE a gauge\n# HELP b h\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 2\n", "not contiguous"),
        ("# HELP 1a h\n# TYPE 1a gauge\n1a 1\n", "metric name"),
        ("# HELP a-b h\n# TYPE a-b gauge\na-b 1\n", "metric name"),
        ("# HELP a h\n# TYPE a gauge\na{1x=\"v\"} 1\n", "label name"),
        ("# HELP a h\n# TYPE a gauge\na{__x=\"v\"} 1\n", "reserved label name"),
        ("# HELP a h\n# TYPE a gauge\na{x=\"v\",x=\"w\"} 1\n", "label twice"),
        ("# HELP a h\n# TYPE a gauge\na{x=v} 1\n", "unquoted label value"),
        ("# HELP a h\n# TYPE a gauge\na{x=\"a\\tb\"} 1\n", "bad escape"),
        ("# HELP a h\n# TYPE a gauge\na{x=\"v\" y=\"w\"} 1\n", "no comma"),
        ("# HELP a h\n# TYPE a gauge\na 1,5\n", "not a float"),
        ("# HELP a h\n# TYPE a gauge\na inf\n", "not a float"),
        ("# HELP a h\n# TYPE a gauge\na  1\n", "two spaces"),
        ("# HELP a h\n# TYPE a gauge\na 1 1700000000000\n", "a timestamp"),
        ("# HELP a h\n# TYPE a gage\na 1\n", "a type"),
        ("# HELP a bad \\\" escape\n# TYPE a gauge\na 1\n", "a quote escape in HELP"),
        ("# HELP a h\n# TYPE a gauge\n", "a family without samples"),
    ] {
        assert!(parse_exposition(bad).is_err(), "accepted ({why}):\n{bad}");
    }
}
