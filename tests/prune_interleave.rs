//! Deterministic interleavings of a prune with real `go` commands held at
//! chosen points: a `go build` held inside its compile and then inside its
//! link (`-toolexec` with a pauser), and a `go mod download` held halfway
//! through a zip (a loopback proxy that stops mid-body), so that it sits
//! inside the version's lock. An aggressive prune (`--all` and every build
//! cache entry older than two hours) runs at each point. Released, the build
//! succeeds and its program runs, the download completes and verifies, and
//! both prune reports (JSON and text) say the locked version was skipped
//! and why.

mod common;

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::http::{Behaviour, TestProxy};
use common::*;

const APP: &str = "example.com/app";
const DEP: &str = "example.com/paused/dep";
const LOCKED: &str = "example.com/locked/mod";

/// A `-toolexec` wrapper holding the compile and the link of the app's
/// main package: it writes `<tool>.paused` and waits for `<tool>.release`
/// in `$PAUSE_DIR`. Every other invocation (other packages, `-V=full`
/// queries for the tool ID) runs the tool at once.
const PAUSER: &str = r#"#!/bin/sh
tool=$(basename "$1")
case "$tool:$TOOLEXEC_IMPORTPATH" in
compile:example.com/app | link:example.com/app)
    for a in "$@"; do
        [ "$a" = "-V=full" ] && exec "$@"
    done
    : >"$PAUSE_DIR/$tool.paused"
    while [ ! -e "$PAUSE_DIR/$tool.release" ]; do sleep 0.02; done
    ;;
esac
exec "$@"
"#;

/// No step here takes more than seconds; this only turns a hang into a failure.
const BOUND: Duration = Duration::from_secs(180);

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < BOUND, "still waiting for {what} after {BOUND:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed if the test fails before it ends.
struct Held(Option<Child>);

impl Held {
    fn wait(mut self, what: &str) -> Output {
        let out = self.0.take().unwrap().wait_with_output().unwrap();
        assert_go_ok(&out, what);
        out
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn_go(sb: &GoSandbox, dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Held {
    let child = Command::new("go")
        .current_dir(dir)
        .env_clear()
        .envs(sb.go_env())
        .envs(extra.iter().copied())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting go");
    Held(Some(child))
}

fn write_main(app: &Path, greeting: &str) {
    fs::write(
        app.join("main.go"),
        format!("package main\n\nimport \"{DEP}\"\n\nfunc main() {{ println(\"{greeting}\", dep.Name()) }}\n"),
    )
    .unwrap();
}

fn aggressive_prune(sb: &GoSandbox) -> assert_cmd::Command {
    let mut c = sb.gokeep();
    c.args(["prune", "--all", "--gocache-max-age", "2h", "--yes"]);
    c
}

/// The skip of the locked version in a prune's JSON report, with its reason.
fn locked_skip(doc: &serde_json::Value) -> String {
    let skipped = doc["result"]["skipped"].as_array().unwrap_or_else(|| panic!("no skipped list: {doc:#}"));
    let s = skipped
        .iter()
        .find(|s| s["target"].to_string().contains(LOCKED))
        .unwrap_or_else(|| panic!("{LOCKED} was not skipped: {doc:#}"));
    s["reason"].as_str().unwrap().to_owned()
}

#[test]
fn prune_beside_a_build_held_in_compile_and_link_and_a_download_held_in_its_lock() {
    let sb = GoSandbox::new();
    let dep = Module::named(DEP, "v1.0.0", "dep", "dep v1.0.0").file("data.txt", "x\n".repeat(100));
    let mut locked = Module::named(LOCKED, "v1.0.0", "locked", "locked v1.0.0");
    for i in 0..8 {
        // Incompressible enough that half the zip is many TCP segments.
        let body = (0..2000u32).fold(String::new(), |mut s, n| {
            let _ = write!(s, "{:x}", n.wrapping_mul(2_654_435_761).wrapping_add(i));
            s
        });
        locked = locked.file(&format!("data/f{i}.txt"), body);
    }
    dep.publish(&sb.proxy_dir());
    locked.publish(&sb.proxy_dir());

    let app = sb.root().join("app");
    fs::create_dir_all(&app).unwrap();
    fs::write(app.join("go.mod"), format!("module {APP}\n\ngo 1.21\n\nrequire {DEP} v1.0.0\n")).unwrap();
    write_main(&app, "first");
    sb.go_ok(&app, &["build", "-o", "first.bin", "."]);
    // Everything was last used days ago: every rule of the prune below
    // selects all of it, except what the held build itself touches now.
    age_tree(&sb.modcache(), 3);
    age_tree(&sb.gocache(), 3);

    let pause = sb.root().join("pause");
    fs::create_dir(&pause).unwrap();
    let pauser = sb.root().join("pauser.sh");
    fs::write(&pauser, PAUSER).unwrap();
    fs::set_permissions(&pauser, fs::Permissions::from_mode(0o755)).unwrap();
    let is_held = |tool: &str| pause.join(format!("{tool}.paused")).exists();
    let release = |tool: &str| fs::write(pause.join(format!("{tool}.release")), "").unwrap();

    // The main package changed: its compile and the link run again, while
    // the dependency and the standard library come from the build cache.
    write_main(&app, "second");
    let pause_env = pause.display().to_string();
    let build = spawn_go(
        &sb,
        &app,
        &["build", "-toolexec", pauser.to_str().unwrap(), "-o", "second.bin", "."],
        &[("PAUSE_DIR", &pause_env)],
    );

    let proxy = TestProxy::start(Behaviour::StallZip(sb.proxy_dir()));
    let elsewhere = sb.root().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let id = format!("{LOCKED}@v1.0.0");
    let download =
        spawn_go(&sb, &elsewhere, &["mod", "download", "-json", &id], &[("GOPROXY", &proxy.url()), ("GOFLAGS", "")]);

    wait_for("the build to reach its compile", || is_held("compile"));
    wait_for("go mod download to stall halfway through the zip", || proxy.stalled() == 1);

    // Held in compile, and in the lock: the first prune.
    let doc = cmd_ok(aggressive_prune(&sb).arg("--json"));
    let reason = locked_skip(&doc);
    assert!(reason.contains("its lock was held") && reason.contains("go command"), "{reason}");
    assert!(doc["result"]["files"].as_u64().unwrap() > 0, "the prune removed nothing: {doc:#}");
    let dep_dir = sb.modcache().join(dep.extracted_rel());
    assert!(!dep_dir.exists(), "--all left {DEP}'s tree: {doc:#}");

    release("compile");
    wait_for("the build to reach its link", || is_held("link"));

    // Held in link, the download still in the lock: the second prune, as text.
    let (code, stdout, stderr) = run(&mut aggressive_prune(&sb));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let said = format!("{stdout}{stderr}");
    let line = said
        .lines()
        .find(|l| l.contains("skipped") && l.contains(&id))
        .unwrap_or_else(|| panic!("the text report does not say {id} was skipped:\n{said}"));
    assert!(line.contains("its lock was held"), "{line}");

    release("link");
    build.wait("the held go build");
    let ran = Command::new(app.join("second.bin")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&ran.stderr), "second dep v1.0.0\n", "what the held build made");

    proxy.release();
    let out = download.wait("the held go mod download");
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(info["Error"].is_null(), "{info:#}");
    let zip = PathBuf::from(info["Zip"].as_str().unwrap());
    assert_eq!(fs::read(&zip).unwrap(), locked.zip_bytes(), "the zip go finished after the prunes");
    let dir = PathBuf::from(info["Dir"].as_str().unwrap());
    for (name, bytes) in locked.zip_files() {
        assert_eq!(fs::read(dir.join(&name)).unwrap(), bytes, "{name} in {}", dir.display());
    }

    // And the world goes on: the app builds again (fetching what the prunes
    // removed), and every module in the cache verifies.
    sb.go_ok(&app, &["build", "-o", "third.bin", "."]);
    assert_go_ok(&sb.go(&app, &["mod", "verify"]), "go mod verify");
    let plan = cmd_ok(sb.gokeep().args(["prune", "--corrupted", "--dry-run", "--json"]));
    assert_eq!(plan["plan"]["total_items"], 0, "{plan:#}");
}
