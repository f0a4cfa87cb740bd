//! Where Go sends a module path: the GOPROXY list with its fall-through
//! operators, GONOPROXY/GONOSUMDB/GOPRIVATE matching and the checksum
//! database named by GOSUMDB, exactly as `cmd/go/internal/modfetch`
//! (`proxyList`, `TryProxies`, `lookup`, `useSumDB`, `dbDial`,
//! `dbClient.initBase`) decides it. Values come from [`GoEnv`] only: the
//! defaults live in `goenv`, never here.
//!
//! Pure: nothing here touches the network.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::go::pattern::match_prefix_patterns;
use crate::goenv::GoEnv;

/// One entry of the parsed GOPROXY list (`proxySpec`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// Added in front when GONOPROXY is set and GOPROXY is not `direct`:
    /// paths GONOPROXY matches go straight to their origin.
    Noproxy,
    /// An http(s) or file URL. `fall_back_on_error` is true when `|`
    /// follows it (any error moves on), false for `,` or the last entry
    /// (only 404 and 410 move on).
    Proxy { url: String, fall_back_on_error: bool },
    /// Fetch from the version control origin; ends the list.
    Direct,
    /// Lookups fail; ends the list.
    Off,
}

/// The GOPROXY list as Go parses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProxyList {
    pub entries: Vec<Entry>,
    /// Entries written after `direct` or `off`, which Go never reaches.
    pub unreachable: Vec<String>,
    /// The operator that followed each written proxy entry, in order, for
    /// the lint (`,`, `|` or none for the last).
    pub written: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, schemars::JsonSchema)]
pub enum RouteError {
    /// Go's own wording, so it can be matched against pasted errors.
    #[error("GOPROXY list is not the empty string, but contains no entries")]
    EmptyList,
    #[error("invalid proxy URL missing scheme: {0}")]
    MissingScheme(String),
    #[error("invalid proxy URL scheme (must be https, http, file): {0}")]
    BadScheme(String),
    #[error("invalid file:// proxy URL with non-path elements: {0}")]
    BadFileUrl(String),
}

/// `proxyList`: parses `goproxy` given the effective `gonoproxy`.
pub fn proxy_list(goproxy: &str, gonoproxy: &str) -> Result<ProxyList, RouteError> {
    let mut list = ProxyList { entries: Vec::new(), unreachable: Vec::new(), written: Vec::new() };
    if !gonoproxy.is_empty() && goproxy != "direct" {
        list.entries.push(Entry::Noproxy);
    }
    let mut rest = goproxy;
    let mut ended = false;
    while !rest.is_empty() {
        let (raw, fall_back_on_error) = match rest.find([',', '|']) {
            Some(i) => {
                let e = (&rest[..i], rest.as_bytes()[i] == b'|');
                rest = &rest[i + 1..];
                e
            }
            None => (std::mem::take(&mut rest), false),
        };
        let url = raw.trim();
        if url.is_empty() {
            continue;
        }
        if ended {
            list.unreachable.push(url.to_owned());
            continue;
        }
        list.written.push(url.to_owned());
        match url {
            "off" => {
                list.entries.push(Entry::Off);
                ended = true;
            }
            "direct" => {
                list.entries.push(Entry::Direct);
                ended = true;
            }
            _ => {
                let url = complete_url(url);
                check_proxy_url(&url)?;
                list.entries.push(Entry::Proxy { url, fall_back_on_error });
            }
        }
    }
    if list.entries.is_empty() || list.entries == [Entry::Noproxy] {
        return Err(RouteError::EmptyList);
    }
    Ok(list)
}

/// Single words are reserved; anything with `.`, `:` or `/` that is not
/// already a URL (`:/`) or an absolute path gets `https://`.
fn complete_url(url: &str) -> String {
    if url.contains(['.', ':', '/']) && !url.contains(":/") && !url.starts_with('/') {
        format!("https://{url}")
    } else {
        url.to_owned()
    }
}

/// `newProxyRepo`'s URL check, far enough to tell the three errors apart.
fn check_proxy_url(url: &str) -> Result<(), RouteError> {
    let Some((scheme, rest)) = url.split_once("://").or_else(|| url.split_once(':')) else {
        return Err(RouteError::MissingScheme(url.to_owned()));
    };
    if scheme.is_empty() || scheme.contains('/') {
        return Err(RouteError::MissingScheme(url.to_owned()));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => Ok(()),
        "file" if url.contains("://") && rest.starts_with('/') && !rest.contains(['?', '#']) => Ok(()),
        "file" => Err(RouteError::BadFileUrl(url.to_owned())),
        _ => Err(RouteError::BadScheme(url.to_owned())),
    }
}

/// What Go does after an error from a hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FallThrough {
    /// `,`: only 404 and 410 move on to the next hop; 403, 5xx, timeouts end the lookup.
    NotFoundOnly,
    /// `|`: any error moves on.
    AnyError,
    /// Last hop: its error is the result.
    End,
}

/// One place Go asks for the module, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Hop {
    Proxy {
        url: String,
        then: FallThrough,
    },
    /// The module's origin (VCS over https, or the `?go-get=1` page).
    Direct,
    /// `GOPROXY=off`: the lookup fails with "module lookup disabled by GOPROXY=off".
    Off,
}

/// How the checksum database is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SumdbAccess {
    /// Not consulted: GOSUMDB=off or GONOSUMDB matches.
    Skipped { reason: String },
    /// Consulted. `via` lists the proxies asked for `/sumdb/<name>/supported`
    /// in order (the first that answers 200 is used for every request); when
    /// all fall through, `direct` is used.
    Consulted { db: Sumdb, via: Vec<(String, FallThrough)>, direct: String },
    /// GOSUMDB is malformed: every lookup that needs it fails.
    Invalid { error: String },
}

/// A parsed GOSUMDB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Sumdb {
    /// The database name (`sum.golang.org`).
    pub name: String,
    /// The verifier key.
    pub key: String,
    /// An explicit URL (the second field): proxies are bypassed.
    pub url: Option<String>,
}

/// The route of one module path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Route {
    pub module: String,
    /// GONOPROXY matches: only the origin is asked.
    pub private_fetch: bool,
    pub hops: Vec<Hop>,
    pub sumdb: SumdbAccess,
    /// Set when the GOPROXY list itself is unusable; `hops` is then empty.
    pub error: Option<RouteError>,
}

impl Route {
    /// The proxies that receive this module path.
    #[must_use]
    pub fn proxies(&self) -> Vec<&str> {
        self.hops
            .iter()
            .filter_map(|h| match h {
                Hop::Proxy { url, .. } => Some(url.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Where Go stops given the outcome of each hop, as `TryProxies` does:
    /// the index of the hop that answered, or `Err(index)` of the hop whose
    /// error ended the lookup (the last one asked).
    pub fn walk(&self, mut outcome: impl FnMut(&Hop) -> HopOutcome) -> Result<usize, usize> {
        let mut last = 0;
        for (i, hop) in self.hops.iter().enumerate() {
            last = i;
            match outcome(hop) {
                HopOutcome::Ok => return Ok(i),
                HopOutcome::NotFound => {}
                HopOutcome::Error => {
                    if !matches!(hop, Hop::Proxy { then: FallThrough::AnyError, .. }) {
                        return Err(i);
                    }
                }
                // Go gets no error to fall through on: it waits.
                HopOutcome::Stalled => return Err(i),
            }
        }
        Err(last)
    }
}

/// The answer of one hop, as `TryProxies` classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopOutcome {
    Ok,
    /// 404 or 410 (`fs.ErrNotExist`).
    NotFound,
    /// Anything else: other statuses, refused connections, TLS failures.
    Error,
    /// Accepted the connection and never answered: cmd/go sets no timeout
    /// on proxy requests, so it waits there whatever follows (`,` or `|`).
    Stalled,
}

/// What Go does with an HTTP status from a proxy.
#[must_use]
pub fn classify_status(status: u16) -> HopOutcome {
    match status {
        200..=299 => HopOutcome::Ok,
        404 | 410 => HopOutcome::NotFound,
        _ => HopOutcome::Error,
    }
}

fn var<'a>(env: &'a GoEnv, key: &str) -> &'a str {
    env.get(key).unwrap_or("")
}

/// `proxy::route(&GoEnv, module)`: which hops Go asks for `module`, with
/// which fall-through, and how the checksum database is consulted.
#[must_use]
pub fn route(env: &GoEnv, module: &str) -> Route {
    // `go` and `toolchain` are looked up as golang.org/toolchain.
    let module = match module {
        "go" | "toolchain" => "golang.org/toolchain",
        m => m,
    };
    let gonoproxy = var(env, "GONOPROXY");
    let private_fetch = match_prefix_patterns(gonoproxy, module);
    let sumdb = sumdb_access(env, module);
    let list = match proxy_list(var(env, "GOPROXY"), gonoproxy) {
        Ok(list) => list,
        Err(e) => return Route { module: module.to_owned(), private_fetch, hops: Vec::new(), sumdb, error: Some(e) },
    };
    let mut hops = Vec::new();
    for entry in &list.entries {
        match entry {
            // errNoproxy / errUseProxy are "not exist": the next entry is tried.
            Entry::Noproxy if private_fetch => {
                hops.push(Hop::Direct);
                break;
            }
            Entry::Noproxy => {}
            Entry::Proxy { .. } if private_fetch => {}
            Entry::Proxy { url, fall_back_on_error } => hops.push(Hop::Proxy {
                url: url.clone(),
                then: if *fall_back_on_error { FallThrough::AnyError } else { FallThrough::NotFoundOnly },
            }),
            Entry::Direct => hops.push(Hop::Direct),
            Entry::Off => hops.push(Hop::Off),
        }
    }
    if let Some(Hop::Proxy { then, .. }) = hops.last_mut() {
        *then = FallThrough::End;
    }
    Route { module: module.to_owned(), private_fetch, hops, sumdb, error: None }
}

/// `useSumDB` then `dbDial` and `initBase`.
fn sumdb_access(env: &GoEnv, module: &str) -> SumdbAccess {
    let gosumdb = var(env, "GOSUMDB");
    let goproxy = var(env, "GOPROXY");
    // Toolchains cannot be listed in go.sum: the database is required unless
    // GOPROXY is a lone file:// URL.
    let lone_file_proxy = goproxy.starts_with("file://") && !goproxy.contains([',', '|']);
    let toolchain_must = module == "golang.org/toolchain" && !lone_file_proxy;
    if !toolchain_must {
        if gosumdb == "off" {
            return SumdbAccess::Skipped { reason: "GOSUMDB=off".into() };
        }
        if match_prefix_patterns(var(env, "GONOSUMDB"), module) {
            return SumdbAccess::Skipped { reason: "GONOSUMDB matches".into() };
        }
    }
    let db = match parse_gosumdb(gosumdb) {
        Ok(db) => db,
        Err(error) => return SumdbAccess::Invalid { error },
    };
    let direct = format!("https://{}", db.name);
    if let Some(url) = &db.url {
        return SumdbAccess::Consulted { via: Vec::new(), direct: url.clone(), db };
    }
    let mut via = Vec::new();
    if let Ok(list) = proxy_list(goproxy, var(env, "GONOPROXY")) {
        for entry in list.entries {
            match entry {
                Entry::Proxy { url, fall_back_on_error } => via.push((
                    format!("{}/sumdb/{}", url.trim_end_matches('/'), db.name),
                    if fall_back_on_error { FallThrough::AnyError } else { FallThrough::NotFoundOnly },
                )),
                Entry::Direct | Entry::Off => break,
                Entry::Noproxy => {}
            }
        }
    }
    SumdbAccess::Consulted { db, via, direct }
}

/// The verifier key Go knows by name (`modfetch.knownGOSUMDB`).
pub const SUM_GOLANG_ORG_KEY: &str = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

/// Parses GOSUMDB as `dbDial` does: `name`, `key` or `key url`, where a
/// known name stands for its key. Errors are Go's wording.
pub fn parse_gosumdb(gosumdb: &str) -> Result<Sumdb, String> {
    let gosumdb =
        if gosumdb == "sum.golang.google.cn" { "sum.golang.org https://sum.golang.google.cn" } else { gosumdb };
    if gosumdb == "off" {
        return Err("checksum database disabled by GOSUMDB=off".into());
    }
    let mut fields: Vec<String> = gosumdb.split_whitespace().map(str::to_owned).collect();
    if fields.first().is_some_and(|f| f == "sum.golang.org") {
        SUM_GOLANG_ORG_KEY.clone_into(&mut fields[0]);
    }
    match fields.len() {
        0 => return Err("missing GOSUMDB".into()),
        1 | 2 => {}
        _ => return Err("invalid GOSUMDB: too many fields".into()),
    }
    let name = verifier_name(&fields[0]).map_err(|e| format!("invalid GOSUMDB: {e}"))?;
    if name.ends_with('/') || name.contains(['?', '#', '@', ':']) || name.starts_with('/') {
        return Err(format!("invalid sumdb name (must be host[/path]): {name}"));
    }
    Ok(Sumdb { name, key: fields[0].clone(), url: fields.get(1).cloned() })
}

/// `note.NewVerifier`: `name+hash+base64(alg‖key)` with the hash checked.
fn verifier_name(vkey: &str) -> Result<String, &'static str> {
    use base64::Engine as _;
    const ID: &str = "malformed verifier id";
    let (name, rest) = vkey.split_once('+').unwrap_or((vkey, ""));
    let (hash16, key64) = rest.split_once('+').unwrap_or((rest, ""));
    let hash = u32::from_str_radix(hash16, 16).map_err(|_| ID)?;
    let key = base64::engine::general_purpose::STANDARD.decode(key64).map_err(|_| ID)?;
    if hash16.len() != 8 || name.is_empty() || name.contains(char::is_whitespace) || key.is_empty() {
        return Err(ID);
    }
    let digest = Sha256::new().chain_update(name.as_bytes()).chain_update(b"\n").chain_update(&key).finalize();
    if u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) != hash {
        return Err("invalid verifier hash");
    }
    match key[0] {
        1 if key.len() == 33 => Ok(name.to_owned()),
        1 => Err(ID),
        _ => Err("unknown verifier algorithm"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goenv::{Source, Var};

    fn env(pairs: &[(&str, &str)]) -> GoEnv {
        let mut e = GoEnv::default();
        for (k, v) in pairs {
            e.vars.insert((*k).to_owned(), Var { value: (*v).to_owned(), source: Source::Env });
        }
        e
    }

    fn proxy(url: &str, then: FallThrough) -> Hop {
        Hop::Proxy { url: url.into(), then }
    }

    #[test]
    fn comma_falls_through_on_not_found_only_and_pipe_on_any_error() {
        let e = env(&[("GOPROXY", "https://a.example,https://b.example|https://c.example,direct")]);
        let r = route(&e, "example.com/m");
        assert_eq!(
            r.hops,
            vec![
                proxy("https://a.example", FallThrough::NotFoundOnly),
                proxy("https://b.example", FallThrough::AnyError),
                proxy("https://c.example", FallThrough::NotFoundOnly),
                Hop::Direct
            ]
        );
        // 403 on a: fatal. 500 on b: next. 404 on c: direct.
        assert_eq!(r.walk(|h| if h == &r.hops[0] { HopOutcome::Error } else { HopOutcome::NotFound }), Err(0));
        let outcomes = [HopOutcome::NotFound, HopOutcome::Error, HopOutcome::NotFound, HopOutcome::Ok];
        let mut i = 0;
        assert_eq!(
            r.walk(|_| {
                i += 1;
                outcomes[i - 1]
            }),
            Ok(3)
        );
    }

    #[test]
    fn last_proxy_ends_the_lookup_and_entries_after_direct_or_off_are_unreachable() {
        let l = proxy_list("proxy.example, direct, https://never.example", "").unwrap();
        assert_eq!(
            l.entries,
            vec![Entry::Proxy { url: "https://proxy.example".into(), fall_back_on_error: false }, Entry::Direct]
        );
        assert_eq!(l.unreachable, vec!["https://never.example"]);
        let l = proxy_list("off|https://never.example", "").unwrap();
        assert_eq!(l.entries, vec![Entry::Off]);
        let r = route(&env(&[("GOPROXY", "https://a.example|https://b.example")]), "x.example/m");
        assert_eq!(r.hops.last(), Some(&proxy("https://b.example", FallThrough::End)));
    }

    #[test]
    fn empty_or_blank_lists_are_go_errors_and_urls_are_checked() {
        assert_eq!(proxy_list("", ""), Err(RouteError::EmptyList));
        assert_eq!(proxy_list(" , ", "corp.example"), Err(RouteError::EmptyList));
        assert_eq!(proxy_list("ftp://x.example", ""), Err(RouteError::BadScheme("ftp://x.example".into())));
        assert_eq!(proxy_list("/srv/proxy", ""), Err(RouteError::MissingScheme("/srv/proxy".into())));
        assert_eq!(proxy_list("file://host/srv", ""), Err(RouteError::BadFileUrl("file://host/srv".into())));
        assert!(proxy_list("file:///srv/proxy", "").is_ok());
        // A bare word without `.`, `:` or `/` is kept as written and then rejected.
        assert_eq!(proxy_list("corpproxy", ""), Err(RouteError::MissingScheme("corpproxy".into())));
        assert_eq!(
            proxy_list("localhost:3000", "").unwrap().entries[0],
            Entry::Proxy { url: "https://localhost:3000".into(), fall_back_on_error: false }
        );
    }

    #[test]
    fn gonoproxy_sends_matching_paths_to_their_origin_even_with_goproxy_off() {
        let e = env(&[
            ("GOPROXY", "https://proxy.example,off"),
            ("GONOPROXY", "*.corp.example"),
            ("GONOSUMDB", "*.corp.example"),
            ("GOSUMDB", "sum.golang.org"),
        ]);
        let private = route(&e, "git.corp.example/team/lib");
        assert!(private.private_fetch);
        assert_eq!(private.hops, vec![Hop::Direct]);
        assert!(private.proxies().is_empty());
        assert!(matches!(private.sumdb, SumdbAccess::Skipped { .. }));
        let public = route(&e, "github.com/x/y");
        assert_eq!(public.hops, vec![proxy("https://proxy.example", FallThrough::NotFoundOnly), Hop::Off]);
        // GOPROXY=direct adds no noproxy entry, and the route is the same.
        let e = env(&[("GOPROXY", "direct"), ("GONOPROXY", "corp.example")]);
        assert_eq!(proxy_list("direct", "corp.example").unwrap().entries, vec![Entry::Direct]);
        assert_eq!(route(&e, "corp.example/x").hops, vec![Hop::Direct]);
    }

    #[test]
    fn sumdb_is_reached_through_proxies_until_direct_unless_off_or_gonosumdb() {
        let e = env(&[
            ("GOPROXY", "https://a.example|https://b.example,direct,https://c.example"),
            ("GOSUMDB", "sum.golang.org"),
        ]);
        let SumdbAccess::Consulted { db, via, direct } = route(&e, "github.com/x/y").sumdb else { panic!() };
        assert_eq!(db.name, "sum.golang.org");
        assert_eq!(direct, "https://sum.golang.org");
        assert_eq!(
            via,
            vec![
                ("https://a.example/sumdb/sum.golang.org".to_owned(), FallThrough::AnyError),
                ("https://b.example/sumdb/sum.golang.org".to_owned(), FallThrough::NotFoundOnly)
            ]
        );
        let off = env(&[("GOPROXY", "direct"), ("GOSUMDB", "off")]);
        assert_eq!(route(&off, "github.com/x/y").sumdb, SumdbAccess::Skipped { reason: "GOSUMDB=off".into() });
        // Toolchains need the database even with GOSUMDB=off.
        assert!(matches!(route(&off, "go").sumdb, SumdbAccess::Invalid { .. }));
        assert_eq!(route(&off, "toolchain").module, "golang.org/toolchain");
    }

    #[test]
    fn gosumdb_forms_follow_db_dial() {
        assert_eq!(parse_gosumdb("sum.golang.org").unwrap().key, SUM_GOLANG_ORG_KEY);
        let cn = parse_gosumdb("sum.golang.google.cn").unwrap();
        assert_eq!((cn.name.as_str(), cn.url.as_deref()), ("sum.golang.org", Some("https://sum.golang.google.cn")));
        let with_url = parse_gosumdb(&format!("{SUM_GOLANG_ORG_KEY} https://mirror.example/sumdb")).unwrap();
        assert_eq!(with_url.url.as_deref(), Some("https://mirror.example/sumdb"));
        assert_eq!(parse_gosumdb("sum.corp.example"), Err("invalid GOSUMDB: malformed verifier id".into()));
        assert_eq!(parse_gosumdb("a b c"), Err("invalid GOSUMDB: too many fields".into()));
        assert_eq!(parse_gosumdb(""), Err("missing GOSUMDB".into()));
        let bad_hash = SUM_GOLANG_ORG_KEY.replace("033de0ae", "033de0af");
        assert_eq!(parse_gosumdb(&bad_hash), Err("invalid GOSUMDB: invalid verifier hash".into()));
    }
}
