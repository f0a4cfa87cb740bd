//! What Go reads from the syntax: `modfile.(*File).add` and
//! `(*WorkFile).add` in strict mode, as `go mod edit` and `go work edit`
//! parse (no version fixer), with Go's error texts.

use super::syntax::{Block, Diagnostic, Line, Position, Stmt, Syntax, quote};
use super::{Godebug, LineRef, ModFile, ModVersion, Module, ParseError, Replace, Require, Retract, Use, WorkFile};
use crate::go::{modpath, version};

/// The comments Go attaches before a top-level statement: the run of
/// whole-line comments right above it, with no blank line in between.
fn top_before(stmts: &[Stmt], i: usize) -> Vec<String> {
    let mut out = Vec::new();
    for s in stmts[..i].iter().rev() {
        match s {
            Stmt::Trivia(t) => match &t.comment {
                Some(c) => out.push(c.clone()),
                None => break,
            },
            _ => break,
        }
    }
    out.reverse();
    out
}

/// A directive as `add` sees it.
struct Directive<'a> {
    verb: &'a str,
    args: Vec<String>,
    line: &'a Line,
    at: LineRef,
    before: Vec<String>,
    /// The enclosing block's own comments (`parseDirectiveComment`'s fallback).
    block_before: Option<Vec<String>>,
}

impl Directive<'_> {
    fn pos(&self) -> Position {
        self.line.start
    }

    /// `parseDirectiveComment`: the `//` comments before and after the line,
    /// or the block's when the line has none.
    fn comment(&self) -> String {
        let mut before = &self.before;
        let mut suffix = self.line.comment.as_ref();
        if let Some(b) = &self.block_before
            && before.is_empty()
            && suffix.is_none()
        {
            before = b;
            suffix = None;
        }
        before.iter().chain(suffix).filter_map(|c| c.strip_prefix("//")).map(str::trim).collect::<Vec<_>>().join("\n")
    }
}

/// Calls `f` for each directive, in file order; reports unknown blocks.
fn directives<'a>(
    file: &str,
    syntax: &'a Syntax,
    block_verbs: &[&str],
    errors: &mut Vec<Diagnostic>,
    mut f: impl FnMut(Directive<'a>),
) {
    for (i, s) in syntax.stmts.iter().enumerate() {
        match s {
            Stmt::Trivia(_) => {}
            Stmt::Line(l) => f(Directive {
                verb: &l.tokens[0],
                args: l.tokens[1..].to_vec(),
                line: l,
                at: LineRef { stmt: i, item: None, line: l.start.line },
                before: top_before(&syntax.stmts, i),
                block_before: None,
            }),
            Stmt::Block(b) => {
                if b.verb.len() > 1 || !block_verbs.contains(&b.verb[0].as_str()) {
                    errors.push(diag(file, b.start, format!("unknown block type: {}", b.verb.join(" "))));
                    continue;
                }
                block_lines(b, i, &syntax.stmts, &mut f);
            }
        }
    }
}

fn block_lines<'a>(b: &'a Block, i: usize, stmts: &[Stmt], f: &mut impl FnMut(Directive<'a>)) {
    let befores = b.befores();
    let block_before = top_before(stmts, i);
    let lines = b.items.iter().enumerate().filter_map(|(j, it)| match it {
        super::Item::Line(l) => Some((j, l)),
        super::Item::Trivia(_) => None,
    });
    for ((j, l), before) in lines.zip(befores) {
        f(Directive {
            verb: &b.verb[0],
            args: l.tokens.clone(),
            line: l,
            at: LineRef { stmt: i, item: Some(j), line: l.start.line },
            before,
            block_before: Some(block_before.clone()),
        });
    }
}

fn diag(file: &str, pos: Position, message: String) -> Diagnostic {
    Diagnostic { file: file.to_owned(), line: pos.line, col: pos.col, message }
}

/// `parseString`: a `"`-quoted token is unquoted; a bare one must hold no quote.
fn parse_string(t: &str) -> Result<String, &'static str> {
    if t.starts_with('"') {
        unquote(t).ok_or("invalid syntax")
    } else if t.contains(['"', '\'', '`']) {
        Err("unquoted string cannot contain quote")
    } else {
        Ok(t.to_owned())
    }
}

/// `strconv.Unquote` of a double-quoted Go string.
#[allow(clippy::many_single_char_names)] // named as in strconv
fn unquote(token: &str) -> Option<String> {
    let inner = token.strip_prefix('"')?.strip_suffix('"')?;
    let b = inner.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\n' => return None,
            b'\\' => {
                let c = *b.get(i + 1)?;
                i += 2;
                match c {
                    b'a' => out.push(7),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'v' => out.push(11),
                    b'\\' | b'"' => out.push(c),
                    b'x' | b'u' | b'U' => {
                        let n = match c {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let hex = std::str::from_utf8(b.get(i..i + n)?).ok()?;
                        if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                            return None;
                        }
                        let v = u32::from_str_radix(hex, 16).ok()?;
                        i += n;
                        if c == b'x' {
                            out.push(v as u8);
                        } else {
                            let ch = char::from_u32(v)?;
                            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                    }
                    b'0'..=b'7' => {
                        let oct = b.get(i - 1..i + 2)?;
                        if !oct.iter().all(|o| (b'0'..=b'7').contains(o)) {
                            return None;
                        }
                        let v = oct.iter().fold(0u32, |a, o| a * 8 + u32::from(o - b'0'));
                        if v > 255 {
                            return None;
                        }
                        out.push(v as u8);
                        i += 2;
                    }
                    _ => return None,
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// `modfile.AutoQuote`: quotes a string that would not lex as one token.
#[must_use]
pub fn auto_quote(s: &str) -> String {
    let must = s.is_empty()
        || s.contains("//")
        || s.contains("/*")
        || s.chars().any(|c| match c {
            ' ' | '"' | '\'' | '`' => true,
            '(' | ')' | '[' | ']' | '{' | '}' | ',' => s.len() > 1,
            c => !super::syntax::is_print(c),
        });
    if must { quote(s) } else { s.to_owned() }
}

fn directive_prefix(verb: &str, path: &str) -> String {
    if !path.is_empty() {
        format!("{verb} {path}: ")
    } else if !verb.is_empty() {
        format!("{verb}: ")
    } else {
        String::new()
    }
}

/// `parseVersion`; with `canonical`, as without a fixer (the form must be
/// canonical-able and is canonicalised), else as `dontFixRetract`.
fn parse_version(verb: &str, path: &str, raw: &str, canonical: bool) -> Result<String, String> {
    let t = parse_string(raw)
        .map_err(|e| format!("{}version {} invalid: {e}", directive_prefix(verb, path), quote(raw)))?;
    if !canonical {
        return Ok(t);
    }
    version::canonical(&t).ok_or_else(|| {
        format!("{}version {} invalid: must be of the form v1.2.3", directive_prefix(verb, path), quote(&t))
    })
}

fn path_major(path: &str) -> Result<&str, String> {
    modpath::split_path_version(path).map(|(_, m)| m).ok_or_else(|| "invalid module path".to_owned())
}

/// `GoVersionRE`: `1.21`, `1.21.3`, `1.21rc1`.
fn is_go_version(v: &str) -> bool {
    fn num(s: &str) -> Option<&str> {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || (n > 1 && s.starts_with('0')) {
            return None;
        }
        Some(&s[n..])
    }
    let Some(rest) = v.strip_prefix(|c: char| ('1'..='9').contains(&c)) else { return false };
    let rest = &rest[rest.bytes().take_while(u8::is_ascii_digit).count()..];
    let Some(rest) = rest.strip_prefix('.').and_then(num) else { return false };
    let rest = match rest.strip_prefix('.') {
        Some(r) => match num(r) {
            Some(r) => r,
            None => return false,
        },
        None => rest,
    };
    if rest.is_empty() {
        return true;
    }
    let letters = rest.bytes().take_while(u8::is_ascii_lowercase).count();
    let digits = rest[letters..].bytes().take_while(u8::is_ascii_digit).count();
    letters > 0 && digits > 0 && letters + digits == rest.len()
}

/// `ToolchainRE`: `default` or `go1...`.
fn is_toolchain(v: &str) -> bool {
    v == "default" || v == "go1" || v.starts_with("go1.")
}

/// `modfile.IsDirectoryPath`.
#[must_use]
pub fn is_directory_path(ns: &str) -> bool {
    let b = ns.as_bytes();
    ns == "."
        || ns.starts_with("./")
        || ns.starts_with(".\\")
        || ns == ".."
        || ns.starts_with("../")
        || ns.starts_with("..\\")
        || ns.starts_with('/')
        || ns.starts_with('\\')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

/// `deprecatedRE`: the paragraph starting `Deprecated:`.
fn deprecation(text: &str) -> String {
    let starts = std::iter::once(0).chain(text.match_indices("\n\n").map(|(i, _)| i + 2));
    for s in starts {
        if let Some(rest) = text[s..].strip_prefix("Deprecated:") {
            let rest = rest.trim_start_matches(' ');
            return rest.find("\n\n").map_or(rest, |e| &rest[..e]).to_owned();
        }
    }
    String::new()
}

fn version_interval(args: &[String]) -> Result<(String, String, usize), String> {
    let v = |raw: &str| parse_version("retract", "", raw, false);
    match args.first().map(String::as_str) {
        None | Some("(") => return Err("expected '[' or version".into()),
        Some("[") => {}
        Some(t) => {
            let v = v(t)?;
            return Ok((v.clone(), v, 1));
        }
    }
    let low = v(args.get(1).ok_or("expected version after '['")?)?;
    if args.get(2).map(String::as_str) != Some(",") {
        return Err("expected ',' after version".into());
    }
    let high = v(args.get(3).ok_or("expected version after ','")?)?;
    if args.get(4).map(String::as_str) != Some("]") {
        return Err("expected ']' after version".into());
    }
    Ok((low, high, 5))
}

fn parse_replace(verb: &str, args: &[String]) -> Result<(ModVersion, ModVersion), String> {
    let arrow = if args.len() >= 2 && args[1] == "=>" { 1 } else { 2 };
    if args.len() < arrow + 2 || args.len() > arrow + 3 || args[arrow] != "=>" {
        return Err(format!(
            "usage: {verb} module/path [v1.2.3] => other/module v1.4\n\t or {verb} module/path [v1.2.3] => ../local/directory"
        ));
    }
    let s = parse_string(&args[0]).map_err(|e| format!("invalid quoted string: {e}"))?;
    let major = path_major(&s).map_err(|e| format!("{verb} {s}: {e}"))?;
    let mut v = String::new();
    if arrow == 2 {
        v = parse_version(verb, &s, &args[1], true)?;
        modpath::check_path_major(&v, major).map_err(|e| format!("{verb} {s}: {e}"))?;
    }
    let ns = parse_string(&args[arrow + 1]).map_err(|e| format!("invalid quoted string: {e}"))?;
    let mut nv = String::new();
    if args.len() == arrow + 2 {
        if !is_directory_path(&ns) {
            if ns.contains('@') {
                return Err("replacement module must match format 'path version', not 'path@version'".into());
            }
            return Err(
                "replacement module without version must be directory path (rooted or starting with . or ..)".into()
            );
        }
        if std::path::MAIN_SEPARATOR == '/' && ns.contains('\\') {
            return Err("replacement directory appears to be Windows path (on a non-windows system)".into());
        }
    }
    if args.len() == arrow + 3 {
        nv = parse_version(verb, &ns, &args[arrow + 2], true)?;
        if is_directory_path(&ns) {
            return Err(format!("replacement module directory path {} cannot have version", quote(&ns)));
        }
    }
    Ok((ModVersion { path: s, version: v }, ModVersion { path: ns, version: nv }))
}

fn godebug(args: &[String]) -> Result<Godebug, String> {
    let usage = || "usage: godebug key=value".to_owned();
    if args.len() != 1 || args[0].contains(['"', '`', '\'', ',']) {
        return Err(usage());
    }
    let (k, v) = args[0].split_once('=').ok_or_else(usage)?;
    Ok(Godebug { key: k.to_owned(), value: v.to_owned() })
}

fn go_version(seen: bool, args: &[String]) -> Result<String, String> {
    if seen {
        return Err("repeated go statement".into());
    }
    if args.len() != 1 {
        return Err("go directive expects exactly one argument".into());
    }
    if !is_go_version(&args[0]) {
        return Err(format!("invalid go version '{}': must match format 1.23.0", args[0]));
    }
    Ok(args[0].clone())
}

fn toolchain(seen: bool, args: &[String]) -> Result<String, String> {
    if seen {
        return Err("repeated toolchain statement".into());
    }
    if args.len() != 1 {
        return Err("toolchain directive expects exactly one argument".into());
    }
    if !is_toolchain(&args[0]) {
        return Err(format!("invalid toolchain version '{}': must match format go1.23.0 or default", args[0]));
    }
    Ok(args[0].clone())
}

fn one_path(verb: &str, args: &[String]) -> Result<String, String> {
    if args.len() != 1 {
        return Err(format!("{verb} directive expects exactly one argument"));
    }
    parse_string(&args[0]).map_err(|e| format!("invalid quoted string: {e}"))
}

pub(super) fn read_mod(name: &str, syntax: Syntax) -> Result<ModFile, ParseError> {
    let mut f = ModFile {
        name: name.to_owned(),
        syntax: Syntax::default(),
        module: None,
        go: None,
        toolchain: None,
        godebug: Vec::new(),
        require: Vec::new(),
        exclude: Vec::new(),
        replace: Vec::new(),
        retract: Vec::new(),
        tool: Vec::new(),
        ignore: Vec::new(),
    };
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let blocks = ["module", "godebug", "require", "exclude", "replace", "retract", "tool", "ignore"];
    directives(name, &syntax, &blocks, &mut errors, |d| out.push((d.pos(), add_mod(&mut f, &d))));
    checked(name, errors, out)?;
    f.syntax = syntax;
    Ok(f)
}

/// The syntax errors and each directive's own, in file order, as one error;
/// `Ok` when there are none.
fn checked(
    name: &str,
    mut errors: Vec<Diagnostic>,
    results: Vec<(Position, Result<(), String>)>,
) -> Result<(), ParseError> {
    errors.extend(results.into_iter().filter_map(|(pos, r)| r.err().map(|m| diag(name, pos, m))));
    errors.sort_by_key(|e| (e.line, e.col));
    if errors.is_empty() { Ok(()) } else { Err(ParseError { errors }) }
}

fn add_mod(f: &mut ModFile, d: &Directive) -> Result<(), String> {
    let args = &d.args;
    match d.verb {
        "go" => f.go = Some(go_version(f.go.is_some(), args)?),
        "toolchain" => f.toolchain = Some(toolchain(f.toolchain.is_some(), args)?),
        "module" => {
            if f.module.is_some() {
                return Err("repeated module statement".into());
            }
            let deprecated = deprecation(&d.comment());
            f.module = Some(Module { path: String::new(), deprecated });
            if args.len() != 1 {
                return Err("usage: module module/path".into());
            }
            let s = parse_string(&args[0]).map_err(|e| format!("invalid quoted string: {e}"))?;
            if let Some(m) = &mut f.module {
                m.path = s;
            }
        }
        "godebug" => f.godebug.push(godebug(args)?),
        "require" | "exclude" => {
            if args.len() != 2 {
                return Err(format!("usage: {} module/path v1.2.3", d.verb));
            }
            let s = parse_string(&args[0]).map_err(|e| format!("invalid quoted string: {e}"))?;
            let v = parse_version(d.verb, &s, &args[1], true)?;
            let major = path_major(&s)?;
            modpath::check_path_major(&v, major).map_err(|e| format!("{} {s}: {e}", d.verb))?;
            if d.verb == "require" {
                let indirect = d.line.comment.as_deref().is_some_and(|c| {
                    let fields: Vec<&str> = c.trim_start_matches("//").split_whitespace().collect();
                    (fields.len() == 1 && fields[0] == "indirect") || (fields.len() > 1 && fields[0] == "indirect;")
                });
                f.require.push(Require { path: s, version: v, indirect, at: d.at });
            } else {
                f.exclude.push(ModVersion { path: s, version: v });
            }
        }
        "replace" => {
            let (old, new) = parse_replace(d.verb, args)?;
            f.replace.push(Replace { old, new, at: d.at });
        }
        "retract" => {
            let rationale = d.comment();
            let (low, high, used) = version_interval(args)?;
            if let Some(extra) = args.get(used) {
                return Err(format!("unexpected token after version: {}", quote(extra)));
            }
            f.retract.push(Retract { low, high, rationale });
        }
        "tool" => f.tool.push(one_path("tool", args)?),
        "ignore" => f.ignore.push(one_path("ignore", args)?),
        verb => return Err(format!("unknown directive: {verb}")),
    }
    Ok(())
}

pub(super) fn read_work(name: &str, syntax: Syntax) -> Result<WorkFile, ParseError> {
    let mut f = WorkFile {
        name: name.to_owned(),
        syntax: Syntax::default(),
        go: None,
        toolchain: None,
        godebug: Vec::new(),
        uses: Vec::new(),
        replace: Vec::new(),
    };
    let mut errors = Vec::new();
    let mut out = Vec::new();
    directives(name, &syntax, &["godebug", "use", "replace"], &mut errors, |d| {
        out.push((d.pos(), add_work(&mut f, &d)));
    });
    checked(name, errors, out)?;
    f.syntax = syntax;
    Ok(f)
}

fn add_work(f: &mut WorkFile, d: &Directive) -> Result<(), String> {
    let args = &d.args;
    match d.verb {
        "go" => f.go = Some(go_version(f.go.is_some(), args)?),
        "toolchain" => f.toolchain = Some(toolchain(f.toolchain.is_some(), args)?),
        "godebug" => f.godebug.push(godebug(args)?),
        "use" => {
            if args.len() != 1 {
                return Err("usage: use local/dir".into());
            }
            let path = parse_string(&args[0]).map_err(|e| format!("invalid quoted string: {e}"))?;
            f.uses.push(Use { path, at: d.at });
        }
        "replace" => {
            let (old, new) = parse_replace(d.verb, args)?;
            f.replace.push(Replace { old, new, at: d.at });
        }
        verb => return Err(format!("unknown directive: {verb}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_versions_match_go_version_re() {
        for ok in ["1.21", "1.21.0", "1.21rc1", "1.9", "10.0", "1.21.3beta2"] {
            assert!(is_go_version(ok), "{ok}");
        }
        for bad in ["1", "01.2", "1.02", "v1.21", "1.21.", "1.21rc", "1.21-rc1", "go1.21", "1.21RC1"] {
            assert!(!is_go_version(bad), "{bad}");
        }
    }

    #[test]
    fn unquote_follows_strconv() {
        assert_eq!(unquote(r#""a b""#).as_deref(), Some("a b"));
        assert_eq!(unquote(r#""\x41\101\u00e9\"""#).as_deref(), Some("AAé\""));
        assert_eq!(unquote(r#""\'""#), None);
        assert_eq!(unquote(r#""\400""#), None);
        assert_eq!(unquote(r#""\ud800""#), None);
    }

    #[test]
    fn deprecation_is_the_deprecated_paragraph() {
        assert_eq!(deprecation("Deprecated: use v2"), "use v2");
        assert_eq!(deprecation("intro\n\nDeprecated:   gone\nstill\n\nmore"), "gone\nstill");
        assert_eq!(deprecation("not Deprecated: here"), "");
    }
}
