//! What kind of failure an error is, so that the binary's exit code follows
//! from the error itself and every library error decides its kind once,
//! beside its definition, instead of in a chain of downcasts in the binary.

use std::error::Error;

use crate::fs::remove::Refusal;
use crate::go::modfile::{EditError, ParseError};
use crate::go::{gosum::GoSumError, modpath::InvalidPath, version::NotCanonical};
use crate::goenv::EnvError;
use crate::golock::LockError;
use crate::overrides::OverrideError;
use crate::policy::PolicyError;
use crate::prune::{ExecError, prepare::PrepareError, roots::RootsError};
use crate::scan::ScanError;
use crate::schedule::{expr::CronError, install::InstallError};
use crate::state::{NoStateDir, journal::JournalError, marks::MarkError};
use crate::verify::{dirhash::HashError, explain::ExplainError, project::ProjectError};

/// The kinds of failure, each with its documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Something gokeep examined is damaged (exit 1, like a verify finding).
    Findings,
    /// A bad flag, value, policy or project, or a directory that is not a
    /// Go cache: the caller can fix the command (exit 2).
    Usage,
    /// The machine or the Go environment failed gokeep: I/O, permissions,
    /// no home or state directory (exit 3).
    Environment,
    /// A cache directory that does not exist (exit 4).
    MissingCache,
}

impl ErrorClass {
    /// The process exit code documented for this class.
    #[must_use]
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorClass::Findings => 1,
            ErrorClass::Usage => 2,
            ErrorClass::Environment => 3,
            ErrorClass::MissingCache => 4,
        }
    }
}

/// An error that knows what kind of failure it is.
pub trait Classify {
    fn class(&self) -> ErrorClass;
}

/// A mistake in how gokeep was called that argument parsing could not catch.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The class of `err`: that of the outermost error in its source chain that
/// is one of gokeep's; an error from elsewhere (a bare I/O error) is an
/// environment failure.
#[must_use]
pub fn classify(err: &(dyn Error + 'static)) -> ErrorClass {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(class) = class_of(e) {
            return class;
        }
        cause = e.source();
    }
    ErrorClass::Environment
}

/// The class of `e` itself if it is one of gokeep's errors; its causes are not consulted.
fn class_of(e: &(dyn Error + 'static)) -> Option<ErrorClass> {
    macro_rules! try_types {
        ($($t:ty),* $(,)?) => {
            $(if let Some(e) = e.downcast_ref::<$t>() { return Some(e.class()); })*
        };
    }
    try_types!(
        UsageError,
        ScanError,
        PolicyError,
        RootsError,
        Refusal,
        ExecError,
        EnvError,
        ProjectError,
        ExplainError,
        LockError,
        JournalError,
        MarkError,
        HashError,
        GoSumError,
        ParseError,
        EditError,
        InvalidPath,
        NotCanonical,
        CronError,
        InstallError,
        OverrideError,
        PrepareError,
        NoStateDir,
    );
    None
}

impl Classify for UsageError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Usage
    }
}

impl Classify for ScanError {
    fn class(&self) -> ErrorClass {
        match self {
            ScanError::Missing { .. } => ErrorClass::MissingCache,
            ScanError::NotADirectory { .. } => ErrorClass::Usage,
            ScanError::Unreadable { .. } => ErrorClass::Environment,
        }
    }
}

impl Classify for PolicyError {
    /// An unreadable policy file is a wrong `--policy` as often as a disk
    /// problem; either way the command names a file gokeep cannot use.
    fn class(&self) -> ErrorClass {
        ErrorClass::Usage
    }
}

impl Classify for RootsError {
    fn class(&self) -> ErrorClass {
        match self {
            RootsError::Read { .. } => ErrorClass::Environment,
            RootsError::MissingProject { .. }
            | RootsError::NotAProject { .. }
            | RootsError::NoProjects { .. }
            | RootsError::BadGlob { .. }
            | RootsError::MissingUse { .. }
            | RootsError::ModFile { .. } => ErrorClass::Usage,
        }
    }
}

impl Classify for Refusal {
    /// A directory gokeep will not work in was named as a cache: a
    /// configuration mistake, unless it simply does not exist.
    fn class(&self) -> ErrorClass {
        match self {
            Refusal::Missing { .. } => ErrorClass::MissingCache,
            Refusal::Unreadable { .. } => ErrorClass::Environment,
            Refusal::FileSystemRoot { .. }
            | Refusal::Home { .. }
            | Refusal::NotADirectory { .. }
            | Refusal::NotAModCache { .. }
            | Refusal::NotABuildCache { .. }
            | Refusal::Outside { .. }
            | Refusal::ThroughSymlink { .. } => ErrorClass::Usage,
        }
    }
}

impl Classify for ExecError {
    fn class(&self) -> ErrorClass {
        match self {
            ExecError::Refused(r) => r.class(),
            ExecError::NoRoot { .. } => ErrorClass::Usage,
        }
    }
}

impl Classify for EnvError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Environment
    }
}

impl Classify for ProjectError {
    fn class(&self) -> ErrorClass {
        match self {
            ProjectError::NotAProject { .. } | ProjectError::GoWork { .. } => ErrorClass::Usage,
            ProjectError::Io { .. } | ProjectError::Write { .. } => ErrorClass::Environment,
        }
    }
}

impl Classify for ExplainError {
    /// The input given to explain holds nothing to explain.
    fn class(&self) -> ErrorClass {
        ErrorClass::Usage
    }
}

impl Classify for LockError {
    /// Go's lock files live in the cache: failing to open, lock or rewrite
    /// them is the cache's file system failing, not a wrong command.
    fn class(&self) -> ErrorClass {
        ErrorClass::Environment
    }
}

impl Classify for JournalError {
    /// No state directory means neither `GOKEEP_STATE_DIR` nor `HOME` is
    /// set: the environment, like an unreadable or unwritable journal.
    fn class(&self) -> ErrorClass {
        ErrorClass::Environment
    }
}

impl Classify for OverrideError {
    /// Wrong input is a usage error; what the file system or git refused is
    /// the environment's.
    fn class(&self) -> ErrorClass {
        match self {
            OverrideError::Read { .. }
            | OverrideError::Write { .. }
            | OverrideError::Lock { .. }
            | OverrideError::StateDir(_)
            | OverrideError::Git { .. } => ErrorClass::Environment,
            _ => ErrorClass::Usage,
        }
    }
}

impl Classify for NoStateDir {
    fn class(&self) -> ErrorClass {
        ErrorClass::Environment
    }
}

impl Classify for PrepareError {
    /// The library's own errors keep their class; a request that cannot be
    /// carried out as asked is the caller's to fix.
    fn class(&self) -> ErrorClass {
        match self {
            PrepareError::Policy(e) => e.class(),
            PrepareError::Refused(e) => e.class(),
            PrepareError::Roots(e) => e.class(),
            PrepareError::Marks(e) => e.class(),
            PrepareError::Scan(e) => e.class(),
            _ => ErrorClass::Usage,
        }
    }
}

impl Classify for MarkError {
    fn class(&self) -> ErrorClass {
        // No state directory, or one that cannot be read or written.
        match self {
            MarkError::State(_) | MarkError::Write { .. } | MarkError::Read { .. } | MarkError::Parse { .. } => {
                ErrorClass::Environment
            }
        }
    }
}

impl Classify for HashError {
    /// A file that cannot be read is the environment; one that reads but is
    /// not what Go writes (a broken zip, a name dirhash refuses) is damage
    /// in what was examined, which verify reports as a finding.
    fn class(&self) -> ErrorClass {
        match self {
            HashError::Io { .. } => ErrorClass::Environment,
            HashError::Zip { .. }
            | HashError::Archive { .. }
            | HashError::ZipEntry { .. }
            | HashError::Newline { .. } => ErrorClass::Findings,
        }
    }
}

impl Classify for GoSumError {
    /// Only raised when go.sum exists and cannot be read.
    fn class(&self) -> ErrorClass {
        ErrorClass::Environment
    }
}

impl Classify for ParseError {
    /// A go.mod or go.work Go itself would refuse: the project needs fixing.
    fn class(&self) -> ErrorClass {
        ErrorClass::Usage
    }
}

impl Classify for EditError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Usage
    }
}

impl Classify for InvalidPath {
    fn class(&self) -> ErrorClass {
        ErrorClass::Usage
    }
}

impl Classify for NotCanonical {
    fn class(&self) -> ErrorClass {
        ErrorClass::Usage
    }
}

impl Classify for CronError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Usage
    }
}

impl Classify for InstallError {
    fn class(&self) -> ErrorClass {
        match self {
            // A unit or crontab block gokeep did not write: the user decides, not gokeep.
            InstallError::NotOurs { .. } | InstallError::UnterminatedBlock { .. } => ErrorClass::Usage,
            InstallError::NoUnitDir
            | InstallError::Read { .. }
            | InstallError::Write { .. }
            | InstallError::Crontab { .. } => ErrorClass::Environment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::CacheKind;
    use std::path::PathBuf;

    fn io() -> std::io::Error {
        std::io::Error::other("disk")
    }

    /// An error wrapped by one that is not gokeep's, as `anyhow` context or
    /// an `io::Error` carrying a cause would wrap it.
    #[derive(Debug, thiserror::Error)]
    #[error("while doing something")]
    struct Wrapper(#[source] Box<dyn Error + Send + Sync>);

    #[test]
    fn every_class_has_an_error_of_its_own() {
        let p = || PathBuf::from("/x");
        let cases: Vec<(Box<dyn Error>, ErrorClass)> = vec![
            (Box::new(HashError::Newline { path: p(), name: "a\nb".into() }), ErrorClass::Findings),
            (Box::new(HashError::Zip { path: p(), message: "no directory".into() }), ErrorClass::Findings),
            (Box::new(HashError::Io { path: p(), source: io() }), ErrorClass::Environment),
            (Box::new(UsageError("bad".into())), ErrorClass::Usage),
            (Box::new(Refusal::NotAModCache { path: p() }), ErrorClass::Usage),
            (Box::new(ScanError::NotADirectory { kind: CacheKind::ModCache, path: p() }), ErrorClass::Usage),
            (Box::new(ProjectError::NotAProject { dir: p() }), ErrorClass::Usage),
            (Box::new(ExplainError::NothingFound), ErrorClass::Usage),
            (Box::new(CronError::UnknownZone("Mars/Olympus".into())), ErrorClass::Usage),
            (Box::new(InstallError::NotOurs { path: p() }), ErrorClass::Usage),
            (Box::new(EnvError::CacheOff), ErrorClass::Environment),
            (Box::new(ProjectError::Io { path: p(), source: io() }), ErrorClass::Environment),
            (Box::new(RootsError::Read { path: p(), source: io() }), ErrorClass::Environment),
            (Box::new(InstallError::NoUnitDir), ErrorClass::Environment),
            (Box::new(ScanError::Missing { kind: CacheKind::BuildCache, path: p() }), ErrorClass::MissingCache),
            (Box::new(Refusal::Missing { path: p() }), ErrorClass::MissingCache),
            (Box::new(ExecError::Refused(Refusal::Missing { path: p() })), ErrorClass::MissingCache),
            (Box::new(ExecError::Refused(Refusal::Unreadable { path: p(), source: io() })), ErrorClass::Environment),
        ];
        for (e, class) in &cases {
            assert_eq!(classify(e.as_ref()), *class, "{e}");
        }
        for class in [ErrorClass::Findings, ErrorClass::Usage, ErrorClass::Environment, ErrorClass::MissingCache] {
            assert!(cases.iter().any(|(_, c)| *c == class), "{class:?} has no case");
        }
    }

    /// These fell through to "I/O error" without a decision before; each
    /// now says what it is.
    #[test]
    fn lock_journal_mark_and_go_sum_failures_are_the_environment() {
        let p = || PathBuf::from("/x");
        let lock = LockError::Lock { path: p(), source: io() };
        let journal = JournalError::NoStateDir(NoStateDir);
        let mark = MarkError::State(NoStateDir);
        let parse = serde_json::from_str::<u8>("{").unwrap_err();
        let marks_file = MarkError::Parse { path: p(), source: parse };
        let go_sum = GoSumError { path: p(), source: io() };
        for e in [&lock as &dyn Error, &journal, &mark, &marks_file, &go_sum] {
            assert_eq!(classify(e), ErrorClass::Environment, "{e}");
        }
    }

    #[test]
    fn the_outermost_known_error_decides_and_unknown_wrappers_are_looked_through() {
        let wrapped = Wrapper(Box::new(Refusal::Missing { path: "/x".into() }));
        assert_eq!(classify(&wrapped), ErrorClass::MissingCache);
        // A usage error whose cause is an I/O failure stays a usage error.
        let outer = RootsError::ModFile { path: "/p/go.mod".into(), source: ParseError { errors: Vec::new() } };
        assert_eq!(classify(&Wrapper(Box::new(outer))), ErrorClass::Usage);
        assert_eq!(classify(&Wrapper(Box::new(io()))), ErrorClass::Environment);
    }

    #[test]
    fn a_marks_file_that_does_not_parse_keeps_its_cause() {
        let parse = serde_json::from_str::<u8>("{").unwrap_err();
        let e = MarkError::Parse { path: "/s/marks.json".into(), source: parse };
        assert!(e.source().is_some_and(<dyn Error>::is::<serde_json::Error>));
    }
}
