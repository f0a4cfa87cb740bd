//! Exit codes: one per kind of result, so timers and CI can act on them.

use std::process::ExitCode;

use gokeep::error::{ErrorClass, classify};

use super::Printer;

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success, nothing found
  1  findings (verify found problems, a check failed)
  2  usage or configuration error (bad flag, bad policy file, a directory that is not a Go cache)
  3  I/O or environment error (unreadable cache, invalid Go environment)
  4  a cache directory does not exist
  5  a plan was shown but not carried out: no terminal to ask and no --yes
130  interrupted (Ctrl-C): the item in hand was finished, the rest left as it was";

/// How a command that ran to the end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code, reason = "Findings is produced by checking commands")]
pub enum Outcome {
    Clean,
    Findings,
    /// A plan that deletes or edits was shown, but nobody could consent (see `consent`).
    NotConsented,
    /// Ctrl-C stopped the run between two items.
    Interrupted,
}

/// Every way gokeep can end, with its process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Findings = 1,
    Usage = 2,
    Environment = 3,
    MissingCache = 4,
    NotConsented = 5,
    Interrupted = 130,
}

impl Exit {
    fn of_error(err: &anyhow::Error) -> Exit {
        match classify(err.as_ref()) {
            ErrorClass::Findings => Exit::Findings,
            ErrorClass::Usage => Exit::Usage,
            ErrorClass::Environment => Exit::Environment,
            ErrorClass::MissingCache => Exit::MissingCache,
        }
    }
}

pub use gokeep::error::UsageError;

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().filter_map(|c| c.downcast_ref::<std::io::Error>()).any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Turns a command's result into the process exit code, printing the error.
pub fn finish(result: anyhow::Result<Outcome>, printer: &Printer) -> ExitCode {
    let exit = match result {
        Ok(Outcome::Clean) => Exit::Success,
        Ok(Outcome::Findings) => Exit::Findings,
        Ok(Outcome::NotConsented) => Exit::NotConsented,
        Ok(Outcome::Interrupted) => Exit::Interrupted,
        // `gokeep status | head` is not a failure.
        Err(e) if is_broken_pipe(&e) => Exit::Success,
        Err(e) => {
            let exit = Exit::of_error(&e);
            printer.error(&e, exit as u8);
            exit
        }
    };
    ExitCode::from(exit as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gokeep::fs::remove::Refusal;
    use gokeep::prune::ExecError;
    use gokeep::scan::ScanError;
    use std::path::PathBuf;

    #[test]
    fn every_class_exits_with_its_documented_code() {
        let io = || std::io::Error::other("disk");
        let cases: [(anyhow::Error, ErrorClass); 4] = [
            (
                gokeep::verify::dirhash::HashError::Zip { path: "/m.zip".into(), message: "bad".into() }.into(),
                ErrorClass::Findings,
            ),
            (UsageError("bad".into()).into(), ErrorClass::Usage),
            (io().into(), ErrorClass::Environment),
            (Refusal::Missing { path: "/x".into() }.into(), ErrorClass::MissingCache),
        ];
        for (e, class) in cases {
            assert_eq!(Exit::of_error(&e) as u8, class.exit_code(), "{e}");
        }
    }

    #[test]
    fn missing_cache_has_its_own_code() {
        let e = anyhow::Error::new(ScanError::Missing {
            kind: gokeep::scan::CacheKind::ModCache,
            path: PathBuf::from("/nope"),
        });
        assert_eq!(Exit::of_error(&e), Exit::MissingCache);
    }

    #[test]
    fn context_does_not_hide_the_kind() {
        let e = anyhow::Error::new(UsageError("bad".into())).context("while reading policy");
        assert_eq!(Exit::of_error(&e), Exit::Usage);
        let io = anyhow::Error::new(std::io::Error::other("disk"));
        assert_eq!(Exit::of_error(&io), Exit::Environment);
    }

    #[test]
    fn refusals_are_configuration_errors_unless_the_cache_is_missing() {
        let r = |r: Refusal| Exit::of_error(&anyhow::Error::new(r).context("pruning"));
        assert_eq!(r(Refusal::FileSystemRoot { path: "/".into() }), Exit::Usage);
        assert_eq!(r(Refusal::NotAModCache { path: "/x".into() }), Exit::Usage);
        assert_eq!(r(Refusal::Missing { path: "/x".into() }), Exit::MissingCache);
        let e = anyhow::Error::new(ExecError::Refused(Refusal::NotABuildCache { path: "/x".into() }));
        assert_eq!(Exit::of_error(&e), Exit::Usage);
    }

    #[test]
    fn broken_pipe_is_success() {
        let e = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe)).context("writing");
        assert!(is_broken_pipe(&e));
    }
}
