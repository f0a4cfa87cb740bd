//! `--discover`: every user's Go caches on a host, found in their homes,
//! their `go env -w` files, their systemd user units and the policy's globs,
//! and pruned by gokeep runs as each owner.
//!
//! The users are entries of a passwd file the policy names (`[discover]
//! passwd`), with uids no account of the host has; their caches are written
//! by the real `go` run as those uids (`setpriv`). The tests run as root, as
//! CI does: only root can act as another user.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown, lchown, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use walkdir::WalkDir;

use common::*;

/// A user of the test's passwd file.
struct User {
    name: &'static str,
    uid: u32,
    home: PathBuf,
}

impl User {
    fn modcache(&self) -> PathBuf {
        self.home.join("go/pkg/mod")
    }
}

/// A temporary host: a passwd file, homes, a `file://` proxy.
struct Host {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Host {
    fn new() -> Host {
        assert!(
            rustix::process::geteuid().is_root(),
            "tests/discover.rs acts as other users and must run as root (CI does); run it with sudo"
        );
        let dir = tempfile::Builder::new().prefix("gokeep-discover-").tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        // The users' gokeep and go runs walk down from here.
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        Host { _dir: dir, root }
    }

    fn proxy(&self) -> PathBuf {
        self.root.join("proxy")
    }

    fn passwd(&self) -> PathBuf {
        self.root.join("passwd")
    }

    /// A user with a home of their own, written to the passwd file.
    fn user(&self, name: &'static str, uid: u32) -> User {
        let home = self.root.join("home").join(name);
        fs::create_dir_all(&home).unwrap();
        fs::set_permissions(self.root.join("home"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).unwrap();
        chown(&home, Some(uid), Some(uid)).unwrap();
        let line = format!("{name}:x:{uid}:{uid}:test user:{}:/bin/sh\n", home.display());
        let mut text = fs::read_to_string(self.passwd()).unwrap_or_default();
        text.push_str(&line);
        fs::write(self.passwd(), text).unwrap();
        User { name, uid, home }
    }

    /// Runs the real `go` as `user` in `dir`, with only their HOME and the
    /// hermetic settings: their own `go env -w` file applies.
    fn go_as(&self, user: &User, dir: &Path, args: &[&str]) {
        let out = Command::new("setpriv")
            .args([format!("--reuid={}", user.uid), format!("--regid={}", user.uid), "--clear-groups".into()])
            .arg("--")
            .arg(go_bin_dir().join("go"))
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", go_bin_dir().display()))
            .env("HOME", &user.home)
            .env("GOPROXY", format!("file://{}", self.proxy().display()))
            .env("GOSUMDB", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-mod=mod")
            .env("GOWORK", "off")
            .env("GOTELEMETRY", "off")
            .env("CGO_ENABLED", "0")
            .output()
            .unwrap();
        assert_go_ok(&out, &format!("go {} as {}", args.join(" "), user.name));
    }

    /// A project of `user`'s requiring both fixture modules, built by them.
    fn build_as(&self, user: &User) {
        let app = user.home.join("src/app");
        fs::create_dir_all(&app).unwrap();
        fs::write(
            app.join("go.mod"),
            "module example.com/app\n\ngo 1.21\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/keep v1.0.0\n)\n",
        )
        .unwrap();
        fs::write(
            app.join("app.go"),
            "package app\n\nimport (\n\t\"example.com/a\"\n\t\"example.com/keep\"\n)\n\n\
             // Names is what the dependencies say they are.\nfunc Names() []string { return []string{a.Name(), keep.Name()} }\n",
        )
        .unwrap();
        chown_tree(&user.home, user.uid);
        self.go_as(user, &app, &["build", "./..."]);
    }

    /// gokeep run as root with a cleared environment.
    fn gokeep(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(gokeep_bin());
        cmd.current_dir("/").env_clear().env("PATH", format!("{}:/usr/bin:/bin", go_bin_dir().display()));
        cmd
    }

    /// gokeep run as `user`, their HOME set, nothing else.
    fn gokeep_as(&self, user: &User) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new("setpriv");
        cmd.current_dir("/").env_clear().env("PATH", "/usr/bin:/bin").env("HOME", &user.home);
        cmd.args([format!("--reuid={}", user.uid), format!("--regid={}", user.uid), "--clear-groups".into()]);
        cmd.arg("--").arg(gokeep_bin());
        cmd
    }
}

/// Two uids (and gids) that no account or group of the host has.
fn free_ids(n: usize, from: u32) -> Vec<u32> {
    let used: BTreeSet<u32> = ["/etc/passwd", "/etc/group"]
        .iter()
        .flat_map(|f| fs::read_to_string(f).unwrap_or_default().lines().map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|l| l.split(':').nth(2).and_then(|id| id.parse().ok()))
        .collect();
    (from..).filter(|id| !used.contains(id)).take(n).collect()
}

fn chown_tree(dir: &Path, uid: u32) {
    for e in WalkDir::new(dir).follow_links(false) {
        let e = e.unwrap();
        lchown(e.path(), Some(uid), Some(uid)).unwrap();
    }
}

/// Every file, directory and link below `dir` (and `dir`) that `uid` does not own.
fn not_owned_by(dir: &Path, uid: u32) -> Vec<(PathBuf, u32)> {
    WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .map(Result::unwrap)
        .filter_map(|e| {
            let owner = e.path().symlink_metadata().unwrap().uid();
            (owner != uid).then(|| (e.path().to_owned(), owner))
        })
        .collect()
}

fn publish_fixture_modules(host: &Host) {
    Module::named("example.com/a", "v1.0.0", "a", "example.com/a@v1.0.0").publish(&host.proxy());
    Module::named("example.com/keep", "v1.0.0", "keep", "example.com/keep@v1.0.0").publish(&host.proxy());
}

/// Writes a file in `user`'s home, it and the directories made for it theirs.
fn write_owned(path: &Path, text: &str, user: &User) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    for p in path.ancestors().take_while(|p| *p != user.home) {
        lchown(p, Some(user.uid), Some(user.uid)).unwrap();
    }
}

/// The entries of a `--discover --json` document's `caches`, as
/// (owner name, kind, root).
fn caches(doc: &Value) -> BTreeSet<(String, String, PathBuf)> {
    doc["caches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let (kind, root) = match c.get("report") {
                Some(r) => (&r["kind"], &r["root"]),
                None => (&c["kind"], &c["root"]),
            };
            (
                c["owner"]["name"].as_str().unwrap().to_owned(),
                kind.as_str().unwrap().to_owned(),
                PathBuf::from(root.as_str().unwrap()),
            )
        })
        .collect()
}

fn refusal<'a>(doc: &'a Value, path: &Path) -> &'a Value {
    doc["refused"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == path.display().to_string())
        .unwrap_or_else(|| panic!("{} is not refused: {doc:#}", path.display()))
}

fn reason(doc: &Value, path: &Path) -> String {
    refusal(doc, path)["reason"].as_str().unwrap().to_owned()
}

/// Alice and Bob each have a module cache and a build cache written by the
/// real go run as them (Bob's build cache is where his `go env -w` file
/// puts it); Carol's `~/go` is a link to Alice's, Bob's systemd user unit
/// names Alice's module cache, a link inside Alice's cache points into
/// Bob's, and the policy's glob matches a directory that is not a cache.
/// Root finds and prunes exactly Alice's and Bob's caches, each as its owner:
/// what the runs write belongs to the owner, each owner's journal has one
/// entry per cache, the link is not followed and the non-cache directory is
/// refused and left alone.
#[test]
fn discovered_caches_are_pruned_as_their_owners_and_links_into_other_users_files_are_refused() {
    let host = Host::new();
    publish_fixture_modules(&host);
    let ids = free_ids(3, 61_000);
    let alice = host.user("alice", ids[0]);
    let bob = host.user("bob", ids[1]);
    let carol = host.user("carol", ids[2]);

    let runners = host.root.join("runners");
    let bob_build = runners.join("bob-build");
    fs::create_dir_all(&bob_build).unwrap();
    fs::set_permissions(&runners, fs::Permissions::from_mode(0o755)).unwrap();
    chown(&bob_build, Some(bob.uid), Some(bob.uid)).unwrap();
    write_owned(&bob.home.join(".config/go/env"), &format!("GOCACHE={}\n", bob_build.display()), &bob);

    host.build_as(&alice);
    host.build_as(&bob);

    // Not caches, or not theirs.
    symlink(alice.home.join("go"), carol.home.join("go")).unwrap();
    lchown(carol.home.join("go"), Some(carol.uid), Some(carol.uid)).unwrap();
    // Private: others cannot even look inside.
    fs::set_permissions(&carol.home, fs::Permissions::from_mode(0o700)).unwrap();
    let unit = bob.home.join(".config/systemd/user/build.service");
    write_owned(&unit, &format!("[Service]\nEnvironment=GOMODCACHE={}\n", alice.modcache().display()), &bob);
    // Alice's own unit names her build cache: found twice, listed once.
    let alice_unit = alice.home.join(".config/systemd/user/build.service");
    write_owned(&alice_unit, "[Service]\nEnvironment=\"GOCACHE=%h/.cache/go-build\" GOFLAGS=-mod=mod\n", &alice);
    let not_a_cache = runners.join("r1/go/pkg/mod");
    fs::create_dir_all(not_a_cache.join("example.com")).unwrap();
    fs::write(not_a_cache.join("example.com/notes.txt"), "a runner's files, not Go's\n").unwrap();
    // A runner directory whose `go` is Carol's link to Bob's: the glob
    // matches Bob's cache, through a link Bob did not make.
    fs::create_dir_all(runners.join("r2")).unwrap();
    symlink(bob.home.join("go"), runners.join("r2/go")).unwrap();
    lchown(runners.join("r2/go"), Some(carol.uid), Some(carol.uid)).unwrap();
    // A link inside Alice's cache into Bob's: a version of Bob's the policy keeps.
    let bob_keep = bob.modcache().join("example.com/keep@v1.0.0");
    let steal = alice.modcache().join("example.com/a@v1.0.0/steal");
    symlink(&bob_keep, &steal).unwrap();
    lchown(&steal, Some(alice.uid), Some(alice.uid)).unwrap();

    for dir in [alice.modcache(), alice.home.join(".cache/go-build"), bob.modcache(), bob_build.clone()] {
        age_tree(&dir, 40);
    }
    let policy = host.root.join("policy.toml");
    fs::write(
        &policy,
        format!(
            "[modcache]\nmax_age = \"30d\"\nkeep = [\"example.com/keep\"]\n\n[gocache]\nmax_age = \"30d\"\n\n\
             [discover]\npasswd = \"{}\"\nglobs = [\"{}/*/go/pkg/mod\"]\n",
            host.passwd().display(),
            runners.display()
        ),
    )
    .unwrap();

    let expected: BTreeSet<(String, String, PathBuf)> = [
        ("alice", "mod_cache", alice.modcache()),
        ("alice", "build_cache", alice.home.join(".cache/go-build")),
        ("bob", "mod_cache", bob.modcache()),
        ("bob", "build_cache", bob_build.clone()),
    ]
    .into_iter()
    .map(|(n, k, p)| (n.to_owned(), k.to_owned(), p))
    .collect();

    let status = cmd_ok(host.gokeep().args(["status", "--discover", "--json", "--policy"]).arg(&policy));
    assert_eq!(caches(&status), expected, "{status:#}");
    assert_eq!(status["viewer_uid"], 0);
    for c in status["caches"].as_array().unwrap() {
        assert!(c["report"]["items"].as_u64().unwrap() > 0, "an empty report: {c:#}");
    }
    let bob_gocache =
        status["caches"].as_array().unwrap().iter().find(|c| c["report"]["root"] == bob_build.display().to_string());
    assert_eq!(bob_gocache.unwrap()["found_by"][0]["by"], "go_env_file");
    let alice_gocache = status["caches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["report"]["root"] == alice.home.join(".cache/go-build").display().to_string());
    let ways: Vec<&str> =
        alice_gocache.unwrap()["found_by"].as_array().unwrap().iter().map(|b| b["by"].as_str().unwrap()).collect();
    assert_eq!(ways, ["home", "unit"]);
    let why = reason(&status, &carol.modcache());
    assert!(why.contains("symbolic link") && why.contains("alice") && why.contains("not followed"), "{why}");
    let by_unit = refusal(&status, &alice.modcache());
    assert_eq!(by_unit["owner"]["name"], "bob", "{by_unit:#}");
    assert_eq!(by_unit["found_by"][0]["by"], "unit", "{by_unit:#}");
    assert!(by_unit["reason"].as_str().unwrap().contains("owned by alice"), "{by_unit:#}");
    let why = reason(&status, &not_a_cache);
    assert!(why.contains("is not a Go cache"), "{why}");
    let why = reason(&status, &runners.join("r2/go/pkg/mod"));
    assert!(why.contains(&format!("{} on the way belongs to carol", runners.join("r2/go").display())), "{why}");

    // The text report: one line per cache, with its owner.
    let text = run_ok(host.gokeep().args(["status", "--discover", "--policy"]).arg(&policy));
    for (name, _, root) in &expected {
        let line =
            text.lines().find(|l| l.contains(&format!(" {} (", root.display()))).unwrap_or_else(|| panic!("{text}"));
        assert!(line.starts_with(name.as_str()), "{line}");
    }

    // Not root: only its own caches are pruned.
    let r = cmd(host.gokeep_as(&alice).args(["--json", "prune", "--discover", "--dry-run", "--policy"]).arg(&policy));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("not running as root: only the caches uid"), "{}", r.stderr);
    assert!(r.stderr.contains("it may not read)"), "Carol's home is private: {}", r.stderr);
    let as_alice = r.json;
    assert_eq!(as_alice["viewer_uid"], alice.uid);
    let pruned: BTreeSet<_> = caches(&as_alice);
    assert!(pruned.iter().all(|(n, _, _)| n == "alice") && pruned.len() == 2, "{as_alice:#}");
    assert!(reason(&as_alice, &bob.modcache()).contains("only root prunes another user's cache"));

    let victim = snapshot(&bob_keep);
    let victim_files = snapshot(&bob.modcache().join("cache/download/example.com/keep"));
    let runner_files = snapshot(&runners.join("r1"));
    let pruned = cmd_ok(host.gokeep().args(["--json", "prune", "--discover", "--yes", "--policy"]).arg(&policy));
    assert_eq!(caches(&pruned), expected, "{pruned:#}");
    for c in pruned["caches"].as_array().unwrap() {
        assert_eq!(c["exit_code"], 0, "{c:#}");
        assert!(c["prune"]["plan"]["total_items"].as_u64().unwrap() > 0, "{c:#}");
    }
    assert!(reason(&pruned, &not_a_cache).contains("is not a Go cache"));

    // What the policy selects is gone from both module caches; the kept
    // version and what Alice's link pointed at are untouched.
    for u in [&alice, &bob] {
        assert!(!u.modcache().join("example.com/a@v1.0.0").exists());
        assert!(!u.modcache().join("cache/download/example.com/a/@v/v1.0.0.zip").exists());
        assert!(u.modcache().join("example.com/keep@v1.0.0/keep.go").exists());
    }
    assert_same(&victim, &snapshot(&bob_keep));
    assert_same(&victim_files, &snapshot(&bob.modcache().join("cache/download/example.com/keep")));
    assert_same(&runner_files, &snapshot(&runners.join("r1")));
    assert!(carol.home.join("go").symlink_metadata().unwrap().file_type().is_symlink());

    // Each run was its owner's: everything in their homes and caches is
    // theirs (the rewritten @v/list, the journal, the run lock), and each
    // owner's journal holds one entry per cache.
    for (u, gocache) in [(&alice, alice.home.join(".cache/go-build")), (&bob, bob_build.clone())] {
        assert_eq!(not_owned_by(&u.home, u.uid), [], "{} holds files of other users", u.name);
        assert_eq!(not_owned_by(&gocache, u.uid), [], "{}'s build cache", u.name);
        let journal = u.home.join(".local/state/gokeep/journal.jsonl");
        assert_eq!(journal.metadata().unwrap().uid(), u.uid);
        let entries: Vec<Value> =
            fs::read_to_string(&journal).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(entries.len(), 2, "{entries:#?}");
        let roots: BTreeSet<(Option<String>, Option<String>)> = entries
            .iter()
            .map(|e| (e["modcache"].as_str().map(str::to_owned), e["gocache"].as_str().map(str::to_owned)))
            .collect();
        assert_eq!(
            roots,
            [(Some(u.modcache().display().to_string()), None), (None, Some(gocache.display().to_string()))]
                .into_iter()
                .collect(),
            "{entries:#?}"
        );
    }
    assert_eq!(not_owned_by(&carol.home, carol.uid), []);
}
