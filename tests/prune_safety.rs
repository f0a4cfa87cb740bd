//! `gokeep prune` refuses to delete from anything it does not recognise as
//! a Go cache: each refusal is a clear error with exit code 2 (or 4 for a
//! cache that does not exist), and the whole sandbox is byte-identical
//! afterwards.

mod common;
mod prune_common;

use std::fs;
use std::os::unix::fs::symlink;

use common::*;
use prune_common::*;

/// Runs a prune that must be refused; checks exit code, message and that nothing changed.
fn assert_refused(fx: &Fixture, args: &[&str], code: i32, message: &str) {
    let before = snapshot(fx.sandbox.root());
    let (got, out, err) = run(fx.sandbox.gokeep().args(args));
    assert_eq!(got, code, "gokeep {args:?}: expected exit {code}, got {got}\n--- stdout\n{out}\n--- stderr\n{err}");
    assert!(err.contains(message), "gokeep {args:?}: stderr does not say {message:?}:\n{err}");
    assert_same(&before, &snapshot(fx.sandbox.root()));
}

#[test]
fn refusals_leave_every_byte_in_place() {
    let fx = Fixture::standard();
    let root = fx.sandbox.root().to_owned();

    assert_refused(&fx, &["prune", "--all", "--yes", "--modcache", "/"], 2, "it is the file system root");

    // $HOME, even when it holds a cache/download directory.
    let home = fx.sandbox.home();
    fs::create_dir_all(home.join("cache/download")).unwrap();
    let home_s = home.display().to_string();
    assert_refused(&fx, &["prune", "--all", "--yes", "--modcache", &home_s], 2, "home directory");

    // A directory that is not a module cache.
    let plain = root.join("plain");
    fs::create_dir_all(plain.join("example.com/x@v1.0.0")).unwrap();
    fs::write(plain.join("example.com/x@v1.0.0/x.go"), "package x\n").unwrap();
    let plain_s = plain.display().to_string();
    assert_refused(&fx, &["prune", "--all", "--yes", "--modcache", &plain_s], 2, "not a Go module cache");

    // A build cache that is not one.
    assert_refused(
        &fx,
        &["prune", "--gocache-max-age", "1d", "--yes", "--gocache", &plain_s],
        2,
        "not a Go build cache",
    );

    // A symlink to the real cache, given as the root.
    let link = root.join("modcache-link");
    symlink(fx.modcache(), &link).unwrap();
    let link_s = link.display().to_string();
    assert_refused(&fx, &["prune", "--all", "--yes", "--modcache", &link_s], 2, "symlinked root");

    // A cache whose cache/download is a symlink pointing out of it.
    let fake = root.join("fake-cache");
    fs::create_dir_all(fake.join("cache")).unwrap();
    symlink(fx.modcache().join("cache/download"), fake.join("cache/download")).unwrap();
    let fake_s = fake.display().to_string();
    assert_refused(&fx, &["prune", "--all", "--yes", "--modcache", &fake_s], 2, "not a Go module cache");

    // A cache that does not exist.
    let missing = root.join("missing").display().to_string();
    assert_refused(&fx, &["prune", "--all", "--yes", "--modcache", &missing], 4, "does not exist");
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
