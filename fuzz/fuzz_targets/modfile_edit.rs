//! The edits overrides make (`replace` added or dropped in go.mod and
//! go.work, `use` added or dropped in go.work), applied to any file the
//! parser accepts: an edit either refuses or leaves a file that parses,
//! holds what was asked for, and keeps every line it had no reason to touch.
#![no_main]

use arbitrary::Arbitrary;
use gokeep::go::modfile::{LineRef, ModFile, WorkFile};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Name {
    /// The n-th path the file already names (a replace's old path, a use).
    Existing(u8),
    Listed(u8),
    Any(String),
}

#[derive(Debug, Arbitrary)]
enum Op {
    AddReplace { old: Name, old_version: Option<Name>, new: Name, new_version: Option<Name> },
    DropReplace { old: Name, old_version: Option<Name> },
    AddUse { dir: Name },
    DropUse { dir: Name },
}

const PATHS: &[&str] = &[
    "example.com/a",
    "example.com/b/v2",
    "golang.org/x/mod",
    "gopkg.in/yaml.v3",
    "../a",
    "./b",
    "/abs/dir",
    "../dir with space",
    "../q\"uote",
    "..\\win",
    "C:\\x",
    "../a//b",
    "../(paren)",
];
const VERSIONS: &[&str] = &["v1.0.0", "v2.3.4-pre", "v0.0.0-20200101000000-abcdefabcdef", "v1.2.3+incompatible"];

fn pick(n: &Name, existing: &[String], listed: &[&str]) -> String {
    match n {
        Name::Existing(i) if !existing.is_empty() => existing[*i as usize % existing.len()].clone(),
        Name::Existing(i) | Name::Listed(i) => listed[*i as usize % listed.len()].to_owned(),
        Name::Any(s) => s.clone(),
    }
}

fn lines(data: &[u8]) -> Vec<&[u8]> {
    data.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect()
}

/// The line without its comment and surrounding blanks.
fn code(l: &[u8]) -> &[u8] {
    let s = l.windows(2).position(|w| w == b"//").map_or(l, |i| &l[..i]);
    s.trim_ascii()
}

/// Every line of `old` not in `touched` (1-based), other than blank lines
/// and block delimiters (a block comes and goes with its last line), is in
/// `new`, in order.
fn kept(old: &[u8], new: &[u8], touched: &[usize]) {
    let new_lines = lines(new);
    let mut at = 0;
    for (i, l) in lines(old).into_iter().enumerate() {
        let c = code(l);
        if touched.contains(&(i + 1)) || c.is_empty() || c == b")" || c.ends_with(b"(") {
            continue;
        }
        match new_lines[at..].iter().position(|n| *n == l) {
            Some(j) => at += j + 1,
            None => panic!(
                "line {} {:?} lost\nbefore:\n{}\nafter:\n{}",
                i + 1,
                String::from_utf8_lossy(l),
                String::from_utf8_lossy(old),
                String::from_utf8_lossy(new)
            ),
        }
    }
}

/// What an edit file offers: its replaces and uses, read and edited alike.
trait Edited: Sized {
    fn parse(data: &[u8]) -> Option<Self>;
    fn print(&self) -> Vec<u8>;
    fn replaces(&self) -> Vec<(String, String, String, String, LineRef)>;
    fn uses(&self) -> Vec<(String, LineRef)>;
    fn add_replace(&mut self, o: &str, ov: Option<&str>, n: &str, nv: Option<&str>) -> bool;
    fn drop_replace(&mut self, o: &str, ov: Option<&str>) -> Option<usize>;
    fn add_use(&mut self, d: &str) -> bool;
    fn drop_use(&mut self, d: &str) -> Option<usize>;
}

impl Edited for ModFile {
    fn parse(data: &[u8]) -> Option<Self> {
        ModFile::parse("go.mod", data).ok()
    }
    fn print(&self) -> Vec<u8> {
        ModFile::print(self)
    }
    fn replaces(&self) -> Vec<(String, String, String, String, LineRef)> {
        self.replace
            .iter()
            .map(|r| (r.old.path.clone(), r.old.version.clone(), r.new.path.clone(), r.new.version.clone(), r.at))
            .collect()
    }
    fn uses(&self) -> Vec<(String, LineRef)> {
        Vec::new()
    }
    fn add_replace(&mut self, o: &str, ov: Option<&str>, n: &str, nv: Option<&str>) -> bool {
        ModFile::add_replace(self, o, ov, n, nv).is_ok()
    }
    fn drop_replace(&mut self, o: &str, ov: Option<&str>) -> Option<usize> {
        ModFile::drop_replace(self, o, ov).ok()
    }
    fn add_use(&mut self, _: &str) -> bool {
        false
    }
    fn drop_use(&mut self, _: &str) -> Option<usize> {
        None
    }
}

impl Edited for WorkFile {
    fn parse(data: &[u8]) -> Option<Self> {
        WorkFile::parse("go.work", data).ok()
    }
    fn print(&self) -> Vec<u8> {
        WorkFile::print(self)
    }
    fn replaces(&self) -> Vec<(String, String, String, String, LineRef)> {
        self.replace
            .iter()
            .map(|r| (r.old.path.clone(), r.old.version.clone(), r.new.path.clone(), r.new.version.clone(), r.at))
            .collect()
    }
    fn uses(&self) -> Vec<(String, LineRef)> {
        self.uses.iter().map(|u| (u.path.clone(), u.at)).collect()
    }
    fn add_replace(&mut self, o: &str, ov: Option<&str>, n: &str, nv: Option<&str>) -> bool {
        WorkFile::add_replace(self, o, ov, n, nv).is_ok()
    }
    fn drop_replace(&mut self, o: &str, ov: Option<&str>) -> Option<usize> {
        WorkFile::drop_replace(self, o, ov).ok()
    }
    fn add_use(&mut self, d: &str) -> bool {
        WorkFile::add_use(self, d).is_ok()
    }
    fn drop_use(&mut self, d: &str) -> Option<usize> {
        WorkFile::drop_use(self, d).ok()
    }
}

fn run<F: Edited>(data: &[u8], ops: &[Op]) {
    let Some(mut f) = F::parse(data) else { return };
    for op in ops.iter().take(4) {
        let before = f.print();
        let reps = f.replaces();
        let olds: Vec<String> = reps.iter().map(|r| r.0.clone()).collect();
        let uses = f.uses();
        let dirs: Vec<String> = uses.iter().map(|u| u.0.clone()).collect();
        let touched: Vec<usize>;
        match op {
            Op::AddReplace { old, old_version, new, new_version } => {
                let o = pick(old, &olds, PATHS);
                let ov = old_version.as_ref().map(|v| pick(v, &[], VERSIONS));
                let n = pick(new, &dirs, PATHS);
                let nv = new_version.as_ref().map(|v| pick(v, &[], VERSIONS));
                if !f.add_replace(&o, ov.as_deref(), &n, nv.as_deref()) {
                    assert_eq!(f.print(), before, "a refused edit changed the file");
                    continue;
                }
                let got: Vec<_> =
                    f.replaces().into_iter().filter(|r| r.0 == o && ov.as_ref().is_none_or(|v| &r.1 == v)).collect();
                assert_eq!(got.len(), 1, "replace {o} {ov:?} => {n} {nv:?}: {got:?}");
                assert_eq!(
                    (&got[0].1, &got[0].2, &got[0].3),
                    (&ov.clone().unwrap_or_default(), &n, &nv.unwrap_or_default())
                );
                touched = reps
                    .iter()
                    .filter(|r| r.0 == o && ov.as_ref().is_none_or(|v| &r.1 == v))
                    .map(|r| r.4.line)
                    .collect();
            }
            Op::DropReplace { old, old_version } => {
                let o = pick(old, &olds, PATHS);
                let ov = old_version.as_ref().map(|v| pick(v, &[], VERSIONS));
                let want = reps.iter().filter(|r| r.0 == o && r.1 == ov.clone().unwrap_or_default()).count();
                let Some(n) = f.drop_replace(&o, ov.as_deref()) else {
                    assert_eq!(f.print(), before, "a refused edit changed the file");
                    continue;
                };
                assert_eq!(n, want);
                assert!(f.replaces().iter().all(|r| !(r.0 == o && r.1 == ov.clone().unwrap_or_default())));
                touched = reps
                    .iter()
                    .filter(|r| r.0 == o && r.1 == ov.clone().unwrap_or_default())
                    .map(|r| r.4.line)
                    .collect();
            }
            Op::AddUse { dir } => {
                let d = pick(dir, &dirs, PATHS);
                if !f.add_use(&d) {
                    assert_eq!(f.print(), before, "a refused edit changed the file");
                    continue;
                }
                assert!(f.uses().iter().any(|u| u.0 == d), "use {d:?} not added");
                touched = Vec::new();
            }
            Op::DropUse { dir } => {
                let d = pick(dir, &dirs, PATHS);
                let Some(_) = f.drop_use(&d) else {
                    assert_eq!(f.print(), before, "a refused edit changed the file");
                    continue;
                };
                assert!(f.uses().iter().all(|u| u.0 != d), "use {d:?} not dropped");
                touched = uses.iter().filter(|u| u.0 == d).map(|u| u.1.line).collect();
            }
        }
        let after = f.print();
        // The edited file reads back as itself.
        let again = F::parse(&after).expect("an edited file parses");
        assert_eq!(again.print(), after);
        kept(&before, &after, &touched);
    }
}

/// The file is the input up to its last NUL (which neither parser accepts),
/// the edits are drawn from the bytes after it; an input without a NUL (a
/// seed taken from a real file) gets one edit of each kind on its first names.
fn split(data: &[u8]) -> (&[u8], Vec<Op>) {
    match data.iter().rposition(|&b| b == 0) {
        Some(i) => {
            let u = arbitrary::Unstructured::new(&data[i + 1..]);
            (&data[..i], Vec::<Op>::arbitrary_take_rest(u).unwrap_or_default())
        }
        None => (
            data,
            vec![
                Op::AddReplace { old: Name::Existing(0), old_version: None, new: Name::Listed(4), new_version: None },
                Op::AddUse { dir: Name::Listed(5) },
                Op::DropUse { dir: Name::Existing(0) },
                Op::DropReplace { old: Name::Existing(0), old_version: None },
            ],
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let (file, ops) = split(data);
    run::<ModFile>(file, &ops);
    run::<WorkFile>(file, &ops);
});
