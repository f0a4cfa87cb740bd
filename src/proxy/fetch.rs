//! `--online` witnesses: the module proxy's copy of a version and the
//! checksum database's `/lookup` answer, fetched fresh along the module's
//! [`Route`]: the proxies Go would ask, in its order and with its
//! fall-through, never one that GONOPROXY keeps the path from.
//!
//! `file://` proxies are read directly, `http(s)://` URLs fetched with ureq
//! (rustls, verifying against the system's certificates as go does, so a
//! company CA that go trusts is trusted here too). The checksum database is
//! reached the way go reaches it: through the first proxy that says it
//! proxies that database, else directly. The sumdb answer's signature is not
//! checked here: it is one witness among several, labelled as fetched, never
//! a reason to accept a hash.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::route::{FallThrough, Hop, Route, SumdbAccess};
use crate::go::modpath::escape;
use crate::verify::dirhash;
use crate::verify::sumdb::parse_lookup;

/// cmd/go refuses module zips larger than this (`modzip.MaxZipFile`).
const MAX_DOWNLOAD: u64 = 500 << 20;

fn agent() -> ureq::Agent {
    use ureq::tls::{RootCerts, TlsConfig};
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .tls_config(TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build())
        .build()
        .into()
}

/// Why a fetch failed: "not found" (404, 410, a missing file) moves on to
/// the next proxy where go does; anything else does not.
#[derive(Debug)]
enum FetchError {
    NotFound(String),
    Other(String),
}

impl From<FetchError> for String {
    fn from(e: FetchError) -> String {
        match e {
            FetchError::NotFound(s) | FetchError::Other(s) => s,
        }
    }
}

fn get(url: &str, dest: &Path) -> Result<(), FetchError> {
    if let Some(path) = url.strip_prefix("file://") {
        return std::fs::copy(path, dest).map(|_| ()).map_err(|e| {
            let what = format!("{path}: {e}");
            if e.kind() == std::io::ErrorKind::NotFound { FetchError::NotFound(what) } else { FetchError::Other(what) }
        });
    }
    let mut response = agent().get(url).call().map_err(|e| match e {
        ureq::Error::StatusCode(404 | 410) => FetchError::NotFound(format!("{url}: {e}")),
        e => FetchError::Other(format!("{url}: {e}")),
    })?;
    let other = FetchError::Other;
    let mut file = std::fs::File::create(dest).map_err(|e| other(format!("{}: {e}", dest.display())))?;
    let mut body = response.body_mut().with_config().limit(MAX_DOWNLOAD).reader();
    std::io::copy(&mut body, &mut file).map(|_| ()).map_err(|e| other(format!("{url}: {e}")))
}

/// Fetches the version's zip (or `.mod`) along the route, as Go would, and
/// hashes it. Returns the URL tried last and the hash or the error; `None`
/// when the route sends the path to no proxy (`direct`, `off`, GONOPROXY).
#[must_use]
pub fn proxy_hash(route: &Route, version: &str, go_mod: bool) -> Option<(String, Result<String, String>)> {
    let tmp = tempfile::tempdir().ok()?;
    let dest: PathBuf = tmp.path().join("download");
    let module = &route.module;
    let mut last = None;
    for hop in &route.hops {
        let Hop::Proxy { url: proxy, then } = hop else { break };
        let url = format!(
            "{}/{}/@v/{}.{}",
            proxy.trim_end_matches('/'),
            escape(module),
            escape(version),
            if go_mod { "mod" } else { "zip" }
        );
        if let Err(e) = get(&url, &dest) {
            // Where go would not ask the next proxy, neither does this witness.
            let next = matches!(e, FetchError::NotFound(_)) || *then == FallThrough::AnyError;
            last = Some((url, Err(String::from(e))));
            if next {
                continue;
            }
            break;
        }
        let r = if go_mod {
            std::fs::read(&dest).map(|d| dirhash::hash_go_mod(&d)).map_err(|e| e.to_string())
        } else {
            dirhash::hash_zip(&dest, None)
                .map_err(|e| e.to_string())
                .and_then(|z| z.tree.h1.ok_or_else(|| "zip holds entries that cannot be hashed".to_owned()))
        };
        return Some((url, r));
    }
    last
}

/// Where go reads the checksum database from (`initBase` in
/// `modfetch/sumdb.go`): the first proxy of `via` that answers
/// `<proxy>/sumdb/<name>/supported`; a "not found" moves on, as does any
/// error after `|`; the end of the list means `direct`, and any other
/// failure means the database cannot be reached.
fn sumdb_base(via: &[(String, FallThrough)], direct: &str) -> Result<String, String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    for (base, then) in via {
        match get(&format!("{base}/supported"), &tmp.path().join("supported")) {
            Ok(()) => return Ok(base.clone()),
            Err(FetchError::NotFound(_)) => {}
            Err(FetchError::Other(_)) if *then == FallThrough::AnyError => {}
            Err(FetchError::Other(e)) => return Err(e),
        }
    }
    Ok(direct.trim_end_matches('/').to_owned())
}

/// Asks the checksum database the route consults for the version. Returns
/// the database's name, the URL asked and the hash or the error; `None` when
/// the route does not consult one (GOSUMDB=off, GONOSUMDB).
#[must_use]
pub fn sumdb_hash(route: &Route, version: &str, go_mod: bool) -> Option<(String, String, Result<String, String>)> {
    let module = &route.module;
    let lookup = format!("/lookup/{}@{}", escape(module), escape(version));
    let (name, via, direct) = match &route.sumdb {
        SumdbAccess::Skipped { .. } => return None,
        SumdbAccess::Invalid { error } => return Some((String::new(), String::new(), Err(error.clone()))),
        SumdbAccess::Consulted { db, via, direct } => (db.name.clone(), via, direct),
    };
    let base = match sumdb_base(via, direct) {
        Ok(b) => b,
        Err(e) => return Some((name, format!("{direct}{lookup}"), Err(e))),
    };
    let url = format!("{base}{lookup}");
    let r = (|| {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dest = tmp.path().join("lookup");
        get(&url, &dest)?;
        let data = std::fs::read(&dest).map_err(|e| e.to_string())?;
        let (zip, gm) = parse_lookup(&data, module, version);
        (if go_mod { gm } else { zip }).ok_or_else(|| "no record in the answer".to_owned())
    })();
    Some((name, url, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The route Go takes for `module` with these GOPROXY and GOSUMDB values.
    fn route_for(goproxy: &str, gosumdb: &str, module: &str) -> Route {
        use crate::goenv::{GoEnv, Source, Var};
        let mut env = GoEnv::default();
        for (k, v) in [("GOPROXY", goproxy), ("GOSUMDB", gosumdb), ("GONOPROXY", ""), ("GONOSUMDB", "")] {
            env.vars.insert(k.into(), Var { value: v.into(), source: Source::Env });
        }
        crate::proxy::route(&env, module)
    }

    /// HTTP/1.1 on loopback: one connection per answer, in order; hands
    /// back the request lines.
    fn serve(answers: Vec<(u16, &'static [u8])>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut requests = Vec::new();
            for (status, body) in answers {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap() > 2 {
                    line.clear();
                }
                let mut stream = stream;
                write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                    .unwrap();
                stream.write_all(body).unwrap();
                requests.push(request_line.trim_end().to_owned());
            }
            requests
        });
        (addr, handle)
    }

    fn serve_once(body: &'static [u8]) -> (String, std::thread::JoinHandle<Vec<String>>) {
        serve(vec![(200, body)])
    }

    const LOOKUP: &[u8] = b"7\nexample.com/Org/Lib v1.0.0 h1:zip=\nexample.com/Org/Lib v1.0.0/go.mod h1:mod=\n\ngo.sum database tree\n8\nx=\n\n\xe2\x80\x94 sum.golang.org A=\n";

    #[test]
    fn the_checksum_database_is_asked_through_a_proxy_that_proxies_it() {
        let (proxy, server) = serve(vec![(200, b""), (200, LOOKUP)]);
        let route = route_for(&format!("{proxy},direct"), "sum.golang.org", "example.com/Org/Lib");
        let (db, url, hash) = sumdb_hash(&route, "v1.0.0", false).unwrap();
        assert_eq!(db, "sum.golang.org");
        assert_eq!(url, format!("{proxy}/sumdb/sum.golang.org/lookup/example.com/!org/!lib@v1.0.0"));
        assert_eq!(hash.unwrap(), "h1:zip=");
        assert_eq!(
            server.join().unwrap(),
            [
                "GET /sumdb/sum.golang.org/supported HTTP/1.1",
                "GET /sumdb/sum.golang.org/lookup/example.com/!org/!lib@v1.0.0 HTTP/1.1"
            ]
        );
    }

    #[test]
    fn a_proxy_that_does_not_proxy_the_database_is_passed_over_like_go_does() {
        let (first, server) = serve(vec![(404, b"not here")]);
        let second = tempfile::tempdir().unwrap();
        let db = second.path().join("sumdb/sum.golang.org");
        std::fs::create_dir_all(db.join("lookup/example.com/!org/!lib@v1.0.0").parent().unwrap()).unwrap();
        std::fs::write(db.join("supported"), b"").unwrap();
        std::fs::write(db.join("lookup/example.com/!org/!lib@v1.0.0"), LOOKUP).unwrap();
        let goproxy = format!("{first},file://{}", second.path().display());
        let (_, url, hash) =
            sumdb_hash(&route_for(&goproxy, "sum.golang.org", "example.com/Org/Lib"), "v1.0.0", true).unwrap();
        assert_eq!(hash.unwrap(), "h1:mod=");
        assert!(url.starts_with("file://"), "{url}");
        assert_eq!(server.join().unwrap(), ["GET /sumdb/sum.golang.org/supported HTTP/1.1"]);
        // Any other failure of the first proxy ends the search, as in go.
        let (first, server) = serve(vec![(500, b"broken")]);
        let goproxy = format!("{first},file://{}", second.path().display());
        let (_, _, hash) =
            sumdb_hash(&route_for(&goproxy, "sum.golang.org", "example.com/Org/Lib"), "v1.0.0", true).unwrap();
        assert!(hash.unwrap_err().contains("500"));
        server.join().unwrap();
    }

    #[test]
    fn after_a_failing_proxy_the_next_is_asked_only_where_go_would_ask_it() {
        const GO_MOD: &[u8] = b"module m\n";
        let second = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(second.path().join("m/@v")).unwrap();
        std::fs::write(second.path().join("m/@v/v1.0.0.mod"), GO_MOD).unwrap();
        let file_proxy = format!("file://{}", second.path().display());
        // `,`: only "not found" moves on; a 500 is the answer.
        let (first, server) = serve(vec![(500, b"broken")]);
        let (url, r) = proxy_hash(&route_for(&format!("{first},{file_proxy}"), "off", "m"), "v1.0.0", true).unwrap();
        assert!(url.starts_with(&first) && r.unwrap_err().contains("500"), "{url}");
        server.join().unwrap();
        // `|`: any error moves on.
        let (first, server) = serve(vec![(500, b"broken")]);
        let (url, r) = proxy_hash(&route_for(&format!("{first}|{file_proxy}"), "off", "m"), "v1.0.0", true).unwrap();
        assert_eq!((url.starts_with("file://"), r.unwrap()), (true, dirhash::hash_go_mod(GO_MOD)));
        server.join().unwrap();
    }

    #[test]
    fn an_http_proxy_is_asked_for_the_escaped_path_and_its_answer_hashed() {
        const GO_MOD: &[u8] = b"module example.com/Org/Lib\n\ngo 1.21\n";
        let (proxy, server) = serve_once(GO_MOD);
        let (url, hash) = proxy_hash(&route_for(&proxy, "off", "example.com/Org/Lib"), "v1.0.0", true).unwrap();
        assert_eq!(url, format!("{proxy}/example.com/!org/!lib/@v/v1.0.0.mod"));
        assert_eq!(hash.unwrap(), dirhash::hash_go_mod(GO_MOD));
        assert_eq!(server.join().unwrap(), ["GET /example.com/!org/!lib/@v/v1.0.0.mod HTTP/1.1"]);
    }
}
