//! What scripts rely on: JSON on stdout for results and errors alike, a schema
//! version in every JSON document, every subcommand listed in `--help`.

mod common;

use common::*;

/// Issue 12 item 6: under `--json` an error is a JSON object on stdout too, with the exit code.
#[test]
fn errors_under_json_are_a_json_object_with_the_exit_code() {
    let sb = GoSandbox::new();
    let missing = sb.root().join("missing");
    let cases: &[(&str, Vec<String>, u8)] = &[
        (
            "missing cache",
            vec!["prune".into(), "--all".into(), "--json".into(), "--modcache".into(), missing.display().to_string()],
            4,
        ),
        ("bad flag value", vec!["prune".into(), "--json".into(), "--max-size".into(), "lots".into()], 2),
    ];
    for (name, args, code) in cases {
        let Run { code: exit, json: v, stderr, .. } = cmd(sb.gokeep().args(args));
        assert_eq!(exit, i32::from(*code), "{name}");
        assert_eq!(v["schema_version"], 1, "{name}: {v}");
        assert_eq!(v["error"]["exit_code"], *code, "{name}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}: {v}");
        assert!(stderr.contains("gokeep: error:"), "{name}: the error is on stderr too");
    }
}

#[test]
fn env_json_has_a_schema_version() {
    let sb = GoSandbox::new();
    let v = cmd_ok(sb.gokeep().args(["env", "--json"]));
    assert_eq!(v["schema_version"], 1);
    assert!(v["vars"]["GOMODCACHE"]["value"].is_string(), "{v}");
}

#[test]
fn help_lists_every_subcommand_generate_included() {
    let sb = GoSandbox::new();
    let out = sb.gokeep().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["env", "status", "verify", "explain", "prune", "mark", "log", "gocache", "generate", "schema"] {
        assert!(help.lines().any(|l| l.trim_start().starts_with(cmd)), "{cmd} missing from --help:\n{help}");
    }
}

/// Issue 12 item 8: colour with `--color always`, none in pipes by default, none with
/// `NO_COLOR`, never in JSON.
#[test]
fn colour_only_where_asked_for_and_never_in_json() {
    let fx = Fixture::standard();
    let plan = |extra: &[&str], env: &[(&str, &str)]| {
        let mut c = fx.sandbox.gokeep();
        c.args(["prune", "--all", "--dry-run"]).args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let esc = '\u{1b}';
    assert!(plan(&["--color", "always"], &[]).contains(esc), "--color always colours");
    assert!(!plan(&[], &[]).contains(esc), "a pipe gets no colour by default");
    assert!(!plan(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]).contains(esc), "--color never wins");
    assert!(!plan(&[], &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]).contains(esc), "NO_COLOR is honoured");
    let json = plan(&["--color", "always", "--json"], &[]);
    assert!(!json.contains(esc), "JSON is never coloured");
    parse_json("gokeep prune --dry-run --color always --json", json.as_bytes());
}

/// Issue 10 item 5: `--jobs`/`-j` is `--threads` under another name, for every command.
#[test]
fn jobs_is_an_alias_of_threads_with_the_same_limits() {
    let fx = Fixture::standard();
    for flag in ["--jobs", "-j", "--threads"] {
        let out = fx.sandbox.gokeep().args(["verify", "--no-project", flag, "1"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{flag}: {}", String::from_utf8_lossy(&out.stderr));
        let out = fx.sandbox.gokeep().args(["status", flag, "0"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} 0 is refused as --threads 0 is");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("at least 1"), "{flag}: {err}");
    }
}

/// Issue 12 item 7: an error names the file once, says its cause once and
/// stays short, whatever the input.
#[test]
fn error_messages_say_each_thing_once_and_stay_short() {
    let fx = Fixture::standard();
    let dir = fx.sandbox.root();
    let not_utf8 = dir.join("not-utf8.toml");
    std::fs::write(&not_utf8, b"[modcache]\nmax_age = \"\xff\"\n").unwrap();
    let long_key = dir.join("long-key.toml");
    std::fs::write(&long_key, format!("[modcache]\n{} = 1\n", "k".repeat(100_000))).unwrap();
    let cases = [("policy that is not UTF-8", &not_utf8, "valid UTF-8"), ("100 KB key", &long_key, "unknown field")];
    for (name, policy, cause) in cases {
        let out = fx.sandbox.gokeep().args(["prune", "--dry-run", "--policy"]).arg(policy).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.len() < 1000, "{name}: {} bytes:\n{}", err.len(), &err[..err.len().min(2000)]);
        assert_eq!(err.matches(cause).count(), 1, "{name}: the cause once:\n{err}");
        assert_eq!(err.matches(&*policy.display().to_string()).count(), 1, "{name}: the file once:\n{err}");
    }
}
