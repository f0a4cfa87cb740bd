//! Pure planning: the bytes a link writes, and the bytes that take it back.
//! No file system here; [`super::ops`] reads and writes.

use std::path::Path;

use serde::Serialize;

use super::state::LinkRecord;
use super::{Mode, OverrideError};
use crate::go::modfile::{ModFile, WorkFile};

/// The result of planning a link on one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub after: Vec<u8>,
    pub extra_uses: Vec<String>,
    pub previous: Option<(String, String)>,
}

fn edit_error(e: &impl std::fmt::Display) -> OverrideError {
    OverrideError::Edit { edit: e.to_string() }
}

/// `replace module [version] => rel` in go.mod; an existing replace of the
/// same module (and version) is rewritten in place, and remembered.
pub fn link_replace(
    name: &str,
    before: &[u8],
    module: &str,
    version: Option<&str>,
    rel: &str,
) -> Result<Edit, OverrideError> {
    let mut f = ModFile::parse(name, before)?;
    let previous = f
        .replace
        .iter()
        .rfind(|r| r.old.path == module && r.old.version == version.unwrap_or(""))
        .map(|r| (r.new.path.clone(), r.new.version.clone()));
    f.add_replace(module, version, rel, None).map_err(|e| edit_error(&e))?;
    Ok(Edit { after: f.print(), extra_uses: Vec::new(), previous })
}

/// What `go work init` writes: the go line and a `use` block.
#[must_use]
pub fn new_go_work(go_version: &str, uses: &[&str]) -> Vec<u8> {
    let mut s = format!("go {go_version}\n\nuse (\n");
    for u in uses {
        s.push('\t');
        s.push_str(&crate::go::modfile::auto_quote(u));
        s.push('\n');
    }
    s.push_str(")\n");
    s.into_bytes()
}

/// Adds `use target_rel` to a go.work (and `use consumer_rel`, if the
/// workspace does not hold the consumer yet), or creates one.
pub fn link_work(
    name: &str,
    before: Option<&[u8]>,
    consumer_rel: &str,
    target_rel: &str,
    go_version: &str,
) -> Result<Edit, OverrideError> {
    let Some(before) = before else {
        return Ok(Edit {
            after: new_go_work(go_version, &[consumer_rel, target_rel]),
            extra_uses: vec![consumer_rel.to_owned()],
            previous: None,
        });
    };
    let mut w = WorkFile::parse(name, before)?;
    let mut extra_uses = Vec::new();
    if !w.uses.iter().any(|u| same_dir(&u.path, consumer_rel)) {
        w.add_use(consumer_rel)?;
        extra_uses.push(consumer_rel.to_owned());
    }
    w.add_use(target_rel)?;
    Ok(Edit { after: w.print(), extra_uses, previous: None })
}

/// `./a` and `a` name the same directory in a `use` line.
#[must_use]
pub fn same_dir(a: &str, b: &str) -> bool {
    let norm = |p: &str| {
        let p = p.trim_end_matches('/');
        let p = p.strip_prefix("./").unwrap_or(p);
        if p.is_empty() { ".".to_owned() } else { p.to_owned() }
    };
    norm(a) == norm(b)
}

/// How an unlink took a link back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Revert {
    /// The file held exactly what gokeep wrote: the old bytes are back.
    Exact,
    /// The file already held the old bytes (a link interrupted before it wrote).
    AlreadyRestored,
    /// The file changed since: the changes were kept and gokeep's undone.
    Merged,
    /// The file changed near gokeep's lines: only the directive was dropped.
    Dropped,
    /// gokeep's directive is no longer in the file.
    Absent,
    /// The file no longer exists.
    FileGone,
}

/// The bytes that take `rec` back from `current` (`None`: delete the file
/// gokeep created), and how.
pub fn revert(rec: &LinkRecord, current: Option<&[u8]>) -> Result<(Option<Vec<u8>>, Revert), OverrideError> {
    let Some(current) = current else { return Ok((None, Revert::FileGone)) };
    let name = rec.file.display().to_string();
    if Some(current) == rec.after.as_deref() {
        return Ok((rec.before.clone(), Revert::Exact));
    }
    if Some(current) == rec.before.as_deref() {
        return Ok((rec.before.clone(), Revert::AlreadyRestored));
    }
    if !has_directive(rec, &name, current)? {
        return Ok((Some(current.to_vec()), Revert::Absent));
    }
    if let Some(undone) = unsplice(rec, current)
        && merge_is_sound(rec, &name, &undone)
    {
        return Ok((Some(undone), Revert::Merged));
    }
    if let Some(after) = &rec.after {
        let theirs = rec.before.as_deref().unwrap_or_default();
        if let Ok(merged) = diffy::merge_bytes(after, current, theirs)
            && merge_is_sound(rec, &name, &merged)
        {
            if merged.is_empty() && rec.before.is_none() {
                return Ok((None, Revert::Merged));
            }
            return Ok((Some(merged), Revert::Merged));
        }
    }
    Ok((drop_directive(rec, &name, current)?, Revert::Dropped))
}

/// The one run of bytes the link changed, put back where it still stands
/// unchanged (once) in an edited file: exact, whatever happened around it.
fn unsplice(rec: &LinkRecord, current: &[u8]) -> Option<Vec<u8>> {
    let (before, after) = (rec.before.as_deref()?, rec.after.as_deref()?);
    let prefix = before.iter().zip(after).take_while(|(a, b)| a == b).count();
    let room = before.len().min(after.len()) - prefix;
    let suffix = before.iter().rev().zip(after.iter().rev()).take(room).take_while(|(a, b)| a == b).count();
    let (old, new) = (&before[prefix..before.len() - suffix], &after[prefix..after.len() - suffix]);
    if new.is_empty() {
        return None;
    }
    let mut hits = current.windows(new.len()).enumerate().filter(|(_, w)| *w == new).map(|(i, _)| i);
    let at = hits.next()?;
    if hits.next().is_some() {
        return None;
    }
    let rest = &current[at + new.len()..];
    // A blank line the link added to set its line apart now sets apart
    // the directive that joined it (another link's replace, added after it).
    let blank = new.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
    let next_line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    let verb: &[u8] = if rec.mode == Mode::Work { b"use" } else { b"replace" };
    let keep = if old.is_empty() && next_line.trim_ascii().starts_with(verb) { blank } else { 0 };
    Some([&current[..at + keep], old, rest].concat())
}

fn has_directive(rec: &LinkRecord, name: &str, data: &[u8]) -> Result<bool, OverrideError> {
    Ok(match rec.mode {
        Mode::Work => WorkFile::parse(name, data)?.uses.iter().any(|u| same_dir(&u.path, &rec.written_path)),
        Mode::Replace => ModFile::parse(name, data)?.replace.iter().any(|r| {
            r.old.path == rec.module
                && r.old.version == rec.version.as_deref().unwrap_or("")
                && r.new.path == rec.written_path
                && r.new.version.is_empty()
        }),
    })
}

/// A merge is taken only when Go reads it, gokeep's directive is gone and a
/// replace gokeep rewrote is back.
fn merge_is_sound(rec: &LinkRecord, name: &str, merged: &[u8]) -> bool {
    if merged.is_empty() {
        return rec.before.is_none();
    }
    if !matches!(has_directive(rec, name, merged), Ok(false)) {
        return false;
    }
    match (&rec.previous, rec.mode) {
        (Some((path, version)), Mode::Replace) => ModFile::parse(name, merged).is_ok_and(|f| {
            f.replace.iter().any(|r| {
                r.old.path == rec.module
                    && r.old.version == rec.version.as_deref().unwrap_or("")
                    && &r.new.path == path
                    && &r.new.version == version
            })
        }),
        _ => true,
    }
}

/// Drops gokeep's directive (and the `use` lines it added), restoring a
/// replace it rewrote. A go.work gokeep created that is left with nothing
/// in it goes.
fn drop_directive(rec: &LinkRecord, name: &str, data: &[u8]) -> Result<Option<Vec<u8>>, OverrideError> {
    match rec.mode {
        Mode::Work => {
            let mut w = WorkFile::parse(name, data)?;
            let drop: Vec<String> = w
                .uses
                .iter()
                .filter(|u| same_dir(&u.path, &rec.written_path) || rec.extra_uses.iter().any(|x| same_dir(&u.path, x)))
                .map(|u| u.path.clone())
                .collect();
            for d in drop {
                w.drop_use(&d)?;
            }
            if rec.before.is_none() && w.uses.is_empty() && w.replace.is_empty() {
                return Ok(None);
            }
            Ok(Some(w.print()))
        }
        Mode::Replace => {
            let mut f = ModFile::parse(name, data)?;
            let v = rec.version.as_deref();
            match &rec.previous {
                Some((path, version)) => {
                    let nv = (!version.is_empty()).then_some(version.as_str());
                    f.add_replace(&rec.module, v, path, nv).map_err(|e| edit_error(&e))?;
                }
                None => {
                    f.drop_replace(&rec.module, v)?;
                }
            }
            Ok(Some(f.print()))
        }
    }
}

/// A unified diff of `old` → `new`, labelled with `path` (`/dev/null` for a
/// file that does not exist on that side).
#[must_use]
pub fn unified_diff(path: &Path, old: Option<&[u8]>, new: Option<&[u8]>) -> String {
    let label = path.display().to_string();
    let mut opts = diffy::DiffOptions::new();
    opts.set_original_filename(if old.is_some() { label.clone() } else { "/dev/null".into() });
    opts.set_modified_filename(if new.is_some() { label } else { "/dev/null".into() });
    let diff = opts.create_patch_bytes(old.unwrap_or_default(), new.unwrap_or_default());
    String::from_utf8_lossy(&diff.to_bytes()).replace("\r\n", "\n")
}

/// The path from `from` (a directory) to `to`, both absolute and clean, as
/// Go writes a directory in go.mod and go.work: `./x`, `../x`, or `.`.
#[must_use]
pub fn relative(from: &Path, to: &Path) -> String {
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_owned(), a.len() - common).collect();
    parts.extend(b[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    match parts.first().map(String::as_str) {
        None => ".".into(),
        Some("..") => parts.join("/"),
        Some(_) => format!("./{}", parts.join("/")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::Timestamp;
    use std::path::PathBuf;

    fn rec(mode: Mode, before: Option<&[u8]>, edit: &Edit, written: &str) -> LinkRecord {
        LinkRecord {
            module: "example.com/lib".into(),
            target: "/w/lib".into(),
            mode,
            version: None,
            file: PathBuf::from(if mode == Mode::Work { "go.work" } else { "go.mod" }),
            written_path: written.into(),
            extra_uses: edit.extra_uses.clone(),
            previous: edit.previous.clone(),
            before: before.map(<[u8]>::to_vec),
            after: Some(edit.after.clone()),
            linked_at: Timestamp(0),
        }
    }

    #[test]
    fn relative_paths_are_written_as_go_writes_them() {
        assert_eq!(relative(Path::new("/w/app"), Path::new("/w/lib")), "../lib");
        assert_eq!(relative(Path::new("/w/app"), Path::new("/w/app/sub/x")), "./sub/x");
        assert_eq!(relative(Path::new("/w/app"), Path::new("/w/app")), ".");
        assert_eq!(relative(Path::new("/w/a/b"), Path::new("/x")), "../../../x");
    }

    #[test]
    fn an_edited_go_mod_loses_only_gokeeps_lines_blank_line_included() {
        let before = b"module m\n\ngo 1.21\n\nrequire example.com/lib v1.0.0\n";
        let e = link_replace("go.mod", before, "example.com/lib", None, "../lib").unwrap();
        let r = rec(Mode::Replace, Some(before), &e, "../lib");
        let edited = String::from_utf8(e.after.clone()).unwrap().replace("go 1.21", "go 1.22");
        let (out, how) = revert(&r, Some(edited.as_bytes())).unwrap();
        assert_eq!(how, Revert::Merged);
        assert_eq!(out.unwrap(), b"module m\n\ngo 1.22\n\nrequire example.com/lib v1.0.0\n");
    }

    #[test]
    fn a_rewritten_replace_comes_back_when_the_file_changed() {
        let before = b"module m\nreplace example.com/lib => ../old // mine\n";
        let e = link_replace("go.mod", before, "example.com/lib", None, "../lib").unwrap();
        assert_eq!(e.previous, Some(("../old".into(), String::new())));
        let r = rec(Mode::Replace, Some(before), &e, "../lib");
        // The edit touches the replace line's neighbour: the merge conflicts.
        let edited = b"module m2\nreplace example.com/lib => ../lib // mine\n";
        let (out, how) = revert(&r, Some(edited)).unwrap();
        assert_eq!(how, Revert::Dropped);
        assert_eq!(out.unwrap(), b"module m2\nreplace example.com/lib => ../old // mine\n");
    }

    #[test]
    fn a_created_go_work_goes_unless_someone_added_to_it() {
        let e = link_work("go.work", None, ".", "../lib", "1.22").unwrap();
        assert_eq!(e.after, b"go 1.22\n\nuse (\n\t.\n\t../lib\n)\n");
        let r = rec(Mode::Work, None, &e, "../lib");
        assert_eq!(revert(&r, Some(&e.after)).unwrap(), (None, Revert::Exact));
        let added = b"go 1.22\n\nuse (\n\t.\n\t../lib\n\t../other\n)\n";
        let (out, _) = revert(&r, Some(added)).unwrap();
        assert_eq!(out.unwrap(), b"go 1.22\n\nuse (\n\t../other\n)\n");
    }

    #[test]
    fn a_directive_someone_removed_leaves_the_file_alone() {
        let before = b"go 1.22\nuse .\n";
        let e = link_work("go.work", Some(before), ".", "../lib", "1.22").unwrap();
        let r = rec(Mode::Work, Some(before), &e, "../lib");
        assert_eq!(
            revert(&r, Some(b"go 1.23\nuse .\n")).unwrap(),
            (Some(b"go 1.23\nuse .\n".to_vec()), Revert::Absent)
        );
    }
}
