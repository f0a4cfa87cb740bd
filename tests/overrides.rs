//! `gokeep link`, `unlink`, `links` and `check` against the real `go`: the
//! link is what go builds, the unlink gives back the exact bytes, and every
//! file gokeep writes is one `go mod edit -json` / `go work edit -json` reads.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::corpus::{Kind, corpus};
use common::*;
use gokeep::go::modfile::{ModFile, WorkFile};
use gokeep::overrides::plan::{self, Revert};
use gokeep::overrides::{LinkRecord, Mode};
use gokeep::timestamp::Timestamp;
use serde_json::Value;

const LIB: &str = "example.com/lib";
const APP_GO_MOD: &str = "module example.com/app\n\ngo 1.21\n\nrequire example.com/lib v1.0.0\n";

/// Go commands in workspace mode: GOWORK found by search, and no -mod=mod
/// (go refuses it in workspace mode).
const WORKSPACE: &[(&str, &str)] = &[("GOWORK", ""), ("GOFLAGS", "")];

struct World {
    sb: GoSandbox,
    app: PathBuf,
    lib: PathBuf,
}

/// `example.com/lib` v1.0.0 published (its Name says so), a checkout of it
/// with a local change in `lib/`, and `app/`, a command that prints
/// `lib.Name()`, built once so go.sum is complete.
fn world() -> World {
    let sb = GoSandbox::new();
    Module::new(LIB, "v1.0.0")
        .file("lib.go", "package lib\n\nfunc Name() string { return \"published v1.0.0\" }\n")
        .publish(&sb.proxy_dir());
    let lib = sb.root().join("lib");
    fs::create_dir_all(&lib).unwrap();
    fs::write(lib.join("go.mod"), "module example.com/lib\n\ngo 1.21\n").unwrap();
    fs::write(lib.join("lib.go"), "package lib\n\nfunc Name() string { return \"local checkout\" }\n").unwrap();
    let app = sb.root().join("app");
    fs::create_dir_all(&app).unwrap();
    fs::write(app.join("go.mod"), APP_GO_MOD).unwrap();
    fs::write(
        app.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/lib\"\n)\n\nfunc main() { fmt.Println(lib.Name()) }\n",
    )
    .unwrap();
    sb.go_ok(&app, &["build", "./..."]);
    World { sb, app, lib }
}

impl World {
    fn state(&self) -> PathBuf {
        self.sb.root().join("state")
    }

    /// gokeep in `dir` with gokeep's state in the sandbox.
    fn gokeep(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.sb.gokeep();
        cmd.current_dir(dir).env("GOKEEP_STATE_DIR", self.state()).args(args);
        cmd.envs(env.iter().copied());
        cmd.output().expect("running gokeep")
    }

    fn gokeep_ok(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = self.gokeep(dir, args, env);
        assert!(out.status.success(), "gokeep {args:?} failed ({}):\n{}", out.status, text(&out.stderr));
        out
    }

    /// Builds the app and returns what it prints.
    fn run_app(&self, env: &[(&str, &str)]) -> String {
        let bin = self.sb.root().join("app.bin");
        let out = self.sb.go_with_env(&self.app, &["build", "-o", bin.to_str().unwrap(), "."], env);
        assert!(out.status.success(), "go build: {}", text(&out.stderr));
        let run = std::process::Command::new(&bin).output().unwrap();
        text(&run.stdout).trim().to_owned()
    }

    fn go_json(&self, args: &[&str], env: &[(&str, &str)]) -> Value {
        let out = self.sb.go_with_env(&self.app, args, env);
        assert!(out.status.success(), "go {args:?}: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

#[test]
fn replace_mode_builds_the_local_checkout_and_unlink_gives_back_the_published_one() {
    let w = world();
    let before = fs::read(w.app.join("go.mod")).unwrap();
    assert_eq!(w.run_app(&[]), "published v1.0.0");

    w.gokeep_ok(&w.app, &["link", "../lib", "--mode", "replace", "--yes"], &[]);
    assert_eq!(w.run_app(&[]), "local checkout", "the build uses the local checkout");
    let m = w.go_json(&["list", "-m", "-json", LIB], &[]);
    assert_eq!(m["Replace"]["Path"], "../lib", "{m}");
    assert_eq!(m["Replace"]["Dir"], w.lib.to_str().unwrap(), "{m}");
    let edit = w.go_json(&["mod", "edit", "-json"], &[]);
    assert_eq!(edit["Replace"], serde_json::json!([{"Old": {"Path": LIB}, "New": {"Path": "../lib"}}]));
    assert_eq!(edit["Require"], serde_json::json!([{"Path": LIB, "Version": "v1.0.0"}]));

    w.gokeep_ok(&w.app, &["unlink", LIB, "--yes"], &[]);
    assert_eq!(fs::read(w.app.join("go.mod")).unwrap(), before, "byte for byte");
    assert_eq!(w.run_app(&[]), "published v1.0.0", "the published version from the cache again");
    let verify = w.sb.go(&w.app, &["mod", "verify"]);
    assert!(verify.status.success(), "go mod verify: {}", text(&verify.stderr));
}

#[test]
fn work_mode_creates_a_go_work_go_builds_with_and_unlink_removes_it() {
    let w = world();
    let go_mod = fs::read(w.app.join("go.mod")).unwrap();
    w.gokeep_ok(&w.app, &["link", "../lib", "--yes"], WORKSPACE);
    assert_eq!(fs::read(w.app.join("go.mod")).unwrap(), go_mod, "go.mod stays untouched");
    assert_eq!(fs::read_to_string(w.app.join("go.work")).unwrap(), "go 1.21\n\nuse (\n\t.\n\t../lib\n)\n");
    let work = w.go_json(&["work", "edit", "-json"], WORKSPACE);
    assert_eq!(work["Use"], serde_json::json!([{"DiskPath": "."}, {"DiskPath": "../lib"}]));
    assert_eq!(w.run_app(WORKSPACE), "local checkout");
    let m = w.go_json(&["list", "-m", "-json", LIB], WORKSPACE);
    assert_eq!(m["Main"], true, "a workspace module: {m}");
    assert_eq!(m["Dir"], w.lib.to_str().unwrap(), "{m}");

    w.gokeep_ok(&w.app, &["unlink", LIB, "--yes"], WORKSPACE);
    assert!(!w.app.join("go.work").exists(), "the go.work gokeep created is gone");
    assert_eq!(w.run_app(WORKSPACE), "published v1.0.0");
    assert!(w.sb.go(&w.app, &["mod", "verify"]).status.success());
}

#[test]
fn work_mode_joins_an_existing_go_work_and_unlink_restores_its_bytes() {
    let w = world();
    let existing = b"// team workspace\r\ngo 1.21\r\n\r\nuse .\r\n";
    fs::write(w.app.join("go.work"), existing).unwrap();
    w.gokeep_ok(&w.app, &["link", "../lib", "--yes"], WORKSPACE);
    assert_eq!(
        fs::read(w.app.join("go.work")).unwrap(),
        b"// team workspace\r\ngo 1.21\r\n\r\nuse .\r\nuse ../lib\r\n"
    );
    assert_eq!(w.run_app(WORKSPACE), "local checkout");
    w.gokeep_ok(&w.app, &["unlink", "--all", "--yes"], WORKSPACE);
    assert_eq!(fs::read(w.app.join("go.work")).unwrap(), existing);
}

#[test]
fn after_link_and_go_mod_tidy_unlink_removes_only_gokeeps_lines() {
    let w = world();
    // An unneeded requirement that tidy removes: go.mod changes under the link.
    Module::new("example.com/unused", "v1.0.0").file("u.go", "package unused\n").publish(&w.sb.proxy_dir());
    let with_unused = format!("{APP_GO_MOD}\nrequire example.com/unused v1.0.0 // indirect\n");
    fs::write(w.app.join("go.mod"), &with_unused).unwrap();
    // What tidy alone makes of it, in a copy that is never linked.
    let twin = w.sb.root().join("twin");
    fs::create_dir_all(&twin).unwrap();
    for f in ["go.mod", "main.go"] {
        fs::copy(w.app.join(f), twin.join(f)).unwrap();
    }
    w.sb.go_ok(&twin, &["mod", "tidy"]);
    let tidied = fs::read(twin.join("go.mod")).unwrap();
    assert_ne!(tidied, with_unused.as_bytes(), "tidy must change something for this test to mean anything");

    w.gokeep_ok(&w.app, &["link", "../lib", "--mode", "replace", "--yes"], &[]);
    w.sb.go_ok(&w.app, &["mod", "tidy"]);
    let out = w.gokeep_ok(&w.app, &["unlink", LIB, "--yes"], &[]);
    let err = text(&out.stderr);
    assert!(err.contains("changed since gokeep linked: only gokeep's lines are removed"), "{err}");
    assert!(err.contains("differs from before the link by changes made since"), "{err}");
    assert_eq!(text(&fs::read(w.app.join("go.mod")).unwrap()), text(&tidied));
    assert_eq!(w.run_app(&[]), "published v1.0.0");
}

#[test]
fn a_versioned_replace_is_written_and_read_by_go() {
    let w = world();
    let before = fs::read(w.app.join("go.mod")).unwrap();
    // From outside the consumer: the directory is taken from the current one, the consumer from --project.
    w.gokeep_ok(
        w.sb.root(),
        &["link", "lib", "--project", "app", "--mode", "replace", "--version", "v1.0.0", "--yes"],
        &[],
    );
    let edit = w.go_json(&["mod", "edit", "-json"], &[]);
    assert_eq!(
        edit["Replace"],
        serde_json::json!([{"Old": {"Path": LIB, "Version": "v1.0.0"}, "New": {"Path": "../lib"}}])
    );
    assert_eq!(w.run_app(&[]), "local checkout");
    let out = w.gokeep(&w.app, &["link", "../lib", "--version", "v1.0.0", "--yes"], &[]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("a version-specific override is a replace"), "{}", text(&out.stderr));
    w.gokeep_ok(w.sb.root(), &["unlink", LIB, "--project", "app", "--yes"], &[]);
    assert_eq!(fs::read(w.app.join("go.mod")).unwrap(), before);
}

#[test]
fn without_a_terminal_nothing_is_written_unless_yes_and_dry_run_only_shows() {
    let w = world();
    let before = fs::read(w.app.join("go.mod")).unwrap();
    for args in [&["link", "../lib", "--mode", "replace"][..], &["link", "../lib", "--mode", "replace", "--dry-run"]] {
        let out = w.gokeep_ok(&w.app, args, &[]);
        assert!(text(&out.stdout).contains("+replace example.com/lib => ../lib"), "{}", text(&out.stdout));
        assert_eq!(fs::read(w.app.join("go.mod")).unwrap(), before, "{args:?} wrote");
    }
    let out = w.gokeep_ok(&w.app, &["link", "../lib", "--mode", "replace", "--json"], &[]);
    let v = schema::parse("link", &out.stdout);
    assert_eq!(v["written"], false);
    assert_eq!(v["plan"]["module"], LIB);
    assert!(v["diff"].as_str().unwrap().contains("+replace example.com/lib => ../lib"));
    let links = schema::parse("links", &w.gokeep_ok(&w.app, &["links", "--json"], &[]).stdout);
    assert_eq!(links["links"], serde_json::json!([]));
}

#[test]
fn link_warns_when_go_would_ask_a_proxy_for_the_module_and_says_how_to_fix_it() {
    let w = world();
    let out = w.gokeep_ok(&w.app, &["link", "../lib", "--mode", "replace", "--dry-run"], &[]);
    let err = text(&out.stderr);
    assert!(err.contains("example.com/lib is not covered by GOPRIVATE"), "{err}");
    assert!(err.contains(&format!("the proxy {}", w.sb.goproxy())), "{err}");
    assert!(err.contains("go env -w GOPRIVATE=example.com/lib"), "{err}");
    let out =
        w.gokeep_ok(&w.app, &["link", "../lib", "--mode", "replace", "--dry-run"], &[("GOPRIVATE", "example.com")]);
    assert!(!text(&out.stderr).contains("GOPRIVATE"), "{}", text(&out.stderr));
}

fn links_json(w: &World, env: &[(&str, &str)]) -> Value {
    let out = w.gokeep_ok(&w.app, &["links", "--json"], env);
    let v = schema::parse("links", &out.stdout);
    assert_eq!(v["links"].as_array().unwrap().len(), 1, "{v}");
    v["links"][0].clone()
}

fn reasons(l: &Value) -> String {
    l["not_in_effect"].to_string()
}

#[test]
fn links_says_when_go_does_not_use_an_override_and_when_the_target_changed() {
    let w = world();
    w.gokeep_ok(&w.app, &["link", "../lib", "--yes"], WORKSPACE);
    let l = links_json(&w, WORKSPACE);
    assert_eq!(l["in_effect"], true, "{l}");
    assert_eq!(l["applied"], "yes");
    assert_eq!(l["mode"], "work");

    let l = links_json(&w, &[("GOWORK", "off"), ("GOFLAGS", "")]);
    assert_eq!(l["in_effect"], false);
    assert!(reasons(&l).contains("GOWORK=off"), "{l}");
    // go agrees: with GOWORK=off the published version is built.
    assert_eq!(w.run_app(&[("GOWORK", "off"), ("GOFLAGS", "")]), "published v1.0.0");

    let l = links_json(&w, &[("GOWORK", ""), ("GOFLAGS", "-mod=vendor")]);
    assert_eq!(l["in_effect"], false);
    assert!(reasons(&l).contains("-mod=vendor"), "{l}");

    let l = links_json(&w, &[("GOWORK", ""), ("GOFLAGS", "-mod=mod")]);
    assert!(reasons(&l).contains("go refuses it in workspace mode"), "{l}");

    git(&w.lib, &["init", "-q"]);
    git(&w.lib, &["add", "."]);
    git(&w.lib, &["commit", "-qm", "lib"]);
    assert_eq!(links_json(&w, WORKSPACE)["target_uncommitted"], false);
    fs::write(w.lib.join("debug.go"), "package lib\n").unwrap();
    assert_eq!(links_json(&w, WORKSPACE)["target_uncommitted"], true);

    fs::write(w.lib.join("go.mod"), "module example.com/renamed\n\ngo 1.21\n").unwrap();
    let l = links_json(&w, WORKSPACE);
    assert_eq!(l["target_module_changed"], true, "{l}");
    assert_eq!(l["target_module"], "example.com/renamed");
    assert!(reasons(&l).contains("now declares example.com/renamed"), "{l}");

    fs::write(w.lib.join("go.mod"), "module example.com/lib\n\ngo 1.99\n").unwrap();
    assert_eq!(links_json(&w, WORKSPACE)["target_go_newer"], true);
}

#[test]
fn links_says_a_vendor_directory_hides_a_replace() {
    let w = world();
    w.gokeep_ok(&w.app, &["link", "../lib", "--mode", "replace", "--yes"], &[]);
    assert_eq!(links_json(&w, &[("GOFLAGS", "")])["in_effect"], true);
    // Vendored before the link was made: go now builds from vendor/.
    fs::create_dir_all(w.app.join("vendor")).unwrap();
    let l = links_json(&w, &[("GOFLAGS", "")]);
    assert_eq!(l["in_effect"], false);
    assert!(reasons(&l).contains("vendor exists"), "{l}");
}

/// One bad input: the command, what makes it bad, and what gokeep must say.
struct BadCase {
    name: &'static str,
    args: Vec<String>,
    setup: Box<dyn Fn()>,
    exit: i32,
    message: String,
}

#[test]
fn bad_input_is_refused_with_a_clear_message_and_nothing_written() {
    let w = world();
    let go_mod = w.app.join("go.mod");
    let before = fs::read(&go_mod).unwrap();
    let nomod = w.sb.root().join("nomod");
    fs::create_dir_all(&nomod).unwrap();
    let other = w.sb.root().join("other");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("go.mod"), "module example.com/other\n").unwrap();

    let gm = go_mod.clone();
    let cases = vec![
        BadCase {
            name: "a linked directory without go.mod",
            args: vec!["link".into(), nomod.display().to_string(), "--yes".into()],
            setup: Box::new(|| {}),
            exit: 2,
            message: format!("{} has no go.mod", nomod.display()),
        },
        BadCase {
            name: "a module the consumer does not require",
            args: vec!["link".into(), other.display().to_string(), "--yes".into()],
            setup: Box::new(|| {}),
            exit: 2,
            message: "example.com/app does not require example.com/other".into(),
        },
        BadCase {
            name: "a go.mod with a syntax error",
            args: vec!["link".into(), "../lib".into(), "--mode".into(), "replace".into(), "--yes".into()],
            setup: Box::new(move || fs::write(&gm, format!("{APP_GO_MOD}frobnicate x\n")).unwrap()),
            exit: 2,
            message: format!("{}:6: unknown directive: frobnicate", go_mod.display()),
        },
        BadCase {
            name: "a read-only go.mod",
            args: vec!["link".into(), "../lib".into(), "--mode".into(), "replace".into(), "--yes".into()],
            setup: {
                let gm = go_mod.clone();
                Box::new(move || fs::set_permissions(&gm, fs::Permissions::from_mode(0o444)).unwrap())
            },
            exit: 2,
            message: format!("{} is read-only", go_mod.display()),
        },
        BadCase {
            name: "unlinking a module that is not linked",
            args: vec!["unlink".into(), LIB.into(), "--yes".into()],
            setup: Box::new(|| {}),
            exit: 2,
            message: "example.com/lib is not linked".into(),
        },
    ];
    let entries = fs::read_dir(&w.app).unwrap().count();
    for c in cases {
        fs::write(&go_mod, &before).unwrap();
        fs::set_permissions(&go_mod, fs::Permissions::from_mode(0o644)).unwrap();
        (c.setup)();
        let expected = fs::read(&go_mod).unwrap();
        let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
        let out = w.gokeep(&w.app, &args, &[]);
        let err = text(&out.stderr);
        assert_eq!(code(&out), c.exit, "{}: {err}", c.name);
        assert!(err.contains(&c.message), "{}: {err}", c.name);
        assert_eq!(fs::read(&go_mod).unwrap(), expected, "{}: go.mod changed", c.name);
        assert!(!w.app.join("go.work").exists(), "{}", c.name);
        assert_eq!(fs::read_dir(&w.app).unwrap().count(), entries, "{}: a file was left behind", c.name);
    }
}

#[test]
fn a_read_only_go_mod_is_not_unlinked_and_the_link_stays_recorded() {
    let w = world();
    let go_mod = w.app.join("go.mod");
    w.gokeep_ok(&w.app, &["link", "../lib", "--mode", "replace", "--yes"], &[]);
    let linked = fs::read(&go_mod).unwrap();
    fs::set_permissions(&go_mod, fs::Permissions::from_mode(0o444)).unwrap();
    let out = w.gokeep(&w.app, &["unlink", LIB, "--yes"], &[]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is read-only"));
    assert_eq!(fs::read(&go_mod).unwrap(), linked);
    fs::set_permissions(&go_mod, fs::Permissions::from_mode(0o644)).unwrap();
    w.gokeep_ok(&w.app, &["unlink", LIB, "--yes"], &[]);
    assert_eq!(fs::read_to_string(&go_mod).unwrap(), APP_GO_MOD);
}

#[test]
fn an_edit_between_link_and_unlink_is_kept_and_reported() {
    let w = world();
    let go_mod = w.app.join("go.mod");
    w.gokeep_ok(&w.app, &["link", "../lib", "--mode", "replace", "--yes"], &[]);
    let edited =
        text(&fs::read(&go_mod).unwrap()).replace("module example.com/app\n", "// my note\nmodule example.com/app\n");
    fs::write(&go_mod, &edited).unwrap();
    let out = w.gokeep_ok(&w.app, &["unlink", LIB, "--yes", "--json"], &[]);
    let v = schema::parse("unlink", &out.stdout);
    assert_eq!(v["items"][0]["how"], "merged", "{v}");
    assert_eq!(v["files"][0]["changed_since_link"], true);
    assert!(v["files"][0]["left_diff"].as_str().unwrap().contains("+// my note"), "{v}");
    assert_eq!(text(&fs::read(&go_mod).unwrap()), format!("// my note\n{APP_GO_MOD}"));
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=gokeep test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git is needed for gokeep check's tests");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

#[test]
fn check_fails_on_a_local_replace_and_on_a_tracked_or_staged_go_work() {
    let w = world();
    let repo = &w.app;
    git(repo, &["init", "-q"]);
    git(repo, &["add", "go.mod", "go.sum", "main.go"]);
    git(repo, &["commit", "-qm", "app"]);
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--json"];
        args.extend_from_slice(extra);
        let out = w.gokeep(repo, &args, &[]);
        assert!(!out.stdout.is_empty(), "{}", text(&out.stderr));
        let v = schema::parse("check", &out.stdout);
        (code(&out), v)
    };
    let (c, v) = check(&[]);
    assert_eq!((c, v["git"].clone()), (0, Value::Bool(true)), "a clean repository passes: {v}");

    w.gokeep_ok(repo, &["link", "../lib", "--mode", "replace", "--yes"], &[]);
    let (c, v) = check(&[]);
    assert_eq!(c, 1, "{v}");
    assert_eq!(v["findings"][0]["kind"], "local_replace");
    assert_eq!(v["findings"][0]["line"], 7);
    assert!(v["findings"][0]["fix"].as_str().unwrap().contains("gokeep unlink example.com/lib"));
    let out = w.gokeep(repo, &["check"], &[]);
    assert!(
        text(&out.stdout).contains("go.mod:7: local replace: replace example.com/lib => ../lib"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(check(&["--allow", "example.com/lib"]).0, 0, "a deliberate replace passes with --allow");
    assert_eq!(check(&["--allow", "example.com"]).0, 0, "patterns match path prefixes");
    assert_eq!(check(&["--allow", "example.com/other"]).0, 1);
    w.gokeep_ok(repo, &["unlink", LIB, "--yes"], &[]);

    fs::write(repo.join("go.work"), "go 1.21\n\nuse .\n").unwrap();
    assert_eq!(check(&[]).0, 0, "an untracked go.work is fine");
    git(repo, &["add", "go.work"]);
    let (c, v) = check(&[]);
    assert_eq!((c, v["findings"][0]["kind"].clone()), (1, Value::from("staged_go_work")), "{v}");
    git(repo, &["commit", "-qm", "workspace"]);
    let (c, v) = check(&[]);
    assert_eq!((c, v["findings"][0]["kind"].clone()), (1, Value::from("tracked_go_work")), "{v}");
    assert!(v["findings"][0]["fix"].as_str().unwrap().contains("git rm --cached go.work"));
    git(repo, &["rm", "-q", "--cached", "go.work"]);
    git(repo, &["commit", "-qm", "untrack"]);
    assert_eq!(check(&[]).0, 0, "no longer tracked");
}

/// A small deterministic generator: the kill points differ from run to run
/// of the loop, not from test run to test run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[test]
fn kill_9_during_link_or_unlink_leaves_the_old_or_the_new_bytes() {
    let w = world();
    let go_mod = w.app.join("go.mod");
    let old = fs::read(&go_mod).unwrap();
    w.gokeep_ok(&w.app, &["link", "../lib", "--mode", "replace", "--yes"], &[]);
    let new = fs::read(&go_mod).unwrap();
    w.gokeep_ok(&w.app, &["unlink", "--all", "--yes"], &[]);
    let mut rng = Lcg(0x5eed);
    let (mut olds, mut news) = (0, 0);
    for i in 0..40 {
        let linked = fs::read(&go_mod).unwrap() == new;
        let args: &[&str] =
            if linked { &["unlink", "--all", "--yes"] } else { &["link", "../lib", "--mode", "replace", "--yes"] };
        let mut cmd = std::process::Command::new(gokeep_bin());
        cmd.current_dir(&w.app).env_clear().envs(w.sb.go_env()).env("GOKEEP_STATE_DIR", w.state()).args(args);
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_micros(rng.next(6000)));
        let _ = child.kill();
        child.wait().unwrap();
        let now = fs::read(&go_mod).unwrap();
        assert!(now == old || now == new, "iteration {i} ({args:?}): a torn go.mod:\n{}", text(&now));
        if now == old {
            olds += 1;
        } else {
            news += 1;
        }
        // Whatever was interrupted, gokeep can finish or undo it.
        if i % 10 == 9 {
            let out = w.gokeep(&w.app, &["links", "--json"], &[]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            schema::parse("links", &out.stdout);
        }
    }
    eprintln!("{olds} old, {news} new");
    w.gokeep_ok(&w.app, &["unlink", "--all", "--yes"], &[]);
    assert_eq!(fs::read(&go_mod).unwrap(), old, "an interrupted link is always undone");
    let leftovers: Vec<_> = fs::read_dir(&w.app).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(leftovers.len() >= 3, "{leftovers:?}");
}

// ---- the corpus: link then unlink over every go.mod and go.work ----

fn crlf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' && (i == 0 || b[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(c);
    }
    out
}

fn record(mode: Mode, before: Option<&[u8]>, e: &plan::Edit, written: &str, version: Option<&str>) -> LinkRecord {
    LinkRecord {
        module: "example.com/gokeep/linked".into(),
        target: "/w/linked".into(),
        mode,
        version: version.map(str::to_owned),
        file: PathBuf::from(if mode == Mode::Work { "go.work" } else { "go.mod" }),
        written_path: written.into(),
        extra_uses: e.extra_uses.clone(),
        previous: e.previous.clone(),
        before: before.map(<[u8]>::to_vec),
        after: Some(e.after.clone()),
        linked_at: Timestamp(0),
    }
}

/// The file's first line ending, to add a line as an editor would.
fn eol(b: &[u8]) -> &'static str {
    if b.windows(2).any(|w| w == b"\r\n") { "\r\n" } else { "\n" }
}

/// A planned link on a corpus file: mode, replaced version, the bytes before, the edit.
type Planned<'a> = (Mode, Option<&'a str>, Option<Vec<u8>>, plan::Edit);

#[test]
fn link_then_unlink_is_byte_identical_for_every_corpus_file_in_both_modes() {
    let sb = GoSandbox::new();
    let dir = sb.root().join("work");
    fs::create_dir_all(&dir).unwrap();
    let module = "example.com/gokeep/linked";
    let (mut rounds, mut merged, mut go_checked) = (0, 0, 0);
    for (n, c) in corpus(&sb).into_iter().enumerate() {
        let mut variants = vec![c.data.clone(), crlf(&c.data)];
        if c.data.ends_with(b"\n") {
            variants.push(c.data[..c.data.len() - 1].to_vec());
        }
        for data in variants {
            let mut edits: Vec<Planned> = Vec::new();
            match c.kind {
                Kind::Mod => {
                    if ModFile::parse("go.mod", &data).is_err() {
                        continue;
                    }
                    for v in [None, Some("v1.2.3")] {
                        let e = plan::link_replace("go.mod", &data, module, v, "../linked").unwrap();
                        edits.push((Mode::Replace, v, Some(data.clone()), e));
                    }
                    // Work mode without a go.work: go.mod is untouched, go.work created.
                    let e = plan::link_work("go.work", None, ".", "../linked", "1.22").unwrap();
                    edits.push((Mode::Work, None, None, e));
                }
                Kind::Work => {
                    if WorkFile::parse("go.work", &data).is_err() {
                        continue;
                    }
                    let e = plan::link_work("go.work", Some(&data), ".", "../linked", "1.22").unwrap();
                    edits.push((Mode::Work, None, Some(data.clone()), e));
                }
            }
            for (mode, v, before, e) in edits {
                let origin = format!("{} ({mode}, {v:?}, {:?})", c.origin, text(&data));
                let r = record(mode, before.as_deref(), &e, "../linked", v);
                let (back, how) = plan::revert(&r, Some(&e.after)).unwrap();
                assert_eq!(how, Revert::Exact, "{origin}");
                assert_eq!(back, before, "{origin}: not byte-identical");
                rounds += 1;
                // Go reads the file gokeep wrote, with exactly the intended change.
                if n % 25 == 0 || c.origin.starts_with("NASTY") {
                    go_reads_the_edit(&sb, &dir, mode, before.as_deref(), &e.after, v, &origin);
                    go_checked += 1;
                }
                // Someone adds a comment at the top in between: unlink keeps it, takes only gokeep's lines.
                // Or appends one at the end.
                let Some(before) = before else { continue };
                let note = format!("// note{}", eol(&before));
                let head = |b: &[u8]| [note.as_bytes(), b].concat();
                let tail = |b: &[u8]| {
                    let sep = if b.is_empty() || b.ends_with(b"\n") { "" } else { eol(&before) };
                    [b, sep.as_bytes(), note.as_bytes()].concat()
                };
                for (edited, want) in [(head(&e.after), head(&before)), (tail(&e.after), tail(&before))] {
                    let (out, how) = plan::revert(&r, Some(&edited)).unwrap();
                    assert_eq!(how, Revert::Merged, "{origin}");
                    assert_eq!(text(&out.unwrap()), text(&want), "{origin}: more than gokeep's lines changed");
                    merged += 1;
                }
            }
        }
    }
    eprintln!("{rounds} round trips, {merged} edited in between, {go_checked} read by go");
    assert!(rounds > 3000 && go_checked > 100, "{rounds} rounds, {go_checked} checked by go");
}

fn go_reads_the_edit(
    sb: &GoSandbox,
    dir: &Path,
    mode: Mode,
    before: Option<&[u8]>,
    after: &[u8],
    v: Option<&str>,
    origin: &str,
) {
    let (name, cmd) = if mode == Mode::Work && before.is_none_or(|b| WorkFile::parse("go.work", b).is_ok()) {
        ("go.work", "work")
    } else {
        ("go.mod", "mod")
    };
    let read = |data: &[u8]| -> Value {
        fs::write(dir.join(name), data).unwrap();
        let out = sb.go(dir, &[cmd, "edit", "-json", name]);
        assert!(out.status.success(), "{origin}: go refuses:\n{}\n{}", text(&out.stderr), text(data));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let mut want = match before {
        Some(b) => read(b),
        None => serde_json::json!({"Go": "1.22", "Use": null, "Replace": null}),
    };
    let got = read(after);
    let m = want.as_object_mut().unwrap();
    if cmd == "work" {
        let uses = m.entry("Use").or_insert(Value::Null);
        let mut list: Vec<Value> = uses.as_array().cloned().unwrap_or_default();
        if before.is_none() || !list.iter().any(|u| u["DiskPath"] == "." || u["DiskPath"] == "./") {
            list.push(serde_json::json!({"DiskPath": "."}));
        }
        list.push(serde_json::json!({"DiskPath": "../linked"}));
        *uses = Value::Array(list);
        let mut g = got.clone();
        let mut w = want.clone();
        for x in [&mut g, &mut w] {
            if let Some(a) = x["Use"].as_array_mut() {
                a.sort_by_key(Value::to_string);
            }
        }
        assert_eq!(g, w, "{origin}");
    } else {
        let reps = m.entry("Replace").or_insert(Value::Null);
        let mut list: Vec<Value> = reps.as_array().cloned().unwrap_or_default();
        let mut old = serde_json::json!({"Path": "example.com/gokeep/linked"});
        if let Some(v) = v {
            old["Version"] = Value::from(v);
        }
        list.retain(|r| r["Old"] != old);
        list.push(serde_json::json!({"Old": old, "New": {"Path": "../linked"}}));
        *reps = Value::Array(list);
        let mut g = got.clone();
        for x in [&mut g, &mut want] {
            if let Some(a) = x["Replace"].as_array_mut() {
                a.sort_by_key(Value::to_string);
            }
        }
        assert_eq!(g, want, "{origin}");
    }
}

/// A second local module, `example.com/lib2`, that the app does not require.
fn second_checkout(w: &World) -> PathBuf {
    let lib2 = w.sb.root().join("lib2");
    fs::create_dir_all(&lib2).unwrap();
    fs::write(lib2.join("go.mod"), "module example.com/lib2\n\ngo 1.21\n").unwrap();
    fs::write(lib2.join("lib2.go"), "package lib2\n").unwrap();
    lib2
}

#[test]
fn two_links_in_one_file_unlink_one_at_a_time() {
    let w = world();
    second_checkout(&w);
    let go_work = w.app.join("go.work");
    w.gokeep_ok(&w.app, &["link", "../lib", "--yes"], WORKSPACE);
    let out = w.gokeep(&w.app, &["link", "../lib2", "--yes"], WORKSPACE);
    assert_eq!(code(&out), 2, "lib2 is not required: {}", text(&out.stderr));
    w.gokeep_ok(&w.app, &["link", "../lib2", "--force", "--yes"], WORKSPACE);
    assert_eq!(fs::read_to_string(&go_work).unwrap(), "go 1.21\n\nuse (\n\t.\n\t../lib\n\t../lib2\n)\n");
    w.gokeep_ok(&w.app, &["unlink", LIB, "--yes"], WORKSPACE);
    assert_eq!(fs::read_to_string(&go_work).unwrap(), "go 1.21\n\nuse (\n\t.\n\t../lib2\n)\n");
    assert_eq!(w.run_app(WORKSPACE), "published v1.0.0");
    w.gokeep_ok(&w.app, &["unlink", "example.com/lib2", "--yes"], WORKSPACE);
    assert!(!go_work.exists(), "the go.work gokeep created goes with its last link");

    let go_mod = w.app.join("go.mod");
    w.gokeep_ok(&w.app, &["link", "../lib", "--mode", "replace", "--yes"], &[]);
    w.gokeep_ok(&w.app, &["link", "../lib2", "--mode", "replace", "--force", "--yes"], &[]);
    assert_eq!(
        fs::read_to_string(&go_mod).unwrap(),
        format!("{APP_GO_MOD}\nreplace example.com/lib => ../lib\nreplace example.com/lib2 => ../lib2\n")
    );
    w.gokeep_ok(&w.app, &["unlink", LIB, "--yes"], &[]);
    assert_eq!(fs::read_to_string(&go_mod).unwrap(), format!("{APP_GO_MOD}\nreplace example.com/lib2 => ../lib2\n"));
    w.gokeep_ok(&w.app, &["unlink", "--all", "--yes"], &[]);
    assert_eq!(fs::read_to_string(&go_mod).unwrap(), APP_GO_MOD);
}

#[test]
fn links_says_when_another_go_work_is_found_first() {
    let w = world();
    // The team's workspace above the app: the link joins it.
    let outer = w.sb.root().join("go.work");
    fs::write(&outer, "go 1.21\n\nuse ./app\n").unwrap();
    w.gokeep_ok(&w.app, &["link", "../lib", "--yes"], WORKSPACE);
    assert_eq!(fs::read_to_string(&outer).unwrap(), "go 1.21\n\nuse ./app\nuse ./lib\n");
    assert_eq!(w.run_app(WORKSPACE), "local checkout");
    assert_eq!(links_json(&w, WORKSPACE)["in_effect"], true);
    // A go.work nearer the app shadows it.
    fs::write(w.app.join("go.work"), "go 1.21\n\nuse .\n").unwrap();
    let l = links_json(&w, WORKSPACE);
    assert_eq!(l["in_effect"], false);
    assert!(
        reasons(&l).contains(&format!("go uses {} instead of {}", w.app.join("go.work").display(), outer.display())),
        "{l}"
    );
    assert_eq!(w.run_app(WORKSPACE), "published v1.0.0", "go agrees");
}

#[test]
fn two_gokeep_runs_at_once_never_lose_or_tear_an_edit() {
    let w = world();
    second_checkout(&w);
    let go_mod = w.app.join("go.mod");
    for round in 0..6 {
        let spawn = |dir: &str| {
            let mut cmd = std::process::Command::new(gokeep_bin());
            cmd.current_dir(&w.app).env_clear().envs(w.sb.go_env()).env("GOKEEP_STATE_DIR", w.state());
            cmd.args(["link", dir, "--mode", "replace", "--force", "--yes"]);
            cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        };
        let runs = [spawn("../lib"), spawn("../lib2")];
        let mut linked = Vec::new();
        for (child, module) in runs.into_iter().zip([LIB, "example.com/lib2"]) {
            let out = child.wait_with_output().unwrap();
            if out.status.success() {
                linked.push(module);
            } else {
                // The loser of a race writes nothing and says to run again.
                assert!(
                    text(&out.stderr).contains("changed while gokeep was preparing the edit"),
                    "{}",
                    text(&out.stderr)
                );
            }
        }
        assert!(!linked.is_empty(), "round {round}: neither run linked");
        let f = ModFile::parse("go.mod", &fs::read(&go_mod).unwrap()).unwrap();
        let mut replaced: Vec<&str> = f.replace.iter().map(|r| r.old.path.as_str()).collect();
        replaced.sort_unstable();
        linked.sort_unstable();
        assert_eq!(replaced, linked, "round {round}: go.mod and the runs that succeeded disagree");
        let links = schema::parse("links", &w.gokeep_ok(&w.app, &["links", "--json"], &[]).stdout);
        assert_eq!(links["links"].as_array().unwrap().len(), linked.len(), "round {round}: {links}");
        w.gokeep_ok(&w.app, &["unlink", "--all", "--yes"], &[]);
        assert_eq!(fs::read_to_string(&go_mod).unwrap(), APP_GO_MOD, "round {round}");
    }
}

#[test]
fn links_says_when_a_workspace_overrides_a_replace() {
    let w = world();
    w.gokeep_ok(&w.app, &["link", "../lib", "--mode", "replace", "--yes"], &[]);
    let outer = w.sb.root().join("go.work");
    // A workspace holding the same checkout: the replace still points where go looks.
    fs::write(&outer, "go 1.21\n\nuse ./app\nuse ./lib\n").unwrap();
    assert_eq!(links_json(&w, WORKSPACE)["in_effect"], true, "{}", links_json(&w, WORKSPACE));
    assert_eq!(w.run_app(WORKSPACE), "local checkout");
    // A workspace that replaces the module itself wins over go.mod's replace.
    let other = w.sb.root().join("other-lib");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("go.mod"), "module example.com/lib\n\ngo 1.21\n").unwrap();
    fs::write(other.join("lib.go"), "package lib\n\nfunc Name() string { return \"the workspace's copy\" }\n").unwrap();
    fs::write(&outer, "go 1.21\n\nuse ./app\n\nreplace example.com/lib => ./other-lib\n").unwrap();
    let l = links_json(&w, WORKSPACE);
    assert_eq!(l["in_effect"], false);
    assert!(reasons(&l).contains("replaces example.com/lib itself, and its replace wins"), "{l}");
    assert_eq!(w.run_app(WORKSPACE), "the workspace's copy", "go agrees");
    // So does a workspace module of that path from another directory.
    fs::write(&outer, "go 1.21\n\nuse ./app\nuse ./other-lib\n").unwrap();
    let l = links_json(&w, WORKSPACE);
    assert!(reasons(&l).contains("uses ./other-lib as example.com/lib: the workspace module wins"), "{l}");
    assert_eq!(w.run_app(WORKSPACE), "the workspace's copy", "go agrees");
}
