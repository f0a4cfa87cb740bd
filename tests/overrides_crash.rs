//! Crash safety of `gokeep link` and `unlink`: aborted right after each of
//! their file-system mutations in turn (`GOKEEP_FAILPOINT`), go.mod and
//! go.work hold the old bytes or the new ones (never a torn file, never a
//! temp file beside them), `go list -m` names a complete module dir, `go mod
//! verify` and `go build` pass, and running the command again finishes it:
//! a re-run link leaves the link in place, a re-run unlink the bytes from
//! before the link.

mod common;

use std::fs;
use std::path::PathBuf;

use common::*;

const LIB: &str = "example.com/lib";
const APP_GO_MOD: &str = "module example.com/app\n\ngo 1.21\n\nrequire example.com/lib v1.0.0\n";
/// More mutations than a link or unlink makes.
const MAX_FAILPOINT: u64 = 500;

/// Go in workspace mode where there is a go.work: GOWORK found by search,
/// no -mod=mod (go refuses it in workspace mode).
const WORKSPACE: &[(&str, &str)] = &[("GOWORK", ""), ("GOFLAGS", "")];

struct World {
    sb: GoSandbox,
    app: PathBuf,
    lib: PathBuf,
    published: Module,
    go_sum: Vec<u8>,
}

/// `example.com/lib` v1.0.0 published, a local checkout of it in `lib/`,
/// and `app/` requiring it, built once so go.sum is complete.
fn world() -> World {
    let sb = GoSandbox::new();
    let published =
        Module::new(LIB, "v1.0.0").file("lib.go", "package lib\n\nfunc Name() string { return \"published\" }\n");
    published.publish(&sb.proxy_dir());
    let lib = sb.root().join("lib");
    fs::create_dir_all(&lib).unwrap();
    fs::write(lib.join("go.mod"), "module example.com/lib\n\ngo 1.21\n").unwrap();
    fs::write(lib.join("lib.go"), "package lib\n\nfunc Name() string { return \"local\" }\n").unwrap();
    let app = sb.root().join("app");
    fs::create_dir_all(&app).unwrap();
    fs::write(app.join("go.mod"), APP_GO_MOD).unwrap();
    fs::write(
        app.join("main.go"),
        "package main\n\nimport \"example.com/lib\"\n\nfunc main() { println(lib.Name()) }\n",
    )
    .unwrap();
    sb.go_ok(&app, &["build", "./..."]);
    let go_sum = fs::read(app.join("go.sum")).unwrap();
    World { sb, app, lib, published, go_sum }
}

/// The consumer's files a link or unlink may write: go.mod, go.work (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Files {
    go_mod: Vec<u8>,
    go_work: Option<Vec<u8>>,
}

impl World {
    fn state(&self) -> PathBuf {
        self.sb.root().join("state")
    }

    fn gokeep(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = self.sb.gokeep();
        cmd.current_dir(&self.app).env("GOKEEP_STATE_DIR", self.state()).envs(WORKSPACE.iter().copied()).args(args);
        cmd
    }

    fn files(&self) -> Files {
        Files { go_mod: fs::read(self.app.join("go.mod")).unwrap(), go_work: fs::read(self.app.join("go.work")).ok() }
    }

    /// Back to the state before any link: the app's files and no record.
    fn reset(&self) {
        fs::write(self.app.join("go.mod"), APP_GO_MOD).unwrap();
        fs::write(self.app.join("go.sum"), &self.go_sum).unwrap();
        let _ = fs::remove_file(self.app.join("go.work"));
        let _ = fs::remove_dir_all(self.state());
    }

    /// Nothing but the files the app is made of and the ones go writes
    /// (`app` is what `go build` writes): no temp file of an interrupted
    /// atomic write is left in the project, nor in gokeep's state.
    fn assert_no_strays(&self, what: &str) {
        let names = |dir: &std::path::Path| -> Vec<String> {
            fs::read_dir(dir).map_or_else(
                |_| Vec::new(),
                |rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
            )
        };
        let mut project = names(&self.app);
        project.retain(|n| !["go.mod", "go.sum", "go.work", "go.work.sum", "main.go", "app"].contains(&n.as_str()));
        assert!(project.is_empty(), "{what}: left in the project: {project:?}");
        let mut state: Vec<String> = names(&self.state().join("links"));
        // Records and locks are <key>.json and <key>.lock; temp files are hidden.
        state.retain(|n| n.starts_with('.'));
        assert!(state.is_empty(), "{what}: left in gokeep's state: {state:?}");
    }

    /// `args` run again: it succeeds, or (an unlink whose record was already
    /// gone) says there is nothing linked.
    fn rerun(&self, args: &[&str], what: &str) {
        let (code, out, err) = run(&mut self.gokeep(args));
        let not_linked = args[0] == "unlink" && err.contains(&format!("{LIB} is not linked"));
        assert!(code == 0 || not_linked, "{what}: the re-run failed ({code}):\n{out}\n{err}");
    }

    /// The dir go uses for the module is the checkout or the published
    /// version's complete tree; go verifies and builds.
    fn assert_go_works(&self, what: &str) {
        let out = self.sb.go_with_env(&self.app, &["list", "-m", "-f", "{{.Dir}}", LIB], WORKSPACE);
        assert_go_ok(&out, &format!("{what}: go list -m"));
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir != self.lib {
            let cached = self.sb.modcache().join(self.published.extracted_rel());
            assert_eq!(dir, cached, "{what}: go names neither the checkout nor the cached tree");
            for (name, bytes) in self.published.zip_files() {
                assert_eq!(fs::read(dir.join(&name)).ok(), Some(bytes), "{what}: {name} in {}", dir.display());
            }
        }
        assert_go_ok(&self.sb.go_with_env(&self.app, &["mod", "verify"], WORKSPACE), &format!("{what}: go mod verify"));
        assert_go_ok(&self.sb.go_with_env(&self.app, &["build", "./..."], WORKSPACE), &format!("{what}: go build"));
    }
}

/// For n = 1, 2, …: `prepare`, then `args` aborted right after its n-th
/// mutation, then the checks and a re-run, until a run finishes. Returns
/// how many runs stopped.
fn each_failpoint(w: &World, prepare: impl Fn(), args: &[&str], before: &Files, after: &Files) -> u64 {
    for n in 1..MAX_FAILPOINT {
        prepare();
        if run_to_failpoint(&mut w.gokeep(args), n) == Stopped::Finished {
            assert_eq!(&w.files(), after, "gokeep {args:?} finished");
            return n - 1;
        }
        let what = format!("gokeep {args:?} stopped after mutation {n}");
        let now = w.files();
        assert!(now == *before || now == *after, "{what}: neither the old nor the new bytes: {now:?}");
        w.assert_go_works(&what);
        w.rerun(args, &what);
        assert_eq!(&w.files(), after, "{what}: the re-run did not finish the job");
        w.assert_no_strays(&format!("{what}, then run again"));
        // And once more: nothing left to do, nothing changes.
        w.rerun(args, &what);
        assert_eq!(&w.files(), after, "{what}: a second re-run changed the files");
    }
    panic!("gokeep {args:?} made {MAX_FAILPOINT} mutations without finishing");
}

fn link_and_unlink_stopped_after_each_mutation(mode: &[&str]) {
    let w = world();
    let link: Vec<&str> = ["link", "../lib", "--yes"].iter().chain(mode).copied().collect();
    w.reset();
    let before = w.files();
    run_ok(&mut w.gokeep(&link));
    let linked = w.files();
    assert_ne!(before, linked, "the link changed nothing");

    let links = each_failpoint(&w, || w.reset(), &link, &before, &linked);
    let unlinks = each_failpoint(
        &w,
        || {
            w.reset();
            run_ok(&mut w.gokeep(&link));
        },
        &["unlink", LIB, "--yes"],
        &linked,
        &before,
    );
    eprintln!("{mode:?}: stopped after each of {links} mutations of a link and {unlinks} of an unlink");
    // A record and a file, each by temp file, write and rename.
    assert!(links >= 6 && unlinks >= 2, "too few mutations counted: link {links}, unlink {unlinks}");
}

#[test]
fn work_mode_link_and_unlink_stopped_after_each_mutation_leave_old_or_new_bytes_and_rerun_finishes() {
    link_and_unlink_stopped_after_each_mutation(&[]);
}

#[test]
fn replace_mode_link_and_unlink_stopped_after_each_mutation_leave_old_or_new_bytes_and_rerun_finishes() {
    link_and_unlink_stopped_after_each_mutation(&["--mode", "replace"]);
}
