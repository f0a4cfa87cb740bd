//! How `gokeep env` reads: its `--json` document and its text.

use gokeep::goenv::GoEnv;
use std::fmt::Write as _;

/// The `--json` document. Bump `schema_version` on any incompatible change.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct EnvJson<'a> {
    pub(crate) schema_version: u32,
    #[serde(flatten)]
    pub(crate) env: &'a GoEnv,
}

/// `KEY='value'  # source` lines, then the problems as comments.
pub(crate) fn render(env: &GoEnv) -> String {
    let width = env.vars.iter().map(|(k, v)| k.len() + quote(&v.value).len() + 1).max().unwrap_or(0);
    let mut s = String::new();
    for (k, v) in &env.vars {
        let assignment = format!("{k}={}", quote(&v.value));
        let _ = writeln!(s, "{assignment:<width$}  # {}", v.source);
    }
    for p in &env.problems {
        let _ = writeln!(s, "# problem: {}: {}", p.key, p.message);
    }
    s
}

/// Bare values in the order asked, as `go env KEY...` prints them.
pub(crate) fn render_values(env: &GoEnv, keys: &[String]) -> String {
    keys.iter().fold(String::new(), |mut s, k| {
        let _ = writeln!(s, "{}", env.get(k).unwrap_or(""));
        s
    })
}

/// Single-quotes a value for POSIX shells, as `go env` does.
pub(crate) fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gokeep::goenv::{Problem, Source, Var};

    #[test]
    fn text_lines_carry_quoted_values_sources_and_problems() {
        let mut env = GoEnv::default();
        env.vars.insert("GOFLAGS".into(), Var { value: "it's".into(), source: Source::Env });
        env.vars.insert("GOCACHE".into(), Var { value: "off".into(), source: Source::Default });
        env.problems.push(Problem { key: "GOCACHE".into(), message: "off".into() });
        assert_eq!(render(&env), "GOCACHE='off'      # default\nGOFLAGS='it'\\''s'  # env\n# problem: GOCACHE: off\n");
    }
}
