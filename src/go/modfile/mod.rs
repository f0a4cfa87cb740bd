//! go.mod and go.work, losslessly: a syntax tree that prints back to the
//! exact bytes it was parsed from (comments, blank lines, blocks, quoting,
//! CRLF, a missing final newline, unknown directives), and the data Go reads
//! from it, as `go mod edit -json` and `go work edit -json` show it.
//!
//! Reading mirrors `golang.org/x/mod/modfile` (`Parse` and `ParseWork`, as
//! `go mod edit` and `go work edit` call them): the same files are refused,
//! with Go's wording and `file:line:col`. Editing (`replace` and `use` lines)
//! changes only the lines it adds, rewrites or removes, in the style the file
//! already has, and re-reads the result, so an edited file round-trips too.

mod edit;
mod rules;
pub mod syntax;

use std::fmt;

use serde::Serialize;

pub use rules::{auto_quote, is_directory_path};
pub use syntax::{Block, Diagnostic, Item, Line, Position, Stmt, Syntax, Trivia};

/// A file Go would refuse: every error Go reports, in Go's order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    pub errors: Vec<Diagnostic>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// An edit gokeep refused: an argument `go mod edit` would refuse, or a
/// result Go could not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// Worded as `go mod edit -replace` words it: `invalid old path: ...`.
    #[error("invalid {what} path: {source}")]
    Path { what: &'static str, source: crate::go::modpath::InvalidPath },
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl From<Diagnostic> for ParseError {
    fn from(d: Diagnostic) -> Self {
        ParseError { errors: vec![d] }
    }
}

/// Where a directive sits in the syntax tree: a statement, and for a block
/// line its index among the block's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LineRef {
    pub stmt: usize,
    pub item: Option<usize>,
    /// 1-based line number in the file as parsed.
    pub line: usize,
}

/// A module path and an optional version (`module.Version`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct ModVersion {
    pub path: String,
    /// Empty when absent (a replacement directory, an unversioned replace).
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Module {
    pub path: String,
    /// The `Deprecated:` paragraph of the module line's comments.
    pub deprecated: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Godebug {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Require {
    pub path: String,
    pub version: String,
    pub indirect: bool,
    pub at: LineRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Replace {
    pub old: ModVersion,
    pub new: ModVersion,
    pub at: LineRef,
}

impl Replace {
    /// True when the replacement is a directory, not a module version.
    #[must_use]
    pub fn is_local(&self) -> bool {
        self.new.version.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Retract {
    pub low: String,
    pub high: String,
    pub rationale: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Use {
    pub path: String,
    pub at: LineRef,
}

/// A go.mod file: its syntax and what Go reads from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModFile {
    pub name: String,
    pub syntax: Syntax,
    pub module: Option<Module>,
    pub go: Option<String>,
    pub toolchain: Option<String>,
    pub godebug: Vec<Godebug>,
    pub require: Vec<Require>,
    pub exclude: Vec<ModVersion>,
    pub replace: Vec<Replace>,
    pub retract: Vec<Retract>,
    pub tool: Vec<String>,
    pub ignore: Vec<String>,
}

/// A go.work file: its syntax and what Go reads from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkFile {
    pub name: String,
    pub syntax: Syntax,
    pub go: Option<String>,
    pub toolchain: Option<String>,
    pub godebug: Vec<Godebug>,
    pub uses: Vec<Use>,
    pub replace: Vec<Replace>,
}

impl Syntax {
    /// The text of the line a directive sits on, as written, without its
    /// line ending (for messages that quote the file).
    #[must_use]
    pub fn line_text(&self, at: LineRef) -> Option<String> {
        let line = match (self.stmts.get(at.stmt)?, at.item) {
            (Stmt::Line(l), None) => l,
            (Stmt::Block(b), Some(j)) => match b.items.get(j)? {
                Item::Line(l) => l,
                Item::Trivia(_) => return None,
            },
            _ => return None,
        };
        let text = String::from_utf8_lossy(&line.raw);
        Some(text.trim_end_matches(['\n', '\r']).to_owned())
    }
}

impl ModFile {
    /// Parses a go.mod as `modfile.Parse` does (strict: unknown directives
    /// and malformed versions are errors). `name` is used in errors.
    pub fn parse(name: &str, data: &[u8]) -> Result<ModFile, ParseError> {
        let syntax = syntax::parse(name, data)?;
        rules::read_mod(name, syntax)
    }

    /// The file's bytes: exactly the input, plus any edits.
    #[must_use]
    pub fn print(&self) -> Vec<u8> {
        self.syntax.print()
    }
}

impl WorkFile {
    /// Parses a go.work as `modfile.ParseWork` does.
    pub fn parse(name: &str, data: &[u8]) -> Result<WorkFile, ParseError> {
        let syntax = syntax::parse(name, data)?;
        rules::read_work(name, syntax)
    }

    #[must_use]
    pub fn print(&self) -> Vec<u8> {
        self.syntax.print()
    }
}
