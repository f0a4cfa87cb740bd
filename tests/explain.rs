//! `gokeep explain` on `checksum mismatch` errors the real `go` printed.

mod common;

use std::fmt::Write as _;
use std::fs;

use common::*;
use serde_json::Value;

const C: (&str, &str) = ("example.com/c", "v1.0.0");
const LIB: (&str, &str) = ("example.com/Org/Lib", "v1.1.0");

/// Runs `go build ./...` in the consumer, expecting it to fail; returns stderr.
fn failing_build(fx: &Fixture) -> String {
    let out = fx.sandbox.go(&fx.consumer, &["build", "./..."]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "go build should fail:\n{stderr}");
    assert!(stderr.contains("checksum mismatch"), "go build failed otherwise:\n{stderr}");
    stderr
}

fn explain_json(fx: &Fixture, input: &str, extra: &[&str]) -> (i32, Value) {
    let r = cmd(fx
        .sandbox
        .gokeep()
        .args(["explain", "--json", "--project"])
        .arg(&fx.consumer)
        .args(extra)
        .write_stdin(input.as_bytes().to_vec()));
    (r.code, r.json)
}

fn witness<'a>(e: &'a Value, name_prefix: &str) -> &'a Value {
    e["witnesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"].as_str().unwrap().starts_with(name_prefix))
        .unwrap_or_else(|| panic!("no witness {name_prefix}: {:#}", e["witnesses"]))
}

fn set_go_sum_hash(fx: &Fixture, module: &str, version_field: &str, new_hash: &str) -> String {
    let p = fx.consumer.join("go.sum");
    let sum = fs::read_to_string(&p).unwrap();
    let prefix = format!("{module} {version_field} ");
    let line =
        sum.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {prefix} in {sum}")).to_owned();
    fs::write(&p, sum.replace(&line, &format!("{prefix}{new_hash}"))).unwrap();
    line.rsplit(' ').next().unwrap().to_owned()
}

/// Offline, an edited go.sum line and a self-consistent tampered cache copy
/// look the same: nothing independent says which is right. The module
/// proxy (file:// here) does.
#[test]
fn edited_go_sum_line_is_blamed_on_go_sum_only_with_an_independent_witness() {
    let fx = Fixture::standard();
    let wrong = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let right = set_go_sum_hash(&fx, C.0, C.1, wrong);
    let stderr = failing_build(&fx);
    assert!(stderr.contains(&format!("verifying {}@{}: checksum mismatch", C.0, C.1)), "{stderr}");

    let (code, v) = explain_json(&fx, &stderr, &[]);
    assert_eq!(code, 1);
    let e = &v["explanations"][0];
    assert_eq!(e["mismatch"]["module"], C.0);
    assert_eq!(e["mismatch"]["version"], C.1);
    assert_eq!(e["mismatch"]["go_mod"], false);
    assert_eq!(e["mismatch"]["against"]["label"], "go.sum");
    assert_eq!(e["mismatch"]["downloaded"], right.as_str());
    assert_eq!(e["mismatch"]["recorded"], wrong);
    assert_eq!(e["verdict"], "undetermined", "{e:#}");
    let (_, v) = explain_json(&fx, &stderr, &["--online"]);
    let e = &v["explanations"][0];
    assert_eq!(e["verdict"], "go_sum_wrong", "{e:#}");
    assert_eq!(witness(e, "module proxy")["agrees_with_downloaded"], true);
    let gs = witness(e, "go.sum");
    assert_eq!(gs["agrees_with_recorded"], true);
    assert_eq!(gs["path"], fx.consumer.join("go.sum").to_str().unwrap());
    for w in ["cached .ziphash", "cached zip", "extracted tree"] {
        assert_eq!(witness(e, w)["agrees_with_downloaded"], true, "{w}");
    }
    assert_eq!(e["fix_removes_cache_copy"], false);

    // The text names the verdict and never offers to accept the new hash.
    let text = fx
        .sandbox
        .gokeep()
        .args(["explain", "--online", "--project"])
        .arg(&fx.consumer)
        .write_stdin(stderr.into_bytes())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Verdict: go.sum is wrong or was edited"), "{text}");
    assert!(!text.contains(&format!("{} {} {right}", C.0, C.1)), "must not print a replacement go.sum line:\n{text}");
}

#[test]
fn edited_go_mod_line_is_decoded_as_the_go_mod_variant() {
    let fx = Fixture::standard();
    let wrong = "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=";
    let right = set_go_sum_hash(&fx, LIB.0, &format!("{}/go.mod", LIB.1), wrong);
    let stderr = failing_build(&fx);
    assert!(stderr.contains(&format!("verifying {}@{}/go.mod: checksum mismatch", LIB.0, LIB.1)), "{stderr}");
    let (_, v) = explain_json(&fx, &stderr, &[]);
    let e = &v["explanations"][0];
    assert_eq!(e["mismatch"]["module"], LIB.0);
    assert_eq!(e["mismatch"]["go_mod"], true);
    assert_eq!(e["mismatch"]["downloaded"], right.as_str());
    assert_eq!(witness(e, "cached .mod")["agrees_with_downloaded"], true);
    assert_eq!(witness(e, "go.sum")["agrees_with_recorded"], true);
    assert_eq!(e["verdict"], "undetermined");
    let (_, v) = explain_json(&fx, &stderr, &["--online"]);
    assert_eq!(v["explanations"][0]["verdict"], "go_sum_wrong");
}

#[test]
fn tampered_cache_zip_is_blamed_on_the_cache_and_fixed() {
    let fx = Fixture::standard();
    // Bits nobody published: a well-formed zip with an extra file, no
    // .ziphash and no tree, so go re-hashes it against go.sum.
    let evil = fx.module(C.0, C.1).clone().file("evil.go", "package c\n\nvar Evil = 1\n");
    let zip = fx.download_file(C.0, C.1, "zip");
    fs::write(&zip, evil.zip_bytes()).unwrap();
    // Corruption found later, not a zip go wrote a second ago (the executor
    // leaves a fresh zip without a tree alone: that is go between download
    // and extraction).
    let hour_ago = filetime::FileTime::from_unix_time(filetime::FileTime::now().unix_seconds() - 3600, 0);
    filetime::set_file_mtime(&zip, hour_ago).unwrap();
    fs::remove_file(fx.download_file(C.0, C.1, "ziphash")).unwrap();
    let dir = fx.extracted_dir(C.0, C.1);
    GoSandbox::make_writable(&dir);
    fs::remove_dir_all(&dir).unwrap();
    let stderr = failing_build(&fx);

    // Offline, the cache holds one consistent copy: go.sum looks like the odd one out...
    let (_, v) = explain_json(&fx, &stderr, &[]);
    assert_eq!(v["explanations"][0]["confidence"], "likely");
    // ...the proxy (file:// here) settles it.
    let (_, v) = explain_json(&fx, &stderr, &["--online"]);
    let e = &v["explanations"][0];
    assert_eq!(e["verdict"], "cache_corrupted", "{e:#}");
    assert_eq!(e["confidence"], "confirmed");
    assert_eq!(witness(e, "module proxy")["agrees_with_recorded"], true);
    assert_eq!(witness(e, "cached zip")["agrees_with_downloaded"], true);
    assert_eq!(e["fix_removes_cache_copy"], true);

    let (_, v) = explain_json(&fx, &stderr, &["--online", "--fix", "--yes", "--redownload"]);
    assert_eq!(v["fix"]["applied"], true, "{:#}", v["fix"]);
    assert_eq!(v["fix"]["removal"]["skipped"], serde_json::json!([]), "{:#}", v["fix"]);
    assert_eq!(v["fix"]["redownloaded"], serde_json::json!(["example.com/c@v1.0.0"]));
    fx.consumer_go_build_ok();
    let out = fx.consumer_go_mod_verify();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn input_without_a_mismatch_is_a_usage_error() {
    let fx = Fixture::standard();
    fx.sandbox
        .gokeep()
        .args(["explain", "go: all good"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no \"checksum mismatch\""));
}

/// The generator behind [`static_sumdb`].
const SUMDB_GEN: &str = r#"package main

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func write(path string, data []byte) {
	check(os.MkdirAll(filepath.Dir(path), 0o777))
	check(os.WriteFile(path, data, 0o666))
}

// usage: gen <out dir> <db name> < records (path version zip-h1 gomod-h1 per line)
func main() {
	out, name := os.Args[1], os.Args[2]
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	check(err)
	var hashes []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		var list []tlog.Hash
		for _, i := range idx {
			list = append(list, hashes[i])
		}
		return list, nil
	})
	type rec struct {
		path, vers string
		data       []byte
	}
	var recs []rec
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 {
			continue
		}
		data := []byte(fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", f[0], f[1], f[2], f[0], f[1], f[3]))
		hs, err := tlog.StoredHashesForRecordHash(int64(len(recs)), tlog.RecordHash(data), reader)
		check(err)
		hashes = append(hashes, hs...)
		recs = append(recs, rec{f[0], f[1], data})
	}
	n := int64(len(recs))
	th, err := tlog.TreeHash(n, reader)
	check(err)
	signer, err := note.NewSigner(skey)
	check(err)
	signed, err := note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: n, Hash: th}))}, signer)
	check(err)
	write(filepath.Join(out, "latest"), signed)
	for id, r := range recs {
		msg, err := tlog.FormatRecord(int64(id), r.data)
		check(err)
		p, err := module.EscapePath(r.path)
		check(err)
		v, err := module.EscapeVersion(r.vers)
		check(err)
		write(filepath.Join(out, "lookup", p+"@"+v), append(msg, signed...))
	}
	for _, t := range tlog.NewTiles(8, 0, n) {
		data, err := tlog.ReadTileData(t, reader)
		check(err)
		write(filepath.Join(out, filepath.FromSlash(t.Path())), data)
	}
	fmt.Print(vkey)
}
"#;

/// A static checksum database, signed with a fresh key, that cmd/go reads
/// through a `file://` URL (`GOSUMDB="<key> file://<dir>"`): `lookup/`,
/// `latest` and the hash tiles, written by a small Go program built against
/// the golang.org/x/mod copy vendored in GOROOT (no network). Returns the
/// GOSUMDB value.
fn static_sumdb(fx: &Fixture, name: &str, records: &[(&str, &str, &str, &str)]) -> String {
    let root = fx.sandbox.root();
    let goroot = fx.sandbox.go_ok(root, &["env", "GOROOT"]);
    let xmod_src = std::path::Path::new(goroot.trim()).join("src/cmd/vendor/golang.org/x/mod");
    let xmod = root.join("xmod");
    let cp = std::process::Command::new("cp").arg("-r").arg(&xmod_src).arg(&xmod).status().unwrap();
    assert!(cp.success(), "copying {}", xmod_src.display());
    fs::write(xmod.join("go.mod"), "module golang.org/x/mod\n\ngo 1.22\n").unwrap();
    let gen_dir = root.join("sumdbgen");
    fs::create_dir_all(&gen_dir).unwrap();
    fs::write(
        gen_dir.join("go.mod"),
        "module sumdbgen\n\ngo 1.22\n\nrequire golang.org/x/mod v0.0.0\n\nreplace golang.org/x/mod => ../xmod\n",
    )
    .unwrap();
    fs::write(gen_dir.join("main.go"), SUMDB_GEN).unwrap();
    fx.sandbox.go_ok(&gen_dir, &["build", "-o", "gen", "."]);
    let out_dir = root.join("sumdb");
    let mut input = String::new();
    for (path, version, zip_h1, mod_h1) in records {
        let _ = writeln!(input, "{path} {version} {zip_h1} {mod_h1}");
    }
    let mut child = std::process::Command::new(gen_dir.join("gen"))
        .arg(&out_dir)
        .arg(name)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    format!("{} file://{}", String::from_utf8(out.stdout).unwrap(), out_dir.display())
}

/// go.sum's hashes for a version: (zip line, go.mod line).
fn go_sum_hashes(fx: &Fixture, m: (&str, &str)) -> (String, String) {
    let sum = fs::read_to_string(fx.consumer.join("go.sum")).unwrap();
    let get = |v: String| {
        sum.lines()
            .find_map(|l| l.strip_prefix(&format!("{} {v} ", m.0)).map(str::to_owned))
            .unwrap_or_else(|| panic!("no {} {v} in go.sum", m.0))
    };
    (get(m.1.to_owned()), get(format!("{}/go.mod", m.1)))
}

fn drop_go_sum_zip_line(fx: &Fixture, m: (&str, &str)) {
    let p = fx.consumer.join("go.sum");
    let sum = fs::read_to_string(&p).unwrap();
    let prefix = format!("{} {} ", m.0, m.1);
    let kept: String = sum.split_inclusive('\n').filter(|l| !l.starts_with(&prefix)).collect();
    fs::write(p, kept).unwrap();
}

/// One test for both uses of the checksum database, so the Go generator
/// (a `main` package) is built once.
#[test]
fn checksum_database_mismatch_is_decoded_and_its_cached_record_is_a_witness() {
    let fx = Fixture::standard();
    let (zip_h1, mod_h1) = go_sum_hashes(&fx, C);
    let (_, lib_mod_h1) = go_sum_hashes(&fx, LIB);
    // The database recorded other bits for example.com/c v1.0.0 (as if the
    // tag moved since), and a made-up hash for example.com/Org/Lib v1.1.0.
    let moved = fx.module(C.0, C.1).clone().file("before.go", "package c\n");
    let scratch = tempfile::tempdir().unwrap();
    let old_zip = scratch.path().join("old.zip");
    fs::write(&old_zip, moved.zip_bytes()).unwrap();
    // gokeep's HashZip is pinned to go's by the verify tests (every .ziphash go wrote).
    let old_h1 = gokeep::verify::dirhash::hash_zip(&old_zip, None).unwrap().tree.h1.unwrap();
    assert_ne!(old_h1, zip_h1);
    let lib_other = "h1:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=";
    let gosumdb =
        static_sumdb(&fx, "sum.test.example", &[(C.0, C.1, &old_h1, &mod_h1), (LIB.0, LIB.1, lib_other, &lib_mod_h1)]);

    // 1. The sumdb variant of the error. go.sum lacks the line and the cache
    //    lacks the module: go downloads it and asks the database.
    drop_go_sum_zip_line(&fx, C);
    for suffix in ["zip", "ziphash"] {
        fs::remove_file(fx.download_file(C.0, C.1, suffix)).unwrap();
    }
    let dir = fx.extracted_dir(C.0, C.1);
    GoSandbox::make_writable(&dir);
    fs::remove_dir_all(&dir).unwrap();
    let out = fx.sandbox.go_with_env(&fx.consumer, &["build", "./..."], &[("GOSUMDB", &gosumdb)]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{}@{}: verifying module: checksum mismatch", C.0, C.1))
            && stderr.contains("sum.test.example: ")
            && stderr.contains("does NOT match the one reported by the checksum server"),
        "{stderr}"
    );
    let (code, v) = explain_json(&fx, &stderr, &["--online"]);
    assert_eq!(code, 1);
    let e = &v["explanations"][0];
    assert_eq!(e["mismatch"]["against"]["db"], "sum.test.example");
    assert_eq!(e["mismatch"]["downloaded"], zip_h1.as_str());
    assert_eq!(e["mismatch"]["recorded"], old_h1.as_str());
    // go cached the verified lookup: that record is the database's witness.
    assert_eq!(witness(e, "checksum database sum.test.example (cached record)")["agrees_with_recorded"], true);
    assert_eq!(witness(e, "module proxy")["agrees_with_downloaded"], true);
    assert_eq!(e["verdict"], "upstream_changed");
    assert_eq!(e["confidence"], "confirmed");
    assert_eq!(e["fix_removes_cache_copy"], false);
    same_verdict_however_pasted(&fx, &stderr, &[("checksum mismatch", "upstream_changed")]);

    // 2. verify's third witness: go checks the cached copy of Org/Lib
    //    against the database (go.sum lacks its line), refuses it, and
    //    leaves the database's record in the cache.
    drop_go_sum_zip_line(&fx, LIB);
    let id = format!("{}@{}", LIB.0, LIB.1);
    let out = fx.sandbox.go_with_env(&fx.consumer, &["mod", "download", &id], &[("GOSUMDB", &gosumdb)]);
    assert!(!out.status.success(), "go accepted bits the database does not know");
    let out = fx.sandbox.gokeep().args(["verify", "--json", "--no-project"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = parse_json("gokeep verify --json --no-project", &out.stdout);
    assert_eq!(v["modcache"]["sumdb_records"], 2);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "sumdb_mismatch")
        .unwrap_or_else(|| panic!("{:#}", v["findings"]));
    assert_eq!(f["module"], LIB.0);
    assert_eq!(f["expected"], lib_other);
    assert_eq!(f["actual"], fs::read_to_string(fx.download_file(LIB.0, LIB.1, "ziphash")).unwrap().as_str());
}

// ---- go's own errors, decorated every way people paste them ----

/// The ways pasted text differs from what go printed.
fn decorated(text: &str) -> Vec<(&'static str, String)> {
    let each = |before: &str, after: &str| {
        text.lines().fold(String::new(), |mut s, l| {
            s.push_str(before);
            s.push_str(l);
            s.push_str(after);
            s
        })
    };
    vec![
        ("raw", text.to_owned()),
        ("buildkit step", each("#17 0.367 ", "\n")),
        ("elapsed time", each("4.710 ", "\n")),
        ("timestamp", each("2025-05-06T10:00:00.1234567Z ", "\n")),
        ("markdown quote", each("> ", "\n")),
        ("literal escapes", text.replace('\t', "\\t").replace('\n', "\\n")),
        ("ansi", each("\u{1b}[31m", "\u{1b}[0m\n")),
        ("github annotation", each("##[error]", "\n")),
        ("collapsed", text.split_whitespace().collect::<Vec<_>>().join(" ")),
        ("buildkit collapsed", each("#13 24.99 ", " ")),
    ]
}

/// The verdict of every decoded error in `text`, in order.
fn verdicts(fx: &Fixture, text: &str) -> Vec<(String, String, String)> {
    let (code, v) = explain_json(fx, text, &[]);
    assert_eq!(code, 1, "{v:#}");
    let mut out = Vec::new();
    for e in v["explanations"].as_array().unwrap() {
        let m = &e["mismatch"];
        out.push((format!("{}@{}", m["module"], m["version"]), "checksum mismatch".into(), e["verdict"].to_string()));
    }
    for e in v["errors"].as_array().unwrap() {
        let g = &e["error"];
        out.push((format!("{}@{}", g["module"], g["version"]), g["kind"].to_string(), e["verdict"].to_string()));
    }
    out
}

/// Every decoration of `text` gives the verdicts the raw text gives, and
/// those are `want` (one per error).
fn same_verdict_however_pasted(fx: &Fixture, text: &str, want: &[(&str, &str)]) {
    let raw = verdicts(fx, text);
    let got: Vec<(String, String)> =
        raw.iter().map(|(_, k, v)| (k.trim_matches('"').to_owned(), v.trim_matches('"').to_owned())).collect();
    let want: Vec<(String, String)> = want.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    assert_eq!(got, want, "{text}");
    for (style, t) in decorated(text) {
        assert_eq!(verdicts(fx, &t), raw, "{style}:\n{t}");
    }
}

fn stored_zip(files: &[(String, Vec<u8>)], prefix: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    for (name, data) in files {
        zw.start_file(format!("{prefix}/{name}"), opts).unwrap();
        zw.write_all(data).unwrap();
    }
    zw.finish().unwrap().into_inner()
}

fn remove_tree(fx: &Fixture, m: (&str, &str)) {
    let dir = fx.extracted_dir(m.0, m.1);
    GoSandbox::make_writable(&dir);
    fs::remove_dir_all(&dir).unwrap();
}

fn go_stderr(fx: &Fixture, args: &[&str]) -> String {
    let out = fx.sandbox.go(&fx.consumer, args);
    assert!(!out.status.success(), "go {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A module zip whose entries are stored, not deflated: a flipped data byte
/// then fails the entry's CRC rather than the inflater.
fn zip_with_a_flipped_byte(m: &Module) -> Vec<u8> {
    let files = m.zip_files();
    let mut z = stored_zip(&files, &format!("{}@{}", m.path, m.version));
    let needle = &files[0].1;
    let at = z.windows(needle.len()).position(|w| w == needle.as_slice()).unwrap();
    z[at] ^= 0x20;
    z
}

#[test]
fn a_zip_failing_its_crc_is_the_cache_however_the_error_is_pasted() {
    let fx = Fixture::standard();
    let m = fx.module(C.0, C.1).clone();
    fs::write(fx.download_file(C.0, C.1, "zip"), zip_with_a_flipped_byte(&m)).unwrap();
    remove_tree(&fx, C);
    let stderr = go_stderr(&fx, &["build", "./..."]);
    assert!(stderr.contains("zip: checksum error"), "{stderr}");
    same_verdict_however_pasted(&fx, &stderr, &[("zip_checksum_error", "cache_corrupted")]);
    // go's first line starts with `->`: as an argument too.
    let first = stderr.lines().next().unwrap();
    assert!(first.starts_with("->"), "{first}");
    let out = fx.sandbox.gokeep().args(["explain", "--json", first]).output().unwrap();
    let v = parse_json("gokeep explain --json <first line>", &out.stdout);
    assert_eq!(v["errors"][0]["verdict"], "cache_corrupted", "{v:#}");
    assert_eq!(v["errors"][0]["error"]["module"], C.0);
}

#[test]
fn a_truncated_zip_is_the_cache_however_the_error_is_pasted() {
    let fx = Fixture::standard();
    let zip = fx.download_file(C.0, C.1, "zip");
    let bytes = fs::read(&zip).unwrap();
    fs::write(&zip, &bytes[..bytes.len() / 2]).unwrap();
    remove_tree(&fx, C);
    let stderr = go_stderr(&fx, &["build", "./..."]);
    assert!(stderr.contains("zip: not a valid zip file"), "{stderr}");
    same_verdict_however_pasted(&fx, &stderr, &[("not_a_valid_zip", "cache_corrupted")]);
}

#[test]
fn a_ziphash_that_is_not_a_hash_is_the_cache_however_the_error_is_pasted() {
    let fx = Fixture::standard();
    remove_tree(&fx, LIB);
    fs::write(fx.download_file(LIB.0, LIB.1, "ziphash"), "h2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
    let stderr = go_stderr(&fx, &["build", "./..."]);
    assert!(stderr.contains("unexpected ziphash"), "{stderr}");
    same_verdict_however_pasted(&fx, &stderr, &[("unexpected_ziphash", "cache_corrupted")]);
}

#[test]
fn a_wrong_ziphash_is_the_cache_however_the_error_is_pasted() {
    let fx = Fixture::standard();
    remove_tree(&fx, LIB);
    fs::write(fx.download_file(LIB.0, LIB.1, "ziphash"), "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
    let stderr = go_stderr(&fx, &["build", "./..."]);
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    same_verdict_however_pasted(&fx, &stderr, &[("checksum mismatch", "cache_corrupted")]);
}

#[test]
fn an_edited_tree_is_the_cache_however_go_mod_verify_is_pasted() {
    let fx = Fixture::standard();
    let dir = fx.extracted_dir(LIB.0, LIB.1);
    GoSandbox::make_writable(&dir);
    fs::write(dir.join("extra.go"), "package lib\n").unwrap();
    let out = fx.sandbox.go(&fx.consumer, &["mod", "verify"]);
    assert!(!out.status.success());
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("dir has been modified"), "{text}");
    same_verdict_however_pasted(&fx, &text, &[("dir_modified", "cache_corrupted")]);
}

#[test]
fn a_wrong_go_sum_line_is_undetermined_offline_however_pasted() {
    let fx = Fixture::standard();
    set_go_sum_hash(&fx, C.0, C.1, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let stderr = failing_build(&fx);
    same_verdict_however_pasted(&fx, &stderr, &[("checksum mismatch", "undetermined")]);
}

// ---- only what is true now, on this machine ----

/// Every file of the cache's copy of `m`, with its bytes: what a removal would change.
fn cache_copy(fx: &Fixture, m: (&str, &str)) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for suffix in ["zip", "ziphash", "mod", "info"] {
        let p = fx.download_file(m.0, m.1, suffix);
        out.push((p.clone(), fs::read(&p).unwrap_or_default()));
    }
    for e in walkdir::WalkDir::new(fx.extracted_dir(m.0, m.1)).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            out.push((e.path().to_owned(), fs::read(e.path()).unwrap()));
        }
    }
    out
}

#[test]
fn an_error_from_another_machine_removes_nothing() {
    let fx = Fixture::standard();
    // The error as another machine (or this one, before a repair) printed it:
    // its `downloaded:` hash is in no file here now.
    let ziphash = fx.download_file(LIB.0, LIB.1, "ziphash");
    let right = fs::read_to_string(&ziphash).unwrap();
    remove_tree(&fx, LIB);
    fs::write(&ziphash, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
    let stderr = go_stderr(&fx, &["build", "./..."]);
    fs::write(&ziphash, &right).unwrap();
    fx.consumer_go_build_ok();
    let before = cache_copy(&fx, LIB);

    let (_, v) = explain_json(&fx, &stderr, &[]);
    let e = &v["explanations"][0];
    assert_eq!(e["verdict"], "not_from_this_cache", "{e:#}");
    assert_eq!(e["fix_removes_cache_copy"], false);
    for w in ["cached .ziphash", "cached zip", "extracted tree", "go.sum"] {
        assert_eq!(witness(e, w)["hash"], right.as_str(), "{w} says what it says now");
    }
    let (_, v) = explain_json(&fx, &stderr, &["--fix", "--yes"]);
    assert_eq!(v["fix"]["plan"]["items"], serde_json::json!([]), "{:#}", v["fix"]);
    assert_eq!(cache_copy(&fx, LIB), before, "a foreign error must not cost a good copy");
    fx.consumer_go_build_ok();
}

#[test]
fn a_stale_error_after_go_sum_was_restored_removes_nothing() {
    let fx = Fixture::standard();
    let right = set_go_sum_hash(&fx, C.0, C.1, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let stderr = failing_build(&fx);
    set_go_sum_hash(&fx, C.0, C.1, &right);
    let before = cache_copy(&fx, C);
    let (_, v) = explain_json(&fx, &stderr, &["--fix", "--yes"]);
    let e = &v["explanations"][0];
    assert_eq!(e["verdict"], "not_from_this_cache", "{e:#}");
    assert!(e["summary"].as_str().unwrap().contains("go.sum no longer records"), "{e:#}");
    assert_eq!(witness(e, "go.sum")["agrees_with_downloaded"], true, "the witness table and the verdict agree");
    assert_eq!(v["fix"]["plan"]["items"], serde_json::json!([]));
    assert_eq!(cache_copy(&fx, C), before);
}

#[test]
fn a_self_consistent_tampered_private_module_is_undetermined_and_go_sum_is_kept() {
    let fx = Fixture::standard();
    let sum_path = fx.consumer.join("go.sum");
    // A rewritten zip with a matching .ziphash, no tree, no checksum
    // database record, the module private (GONOSUMDB).
    let evil = fx.module(C.0, C.1).clone().file("evil.go", "package c\n\nvar Evil = 1\n");
    let zip = fx.download_file(C.0, C.1, "zip");
    fs::write(&zip, evil.zip_bytes()).unwrap();
    let evil_h1 = gokeep::verify::dirhash::hash_zip(&zip, None).unwrap().tree.h1.unwrap();
    fs::write(fx.download_file(C.0, C.1, "ziphash"), &evil_h1).unwrap();
    remove_tree(&fx, C);
    let go_sum_before = fs::read_to_string(&sum_path).unwrap();
    let stderr = failing_build(&fx);
    assert!(stderr.contains(&evil_h1), "{stderr}");

    let private = |cmd: &mut assert_cmd::Command| {
        cmd.env("GONOSUMDB", C.0).env("GOPRIVATE", C.0);
    };
    let mut cmd = fx.sandbox.gokeep();
    private(&mut cmd);
    let out = cmd
        .args(["explain", "--json", "--fix", "--yes", "--update-go-sum", "--project"])
        .arg(&fx.consumer)
        .write_stdin(stderr.clone().into_bytes())
        .output()
        .unwrap();
    let v = parse_json("gokeep explain --json --fix --yes --update-go-sum", &out.stdout);
    let e = &v["explanations"][0];
    assert_eq!(e["verdict"], "undetermined", "{e:#}");
    assert!(e["advice"].as_str().unwrap().contains("go mod download -json example.com/c@v1.0.0"), "{e:#}");
    assert_eq!(v["fix"]["go_sum_updated"], serde_json::json!([]));
    assert!(v["fix"]["go_sum_refused"][0]["reason"].as_str().unwrap().contains("not proven wrong"), "{:#}", v["fix"]);
    assert_eq!(fs::read_to_string(&sum_path).unwrap(), go_sum_before);

    let mut cmd = fx.sandbox.gokeep();
    private(&mut cmd);
    let out = cmd
        .args(["verify", "--json", "--fix", "--yes", "--update-go-sum", C.0])
        .current_dir(&fx.consumer)
        .output()
        .unwrap();
    let v = parse_json("gokeep verify --json --fix --yes --update-go-sum", &out.stdout);
    assert_eq!(v["fix"]["go_sum_updated"], serde_json::json!([]), "{:#}", v["fix"]);
    assert_eq!(fs::read_to_string(&sum_path).unwrap(), go_sum_before, "the correct go.sum line stays");
    // go still refuses the tampered bits.
    failing_build(&fx);
}

#[test]
fn module_paths_from_the_paste_are_checked_before_any_file_is_read() {
    let fx = Fixture::standard();
    let victim = fx.modcache().join("../victim@v1.0.0");
    fs::create_dir_all(&victim).unwrap();
    fs::write(victim.join("go.mod"), "module victim\n").unwrap();
    let text = "verifying ../victim@v1.0.0: checksum mismatch\n\tdownloaded: h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\tgo.sum:     h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n";
    let out = fx
        .sandbox
        .gokeep()
        .args(["explain", "--fix", "--yes", "--project"])
        .arg(&fx.consumer)
        .write_stdin(text)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("malformed module path \"../victim\""), "{stderr}");
    assert!(!stdout.contains("victim@v1.0.0 ") && !stdout.contains("Witnesses"), "{stdout}");
    assert!(victim.join("go.mod").exists());
}

// ---- input ----

const NO_HASHES: &str = "go: verifying example.com/c@v1.0.0: checksum mismatch";

#[test]
fn input_comes_from_any_bytes_a_file_stdin_or_an_argument() {
    let fx = Fixture::standard();
    set_go_sum_hash(&fx, C.0, C.1, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let stderr = failing_build(&fx);
    let module_of = |out: std::process::Output| -> String {
        eprintln!("--- stderr\n{}", String::from_utf8_lossy(&out.stderr));
        let v = parse_json("gokeep explain --json", &out.stdout);
        v["explanations"][0]["mismatch"]["module"].as_str().unwrap().to_owned()
    };
    // A line that is not UTF-8 before go's error.
    let mut bytes = b"go: downloading caf\xe9.example/x v1.0.0\n".to_vec();
    bytes.extend_from_slice(stderr.as_bytes());
    let run = |args: &[&str], stdin: Vec<u8>| {
        fx.sandbox
            .gokeep()
            .args(["explain", "--json"])
            .args(args)
            .current_dir(&fx.consumer)
            .write_stdin(stdin)
            .output()
            .unwrap()
    };
    assert_eq!(module_of(run(&[], bytes.clone())), C.0);
    assert_eq!(module_of(run(&["-"], bytes.clone())), C.0);
    let log = fx.sandbox.root().join("build.log");
    fs::write(&log, &bytes).unwrap();
    assert_eq!(module_of(run(&[log.to_str().unwrap()], Vec::new())), C.0);
    // Flags after the text are still flags.
    let out = fx.sandbox.gokeep().arg("explain").arg(&log).arg("--json").current_dir(&fx.consumer).output().unwrap();
    assert_eq!(module_of(out), C.0);
    assert_eq!(module_of(run(&["--", &stderr], Vec::new())), C.0);
    // Unquoted words, as a shell splits them.
    let words: Vec<&str> = stderr.split_whitespace().collect();
    let mut args = vec!["--"];
    args.extend(words);
    assert_eq!(module_of(run(&args, Vec::new())), C.0);
}

#[test]
fn a_mismatch_without_hashes_says_what_is_missing() {
    let fx = Fixture::standard();
    let out = fx.sandbox.gokeep().args(["explain", "--", NO_HASHES]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing the `downloaded: h1:…` line"), "{stderr}");
    assert!(!stderr.contains("no \"checksum mismatch\""), "{stderr}");
}

#[test]
fn on_a_terminal_explain_says_how_to_end_the_paste() {
    let fx = Fixture::standard();
    // `script` gives gokeep a terminal; the ^D it is fed ends the paste.
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-c"])
        .arg(format!("{} explain", gokeep_bin().display()))
        .arg("/dev/null")
        .envs(fx.sandbox.go_env())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            std::io::Write::write_all(&mut c.stdin.take().unwrap(), b"\x04")?;
            c.wait_with_output()
        })
        .expect("script(1) from util-linux runs gokeep on a terminal");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Paste go's output, then press Ctrl-D"), "{text}");
    assert_eq!(out.status.code(), Some(2), "{text}");
}

/// `--update-go-sum` writes the hash the checksum database's record gives
/// (which the cache agrees with), so the project builds right after, with
/// no `missing go.sum entry` and no download.
#[test]
fn update_go_sum_restores_the_line_from_the_database_and_the_project_builds() {
    let fx = Fixture::standard();
    let (zip_h1, mod_h1) = go_sum_hashes(&fx, C);
    let gosumdb = static_sumdb(&fx, "sum.test.example", &[(C.0, C.1, &zip_h1, &mod_h1)]);
    // Let go fetch the version again and check it with the database, which
    // leaves the verified record in the cache.
    drop_go_sum_zip_line(&fx, C);
    for suffix in ["zip", "ziphash"] {
        fs::remove_file(fx.download_file(C.0, C.1, suffix)).unwrap();
    }
    remove_tree(&fx, C);
    let id = format!("{}@{}", C.0, C.1);
    let out = fx.sandbox.go_with_env(&fx.consumer, &["mod", "download", &id], &[("GOSUMDB", &gosumdb)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(go_sum_hashes(&fx, C).0, zip_h1, "go recorded the line again");
    let sum_path = fx.consumer.join("go.sum");
    let right_line = format!("{} {} {zip_h1}", C.0, C.1);

    // explain: the database's cached record is the independent witness.
    let wrong = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    set_go_sum_hash(&fx, C.0, C.1, wrong);
    let stderr = failing_build(&fx);
    let (_, v) = explain_json(&fx, &stderr, &["--fix", "--yes", "--update-go-sum"]);
    let e = &v["explanations"][0];
    assert_eq!(e["verdict"], "go_sum_wrong", "{e:#}");
    assert_eq!(e["confidence"], "confirmed");
    assert_eq!(witness(e, "checksum database sum.test.example (cached record)")["agrees_with_downloaded"], true);
    assert_eq!(v["fix"]["go_sum_updated"][0]["to"], zip_h1.as_str(), "{:#}", v["fix"]);
    assert_eq!(v["fix"]["plan"]["items"], serde_json::json!([]), "the cache is not touched");
    assert!(fs::read_to_string(&sum_path).unwrap().contains(&right_line));
    fx.consumer_go_build_ok();

    // verify: the same rule, and a wrong line beside the right one is dropped.
    let mut sum = fs::read_to_string(&sum_path).unwrap();
    let _ = writeln!(sum, "{} {} {wrong}", C.0, C.1);
    fs::write(&sum_path, &sum).unwrap();
    let out = fx
        .sandbox
        .gokeep()
        .args(["verify", "--json", "--fix", "--yes", "--update-go-sum", C.0])
        .current_dir(&fx.consumer)
        .output()
        .unwrap();
    let v = parse_json("gokeep verify --json --fix --yes --update-go-sum", &out.stdout);
    assert_eq!(v["fix"]["go_sum_updated"][0]["from"], wrong, "{:#}", v["fix"]);
    let now = fs::read_to_string(&sum_path).unwrap();
    assert!(!now.contains(wrong) && now.matches(&right_line).count() == 1, "{now}");
    fx.consumer_go_build_ok();

    // Issue 12 item 7: a go.sum that cannot be written is said to be that, once.
    set_go_sum_hash(&fx, C.0, C.1, wrong);
    let stderr = failing_build(&fx);
    let before = fs::read(&sum_path).unwrap();
    let chattr = |flag: &str| {
        let ok = std::process::Command::new("chattr").arg(flag).arg(&sum_path).status().unwrap().success();
        assert!(ok, "chattr {flag} {}", sum_path.display());
    };
    chattr("+i");
    let out = fx
        .sandbox
        .gokeep()
        .args(["explain", "--fix", "--yes", "--update-go-sum", "--project"])
        .arg(&fx.consumer)
        .write_stdin(stderr.into_bytes())
        .output()
        .unwrap();
    chattr("-i");
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| l.starts_with("gokeep: error:")).unwrap_or_else(|| panic!("no error line:\n{err}"));
    assert_eq!(out.status.code(), Some(3), "an unwritable go.sum is the environment's failure: {err}");
    assert!(line.contains(&format!("cannot write {}", sum_path.display())), "{line}");
    assert_eq!(line.matches(sum_path.to_str().unwrap()).count(), 1, "the file is named once: {line}");
    assert!(!line.contains("cannot read"), "{line}");
    assert_eq!(fs::read(&sum_path).unwrap(), before, "go.sum is unchanged");
    let leftovers: Vec<_> = fs::read_dir(&fx.consumer)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temp file is left beside go.sum: {leftovers:?}");
}

// ---- the words people read ----

fn explain_text(fx: &Fixture, input: &str, extra: &[&str]) -> String {
    let out = fx
        .sandbox
        .gokeep()
        .args(["explain", "--project"])
        .arg(&fx.consumer)
        .args(extra)
        .write_stdin(input.as_bytes().to_vec())
        .output()
        .unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn assert_text(fx: &Fixture, name: &str, text: &str) {
    text_settings(&fx.sandbox).bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn the_text_verdicts_name_what_was_read_and_what_to_do() {
    let fx = Fixture::standard();
    // Foreign: a downloaded hash no file here holds.
    let ziphash = fx.download_file(LIB.0, LIB.1, "ziphash");
    let right = fs::read_to_string(&ziphash).unwrap();
    remove_tree(&fx, LIB);
    fs::write(&ziphash, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
    let foreign = go_stderr(&fx, &["build", "./..."]);
    fs::write(&ziphash, &right).unwrap();
    fx.consumer_go_build_ok();
    assert_text(&fx, "explain_text_not_from_this_cache", &explain_text(&fx, &foreign, &[]));

    // Undetermined: go.sum and a consistent cache copy disagree, nothing independent.
    set_go_sum_hash(&fx, C.0, C.1, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let edited = failing_build(&fx);
    assert_text(&fx, "explain_text_undetermined", &explain_text(&fx, &edited, &[]));

    // A cache problem that is not a checksum mismatch.
    let zip = fx.download_file(C.0, C.1, "zip");
    let bytes = fs::read(&zip).unwrap();
    fs::write(&zip, &bytes[..bytes.len() / 2]).unwrap();
    let unzip = format!("-> unzip {}: zip: not a valid zip file\n", zip.display());
    assert_text(&fx, "explain_text_truncated_zip", &explain_text(&fx, &unzip, &[]));

    // Too little to explain.
    assert_text(&fx, "explain_text_incomplete", &explain_text(&fx, NO_HASHES, &[]));
}

/// Issue 11 build item 3: `--fix` removes only what a local witness proves wrong now,
/// re-checked under the version lock. A go command repairs the copy while gokeep waits
/// for the lock; once gokeep holds it, the evidence is gone and nothing is removed.
#[test]
fn a_copy_repaired_while_fix_waits_for_its_lock_is_left_alone() {
    use std::io::Write as _;
    let fx = Fixture::standard();
    let m = fx.module(C.0, C.1).clone();
    let zip = fx.download_file(C.0, C.1, "zip");
    let good = fs::read(&zip).unwrap();
    fs::write(&zip, zip_with_a_flipped_byte(&m)).unwrap();
    remove_tree(&fx, C);
    let stderr = go_stderr(&fx, &["build", "./..."]);

    // Hold the version's lock as a go command would while it downloads.
    let lock_path = fx.download_file(C.0, C.1, "lock");
    let lock = fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock_path).unwrap();
    lock.lock().unwrap();
    let mut child = std::process::Command::new(gokeep_bin())
        .args(["explain", "--fix", "--yes", "--project"])
        .arg(&fx.consumer)
        .current_dir(fx.sandbox.root())
        .env_clear()
        .envs(fx.sandbox.go_env())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stderr.as_bytes()).unwrap();
    // Wait (bounded) until gokeep has opened the lock file, i.e. is waiting on it.
    let fds = format!("/proc/{}/fd", child.id());
    let waiting = (0..3000).any(|_| {
        let open = fs::read_dir(&fds)
            .is_ok_and(|d| d.filter_map(Result::ok).any(|e| fs::read_link(e.path()).is_ok_and(|t| t == lock_path)));
        if !open {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        open
    });
    assert!(waiting, "gokeep never reached the version lock");
    fs::write(&zip, &good).unwrap();
    drop(lock);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("checked again under its lock: no witness proves this copy wrong any more"), "{err}");
    assert_eq!(fs::read(&zip).unwrap(), good, "the repaired zip stays");
}

/// A `replace` of the module in the project, in block or single-line form and with or
/// without a version, is read by `go::modfile` and named in the verdict; a replace of another
/// version of the module, or of another module, is not.
#[test]
fn a_replace_of_the_module_in_the_project_is_named_whatever_its_form() {
    let fx = Fixture::standard();
    let wrong = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    set_go_sum_hash(&fx, C.0, C.1, wrong);
    let stderr = failing_build(&fx);
    let go_mod = fx.consumer.join("go.mod");
    let original = fs::read_to_string(&go_mod).unwrap();
    let cases = [
        ("single line, every version", "replace example.com/c => ../c-fork\n", true),
        ("block, this version", "replace (\n\t// a fork\n\texample.com/c v1.0.0 => ../c-fork\n)\n", true),
        ("another version", "replace example.com/c v0.9.0 => ../c-fork\n", false),
        ("another module", "replace example.com/cc => ../c-fork\n", false),
    ];
    for (name, replace, named) in cases {
        fs::write(&go_mod, format!("{original}\n{replace}")).unwrap();
        let (_, v) = explain_json(&fx, &stderr, &[]);
        let e = &v["explanations"][0];
        assert_eq!(e["verdict"] == "local_replace", named, "{name}: {e:#}");
    }
}
