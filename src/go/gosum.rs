//! go.sum files: `<module> <version>[/go.mod] <hash>` lines, as
//! `cmd/go/internal/modfetch/fetch.go` (`readGoSum`) reads them. Used by
//! verify (hashes to check) and by prune (GC roots).

use std::path::{Path, PathBuf};

use serde::Serialize;

/// `emptyGoModHash` in `cmd/go/internal/modfetch/fetch.go`: the hash of a
/// lone empty go.mod, which cmd/go once wrote by mistake and now ignores.
pub const EMPTY_GO_MOD_HASH: &str = "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=";

/// Which hash a go.sum line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SumKind {
    /// `h1:` of the module zip's contents.
    Zip,
    /// `h1:` of the module's go.mod alone (`<version>/go.mod`).
    GoMod,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SumLine {
    pub module: String,
    pub version: String,
    pub kind: SumKind,
    pub hash: String,
    /// 1-based line number in the file.
    pub line: usize,
}

/// A line cmd/go would reject, kept so that callers can report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct BadLine {
    pub line: usize,
    pub text: String,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct GoSum {
    pub path: PathBuf,
    pub lines: Vec<SumLine>,
    pub bad: Vec<BadLine>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct GoSumError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl GoSum {
    /// Parses go.sum text. Unlike cmd/go, which stops at the first malformed
    /// line, every line is looked at so a report can name them all.
    #[must_use]
    pub fn parse(path: &Path, text: &str) -> GoSum {
        let mut sum = GoSum { path: path.to_owned(), ..GoSum::default() };
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let fields: Vec<&str> = raw.split_whitespace().collect();
            match fields.as_slice() {
                [] => {}
                // Written by an old cmd/go bug for non-modules; cmd/go drops these.
                [_, _, hash] if *hash == EMPTY_GO_MOD_HASH => {}
                [module, version, hash] => {
                    let (version, kind) = match version.strip_suffix("/go.mod") {
                        Some(v) => (v, SumKind::GoMod),
                        None => (*version, SumKind::Zip),
                    };
                    if !hash.contains(':') {
                        sum.bad.push(BadLine {
                            line,
                            text: raw.to_owned(),
                            reason: "hash has no algorithm prefix (go ignores the line)",
                        });
                        continue;
                    }
                    sum.lines.push(SumLine {
                        module: (*module).to_owned(),
                        version: version.to_owned(),
                        kind,
                        hash: (*hash).to_owned(),
                        line,
                    });
                }
                // cmd/go (readGoSum) stops every command but `go mod tidy` here.
                _ => sum.bad.push(BadLine {
                    line,
                    text: raw.to_owned(),
                    reason: "expected 3 fields (go refuses the whole file)",
                }),
            }
        }
        sum
    }

    pub fn read(path: &Path) -> Result<GoSum, GoSumError> {
        let text = std::fs::read(path).map_err(|source| GoSumError { path: path.to_owned(), source })?;
        Ok(Self::parse(path, &String::from_utf8_lossy(&text)))
    }

    /// The recorded hash for a module version, if any.
    #[must_use]
    pub fn hash(&self, module: &str, version: &str, kind: SumKind) -> Option<&str> {
        self.lines
            .iter()
            .find(|l| l.module == module && l.version == version && l.kind == kind)
            .map(|l| l.hash.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zip_and_go_mod_lines() {
        let text = "example.com/a v1.0.0 h1:abc=\nexample.com/a v1.0.0/go.mod h1:def=\n\n";
        let s = GoSum::parse(Path::new("go.sum"), text);
        assert_eq!(s.lines.len(), 2);
        assert_eq!(s.hash("example.com/a", "v1.0.0", SumKind::Zip), Some("h1:abc="));
        assert_eq!(s.hash("example.com/a", "v1.0.0", SumKind::GoMod), Some("h1:def="));
        assert_eq!(s.lines[1].line, 2);
        assert!(s.bad.is_empty());
    }

    #[test]
    fn lines_with_the_empty_go_mod_hash_are_dropped_like_go_does() {
        let text = format!("example.com/a v1.0.0/go.mod {EMPTY_GO_MOD_HASH}\nexample.com/a v1.0.0 h1:x=\n");
        let s = GoSum::parse(Path::new("go.sum"), &text);
        assert_eq!(s.lines.len(), 1);
        assert_eq!(s.lines[0].kind, SumKind::Zip);
        assert!(s.bad.is_empty());
    }

    #[test]
    fn garbage_lines_are_reported_not_fatal() {
        let text = "garbage\nexample.com/a v1.0.0 nocolon\nexample.com/b v1.0.0 h1:x=\n\u{0}\u{1} \u{ff}";
        let s = GoSum::parse(Path::new("go.sum"), text);
        assert_eq!(s.lines.len(), 1);
        assert_eq!(s.bad.iter().map(|b| b.line).collect::<Vec<_>>(), [1, 2, 4]);
    }
}
