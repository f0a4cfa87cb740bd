//! `gokeep profile apply` writes the GOENV file the way `go env -w` does:
//! real `go env` reads the profile's values back, unrelated keys survive.

mod common;

use common::*;

const PROFILES: &str = r#"
[profiles.ci]
GOPROXY = "https://athens.corp.example|https://proxy.golang.org,direct"
GOPRIVATE = "*.corp.example"
GOFLAGS = "-mod=mod -trimpath"
GOTOOLCHAIN = "local"

[profiles.broken]
GOPROXY = ","
"#;

/// The sandbox environment with the variables a profile sets emptied (Go
/// reads an empty variable as unset, so the GOENV file decides) and GOENV
/// pointing at `file`.
fn env_for(file: &std::path::Path) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> =
        ["GOPROXY", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOFLAGS", "GOTOOLCHAIN"].map(|k| (k, String::new())).into();
    v.push(("GOENV", file.display().to_string()));
    v
}

#[test]
fn profile_apply_writes_a_goenv_file_that_go_env_reads_back_keeping_other_keys() {
    let sb = GoSandbox::new();
    std::fs::write(sb.root().join("gokeep.toml"), PROFILES).unwrap();
    let file = sb.root().join("config/go/env");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "GOAMD64=v2\nGOPROXY=off\nGOVCS=private:all\n").unwrap();
    let env = env_for(&file);

    let out = sb
        .gokeep()
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .args(["profile", "apply", "ci", "--yes", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let applied = schema::parse("profile-apply", &out.stdout);
    assert_eq!(applied["written"], file.display().to_string(), "{applied:#}");

    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let go = sb.go_with_env(
        sb.root(),
        &["env", "-json", "GOPROXY", "GOPRIVATE", "GONOPROXY", "GOFLAGS", "GOAMD64", "GOVCS"],
        &extra,
    );
    assert!(go.status.success(), "{}", String::from_utf8_lossy(&go.stderr));
    let v: serde_json::Value = serde_json::from_slice(&go.stdout).unwrap();
    assert_eq!(v["GOPROXY"], "https://athens.corp.example|https://proxy.golang.org,direct");
    assert_eq!(v["GOPRIVATE"], "*.corp.example");
    assert_eq!(v["GONOPROXY"], "*.corp.example", "derived from GOPRIVATE as go does");
    assert_eq!(v["GOFLAGS"], "-mod=mod -trimpath");
    assert_eq!(v["GOAMD64"], "v2", "unrelated keys survive");
    assert_eq!(v["GOVCS"], "private:all");

    // The file is what `go env -w` would have written for the same values.
    let ours = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, "GOAMD64=v2\nGOPROXY=off\nGOVCS=private:all\n").unwrap();
    let w = sb.go_with_env(
        sb.root(),
        &[
            "env",
            "-w",
            "GOPROXY=https://athens.corp.example|https://proxy.golang.org,direct",
            "GOPRIVATE=*.corp.example",
            "GOFLAGS=-mod=mod -trimpath",
            "GOTOOLCHAIN=local",
        ],
        &extra,
    );
    assert!(w.status.success(), "{}", String::from_utf8_lossy(&w.stderr));
    assert_eq!(ours, std::fs::read_to_string(&file).unwrap());
}

#[test]
fn profile_with_errors_is_refused_and_shell_exports_set_the_values() {
    let sb = GoSandbox::new();
    std::fs::write(sb.root().join("gokeep.toml"), PROFILES).unwrap();
    let file = sb.root().join("env");
    let env = env_for(&file);
    let out = sb
        .gokeep()
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .args(["profile", "apply", "broken", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("GOPROXY list is not the empty string, but contains no entries")
    );
    assert!(!file.exists(), "nothing written");

    let out = sb.gokeep().args(["profile", "apply", "ci", "--shell", "sh"]).output().unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
    let sh = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{script}go env GOPROXY GOFLAGS"))
        .env_clear()
        .envs(sb.go_env())
        .current_dir(sb.root())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&sh.stdout),
        "https://athens.corp.example|https://proxy.golang.org,direct\n-mod=mod -trimpath\n"
    );
}
