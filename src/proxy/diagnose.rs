//! Verdicts for the proxy and checksum-database errors people paste, from
//! the route Go takes for the module: `410 Gone`, `404 Not Found` on a
//! checksum-database `lookup`, `cannot authenticate record`, `malformed
//! module path`, `unrecognized import path`, `terminal prompts disabled`,
//! `dial tcp …`. `explain` recognises the error and calls
//! [`diagnose_route_error`]; [`recognise`] does the recognising for it.

use serde::Serialize;

use super::lint::{go_env_w, lint_route, redact};
use super::route::{FallThrough, Hop, SumdbAccess, route};
use crate::goenv::GoEnv;

/// The kind of error, as far as the route matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RouteErrorKind {
    /// A proxy answered 404 or 410 for the module.
    ProxyNotFound { status: u16 },
    /// The checksum database's `/lookup/` answered 404 or 410.
    SumdbNotFound,
    /// A proxy answered another status (403, 5xx); `proxy` when the error named it.
    ProxyStatus { status: u16, proxy: Option<String> },
    /// `verifying module: …: cannot authenticate record data`.
    CannotAuthenticate,
    /// `malformed module path`: the first element has no dot.
    MalformedPath,
    /// `unrecognized import path`: the direct (origin) lookup failed.
    UnrecognizedImportPath,
    /// `terminal prompts disabled`: git wanted credentials.
    TerminalPromptsDisabled,
    /// `dial tcp …` to `host`.
    Dial { host: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RouteVerdict {
    pub module: String,
    pub summary: String,
    pub fix: Option<String>,
}

/// Module path and kind from an error text as `go` prints it, when it is
/// one of the route errors.
#[must_use]
pub fn recognise(text: &str) -> Option<(String, RouteErrorKind)> {
    let module = module_of(text)?;
    let lower = text.to_ascii_lowercase();
    // An HTTP status as go prints it: `: 403 Forbidden`.
    let status = |codes: &[u16]| {
        lower
            .split(": ")
            .filter_map(|part| part.split_whitespace().next()?.parse::<u16>().ok())
            .find(|n| codes.contains(n))
    };
    let kind = if lower.contains("cannot authenticate record") {
        RouteErrorKind::CannotAuthenticate
    } else if lower.contains("malformed module path") {
        RouteErrorKind::MalformedPath
    } else if lower.contains("terminal prompts disabled") {
        RouteErrorKind::TerminalPromptsDisabled
    } else if lower.contains("/lookup/") && (lower.contains(": 404") || lower.contains(": 410")) {
        RouteErrorKind::SumdbNotFound
    } else if lower.contains("unrecognized import path") {
        RouteErrorKind::UnrecognizedImportPath
    } else if let Some(i) = lower.find("dial tcp") {
        let host = text[i + 8..].split_whitespace().next().unwrap_or("").trim_end_matches(':');
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h).trim_matches(['[', ']']);
        RouteErrorKind::Dial { host: host.to_owned() }
    } else if lower.contains("404 not found") || lower.contains("410 gone") {
        RouteErrorKind::ProxyNotFound { status: if lower.contains("410 gone") { 410 } else { 404 } }
    } else if let Some(code) = status(&[401, 403, 407, 429, 500, 502, 503, 504]) {
        let proxy = text
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .map(|u| u.trim_end_matches(':').to_owned());
        RouteErrorKind::ProxyStatus { status: code, proxy }
    } else {
        return None;
    };
    Some((module, kind))
}

/// The module path in `go: example.com/m@v1.2.3: …` or `reading …/<path>/@v/…`.
fn module_of(text: &str) -> Option<String> {
    for word in text.split_whitespace() {
        let w = word.trim_end_matches(':');
        if let Some((path, _)) = w.split_once('@')
            && path.contains('.')
            && !path.contains("://")
        {
            return Some(path.to_owned());
        }
        if let Some(i) = w.find("/@v/") {
            let before = &w[..i];
            let path = before.split_once("://").map_or(before, |(_, r)| r.split_once('/').map_or("", |(_, p)| p));
            if !path.is_empty() {
                return crate::go::modpath::unescape_path(path).ok();
            }
        }
    }
    None
}

/// The verdict for `kind` hitting `module`, from the route Go takes.
#[must_use]
pub fn diagnose_route_error(env: &GoEnv, module: &str, kind: &RouteErrorKind) -> RouteVerdict {
    let r = route(env, module);
    let verdict = |summary: String, fix: Option<String>| RouteVerdict { module: module.to_owned(), summary, fix };
    let leak = lint_route(&r);
    match kind {
        RouteErrorKind::ProxyNotFound { status } => match leak {
            Some(f) => verdict(
                format!("{status} from the proxy: {module} looks private and GOPRIVATE does not cover it, so Go asked a proxy that cannot see it"),
                f.fix,
            ),
            None if r.private_fetch => verdict(format!("{module} is covered by GONOPROXY: Go fetches it directly, so a {status} comes from the origin"), None),
            None => verdict(
                format!("the proxy has no such version of {module} ({status}): check the path's spelling and the version tag; a new tag can take minutes to reach the proxy"),
                None,
            ),
        },
        RouteErrorKind::SumdbNotFound => {
            let name = match &r.sumdb {
                SumdbAccess::Consulted { db, .. } => db.name.clone(),
                _ => "the checksum database".into(),
            };
            let pattern = leak.and_then(|f| f.fix).unwrap_or_else(|| go_env_w("GOPRIVATE", module));
            verdict(
                format!("{name} does not know {module}: a private module's path was sent to the public checksum database; GOPRIVATE (or GONOSUMDB) must cover it"),
                Some(pattern),
            )
        }
        RouteErrorKind::ProxyStatus { status, proxy } => {
            let hop = r.hops.iter().find_map(|h| match h {
                Hop::Proxy { url, then } if proxy.as_ref().is_none_or(|p| p.starts_with(url.as_str())) => Some((url.clone(), *then)),
                _ => None,
            });
            match hop {
                Some((url, FallThrough::NotFoundOnly)) => verdict(
                    format!("{} answered {status} and `,` does not fall through on it: Go never asked the next GOPROXY entry", redact(&url)),
                    Some(go_env_w("GOPROXY", &pipe_after(env.get("GOPROXY").unwrap_or(""), &url))),
                ),
                Some((url, FallThrough::End)) => verdict(
                    format!("{} answered {status} and is the last GOPROXY entry for {module}", redact(&url)),
                    None,
                ),
                Some((url, FallThrough::AnyError)) => verdict(
                    format!("{} answered {status}; `|` moved on, and every later entry failed too", redact(&url)),
                    None,
                ),
                None => verdict(format!("a proxy answered {status}, but GOPROXY does not send {module} to it now: the environment changed since the error"), None),
            }
        }
        RouteErrorKind::CannotAuthenticate => verdict(
            "the checksum database's answer does not verify with GOSUMDB's key: GOSUMDB names the wrong key, or a proxy serves another database's records under this name".into(),
            Some(go_env_w("GOSUMDB", "sum.golang.org")),
        ),
        RouteErrorKind::MalformedPath => verdict(
            format!("{module}: a module path's first element needs a dot (a domain); without one Go takes it for the standard library"),
            None,
        ),
        RouteErrorKind::UnrecognizedImportPath => {
            if r.hops.iter().any(|h| matches!(h, Hop::Direct)) {
                verdict(
                    format!("Go fetched {module} from its origin (GOPRIVATE/GONOPROXY or `direct`) and the origin did not answer the `?go-get=1` request: check access to the host, or serve it through a private proxy"),
                    None,
                )
            } else {
                verdict(format!("{module} is not fetched directly under this GOPROXY; the error came from another environment"), None)
            }
        }
        RouteErrorKind::TerminalPromptsDisabled => verdict(
            format!("git needed credentials for {module} and could not ask: configure a credential helper, a netrc entry with login and password (GOAUTH=netrc), or `git config url.\"git@host:\".insteadOf https://host/`"),
            None,
        ),
        RouteErrorKind::Dial { host } => {
            let is_sumdb = matches!(&r.sumdb, SumdbAccess::Consulted { db, direct, .. } if host == &db.name || direct.contains(host.as_str()));
            if is_sumdb {
                verdict(
                    format!("the checksum database {host} is unreachable from here: use a proxy that proxies it (GOPROXY first), or cover private paths with GONOSUMDB"),
                    Some(go_env_w("GONOSUMDB", &super::lint::go_env_w_value_for_private(module))),
                )
            } else {
                verdict(format!("{host} is unreachable (DNS, firewall, proxy settings): `gokeep doctor --chain {module}` shows which layer"), None)
            }
        }
    }
}

/// GOPROXY with the `,` after `url` turned into `|`.
fn pipe_after(goproxy: &str, url: &str) -> String {
    let stripped = url.strip_prefix("https://").unwrap_or(url);
    for candidate in [url, stripped] {
        if let Some(i) = goproxy.find(candidate) {
            let end = i + candidate.len();
            if goproxy[end..].starts_with(',') {
                return format!("{}|{}", &goproxy[..end], &goproxy[end + 1..]);
            }
        }
    }
    goproxy.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goenv::{Source, Var};

    fn env(pairs: &[(&str, &str)]) -> GoEnv {
        let mut e = GoEnv::default();
        for (k, v) in
            [("GOPROXY", "https://proxy.golang.org,direct"), ("GOSUMDB", "sum.golang.org")].iter().chain(pairs)
        {
            e.vars.insert((*k).into(), Var { value: (*v).into(), source: Source::Env });
        }
        e
    }

    #[test]
    fn gone_for_a_private_path_says_goprivate() {
        let text = "go: git.corp.example/team/lib@v1.2.0: reading https://proxy.golang.org/git.corp.example/team/lib/@v/v1.2.0.info: 410 Gone";
        let (m, kind) = recognise(text).unwrap();
        assert_eq!((m.as_str(), &kind), ("git.corp.example/team/lib", &RouteErrorKind::ProxyNotFound { status: 410 }));
        let v = diagnose_route_error(&env(&[]), &m, &kind);
        assert!(v.summary.starts_with("410 from the proxy: git.corp.example/team/lib looks private"), "{v:?}");
        assert_eq!(v.fix.as_deref(), Some("go env -w 'GOPRIVATE=*.corp.example,corp.example'"));
    }

    #[test]
    fn lookup_404_is_the_checksum_database() {
        let text = "verifying git.corp.example/x@v1.0.0: git.corp.example/x@v1.0.0: reading https://sum.golang.org/lookup/git.corp.example/x@v1.0.0: 404 Not Found";
        let (m, kind) = recognise(text).unwrap();
        assert_eq!(kind, RouteErrorKind::SumdbNotFound);
        let v = diagnose_route_error(&env(&[]), &m, &kind);
        assert!(v.summary.starts_with("sum.golang.org does not know git.corp.example/x"), "{v:?}");
    }

    #[test]
    fn forbidden_before_a_comma_says_use_a_pipe() {
        let e = env(&[("GOPROXY", "https://athens.corp.example,https://proxy.golang.org,direct")]);
        let text = "go: github.com/x/y@v1.0.0: reading https://athens.corp.example/github.com/x/y/@v/v1.0.0.info: 403 Forbidden";
        let (m, kind) = recognise(text).unwrap();
        let v = diagnose_route_error(&e, &m, &kind);
        assert_eq!(
            v.summary,
            "https://athens.corp.example answered 403 and `,` does not fall through on it: Go never asked the next GOPROXY entry"
        );
        assert_eq!(
            v.fix.as_deref(),
            Some("go env -w 'GOPROXY=https://athens.corp.example|https://proxy.golang.org,direct'")
        );
    }

    #[test]
    fn other_route_errors_are_recognised() {
        let cases = [
            (
                "verifying github.com/x/y@v1.0.0: cannot authenticate record data in server response",
                RouteErrorKind::CannotAuthenticate,
            ),
            (
                "go: mycorp.example/lib@v1.0.0: malformed module path \"mycorp\": missing dot in first path element",
                RouteErrorKind::MalformedPath,
            ),
            (
                "go: git.corp.example/lib@v1.0.0: unrecognized import path \"git.corp.example/lib\": https fetch: 404",
                RouteErrorKind::UnrecognizedImportPath,
            ),
            (
                "go: git.corp.example/lib@v1.0.0: git ls-remote: fatal: could not read Username: terminal prompts disabled",
                RouteErrorKind::TerminalPromptsDisabled,
            ),
            (
                "verifying github.com/x/y@v1.0.0: Get \"https://sum.golang.org/lookup/github.com/x/y@v1.0.0\": dial tcp 142.250.1.1:443: i/o timeout",
                RouteErrorKind::Dial { host: "142.250.1.1".into() },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(recognise(text).map(|(_, k)| k), Some(want), "{text}");
        }
        assert_eq!(recognise("go: updates to go.mod needed"), None);
    }
}
