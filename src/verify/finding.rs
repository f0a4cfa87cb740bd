//! What verification found: one [`Finding`] per problem, with the witnesses
//! that disagree, the files involved and the fix gokeep would apply.
//!
//! ## Severities and the exit code
//! - `error`: a witness disagrees with another (corruption, a wrong go.sum
//!   line). cmd/go would refuse or silently use bad bits.
//! - `warning`: debris cmd/go leaves after a crash or an interrupted
//!   download (`.partial`, temp files, trees without a download). Harmless
//!   to builds, which repair or ignore it, but worth cleaning.
//! - `info`: facts that are not problems on their own, such as a go.sum
//!   line for a module that was never downloaded into this cache (normal on a
//!   fresh CI machine) or a download without `.info`.
//!
//! `gokeep verify` exits 1 when any finding is a warning or an error, so that
//! CI fails on corruption and debris but not on an empty cache.

use std::path::PathBuf;

use serde::Serialize;

use super::dirhash::TreeDiff;
use crate::prune::Target;

/// What kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The zip's `h1:` differs from `.ziphash` (and the tree agrees with `.ziphash`, or is absent).
    ZipModified,
    /// The zip cannot be read: truncated, bad CRC, bad central directory.
    ZipUnreadable,
    /// A zip entry is not below `<module>@<version>/`.
    ZipUnexpectedFile,
    /// Zip and tree agree with each other but not with `.ziphash`.
    ZiphashWrong,
    /// A zip or tree exists but `.ziphash` does not.
    ZiphashMissing,
    /// `.ziphash` is not a 47-byte `h1:` hash (NUL bytes, binary garbage, truncated).
    ZiphashMalformed,
    /// The extracted tree's `h1:` differs from `.ziphash`; see `diff`.
    DirModified,
    /// The extracted tree cannot be read.
    DirUnreadable,
    /// The downloaded `.mod` differs from the go.mod inside the zip.
    ModMismatch,
    /// The checksum database's cached record disagrees with the cache.
    SumdbMismatch,
    /// A `.partial` marker: an extraction was interrupted.
    Partial,
    /// A `<version>.<suffix><random>.tmp` download file.
    TempFile,
    /// A pre-Go-1.16 `<module>@<version>.tmp-*` extraction directory.
    ExtractTemp,
    /// An extracted tree with neither zip nor `.ziphash`.
    ExtractedWithoutDownload,
    /// A go.sum `h1:` line differs from the cache's hash of the module.
    GoSumMismatch,
    /// A go.sum `/go.mod` line differs from the hash of the cached `.mod`.
    GoSumGoModMismatch,
    /// A go.sum line cmd/go would reject.
    GoSumMalformed,
    /// A go.sum line for a module version this cache does not hold.
    NotInCache,
    /// A GOCACHE action entry (`-a`) that is not Go's 175-byte format.
    BuildActionMalformed,
    /// A GOCACHE output (`-d`) whose size or SHA-256 differs from its action entry.
    BuildOutputMismatch,
}

impl FindingKind {
    /// Every kind, in declaration order: metrics write each one, zeros
    /// included, so an alert never depends on a series appearing.
    pub const ALL: [FindingKind; 20] = {
        use FindingKind as K;
        [
            K::ZipModified,
            K::ZipUnreadable,
            K::ZipUnexpectedFile,
            K::ZiphashWrong,
            K::ZiphashMissing,
            K::ZiphashMalformed,
            K::DirModified,
            K::DirUnreadable,
            K::ModMismatch,
            K::SumdbMismatch,
            K::Partial,
            K::TempFile,
            K::ExtractTemp,
            K::ExtractedWithoutDownload,
            K::GoSumMismatch,
            K::GoSumGoModMismatch,
            K::GoSumMalformed,
            K::NotInCache,
            K::BuildActionMalformed,
            K::BuildOutputMismatch,
        ]
    };

    #[must_use]
    pub fn severity(self) -> Severity {
        use FindingKind as K;
        match self {
            K::Partial | K::TempFile | K::ExtractTemp | K::ExtractedWithoutDownload | K::BuildActionMalformed => {
                Severity::Warning
            }
            K::NotInCache => Severity::Info,
            _ => Severity::Error,
        }
    }

    /// The `snake_case` name used in JSON and text.
    #[must_use]
    pub fn name(self) -> &'static str {
        use FindingKind as K;
        match self {
            K::ZipModified => "zip_modified",
            K::ZipUnreadable => "zip_unreadable",
            K::ZipUnexpectedFile => "zip_unexpected_file",
            K::ZiphashWrong => "ziphash_wrong",
            K::ZiphashMissing => "ziphash_missing",
            K::ZiphashMalformed => "ziphash_malformed",
            K::DirModified => "dir_modified",
            K::DirUnreadable => "dir_unreadable",
            K::ModMismatch => "mod_mismatch",
            K::SumdbMismatch => "sumdb_mismatch",
            K::Partial => "partial",
            K::TempFile => "temp_file",
            K::ExtractTemp => "extract_temp",
            K::ExtractedWithoutDownload => "extracted_without_download",
            K::GoSumMismatch => "go_sum_mismatch",
            K::GoSumGoModMismatch => "go_sum_go_mod_mismatch",
            K::GoSumMalformed => "go_sum_malformed",
            K::NotInCache => "not_in_cache",
            K::BuildActionMalformed => "build_action_malformed",
            K::BuildOutputMismatch => "build_output_mismatch",
        }
    }
}

/// How much a finding matters; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// What gokeep would do about a finding. Fixes only remove cache entries
/// (through the prune executor); cmd/go re-downloads and re-verifies them
/// against go.sum and the checksum database on next use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Fix {
    /// One line, for people.
    pub action: String,
    pub targets: Vec<Target>,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    pub module: Option<String>,
    pub version: Option<String>,
    /// The files that disagree or are left over.
    pub paths: Vec<PathBuf>,
    /// What the trusted witness records (`.ziphash`, go.sum, the 175-byte format).
    pub expected: Option<String>,
    /// What was found.
    pub actual: Option<String>,
    /// One sentence saying what is wrong.
    pub detail: String,
    /// For trees: which files were modified, added or removed (against the zip).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<TreeDiff>,
    pub fix: Option<Fix>,
}

impl Finding {
    #[must_use]
    pub fn new(kind: FindingKind, detail: impl Into<String>) -> Self {
        Finding {
            kind,
            severity: kind.severity(),
            module: None,
            version: None,
            paths: Vec::new(),
            expected: None,
            actual: None,
            detail: detail.into(),
            diff: None,
            fix: None,
        }
    }

    #[must_use]
    pub fn module(mut self, module: &str, version: &str) -> Self {
        self.module = Some(module.to_owned());
        self.version = Some(version.to_owned());
        self
    }

    #[must_use]
    pub fn path(mut self, p: impl Into<PathBuf>) -> Self {
        self.paths.push(p.into());
        self
    }

    #[must_use]
    pub fn hashes(mut self, expected: Option<&str>, actual: Option<&str>) -> Self {
        self.expected = expected.map(str::to_owned);
        self.actual = actual.map(str::to_owned);
        self
    }

    #[must_use]
    pub fn fix(mut self, action: impl Into<String>, targets: Vec<Target>) -> Self {
        self.fix = Some(Fix { action: action.into(), targets });
        self
    }

    /// `module@version`, or `""` for findings about no module.
    #[must_use]
    pub fn module_version(&self) -> String {
        match (&self.module, &self.version) {
            (Some(m), Some(v)) => format!("{m}@{v}"),
            (Some(m), None) => m.clone(),
            _ => String::new(),
        }
    }
}

/// Counts per severity, for the summary line and the exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Tally {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Tally {
    #[must_use]
    pub fn of(findings: &[Finding]) -> Self {
        let mut t = Tally::default();
        for f in findings {
            match f.severity {
                Severity::Error => t.errors += 1,
                Severity::Warning => t.warnings += 1,
                Severity::Info => t.infos += 1,
            }
        }
        t
    }

    /// Whether the run should fail (exit 1).
    #[must_use]
    pub fn failing(&self) -> bool {
        self.errors + self.warnings > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON Schema lists every variant serde can write: `ALL` must too.
    #[test]
    fn all_lists_every_kind_once() {
        fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        match (k.as_str(), v) {
                            ("const", serde_json::Value::String(s)) => out.push(s.clone()),
                            ("enum", serde_json::Value::Array(a)) => {
                                out.extend(a.iter().filter_map(|s| s.as_str().map(str::to_owned)));
                            }
                            _ => strings(v, out),
                        }
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
                _ => {}
            }
        }
        let schema = serde_json::to_value(schemars::schema_for!(FindingKind)).unwrap();
        let mut declared = Vec::new();
        strings(&schema, &mut declared);
        declared.sort();
        let mut listed: Vec<String> = FindingKind::ALL.iter().map(|k| k.name().to_owned()).collect();
        listed.sort();
        listed.dedup();
        assert_eq!(listed.len(), FindingKind::ALL.len(), "a kind listed twice");
        assert_eq!(listed, declared);
    }
}
