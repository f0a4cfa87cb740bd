//! `explain`'s decoder on what people really paste: every paste in
//! `tests/explain_corpus/` (sources in its `index.toml`) is decoded and each
//! error's class, module, version, hashes and disagreeing record compared
//! with the index. At least 95% of the pastes must decode exactly.

use std::path::Path;

use gokeep::verify::explain::{Against, Mismatch};
use gokeep::verify::paste::{self, Decoded, ErrorKind};
use serde::Deserialize;

#[derive(Deserialize)]
struct Index {
    paste: Vec<Paste>,
}

#[derive(Deserialize)]
struct Paste {
    file: String,
    source: String,
    go: String,
    noise: Vec<String>,
    expect: Vec<Expect>,
}

#[derive(Deserialize, Debug, PartialEq, Eq, Clone)]
struct Expect {
    class: String,
    module: Option<String>,
    version: Option<String>,
    go_mod: Option<bool>,
    record: Option<String>,
    downloaded: Option<String>,
    recorded: Option<String>,
    suggested: Option<String>,
}

fn kind_name(k: ErrorKind) -> String {
    serde_json::to_value(k).unwrap().as_str().unwrap().to_owned()
}

fn mismatch_as_found(m: &Mismatch) -> Expect {
    let (class, record) = match &m.against {
        Against::SumFile { label } => ("go_sum_mismatch", label.clone()),
        Against::Sumdb { db } => ("sumdb_mismatch", db.clone()),
    };
    Expect {
        class: class.into(),
        module: Some(m.module.clone()),
        version: Some(m.version.clone()),
        go_mod: Some(m.go_mod),
        record: Some(record),
        downloaded: Some(m.downloaded.clone()),
        recorded: Some(m.recorded.clone()),
        suggested: None,
    }
}

/// What the decoder found, in the index's terms. Fields the index leaves
/// out of an incomplete error (hashes that are not hashes) are not compared.
fn found(d: &Decoded, expected: &[Expect]) -> Vec<Expect> {
    let mut out: Vec<Expect> = d.mismatches.iter().map(mismatch_as_found).collect();
    for (i, inc) in d.incomplete.iter().enumerate() {
        let want = expected.iter().filter(|e| e.class == "incomplete").nth(i);
        let keep =
            |v: &Option<String>, w: Option<&Option<String>>| v.clone().filter(|_| w.is_some_and(Option::is_some));
        out.push(Expect {
            class: "incomplete".into(),
            module: inc.module.clone(),
            version: inc.version.clone(),
            go_mod: None,
            record: keep(&inc.label, want.map(|w| &w.record)),
            downloaded: keep(&inc.downloaded, want.map(|w| &w.downloaded)),
            recorded: keep(&inc.recorded, want.map(|w| &w.recorded)),
            suggested: None,
        });
    }
    for e in &d.errors {
        out.push(Expect {
            class: kind_name(e.kind),
            module: e.module.clone(),
            version: e.version.clone(),
            go_mod: None,
            record: None,
            downloaded: None,
            recorded: None,
            suggested: e.suggested.clone(),
        });
    }
    out
}

#[test]
fn the_corpus_of_real_pastes_decodes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain_corpus");
    let index: Index = toml::from_str(&std::fs::read_to_string(dir.join("index.toml")).unwrap()).unwrap();
    assert!(index.paste.len() >= 40, "the corpus holds {} pastes", index.paste.len());
    let mut failures = Vec::new();
    for p in &index.paste {
        assert!(p.source.starts_with("https://"), "{}: no source", p.file);
        assert!(!p.go.is_empty() && !p.expect.is_empty(), "{}: incomplete index entry", p.file);
        let bytes = std::fs::read(dir.join(&p.file)).unwrap_or_else(|e| panic!("{}: {e}", p.file));
        let d = paste::decode(&String::from_utf8_lossy(&bytes));
        let got = found(&d, &p.expect);
        // Mismatches, then incomplete ones, then other errors: the index lists them in that order.
        let mut want = p.expect.clone();
        let rank = |e: &Expect| match e.class.as_str() {
            "go_sum_mismatch" | "sumdb_mismatch" => 0,
            "incomplete" => 1,
            _ => 2,
        };
        want.sort_by_key(rank);
        if got != want {
            failures.push(format!("{} ({:?}):\n  want {want:?}\n  got  {got:?}", p.file, p.noise));
        }
    }
    let ok = index.paste.len() - failures.len();
    eprintln!("{ok}/{} pastes decoded exactly", index.paste.len());
    for f in &failures {
        eprintln!("not decoded: {f}");
    }
    assert!(ok * 100 >= index.paste.len() * 95, "{ok}/{} decoded:\n{}", index.paste.len(), failures.join("\n"));
}

#[test]
fn the_corpus_spans_every_error_kind_and_both_record_kinds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain_corpus");
    let index: Index = toml::from_str(&std::fs::read_to_string(dir.join("index.toml")).unwrap()).unwrap();
    let classes: std::collections::BTreeSet<&str> =
        index.paste.iter().flat_map(|p| p.expect.iter().map(|e| e.class.as_str())).collect();
    for c in [
        "go_sum_mismatch",
        "sumdb_mismatch",
        "incomplete",
        "not_a_valid_zip",
        "missing_ziphash",
        "dir_modified",
        "missing_go_sum_entry",
        "proxy_http_error",
        "malformed_module_path",
    ] {
        assert!(classes.contains(c), "no paste of class {c}: {classes:?}");
    }
    let noise: std::collections::BTreeSet<&str> =
        index.paste.iter().flat_map(|p| p.noise.iter().map(String::as_str)).collect();
    for n in ["buildkit-step", "buildkit-elapsed", "markdown-fence", "github-actions", "powershell"] {
        assert!(noise.contains(n), "no paste with {n} noise: {noise:?}");
    }
}
