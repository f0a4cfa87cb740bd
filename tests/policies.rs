//! The shipped policies in `schedules/` do what their comments promise, out of
//! the box, on a real-go cache whose every file was last used 100 days ago.

mod common;

use std::fs;
use std::path::PathBuf;

use common::*;

fn shipped(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schedules").join(name).display().to_string()
}

/// The standard modules plus a private module with three versions.
fn aged_fixture() -> Fixture {
    let mut modules = standard_modules();
    for v in ["v1.0.0", "v1.1.0", "v1.2.0"] {
        modules.push(Module::named("example.com/corp/lib", v, "lib", &format!("corp {v}")));
    }
    let fx = Fixture::with_modules(modules);
    age_tree(&fx.modcache(), 100);
    fx
}

fn has_tree(fx: &Fixture, m: &str, v: &str) -> bool {
    fx.extracted_dir(m, v).exists()
}

fn has_zip(fx: &Fixture, m: &str, v: &str) -> bool {
    fx.download_file(m, v, "zip").exists()
}

fn assert_consumer_builds_offline(fx: &Fixture) {
    assert_go_ok(&go_offline(&fx.sandbox, &fx.consumer, &["build", "./..."]), "GOPROXY=off go build");
    assert_go_ok(&go_offline(&fx.sandbox, &fx.consumer, &["mod", "verify"]), "GOPROXY=off go mod verify");
}

/// nightly.toml: versions unused for 30 days go, but the newest 2 of each module stay;
/// trees unused for a week are dropped with their zips kept (`keep_latest` must not cancel
/// `zips_only_after`), so everything the newest versions need still builds offline.
#[test]
fn nightly_policy_keeps_the_newest_two_as_zips_and_drops_every_old_tree() {
    let fx = aged_fixture();
    run_ok(fx.sandbox.gokeep().args(["prune", "--policy", &shipped("nightly.toml"), "--yes"]));
    assert!(!has_zip(&fx, "example.com/corp/lib", "v1.0.0") && !has_tree(&fx, "example.com/corp/lib", "v1.0.0"));
    for (m, v) in &fx.modules {
        if (m.as_str(), v.as_str()) == ("example.com/corp/lib", "v1.0.0") {
            continue;
        }
        assert!(has_zip(&fx, m, v), "keep_latest = 2 keeps {m}@{v}");
        assert!(!has_tree(&fx, m, v), "zips_only_after = 7d drops the tree of {m}@{v}");
    }
    assert_consumer_builds_offline(&fx);
}

/// laptop.toml: the company's modules are never removed, the newest version of every
/// module stays, and `~/src/*` matching nothing on this machine is a warning naming the
/// policy file and line, not a failure.
#[test]
fn laptop_policy_runs_without_a_src_dir_and_keeps_private_and_newest_versions() {
    let fx = aged_fixture();
    let policy = shipped("laptop.toml");
    let (code, _, err) = run(fx.sandbox.gokeep().args(["prune", "--policy", &policy, "--yes"]));
    assert_eq!(code, 0, "{err}");
    let line = fs::read_to_string(&policy).unwrap().lines().position(|l| l.starts_with("projects")).unwrap() + 1;
    assert!(err.contains(&format!("{policy}:{line}:")) && err.contains("~/src/*"), "names file and line: {err}");
    for v in ["v1.0.0", "v1.1.0", "v1.2.0"] {
        assert!(has_zip(&fx, "example.com/corp/lib", v), "keep = corp/* keeps v{v}");
    }
    assert!(!has_zip(&fx, "example.com/Org/Lib", "v1.0.0"), "max_age 14d removes an old, not newest version");
    assert!(!has_zip(&fx, "example.com/a", "v1.0.0"));
    assert!(has_zip(&fx, "example.com/a", "v1.2.0") && !has_tree(&fx, "example.com/a", "v1.2.0"));
    assert_consumer_builds_offline(&fx);
}

/// laptop.toml: `~` is the user's home directory ($HOME), and a project there is a root
/// whose versions keep their trees.
#[test]
fn laptop_policy_protects_projects_under_the_real_home() {
    let fx = aged_fixture();
    let app = fx.sandbox.home().join("src/app");
    fs::create_dir_all(&app).unwrap();
    fs::write(app.join("go.mod"), "module example.com/app\n\ngo 1.21\n\nrequire example.com/Org/Lib v1.0.0\n").unwrap();
    let (code, _, err) = run(fx.sandbox.gokeep().args(["prune", "--policy", &shipped("laptop.toml"), "--yes"]));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("protects nothing"), "{err}");
    assert!(has_zip(&fx, "example.com/Org/Lib", "v1.0.0") && has_tree(&fx, "example.com/Org/Lib", "v1.0.0"));
}

/// ci-image.toml: with no `/src` checkout, it refuses (naming the file and line) instead of
/// removing everything; `--root DIR --roots-only` replaces its roots, and then exactly the
/// project's versions stay, and the kept build-cache entries count as used now.
#[test]
fn ci_image_policy_refuses_without_projects_and_keeps_exactly_the_roots_given() {
    let fx = aged_fixture();
    age_tree(&fx.gocache(), 3);
    let policy = shipped("ci-image.toml");
    let before = snapshot(&fx.modcache());
    let (code, _, err) = run(fx.sandbox.gokeep().args(["prune", "--policy", &policy, "--yes"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{policy}:")) && err.contains("--root"), "{err}");
    assert_same(&before, &snapshot(&fx.modcache()));

    let app = fx.sandbox.root().join("app");
    fs::create_dir_all(&app).unwrap();
    fs::write(app.join("go.mod"), "module example.com/app\n\ngo 1.21\n\nrequire example.com/c v1.0.0\n").unwrap();
    fs::write(app.join("app.go"), "package app\n\nimport \"example.com/c\"\n\nvar N = c.Name()\n").unwrap();
    let app_s = app.display().to_string();
    let (code, _, err) =
        run(fx.sandbox.gokeep().args(["prune", "--policy", &policy, "--root", &app_s, "--roots-only", "--yes"]));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("/src/*"), "--roots-only replaced the policy's roots: {err}");
    let mut left = cached_versions(&fx);
    left.sort();
    assert_eq!(left, vec![("example.com/c".to_owned(), "v1.0.0".to_owned())]);
    assert_go_ok(&go_offline(&fx.sandbox, &app, &["build", "./..."]), "the image's project builds offline");
    let now = gokeep::timestamp::Timestamp::now().0;
    let old_entries = walkdir::WalkDir::new(fx.gocache())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with("-a"))
        .filter(|e| {
            use std::os::unix::fs::MetadataExt;
            now - e.metadata().unwrap().mtime() > 3600
        })
        .count();
    assert_eq!(old_entries, 0, "refresh_kept sets kept entries' mtimes to now");
}
