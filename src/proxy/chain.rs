//! `doctor --chain`: one module through every layer Go goes through, in
//! order, stopping at the first broken one and saying what to check next:
//! environment → route → DNS → TCP → TLS → `@v/list` → `@latest`/`.info` →
//! `.mod` → `.zip` → checksum (go.sum, the cached checksum database record,
//! the database itself).

use std::path::Path;

use serde::Serialize;

use super::lint::{Severity, lint, redact};
use super::probe::{self, FailureKind, Probe, Stage, Timeouts};
use super::route::{FallThrough, Hop, Route, SumdbAccess, route};
use crate::go::gosum::{GoSum, SumKind};
use crate::go::modpath::escape;
use crate::goenv::GoEnv;
use crate::verify::{dirhash, sumdb};

/// cmd/go refuses module zips larger than this (`modzip.MaxZipFile`).
const MAX_ZIP: usize = 500 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Env,
    Route,
    Dns,
    Tcp,
    Tls,
    List,
    Info,
    Mod,
    Zip,
    Checksum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    /// Worth knowing, not broken.
    Note,
    Broken,
    /// Not checked (offline, not applicable).
    Skipped,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Step {
    pub layer: Layer,
    pub verdict: Verdict,
    pub detail: String,
    /// What to check next when this layer is broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<Probe>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Chain {
    pub module: String,
    pub version: Option<String>,
    pub route: Route,
    pub steps: Vec<Step>,
    /// The first broken layer, if any.
    pub broken: Option<Layer>,
}

/// Where the chain looks for local witnesses.
#[derive(Debug, Clone, Default)]
pub struct Witnesses<'a> {
    pub go_sum: Option<&'a GoSum>,
    pub modcache: Option<&'a Path>,
}

fn step(layer: Layer, verdict: Verdict, detail: impl Into<String>) -> Step {
    Step { layer, verdict, detail: detail.into(), next: None, probe: None }
}

struct Walk {
    steps: Vec<Step>,
    broken: Option<Layer>,
}

impl Walk {
    fn ok(&mut self, layer: Layer, detail: impl Into<String>) {
        self.steps.push(step(layer, Verdict::Ok, detail));
    }
    fn broken(&mut self, layer: Layer, detail: impl Into<String>, next: impl Into<String>) {
        let mut s = step(layer, Verdict::Broken, detail);
        s.next = Some(next.into());
        self.steps.push(s);
        self.broken = Some(layer);
    }
}

/// Walks the chain for `module` (optionally at `version`).
#[must_use]
pub fn walk(env: &GoEnv, module: &str, version: Option<&str>, timeouts: &Timeouts, w: &Witnesses) -> Chain {
    let r = route(env, module);
    let mut walk = Walk { steps: Vec::new(), broken: None };
    let result = |walk: Walk, r: Route| Chain {
        module: module.to_owned(),
        version: version.map(str::to_owned),
        route: r,
        steps: walk.steps,
        broken: walk.broken,
    };

    let errors: Vec<String> = lint(env, &super::lint::Inputs::default())
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.key, f.message))
        .collect();
    if errors.is_empty() {
        walk.ok(Layer::Env, "no environment errors");
    } else {
        walk.steps.push(step(Layer::Env, Verdict::Note, errors.join("; ")));
    }

    if let Some(e) = &r.error {
        walk.broken(Layer::Route, format!("GOPROXY is unusable: {e}"), "run `gokeep doctor` for the fix");
        return result(walk, r);
    }
    let Some(first) = r.hops.first().cloned() else {
        walk.broken(Layer::Route, "no hop", "check GOPROXY");
        return result(walk, r);
    };
    let (proxy, then) = match &first {
        Hop::Proxy { url, then } => (url.clone(), *then),
        Hop::Direct => {
            walk.steps.push(step(
                Layer::Route,
                Verdict::Note,
                if r.private_fetch {
                    "GONOPROXY matches: fetched directly from its origin (VCS), no proxy involved"
                } else {
                    "GOPROXY sends it directly to its origin (VCS), no proxy involved"
                },
            ));
            walk.steps.last_mut().expect("just pushed").next = Some(format!(
                "check the origin: `git ls-remote https://{module}` and `curl 'https://{module}?go-get=1'`"
            ));
            return result(walk, r);
        }
        Hop::Off => {
            walk.broken(Layer::Route, "GOPROXY=off: Go looks nothing up", "set GOPROXY, or use only cached modules");
            return result(walk, r);
        }
    };
    let hops: Vec<String> = r
        .hops
        .iter()
        .map(|h| match h {
            Hop::Proxy { url, then } => format!(
                "{}{}",
                redact(url),
                match then {
                    FallThrough::NotFoundOnly => " (, next on 404/410)",
                    FallThrough::AnyError => " (| next on any error)",
                    FallThrough::End => "",
                }
            ),
            Hop::Direct => "direct".into(),
            Hop::Off => "off".into(),
        })
        .collect();
    walk.ok(Layer::Route, format!("first hop of {}", hops.join(" → ")));
    if proxy.starts_with("file://") {
        walk.steps.push(step(Layer::Dns, Verdict::Skipped, "file:// proxy: no network"));
        return result(walk, r);
    }

    proxy_layers(&mut walk, &r, module, version, &proxy, then, timeouts, w);
    result(walk, r)
}

/// The network layers from the first proxy on.
#[allow(clippy::too_many_arguments)]
fn proxy_layers(
    walk: &mut Walk,
    route: &Route,
    module: &str,
    version: Option<&str>,
    proxy: &str,
    then: FallThrough,
    timeouts: &Timeouts,
    witnesses: &Witnesses,
) {
    let base = format!("{}/{}", proxy.trim_end_matches('/'), escape(module));
    let list = probe::get(&format!("{base}/@v/list"), timeouts);
    if !network_layers(walk, &list, proxy) {
        return;
    }
    let fall = match then {
        FallThrough::End => "this is the last hop: the download fails".to_owned(),
        FallThrough::AnyError => "`|` follows: Go asks the next hop".to_owned(),
        FallThrough::NotFoundOnly => "`,` follows: Go asks the next hop only after 404/410".to_owned(),
    };
    let layer_probe = |walk: &mut Walk, layer: Layer, p: Probe, what: &str| -> Option<Probe> {
        match (p.status, &p.failure) {
            (Some(200), None) => {
                walk.steps.push(Step { probe: Some(p.clone()), ..step(layer, Verdict::Ok, format!("{what}: 200")) });
                Some(p)
            }
            (Some(s), _) => {
                let next = if matches!(s, 404 | 410) {
                    format!(
                        "the proxy does not have it: check the path and version, or whether it is private (GOPRIVATE); {fall}"
                    )
                } else if matches!(s, 401 | 403) {
                    format!("the proxy refused: check credentials (GOAUTH, netrc) or its allow list; {fall}")
                } else {
                    format!("the proxy failed: {fall}")
                };
                walk.broken(layer, format!("{what}: HTTP {s}"), next);
                walk.steps.last_mut().expect("just pushed").probe = Some(p);
                None
            }
            (None, Some(f)) => {
                walk.broken(layer, format!("{what}: {}", f.message), format!("the proxy stopped answering: {fall}"));
                None
            }
            (None, None) => None,
        }
    };
    let Some(list) = layer_probe(walk, Layer::List, list, "@v/list") else { return };
    let listed: Vec<String> = String::from_utf8_lossy(&list.body).split_whitespace().map(str::to_owned).collect();
    // As `go` resolves "latest": the highest release in the list, else the
    // highest pre-release, and `@latest` only when the list is empty.
    let chosen = version.map(str::to_owned).or_else(|| latest_listed(&listed));
    let (info_url, what) = match &chosen {
        Some(v) => (format!("{base}/@v/{}.info", escape(v)), ".info"),
        None => (format!("{base}/@latest"), "@latest"),
    };
    let info = probe::get(&info_url, timeouts);
    let Some(info) = layer_probe(walk, Layer::Info, info, what) else { return };
    let parsed: serde_json::Value = serde_json::from_slice(&info.body).unwrap_or_default();
    let Some(v) = parsed.get("Version").and_then(|v| v.as_str()).map(str::to_owned) else {
        walk.broken(
            Layer::Info,
            format!("{what} is not Go's JSON (no Version)"),
            "the proxy is not a Go module proxy, or a captive portal answered",
        );
        return;
    };
    let origin = parsed.get("Origin").map(|o| format!(", Origin {o}")).unwrap_or_default();
    if let Some(last) = walk.steps.last_mut() {
        last.detail = format!("{what}: {v}{origin} ({} listed)", listed.len());
    }
    let m = probe::get(&format!("{base}/@v/{}.mod", escape(&v)), timeouts);
    let Some(m) = layer_probe(walk, Layer::Mod, m, ".mod") else { return };
    let zip = probe::get_limited(&format!("{base}/@v/{}.zip", escape(&v)), timeouts, MAX_ZIP);
    let Some(zip) = layer_probe(walk, Layer::Zip, zip, ".zip") else { return };
    if let Some(last) = walk.steps.last_mut() {
        last.detail = format!(".zip: {} bytes", zip.body_len);
    }
    checksum(walk, route, module, &v, &m.body, &zip.body, timeouts, witnesses);
}

/// The version `go` takes for "latest" from a `@v/list` answer.
fn latest_listed(listed: &[String]) -> Option<String> {
    use crate::go::version::{compare_versions, parse_semver};
    let valid = listed.iter().filter(|v| parse_semver(v).is_some());
    let releases: Vec<&String> =
        valid.clone().filter(|v| parse_semver(v).is_some_and(|s| s.prerelease.is_empty())).collect();
    let pool: Vec<&String> = if releases.is_empty() { valid.collect() } else { releases };
    pool.into_iter().max_by(|a, b| compare_versions(a, b)).cloned()
}

/// DNS, TCP and TLS from the first probe; false when one broke.
fn network_layers(walk: &mut Walk, p: &Probe, proxy: &str) -> bool {
    let host = redact(proxy);
    let t = &p.timings;
    if let Some(f) = p.failure.as_ref().filter(|f| f.stage <= Stage::Tls) {
        let (layer, next) = match (f.stage, f.kind) {
            (Stage::Url | Stage::Dns, _) => (Layer::Dns, format!("the proxy's host does not resolve: check the spelling in GOPROXY, /etc/resolv.conf, VPN ({host})")),
            (Stage::Connect, FailureKind::Refused) => (Layer::Tcp, "nothing listens there: check the port and that the proxy runs".to_owned()),
            (Stage::Connect, _) => (Layer::Tcp, "no TCP connection: check firewalls, HTTPS_PROXY, the VPN".to_owned()),
            (_, FailureKind::Certificate) => (Layer::Tls, "the certificate is not trusted: install the company CA in the system store (Go and gokeep read it; SSL_CERT_FILE points both at a bundle)".to_owned()),
            _ => (Layer::Tls, "the TLS handshake failed: a middlebox or a non-TLS port".to_owned()),
        };
        if layer != Layer::Dns {
            walk.ok(Layer::Dns, format!("{} ms", t.dns_ms.unwrap_or(0.0)));
        }
        if layer == Layer::Tls {
            walk.ok(Layer::Tcp, format!("{} ({} ms)", p.addr.clone().unwrap_or_default(), t.connect_ms.unwrap_or(0.0)));
        }
        walk.broken(layer, f.message.clone(), next);
        return false;
    }
    walk.ok(Layer::Dns, format!("{} ms", t.dns_ms.unwrap_or(0.0)));
    walk.ok(Layer::Tcp, format!("{} ({} ms)", p.addr.clone().unwrap_or_default(), t.connect_ms.unwrap_or(0.0)));
    match t.tls_ms {
        Some(ms) => walk.ok(Layer::Tls, format!("{ms} ms")),
        None => walk.steps.push(step(Layer::Tls, Verdict::Skipped, "plain http")),
    }
    true
}

#[allow(clippy::too_many_arguments)]
fn checksum(
    walk: &mut Walk,
    route: &Route,
    module: &str,
    version: &str,
    go_mod: &[u8],
    zip: &[u8],
    timeouts: &Timeouts,
    witnesses_in: &Witnesses,
) {
    let mod_hash = dirhash::hash_go_mod(go_mod);
    let zip_hash = match zip_h1(zip) {
        Ok(h) => h,
        Err(e) => {
            walk.broken(
                Layer::Zip,
                format!("the zip does not open: {e}"),
                "the proxy served something that is not a module zip",
            );
            return;
        }
    };
    let mut witnesses: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    if let Some(sum) = witnesses_in.go_sum {
        let z = sum.hash(module, version, SumKind::Zip).map(str::to_owned);
        let m = sum.hash(module, version, SumKind::GoMod).map(str::to_owned);
        if z.is_some() || m.is_some() {
            witnesses.push(("go.sum".into(), z, m));
        }
    }
    if let Some(mc) = witnesses_in.modcache {
        for rec in sumdb::lookup(mc, &sumdb::databases(mc), module, version) {
            witnesses.push((format!("cached record of {}", rec.db), rec.zip, rec.go_mod));
        }
    }
    match &route.sumdb {
        SumdbAccess::Consulted { db, via, direct } => {
            let base = match sumdb_base(via, direct, timeouts) {
                Ok(b) => b,
                Err(e) => {
                    walk.broken(Layer::Checksum, e, "the proxy that should proxy the checksum database failed: check GOSUMDB, GOPROXY's operators, or set GONOSUMDB for private paths");
                    return;
                }
            };
            let p = probe::get(&format!("{base}/lookup/{}@{}", escape(module), escape(version)), timeouts);
            match (p.status, &p.failure) {
                (Some(200), None) => {
                    let (z, m) = sumdb::parse_lookup(&p.body, module, version);
                    witnesses.push((format!("checksum database {}", db.name), z, m));
                }
                (status, failure) => {
                    let what = status.map_or_else(
                        || failure.as_ref().map(|f| f.message.clone()).unwrap_or_default(),
                        |s| format!("HTTP {s}"),
                    );
                    walk.broken(
                        Layer::Checksum,
                        format!("{base}/lookup/{module}@{version}: {what}"),
                        if status == Some(404) || status == Some(410) {
                            format!("the database does not know {module}: if it is private, add it to GOPRIVATE (or GONOSUMDB)")
                        } else {
                            "the checksum database is unreachable: check GOSUMDB and whether the first proxy proxies it".to_owned()
                        },
                    );
                    return;
                }
            }
        }
        SumdbAccess::Skipped { reason } => {
            walk.steps.push(step(Layer::Checksum, Verdict::Note, format!("checksum database not consulted: {reason}")));
        }
        SumdbAccess::Invalid { error } => {
            walk.steps.push(step(Layer::Checksum, Verdict::Note, format!("GOSUMDB unusable: {error}")));
        }
    }
    for (name, z, m) in &witnesses {
        let bad_zip = z.as_ref().filter(|h| **h != zip_hash);
        let bad_mod = m.as_ref().filter(|h| **h != mod_hash);
        if bad_zip.is_some() || bad_mod.is_some() {
            let detail = match (bad_zip, bad_mod) {
                (Some(h), _) => format!("{module}@{version}: the proxy's zip hashes to {zip_hash}, {name} says {h}"),
                (None, Some(h)) => {
                    format!("{module}@{version}/go.mod: the proxy's go.mod hashes to {mod_hash}, {name} says {h}")
                }
                (None, None) => unreachable!(),
            };
            walk.broken(
                Layer::Checksum,
                detail,
                "run `gokeep explain` on go's checksum mismatch, or `gokeep verify --online`",
            );
            return;
        }
    }
    if witnesses.is_empty() {
        walk.steps.push(step(Layer::Checksum, Verdict::Note, format!("{zip_hash}: no witness to compare with")));
    } else {
        walk.ok(
            Layer::Checksum,
            format!("{zip_hash} agrees with {}", witnesses.iter().map(|w| w.0.as_str()).collect::<Vec<_>>().join(", ")),
        );
    }
}

fn zip_h1(zip: &[u8]) -> Result<String, String> {
    let tmp = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    std::fs::write(tmp.path(), zip).map_err(|e| e.to_string())?;
    dirhash::hash_zip(tmp.path(), None)
        .map_err(|e| e.to_string())?
        .tree
        .h1
        .ok_or_else(|| "the zip has entries that cannot be hashed".to_owned())
}

/// Where Go reaches the checksum database (`dbClient.initBase`): the first
/// proxy whose `/sumdb/<name>/supported` answers 200; a 404/410, or any
/// error after `|`, moves on; any other error makes the database
/// unavailable; past the last proxy, `direct`.
pub fn sumdb_base(via: &[(String, FallThrough)], direct: &str, timeouts: &Timeouts) -> Result<String, String> {
    for (base, then) in via {
        let p = probe::get(&format!("{base}/supported"), timeouts);
        match p.outcome() {
            super::route::HopOutcome::Ok => return Ok(base.clone()),
            super::route::HopOutcome::NotFound => {}
            super::route::HopOutcome::Error if *then == FallThrough::AnyError => {}
            super::route::HopOutcome::Error | super::route::HopOutcome::Stalled => {
                let what =
                    p.status.map_or_else(|| p.failure.map(|f| f.message).unwrap_or_default(), |s| format!("HTTP {s}"));
                return Err(format!(
                    "{}/supported: {what}: Go treats the checksum database as unavailable",
                    redact(base)
                ));
            }
        }
    }
    Ok(direct.to_owned())
}

/// What one hop answered when asked for the module.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Tried {
    pub hop: Hop,
    pub probe: Option<Probe>,
}

/// Where a lookup ends when every hop is asked as Go asks it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Resolution {
    pub tried: Vec<Tried>,
    /// Index into `tried` of the hop that served the module.
    pub served_by: Option<usize>,
    /// Index into `tried` of the hop whose error ended the lookup.
    pub failed_at: Option<usize>,
    /// Why it ended there, in Go's terms.
    pub verdict: String,
}

/// Asks each hop of the route for `module` (`.info` of `version`, else
/// `@v/list`) and stops where `TryProxies` stops. `direct` and `off` are not
/// contacted: the walk ends there and says so.
#[must_use]
pub fn resolve(route: &Route, version: Option<&str>, timeouts: &Timeouts) -> Resolution {
    let mut tried = Vec::new();
    let tail = version.map_or_else(|| "@v/list".to_owned(), |v| format!("@v/{}.info", escape(v)));
    let outcome = route.walk(|hop| match hop {
        Hop::Proxy { url, .. } if url.starts_with("http") => {
            let p = probe::get(&format!("{}/{}/{tail}", url.trim_end_matches('/'), escape(&route.module)), timeouts);
            let o = p.outcome();
            tried.push(Tried { hop: hop.clone(), probe: Some(p) });
            o
        }
        _ => {
            tried.push(Tried { hop: hop.clone(), probe: None });
            super::route::HopOutcome::Error
        }
    });
    let describe = |t: &Tried| match (&t.hop, &t.probe) {
        (Hop::Proxy { url, .. }, Some(p)) => {
            let what = p.status.map_or_else(
                || p.failure.as_ref().map(|f| f.message.clone()).unwrap_or_default(),
                |s| format!("HTTP {s}"),
            );
            format!("{} answered {what}", redact(url))
        }
        (Hop::Proxy { url, .. }, None) => format!("{} not contacted", redact(url)),
        (Hop::Direct, _) => "direct: fetched from the origin (not contacted by gokeep)".into(),
        (Hop::Off, _) => "off: module lookup disabled by GOPROXY=off".into(),
    };
    match outcome {
        Ok(i) => Resolution {
            verdict: format!("served: {}", describe(&tried[i])),
            tried,
            served_by: Some(i),
            failed_at: None,
        },
        Err(_) if tried.is_empty() => Resolution {
            verdict: route.error.as_ref().map_or_else(|| "no hop".to_owned(), ToString::to_string),
            tried,
            served_by: None,
            failed_at: None,
        },
        Err(i) => {
            let hop = &tried[i];
            let why = match (&hop.hop, hop.probe.as_ref().map(Probe::outcome)) {
                (Hop::Proxy { then: FallThrough::NotFoundOnly, .. }, Some(super::route::HopOutcome::Error)) => {
                    "; `,` follows it, so Go does not try the next entry on this error"
                }
                (Hop::Proxy { .. }, Some(super::route::HopOutcome::Stalled)) => {
                    "; it accepted and never answered, and Go sets no timeout: go waits there"
                }
                (Hop::Proxy { then: FallThrough::End, .. }, _) => "; it is the last entry",
                _ => "",
            };
            let verdict = if matches!(hop.hop, Hop::Direct) {
                format!("reaches {}", describe(hop))
            } else {
                format!("fails: {}{why}", describe(hop))
            };
            Resolution { verdict, tried, served_by: None, failed_at: Some(i) }
        }
    }
}

/// The doctor's online rule: whether the checksum database is reachable the
/// way Go reaches it for a path no pattern covers (`golang.org/x/text`
/// stands for them all). A proxy that answers `/supported` with an error
/// before a `,` makes every verification fail.
#[must_use]
pub fn sumdb_reachability(env: &GoEnv, timeouts: &Timeouts) -> Option<super::lint::Finding> {
    let r = route(env, "golang.org/x/text");
    let SumdbAccess::Consulted { db, via, direct } = &r.sumdb else { return None };
    if db.url.is_some() {
        return None;
    }
    let message = sumdb_base(via, direct, timeouts).err()?;
    let goproxy = env.get("GOPROXY").unwrap_or("");
    let piped = match goproxy.rsplit_once(',') {
        Some((proxies, "direct")) => format!("{},direct", proxies.replace(',', "|")),
        _ => goproxy.replace(',', "|"),
    };
    Some(super::lint::Finding {
        rule: "sumdb-unreachable",
        severity: Severity::Error,
        key: "GOSUMDB".into(),
        message,
        fix: Some(super::lint::go_env_w("GOPROXY", &piped)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_is_the_highest_release_then_the_highest_prerelease() {
        let l = |v: &[&str]| latest_listed(&v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(l(&["v1.2.0", "v1.10.0", "v2.0.0-rc.1", "junk"]).as_deref(), Some("v1.10.0"));
        assert_eq!(l(&["v2.0.0-rc.1", "v2.0.0-beta.1"]).as_deref(), Some("v2.0.0-rc.1"));
        assert_eq!(l(&[]), None);
    }
}
