//! The one consent rule for every command that deletes or edits the user's
//! files (`prune`, `verify --fix`, `explain --fix`, `schedule install` and
//! `uninstall`, `link`, `unlink`, `profile apply`):
//!
//! 1. the plan is shown first, with what each change is and why;
//! 2. on a terminal gokeep asks, and only `y` or `yes` (any case) proceeds;
//! 3. without a terminal gokeep acts only with `--yes`; otherwise it changes
//!    nothing and says so, and the command ends with exit code 5
//!    ([`Outcome::NotConsented`](super::Outcome)) unless it has a stronger
//!    outcome of its own (verify's findings stay exit 1).

use std::io::{BufRead as _, IsTerminal as _, Write as _};

/// What the user (or the command line) said to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// `--yes`, or "y"/"yes" at the prompt.
    Given,
    /// Asked on a terminal and answered anything but yes.
    Declined,
    /// No terminal to ask and no `--yes`.
    NoTerminal,
}

/// Applies the rule: the caller has already shown the plan. `question` is
/// asked as written, followed by ` [y/N] `.
pub fn ask(yes: bool, question: &str) -> anyhow::Result<Consent> {
    if yes {
        return Ok(Consent::Given);
    }
    // Both ends: a question on a redirected stderr would be invisible, an
    // answer from a redirected stdin would not be the user's.
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(Consent::NoTerminal);
    }
    Ok(if prompt(question)? { Consent::Given } else { Consent::Declined })
}

/// Asks on stderr and reads one line from stdin.
fn prompt(question: &str) -> anyhow::Result<bool> {
    let mut err = std::io::stderr().lock();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(is_yes(&line))
}

/// "y" or "yes" in any case, surrounded by any white space.
fn is_yes(answer: &str) -> bool {
    let a = answer.trim();
    a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_in_any_case_is_consent_and_nothing_else_is() {
        for a in ["y", "Y", "yes", "YES", "Yes", "yEs\n", "  y  \r\n"] {
            assert!(is_yes(a), "{a:?}");
        }
        for a in ["", "\n", "n", "no", "ye", "yess", "y e s", "oui", "1", "true"] {
            assert!(!is_yes(a), "{a:?}");
        }
    }

    #[test]
    fn yes_flag_is_consent_without_asking() {
        assert_eq!(ask(true, "Remove?").unwrap(), Consent::Given);
    }
}
