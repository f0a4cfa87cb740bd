//! `gokeep prune` refuses to delete from anything it does not recognise as
//! a Go cache: each refusal is a clear error with exit code 2 (or 4 for a
//! cache that does not exist), and the whole sandbox is byte-identical
//! afterwards.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};

use common::*;

/// Runs a prune that must be refused; checks exit code, message and that nothing changed.
fn assert_refused(fx: &Fixture, args: &[&str], code: i32, message: &str) {
    assert_refused_with(fx, &format!("gokeep {args:?}"), &[], args, code, message);
}

/// [`assert_refused`] with extra environment variables; `case` names the row.
fn assert_refused_with(fx: &Fixture, case: &str, env: &[(&str, &str)], args: &[&str], code: i32, message: &str) {
    let before = snapshot(fx.sandbox.root());
    let (got, out, err) = run(fx.sandbox.gokeep().envs(env.iter().copied()).args(args));
    assert_eq!(got, code, "{case}: expected exit {code}, got {got}\n--- stdout\n{out}\n--- stderr\n{err}");
    assert!(err.contains(message), "{case}: stderr does not say {message:?}:\n{err}");
    assert_same(&before, &snapshot(fx.sandbox.root()));
}

/// One refused prune: its name, GOMODCACHE if set, arguments, exit code and
/// what stderr must say.
struct Refusal {
    case: String,
    gomodcache: Option<String>,
    args: Vec<String>,
    code: i32,
    message: &'static str,
}

impl Refusal {
    fn new(
        case: impl Into<String>,
        gomodcache: Option<String>,
        args: Vec<String>,
        code: i32,
        message: &'static str,
    ) -> Self {
        Self { case: case.into(), gomodcache, args, code, message }
    }
}

#[test]
fn refusals_leave_every_byte_in_place() {
    let fx = Fixture::standard();
    let root = fx.sandbox.root().to_owned();
    let s = |p: &Path| p.display().to_string();

    // $HOME, even when it holds a cache/download directory.
    let home = fx.sandbox.home();
    fs::create_dir_all(home.join("cache/download")).unwrap();
    // A directory that is neither a module cache nor a build cache.
    let plain = root.join("plain");
    fs::create_dir_all(plain.join("example.com/x@v1.0.0")).unwrap();
    fs::write(plain.join("example.com/x@v1.0.0/x.go"), "package x\n").unwrap();
    // A symbolic link is resolved once and the refusal is for what it
    // resolves to, however it is spelled (a link to a cache is used: see
    // tests/cache_roots.rs).
    let link = root.join("plain-link");
    symlink(&plain, &link).unwrap();
    let home_link = root.join("home-link");
    symlink(&home, &home_link).unwrap();
    let home_link_slash = format!("{}/", home_link.display());
    // A cache whose cache/download is a symlink pointing out of it.
    let fake = root.join("fake-cache");
    fs::create_dir_all(fake.join("cache")).unwrap();
    symlink(fx.modcache().join("cache/download"), fake.join("cache/download")).unwrap();

    let all = |modcache: String| vec!["prune".into(), "--all".into(), "--yes".into(), "--modcache".into(), modcache];
    let gocache = |age: &str, dir: String| {
        vec!["prune".into(), "--gocache-max-age".into(), age.into(), "--yes".into(), "--gocache".into(), dir]
    };
    let env_all = || vec!["prune".to_owned(), "--all".into(), "--yes".into()];
    let link_spellings = [s(&link), format!("{}/", link.display()), format!("{}/.", link.display())];
    let mut rows: Vec<Refusal> = vec![
        Refusal::new("the file system root", None, all("/".into()), 2, "it is the file system root"),
        Refusal::new("home holding cache/download", None, all(s(&home)), 2, "home directory"),
        Refusal::new("a plain directory as module cache", None, all(s(&plain)), 2, "not a Go module cache"),
        Refusal::new("a plain directory as build cache", None, gocache("1d", s(&plain)), 2, "not a Go build cache"),
        Refusal::new("home through a link, as module cache", None, all(home_link_slash.clone()), 2, "home directory"),
        Refusal::new("home through a link, as build cache", None, gocache("3h", home_link_slash), 2, "home directory"),
        Refusal::new("cache/download linking out", None, all(s(&fake)), 2, "not a Go module cache"),
        Refusal::new("a missing cache", None, all(s(&root.join("missing"))), 4, "does not exist"),
    ];
    for spelling in link_spellings {
        rows.push(Refusal::new(
            format!("--modcache {spelling}"),
            None,
            all(spelling.clone()),
            2,
            "not a Go module cache",
        ));
        rows.push(Refusal::new(
            format!("GOMODCACHE={spelling}"),
            Some(spelling),
            env_all(),
            2,
            "not a Go module cache",
        ));
    }
    for r in &rows {
        let env: Vec<(&str, &str)> = r.gomodcache.iter().map(|v| ("GOMODCACHE", v.as_str())).collect();
        let args: Vec<&str> = r.args.iter().map(String::as_str).collect();
        assert_refused_with(&fx, &r.case, &env, &args, r.code, r.message);
    }
}

#[test]
fn a_symlink_inside_the_cache_is_removed_as_a_link_and_its_target_survives() {
    let fx = Fixture::standard();
    let outside = fx.sandbox.root().join("outside");
    fs::create_dir_all(outside.join("deep")).unwrap();
    fs::write(outside.join("deep/precious.txt"), "keep me\n").unwrap();
    let before = snapshot(&outside);
    // A link inside an extracted tree and one standing in for a whole module directory.
    let tree = fx.extracted_dir("example.com/c", "v1.0.0");
    GoSandbox::make_writable(&tree);
    symlink(&outside, tree.join("escape")).unwrap();
    symlink(&outside, fx.modcache().join("example.com/linked@v1.0.0")).unwrap();

    run_ok(fx.sandbox.gokeep().args(["prune", "--all", "--yes"]));

    assert_same(&before, &snapshot(&outside));
    assert!(!tree.exists());
}

#[test]
fn a_symlinked_build_cache_shard_is_never_followed_by_a_refresh() {
    let fx = Fixture::standard();
    let outside = fx.sandbox.root().join("outside");
    // Looks like a shard full of entries: what a refresh would touch.
    let id = |c: char| format!("ab{}", c.to_string().repeat(62));
    fs::create_dir_all(&outside).unwrap();
    for name in [format!("{}-a", id('0')), format!("{}-d", id('1'))] {
        fs::write(outside.join(name), "not yours\n").unwrap();
    }
    set_tree_times(&outside, 30 * 86_400);
    let shard = fx.gocache().join("ab");
    GoSandbox::make_writable(&shard);
    fs::remove_dir_all(&shard).unwrap();
    symlink(&outside, &shard).unwrap();
    let times = |d: &Path| -> Vec<(PathBuf, i64)> {
        let mut v: Vec<_> = fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path(), e.metadata().unwrap().mtime())
            })
            .collect();
        v.sort();
        v
    };
    let before = (snapshot(&outside), times(&outside));

    let (_, out, err) = run(fx.sandbox.gokeep().args(["gocache", "refresh"]));
    assert_eq!(before, (snapshot(&outside), times(&outside)), "gocache refresh set times outside the cache");
    assert!(err.contains("symbolic link"), "the linked shard is reported:\n{out}\n{err}");

    let policy = fx.sandbox.root().join("refresh.toml");
    fs::write(&policy, "[gocache]\nmax_age = \"30d\"\nrefresh_kept = true\n").unwrap();
    let p = policy.display().to_string();
    run(fx.sandbox.gokeep().args(["prune", "--policy", &p, "--yes"]));
    assert_eq!(before, (snapshot(&outside), times(&outside)), "prune's refresh_kept set times outside the cache");
    assert!(fs::symlink_metadata(&shard).unwrap().file_type().is_symlink());
}

#[test]
fn a_garbage_max_size_is_a_clear_usage_error_and_deletes_nothing() {
    let fx = Fixture::standard();
    assert_refused(&fx, &["prune", "--max-size", "lots", "--yes"], 2, "--max-size");
    let policy = fx.sandbox.root().join("policy.toml");
    std::fs::write(&policy, "[modcache]\nmax_age = \"30d\"\nmax_size = \"lots\"\n").unwrap();
    let p = policy.display().to_string();
    let (code, _, err) = run(fx.sandbox.gokeep().args(["prune", "--policy", &p, "--yes"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{p}:3:")) && err.contains("modcache.max_size"), "names file, line and key: {err}");
    assert_refused(&fx, &["prune", "--policy", &p, "--yes"], 2, "max_size");
}

/// Issue 9 item 7: values that would select everything, or that no one means, are refused
/// with the reason, before anything is scanned or deleted.
#[test]
fn sizes_ages_and_thread_counts_that_no_one_means_are_refused_with_the_reason() {
    let fx = Fixture::standard();
    let cases: &[(&str, &[&str], &str)] = &[
        ("zero cap", &["prune", "--max-size", "0", "--yes"], "--max-size"),
        ("zero cap with a unit", &["prune", "--max-size", "0GiB", "--yes"], "evict every"),
        ("cap that rounds to zero bytes", &["prune", "--max-size", "0.4", "--yes"], "--max-size"),
        ("bare number of bytes", &["prune", "--max-size", "10", "--yes"], "has no unit"),
        ("zero age", &["prune", "--max-age", "0d", "--yes"], "longer than 0"),
        ("zero build-cache age", &["prune", "--gocache-max-age", "0h", "--yes"], "longer than 0"),
        ("thousands of threads", &["prune", "--threads", "20000", "--all", "--yes"], "--threads"),
        ("zero threads", &["status", "--threads", "0"], "--threads"),
    ];
    for (name, args, message) in cases {
        eprintln!("case: {name}");
        assert_refused(&fx, args, 2, message);
    }
    let policy = fx.sandbox.root().join("zero.toml");
    for (name, text) in [
        ("integer zero", "[modcache]\nmax_size = 0\n"),
        ("string that rounds to zero", "[modcache]\nmax_size = \"0.4\"\n"),
        ("gocache zero", "[gocache]\nmax_size = \"0B\"\n"),
    ] {
        eprintln!("policy case: {name}");
        fs::write(&policy, text).unwrap();
        let p = policy.display().to_string();
        assert_refused(&fx, &["prune", "--policy", &p, "--yes"], 2, "max_size");
    }
}
