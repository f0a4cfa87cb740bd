//! The module layering of `design.md`: a module imports only modules listed
//! before it. Every `src/**/*.rs` is read, comments dropped, and each
//! `crate::<module>` path (in `use` statements, braces included, and in
//! expressions) is checked against the order below. `lib.rs` and `main.rs`
//! only declare modules and stand aside.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Lowest first. `verify` sits above `prune`: its fixes are plans in prune's
/// vocabulary, carried out by prune's executor, so prune's corrupted-version
/// rule takes verify's hashing as a function it is handed, not an import.
const LAYERS: &[&str] = &[
    "go",
    "units",
    "timestamp",
    "goenv",
    "layout",
    "fs",
    "golock",
    "state",
    "scan",
    "report",
    "policy",
    // Finds every user's caches for `--discover`: recognised through `fs`,
    // selected by the policy's `[discover]` section; pruning them is the CLI
    // running gokeep as each owner, so nothing below needs it.
    "discover",
    "prune",
    "verify",
    "overrides",
    "proxy",
    "schedule",
    // Every error type's exit class, in one place: it names them all.
    "error",
    "cli",
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|m| *m == module)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src/` belongs to; `None` for the crate roots.
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    match first {
        "lib.rs" | "main.rs" => None,
        f => Some(f.trim_end_matches(".rs").to_owned()),
    }
}

/// Source without `//` comments (doc links name modules without importing them).
fn without_comments(text: &str) -> String {
    text.lines().map(|l| l.find("//").map_or(l, |i| &l[..i])).collect::<Vec<_>>().join("\n")
}

fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules `text` names through `crate::`, including every
/// first name inside `crate::{a::x, b}`.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let preceded = rest[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        rest = &rest[i + "crate::".len()..];
        if preceded {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut start) = (0usize, 0usize);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        refs.insert(ident(group[start..j].trim()).to_owned());
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        refs.insert(ident(group[start..j].trim()).to_owned());
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            refs.insert(ident(rest).to_owned());
        }
    }
    refs.retain(|r| !r.is_empty() && r != "self");
    refs
}

#[test]
fn no_module_imports_a_module_the_layout_puts_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let Some(module) = module_of(rel) else { continue };
        let Some(own) = rank(&module) else {
            violations.push(format!("{}: module `{module}` has no place in the layer list", rel.display()));
            continue;
        };
        let text = without_comments(&std::fs::read_to_string(file).unwrap());
        for target in crate_refs(&text) {
            checked += 1;
            match rank(&target) {
                // A module using its own submodules through `crate::`.
                _ if target == module => {}
                Some(r) if r < own => {}
                Some(_) => {
                    violations.push(format!("{}: `{module}` imports `{target}`, which is above it", rel.display()));
                }
                None if module == "cli" => {}
                None => {
                    violations.push(format!("{}: `crate::{target}` is not a module in the layer list", rel.display()));
                }
            }
        }
    }
    assert!(checked > 50, "found only {checked} crate:: references: the scan is not reading the sources");
    assert!(violations.is_empty(), "layering violations:\n{}", violations.join("\n"));
}

#[test]
fn the_reference_scanner_reads_paths_groups_and_skips_comments() {
    let text = without_comments(
        "use crate::{layout::{self, X}, scan::Y};\nlet x = crate::fs::noatime::read(p);\n// see crate::cli\nuse other_crate::z;",
    );
    let refs: Vec<String> = crate_refs(&text).into_iter().collect();
    assert_eq!(refs, ["fs", "layout", "scan"]);
}
