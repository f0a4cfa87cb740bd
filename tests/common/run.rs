//! Running gokeep and reading what it printed.
//!
//! Every JSON document a test reads from gokeep goes through [`parse_json`],
//! so one place decides what a well-formed document is.

use std::process::Output;

use serde_json::Value;

/// What one gokeep run left behind.
pub struct Run {
    pub code: i32,
    pub json: Value,
    pub stdout: String,
    pub stderr: String,
}

/// `gokeep <args>` as a human would type it, for failure messages.
pub fn command_line(cmd: &assert_cmd::Command) -> String {
    let mut line = String::from("gokeep");
    for a in cmd.get_args() {
        line.push(' ');
        line.push_str(&a.to_string_lossy());
    }
    line
}

/// The JSON document `command` printed on stdout; panics naming the command
/// and showing what it printed instead.
/// It is also checked against the JSON Schema `gokeep schema` publishes for
/// the command's document.
pub fn parse_json(command: &str, stdout: &[u8]) -> Value {
    let value = serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!("`{command}` printed no JSON on stdout ({e}):\n{}", String::from_utf8_lossy(stdout))
    });
    if let Some(document) = document_of(command) {
        super::schema::validate(&document, &value);
    }
    value
}

/// The `gokeep schema` document a command line prints under `--json`:
/// `status`, `gocache-refresh`, `schedule-show`, …; `None` for a command
/// that has none.
fn document_of(command: &str) -> Option<String> {
    static DOCUMENTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    const COMMANDS: &[&str] = &[
        "env", "status", "du", "verify", "explain", "prune", "mark", "log", "gocache", "schedule", "doctor", "probe",
        "profile", "link", "unlink", "links", "check", "schema",
    ];
    let mut words = command.split_whitespace().skip(1);
    let first = words.find(|w| COMMANDS.contains(w))?;
    let discover = command.split_whitespace().any(|w| w == "--discover");
    let document = match first {
        "status" | "du" | "prune" if discover => {
            format!("{}-discover", if first == "prune" { "prune" } else { "status" })
        }
        "du" => "status".to_owned(),
        "gocache" | "schedule" | "profile" => format!("{first}-{}", words.next()?),
        other => other.to_owned(),
    };
    DOCUMENTS.get_or_init(super::schema::documents).contains(&document).then_some(document)
}

/// The exit code; a process killed by a signal has none, which no test expects.
fn exit_code(command: &str, out: &Output) -> i32 {
    out.status.code().unwrap_or_else(|| panic!("`{command}` was killed: {}", out.status))
}

/// Runs gokeep, which must print JSON on stdout whatever its exit code.
#[allow(dead_code)]
pub fn cmd(cmd: &mut assert_cmd::Command) -> Run {
    let command = command_line(cmd);
    let out = cmd.output().unwrap_or_else(|e| panic!("running `{command}`: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if serde_json::from_slice::<serde::de::IgnoredAny>(&out.stdout).is_err() {
        // Shown with the panic below, which cannot take stderr itself.
        eprintln!("--- stderr of `{command}`\n{stderr}");
    }
    let json = parse_json(&command, &out.stdout);
    Run { code: exit_code(&command, &out), json, stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr }
}

/// Runs gokeep, which must succeed and print JSON; returns the document.
#[allow(dead_code)]
pub fn cmd_ok(c: &mut assert_cmd::Command) -> Value {
    let r = cmd(c);
    assert_eq!(
        r.code,
        0,
        "`{}` failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        command_line(c),
        r.code,
        r.stdout,
        r.stderr
    );
    r.json
}

/// Runs gokeep and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let command = command_line(cmd);
    let out = cmd.output().unwrap_or_else(|e| panic!("running `{command}`: {e}"));
    (
        exit_code(&command, &out),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs gokeep, which must succeed; returns stdout.
#[allow(dead_code)]
pub fn run_ok(cmd: &mut assert_cmd::Command) -> String {
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "`{}` failed ({code}):\n--- stdout\n{out}\n--- stderr\n{err}", command_line(cmd));
    out
}

/// Asserts a `go` run succeeded, showing both streams if not.
#[allow(dead_code)]
pub fn assert_go_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How a gokeep run with `GOKEEP_FAILPOINT` set ended.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Aborted right after its n-th file-system mutation.
    AtFailpoint,
    /// Made fewer than n mutations and exited 0.
    Finished,
}

/// Runs gokeep with `GOKEEP_FAILPOINT=n`. Any other ending (an error exit,
/// another signal) fails the test with what gokeep printed.
#[allow(dead_code)]
pub fn run_to_failpoint(cmd: &mut assert_cmd::Command, n: u64) -> Stopped {
    use std::os::unix::process::ExitStatusExt;
    let command = command_line(cmd);
    let out = cmd.env(gokeep::fs::failpoint::ENV, n.to_string()).output().unwrap_or_else(|e| panic!("{command}: {e}"));
    if out.status.signal() == Some(signal_hook::consts::SIGABRT) {
        return Stopped::AtFailpoint;
    }
    assert!(
        out.status.success(),
        "`{command}` with {}={n} neither stopped there nor succeeded ({}):\n--- stdout\n{}\n--- stderr\n{}",
        gokeep::fs::failpoint::ENV,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Stopped::Finished
}
