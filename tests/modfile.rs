//! `go::modfile` against the real `go`: every go.mod and go.work a test can
//! lay hands on (Go's own source tree, the txtar archives of cmd/go's script
//! tests, gokeep's test modules and a hand-written nasty set) must print back
//! byte for byte, and read exactly as `go mod edit -json` / `go work edit
//! -json` read it, or be refused where Go refuses it, with Go's message.

mod common;

use std::fs;
use std::path::Path;

use common::corpus::{Kind, corpus};
use common::*;
use gokeep::go::modfile::{ModFile, ParseError, Replace, WorkFile};
use serde_json::{Map, Value, json};

fn mv(path: &str, version: &str) -> Value {
    let mut m = Map::new();
    m.insert("Path".into(), json!(path));
    if !version.is_empty() {
        m.insert("Version".into(), json!(version));
    }
    Value::Object(m)
}

fn list(v: Vec<Value>) -> Value {
    if v.is_empty() { Value::Null } else { Value::Array(v) }
}

/// `removeDups` as `SortBlocks` runs it before `-json`: the last replace of
/// an old module version wins.
fn replaces(rs: &[Replace]) -> Value {
    let kept: Vec<&Replace> =
        rs.iter().enumerate().filter(|(i, r)| !rs[i + 1..].iter().any(|s| s.old == r.old)).map(|(_, r)| r).collect();
    list(
        kept.iter()
            .map(|r| json!({"Old": mv(&r.old.path, &r.old.version), "New": mv(&r.new.path, &r.new.version)}))
            .collect(),
    )
}

fn first_of<T: PartialEq + Clone>(v: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in v {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

/// The document `go mod edit -json` prints.
fn mod_json(f: &ModFile) -> Value {
    let mut module = Map::new();
    module.insert("Path".into(), json!(f.module.as_ref().map_or("", |m| m.path.as_str())));
    if let Some(d) = f.module.as_ref().map(|m| m.deprecated.as_str()).filter(|d| !d.is_empty()) {
        module.insert("Deprecated".into(), json!(d));
    }
    let mut doc = Map::new();
    doc.insert("Module".into(), Value::Object(module));
    if let Some(g) = &f.go {
        doc.insert("Go".into(), json!(g));
    }
    if let Some(t) = &f.toolchain {
        doc.insert("Toolchain".into(), json!(t));
    }
    if !f.godebug.is_empty() {
        doc.insert("GoDebug".into(), f.godebug.iter().map(|g| json!({"Key": g.key, "Value": g.value})).collect());
    }
    let require = f
        .require
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("Path".into(), json!(r.path));
            if !r.version.is_empty() {
                m.insert("Version".into(), json!(r.version));
            }
            if r.indirect {
                m.insert("Indirect".into(), json!(true));
            }
            Value::Object(m)
        })
        .collect();
    doc.insert("Require".into(), list(require));
    doc.insert("Exclude".into(), list(first_of(&f.exclude).iter().map(|x| mv(&x.path, &x.version)).collect()));
    doc.insert("Replace".into(), replaces(&f.replace));
    let retract = f
        .retract
        .iter()
        .map(|r| {
            let mut m = Map::new();
            for (k, v) in [("Low", &r.low), ("High", &r.high), ("Rationale", &r.rationale)] {
                if !v.is_empty() {
                    m.insert(k.into(), json!(v));
                }
            }
            Value::Object(m)
        })
        .collect();
    doc.insert("Retract".into(), list(retract));
    doc.insert("Tool".into(), list(first_of(&f.tool).iter().map(|t| json!({"Path": t})).collect()));
    doc.insert("Ignore".into(), list(first_of(&f.ignore).iter().map(|t| json!({"Path": t})).collect()));
    Value::Object(doc)
}

/// The document `go work edit -json` prints.
fn work_json(f: &WorkFile) -> Value {
    let mut doc = Map::new();
    if let Some(g) = &f.go {
        doc.insert("Go".into(), json!(g));
    }
    doc.insert("Use".into(), list(f.uses.iter().map(|u| json!({"DiskPath": u.path})).collect()));
    doc.insert("Replace".into(), replaces(&f.replace));
    Value::Object(doc)
}

/// What gokeep reads: the JSON document, or Go's error text.
fn ours(kind: Kind, data: &[u8]) -> Result<Value, String> {
    let r: Result<Value, ParseError> = match kind {
        Kind::Mod => ModFile::parse("go.mod", data).map(|f| {
            assert_eq!(f.print(), data, "print(parse(x)) != x");
            mod_json(&f)
        }),
        Kind::Work => WorkFile::parse("go.work", data).map(|f| {
            assert_eq!(f.print(), data, "print(parse(x)) != x");
            work_json(&f)
        }),
    };
    r.map_err(|e| e.to_string())
}

/// What real `go` reads from the same bytes.
fn theirs(sb: &GoSandbox, dir: &Path, kind: Kind, data: &[u8]) -> Result<Value, String> {
    let (name, args) = match kind {
        Kind::Mod => ("go.mod", ["mod", "edit", "-json", "go.mod"]),
        Kind::Work => ("go.work", ["work", "edit", "-json", "go.work"]),
    };
    fs::write(dir.join(name), data).unwrap();
    let out = sb.go(dir, &args);
    if out.status.success() {
        return Ok(serde_json::from_slice(&out.stdout).expect("go's JSON"));
    }
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let header = format!("go: errors parsing {name}:\n");
    let msg = err.strip_prefix(&header).unwrap_or_else(|| panic!("go failed for another reason: {err}"));
    let msg = msg.strip_prefix(&format!("errors parsing {name}:\n")).unwrap_or(msg);
    Err(msg.trim_end_matches('\n').to_owned())
}

#[test]
fn every_go_mod_and_go_work_round_trips_and_reads_as_go_reads_it() {
    let sb = GoSandbox::new();
    let dir = sb.root().join("work");
    fs::create_dir_all(&dir).unwrap();
    let cases = corpus(&sb);
    assert!(cases.len() > 1000, "only {} files found", cases.len());
    let (mut accepted, mut refused, mut failures) = (0, 0, Vec::new());
    for c in &cases {
        let mine = ours(c.kind, &c.data);
        let go = theirs(&sb, &dir, c.kind, &c.data);
        match (&mine, &go) {
            (Ok(a), Ok(b)) if a == b => accepted += 1,
            (Err(a), Err(b)) if a == b => refused += 1,
            _ => failures.push(format!("{}:\n  gokeep: {mine:?}\n  go:     {go:?}", c.origin)),
        }
    }
    eprintln!("{} files: {accepted} read alike, {refused} refused alike", cases.len());
    assert!(failures.is_empty(), "{} of {} disagree:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert!(accepted > 900 && refused > 20, "accepted {accepted}, refused {refused}");
}

/// Sorts every list: go's edit sorts the lines of each block as it
/// rewrites the file, gokeep leaves every line it does not edit in place.
fn normalise(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        for a in m.values_mut() {
            if let Value::Array(a) = a {
                a.sort_by_key(Value::to_string);
            }
        }
    }
    v
}

fn bare_lf(b: &[u8]) -> usize {
    b.iter().enumerate().filter(|&(i, &c)| c == b'\n' && (i == 0 || b[i - 1] != b'\r')).count()
}

/// The lines of `a` and of `b` outside their longest common subsequence
/// (lines compared without their endings).
fn changed_lines(old: &[u8], new: &[u8]) -> Vec<String> {
    let split = |x: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(x).split('\n').map(|l| l.trim_end_matches('\r').to_owned()).collect()
    };
    let (x, y) = (split(old), split(new));
    let mut lcs = vec![vec![0usize; y.len() + 1]; x.len() + 1];
    for i in (0..x.len()).rev() {
        for j in (0..y.len()).rev() {
            lcs[i][j] = if x[i] == y[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < x.len() || j < y.len() {
        if i < x.len() && j < y.len() && x[i] == y[j] {
            i += 1;
            j += 1;
        } else if j == y.len() || (i < x.len() && lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(x[i].clone());
            i += 1;
        } else {
            out.push(y[j].clone());
            j += 1;
        }
    }
    out
}

/// Checks that `new` differs from `old` only in lines that mention `needle`
/// (plus block delimiters and blank lines), and keeps the file's line endings.
fn only_edited_lines_changed(old: &[u8], new: &[u8], needle: &str, origin: &str) {
    for line in changed_lines(old, new) {
        let t = line.trim();
        let t = t.strip_prefix("replace").or_else(|| t.strip_prefix("use")).unwrap_or(t).trim();
        assert!(
            t.is_empty() || t == "(" || t == ")" || line.contains(needle),
            "{origin}: an unrelated line changed: {line:?}\n--- old\n{}\n--- new\n{}",
            String::from_utf8_lossy(old),
            String::from_utf8_lossy(new)
        );
    }
    let crlf = old.windows(2).any(|w| w == b"\r\n") && bare_lf(old) == 0;
    if crlf {
        assert_eq!(bare_lf(new), 0, "{origin}: a CRLF file got a bare LF");
    }
}

type Apply = dyn Fn(&mut Target) -> Result<(), String>;

/// One edit: what gokeep does, the `go ... edit` flag that does the same,
/// and the text every changed line mentions.
struct Edit {
    flag: String,
    needle: String,
    apply: Box<Apply>,
}

enum Target {
    Mod(ModFile),
    Work(WorkFile),
}

impl Target {
    fn print(&self) -> Vec<u8> {
        match self {
            Target::Mod(f) => f.print(),
            Target::Work(f) => f.print(),
        }
    }
}

fn vflag(path: &str, v: Option<&str>) -> String {
    v.map_or_else(|| path.to_owned(), |v| format!("{path}@{v}"))
}

fn replace_edit(old: &str, ov: Option<&str>, new: &str, nv: Option<&str>) -> Edit {
    let (o, ovs, n, nvs) = (old.to_owned(), ov.map(str::to_owned), new.to_owned(), nv.map(str::to_owned));
    Edit {
        flag: format!("-replace={}={}", vflag(old, ov), vflag(new, nv)),
        needle: old.to_owned(),
        apply: Box::new(move |t| match t {
            Target::Mod(f) => f.add_replace(&o, ovs.as_deref(), &n, nvs.as_deref()).map_err(|e| e.to_string()),
            Target::Work(f) => f.add_replace(&o, ovs.as_deref(), &n, nvs.as_deref()).map_err(|e| e.to_string()),
        }),
    }
}

fn drop_replace_edit(old: &str, ov: Option<&str>) -> Edit {
    let (o, ovs) = (old.to_owned(), ov.map(str::to_owned));
    Edit {
        flag: format!("-dropreplace={}", vflag(old, ov)),
        needle: old.to_owned(),
        apply: Box::new(move |t| match t {
            Target::Mod(f) => f.drop_replace(&o, ovs.as_deref()).map(|n| assert!(n > 0)).map_err(|e| e.to_string()),
            Target::Work(f) => f.drop_replace(&o, ovs.as_deref()).map(|n| assert!(n > 0)).map_err(|e| e.to_string()),
        }),
    }
}

fn use_edit(dir: &str, add: bool) -> Edit {
    let d = dir.to_owned();
    Edit {
        flag: format!("-{}={dir}", if add { "use" } else { "dropuse" }),
        needle: dir.to_owned(),
        apply: Box::new(move |t| {
            let Target::Work(f) = t else { unreachable!() };
            if add {
                f.add_use(&d).map_err(|e| e.to_string())
            } else {
                f.drop_use(&d).map(|n| assert!(n > 0)).map_err(|e| e.to_string())
            }
        }),
    }
}

fn edits_for(t: &Target) -> Vec<Edit> {
    let mut out = vec![
        replace_edit("example.com/gokeep/edit", None, "../gokeep edit", None),
        replace_edit("example.com/gokeep/edit", Some("v1.0.0"), "example.com/gokeep/fork", Some("v1.2.3")),
    ];
    let replaces = match t {
        Target::Mod(f) => {
            if let Some(r) = f.require.first() {
                out.push(replace_edit(&r.path, None, "./local", None));
            }
            &f.replace
        }
        Target::Work(f) => {
            out.push(use_edit("./gokeep-edit", true));
            // go's -dropuse makes a bare `m` into `./m`, which no longer names `use m`.
            if let Some(u) = f.uses.iter().find(|u| u.path.starts_with('.') || u.path.starts_with('/')) {
                out.push(use_edit(&u.path.clone(), false));
            }
            &f.replace
        }
    };
    if let Some(r) = replaces.first() {
        let v = (!r.old.version.is_empty()).then_some(r.old.version.as_str());
        out.push(drop_replace_edit(&r.old.path, v));
        out.push(replace_edit(&r.old.path, v, "../elsewhere", None));
    }
    out
}

#[test]
fn edits_change_only_their_lines_and_read_as_go_edit_would_make_them() {
    let sb = GoSandbox::new();
    let dir = sb.root().join("work");
    fs::create_dir_all(&dir).unwrap();
    let cases = corpus(&sb);
    let sample = cases.iter().enumerate().filter(|(i, c)| i % 6 == 0 || c.origin.starts_with("NASTY"));
    let (mut files, mut edits, mut refused) = (0, 0, 0);
    for (_, c) in sample {
        let base = match c.kind {
            Kind::Mod => ModFile::parse("go.mod", &c.data).map(Target::Mod),
            Kind::Work => WorkFile::parse("go.work", &c.data).map(Target::Work),
        };
        let Ok(base) = base else { continue };
        files += 1;
        let (name, cmd) = match c.kind {
            Kind::Mod => ("go.mod", "mod"),
            Kind::Work => ("go.work", "work"),
        };
        for e in edits_for(&base) {
            let origin = format!("{} {}", c.origin, e.flag);
            let mut t = match c.kind {
                Kind::Mod => Target::Mod(ModFile::parse("go.mod", &c.data).unwrap()),
                Kind::Work => Target::Work(WorkFile::parse("go.work", &c.data).unwrap()),
            };
            let applied = (e.apply)(&mut t);
            fs::write(dir.join(name), &c.data).unwrap();
            // What go reads back from the file its own edit writes (its -json
            // output after an edit can disagree with the file it would write).
            let edited = sb.go(&dir, &[cmd, "edit", &e.flag, name]);
            if !edited.status.success() {
                assert!(
                    applied.is_err(),
                    "{origin}: go refuses, gokeep edits: {}",
                    String::from_utf8_lossy(&edited.stderr)
                );
                assert_eq!(t.print(), c.data, "{origin}: a refused edit changed the file");
                refused += 1;
                continue;
            }
            applied.unwrap_or_else(|err| panic!("{origin}: go edits, gokeep refuses: {err}"));
            let new = t.print();
            only_edited_lines_changed(&c.data, &new, &e.needle, &origin);
            let want = sb.go_ok(&dir, &[cmd, "edit", "-json", name]);
            let got =
                theirs(&sb, &dir, c.kind, &new).unwrap_or_else(|err| panic!("{origin}: go refuses the edit: {err}"));
            let want: Value = serde_json::from_str(&want).unwrap();
            assert_eq!(normalise(got), normalise(want), "{origin}:\n{}", String::from_utf8_lossy(&new));
            edits += 1;
        }
    }
    eprintln!("{files} files, {edits} edits, {refused} refused alike");
    assert!(files > 150 && edits > 400, "{files} files, {edits} edits");
}
