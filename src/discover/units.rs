//! `Environment=` of systemd units, as systemd reads it: the variables a
//! user's service runs `go` with, so the caches it fills.
//!
//! Mirrors `config_parse_environ` (systemd `src/core/load-fragment.c`):
//! lines ending in `\` continue, `#` and `;` start comments, only the
//! `[Service]` section counts, specifiers are expanded in the whole value
//! first, then it is split into words with quotes and C escapes removed;
//! each `KEY=VALUE` word sets a variable, later ones win, and an empty
//! `Environment=` clears what came before. `EnvironmentFile=` and drop-in
//! directories are not read.

use std::collections::BTreeMap;

/// What the specifiers of a user unit stand for, for one user.
#[derive(Debug, Clone)]
pub struct Specifiers<'a> {
    pub user: &'a str,
    pub uid: u32,
    pub gid: u32,
    pub home: &'a str,
}

/// A value could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported specifier %{0} in {1:?}")]
pub struct BadSpecifier(pub char, pub String);

/// The `Environment=` values of a unit file, unexpanded, in order.
#[must_use]
pub fn environment_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut joined = String::new();
    for raw in text.lines() {
        if joined.is_empty() && (raw.trim_start().starts_with('#') || raw.trim_start().starts_with(';')) {
            continue;
        }
        if let Some(head) = raw.strip_suffix('\\') {
            joined.push_str(head);
            joined.push(' ');
            continue;
        }
        joined.push_str(raw);
        let line = std::mem::take(&mut joined);
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            name.clone_into(&mut section);
        } else if section == "Service"
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "Environment"
        {
            out.push(value.trim().to_owned());
        }
    }
    out
}

/// The variables a unit's `Environment=` lines set, their specifiers
/// expanded for `spec`; `user_specific` says whether any value used a
/// specifier that depends on the user.
pub fn environment(text: &str, spec: &Specifiers<'_>) -> Result<(BTreeMap<String, String>, bool), BadSpecifier> {
    let mut env = BTreeMap::new();
    let mut user_specific = false;
    for value in environment_lines(text) {
        if value.is_empty() {
            env.clear();
            continue;
        }
        let (expanded, specific) = expand(&value, spec)?;
        user_specific |= specific;
        for word in words(&expanded) {
            if let Some((k, v)) = word.split_once('=')
                && !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !k.starts_with(|c: char| c.is_ascii_digit())
            {
                env.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    Ok((env, user_specific))
}

/// Expands systemd specifiers as a user unit sees them.
fn expand(value: &str, s: &Specifiers<'_>) -> Result<(String, bool), BadSpecifier> {
    let mut out = String::new();
    let mut specific = false;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else { return Err(BadSpecifier('%', value.to_owned())) };
        let (text, depends) = match spec {
            '%' => ("%".to_owned(), false),
            'h' => (s.home.to_owned(), true),
            'u' => (s.user.to_owned(), true),
            'U' => (s.uid.to_string(), true),
            'G' => (s.gid.to_string(), true),
            'C' => (format!("{}/.cache", s.home), true),
            'S' => (format!("{}/.local/state", s.home), true),
            'E' => (format!("{}/.config", s.home), true),
            't' => (format!("/run/user/{}", s.uid), true),
            'T' => ("/tmp".to_owned(), false),
            'V' => ("/var/tmp".to_owned(), false),
            other => return Err(BadSpecifier(other, value.to_owned())),
        };
        out.push_str(&text);
        specific |= depends;
    }
    Ok((out, specific))
}

/// Splits on whitespace; double and single quotes group, `\` escapes (C
/// escapes `\n` `\t` become the character, any other escaped character is itself).
fn words(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\\', _) => {
                in_word = true;
                match chars.next() {
                    Some('n') => word.push('\n'),
                    Some('t') => word.push('\t'),
                    Some(e) => word.push(e),
                    None => {}
                }
            }
            ('"' | '\'', None) => {
                quote = Some(c);
                in_word = true;
            }
            (c, Some(q)) if c == q => quote = None,
            (c, None) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (c, _) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Specifiers<'static> = Specifiers { user: "ci", uid: 1001, gid: 1002, home: "/home/ci" };

    fn env(text: &str) -> BTreeMap<String, String> {
        environment(text, &SPEC).unwrap().0
    }

    #[test]
    fn reads_the_service_sections_environment_with_quotes_and_specifiers() {
        let unit = "[Unit]\nEnvironment=GOCACHE=/unit/section/ignored\n\n[Service]\n\
                    # Environment=GOMODCACHE=/commented\n\
                    Environment=\"GOMODCACHE=%h/mod cache\" GOFLAGS=-mod=mod\n\
                    Environment=GOCACHE=%C/go-build-%u OTHER='a b'\n\
                    ExecStart=/usr/bin/go build ./...\n";
        let e = env(unit);
        assert_eq!(e["GOMODCACHE"], "/home/ci/mod cache");
        assert_eq!(e["GOCACHE"], "/home/ci/.cache/go-build-ci");
        assert_eq!(e["OTHER"], "a b");
        assert_eq!(e["GOFLAGS"], "-mod=mod");
        assert!(environment(unit, &SPEC).unwrap().1);
    }

    #[test]
    fn later_assignments_win_and_an_empty_one_resets() {
        let e = env("[Service]\nEnvironment=GOCACHE=/a GOMODCACHE=/m\nEnvironment=GOCACHE=/b\n");
        assert_eq!((e["GOCACHE"].as_str(), e["GOMODCACHE"].as_str()), ("/b", "/m"));
        let e = env("[Service]\nEnvironment=GOCACHE=/a\nEnvironment=\nEnvironment=GOMODCACHE=/m\n");
        assert!(!e.contains_key("GOCACHE"));
        let e = env("[Service]\nEnvironment=GOMODCACHE=/srv/%%/x \\\n  GOCACHE=/srv/c\n");
        assert_eq!((e["GOMODCACHE"].as_str(), e["GOCACHE"].as_str()), ("/srv/%/x", "/srv/c"));
        assert!(!environment("[Service]\nEnvironment=GOCACHE=/srv/c\n", &SPEC).unwrap().1);
    }

    #[test]
    fn an_unknown_specifier_is_named() {
        let e = environment("[Service]\nEnvironment=GOCACHE=/x/%Z\n", &SPEC).unwrap_err();
        assert_eq!(e.to_string(), "unsupported specifier %Z in \"GOCACHE=/x/%Z\"");
    }
}
