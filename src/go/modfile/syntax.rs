//! The lossless syntax tree of go.mod and go.work, and its lexer and parser.
//!
//! The lexer and parser follow `golang.org/x/mod/modfile/read.go` token for
//! token (same lookahead, same error texts and positions), so a file is
//! accepted or refused exactly as Go does. Every statement owns the raw bytes
//! of the physical lines it spans, leading white space, comments and line
//! ending included; the statements tile the input, so printing is
//! concatenation and `print(parse(x)) == x`. Edits replace whole lines.

use std::fmt::{self, Write as _};

/// A place in the input: 1-based line, 1-based column in runes, byte offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub col: usize,
    pub byte: usize,
}

/// One error, located as Go locates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    /// Go's `modfile.Error`: the column only when past the first one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.col > 1 {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message)
        } else if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// A whole-line comment or a blank line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trivia {
    pub(crate) raw: Vec<u8>,
    /// The comment text (`// ...`, line ending stripped); `None` for a blank line.
    pub comment: Option<String>,
}

/// A directive on one line: `require example.com/m v1.0.0 // indirect`, or
/// one line of a block (then without its verb).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub(crate) raw: Vec<u8>,
    /// Tokens as written (quoted strings keep their quotes), as Go's `Line.Token`.
    pub tokens: Vec<String>,
    /// The end-of-line comment, if any.
    pub comment: Option<String>,
    pub start: Position,
    /// Byte range of the tokens within `raw`.
    pub(crate) span: (usize, usize),
}

/// `verb (` ... `)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The raw `verb (` line; for `verb ()` on one line, the whole block.
    pub(crate) head: Vec<u8>,
    pub verb: Vec<String>,
    pub start: Position,
    pub items: Vec<Item>,
    pub(crate) close: Vec<u8>,
    /// End-of-line comments on the `(` and `)` lines.
    pub comments: Vec<String>,
    pub one_line: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Trivia(Trivia),
    Line(Line),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stmt {
    Trivia(Trivia),
    Line(Line),
    Block(Block),
}

/// A parsed file: statements that tile it, then any trailing white space
/// after the last line ending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Syntax {
    pub stmts: Vec<Stmt>,
    pub(crate) tail: Vec<u8>,
}

impl Syntax {
    /// The file's bytes.
    #[must_use]
    pub fn print(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for s in &self.stmts {
            match s {
                Stmt::Trivia(t) => out.extend_from_slice(&t.raw),
                Stmt::Line(l) => out.extend_from_slice(&l.raw),
                Stmt::Block(b) => {
                    out.extend_from_slice(&b.head);
                    for i in &b.items {
                        out.extend_from_slice(match i {
                            Item::Trivia(t) => &t.raw,
                            Item::Line(l) => &l.raw,
                        });
                    }
                    out.extend_from_slice(&b.close);
                }
            }
        }
        out.extend_from_slice(&self.tail);
        out
    }
}

impl Block {
    /// Go's `Comments.Before` of each line of the block, in order: the
    /// comments (and `""` for a run of blank lines after a line) between it
    /// and the line before, as `parseLineBlock` collects them.
    #[must_use]
    pub fn befores(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut comments: Vec<String> = Vec::new();
        let mut lines = 0;
        for item in &self.items {
            match item {
                Item::Trivia(Trivia { comment: None, .. }) => {
                    if (comments.is_empty() && lines > 0) || comments.last().is_some_and(|c| !c.is_empty()) {
                        comments.push(String::new());
                    }
                }
                Item::Trivia(Trivia { comment: Some(c), .. }) => comments.push(c.clone()),
                Item::Line(_) => {
                    out.push(std::mem::take(&mut comments));
                    lines += 1;
                }
            }
        }
        out
    }

    pub fn lines(&self) -> impl Iterator<Item = &Line> {
        self.items.iter().filter_map(|i| match i {
            Item::Line(l) => Some(l),
            Item::Trivia(_) => None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Eof,
    EolComment,
    Ident,
    Str,
    Comment,
    Punct(u8),
}

impl Kind {
    fn is_eol(self) -> bool {
        matches!(self, Kind::Eof | Kind::EolComment | Kind::Punct(b'\n'))
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    pos: Position,
    end: Position,
    text: String,
}

struct Parser<'a> {
    file: &'a str,
    data: &'a [u8],
    pos: Position,
    tok: Token,
    /// Bytes before `cut` belong to statements already built.
    cut: usize,
}

type Result<T> = std::result::Result<T, Diagnostic>;

/// `utf8.DecodeRune`: an invalid byte is U+FFFD of width 1.
fn decode(b: &[u8]) -> (char, usize) {
    let Some(&first) = b.first() else { return ('\0', 0) };
    if first < 0x80 {
        return (char::from(first), 1);
    }
    let n = match first {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (char::REPLACEMENT_CHARACTER, 1),
    };
    match b.get(..n).and_then(|s| std::str::from_utf8(s).ok()) {
        Some(s) => (s.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER), n),
        None => (char::REPLACEMENT_CHARACTER, 1),
    }
}

/// `unicode.IsPrint`, without Unicode's tables: letters, marks, numbers,
/// punctuation, symbols and U+0020. Controls, other spaces, format
/// characters, private use and non-characters are not printable.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let u = c as u32;
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F | 0x2028..=0x202E)
        || matches!(u, 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF0000..)
        || matches!(u, 0xFDD0..=0xFDEF)
        || u & 0xFFFE == 0xFFFE)
}

fn is_ident(c: char) -> bool {
    match c {
        ' ' | '(' | ')' | '[' | ']' | '{' | '}' | ',' => false,
        c => !c.is_whitespace() && is_print(c),
    }
}

/// Go's `%q` of a rune (`strconv.QuoteRune`).
pub(crate) fn quote_rune(c: char) -> String {
    let mut s = String::from("'");
    escape_into(&mut s, c, '\'');
    s.push('\'');
    s
}

/// Go's `strconv.Quote`.
pub(crate) fn quote(text: &str) -> String {
    let mut s = String::from("\"");
    for c in text.chars() {
        escape_into(&mut s, c, '"');
    }
    s.push('"');
    s
}

fn escape_into(s: &mut String, c: char, q: char) {
    match c {
        c if c == q || c == '\\' => {
            s.push('\\');
            s.push(c);
        }
        c if is_print(c) => s.push(c),
        '\x07' => s.push_str("\\a"),
        '\x08' => s.push_str("\\b"),
        '\x0c' => s.push_str("\\f"),
        '\n' => s.push_str("\\n"),
        '\r' => s.push_str("\\r"),
        '\t' => s.push_str("\\t"),
        '\x0b' => s.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\x7f' => {
            let _ = write!(s, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(s, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(s, "\\U{:08x}", c as u32);
        }
    }
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> Diagnostic {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, pos: Position, message: impl Into<String>) -> Diagnostic {
        Diagnostic { file: self.file.to_owned(), line: pos.line, col: pos.col, message: message.into() }
    }

    fn eof(&self) -> bool {
        self.pos.byte >= self.data.len()
    }

    fn peek_rune(&self) -> char {
        decode(&self.data[self.pos.byte..]).0
    }

    fn peek_prefix(&self, p: &str) -> bool {
        self.data[self.pos.byte..].starts_with(p.as_bytes())
    }

    fn read_rune(&mut self) -> char {
        let (c, n) = decode(&self.data[self.pos.byte..]);
        self.pos.byte += n;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.col = 1;
        } else {
            self.pos.col += 1;
        }
        c
    }

    fn end_token(&mut self, kind: Kind, start: Position) {
        let mut raw = &self.data[start.byte..self.pos.byte];
        if matches!(kind, Kind::Comment | Kind::EolComment) {
            raw = raw.strip_suffix(b"\r\n").or_else(|| raw.strip_suffix(b"\n")).unwrap_or(raw);
        }
        self.tok = Token { kind, pos: start, end: self.pos, text: String::from_utf8_lossy(raw).into_owned() };
    }

    fn read_token(&mut self) -> Result<()> {
        while !self.eof() {
            let c = self.peek_rune();
            if matches!(c, ' ' | '\t' | '\r') {
                self.read_rune();
                continue;
            }
            if self.peek_prefix("//") {
                let start = self.pos;
                let line_start = self.data[..start.byte].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                let suffix = !String::from_utf8_lossy(&self.data[line_start..start.byte]).trim().is_empty();
                self.read_rune();
                self.read_rune();
                while !self.eof() && self.read_rune() != '\n' {}
                self.end_token(if suffix { Kind::EolComment } else { Kind::Comment }, start);
                return Ok(());
            }
            if self.peek_prefix("/*") {
                return Err(self.error("mod files must use // comments (not /* */ comments)"));
            }
            break;
        }
        let start = self.pos;
        if self.eof() {
            self.end_token(Kind::Eof, start);
            return Ok(());
        }
        let c = self.peek_rune();
        match c {
            '\n' | '(' | ')' | '[' | ']' | '{' | '}' | ',' => {
                self.read_rune();
                self.end_token(Kind::Punct(c as u8), start);
                return Ok(());
            }
            '"' | '`' => {
                self.read_rune();
                loop {
                    if self.eof() {
                        return Err(self.error_at(start, "unexpected EOF in string"));
                    }
                    if self.peek_rune() == '\n' {
                        return Err(self.error("unexpected newline in string"));
                    }
                    let d = self.read_rune();
                    if d == c {
                        break;
                    }
                    if d == '\\' && c != '`' {
                        if self.eof() {
                            return Err(self.error_at(start, "unexpected EOF in string"));
                        }
                        self.read_rune();
                    }
                }
                self.end_token(Kind::Str, start);
                return Ok(());
            }
            _ => {}
        }
        if !is_ident(c) {
            return Err(self.error(format!("unexpected input character {}", quote_rune(c))));
        }
        while !self.eof() && is_ident(self.peek_rune()) {
            if self.peek_prefix("//") {
                break;
            }
            if self.peek_prefix("/*") {
                return Err(self.error("mod files must use // comments (not /* */ comments)"));
            }
            self.read_rune();
        }
        self.end_token(Kind::Ident, start);
        Ok(())
    }

    fn peek(&self) -> Kind {
        self.tok.kind
    }

    fn lex(&mut self) -> Result<Token> {
        let tok = self.tok.clone();
        self.read_token()?;
        Ok(tok)
    }

    /// The raw bytes from the end of the previous statement to `end`.
    fn take(&mut self, end: usize) -> Vec<u8> {
        let raw = self.data[self.cut..end].to_vec();
        self.cut = end;
        raw
    }

    fn line(&mut self, start: &Token, tokens: Vec<String>, last_end: usize, eol: &Token) -> Line {
        let base = self.cut;
        let raw = self.take(eol.end.byte);
        Line {
            raw,
            tokens,
            comment: (eol.kind == Kind::EolComment).then(|| eol.text.clone()),
            start: start.pos,
            span: (start.pos.byte - base, last_end - base),
        }
    }

    fn parse_file(&mut self) -> Result<Syntax> {
        let mut syntax = Syntax::default();
        loop {
            match self.peek() {
                Kind::Punct(b'\n') => {
                    let t = self.lex()?;
                    syntax.stmts.push(Stmt::Trivia(Trivia { raw: self.take(t.end.byte), comment: None }));
                }
                Kind::Comment => {
                    let t = self.lex()?;
                    syntax.stmts.push(Stmt::Trivia(Trivia { raw: self.take(t.end.byte), comment: Some(t.text) }));
                }
                Kind::Eof => {
                    syntax.tail = self.take(self.data.len());
                    return Ok(syntax);
                }
                _ => {
                    let s = self.parse_stmt()?;
                    syntax.stmts.push(s);
                }
            }
        }
    }

    fn parse_stmt(&mut self) -> Result<Stmt> {
        let first = self.lex()?;
        let mut tokens = vec![first.text.clone()];
        let mut last_end = first.end.byte;
        loop {
            let tok = self.lex()?;
            if tok.kind.is_eol() {
                return Ok(Stmt::Line(self.line(&first, tokens, last_end, &tok)));
            }
            if tok.kind == Kind::Punct(b'(') {
                if self.peek().is_eol() {
                    return self.parse_line_block(&first, tokens).map(Stmt::Block);
                } else if self.peek() == Kind::Punct(b')') {
                    let rparen = self.lex()?;
                    if self.peek().is_eol() {
                        let eol = self.lex()?;
                        return Ok(Stmt::Block(Block {
                            head: self.take(eol.end.byte),
                            verb: tokens,
                            start: first.pos,
                            items: Vec::new(),
                            close: Vec::new(),
                            comments: (eol.kind == Kind::EolComment).then_some(eol.text).into_iter().collect(),
                            one_line: true,
                        }));
                    }
                    tokens.push(tok.text);
                    tokens.push(rparen.text);
                    last_end = rparen.end.byte;
                } else {
                    tokens.push(tok.text);
                    last_end = tok.end.byte;
                }
            } else {
                tokens.push(tok.text);
                last_end = tok.end.byte;
            }
        }
    }

    fn parse_line_block(&mut self, first: &Token, verb: Vec<String>) -> Result<Block> {
        let mut block = Block {
            head: Vec::new(),
            verb,
            start: first.pos,
            items: Vec::new(),
            close: Vec::new(),
            comments: Vec::new(),
            one_line: false,
        };
        let mut head_done = false;
        loop {
            match self.peek() {
                Kind::EolComment | Kind::Punct(b'\n') if !head_done => {
                    let t = self.lex()?;
                    block.head = self.take(t.end.byte);
                    if t.kind == Kind::EolComment {
                        block.comments.push(t.text);
                    }
                    head_done = true;
                }
                Kind::EolComment => {
                    // Go skips it; only reachable after `(`, handled above.
                    self.lex()?;
                }
                Kind::Punct(b'\n') => {
                    let t = self.lex()?;
                    block.items.push(Item::Trivia(Trivia { raw: self.take(t.end.byte), comment: None }));
                }
                Kind::Comment => {
                    let t = self.lex()?;
                    block.items.push(Item::Trivia(Trivia { raw: self.take(t.end.byte), comment: Some(t.text) }));
                }
                Kind::Eof => {
                    return Err(self.error(format!(
                        "syntax error (unterminated block started at {}:{}:{})",
                        self.file, first.pos.line, first.pos.col
                    )));
                }
                Kind::Punct(b')') => {
                    self.lex()?;
                    if !self.peek().is_eol() {
                        return Err(self.error("syntax error (expected newline after closing paren)"));
                    }
                    let eol = self.lex()?;
                    block.close = self.take(eol.end.byte);
                    if eol.kind == Kind::EolComment {
                        block.comments.push(eol.text);
                    }
                    return Ok(block);
                }
                _ => {
                    let start = self.lex()?;
                    let mut tokens = vec![start.text.clone()];
                    let mut last_end = start.end.byte;
                    loop {
                        let tok = self.lex()?;
                        if tok.kind.is_eol() {
                            let line = self.line(&start, tokens, last_end, &tok);
                            block.items.push(Item::Line(line));
                            break;
                        }
                        tokens.push(tok.text);
                        last_end = tok.end.byte;
                    }
                }
            }
        }
    }
}

/// Parses go.mod or go.work syntax. `file` names the file in errors.
pub fn parse(file: &str, data: &[u8]) -> std::result::Result<Syntax, Diagnostic> {
    let start = Position { line: 1, col: 1, byte: 0 };
    let mut p = Parser {
        file,
        data,
        pos: start,
        tok: Token { kind: Kind::Eof, pos: start, end: start, text: String::new() },
        cut: 0,
    };
    p.read_token()?;
    let syntax = p.parse_file()?;
    debug_assert_eq!(syntax.print(), data);
    Ok(syntax)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_tile_the_input() {
        let text = "// head\r\nmodule m // c\r\n\r\nrequire (\r\n\t// lead\r\n\ta v1.0.0 // indirect\r\n\r\n)\r\n  ";
        let s = parse("go.mod", text.as_bytes()).unwrap();
        assert_eq!(s.print(), text.as_bytes());
        assert_eq!(s.stmts.len(), 4);
        let Stmt::Block(b) = &s.stmts[3] else { panic!("{:?}", s.stmts[3]) };
        assert_eq!(b.befores(), [vec!["// lead".to_owned()]]);
        let l = b.lines().next().unwrap();
        assert_eq!(l.tokens, ["a", "v1.0.0"]);
        assert_eq!(l.comment.as_deref(), Some("// indirect"));
        assert_eq!(&l.raw[l.span.0..l.span.1], b"a v1.0.0");
        assert_eq!(s.tail, b"  ");
    }

    #[test]
    fn lexer_errors_are_go_s() {
        let e = |t: &str| parse("go.mod", t.as_bytes()).unwrap_err().to_string();
        assert_eq!(e("module m\nrequire (\n"), "go.mod:3: syntax error (unterminated block started at go.mod:2:1)");
        assert_eq!(e("module \"m\n"), "go.mod:1:10: unexpected newline in string");
        assert_eq!(e("module /* x */"), "go.mod:1:8: mod files must use // comments (not /* */ comments)");
        assert_eq!(e("require (\n) x\n"), "go.mod:2:4: syntax error (expected newline after closing paren)");
        assert_eq!(e("module \u{feff}m\n"), "go.mod:1:8: unexpected input character '\\ufeff'");
        assert_eq!(e("module \"m"), "go.mod:1:8: unexpected EOF in string");
    }
}
