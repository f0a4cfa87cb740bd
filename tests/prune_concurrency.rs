//! Pruning beside running `go` commands: while `go build` loops over a
//! project using module set A and `go mod download` loops over module set B,
//! `gokeep prune` keeps removing set B (and debris) with set A kept. No `go`
//! command may fail, and at the end the cache verifies clean. And several
//! `gokeep mark` runs at once, sharing one state dir, each keep their record.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread;

use common::*;

const ROUNDS: u32 = 20;

fn module(path: &str, version: &str, package: &str) -> Module {
    let mut m = Module::named(path, version, package, &format!("{path}@{version}"));
    for i in 0..20 {
        m = m.file(&format!("data/f{i}.txt"), format!("{path}@{version} {i}\n").repeat(50));
    }
    m
}

/// A loop of one `go` command until told to stop; counts rounds and failures.
fn go_loop(
    sb: &GoSandbox,
    dir: &Path,
    args: &[&str],
    stop: &AtomicBool,
    rounds: &AtomicU32,
    failures: &std::sync::Mutex<Vec<String>>,
) {
    while !stop.load(Ordering::SeqCst) {
        let out = sb.go(dir, args);
        if !out.status.success() {
            failures.lock().unwrap().push(format!(
                "go {} (round {}): {}",
                args.join(" "),
                rounds.load(Ordering::SeqCst),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        rounds.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn prune_beside_go_build_and_go_mod_download_makes_no_go_command_fail() {
    let set_a = vec![module("example.com/keep/x", "v1.0.0", "x"), module("example.com/keep/y", "v1.0.0", "y")];
    let set_b: Vec<Module> =
        (0..4).map(|i| module(&format!("example.com/churn/p{i}"), "v1.0.0", &format!("p{i}"))).collect();
    let fx = Fixture::published_only(set_a.iter().chain(&set_b).cloned().collect());
    let sb = &fx.sandbox;

    // Project A builds with set A; project B only downloads set B.
    let proj_a = sb.root().join("proj-a");
    std::fs::create_dir_all(&proj_a).unwrap();
    std::fs::write(
        proj_a.join("go.mod"),
        "module example.com/proja\n\ngo 1.21\n\nrequire (\n\texample.com/keep/x v1.0.0\n\texample.com/keep/y v1.0.0\n)\n",
    )
    .unwrap();
    std::fs::write(
        proj_a.join("a.go"),
        "package proja\n\nimport (\n\t\"example.com/keep/x\"\n\t\"example.com/keep/y\"\n)\n\nfunc Names() []string { return []string{x.Name(), y.Name()} }\n",
    )
    .unwrap();
    sb.go_ok(&proj_a, &["build", "./..."]);
    let proj_b = sb.root().join("proj-b");
    std::fs::create_dir_all(&proj_b).unwrap();
    let requires = set_b.iter().fold(String::new(), |mut acc, m| {
        let _ = writeln!(acc, "\t{} {}", m.path, m.version);
        acc
    });
    std::fs::write(proj_b.join("go.mod"), format!("module example.com/projb\n\ngo 1.21\n\nrequire (\n{requires})\n"))
        .unwrap();
    let download_b = ["mod", "download"];
    sb.go_ok(&proj_b, &download_b);

    let stop = Arc::new(AtomicBool::new(false));
    let build_rounds = AtomicU32::new(0);
    let download_rounds = AtomicU32::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    let mut prune_rounds = 0;
    let mut removed_b = 0u64;
    thread::scope(|s| {
        s.spawn(|| go_loop(sb, &proj_a, &["build", "./..."], &stop, &build_rounds, &failures));
        s.spawn(|| go_loop(sb, &proj_b, &download_b, &stop, &download_rounds, &failures));
        while prune_rounds < ROUNDS
            || build_rounds.load(Ordering::SeqCst) < ROUNDS
            || download_rounds.load(Ordering::SeqCst) < ROUNDS
        {
            let doc = cmd_ok(sb.gokeep().args([
                "prune",
                "--all",
                "--debris",
                "--keep",
                "example.com/keep",
                "--yes",
                "--json",
            ]));
            removed_b += doc["result"]["files"].as_u64().unwrap_or(0);
            prune_rounds += 1;
        }
        stop.store(true, Ordering::SeqCst);
    });

    eprintln!(
        "{prune_rounds} prunes removed {removed_b} files beside {} builds and {} downloads",
        build_rounds.load(Ordering::SeqCst),
        download_rounds.load(Ordering::SeqCst)
    );
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} go commands failed:\n{}", failures.len(), failures.join("\n"));
    assert!(removed_b > 0, "the prunes never removed anything from set B");
    // Set A was never touched; everything verifies.
    for m in &set_a {
        assert!(fx.extracted_dir(&m.path, &m.version).is_dir());
    }
    assert_go_ok(&go_offline(sb, &proj_a, &["mod", "verify"]), "go mod verify (A)");
    sb.go_ok(&proj_b, &download_b);
    assert_go_ok(&sb.go(&proj_b, &["mod", "verify"]), "go mod verify (B)");
    // Nothing the racing go commands left is debris.
    let plan = cmd_ok(sb.gokeep().args(["prune", "--debris", "--dry-run", "--json"]));
    assert_eq!(plan["plan"]["items"].as_array().unwrap().len(), 0, "{plan:#}");
}

#[test]
fn marks_of_several_caches_at_once_each_keep_their_record() {
    let fx = Fixture::with_modules(vec![module("example.com/marked", "v1.0.0", "marked")]);
    let sb = &fx.sandbox;
    // Copies of the cache go filled: each mark has a root of its own, and all
    // share one state dir, as parallel CI jobs on one runner do.
    std::fs::create_dir_all(sb.root().join("caches")).unwrap();
    let caches: Vec<PathBuf> = (0..8)
        .map(|i| {
            let c = sb.root().join(format!("caches/c{i}"));
            let st = Command::new("cp").arg("-a").arg(fx.modcache()).arg(&c).status().expect("running cp");
            assert!(st.success(), "cp -a {} {}: {st}", fx.modcache().display(), c.display());
            // Filled a while before the mark, as a CI image is.
            age_tree(&c, 3);
            c
        })
        .collect();
    let state = sb.root().join("state");

    let children: Vec<_> = caches
        .iter()
        .map(|c| {
            Command::new(gokeep_bin())
                .current_dir(sb.root())
                .env_clear()
                .envs(sb.go_env())
                .env("GOKEEP_STATE_DIR", &state)
                .args(["mark", "--json", "--modcache"])
                .arg(c)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starting gokeep mark")
        })
        .collect();
    for (c, child) in caches.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "gokeep mark --modcache {} failed ({}): {}",
            c.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let text = std::fs::read_to_string(state.join("marks.json")).unwrap();
    let marks: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let recorded: BTreeSet<PathBuf> =
        marks["marks"].as_object().unwrap_or_else(|| panic!("{marks:#}")).keys().map(PathBuf::from).collect();
    assert_eq!(recorded, caches.iter().cloned().collect::<BTreeSet<_>>(), "a concurrent mark dropped a record");
    // Each cache's mark is the one prune finds: its version was not read since.
    for c in &caches {
        let doc = cmd_ok(
            sb.gokeep()
                .env("GOKEEP_STATE_DIR", &state)
                .args(["prune", "--unused-since-mark", "--dry-run", "--json", "--modcache"])
                .arg(c),
        );
        let items = doc["plan"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{}: {doc:#}", c.display());
        assert_eq!(items[0]["reason"]["rule"], "unused_since_mark", "{}: {doc:#}", c.display());
        assert_eq!(items[0]["reason"]["mark"], marks["marks"][c.to_str().unwrap()]["marked_at"]);
    }
}
