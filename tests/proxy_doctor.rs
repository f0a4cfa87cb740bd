//! The proxy chain against real `go`: local proxies on 127.0.0.1 answering
//! 404, serving, 403, 500, stalling; GOPROXY lists with `,` and `|`. Where
//! gokeep says a lookup ends is where `go mod download` ends.

mod common;

use std::path::Path;
use std::time::Duration;

use common::http::{Behaviour, TestProxy, refused_port};
use common::*;

const PUBLIC: &str = "example.test/pub";
const PRIVATE: &str = "corp.test/secret";

fn doctor_json(sb: &GoSandbox, env: &[(&str, &str)], args: &[&str]) -> serde_json::Value {
    let out = sb.gokeep().envs(env.iter().copied()).arg("doctor").arg("--json").args(args).output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "gokeep doctor failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    schema::parse("doctor", &out.stdout)
}

fn consumer(sb: &GoSandbox) -> std::path::PathBuf {
    let dir = sb.root().join("consumer");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("go.mod"), "module consumer\n\ngo 1.21\n").unwrap();
    dir
}

/// `go mod download` into a fresh module cache, so nothing is served from an earlier case.
fn go_download(sb: &GoSandbox, dir: &Path, case: &str, goproxy: &str, module: &str) -> std::process::Output {
    let cache = sb.root().join(format!("modcache-{case}"));
    let cache_s = cache.display().to_string();
    let out =
        sb.go_with_env(dir, &["mod", "download", "-json", module], &[("GOPROXY", goproxy), ("GOMODCACHE", &cache_s)]);
    // Go writes its module cache read-only; let the sandbox remove it.
    GoSandbox::make_writable(&cache);
    out
}

#[test]
fn go_mod_download_ends_where_gokeep_says_for_comma_and_pipe_lists() {
    let sb = GoSandbox::new();
    Module::new(PUBLIC, "v1.0.0").file("p.go", "package pub\n").publish(&sb.proxy_dir());
    let serve = TestProxy::start(Behaviour::Serve(sb.proxy_dir()));
    let missing = TestProxy::start(Behaviour::Status(404));
    let forbidden = TestProxy::start(Behaviour::Status(403));
    let broken = TestProxy::start(Behaviour::Status(500));
    let gone = TestProxy::start(Behaviour::Status(410));
    let dir = consumer(&sb);
    let (ok, nf, forb, err, gn) = (serve.url(), missing.url(), forbidden.url(), broken.url(), gone.url());
    // (name, GOPROXY, the URL gokeep must name as where the lookup ends, served?)
    let cases = [
        ("404-comma-falls-through", format!("{nf},{ok}"), ok.clone(), true),
        ("410-comma-falls-through", format!("{gn},{ok}"), ok.clone(), true),
        ("403-comma-is-fatal", format!("{forb},{ok}"), forb.clone(), false),
        ("403-pipe-falls-through", format!("{forb}|{ok}"), ok.clone(), true),
        ("500-comma-is-fatal", format!("{err},{ok}"), err.clone(), false),
        ("500-pipe-falls-through", format!("{err}|{ok}"), ok.clone(), true),
        ("404-last-entry-fails", nf.clone(), nf.clone(), false),
        ("pipe-then-comma-fatal-500", format!("{nf}|{err},{ok}"), err.clone(), false),
        ("off-after-404", format!("{nf},off"), "off".into(), false),
    ];
    for (name, goproxy, ends_at, served) in cases {
        let spec = format!("{PUBLIC}@v1.0.0");
        let report = doctor_json(&sb, &[("GOPROXY", &goproxy)], &["--module", &spec, "--timeout", "5"]);
        let res = &report["routes"][0]["resolution"];
        let index = if served { &res["served_by"] } else { &res["failed_at"] };
        let index = index.as_u64().unwrap_or_else(|| panic!("{name}: {res:#}")) as usize;
        let hop = &res["tried"][index]["hop"];
        let at = hop["url"].as_str().map_or_else(|| hop["kind"].as_str().unwrap().to_owned(), str::to_owned);
        assert_eq!(at, ends_at, "{name}: gokeep's lookup end: {res:#}");

        let out = go_download(&sb, &dir, name, &goproxy, &spec);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.success(), served, "{name}: go mod download: {stdout}\n{stderr}");
        if !served {
            // go names the entry whose error it reports.
            let named = if at == "off" { "GOPROXY=off".to_owned() } else { at.clone() };
            assert!(
                stdout.contains(&named) || stderr.contains(&named),
                "{name}: go's error names {named}: {stdout}\n{stderr}"
            );
        }
    }
    // A fatal `,` error: the proxies after it were never asked, by gokeep or go.
    assert!(serve.requests().iter().all(|p| p.contains(PUBLIC)));
}

/// A proxy that accepts and never answers: cmd/go sets no timeout on proxy
/// requests, so the lookup ends there whatever follows (`,` or `|`); gokeep
/// says so, and real `go` is still waiting on that proxy, never having asked
/// the next, when the test gives up on it.
#[test]
fn a_proxy_that_never_answers_is_where_go_stops_and_gokeep_says_so() {
    let sb = GoSandbox::new();
    Module::new(PUBLIC, "v1.0.0").file("p.go", "package pub\n").publish(&sb.proxy_dir());
    let serve = TestProxy::start(Behaviour::Serve(sb.proxy_dir()));
    let stall = TestProxy::start(Behaviour::Stall);
    let dir = consumer(&sb);
    let spec = format!("{PUBLIC}@v1.0.0");
    for (name, goproxy) in
        [("comma", format!("{},{}", stall.url(), serve.url())), ("pipe", format!("{}|{}", stall.url(), serve.url()))]
    {
        let report = doctor_json(&sb, &[("GOPROXY", &goproxy)], &["--module", &spec, "--timeout", "2"]);
        let res = &report["routes"][0]["resolution"];
        let at = res["failed_at"].as_u64().unwrap_or_else(|| panic!("{name}: gokeep says go is served: {res:#}"));
        assert_eq!(res["tried"][at as usize]["hop"]["url"], stall.url(), "{name}: {res:#}");

        let cache = sb.root().join(format!("modcache-stall-{name}"));
        let mut go = std::process::Command::new("go")
            .args(["mod", "download", "-json", &spec])
            .current_dir(&dir)
            .env_clear()
            .envs(sb.go_env())
            .env("GOPROXY", &goproxy)
            .env("GOMODCACHE", &cache)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Long enough for go to have asked the next proxy had it moved on.
        let ended = (0..50).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(100));
            go.try_wait().unwrap().is_some()
        });
        go.kill().ok();
        go.wait().unwrap();
        GoSandbox::make_writable(&cache);
        assert!(!ended, "{name}: go gave up on the stalled proxy");
        assert!(serve.requests().is_empty(), "{name}: go asked the proxy after the stalled one");
    }
}

#[test]
fn leak_check_flags_the_private_path_that_go_sends_to_the_proxy() {
    let sb = GoSandbox::new();
    Module::new(PRIVATE, "v1.0.0").file("s.go", "package secret\n").publish(&sb.proxy_dir());
    let public_looking = TestProxy::start(Behaviour::Serve(sb.proxy_dir()));
    let goproxy = format!("{},direct", public_looking.url());
    let spec = format!("{PRIVATE}@v1.0.0");
    let report = doctor_json(&sb, &[("GOPROXY", &goproxy)], &["--module", &spec, "--offline"]);
    let finding = &report["routes"][0]["finding"];
    assert_eq!(finding["rule"], "private-path-leak", "{report:#}");
    assert!(finding["message"].as_str().unwrap().contains(&public_looking.url()), "{finding:#}");
    assert_eq!(finding["fix"], "go env -w GOPRIVATE=corp.test");

    let out = go_download(&sb, &consumer(&sb), "leak", &goproxy, &spec);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let asked = public_looking.requests();
    assert!(asked.iter().any(|p| p.starts_with(&format!("/{PRIVATE}/@v/"))), "the proxy's log: {asked:?}");

    // With the fix applied, gokeep's route sends the path to no proxy.
    let report =
        doctor_json(&sb, &[("GOPROXY", &goproxy), ("GOPRIVATE", "corp.test")], &["--module", PRIVATE, "--offline"]);
    let route = &report["routes"][0];
    assert_eq!(route["finding"], serde_json::Value::Null);
    assert_eq!(route["hops"], serde_json::json!([{"kind": "direct"}]), "{route:#}");
}

#[test]
fn probe_ranks_by_latency_and_names_refused_reset_and_stalled_proxies_within_the_timeout() {
    let sb = GoSandbox::new();
    Module::new(PUBLIC, "v1.0.0").file("p.go", "package pub\n").publish(&sb.proxy_dir());
    let fast = TestProxy::start(Behaviour::Serve(sb.proxy_dir()));
    let slow = TestProxy::start(Behaviour::Slow(Duration::from_millis(200), sb.proxy_dir()));
    let stall = TestProxy::start(Behaviour::Stall);
    let hangup = TestProxy::start(Behaviour::Hangup);
    let refused = format!("http://{}", refused_port());
    let reset_tls = format!("https://{}", hangup.addr);
    let out = sb
        .gokeep()
        .args(["probe", "--json", "--rounds", "2", "--timeout", "1", "--module", PUBLIC])
        .args([
            "--proxy",
            &slow.url(),
            "--proxy",
            &fast.url(),
            "--proxy",
            &stall.url(),
            "--proxy",
            &refused,
            "--proxy",
            &reset_tls,
        ])
        // A hang past the per-stage timeouts would be killed here and fail the exit-code check.
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v = schema::parse("probe", &out.stdout);
    let rec = &v["recommendation"];
    assert_eq!(rec["goproxy"], format!("{}|{}", fast.url(), slow.url()), "{rec:#}");
    let dropped: Vec<&str> = rec["dropped"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(dropped.len(), 3);
    let failure_of = |proxy: &str| {
        let cell = v["cells"].as_array().unwrap().iter().find(|c| c["proxy"] == proxy).unwrap();
        (cell["failure"]["stage"].as_str().unwrap().to_owned(), cell["failure"]["kind"].as_str().unwrap().to_owned())
    };
    assert_eq!(failure_of(&refused), ("connect".into(), "refused".into()));
    assert_eq!(failure_of(&stall.url()), ("response".into(), "timeout".into()));
    assert_eq!(failure_of(&reset_tls).0, "tls");
    // Every stage of a served request is timed.
    let cell = v["cells"].as_array().unwrap().iter().find(|c| c["proxy"] == fast.url()).unwrap();
    let t = &cell["rounds"][0]["timings"];
    for k in ["dns_ms", "connect_ms", "first_byte_ms", "total_ms"] {
        assert!(t[k].is_number(), "{k} in {t}");
    }
    assert_eq!(t["tls_ms"], serde_json::Value::Null);
}

/// A verifier key for a test checksum database (`note.NewVerifier` format:
/// name, key hash, base64 of algorithm byte 1 and a 32-byte Ed25519 key).
fn test_sumdb_key(name: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let mut key = vec![1u8];
    key.extend([7u8; 32]);
    let digest = sha2::Sha256::new().chain_update(name.as_bytes()).chain_update(b"\n").chain_update(&key).finalize();
    let hash = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    format!("{name}+{hash:08x}+{}", base64::engine::general_purpose::STANDARD.encode(&key))
}

fn chain_json(sb: &GoSandbox, env: &[(&str, &str)], spec: &str) -> serde_json::Value {
    let out = sb
        .gokeep()
        .envs(env.iter().copied())
        .args(["doctor", "--json", "--timeout", "2", "--chain", spec])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&out.stderr));
    schema::parse("doctor-chain", &out.stdout)
}

#[test]
fn chain_stops_at_the_first_broken_layer_for_each_injected_break() {
    let sb = GoSandbox::new();
    let module = Module::new(PUBLIC, "v1.0.0").file("p.go", "package pub\n");
    module.publish(&sb.proxy_dir());
    let spec = format!("{PUBLIC}@v1.0.0");
    // The hashes real go computes for the version.
    let dl: serde_json::Value =
        serde_json::from_slice(&go_download(&sb, &consumer(&sb), "hashes", &sb.goproxy(), &spec).stdout).unwrap();
    let (sum, mod_sum) = (dl["Sum"].as_str().unwrap().to_owned(), dl["GoModSum"].as_str().unwrap().to_owned());

    // A checksum database served from files: a good record and a wrong one.
    let good_db = sb.root().join("sumdb-good");
    let bad_db = sb.root().join("sumdb-bad");
    for (dir, h) in [(&good_db, sum.as_str()), (&bad_db, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] {
        let lookup = dir.join("lookup");
        std::fs::create_dir_all(lookup.join("example.test")).unwrap();
        let record = format!("42\n{PUBLIC} v1.0.0 {h}\n{PUBLIC} v1.0.0/go.mod {mod_sum}\n\ngo.sum database tree\n");
        std::fs::write(lookup.join("example.test/pub@v1.0.0"), record).unwrap();
    }
    let good_sumdb = TestProxy::start(Behaviour::Serve(good_db));
    let bad_sumdb = TestProxy::start(Behaviour::Serve(bad_db));
    let key = test_sumdb_key("sumdb.test");
    let serve = TestProxy::start(Behaviour::Serve(sb.proxy_dir()));
    let empty = sb.root().join("empty-proxy");
    std::fs::create_dir_all(&empty).unwrap();
    let no_module = TestProxy::start(Behaviour::Serve(empty));
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let self_signed = TestProxy::start(Behaviour::Tls {
        cert_pem: cert.cert.pem(),
        key_pem: cert.signing_key.serialize_pem(),
        dir: sb.proxy_dir(),
    });

    let good = format!("{key} {}", good_sumdb.url());
    let bad = format!("{key} {}", bad_sumdb.url());
    let refused = format!("http://{}", refused_port());
    let tls = format!("https://localhost:{}", self_signed.addr.port());
    // `x..invalid` has an empty label: the resolver rejects it without sending a query.
    let cases = [
        ("unknown host", "http://x..invalid".to_owned(), good.clone(), Some("dns")),
        ("refused port", refused, good.clone(), Some("tcp")),
        ("bad certificate", tls, good.clone(), Some("tls")),
        ("404 list", no_module.url(), good.clone(), Some("list")),
        ("wrong hash", serve.url(), bad, Some("checksum")),
        ("healthy", serve.url(), good, None),
    ];
    for (name, goproxy, gosumdb, broken) in cases {
        let v = chain_json(&sb, &[("GOPROXY", &goproxy), ("GOSUMDB", &gosumdb)], &spec);
        let chain = &v["chain"];
        assert_eq!(chain["broken"].as_str(), broken, "{name}: {chain:#}");
        let steps = chain["steps"].as_array().unwrap();
        if let Some(layer) = broken {
            let last = steps.last().unwrap();
            assert_eq!(
                (last["layer"].as_str(), last["verdict"].as_str()),
                (Some(layer), Some("broken")),
                "{name}: stops there"
            );
            assert!(last["next"].is_string(), "{name}: says what to check next");
        } else {
            let layers: Vec<&str> = steps.iter().map(|s| s["layer"].as_str().unwrap()).collect();
            assert_eq!(
                layers,
                ["env", "route", "dns", "tcp", "tls", "list", "info", "mod", "zip", "checksum"],
                "{chain:#}"
            );
            assert!(steps.last().unwrap()["detail"].as_str().unwrap().starts_with(&sum), "{chain:#}");
        }
    }
    assert!(self_signed.requests().is_empty(), "no request crosses an untrusted certificate");
}

/// Builds `tests/testdata/sumdbsrv` (x/mod's checksum-database server over
/// an in-memory signed log) from GOROOT's vendored x/mod, offline, once per
/// target directory: the build and its GOCACHE are kept in `CARGO_TARGET_TMPDIR`.
fn sumdb_server_binary() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sumdbsrv");
            let bin = base.join("sumdbsrv");
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata/sumdbsrv/main.go");
            let stamp = base.join("main.go");
            if bin.is_file() && std::fs::read(&stamp).ok() == std::fs::read(&src).ok() {
                return bin;
            }
            let goroot = String::from_utf8(std::process::Command::new("go").args(["env", "GOROOT"]).output().unwrap().stdout).unwrap();
            let xmod = base.join("xmod");
            let _ = std::fs::remove_dir_all(&xmod);
            std::fs::create_dir_all(&base).unwrap();
            let vendored = Path::new(goroot.trim()).join("src/cmd/vendor/golang.org/x/mod");
            assert!(std::process::Command::new("cp").arg("-r").arg(&vendored).arg(&xmod).status().unwrap().success());
            std::fs::write(xmod.join("go.mod"), "module golang.org/x/mod\n\ngo 1.23\n").unwrap();
            let srv = base.join("srv");
            std::fs::create_dir_all(&srv).unwrap();
            std::fs::write(srv.join("go.mod"), "module sumdbsrv\n\ngo 1.23\n\nrequire golang.org/x/mod v0.0.0\n\nreplace golang.org/x/mod => ../xmod\n").unwrap();
            std::fs::copy(&src, srv.join("main.go")).unwrap();
            let out = std::process::Command::new("go")
                .args(["build", "-o"])
                .arg(&bin)
                .arg(".")
                .current_dir(&srv)
                .env("GOPROXY", "off")
                .env("GOFLAGS", "-mod=mod")
                .env("GOWORK", "off")
                .env("GOTOOLCHAIN", "local")
                .env("GOENV", "off")
                .env("CGO_ENABLED", "0")
                .env("GOCACHE", base.join("gocache"))
                .output()
                .unwrap();
            assert!(out.status.success(), "building the test checksum database: {}", String::from_utf8_lossy(&out.stderr));
            std::fs::copy(&src, &stamp).unwrap();
            bin
        })
        .clone()
}

/// A running signed checksum database serving `lines`; killed on drop.
struct SignedSumdb {
    child: std::process::Child,
    /// `<verifier key> http://127.0.0.1:<port>`, a GOSUMDB value.
    gosumdb: String,
}

impl SignedSumdb {
    fn start(sb: &GoSandbox, name: &str, lines: &str) -> Self {
        use std::io::BufRead as _;
        let file = sb.root().join(format!("{name}.lines"));
        std::fs::write(&file, lines).unwrap();
        let mut child = std::process::Command::new(sumdb_server_binary())
            // One database name per server: go caches each database's signed tree head by name.
            .arg(format!("{name}.sumdb.test"))
            .arg(&file)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        Self { child, gosumdb: first.trim().to_owned() }
    }
}

impl Drop for SignedSumdb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn chain_and_go_agree_against_a_signed_local_checksum_database() {
    let sb = GoSandbox::new();
    Module::new(PUBLIC, "v1.0.0").file("p.go", "package pub\n").publish(&sb.proxy_dir());
    let spec = format!("{PUBLIC}@v1.0.0");
    let dl: serde_json::Value =
        serde_json::from_slice(&go_download(&sb, &consumer(&sb), "hashes", &sb.goproxy(), &spec).stdout).unwrap();
    let (sum, mod_sum) = (dl["Sum"].as_str().unwrap(), dl["GoModSum"].as_str().unwrap());
    let serve = TestProxy::start(Behaviour::Serve(sb.proxy_dir()));
    let dir = consumer(&sb);
    let wrong = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    for (name, zip_hash, healthy) in [("signed-good", sum, true), ("signed-wrong", wrong, false)] {
        let db =
            SignedSumdb::start(&sb, name, &format!("{PUBLIC} v1.0.0 {zip_hash}\n{PUBLIC} v1.0.0/go.mod {mod_sum}\n"));
        let env = [("GOPROXY", serve.url()), ("GOSUMDB", db.gosumdb.clone())];
        let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let chain = chain_json(&sb, &env_ref, &spec);
        let broken = chain["chain"]["broken"].as_str();
        assert_eq!(broken, if healthy { None } else { Some("checksum") }, "{name}: {chain:#}");

        let cache = sb.root().join(format!("modcache-{name}"));
        let cache_s = cache.display().to_string();
        let mut go_env = env_ref.clone();
        go_env.push(("GOMODCACHE", &cache_s));
        let out = sb.go_with_env(&dir, &["mod", "download", "-json", &spec], &go_env);
        GoSandbox::make_writable(&cache);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.success(), healthy, "{name}: go mod download: {text}");
        if !healthy {
            assert!(text.contains("SECURITY ERROR"), "{name}: {text}");
        }
    }
}

#[test]
fn doctor_flags_a_first_proxy_that_fails_the_checksum_database_probe() {
    let sb = GoSandbox::new();
    let forbidden = TestProxy::start(Behaviour::Status(403));
    let missing = TestProxy::start(Behaviour::Status(404));
    // 403 on /sumdb/<name>/supported before a `,`: Go treats the database as unavailable.
    let goproxy = format!("{},{},direct", forbidden.url(), missing.url());
    let report = doctor_json(
        &sb,
        &[("GOPROXY", &goproxy), ("GOSUMDB", "sum.golang.org")],
        &["--module", "none.example/x", "--timeout", "2"],
    );
    let findings = report["findings"].as_array().unwrap();
    let f = findings.iter().find(|f| f["rule"] == "sumdb-unreachable").unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(
        f["message"],
        format!(
            "{}/sumdb/sum.golang.org/supported: HTTP 403: Go treats the checksum database as unavailable",
            forbidden.url()
        )
    );
    assert_eq!(f["fix"], format!("go env -w 'GOPROXY={}|{},direct'", forbidden.url(), missing.url()));
    let mut asked = forbidden.requests();
    asked.sort();
    assert_eq!(asked, ["/none.example/x/@v/list", "/sumdb/sum.golang.org/supported"]);
    // A 404 there moves on, as Go does; reaching `direct` contacts nothing.
    let goproxy = format!("{},direct", missing.url());
    let report = doctor_json(
        &sb,
        &[("GOPROXY", &goproxy), ("GOSUMDB", "sum.golang.org")],
        &["--module", "none.example/x", "--timeout", "2"],
    );
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["rule"] != "sumdb-unreachable"), "{report:#}");
}

#[test]
fn an_explicitly_empty_goproxy_in_the_goenv_file_fails_as_go_fails() {
    let sb = GoSandbox::new();
    let file = sb.root().join("goenv");
    // Set but empty: it hides $GOROOT/go.env's GOPROXY instead of falling back to it.
    std::fs::write(&file, "GOPROXY=\n").unwrap();
    let file_s = file.display().to_string();
    let env = [("GOENV", file_s.as_str()), ("GOPROXY", "")];
    let report = doctor_json(&sb, &env, &["--module", PUBLIC, "--offline"]);
    let error = "GOPROXY list is not the empty string, but contains no entries";
    assert_eq!(report["routes"][0]["error"], "EmptyList", "{report:#}");
    let f = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "goproxy-invalid").unwrap();
    assert!(f["message"].as_str().unwrap().contains(error));
    let out = sb.go_with_env(&consumer(&sb), &["mod", "download", &format!("{PUBLIC}@v1.0.0")], &env);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(error), "{}", String::from_utf8_lossy(&out.stderr));
}
