//! Every file gokeep writes, on a full disk: a small tmpfs is mounted where
//! the file lives, filled to the last page, and the command run. It fails
//! cleanly (exit 3, the message naming the file) and the file keeps its old
//! bytes, or stays absent if there was none; no temp file is left beside it.
//!
//! The files: go.mod and go.work (`link`, `unlink`), go.sum (`verify --fix
//! --update-go-sum`), the link records, the GOENV file (`profile apply`), the
//! crontab file and systemd units (`schedule install`), the mark record
//! (`mark`), the journal (`prune`: a failed journal line is a warning, the
//! prune itself done), the run lock, the metrics textfile (`status
//! --metrics`) and `@v/list` (`prune`, which rewrites it with cmd/go's own
//! protocol: whole, or empty as go leaves it when its write fails).
//!
//! Mounting needs root, which CI has; the mount is undone when the test
//! ends, on panic too.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// A tmpfs mounted on a fresh directory for as long as the guard lives.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path) -> Self {
        fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs"])
            .arg(dir)
            .output()
            .unwrap_or_else(|e| panic!("these tests mount a tmpfs (CI runs as root): running mount failed: {e}"));
        assert!(
            out.status.success(),
            "mounting a tmpfs on {} failed (these tests need root): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir: dir.to_owned() }
    }

    /// Writes a filler file until the file system refuses another byte.
    fn fill(&self) {
        let mut f = fs::File::create(self.dir.join(".filler")).unwrap();
        for chunk in [65_536usize, 4096, 1] {
            let buf = vec![0u8; chunk];
            while f.write_all(&buf).is_ok() {}
        }
        assert!(fs::write(self.dir.join(".probe"), b"x").is_err(), "the tmpfs is full");
        let _ = fs::remove_file(self.dir.join(".probe"));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Names in `dir` (not recursive), the filler left out.
fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|n: &String| n != ".filler" && n != ".probe")
        .collect()
}

/// The link records in `dir`: [`names`] without the consumers' lock files,
/// which stay, as Go's lock files do.
fn records(dir: &Path) -> BTreeSet<String> {
    names(dir).into_iter().filter(|n| Path::new(n).extension().is_none_or(|e| e != "lock")).collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// What a file held before the run: its bytes, or absent.
fn contents(p: &Path) -> Option<Vec<u8>> {
    fs::read(p).ok()
}

/// Asserts that `out` is a clean failure naming `file`, that `file` holds
/// what it held before, and that its directory gained no file.
fn assert_clean_failure(case: &str, out: &Output, file: &Path, before: Option<&[u8]>, dir_before: &BTreeSet<String>) {
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{case}: a full disk is an I/O error\n--- stdout\n{}\n--- stderr\n{err}",
        text(&out.stdout)
    );
    assert!(err.contains(&file.display().to_string()), "{case}: the message names {}:\n{err}", file.display());
    assert!(err.contains("No space left on device"), "{case}: the message says the disk is full:\n{err}");
    assert_eq!(contents(file).as_deref(), before, "{case}: {} changed", file.display());
    assert_eq!(&names(file.parent().unwrap()), dir_before, "{case}: a file was left beside {}", file.display());
}

const LIB: &str = "example.com/lib";
const APP_GO_MOD: &str = "module example.com/app\n\ngo 1.21\n\nrequire example.com/lib v1.0.0\n";

/// `example.com/lib` published, a local checkout of it, and an app
/// requiring it in `app_dir`, built once so its go.sum is complete.
fn app_world(sb: &GoSandbox, app: &Path) -> PathBuf {
    Module::new(LIB, "v1.0.0")
        .file("lib.go", "package lib\n\nfunc Name() string { return \"published\" }\n")
        .publish(&sb.proxy_dir());
    let lib = sb.root().join("lib");
    fs::create_dir_all(&lib).unwrap();
    fs::write(lib.join("go.mod"), "module example.com/lib\n\ngo 1.21\n").unwrap();
    fs::write(lib.join("lib.go"), "package lib\n\nfunc Name() string { return \"local\" }\n").unwrap();
    fs::create_dir_all(app).unwrap();
    fs::write(app.join("go.mod"), APP_GO_MOD).unwrap();
    fs::write(
        app.join("main.go"),
        "package main\n\nimport \"example.com/lib\"\n\nfunc main() { println(lib.Name()) }\n",
    )
    .unwrap();
    sb.go_ok(app, &["build", "-o", "/dev/null", "."]);
    lib
}

fn gokeep(sb: &GoSandbox, dir: &Path, state: &Path, args: &[&str]) -> Output {
    let mut c = sb.gokeep();
    c.current_dir(dir).env("GOKEEP_STATE_DIR", state).args(args);
    c.output().expect("running gokeep")
}

#[test]
fn link_and_unlink_on_a_full_disk_leave_go_mod_go_work_and_the_records_as_they_were() {
    let sb = GoSandbox::new();
    // The project on the full disk, gokeep's state beside it on a disk with room.
    let mnt = sb.root().join("full");
    let disk = Tmpfs::mount(&mnt);
    let app = mnt.join("app");
    let lib = app_world(&sb, &app);
    let lib_arg = lib.display().to_string();
    let state = sb.root().join("state");
    disk.fill();

    for (case, mode, file) in
        [("go.mod (link --mode replace)", "replace", "go.mod"), ("go.work (link --mode work)", "work", "go.work")]
    {
        let file = app.join(file);
        let (before, dir_before) = (contents(&file), names(&app));
        let out = gokeep(&sb, &app, &state, &["link", &lib_arg, "--mode", mode, "--yes"]);
        assert_clean_failure(case, &out, &file, before.as_deref(), &dir_before);
        let records = records(&state.join("links"));
        assert!(records.is_empty(), "{case}: no link is recorded for an edit that was not made: {records:?}");
    }
    // Still usable: the app builds with the published module.
    sb.go_ok(&app, &["build", "-o", "/dev/null", "."]);

    // Linked while there was room; the unlink meets the full disk.
    drop(disk);
    let disk = Tmpfs::mount(&mnt);
    let app = mnt.join("app");
    let lib = app_world(&sb, &app);
    let lib_arg = lib.display().to_string();
    let out = gokeep(&sb, &app, &state, &["link", &lib_arg, "--mode", "replace", "--yes"]);
    assert!(out.status.success(), "link: {}", text(&out.stderr));
    disk.fill();
    let file = app.join("go.mod");
    let (before, dir_before) = (contents(&file), names(&app));
    let out = gokeep(&sb, &app, &state, &["unlink", LIB, "--yes"]);
    assert_clean_failure("go.mod (unlink)", &out, &file, before.as_deref(), &dir_before);
    let out = gokeep(&sb, &app, &state, &["links", "--json"]);
    assert!(text(&out.stdout).contains(LIB), "the link stays recorded: {}", text(&out.stdout));
}

#[test]
fn link_with_a_full_state_disk_records_nothing_and_leaves_go_mod_alone() {
    let sb = GoSandbox::new();
    let app = sb.root().join("app");
    let lib = app_world(&sb, &app);
    let state = sb.root().join("state");
    let disk = Tmpfs::mount(&state);
    // A run lock from an earlier run, so the lock itself is not what fails.
    fs::write(state.join("run.lock"), "{}\n").unwrap();
    fs::create_dir_all(state.join("links")).unwrap();
    disk.fill();
    let go_mod = fs::read(app.join("go.mod")).unwrap();
    let dir_before = records(&state.join("links"));

    let out = gokeep(&sb, &app, &state, &["link", &lib.display().to_string(), "--mode", "replace", "--yes"]);

    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains(&state.join("links").display().to_string()), "the record file is named: {err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(fs::read(app.join("go.mod")).unwrap(), go_mod, "go.mod is not edited without its record");
    assert_eq!(records(&state.join("links")), dir_before, "no record and no temp file");
}

#[test]
fn schedule_install_on_a_full_disk_keeps_the_crontab_file_and_writes_no_unit() {
    let sb = GoSandbox::new();
    let mnt = sb.root().join("sched");
    let disk = Tmpfs::mount(&mnt);
    let state = sb.root().join("state");
    let crontab = mnt.join("crontab");
    fs::write(&crontab, "MAILTO=ops@example.com\n15 4 * * * /usr/bin/backup\n").unwrap();
    let units = mnt.join("units");
    fs::create_dir_all(&units).unwrap();
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/schedules/nightly.toml");
    disk.fill();

    let (before, dir_before) = (contents(&crontab), names(&mnt));
    let out = gokeep(
        &sb,
        sb.root(),
        &state,
        &[
            "schedule",
            "install",
            "--cron",
            "--policy",
            policy,
            "--crontab-file",
            &crontab.display().to_string(),
            "--yes",
        ],
    );
    assert_clean_failure("crontab file (schedule install --cron)", &out, &crontab, before.as_deref(), &dir_before);

    let out = gokeep(
        &sb,
        sb.root(),
        &state,
        &["schedule", "install", "--policy", policy, "--unit-dir", &units.display().to_string(), "--yes"],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "units: {err}");
    assert!(err.contains(&units.display().to_string()) && err.contains("No space left on device"), "{err}");
    assert!(names(&units).is_empty(), "no unit, whole or torn, is left: {:?}", names(&units));
}

#[test]
fn profile_apply_on_a_full_disk_keeps_the_goenv_file() {
    let sb = GoSandbox::new();
    fs::write(sb.root().join("gokeep.toml"), "[profiles.ci]\nGOPROXY = \"off\"\nGOFLAGS = \"-mod=mod\"\n").unwrap();
    let mnt = sb.root().join("config");
    let disk = Tmpfs::mount(&mnt);
    let state = sb.root().join("state");
    for (case, old) in [("GOENV file (profile apply)", Some("GOAMD64=v2\nGOPROXY=direct\n")), ("new GOENV file", None)]
    {
        let file = mnt.join(if old.is_some() { "env" } else { "new-env" });
        if let Some(old) = old {
            fs::write(&file, old).unwrap();
        }
        disk.fill();
        let dir_before = names(&mnt);
        let mut c = sb.gokeep();
        c.env("GOKEEP_STATE_DIR", &state).env("GOENV", &file).args(["profile", "apply", "ci", "--yes"]);
        let out = c.output().unwrap();
        assert_clean_failure(case, &out, &file, old.map(str::as_bytes), &dir_before);
        fs::remove_file(mnt.join(".filler")).unwrap();
    }
}

/// One module version downloaded, to give `mark`, `prune` and `status` a cache.
fn small_fixture() -> Fixture {
    Fixture::with_modules(vec![
        Module::named("example.com/one", "v1.0.0", "one", "one@v1.0.0"),
        Module::named("example.com/one", "v1.1.0", "one", "one@v1.1.0"),
    ])
}

#[test]
fn mark_journal_run_lock_and_metrics_on_a_full_disk_keep_their_old_bytes() {
    let fx = small_fixture();
    let sb = &fx.sandbox;
    let state = sb.root().join("state");
    let disk = Tmpfs::mount(&state);
    let run = |args: &[&str]| gokeep(sb, sb.root(), &state, args);

    // The run lock, before any run has recorded itself in it.
    disk.fill();
    let lock = state.join("run.lock");
    let out = run(&["mark"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains(&lock.display().to_string()) && err.contains("No space left on device"), "{err}");
    assert!(!state.join("marks.json").exists(), "nothing was marked without the run lock");
    fs::remove_file(state.join(".filler")).unwrap();

    // A mark and a prune with room, so the mark record and the journal exist.
    let out = run(&["mark"]);
    assert!(out.status.success(), "mark: {}", text(&out.stderr));
    let out = run(&["prune", "--debris", "--yes"]);
    assert!(out.status.success(), "prune: {}", text(&out.stderr));
    // Pad the journal to a whole page: on a full tmpfs no line fits after it.
    let journal = state.join("journal.jsonl");
    let len = fs::metadata(&journal).unwrap().len();
    let pad = 4096 - (len % 4096);
    let mut j = fs::OpenOptions::new().append(true).open(&journal).unwrap();
    j.write_all(&[b' '; 8192][..(pad - 1) as usize]).unwrap();
    j.write_all(b"\n").unwrap();
    drop(j);
    disk.fill();

    let marks = state.join("marks.json");
    let (before, dir_before) = (contents(&marks), names(&state));
    let out = run(&["mark"]);
    assert_clean_failure("mark record (mark)", &out, &marks, before.as_deref(), &dir_before);

    // A failed journal line does not undo a prune: it is said, and the journal is as it was.
    let before = contents(&journal);
    let out = run(&["prune", "--debris", "--yes"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&journal.display().to_string()) && err.contains("No space left on device"), "{err}");
    assert_eq!(contents(&journal), before, "the journal is as it was");
    assert_eq!(names(&state), dir_before);

    // The metrics textfile, old and new.
    for (case, name, old) in
        [("metrics file (status --metrics)", "metrics.prom", true), ("new metrics file", "new.prom", false)]
    {
        let file = state.join(name);
        fs::remove_file(state.join(".filler")).unwrap();
        if old {
            fs::write(&file, "gokeep_modcache_bytes 1\n").unwrap();
        }
        disk.fill();
        let (before, dir_before) = (contents(&file), names(&state));
        let out = run(&["status", "--metrics", &file.display().to_string()]);
        assert_clean_failure(case, &out, &file, before.as_deref(), &dir_before);
    }
}

#[test]
fn a_prune_in_a_full_module_cache_leaves_version_lists_whole_or_empty_as_go_does() {
    let sb = GoSandbox::new();
    let mc = sb.root().join("full-mod");
    let disk = Tmpfs::mount(&mc);
    let sb = sb.set("GOMODCACHE", &mc.display().to_string());
    for v in ["v1.0.0", "v1.1.0"] {
        Module::named("example.com/one", v, "one", v).publish(&sb.proxy_dir());
    }
    sb.go_ok(sb.root(), &["mod", "download", "example.com/one@v1.0.0", "example.com/one@v1.1.0"]);
    let list = mc.join("cache/download/example.com/one/@v/list");
    let before = fs::read(&list).unwrap();
    assert_eq!(text(&before), "v1.0.0\nv1.1.0\n");
    disk.fill();
    age_tree(&mc.join("example.com/one@v1.0.0"), 100);
    for f in ["info", "mod", "zip", "ziphash", "lock"] {
        age_tree(&mc.join(format!("cache/download/example.com/one/@v/v1.0.0.{f}")), 100);
    }
    let state = sb.root().join("state");
    let out = gokeep(&sb, sb.root(), &state, &["prune", "--max-age", "30d", "--yes", "--json"]);
    let after = fs::read(&list).unwrap();
    let err = text(&out.stderr);
    if out.status.code() == Some(0) {
        // The version went, and the list was rewritten in the page it had.
        assert_eq!(text(&after), "v1.1.0\n", "{err}\n{}", text(&out.stdout));
    } else {
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(text(&out.stdout).contains(&list.display().to_string()), "the list is named: {}", text(&out.stdout));
        assert!(after.is_empty() || after == before, "the list is whole or empty, never torn: {:?}", text(&after));
    }
    assert!(!after.contains(&0), "no NUL bytes in the list: {after:?}");
    sb.go_ok(sb.root(), &["mod", "download", "example.com/one@v1.1.0"]);
}

#[test]
fn verify_update_go_sum_on_a_full_disk_keeps_go_sum() {
    let fx = Fixture::with_modules(vec![Module::named("example.com/c", "v1.0.0", "c", "c@v1.0.0")]);
    let sb = &fx.sandbox;
    let sum = fs::read_to_string(fx.consumer.join("go.sum")).unwrap();
    let line = |suffix: &str| {
        sum.lines().find_map(|l| l.strip_prefix(&format!("example.com/c v1.0.0{suffix} ")).map(str::to_owned)).unwrap()
    };
    let (zip_h1, mod_h1) = (line(""), line("/go.mod"));
    // The checksum database's record, as go caches it, agrees with the cache...
    let lookup = fx.modcache().join("cache/download/sumdb/sum.golang.org/lookup/example.com/c@v1.0.0");
    fs::create_dir_all(lookup.parent().unwrap()).unwrap();
    fs::write(
        &lookup,
        format!("7\nexample.com/c v1.0.0 {zip_h1}\nexample.com/c v1.0.0/go.mod {mod_h1}\n\n— sum.golang.org x\n"),
    )
    .unwrap();
    // ...and go.sum, on the full disk, holds a wrong line that --update-go-sum would rewrite.
    let mnt = sb.root().join("full");
    let disk = Tmpfs::mount(&mnt);
    let project = mnt.join("consumer");
    copy_tree(&fx.consumer, &project);
    let wrong = sum.replace(&zip_h1, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    fs::write(project.join("go.sum"), &wrong).unwrap();
    disk.fill();
    let file = project.join("go.sum");
    let (before, dir_before) = (contents(&file), names(&project));

    let mut c = sb.gokeep();
    c.env("GOSUMDB", "sum.golang.org").env("GOKEEP_STATE_DIR", sb.root().join("state"));
    c.args(["verify", "--fix", "--yes", "--update-go-sum", "example.com/c", "--project"]).arg(&project);
    let out = c.output().unwrap();

    assert_clean_failure("go.sum (verify --fix --update-go-sum)", &out, &file, before.as_deref(), &dir_before);
    // With room, the same command rewrites the line: the failure above was the disk.
    fs::remove_file(mnt.join(".filler")).unwrap();
    let out = c.output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out.stderr));
    assert_eq!(fs::read_to_string(&file).unwrap(), sum, "the line the database gives");
}
