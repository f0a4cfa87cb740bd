//! One rule for cache roots, for every command and every spelling of the
//! path: the named path is resolved once (a symbolic link in or above it,
//! a trailing slash, a `/./`), gokeep says which directory it uses when a
//! link was resolved, works on that directory, and touches nothing else.
//! And every command recognises its root before it looks inside: a
//! directory that is not a Go cache is an error (exit 2), whether the
//! command writes or only reads.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spelling {
    Plain,
    TrailingSlash,
    DotComponent,
    Env,
    EnvTrailingSlash,
    Link,
    LinkTrailingSlash,
    EnvLink,
}

const SPELLINGS: [Spelling; 8] = [
    Spelling::Plain,
    Spelling::TrailingSlash,
    Spelling::DotComponent,
    Spelling::Env,
    Spelling::EnvTrailingSlash,
    Spelling::Link,
    Spelling::LinkTrailingSlash,
    Spelling::EnvLink,
];

impl Spelling {
    fn via_link(self) -> bool {
        matches!(self, Spelling::Link | Spelling::LinkTrailingSlash | Spelling::EnvLink)
    }

    fn via_env(self) -> bool {
        matches!(self, Spelling::Env | Spelling::EnvTrailingSlash | Spelling::EnvLink)
    }

    /// The path as this spelling writes `real` (or `link`, a symbolic link to it).
    fn path(self, real: &Path, link: &Path) -> String {
        let (parent, name) = (real.parent().unwrap().display(), real.file_name().unwrap().to_string_lossy());
        match self {
            Spelling::Plain | Spelling::Env => real.display().to_string(),
            Spelling::TrailingSlash | Spelling::EnvTrailingSlash => format!("{}/", real.display()),
            Spelling::DotComponent => format!("{parent}/./{name}/."),
            Spelling::Link | Spelling::EnvLink => link.display().to_string(),
            Spelling::LinkTrailingSlash => format!("{}/", link.display()),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Cache {
    Mod,
    Build,
}

/// One row of a table: a fresh copy of a cache, and a link to it.
struct Row {
    real: PathBuf,
    link: PathBuf,
    spelling: Spelling,
    cache: Cache,
}

impl Row {
    fn new(sb: &GoSandbox, template: &Path, cache: Cache, test: &str, spelling: Spelling) -> Self {
        let dir = sb.root().join(format!("{test}-{spelling:?}"));
        fs::create_dir_all(&dir).unwrap();
        let real = dir.join("real");
        let st = Command::new("cp").arg("-a").arg(template).arg(&real).status().unwrap();
        assert!(st.success());
        let link = dir.join("link");
        symlink(&real, &link).unwrap();
        Self { real, link, spelling, cache }
    }

    /// gokeep with this row's cache named in this row's spelling.
    fn gokeep(&self, sb: &GoSandbox) -> assert_cmd::Command {
        let mut cmd = sb.gokeep();
        let path = self.spelling.path(&self.real, &self.link);
        match (self.cache, self.spelling.via_env()) {
            (Cache::Mod, true) => cmd.env("GOMODCACHE", path),
            (Cache::Build, true) => cmd.env("GOCACHE", path),
            (Cache::Mod, false) => cmd.arg("--modcache").arg(path),
            (Cache::Build, false) => cmd.arg("--gocache").arg(path),
        };
        cmd
    }

    /// The note that a link was resolved is there exactly when one was,
    /// naming the directory used; the link is still the same link.
    fn check(&self, what: &str, stderr: &str) {
        let note = format!("gokeep: using {} (", self.real.display());
        if self.spelling.via_link() {
            assert!(
                stderr.contains(&note) && stderr.contains("is a symbolic link"),
                "{what} {:?}: no note that the link was resolved:\n{stderr}",
                self.spelling
            );
        } else {
            assert!(!stderr.contains("gokeep: using "), "{what} {:?}: a note without a link:\n{stderr}", self.spelling);
        }
        assert_eq!(fs::read_link(&self.link).unwrap(), self.real, "the link itself is left alone");
    }
}

/// Names of extracted trees (`<module>@<version>` directories) in a module cache.
fn trees_in(modcache: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![modcache.join("example.com")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.contains('@') {
                out.push(name);
            } else if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out
}

/// Runs `table` over every spelling and checks that the fixture's own caches
/// (which `GOMODCACHE`/`GOCACHE` name when a flag is ignored) are untouched.
fn each_spelling(fx: &Fixture, mut table: impl FnMut(Spelling)) {
    let before = (snapshot_with_times(&fx.modcache()), snapshot_with_times(&fx.gocache()));
    for s in SPELLINGS {
        table(s);
    }
    let after = (snapshot_with_times(&fx.modcache()), snapshot_with_times(&fx.gocache()));
    assert!(before == after, "a command touched a cache it was not given");
}

#[test]
fn prune_all_follows_the_one_root_rule_for_every_spelling() {
    let fx = Fixture::standard();
    each_spelling(&fx, |s| {
        let row = Row::new(&fx.sandbox, &fx.modcache(), Cache::Mod, "prune", s);
        assert!(!trees_in(&row.real).is_empty());
        let (code, out, err) = run(row.gokeep(&fx.sandbox).args(["prune", "--all", "--yes"]));
        assert_eq!(code, 0, "{s:?}:\n{out}\n{err}");
        row.check("prune --all", &err);
        assert_eq!(trees_in(&row.real), Vec::<String>::new(), "{s:?}: the resolved cache was pruned");
    });
}

#[test]
fn verify_fix_follows_the_one_root_rule_for_every_spelling() {
    let fx = Fixture::standard();
    each_spelling(&fx, |s| {
        let row = Row::new(&fx.sandbox, &fx.modcache(), Cache::Mod, "verify", s);
        let tree = row.real.join(fx.module("example.com/a", "v1.0.0").extracted_rel());
        GoSandbox::make_writable(&tree);
        fs::write(tree.join("go.mod"), "module tampered\n").unwrap();
        let (code, out, err) = run(row.gokeep(&fx.sandbox).args(["verify", "--fix", "--yes", "--no-project"]));
        assert_eq!(code, 0, "{s:?}: repaired, and clean when checked again:\n{out}\n{err}");
        row.check("verify --fix", &err);
        assert!(out.contains(&row.real.display().to_string()), "{s:?}: reports the resolved root:\n{out}");
        assert!(!tree.exists(), "{s:?}: the corrupted tree was removed from the resolved cache");
    });
}

#[test]
fn explain_fix_follows_the_one_root_rule_for_every_spelling() {
    let fx = Fixture::standard();
    // A zip nobody published, found by a build: the cache is what is wrong.
    let (c, v) = ("example.com/c", "v1.0.0");
    let evil = fx.module(c, v).clone().file("evil.go", "package c\n\nvar Evil = 1\n");
    let zip = fx.download_file(c, v, "zip");
    fs::write(&zip, evil.zip_bytes()).unwrap();
    set_tree_times(&zip, 3600);
    fs::remove_file(fx.download_file(c, v, "ziphash")).unwrap();
    let dir = fx.extracted_dir(c, v);
    GoSandbox::make_writable(&dir);
    fs::remove_dir_all(&dir).unwrap();
    let build = fx.sandbox.go(&fx.consumer, &["build", "./..."]);
    let go_error = String::from_utf8_lossy(&build.stderr).into_owned();
    assert!(go_error.contains("checksum mismatch"), "{go_error}");
    let rel_zip = fx.module(c, v).download_file_rel("zip");
    each_spelling(&fx, |s| {
        let row = Row::new(&fx.sandbox, &fx.modcache(), Cache::Mod, "explain", s);
        let mut cmd = row.gokeep(&fx.sandbox);
        cmd.args(["explain", "--online", "--fix", "--yes", "--project"]).arg(&fx.consumer);
        let (code, out, err) = run(cmd.write_stdin(go_error.clone()));
        assert_eq!(code, 1, "{s:?}: a mismatch was explained:\n{out}\n{err}");
        row.check("explain --fix", &err);
        assert!(!row.real.join(&rel_zip).exists(), "{s:?}: the bad zip was removed from the resolved cache:\n{err}");
    });
}

#[test]
fn mark_follows_the_one_root_rule_for_every_spelling() {
    let fx = Fixture::standard();
    let rel = fx.module("example.com/a", "v1.0.0").download_file_rel("mod");
    each_spelling(&fx, |s| {
        let row = Row::new(&fx.sandbox, &fx.modcache(), Cache::Mod, "mark", s);
        // Used an hour ago: the mark moves it back to its stamp (it never moves a time forward).
        set_tree_times(&row.real.join(&rel), 3600);
        let Run { code, json: v, stdout, stderr: err } = cmd(row.gokeep(&fx.sandbox).args(["mark", "--json"]));
        assert_eq!(code, 0, "{s:?}:\n{stdout}\n{err}");
        row.check("mark", &err);
        assert_eq!(v["mark"]["root"], row.real.display().to_string(), "{s:?}: the mark names the resolved root");
        let atime = fs::metadata(row.real.join(&rel)).unwrap().atime();
        let stamp: gokeep::timestamp::Timestamp = serde_json::from_value(v["mark"]["stamp"].clone()).unwrap();
        assert_eq!(atime, stamp.0, "{s:?}: the resolved cache was stamped");
    });
}

#[test]
fn gocache_refresh_and_status_follow_the_one_root_rule_for_every_spelling() {
    let fx = Fixture::standard();
    each_spelling(&fx, |s| {
        let row = Row::new(&fx.sandbox, &fx.gocache(), Cache::Build, "refresh", s);
        set_tree_times(&row.real, 10 * 86_400);
        let old = fs::metadata(&row.real).unwrap().mtime();
        let Run { code, json: v, stdout, stderr: err } =
            cmd(row.gokeep(&fx.sandbox).args(["gocache", "refresh", "--json"]));
        assert_eq!(code, 0, "{s:?}:\n{stdout}\n{err}");
        row.check("gocache refresh", &err);
        assert_eq!(v["gocache"], row.real.display().to_string());
        assert!(v["refreshed_entries"].as_u64().unwrap() > 0);
        let refreshed = (0..=255u8)
            .filter_map(|i| fs::read_dir(row.real.join(format!("{i:02x}"))).ok())
            .flat_map(Iterator::flatten)
            .any(|e| e.metadata().unwrap().mtime() > old);
        assert!(refreshed, "{s:?}: entries of the resolved cache were refreshed");

        let Run { code, json: v, stdout, stderr: err } = cmd(row.gokeep(&fx.sandbox).args(["status", "--json"]));
        assert_eq!(code, 0, "{s:?}:\n{stdout}\n{err}");
        row.check("status", &err);
        let roots: Vec<&str> = v["caches"].as_array().unwrap().iter().map(|c| c["root"].as_str().unwrap()).collect();
        assert!(roots.contains(&row.real.display().to_string().as_str()), "{s:?}: {roots:?}");
    });
}

#[test]
fn a_root_is_recognised_before_anything_is_scanned_or_planned() {
    let fx = Fixture::standard();
    let plain = fx.sandbox.root().join("plain");
    fs::create_dir_all(plain.join("example.com/x@v1.0.0")).unwrap();
    fs::write(plain.join("example.com/x@v1.0.0/x.go"), "package x\n").unwrap();
    let plain_s = plain.display().to_string();
    let home_s = fx.sandbox.home().display().to_string();
    let missing_s = fx.sandbox.root().join("missing").display().to_string();
    let slash_link = fx.sandbox.root().join("slash");
    symlink("/", &slash_link).unwrap();
    let slash_link_s = format!("{}/", slash_link.display());
    let before = snapshot(fx.sandbox.root());
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["verify", "--fix", "--yes", "--no-project", "--modcache", "/"], 2, "it is the file system root"),
        (
            vec!["verify", "--fix", "--yes", "--no-project", "--modcache", &slash_link_s],
            2,
            "it is the file system root",
        ),
        (vec!["verify", "--no-project", "--modcache", &plain_s], 2, "is not a Go module cache"),
        (vec!["verify", "--no-project", "--build-cache", "--gocache", &plain_s], 2, "is not a Go build cache"),
        (vec!["status", "--modcache", &plain_s], 2, "is not a Go module cache"),
        (vec!["status", "--modcache", &home_s], 2, "home directory"),
        (vec!["status", "--gocache", &plain_s], 2, "is not a Go build cache"),
        (vec!["mark", "--modcache", &plain_s], 2, "is not a Go module cache"),
        (vec!["gocache", "refresh", "--gocache", &plain_s], 2, "is not a Go build cache"),
        (
            vec![
                "explain",
                "--fix",
                "--yes",
                "--modcache",
                &plain_s,
                "verifying example.com/c@v1.0.0: checksum mismatch\n\tdownloaded: h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\tgo.sum:     h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n",
            ],
            2,
            "is not a Go module cache",
        ),
        // A cache that does not exist keeps its own code.
        (vec!["verify", "--no-project", "--modcache", &missing_s], 4, "does not exist"),
        (vec!["status", "--modcache", &missing_s], 4, "does not exist"),
    ];
    for (args, code, message) in cases {
        let (got, out, err) = run(fx.sandbox.gokeep().args(&args));
        assert_eq!(got, code, "gokeep {args:?}: expected exit {code}\n--- stdout\n{out}\n--- stderr\n{err}");
        assert!(err.contains(message), "gokeep {args:?}: does not say {message:?}:\n{err}");
        // A missing cache is reported beside the other cache, as before.
        if code != 4 {
            assert!(out.is_empty(), "gokeep {args:?}: printed a report or plan before refusing:\n{out}");
        }
        assert!(!err.contains("would remove") && !err.contains("Checked"), "gokeep {args:?}: planned:\n{err}");
    }
    assert_same(&before, &snapshot(fx.sandbox.root()));
}

#[test]
fn an_empty_directory_is_an_empty_cache_to_read_and_nothing_to_write_to() {
    let sb = GoSandbox::new();
    let empty = sb.root().join("empty");
    fs::create_dir(&empty).unwrap();
    let e = empty.display().to_string();
    // Go creates both caches lazily: one it has not written to yet is empty, not wrong.
    for args in [vec!["status", "--modcache", &e, "--gocache", &e], vec!["verify", "--no-project", "--modcache", &e]] {
        let (code, out, err) = run(sb.gokeep().args(&args));
        assert_eq!(code, 0, "gokeep {args:?}:\n{out}\n{err}");
    }
    for args in [vec!["prune", "--all", "--yes", "--modcache", &e], vec!["mark", "--modcache", &e]] {
        let (code, out, err) = run(sb.gokeep().args(&args));
        assert_eq!(code, 2, "gokeep {args:?}:\n{out}\n{err}");
        assert!(err.contains("is not a Go module cache"), "{err}");
    }
}
