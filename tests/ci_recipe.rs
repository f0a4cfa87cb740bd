//! The CI recipe of `packaging/github-action/action.yml` and
//! `packaging/gitlab-ci.yml`, run as written against a cache the real `go`
//! filled like a CI image does (`go mod download all`): `gokeep mark`, the
//! job's build, `gokeep prune --unused-since-mark`, `gokeep gocache
//! refresh`; then the project, offline (GOPROXY=off), must still build and
//! pass `go mod verify`, `go list -m all` and `go mod graph`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;

/// Publishes the modules and writes a project that imports two of them and
/// requires a third it does not import. `used1` requires `testonly`, which
/// only its own tests would need: it is in the module graph (and in
/// `go list -m all`) but no build of the project reads any of it. `other`
/// is cached for some other project and is in no graph of this one.
fn world() -> (GoSandbox, PathBuf) {
    let sb = GoSandbox::new();
    for m in [
        Module::named("example.com/used1", "v1.0.0", "used1", "used1").require("example.com/testonly", "v1.0.0"),
        Module::named("example.com/used2", "v1.0.0", "used2", "used2"),
        Module::named("example.com/unused", "v1.0.0", "unused", "unused"),
        Module::named("example.com/testonly", "v1.0.0", "testonly", "testonly"),
        Module::named("example.com/other", "v1.0.0", "other", "other"),
    ] {
        m.publish(&sb.proxy_dir());
    }
    let app = sb.root().join("app");
    fs::create_dir_all(&app).unwrap();
    fs::write(
        app.join("go.mod"),
        "module example.com/app\n\ngo 1.21\n\nrequire (\n\texample.com/unused v1.0.0\n\texample.com/used1 v1.0.0\n\texample.com/used2 v1.0.0\n)\n",
    )
    .unwrap();
    fs::write(
        app.join("app.go"),
        "package app\n\nimport (\n\t\"example.com/used1\"\n\t\"example.com/used2\"\n)\n\n// Names says what the app uses.\nfunc Names() []string { return []string{used1.Name(), used2.Name()} }\n",
    )
    .unwrap();
    // The image: everything the build list needs, plus another project's module.
    sb.go_ok(&app, &["mod", "download", "all"]);
    sb.go_ok(&app, &["mod", "download", "example.com/other@v1.0.0"]);
    sb.go_ok(&app, &["build", "./..."]);
    // The image was built days before the job runs.
    set_tree_times(&sb.modcache(), 3 * 86_400);
    (sb, app)
}

/// `gokeep mark`, the job's build, `gokeep prune --unused-since-mark` with
/// `extra` flags, `gokeep gocache refresh`: the recipe's steps.
fn run_recipe(sb: &GoSandbox, app: &Path, extra: &[&str]) -> serde_json::Value {
    let state = sb.root().join("state");
    run_ok(sb.gokeep().env("GOKEEP_STATE_DIR", &state).arg("mark"));
    sb.go_ok(app, &["build", "./..."]);
    let doc = cmd_ok(
        sb.gokeep()
            .env("GOKEEP_STATE_DIR", &state)
            .args(["prune", "--unused-since-mark", "--yes", "--json"])
            .args(extra),
    );
    run_ok(sb.gokeep().env("GOKEEP_STATE_DIR", &state).args(["gocache", "refresh"]));
    doc
}

/// What each offline command printed, failing or not.
fn offline(sb: &GoSandbox, app: &Path) -> Vec<(String, bool, String)> {
    [&["build", "./..."][..], &["mod", "verify"], &["list", "-m", "all"], &["mod", "graph"]]
        .iter()
        .map(|args| {
            let out = go_offline(sb, app, args);
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            (format!("GOPROXY=off go {}", args.join(" ")), out.status.success(), text)
        })
        .collect()
}

fn download_file(sb: &GoSandbox, path: &str, version: &str, suffix: &str) -> PathBuf {
    sb.modcache().join(format!("cache/download/{path}/@v/{version}.{suffix}"))
}

/// The `gokeep …` commands of a recipe file, in order: each runs from
/// `gokeep ` to the end of its shell command (`;`, `&&`, `||` or the line's
/// end). Comments are skipped.
fn gokeep_lines(recipe: &str) -> Vec<String> {
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(recipe)).unwrap();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        let mut rest = line;
        while let Some(at) = rest.find("gokeep ") {
            let starts_word = at == 0 || rest[..at].ends_with([' ', '\t']);
            let tail = &rest[at..];
            let end = [";", "&&", "||"].iter().filter_map(|sep| tail.find(sep)).min().unwrap_or(tail.len());
            if starts_word {
                out.push(tail[..end].trim().to_owned());
            }
            rest = &tail[if starts_word { end } else { "gokeep ".len() }..];
        }
    }
    out
}

/// The steps this test runs are the ones the shipped recipes run.
#[test]
fn the_github_action_and_the_gitlab_snippet_run_the_tested_commands() {
    let steps = ["gokeep mark", "gokeep prune --unused-since-mark --keep-metadata --yes", "gokeep gocache refresh"];
    for recipe in ["packaging/github-action/action.yml", "packaging/gitlab-ci.yml"] {
        assert_eq!(gokeep_lines(recipe), steps, "{recipe}");
    }
}

#[test]
fn the_ci_recipe_with_keep_metadata_leaves_a_cache_go_uses_offline() {
    let (sb, app) = world();
    let doc = run_recipe(&sb, &app, &["--keep-metadata"]);
    let mut pruned: Vec<(String, String)> = doc["plan"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["target"]["kind"].as_str().unwrap().to_owned(), i["target"]["module"].as_str().unwrap().to_owned()))
        .collect();
    pruned.sort();
    let content = |m: &str| ("version_content".to_owned(), m.to_owned());
    assert_eq!(pruned, [content("example.com/other"), content("example.com/testonly"), content("example.com/unused")]);
    assert_eq!(doc["result"]["module_versions"], 3);

    for (cmd, ok, text) in offline(&sb, &app) {
        assert!(ok, "{cmd} failed after the recipe:\n{text}");
    }
    // What is left of a pruned version is what go keeps for one it only needed the go.mod of.
    for m in ["example.com/unused", "example.com/testonly", "example.com/other"] {
        for kept in ["info", "mod", "lock"] {
            assert!(download_file(&sb, m, "v1.0.0", kept).is_file(), "{m} lost its .{kept}");
        }
        for gone in ["zip", "ziphash"] {
            assert!(!download_file(&sb, m, "v1.0.0", gone).exists(), "{m} kept its .{gone}");
        }
        assert!(!sb.modcache().join(format!("{m}@v1.0.0")).exists(), "{m} kept its tree");
        let list = fs::read_to_string(sb.modcache().join(format!("cache/download/{m}/@v/list"))).unwrap();
        assert_eq!(list, "v1.0.0\n", "{m}'s @v/list");
    }
    for m in ["example.com/used1", "example.com/used2"] {
        assert!(download_file(&sb, m, "v1.0.0", "zip").is_file(), "{m} was used and must stay whole");
    }
    // gokeep's own check agrees: go.sum lines for content that is gone are notes, not findings.
    let (code, out, err) = run(sb.gokeep().arg("verify").arg("--project").arg(&app));
    assert_eq!(code, 0, "{out}{err}");

    // A second run of the recipe has nothing more to take from the pruned versions.
    let again = run_recipe(&sb, &app, &["--keep-metadata"]);
    assert_eq!(again["plan"]["total_items"], 0, "{:#}", again["plan"]);
}

/// Why the option exists: without it the versions no build read go whole,
/// and cmd/go cannot load the module graph offline any more.
#[test]
fn without_keep_metadata_the_module_graph_does_not_load_offline() {
    let (sb, app) = world();
    run_recipe(&sb, &app, &[]);
    let results = offline(&sb, &app);
    let (cmd, ok, text) = &results[0];
    assert!(ok, "{cmd}: the build itself needs nothing that was removed:\n{text}");
    for (cmd, ok, text) in &results[1..] {
        assert!(!ok, "{cmd} passed");
        assert!(text.contains("example.com/unused@v1.0.0: module lookup disabled by GOPROXY=off"), "{cmd}:\n{text}");
    }
}

/// The Dockerfile's recipe: the shipped ci-image policy with the project as
/// its only root, then the same offline checks.
#[test]
fn the_ci_image_policy_leaves_a_cache_go_uses_offline() {
    let (sb, app) = world();
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("schedules/ci-image.toml");
    let doc = cmd_ok(sb.gokeep().arg("prune").arg("--policy").arg(&policy).arg("--root").arg(&app).args([
        "--roots-only",
        "--yes",
        "--json",
    ]));
    let kinds: Vec<&str> =
        doc["plan"]["items"].as_array().unwrap().iter().map(|i| i["target"]["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"version_content"), "{:#}", doc["plan"]);
    assert!(!kinds.contains(&"module_version"), "keep_metadata leaves every .info and .mod: {:#}", doc["plan"]);
    assert!(!download_file(&sb, "example.com/other", "v1.0.0", "zip").exists(), "not a root: its content goes");
    for (cmd, ok, text) in offline(&sb, &app) {
        assert!(ok, "{cmd} failed after the ci-image policy:\n{text}");
    }
}
