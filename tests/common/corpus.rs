//! Every go.mod and go.work a test can lay hands on: Go's own source tree,
//! the txtar archives of cmd/go's script tests, gokeep's test modules and a
//! hand-written nasty set. Used by the modfile and overrides tests.

use std::fs;
use std::path::PathBuf;

use walkdir::WalkDir;

use super::fixture::standard_modules;
use super::sandbox::GoSandbox;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Mod,
    Work,
}

pub struct Case {
    pub origin: String,
    pub kind: Kind,
    pub data: Vec<u8>,
}

fn kind_of(name: &str) -> Option<Kind> {
    if name == "go.mod" || name.ends_with("/go.mod") {
        Some(Kind::Mod)
    } else if name == "go.work" || name.ends_with("/go.work") {
        Some(Kind::Work)
    } else {
        None
    }
}

/// The files of a txtar archive (`-- name --` lines start each file).
fn txtar_files(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        if bare.len() >= 6 && bare.starts_with(b"-- ") && bare.ends_with(b" --") {
            let name = String::from_utf8_lossy(&bare[3..bare.len() - 3]).trim().to_owned();
            out.push((name, Vec::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.extend_from_slice(line);
        }
    }
    out
}

pub const NASTY_MOD: &[&str] = &[
    "// leading comment\n\n// Deprecated: use example.com/new\nmodule example.com/old // trailing\n\ngo 1.22\n",
    "module \"example.com/quoted\"\r\n\r\ngo 1.21.3\r\ntoolchain go1.22.1\r\nrequire (\r\n\t\"example.com/a\" v1.0.0 // indirect\r\n\texample.com/b v1.2 // indirect; why\r\n)\r\n",
    "module m\nrequire example.com/a v1.0.0",
    "module m\n\nretract [v1.0.0, v1.1.0] // broken range\nretract (\n\t// bad tag\n\tv0.9.0\n\n\t[v0.1.0, v0.2.0]\n)\n",
    "module m\n\ntool example.com/cmd/x\ntool (\n\texample.com/cmd/y\n\t\"example.com/cmd/z\"\n)\nignore ./vendor-like\nignore (\n\t./node_modules // big\n\tdocs\n)\n",
    "module m\n\ngodebug default=go1.21\ngodebug (\n\tpanicnil=1 // comment\n\thttp2client=0\n)\n",
    "module m\nfrobnicate example.com/x v1.0.0\n",
    "module m\nfrobnicate (\n\tx\n)\n",
    "module m\n   \t\n\t// indented comment\n  require example.com/a v1.0.0   \n\n\n",
    "module m\nreplace example.com/a => ../a\nreplace example.com/a v1.0.0 => example.com/b v1.1.0\nreplace (\n\texample.com/c v1.0.0 => \"../my c\"\n\texample.com/a => ../a2\n)\n",
    "module m\nexclude example.com/a v1.0.0\nexclude example.com/a v1.0.0\nexclude (\n\texample.com/b v1.0.0-pre+meta\n)\n",
    "module m\nrequire ()\nreplace ( ) // empty\n",
    "module m\nrequire example.com/a v2.0.0\n",
    "module m\nrequire example.com/a/v2 v2.0.0+incompatible\n",
    "module m\nrequire example.com/a `v1.0.0`\n",
    "module m\nrequire example.com/a \"v1.0.0\" // quoted version\n",
    "module m\nreplace example.com/a => example.com/b\n",
    "module m\nreplace example.com/a => example.com/b@v1.0.0\n",
    "module m\nreplace example.com/a => ./b v1.0.0\n",
    "module m\ngo 1.22\ngo 1.23\n",
    "module m\ngo v1.22\n",
    "module m\ntoolchain 1.22\n",
    "module m\nretract v1.0.0 extra\n",
    "module m\nretract [v1.0.0 v1.1.0]\n",
    "module m\nrequire (\n\texample.com/a v1.0.0\n",
    "module m /* no */\n",
    "module m\nrequire example.com/a v1.0.0 )\n",
    "module m\n\u{a0}require example.com/a v1.0.0\n",
    "module m\nrequire \"example.com/a\\x41\" v1.0.0\n",
    "module m\nrequire \"example.com/a\\q\" v1.0.0\n",
    "module m\nrequire example.com/a'b v1.0.0\n",
    "module m\nrequire example.com/ä v1.0.0\n",
    "module m\nuse ./x\n",
    "module m\nrequire example.com/a v1.0.0 // indirect\nrequire example.com/a v1.0.1\n",
    "",
    "\n\n",
    "// only a comment",
    "module m\n\n// Deprecated: not this\nrequire example.com/a v1.0.0\n",
    "// intro\n//\n// Deprecated: in a block\nmodule (\n\tm\n)\n",
    "module m\nrequire (\n\texample.com/a v1.0.0\n) // after\n",
    "module m\nrequire example.com/a v1.0.0\n\t",
    "module m\n\nreplace example.com/a v1.0.0 => C:\\dir\n",
    "module m\n\nreplace example.com/a v1.0.0 => ..\\dir\n",
    "module m\n\ngodebug x\ngodebug \"a=b\"\n",
];

pub const NASTY_WORK: &[&str] = &[
    "go 1.22\n\nuse ./a\nuse (\n\t./b // comment\n\t\"./c d\"\n)\n",
    "go 1.22\r\ntoolchain go1.22.1\r\nuse .\r\nreplace example.com/a => ../a\r\n",
    "go 1.22\nuse (\n\t./a\n)\nuse ./a",
    "go 1.22\ngodebug (\n\tpanicnil=1\n)\nreplace example.com/a v1.0.0 => example.com/b v1.0.0\n",
    "go 1.22\nrequire example.com/a v1.0.0\n",
    "go 1.22\nmodule m\n",
    "go 1.22\nuse\n",
    "go 1.22\nuse ./a ./b\n",
    "go 1.22\nrequire (\n)\n",
    "use ./a\n// trailing comment",
    "",
];

pub fn corpus(sb: &GoSandbox) -> Vec<Case> {
    let goroot = PathBuf::from(sb.go_ok(sb.root(), &["env", "GOROOT"]).trim());
    let mut cases = Vec::new();
    for e in WalkDir::new(goroot.join("src")).into_iter().filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy();
        if let Some(kind) = kind_of(&name)
            && e.file_type().is_file()
        {
            let data = fs::read(e.path()).unwrap();
            cases.push(Case { origin: e.path().display().to_string(), kind, data });
        }
    }
    let scripts = goroot.join("src/cmd/go/testdata/script");
    let mut archives: Vec<PathBuf> = fs::read_dir(&scripts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    archives.sort();
    for a in archives {
        for (name, data) in txtar_files(&fs::read(&a).unwrap()) {
            if let Some(kind) = kind_of(&name) {
                cases.push(Case { origin: format!("{}: {name}", a.display()), kind, data });
            }
        }
    }
    for m in standard_modules() {
        cases.push(Case {
            origin: format!("test module {}", m.id()),
            kind: Kind::Mod,
            data: m.mod_file().into_bytes(),
        });
    }
    for (i, t) in NASTY_MOD.iter().enumerate() {
        cases.push(Case { origin: format!("NASTY_MOD[{i}]"), kind: Kind::Mod, data: t.as_bytes().to_vec() });
    }
    for (i, t) in NASTY_WORK.iter().enumerate() {
        cases.push(Case { origin: format!("NASTY_WORK[{i}]"), kind: Kind::Work, data: t.as_bytes().to_vec() });
    }
    cases
}
