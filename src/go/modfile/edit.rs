//! Adding and dropping `replace` and `use` lines.
//!
//! An edit is a splice of whole lines into the printed bytes, which are then
//! parsed again, so the tree never disagrees with the text and an edited file
//! round-trips like any other. Style follows the file: a new line joins the
//! last block of its verb, else follows the last line of its verb, else
//! starts a block (only in a file that already uses blocks) or a single line
//! at the end. New lines take the line ending and indentation of their
//! neighbours; a file without a final newline keeps lacking one.

use std::ops::Range;

use super::rules::auto_quote;
use super::rules::is_directory_path;
use super::syntax::{Item, Stmt, Syntax};
use super::{EditError, LineRef, ModFile, ParseError, Replace, WorkFile};
use crate::go::modpath::check_import_path;

/// Byte ranges of each statement and, for blocks, of each item.
struct Span {
    range: Range<usize>,
    head: Range<usize>,
    items: Vec<Range<usize>>,
}

fn spans(s: &Syntax) -> Vec<Span> {
    let mut at = 0;
    let mut out = Vec::new();
    for stmt in &s.stmts {
        let start = at;
        let mut items = Vec::new();
        let mut head = start..start;
        match stmt {
            Stmt::Trivia(t) => at += t.raw.len(),
            Stmt::Line(l) => at += l.raw.len(),
            Stmt::Block(b) => {
                at += b.head.len();
                head = start..at;
                for i in &b.items {
                    let n = match i {
                        Item::Trivia(t) => t.raw.len(),
                        Item::Line(l) => l.raw.len(),
                    };
                    items.push(at..at + n);
                    at += n;
                }
                at += b.close.len();
            }
        }
        out.push(Span { range: start..at, head, items });
    }
    out
}

fn ending(raw: &[u8]) -> Option<&'static str> {
    if raw.ends_with(b"\r\n") {
        Some("\r\n")
    } else if raw.ends_with(b"\n") {
        Some("\n")
    } else {
        None
    }
}

/// The file's line ending: that of its first line, `\n` for a one-line file.
fn file_ending(data: &[u8]) -> &'static str {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) if i > 0 && data[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

fn indent(raw: &[u8]) -> &[u8] {
    &raw[..raw.iter().take_while(|&&b| b == b' ' || b == b'\t').count()]
}

fn raw_of(s: &Syntax, at: LineRef) -> &[u8] {
    match (&s.stmts[at.stmt], at.item) {
        (Stmt::Line(l), None) => &l.raw,
        (Stmt::Block(b), Some(j)) => match &b.items[j] {
            Item::Line(l) => &l.raw,
            Item::Trivia(t) => &t.raw,
        },
        _ => unreachable!("a LineRef names a line"),
    }
}

type Splice = (Range<usize>, Vec<u8>);

fn apply(data: &[u8], mut splices: Vec<Splice>) -> Vec<u8> {
    // Removals may overlap (a dropped last line takes the line ending of a
    // block that goes too): merge them.
    splices.sort_by_key(|(r, _)| (r.start, r.end));
    let mut merged: Vec<Splice> = Vec::new();
    for (r, text) in splices {
        match merged.last_mut() {
            Some((last, t)) if t.is_empty() && text.is_empty() && r.start < last.end => last.end = last.end.max(r.end),
            _ => merged.push((r, text)),
        }
    }
    let mut out = data.to_vec();
    for (r, text) in merged.into_iter().rev() {
        out.splice(r, text);
    }
    out
}

/// The splice that adds `verb args` in the file's style.
fn add_line(s: &Syntax, verb: &str, args: &str) -> Splice {
    let data = s.print();
    let sp = spans(s);
    let fe = file_ending(&data);
    let block = s.stmts.iter().rposition(|x| matches!(x, Stmt::Block(b) if !b.one_line && b.verb == [verb]));
    if let Some(i) = block {
        let Stmt::Block(b) = &s.stmts[i] else { unreachable!() };
        let last = b.items.iter().rposition(|it| matches!(it, Item::Line(_)));
        let (at, ind, eol) = match last {
            Some(j) => {
                let Item::Line(l) = &b.items[j] else { unreachable!() };
                (sp[i].items[j].end, indent(&l.raw).to_vec(), ending(&l.raw).unwrap_or(fe))
            }
            None => (sp[i].head.end, b"\t".to_vec(), ending(&b.head).unwrap_or(fe)),
        };
        let mut text = ind;
        text.extend_from_slice(format!("{args}{eol}").as_bytes());
        return (at..at, text);
    }
    let line = s.stmts.iter().rposition(|x| matches!(x, Stmt::Line(l) if l.tokens[0] == verb));
    if let Some(i) = line {
        let Stmt::Line(l) = &s.stmts[i] else { unreachable!() };
        let at = sp[i].range.end;
        let body = [indent(&l.raw), format!("{verb} {args}").as_bytes()].concat();
        let text = match ending(&l.raw) {
            Some(eol) => [body, eol.as_bytes().to_vec()].concat(),
            None => [fe.as_bytes().to_vec(), body].concat(),
        };
        return (at..at, text);
    }
    let uses_blocks = s.stmts.iter().any(|x| matches!(x, Stmt::Block(b) if !b.one_line));
    let mut text =
        if uses_blocks { format!("{verb} ({fe}\t{args}{fe}){fe}") } else { format!("{verb} {args}{fe}") }.into_bytes();
    let at = sp.last().map_or(0, |x| x.range.end);
    let Some(last) = sp.last() else { return (at..at, text) };
    let last_raw = &data[last.range.clone()];
    let blank_before = matches!(s.stmts.last(), Some(Stmt::Trivia(t)) if t.comment.is_none());
    let mut prefix = Vec::new();
    if ending(last_raw).is_none() {
        prefix.extend_from_slice(fe.as_bytes());
        text.truncate(text.len() - fe.len());
    }
    if !blank_before {
        prefix.extend_from_slice(fe.as_bytes());
    }
    (at..at, [prefix, text].concat())
}

/// The splices that drop the given lines; a block left with no line and no
/// comment goes too.
fn drop_lines(s: &Syntax, refs: &[LineRef]) -> Vec<Splice> {
    let data = s.print();
    let sp = spans(s);
    let mut out = Vec::new();
    let mut blocks: Vec<usize> = refs.iter().filter(|r| r.item.is_some()).map(|r| r.stmt).collect();
    blocks.dedup();
    for r in refs.iter().filter(|r| r.item.is_none()) {
        let mut range = sp[r.stmt].range.clone();
        // Dropping an unterminated last line keeps the file unterminated.
        if ending(raw_of(s, *r)).is_none()
            && r.stmt > 0
            && let Some(eol) = ending(&data[sp[r.stmt - 1].range.clone()])
        {
            range.start -= eol.len();
        }
        out.push((range, Vec::new()));
    }
    for i in blocks {
        let Stmt::Block(b) = &s.stmts[i] else { continue };
        let dropped: Vec<usize> = refs.iter().filter(|r| r.stmt == i).filter_map(|r| r.item).collect();
        let empty = b.comments.is_empty()
            && b.items.iter().enumerate().all(|(j, it)| match it {
                Item::Line(_) => dropped.contains(&j),
                Item::Trivia(t) => t.comment.is_none(),
            });
        if empty {
            out.push((sp[i].range.clone(), Vec::new()));
        } else {
            out.extend(dropped.into_iter().map(|j| (sp[i].items[j].clone(), Vec::new())));
        }
    }
    out
}

/// Rewrites the tokens of a line, keeping its indentation, comment and ending.
fn rewrite(s: &Syntax, at: LineRef, verb: &str, args: &str) -> Splice {
    let sp = spans(s);
    let (line, base) = match (&s.stmts[at.stmt], at.item) {
        (Stmt::Line(l), None) => (l, sp[at.stmt].range.start),
        (Stmt::Block(b), Some(j)) => match &b.items[j] {
            Item::Line(l) => (l, sp[at.stmt].items[j].start),
            Item::Trivia(_) => unreachable!("a LineRef names a line"),
        },
        _ => unreachable!("a LineRef names a line"),
    };
    let text = if at.item.is_some() { args.to_owned() } else { format!("{verb} {args}") };
    (base + line.span.0..base + line.span.1, text.into_bytes())
}

fn replace_args(old: &str, old_version: Option<&str>, new: &str, new_version: Option<&str>) -> String {
    let mut t = vec![auto_quote(old)];
    t.extend(old_version.map(str::to_owned));
    t.push("=>".into());
    t.push(auto_quote(new));
    t.extend(new_version.map(str::to_owned));
    t.join(" ")
}

/// The checks `go mod edit -replace` makes on its argument's paths.
fn check_replace_paths(old: &str, new: &str) -> Result<(), EditError> {
    check_import_path(old).map_err(|source| EditError::Path { what: "old", source })?;
    if !is_directory_path(new) {
        check_import_path(new).map_err(|source| EditError::Path { what: "new", source })?;
    }
    Ok(())
}

/// `addReplace`: the first replace of `old` (of that version, when given) is
/// rewritten and any further ones dropped; without one, a line is added.
fn add_replace(
    s: &Syntax,
    replaces: &[Replace],
    old: &str,
    old_version: Option<&str>,
    new: &str,
    new_version: Option<&str>,
) -> Vec<Splice> {
    let args = replace_args(old, old_version, new, new_version);
    let matching: Vec<LineRef> = replaces
        .iter()
        .filter(|r| r.old.path == old && old_version.is_none_or(|v| r.old.version == v))
        .map(|r| r.at)
        .collect();
    match matching.split_first() {
        Some((first, rest)) => {
            let mut out = drop_lines(s, rest);
            out.push(rewrite(s, *first, "replace", &args));
            out
        }
        None => vec![add_line(s, "replace", &args)],
    }
}

fn drop_replace(replaces: &[Replace], old: &str, old_version: Option<&str>) -> Vec<LineRef> {
    replaces.iter().filter(|r| r.old.path == old && r.old.version == old_version.unwrap_or("")).map(|r| r.at).collect()
}

impl ModFile {
    fn splice(&mut self, splices: Vec<Splice>) -> Result<(), ParseError> {
        let data = apply(&self.print(), splices);
        *self = ModFile::parse(&self.name, &data)?;
        Ok(())
    }

    /// `go mod edit -replace=old[@v]=new[@v]`: rewrites the replace of `old`
    /// (of that version) if there is one, else adds a line. Versions must be
    /// canonical; a version-less `new` must be a directory path.
    pub fn add_replace(
        &mut self,
        old: &str,
        old_version: Option<&str>,
        new: &str,
        new_version: Option<&str>,
    ) -> Result<(), EditError> {
        check_replace_paths(old, new)?;
        let splices = add_replace(&self.syntax, &self.replace, old, old_version, new, new_version);
        Ok(self.splice(splices)?)
    }

    /// `go mod edit -dropreplace=old[@v]`: drops the replaces of exactly
    /// `old` at `old_version` (`None`: the version-less one). Returns how many.
    pub fn drop_replace(&mut self, old: &str, old_version: Option<&str>) -> Result<usize, ParseError> {
        let refs = drop_replace(&self.replace, old, old_version);
        self.splice(drop_lines(&self.syntax, &refs))?;
        Ok(refs.len())
    }
}

impl WorkFile {
    fn splice(&mut self, splices: Vec<Splice>) -> Result<(), ParseError> {
        let data = apply(&self.print(), splices);
        *self = WorkFile::parse(&self.name, &data)?;
        Ok(())
    }

    /// `go work edit -use=dir`: adds a `use` line unless `dir` is used already.
    pub fn add_use(&mut self, dir: &str) -> Result<(), ParseError> {
        if self.uses.iter().any(|u| u.path == dir) {
            return Ok(());
        }
        let splice = add_line(&self.syntax, "use", &auto_quote(dir));
        self.splice(vec![splice])
    }

    /// `go work edit -dropuse=dir`: drops every `use` of `dir`. Returns how many.
    pub fn drop_use(&mut self, dir: &str) -> Result<usize, ParseError> {
        let refs: Vec<LineRef> = self.uses.iter().filter(|u| u.path == dir).map(|u| u.at).collect();
        self.splice(drop_lines(&self.syntax, &refs))?;
        Ok(refs.len())
    }

    /// As [`ModFile::add_replace`], in go.work.
    pub fn add_replace(
        &mut self,
        old: &str,
        old_version: Option<&str>,
        new: &str,
        new_version: Option<&str>,
    ) -> Result<(), EditError> {
        check_replace_paths(old, new)?;
        let splices = add_replace(&self.syntax, &self.replace, old, old_version, new, new_version);
        Ok(self.splice(splices)?)
    }

    /// As [`ModFile::drop_replace`], in go.work.
    pub fn drop_replace(&mut self, old: &str, old_version: Option<&str>) -> Result<usize, ParseError> {
        let refs = drop_replace(&self.replace, old, old_version);
        self.splice(drop_lines(&self.syntax, &refs))?;
        Ok(refs.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(text: &str, old: &str, ov: Option<&str>, new: &str, nv: Option<&str>) -> String {
        let mut f = ModFile::parse("go.mod", text.as_bytes()).unwrap();
        f.add_replace(old, ov, new, nv).unwrap();
        String::from_utf8(f.print()).unwrap()
    }

    fn drop(text: &str, old: &str, ov: Option<&str>) -> String {
        let mut f = ModFile::parse("go.mod", text.as_bytes()).unwrap();
        f.drop_replace(old, ov).unwrap();
        String::from_utf8(f.print()).unwrap()
    }

    #[test]
    fn a_replace_joins_the_last_replace_block_with_its_indentation() {
        let t = "module m\n\nreplace (\n    a.b/c => ../c // keep\n    // trailing\n)\n";
        assert_eq!(
            add(t, "x.y/z", None, "../z", None),
            "module m\n\nreplace (\n    a.b/c => ../c // keep\n    x.y/z => ../z\n    // trailing\n)\n"
        );
    }

    #[test]
    fn a_replace_follows_single_lines_and_keeps_crlf() {
        let t = "module m\r\nreplace a.b/c => ../c\r\n\r\nrequire a.b/c v1.0.0\r\n";
        assert_eq!(
            add(t, "x.y/z", Some("v1.2.3"), "x.y/fork", Some("v1.2.4")),
            "module m\r\nreplace a.b/c => ../c\r\nreplace x.y/z v1.2.3 => x.y/fork v1.2.4\r\n\r\nrequire a.b/c v1.0.0\r\n"
        );
    }

    #[test]
    fn a_first_replace_is_a_block_only_where_the_file_uses_blocks() {
        assert_eq!(add("module m\n", "x.y/z", None, "../z", None), "module m\n\nreplace x.y/z => ../z\n");
        assert_eq!(
            add("module m\nrequire (\n\tx.y/z v1.0.0\n)", "x.y/z", None, "../my dir", None),
            "module m\nrequire (\n\tx.y/z v1.0.0\n)\n\nreplace (\n\tx.y/z => \"../my dir\"\n)"
        );
    }

    #[test]
    fn add_then_drop_restores_the_bytes() {
        for t in [
            "module m\n",
            "module m",
            "module m\r\nreplace a.b/c => ../c",
            "module m\n\nreplace (\n\ta.b/c => ../c\n)\n",
            "module m\nrequire (\n\tx.y/z v1.0.0\n)\n",
        ] {
            let added = add(t, "x.y/z", None, "../z", None);
            assert_ne!(added, t);
            let dropped = drop(&added, "x.y/z", None);
            if t.contains("replace") {
                assert_eq!(dropped, t, "{added:?}");
            } else {
                // The blank line that set the new statement apart stays.
                assert!(dropped.starts_with(t) && dropped.trim_end() == t.trim_end(), "{dropped:?}");
            }
        }
    }

    #[test]
    fn an_existing_replace_is_rewritten_in_place() {
        let t = "module m\nreplace (\n\tx.y/z v1.0.0 => ../old // note\n)\n";
        assert_eq!(
            add(t, "x.y/z", Some("v1.0.0"), "../new", None),
            "module m\nreplace (\n\tx.y/z v1.0.0 => ../new // note\n)\n"
        );
    }

    #[test]
    fn a_replace_names_the_line_it_sits_on() {
        let f = ModFile::parse("go.mod", b"module m\r\nreplace (\r\n\tx.y/z => ../z // why\r\n)\r\n").unwrap();
        assert_eq!(f.syntax.line_text(f.replace[0].at).as_deref(), Some("\tx.y/z => ../z // why"));
        assert_eq!(f.replace[0].at.line, 3);
    }

    #[test]
    fn uses_join_the_use_block() {
        let mut w = WorkFile::parse("go.work", b"go 1.22\n\nuse (\n\t./a\n)\n").unwrap();
        w.add_use("./b").unwrap();
        w.add_use("./a").unwrap();
        assert_eq!(w.print(), b"go 1.22\n\nuse (\n\t./a\n\t./b\n)\n");
        assert_eq!(w.drop_use("./a").unwrap(), 1);
        assert_eq!(w.print(), b"go 1.22\n\nuse (\n\t./b\n)\n");
        assert_eq!(w.drop_use("./b").unwrap(), 1);
        assert_eq!(w.print(), b"go 1.22\n\n");
    }

    #[test]
    fn dropping_a_use_in_a_block_and_on_the_last_line_removes_both() {
        let mut w = WorkFile::parse("go.work", b"go 1.22\nuse (\n\t./a\n)\nuse ./a").unwrap();
        assert_eq!(w.drop_use("./a").unwrap(), 2);
        assert_eq!(w.print(), b"go 1.22\n");
    }

    #[test]
    fn an_edit_go_would_refuse_is_refused_and_changes_nothing() {
        let mut f = ModFile::parse("go.mod", b"module m\n").unwrap();
        let e = f.add_replace("x.y/z", None, "example.com/not-a-dir", None).unwrap_err();
        assert!(e.to_string().contains("replacement module without version must be directory path"), "{e}");
        let e = f.add_replace("x.y/ä", None, "../a", None).unwrap_err();
        assert_eq!(e.to_string(), "invalid old path: malformed import path \"x.y/ä\": invalid char 'ä'");
        assert_eq!(f.print(), b"module m\n");
    }
}
