//! `gokeep env` against the real `go env`, which is the oracle: every
//! scenario builds a hermetic environment (cleared, temp HOME, PATH holding
//! only the `go` under test and the system dirs) and runs both tools in it.

mod common;

use common::*;
use serde_json::Value;

/// The variables the acceptance criteria compare, plus GOENV and GOROOT.
const COMPARED: &[&str] = &[
    "GOPATH",
    "GOMODCACHE",
    "GOCACHE",
    "GOPROXY",
    "GONOPROXY",
    "GONOSUMDB",
    "GOPRIVATE",
    "GOSUMDB",
    "GOFLAGS",
    "GOINSECURE",
    "GOTOOLCHAIN",
    "GOENV",
    "GOROOT",
];

/// `rel` under the sandbox root, as a string for an environment variable.
fn at(sb: &GoSandbox, rel: &str) -> String {
    sb.root().join(rel).display().to_string()
}

/// Runs the real `go`, which must succeed, and returns its stdout.
fn go(sb: &GoSandbox, args: &[&str]) -> String {
    sb.go_ok(sb.root(), args)
}

/// Runs gokeep, which must succeed, and returns its stdout.
fn gokeep(sb: &GoSandbox, args: &[&str]) -> String {
    run_ok(sb.gokeep().args(args))
}

/// Asserts gokeep and go agree on every compared variable and returns
/// gokeep's document for further checks.
fn assert_agrees(sb: &GoSandbox, scenario: &str) -> Value {
    let mut args = vec!["env", "-json"];
    args.extend(COMPARED);
    let go: Value = serde_json::from_str(&go(sb, &args)).expect("go env -json prints JSON");
    let ours = cmd_ok(sb.gokeep().args(["env", "--json"]));
    for key in COMPARED {
        assert_eq!(
            ours["vars"][key]["value"], go[key],
            "{scenario}: {key} differs (gokeep source {})",
            ours["vars"][key]["source"]
        );
    }
    ours
}

fn source(doc: &Value, key: &str) -> Value {
    doc["vars"][key]["source"].clone()
}

fn goroot_go_env() -> String {
    let goroot = go(&GoSandbox::bare(), &["env", "GOROOT"]);
    format!("{}/go.env", goroot.trim())
}

#[test]
fn clean_environment_matches_go_env() {
    let s = GoSandbox::bare();
    let doc = assert_agrees(&s, "clean env");
    assert_eq!(source(&doc, "GOPATH"), serde_json::json!({"kind": "default"}));
    assert_eq!(source(&doc, "GOMODCACHE"), serde_json::json!({"kind": "derived", "from": "GOPATH"}));
    assert_eq!(doc["vars"]["GOCACHE"]["value"], format!("{}/.cache/go-build", s.home().display()));
    assert_eq!(doc["problems"], serde_json::json!([]));
}

#[test]
fn go_env_file_in_goroot_supplies_proxy_sumdb_and_toolchain() {
    let doc = assert_agrees(&GoSandbox::bare(), "clean env");
    let go_env = goroot_go_env();
    for key in ["GOPROXY", "GOSUMDB", "GOTOOLCHAIN"] {
        assert_eq!(source(&doc, key), serde_json::json!({"kind": "goroot_env", "path": go_env}), "{key}");
    }
}

#[test]
fn each_variable_set_in_the_environment_matches_go_env() {
    let base = GoSandbox::bare();
    let values = [
        ("GOPATH", format!("{}:{}", at(&base, "gp1"), at(&base, "gp2"))),
        ("GOMODCACHE", at(&base, "modcache")),
        ("GOCACHE", at(&base, "gocache")),
        ("GOPROXY", format!("file://{}", at(&base, "proxy"))),
        ("GONOPROXY", "noproxy.example".to_owned()),
        ("GONOSUMDB", "nosumdb.example".to_owned()),
        ("GOPRIVATE", "private.example/*".to_owned()),
        ("GOSUMDB", "off".to_owned()),
        ("GOFLAGS", "-mod=mod -modcacherw".to_owned()),
        ("GOINSECURE", "insecure.example".to_owned()),
        ("GOTOOLCHAIN", "local+auto".to_owned()),
    ];
    for (key, value) in &values {
        let s = GoSandbox::bare().set(key, value);
        let doc = assert_agrees(&s, &format!("{key} set in env"));
        assert_eq!(doc["vars"][key]["value"], value.as_str(), "{key}");
        assert_eq!(source(&doc, key), serde_json::json!({"kind": "env"}), "{key}");
    }
}

#[test]
fn values_written_by_go_env_w_match_go_env() {
    let s = GoSandbox::bare();
    let file = at(&s, "goenv-file");
    let s = s.set("GOENV", &file);
    let (gopath, modcache, cache) = (at(&s, "gp"), at(&s, "mc"), at(&s, "gc"));
    go(
        &s,
        &[
            "env",
            "-w",
            &format!("GOPATH={gopath}"),
            &format!("GOMODCACHE={modcache}"),
            &format!("GOCACHE={cache}"),
            "GOPROXY=https://proxy.example,direct",
            "GOPRIVATE=corp.example",
            "GONOSUMDB=nosum.example",
            "GOSUMDB=sum.example",
            "GOFLAGS=-mod=mod",
            "GOINSECURE=insecure.example",
            "GOTOOLCHAIN=local+auto",
        ],
    );
    let doc = assert_agrees(&s, "go env -w into $GOENV");
    let from_file = serde_json::json!({"kind": "goenv_file", "path": file});
    for key in ["GOPATH", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOSUMDB", "GOFLAGS", "GOTOOLCHAIN"] {
        assert_eq!(source(&doc, key), from_file, "{key}");
    }
    assert_eq!(source(&doc, "GONOPROXY"), serde_json::json!({"kind": "derived", "from": "GOPRIVATE"}));
    assert_eq!(doc["vars"]["GOENV"]["value"], file.as_str());
}

#[test]
fn go_env_w_into_the_default_user_config_file_matches_go_env() {
    let s = GoSandbox::bare();
    go(&s, &["env", "-w", "GOPROXY=https://default-file.example", "GOFLAGS=-mod=mod"]);
    let doc = assert_agrees(&s, "go env -w into ~/.config/go/env");
    let file = s.home().join(".config/go/env");
    assert!(file.is_file());
    assert_eq!(source(&doc, "GOPROXY"), serde_json::json!({"kind": "goenv_file", "path": file}));
}

#[test]
fn goenv_off_ignores_the_user_file_like_go() {
    let s = GoSandbox::bare();
    go(&s, &["env", "-w", "GOPROXY=https://ignored.example", "GOTOOLCHAIN=local+auto", "GOPRIVATE=ignored.example"]);
    let s = s.set("GOENV", "off");
    let doc = assert_agrees(&s, "GOENV=off with a user file present");
    assert_eq!(doc["vars"]["GOPROXY"]["value"], "https://proxy.golang.org,direct");
    assert_eq!(source(&doc, "GOPROXY"), serde_json::json!({"kind": "goroot_env", "path": goroot_go_env()}));
    assert_eq!(doc["vars"]["GOENV"]["value"], "");
}

#[test]
fn goprivate_without_gonoproxy_or_gonosumdb_feeds_both_like_go() {
    let s = GoSandbox::bare().set("GOPRIVATE", "*.corp.example,rsc.io/private");
    let doc = assert_agrees(&s, "GOPRIVATE set, GONOPROXY/GONOSUMDB unset");
    for key in ["GONOPROXY", "GONOSUMDB"] {
        assert_eq!(doc["vars"][key]["value"], "*.corp.example,rsc.io/private", "{key}");
        assert_eq!(source(&doc, key), serde_json::json!({"kind": "derived", "from": "GOPRIVATE"}), "{key}");
    }
    let overridden = GoSandbox::bare().set("GOPRIVATE", "corp.example").set("GONOPROXY", "none");
    assert_agrees(&overridden, "GOPRIVATE with GONOPROXY=none");
}

#[test]
fn empty_environment_values_count_as_unset_like_go() {
    let s = GoSandbox::bare();
    let file_gopath = at(&s, "file-gopath");
    go(&s, &["env", "-w", "GOPROXY=https://from-file.example", &format!("GOPATH={file_gopath}"), "GOFLAGS=-mod=mod"]);
    let mut s = s;
    for key in COMPARED.iter().filter(|k| !["GOENV", "GOROOT"].contains(k)) {
        s = s.set(key, "");
    }
    let doc = assert_agrees(&s, "every compared variable set to the empty string");
    assert_eq!(doc["vars"]["GOPROXY"]["value"], "https://from-file.example");
    assert_eq!(doc["vars"]["GOMODCACHE"]["value"], format!("{file_gopath}/pkg/mod"));
    assert_eq!(source(&doc, "GOSUMDB")["kind"], "goroot_env");
}

#[test]
fn xdg_config_and_cache_homes_move_the_env_file_and_build_cache_like_go() {
    let s = GoSandbox::bare();
    let (config, cache) = (at(&s, "xdg-config"), at(&s, "xdg-cache"));
    let s = s.set("XDG_CONFIG_HOME", &config).set("XDG_CACHE_HOME", &cache);
    go(&s, &["env", "-w", "GOINSECURE=xdg.example"]);
    let doc = assert_agrees(&s, "XDG_CONFIG_HOME and XDG_CACHE_HOME set");
    assert_eq!(doc["vars"]["GOCACHE"]["value"], format!("{cache}/go-build"));
    assert_eq!(doc["vars"]["GOENV"]["value"], format!("{config}/go/env"));
    assert_eq!(doc["vars"]["GOINSECURE"]["value"], "xdg.example");
}

#[test]
fn relative_gocache_and_gomodcache_are_reported_and_match_go() {
    let s = GoSandbox::bare().set("GOCACHE", "rel/cache").set("GOMODCACHE", "rel/mod");
    let doc = assert_agrees(&s, "relative GOCACHE and GOMODCACHE");
    assert_eq!(doc["vars"]["GOCACHE"]["value"], "off", "go turns a relative GOCACHE off");
    let keys: Vec<&str> = doc["problems"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["GOMODCACHE", "GOCACHE"]);
}

#[test]
fn gocache_off_and_missing_goenv_file_are_problems_not_failures() {
    let s = GoSandbox::bare();
    let missing = at(&s, "no-such-env-file");
    let s = s.set("GOCACHE", "off").set("GOENV", &missing);
    let doc = assert_agrees(&s, "GOCACHE=off, GOENV naming a missing file");
    let problems = doc["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| p["key"] == "GOCACHE"), "{problems:?}");
    assert!(problems.iter().any(|p| p["key"] == "GOENV" && p["message"].as_str().unwrap().contains(&missing)));
}

#[test]
fn positional_keys_print_bare_values_like_go_env() {
    let s = GoSandbox::bare().set("GOPATH", "/tmp/gokeep-gp");
    let keys = ["GOMODCACHE", "GOCACHE", "GOPROXY"];
    let mut go_args = vec!["env"];
    go_args.extend(keys);
    let mut ours = vec!["env"];
    ours.extend(keys);
    assert_eq!(gokeep(&s, &ours), go(&s, &go_args));
}

#[test]
fn text_output_shows_each_value_with_its_source() {
    let s = GoSandbox::bare().set("GOFLAGS", "-mod=mod");
    let text = gokeep(&s, &["env"]);
    let line = |key: &str| text.lines().find(|l| l.starts_with(&format!("{key}="))).unwrap().to_owned();
    assert!(line("GOFLAGS").starts_with("GOFLAGS='-mod=mod'") && line("GOFLAGS").ends_with("# env"), "{text}");
    assert!(line("GOTOOLCHAIN").ends_with(&format!("# GOROOT go.env {}", goroot_go_env())), "{text}");
    assert!(line("GOMODCACHE").ends_with("# derived from GOPATH"), "{text}");
}

#[test]
fn unknown_key_is_a_usage_error() {
    let s = GoSandbox::bare();
    let (code, _, stderr) = run(s.gokeep().args(["env", "GONOTAVAR"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("GONOTAVAR"), "{stderr}");
}

#[test]
fn goroot_is_found_through_a_symlinked_go_on_path_like_go() {
    let s = GoSandbox::bare();
    let bin = s.root().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(go_bin_dir().join("go"), bin.join("go")).unwrap();
    let s = s.set("PATH", &format!("{}:/usr/bin:/bin", bin.display()));
    let doc = assert_agrees(&s, "go reached through a symlink on PATH");
    assert_eq!(source(&doc, "GOROOT"), serde_json::json!({"kind": "go_on_path", "path": bin.join("go")}));
    let goroot = doc["vars"]["GOROOT"]["value"].as_str().unwrap().to_owned();
    let explicit = GoSandbox::bare().set("GOROOT", &goroot);
    assert_eq!(source(&assert_agrees(&explicit, "GOROOT set in env"), "GOROOT"), serde_json::json!({"kind": "env"}));
}
