//! The README's "What to do when…" blocks and its command table are run as
//! written, in a sandbox holding a cache the real `go` built: a documented
//! command that fails, or whose output no longer matches what the README
//! shows, fails this test.
//!
//! A block is a ```` ```console ```` fence right after a
//! `<!-- readme-test: STORY -->` comment. `$ ` lines are commands, run by
//! `sh` with stderr merged into stdout; the lines after a command are
//! patterns its output must contain in order, where `[..]` matches any text.
//! A command must exit 0, or the code its trailing `# exit N` comment names.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A step that may exit 0 or 1 (findings): either way the command worked.
const FINDINGS_OK: i32 = -1;

struct Step {
    command: String,
    code: i32,
    expected: Vec<String>,
}

struct Block {
    story: String,
    steps: Vec<Step>,
}

fn readme() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("reading README.md")
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(story) = line.strip_prefix("<!-- readme-test: ").and_then(|l| l.strip_suffix(" -->")) else {
            continue;
        };
        assert_eq!(lines.next(), Some("```console"), "a ```console block must follow {line}");
        let mut steps: Vec<Step> = Vec::new();
        for l in lines.by_ref().take_while(|l| *l != "```") {
            if let Some(cmd) = l.strip_prefix("$ ") {
                let code = cmd.rsplit_once("# exit ").map_or(0, |(_, n)| n.trim().parse().expect("# exit N"));
                steps.push(Step { command: cmd.to_owned(), code, expected: Vec::new() });
            } else {
                steps.last_mut().expect("output before any command").expected.push(l.to_owned());
            }
        }
        out.push(Block { story: story.to_owned(), steps });
    }
    out
}

/// `line` matches `pattern`, whose `[..]` stand for any text.
fn matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    let (first, rest) = parts.split_first().expect("split yields one part");
    let Some(mut left) = line.strip_prefix(first) else { return false };
    for (i, part) in rest.iter().enumerate() {
        if i + 1 == rest.len() {
            return left.ends_with(part);
        }
        match left.find(part) {
            Some(at) => left = &left[at + part.len()..],
            None => return false,
        }
    }
    left.is_empty()
}

/// Runs one block's commands in `dir`, checking each exit code and output.
fn run_block(block: &Block, sb: &GoSandbox, dir: &Path, extra_env: &[(&str, String)]) {
    let bin_dir = gokeep_bin().parent().unwrap().to_owned();
    for step in &block.steps {
        let mut env = sb.go_env();
        for (k, v) in &mut env {
            if k == "PATH" {
                *v = format!("{}:{v}", bin_dir.display());
            }
            if let Some((_, extra)) = extra_env.iter().find(|(e, _)| e == k) {
                v.clone_from(extra);
            }
        }
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("exec 2>&1; {}", step.command))
            .current_dir(dir)
            .env_clear()
            .envs(env)
            .output()
            .expect("running sh");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let why = format!("README story {:?}: `{}`", block.story, step.command);
        if step.code == FINDINGS_OK {
            assert!(matches!(out.status.code(), Some(0 | 1)), "{why} failed ({}):\n{text}", out.status);
        } else {
            assert_eq!(out.status.code(), Some(step.code), "{why} exited {}:\n{text}", out.status);
        }
        let mut actual = text.lines();
        for pattern in &step.expected {
            assert!(
                actual.any(|l| matches(pattern, l.trim_end())),
                "{why}: no line (in order) matches {pattern:?}; the output was:\n{text}"
            );
        }
    }
}

fn copy_schedules(to: &Path) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("schedules");
    let dir = to.join("schedules");
    fs::create_dir_all(&dir).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    to.to_owned()
}

/// The first command of each row of the README's command table.
fn table_commands(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("| `gokeep"))
        .map(|rest| format!("gokeep{}", rest.split('`').next().unwrap_or("")))
        .collect()
}

#[test]
fn every_command_of_the_table_runs_on_a_real_cache() {
    let commands = table_commands(&readme());
    assert!(commands.len() >= 10, "the command table was not found: {commands:?}");
    let fx = Fixture::standard();
    // `explain build.log` explains what go printed for a go.sum line that lies.
    let sum = fx.consumer.join("go.sum");
    let text = fs::read_to_string(&sum).unwrap();
    let line = text.lines().find(|l| l.starts_with("example.com/c v1.0.0 h1:")).unwrap();
    fs::write(&sum, text.replace(line, "example.com/c v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
        .unwrap();
    let tree = fx.extracted_dir("example.com/c", "v1.0.0");
    GoSandbox::make_writable(&tree);
    fs::remove_dir_all(&tree).unwrap();
    let build = fx.sandbox.go(&fx.consumer, &["build", "./..."]);
    fs::write(fx.consumer.join("build.log"), &build.stderr).unwrap();
    // probe times http(s) proxies: the sandbox's proxy, served on loopback.
    let proxy = common::http::TestProxy::start(common::http::Behaviour::Serve(fx.sandbox.proxy_dir()));
    let env = [("GOPROXY", proxy.url())];
    for command in commands {
        // Exit 1 is a finding (the lying go.sum line, GOSUMDB=off): the command worked.
        let step = Step { command, code: FINDINGS_OK, expected: Vec::new() };
        let block = Block { story: "command table".into(), steps: vec![step] };
        run_block(&block, &fx.sandbox, &fx.consumer, &env);
    }
}

#[test]
fn wildcard_patterns_match_as_documented() {
    assert!(matches("gokeep: freed [..] on disk", "gokeep: freed 3 MiB on disk"));
    assert!(matches("[..]total, [..] items", "   1 MiB  total, 4 items"));
    assert!(!matches("[..]total, [..] items", "   1 MiB  total, 4 items!"));
    assert!(matches("exact", "exact") && !matches("exact", "exactly"));
}

#[test]
fn every_what_to_do_when_story_runs_as_written() {
    let all = blocks(&readme());
    let stories: Vec<&str> = all.iter().map(|b| b.story.as_str()).collect();
    for story in ["nightly", "mismatch", "ci-image"] {
        assert!(stories.contains(&story), "README story {story} missing; found {stories:?}");
    }
    for block in &all {
        let fx = Fixture::standard();
        let dir = match block.story.as_str() {
            "nightly" => {
                age_tree(&fx.modcache(), 100);
                copy_schedules(&fx.sandbox.root().join("host"))
            }
            "mismatch" => {
                // A zip damaged on disk, its tree gone: go must unzip it again and fails.
                let zip = fx.download_file("example.com/c", "v1.0.0", "zip");
                let bytes = fs::read(&zip).unwrap();
                fs::write(&zip, &bytes[..bytes.len() / 2]).unwrap();
                // Damaged a while ago: a zip written a moment ago without its tree is
                // one go is about to extract, and is left alone.
                let hour_ago = filetime::FileTime::from_unix_time(filetime::FileTime::now().unix_seconds() - 3600, 0);
                filetime::set_file_mtime(&zip, hour_ago).unwrap();
                let tree = fx.extracted_dir("example.com/c", "v1.0.0");
                GoSandbox::make_writable(&tree);
                fs::remove_dir_all(&tree).unwrap();
                fx.consumer.clone()
            }
            "ci-image" => {
                // The image was built a few days before this job.
                age_tree(&fx.modcache(), 3);
                fx.consumer.clone()
            }
            other => panic!("README story {other:?} has no sandbox set-up in tests/readme.rs"),
        };
        run_block(block, &fx.sandbox, &dir, &[]);
    }
}
