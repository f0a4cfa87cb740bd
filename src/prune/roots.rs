//! GC roots: the module versions a set of projects needs, read from their
//! go.mod, go.sum, go.work and go.work.sum, so that pruning never removes
//! them.
//!
//! A version counts as needed when it appears anywhere in those files: every
//! go.sum line (zip hash or `/go.mod` hash: module graph loading reads the
//! `.mod` of versions whose code is never built), every `require` and
//! versioned `replace` target, and the toolchain a `toolchain` or `go` line
//! would make `go` switch to (`golang.org/toolchain@v0.0.1-goX.Y.Z.GOOS-GOARCH`
//! for this machine). go.work `use` directories are followed recursively.
//! go.mod and go.work are read by `go::modfile`, as Go reads them; a file Go
//! would refuse is an error naming it, since guessing could miss a version.
//!
//! Project globs: `~` is the home directory and `*`, `?`, `[..]` match within
//! one path element (Go's `path.Match`); hidden directories only match a
//! pattern that starts with `.`. An entry that names no project (a directory
//! holding go.mod or go.work) is reported, not an error: a shipped policy's
//! `~/src/*` must not fail on a machine that keeps its code elsewhere. The
//! caller refuses `only_roots` when no entry names a project, since that
//! would remove everything.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::go::gosum::GoSum;
use crate::go::modfile::{ModFile, ParseError, Replace, WorkFile};
use crate::go::pattern::{BadPattern, path_match};
use crate::go::version;
use crate::layout::TOOLCHAIN_MODULE;

#[derive(Debug, thiserror::Error)]
pub enum RootsError {
    #[error("project {} does not exist", path.display())]
    MissingProject { path: PathBuf },
    #[error("project {} has no go.mod or go.work", path.display())]
    NotAProject { path: PathBuf },
    #[error("{glob:?} ({}) matches no directory with a go.mod or go.work", expanded.display())]
    NoProjects { glob: String, expanded: PathBuf },
    #[error("roots.projects entry {glob:?} is not a valid pattern")]
    BadGlob { glob: String },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} uses {}, which has no go.mod", go_work.display(), dir.display())]
    MissingUse { go_work: PathBuf, dir: PathBuf },
    #[error("go would refuse {}:\n{source}", path.display())]
    ModFile { path: PathBuf, source: ParseError },
}

fn is_project(dir: &Path) -> bool {
    dir.join("go.mod").is_file() || dir.join("go.work").is_file()
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

fn expand_home(glob: &str, home: &Path) -> PathBuf {
    if glob == "~" {
        home.to_owned()
    } else if let Some(rest) = glob.strip_prefix("~/") {
        home.join(rest)
    } else {
        PathBuf::from(glob)
    }
}

/// What `[roots] projects` expanded to.
#[derive(Debug, Default)]
pub struct Projects {
    /// Project directories, sorted and without duplicates.
    pub dirs: Vec<PathBuf>,
    /// Entries (by index) that named no project, with why: a missing
    /// checkout on this machine is not an error, it protects nothing.
    pub unmatched: Vec<(usize, RootsError)>,
}

/// Expands `[roots] projects` entries into project directories. A pattern
/// that is not one is an error; an entry that names no project is reported
/// in [`Projects::unmatched`] for the caller to warn about.
pub fn expand_projects(globs: &[String], home: &Path) -> Result<Projects, RootsError> {
    let mut out = BTreeSet::new();
    let mut unmatched = Vec::new();
    for (index, glob) in globs.iter().enumerate() {
        let path = expand_home(glob, home);
        let text = path.to_string_lossy().into_owned();
        if !has_meta(&text) {
            if !path.exists() {
                unmatched.push((index, RootsError::MissingProject { path }));
            } else if !is_project(&path) {
                unmatched.push((index, RootsError::NotAProject { path }));
            } else {
                out.insert(path);
            }
            continue;
        }
        let mut found = vec![PathBuf::new()];
        for comp in path.components() {
            let comp = comp.as_os_str().to_string_lossy().into_owned();
            if !has_meta(&comp) {
                for f in &mut found {
                    f.push(&comp);
                }
                continue;
            }
            path_match(&comp, "").map_err(|BadPattern| RootsError::BadGlob { glob: glob.clone() })?;
            let mut next = Vec::new();
            for dir in &found {
                let Ok(rd) = std::fs::read_dir(dir) else { continue };
                let mut names: Vec<String> =
                    rd.filter_map(Result::ok).filter_map(|e| e.file_name().into_string().ok()).collect();
                names.sort();
                for name in names {
                    if name.starts_with('.') && !comp.starts_with('.') {
                        continue;
                    }
                    if path_match(&comp, &name) == Ok(true) && dir.join(&name).is_dir() {
                        next.push(dir.join(&name));
                    }
                }
            }
            found = next;
        }
        let before = out.len();
        out.extend(found.into_iter().filter(|p| is_project(p)));
        if out.len() == before {
            unmatched.push((index, RootsError::NoProjects { glob: glob.clone(), expanded: path }));
        }
    }
    Ok(Projects { dirs: out.into_iter().collect(), unmatched })
}

pub fn collect_roots(projects: &[PathBuf]) -> Result<BTreeSet<(String, String)>, RootsError> {
    let mut roots = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for p in projects {
        if !p.is_dir() {
            return Err(RootsError::MissingProject { path: p.clone() });
        }
        collect_dir(p, &mut roots, &mut seen)?;
    }
    Ok(roots)
}

fn read_opt(path: &Path) -> Result<Option<Vec<u8>>, RootsError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(RootsError::Read { path: path.to_owned(), source }),
    }
}

fn collect_dir(
    dir: &Path,
    roots: &mut BTreeSet<(String, String)>,
    seen: &mut BTreeSet<PathBuf>,
) -> Result<(), RootsError> {
    let key = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    if !seen.insert(key) {
        return Ok(());
    }
    for sum in ["go.sum", "go.work.sum"] {
        let path = dir.join(sum);
        if let Some(data) = read_opt(&path)? {
            let text = String::from_utf8_lossy(&data);
            roots.extend(GoSum::parse(&path, &text).lines.into_iter().map(|l| (l.module, l.version)));
        }
    }
    let gomod = dir.join("go.mod");
    if let Some(data) = read_opt(&gomod)? {
        let f = ModFile::parse(&gomod.display().to_string(), &data)
            .map_err(|source| RootsError::ModFile { path: gomod.clone(), source })?;
        roots.extend(mod_versions(&f));
    }
    let work = dir.join("go.work");
    if let Some(data) = read_opt(&work)? {
        let f = WorkFile::parse(&work.display().to_string(), &data)
            .map_err(|source| RootsError::ModFile { path: work.clone(), source })?;
        roots.extend(work_versions(&f));
        for u in &f.uses {
            let used = dir.join(&u.path);
            if !used.join("go.mod").is_file() {
                return Err(RootsError::MissingUse { go_work: work.clone(), dir: used });
            }
            collect_dir(&used, roots, seen)?;
        }
    }
    Ok(())
}

/// The toolchain a `go` or `toolchain` line makes `go` switch to.
fn toolchain_root(go: Option<&String>, toolchain: Option<&String>) -> Vec<(String, String)> {
    [go, toolchain]
        .into_iter()
        .flatten()
        .filter_map(|v| version::host_toolchain_version(v))
        .map(|tv| (TOOLCHAIN_MODULE.to_owned(), tv))
        .collect()
}

/// Versioned replacement targets.
fn replaced(rs: &[Replace]) -> impl Iterator<Item = (String, String)> + '_ {
    rs.iter().filter(|r| !r.new.version.is_empty()).map(|r| (r.new.path.clone(), r.new.version.clone()))
}

/// What a go.mod names: requirements, versioned replacement targets, the toolchain.
fn mod_versions(f: &ModFile) -> BTreeSet<(String, String)> {
    let mut out: BTreeSet<_> = f.require.iter().map(|r| (r.path.clone(), r.version.clone())).collect();
    out.extend(replaced(&f.replace));
    out.extend(toolchain_root(f.go.as_ref(), f.toolchain.as_ref()));
    out
}

/// What a go.work names besides its `use`d modules.
fn work_versions(f: &WorkFile) -> BTreeSet<(String, String)> {
    let mut out: BTreeSet<_> = replaced(&f.replace).collect();
    out.extend(toolchain_root(f.go.as_ref(), f.toolchain.as_ref()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn pairs(v: &[(&str, &str)]) -> BTreeSet<(String, String)> {
        v.iter().map(|(m, v)| ((*m).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn go_mod_requires_blocks_replaces_and_comments() {
        let text = r#"module example.com/me // the module

go 1.22

require example.com/a v1.0.0
require (
	example.com/b v1.2.3 // indirect
	"example.com/q" v0.1.0
	// example.com/commented v9.9.9
)
exclude example.com/a v0.9.0
replace example.com/c => example.com/d v2.0.0+incompatible
replace (
	example.com/e v1.0.0 => ../e
	example.com/f => example.com/g v0.0.0-20200101000000-abcdefabcdef
)
"#;
        let got = mod_versions(&ModFile::parse("go.mod", text.as_bytes()).unwrap());
        assert_eq!(
            got,
            pairs(&[
                ("example.com/a", "v1.0.0"),
                ("example.com/b", "v1.2.3"),
                ("example.com/q", "v0.1.0"),
                ("example.com/d", "v2.0.0+incompatible"),
                ("example.com/g", "v0.0.0-20200101000000-abcdefabcdef"),
            ])
        );
    }

    #[test]
    fn exact_go_and_toolchain_lines_name_a_toolchain() {
        let versions = |t: &str| mod_versions(&ModFile::parse("go.mod", t.as_bytes()).unwrap());
        let got = versions("module m\ngo 1.22.1\ntoolchain go1.23rc1\n");
        let tcs: Vec<_> = got.iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(tcs.len(), 2);
        assert!(tcs.iter().all(|v| v.starts_with("v0.0.1-go1.2")), "{tcs:?}");
        assert!(versions("module m\ngo 1.22\n").is_empty());
    }

    #[test]
    fn go_work_uses_are_followed_with_their_sums() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        fs::create_dir_all(ws.join("a")).unwrap();
        fs::write(ws.join("go.work"), "go 1.22\nuse (\n\t./a\n)\nuse ./a\n").unwrap();
        fs::write(ws.join("go.work.sum"), "example.com/w v1.0.0 h1:x=\n").unwrap();
        fs::write(ws.join("a/go.mod"), "module a\nrequire example.com/r v1.1.0\n").unwrap();
        fs::write(ws.join("a/go.sum"), "example.com/s v0.2.0/go.mod h1:y=\n").unwrap();
        let roots = collect_roots(std::slice::from_ref(&ws)).unwrap();
        assert_eq!(
            roots,
            pairs(&[("example.com/r", "v1.1.0"), ("example.com/s", "v0.2.0"), ("example.com/w", "v1.0.0")])
        );
    }

    #[test]
    fn missing_project_and_use_dirs_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let gone = tmp.path().join("gone");
        let e = collect_roots(std::slice::from_ref(&gone)).unwrap_err();
        assert_eq!(e.to_string(), format!("project {} does not exist", gone.display()));
        fs::write(tmp.path().join("go.work"), "use ./nope\n").unwrap();
        let e = collect_roots(&[tmp.path().to_owned()]).unwrap_err();
        assert!(matches!(e, RootsError::MissingUse { .. }), "{e}");
    }

    #[test]
    fn a_go_mod_go_would_refuse_is_an_error_naming_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        let gomod = tmp.path().join("go.mod");
        fs::write(&gomod, "module m\nrequire (\n\texample.com/a v1.0.0 )\n").unwrap();
        let e = collect_roots(&[tmp.path().to_owned()]).unwrap_err();
        let RootsError::ModFile { path, source } = &e else { panic!("{e}") };
        assert_eq!(path, &gomod);
        assert_eq!(source.errors[0].line, 4, "{e}");
        assert!(e.to_string().contains("unterminated block started at"), "{e}");
    }

    #[test]
    fn globs_expand_home_and_keep_only_projects() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path();
        for d in ["src/a", "src/b", "src/notgo", "src/.hidden"] {
            fs::create_dir_all(home.join(d)).unwrap();
        }
        fs::write(home.join("src/a/go.mod"), "module a\n").unwrap();
        fs::write(home.join("src/b/go.work"), "go 1.22\n").unwrap();
        fs::write(home.join("src/.hidden/go.mod"), "module h\n").unwrap();
        let got = expand_projects(&["~/src/*".into(), "~/src/a".into()], home).unwrap();
        assert_eq!(got.dirs, [home.join("src/a"), home.join("src/b")]);
        assert!(got.unmatched.is_empty());
        let entries = ["~/src/x*".into(), "~/src/notgo".into(), "~/src/a".into(), "~/nowhere".into()];
        let got = expand_projects(&entries, home).unwrap();
        assert_eq!(got.dirs, [home.join("src/a")], "what matches still counts");
        let unmatched: Vec<usize> = got.unmatched.iter().map(|(i, _)| *i).collect();
        assert_eq!(unmatched, [0, 1, 3]);
        assert!(matches!(got.unmatched[0].1, RootsError::NoProjects { .. }));
        assert!(matches!(got.unmatched[1].1, RootsError::NotAProject { .. }));
        assert!(matches!(got.unmatched[2].1, RootsError::MissingProject { .. }));
        let e = expand_projects(&["~/src/[".into()], home).unwrap_err();
        assert!(matches!(e, RootsError::BadGlob { .. }), "{e}");
    }
}
