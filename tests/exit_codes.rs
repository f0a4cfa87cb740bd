//! The documented exit codes, one representative failure of each class, run
//! through the binary against caches the real `go` wrote.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// How a case prepares the fixture, and the arguments it then runs gokeep with.
type Case = (&'static str, fn(&Fixture) -> Vec<std::ffi::OsString>, Option<(&'static str, fn(&Path) -> String)>, i32);

fn verify_project(fx: &Fixture) -> Vec<std::ffi::OsString> {
    vec!["verify".into(), "--project".into(), fx.consumer.clone().into()]
}

#[test]
fn each_class_of_failure_exits_with_its_documented_code() {
    let cases: &[Case] = &[
        ("clean cache", verify_project, None, 0),
        (
            "findings: a byte of a zip flipped",
            |fx| {
                let zip = fx.download_file("example.com/a", "v1.2.0", "zip");
                let mut data = fs::read(&zip).unwrap();
                let mid = data.len() / 3;
                data[mid] ^= 0x55;
                fs::write(&zip, data).unwrap();
                verify_project(fx)
            },
            None,
            1,
        ),
        (
            "usage: --project names a directory with no go.mod",
            |fx| {
                let dir = fx.sandbox.root().join("not-a-project");
                fs::create_dir_all(&dir).unwrap();
                vec!["verify".into(), "--project".into(), dir.into()]
            },
            None,
            2,
        ),
        (
            "environment: the journal cannot be read",
            |fx| {
                fs::create_dir_all(fx.sandbox.root().join("state/journal.jsonl")).unwrap();
                vec!["log".into()]
            },
            Some(("GOKEEP_STATE_DIR", |root| root.join("state").display().to_string())),
            3,
        ),
        (
            "missing cache: --modcache names nothing",
            |fx| vec!["verify".into(), "--modcache".into(), fx.sandbox.root().join("nope").into()],
            None,
            4,
        ),
    ];
    for (name, setup, env, code) in cases {
        let fx = Fixture::standard();
        let args = setup(&fx);
        let mut cmd = fx.sandbox.gokeep();
        if let Some((key, value)) = env {
            cmd.env(key, value(fx.sandbox.root()));
        }
        let out = cmd.args(&args).output().expect("running gokeep");
        assert_eq!(out.status.code(), Some(*code), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
