//! The JSON Schemas of the `--json` documents: `docs/schemas/` holds exactly
//! what `gokeep schema` prints, and every command's `--json` output on a
//! cache the real `go` wrote validates against its document's schema.
//! Set `GOKEEP_BLESS=1` to rewrite `docs/schemas/`.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn docs_schemas_hold_exactly_what_gokeep_schema_prints() {
    let dir = Path::new(REPO).join("docs/schemas");
    let documents = schema::documents();
    assert!(documents.len() >= 13, "gokeep schema lists {documents:?}");
    if std::env::var_os("GOKEEP_BLESS").is_some() {
        fs::create_dir_all(&dir).unwrap();
        for d in &documents {
            fs::write(dir.join(format!("{d}.json")), schema::published(d)).unwrap();
        }
    }
    let mut stale = Vec::new();
    for d in &documents {
        let path = dir.join(format!("{d}.json"));
        let committed = fs::read_to_string(&path).unwrap_or_default();
        if committed != schema::published(d) {
            stale.push(path.display().to_string());
        }
    }
    let mut extra: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !documents.iter().any(|d| *name == format!("{d}.json")))
        .collect();
    extra.sort();
    assert!(stale.is_empty(), "differ from `gokeep schema` (GOKEEP_BLESS=1 rewrites them): {stale:?}");
    assert!(extra.is_empty(), "no document of that name in `gokeep schema`: {extra:?}");
}

/// `gokeep <args> --json` in the fixture's sandbox, with `stdin`; the output
/// validated as `document`.
fn run(fx: &Fixture, document: &str, args: &[&str], stdin: &str) -> Value {
    let out = fx
        .sandbox
        .gokeep()
        .env("GOKEEP_SYSTEMD_DIR", fx.sandbox.root().join("units"))
        .arg("--json")
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "gokeep {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    schema::parse(document, &out.stdout)
}

#[test]
fn every_commands_json_validates_against_its_schema() {
    let fx = Fixture::standard();
    let policy = format!("{REPO}/schedules/nightly.toml");

    run(&fx, "env", &["env"], "");
    run(&fx, "status", &["status"], "");
    run(&fx, "verify", &["verify", "--project", &fx.consumer.display().to_string()], "");
    run(&fx, "mark", &["mark"], "");
    run(&fx, "gocache-refresh", &["gocache", "refresh"], "");
    run(&fx, "schedule-validate", &["schedule", "validate", "0 2 * * 1-5"], "");
    run(&fx, "schedule-install", &["schedule", "install", "--policy", &policy, "--yes"], "");
    let shown = run(&fx, "schedule-show", &["schedule", "show"], "");
    assert_eq!(shown["schedules"].as_array().map(Vec::len), Some(1), "{shown:#}");
    run(&fx, "schedule-uninstall", &["schedule", "uninstall", "--dry-run"], "");

    // A go.sum line that disagrees with the cache: go refuses to build, explain reads why.
    let go_sum = fx.consumer.join("go.sum");
    let sum = fs::read_to_string(&go_sum).unwrap();
    let line = sum.lines().find(|l| !l.contains("/go.mod ")).unwrap();
    let (prefix, _) = line.rsplit_once(' ').unwrap();
    fs::write(&go_sum, sum.replace(line, &format!("{prefix} h1:{}=", "A".repeat(43)))).unwrap();
    let go = fx.sandbox.go(&fx.consumer, &["build", "./..."]);
    let stderr = String::from_utf8_lossy(&go.stderr);
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    let explained = run(&fx, "explain", &["explain", "--project", &fx.consumer.display().to_string()], &stderr);
    assert_eq!(explained["explanations"].as_array().map(Vec::len), Some(1), "{explained:#}");
    fs::write(&go_sum, sum).unwrap();

    let plan = run(&fx, "prune", &["prune", "--all", "--dry-run"], "");
    assert!(plan["plan"]["total_items"].as_u64().is_some_and(|n| n > 0), "{plan:#}");
    let pruned = run(&fx, "prune", &["prune", "--all", "--yes"], "");
    assert!(pruned["result"].is_object(), "{pruned:#}");
    let log = run(&fx, "log", &["log"], "");
    assert!(log["entries"].as_array().is_some_and(|e| e.len() >= 2), "the mark and the prune: {log:#}");

    let module = fx.modules[0].0.clone();
    let doctor = run(&fx, "doctor", &["doctor", "--offline", "--module", &module], "");
    assert_eq!(doctor["routes"][0]["module"], module.as_str(), "{doctor:#}");

    fs::write(
        fx.sandbox.root().join("gokeep.toml"),
        "[profiles.ci]\nGOPROXY = \"https://proxy.golang.org,direct\"\nGOFLAGS = \"-mod=mod -trimpath\"\n",
    )
    .unwrap();
    let profiles = run(&fx, "profile-list", &["profile", "list"], "");
    assert_eq!(profiles["profiles"][0]["name"], "ci", "{profiles:#}");
    run(&fx, "profile-show", &["profile", "show", "ci"], "");
    let diff = run(&fx, "profile-diff", &["profile", "diff", "ci"], "");
    assert!(diff["changes"].as_array().is_some_and(|c| !c.is_empty()), "{diff:#}");

    // A local checkout of a module the consumer requires, linked, listed, checked, unlinked.
    let checkout = fx.sandbox.root().join("checkout");
    fs::create_dir_all(&checkout).unwrap();
    fs::write(checkout.join("go.mod"), format!("module {module}\n\ngo 1.21\n")).unwrap();
    let project = fx.consumer.display().to_string();
    let checkout = checkout.display().to_string();
    let linked = run(&fx, "link", &["link", &checkout, "--project", &project, "--mode", "replace", "--yes"], "");
    assert_eq!(linked["written"], true, "{linked:#}");
    let links = run(&fx, "links", &["links", "--project", &project], "");
    assert_eq!(links["links"].as_array().map(Vec::len), Some(1), "{links:#}");
    let check = run(&fx, "check", &["check", "--project", &project], "");
    assert!(check["findings"].as_array().is_some_and(|f| !f.is_empty()), "a local replace: {check:#}");
    let unlink = run(&fx, "unlink", &["unlink", "--all", "--project", &project, "--yes"], "");
    assert_eq!(unlink["written"], true, "{unlink:#}");

    let missing = fx.sandbox.root().join("missing");
    let out = fx.sandbox.gokeep().args(["prune", "--all", "--json", "--modcache"]).arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let error = schema::parse("error", &out.stdout);
    assert_eq!(error["error"]["exit_code"], 4);
}

#[test]
fn a_document_that_differs_from_its_schema_is_rejected() {
    let valid = serde_json::json!({"schema_version": 1, "error": {"message": "m", "exit_code": 2}});
    schema::validate("error", &valid);
    for wrong in [
        serde_json::json!({"schema_version": 1, "error": {"message": "m", "exit_code": "2"}}),
        serde_json::json!({"schema_version": 2, "error": {"message": "m", "exit_code": 2}}),
        serde_json::json!({"schema_version": 1, "error": {"message": "m", "exit_code": 2, "extra": true}}),
    ] {
        let rejected = std::panic::catch_unwind(|| schema::validate("error", &wrong)).is_err();
        assert!(rejected, "accepted {wrong}");
    }
}
