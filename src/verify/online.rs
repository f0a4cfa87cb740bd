//! `--online` witnesses: the module proxy's copy of a version and the
//! checksum database's `/lookup` answer, fetched fresh.
//!
//! `file://` proxies are read directly, `http(s)://` URLs fetched with ureq
//! (rustls, the webpki roots). The sumdb answer's signature is not checked
//! here: it is one witness
//! among several, labelled as fetched, never a reason to accept a hash.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::dirhash;
use super::sumdb::parse_lookup;
use crate::layout::escape;

/// The proxy URLs of a GOPROXY list, in order, without `direct`/`off`
/// (which end the list, as in `modfetch/proxy.go`).
#[must_use]
pub fn proxy_urls(goproxy: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in goproxy.split([',', '|']).map(str::trim).filter(|e| !e.is_empty()) {
        if entry == "direct" || entry == "off" {
            break;
        }
        let url = if entry.contains("://") { entry.to_owned() } else { format!("https://{entry}") };
        out.push(url.trim_end_matches('/').to_owned());
    }
    out
}

/// cmd/go refuses module zips larger than this (`modzip.MaxZipFile`).
const MAX_DOWNLOAD: u64 = 500 << 20;

fn get(url: &str, dest: &Path) -> Result<(), String> {
    if let Some(path) = url.strip_prefix("file://") {
        return std::fs::copy(path, dest).map(|_| ()).map_err(|e| format!("{path}: {e}"));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(60))).build().into();
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    let mut file = std::fs::File::create(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let mut body = response.body_mut().with_config().limit(MAX_DOWNLOAD).reader();
    std::io::copy(&mut body, &mut file).map(|_| ()).map_err(|e| e.to_string())
}

/// Fetches the version's zip (or `.mod`) from the first proxy that has it
/// and hashes it. Returns the URL tried last and the hash or the error.
#[must_use]
pub fn proxy_hash(
    goproxy: &str,
    module: &str,
    version: &str,
    go_mod: bool,
) -> Option<(String, Result<String, String>)> {
    let tmp = tempfile::tempdir().ok()?;
    let dest: PathBuf = tmp.path().join("download");
    let mut last = None;
    for base in proxy_urls(goproxy) {
        let url = format!("{base}/{}/@v/{}.{}", escape(module), escape(version), if go_mod { "mod" } else { "zip" });
        let r = get(&url, &dest).and_then(|()| {
            if go_mod {
                std::fs::read(&dest).map(|d| dirhash::hash_go_mod(&d)).map_err(|e| e.to_string())
            } else {
                dirhash::hash_zip(&dest, None)
                    .map_err(|e| e.to_string())
                    .and_then(|z| z.tree.h1.ok_or_else(|| "zip holds entries that cannot be hashed".to_owned()))
            }
        });
        let ok = r.is_ok();
        last = Some((url, r));
        if ok {
            break;
        }
    }
    last
}

/// Asks the checksum database (`https://<db>/lookup/...`) for the version.
pub fn sumdb_hash(db: &str, module: &str, version: &str, go_mod: bool) -> (String, Result<String, String>) {
    let url = format!("https://{db}/lookup/{}@{}", escape(module), escape(version));
    let r = (|| {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dest = tmp.path().join("lookup");
        get(&url, &dest)?;
        let data = std::fs::read(&dest).map_err(|e| e.to_string())?;
        let (zip, gm) = parse_lookup(&data, module, version);
        (if go_mod { gm } else { zip }).ok_or_else(|| "no record in the answer".to_owned())
    })();
    (url, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_list_stops_at_direct_and_adds_https() {
        assert_eq!(
            proxy_urls("proxy.example.com/, file:///tmp/p|direct,https://never"),
            ["https://proxy.example.com", "file:///tmp/p"]
        );
        assert!(proxy_urls("off").is_empty());
    }

    /// One HTTP/1.1 exchange on loopback: answers `body` and hands back the request line.
    fn serve_once(body: &'static [u8]) -> (String, std::thread::JoinHandle<String>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            let mut stream = stream;
            write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
            stream.write_all(body).unwrap();
            request_line
        });
        (addr, handle)
    }

    #[test]
    fn an_http_proxy_is_asked_for_the_escaped_path_and_its_answer_hashed() {
        const GO_MOD: &[u8] = b"module example.com/Org/Lib\n\ngo 1.21\n";
        let (proxy, server) = serve_once(GO_MOD);
        let (url, hash) = proxy_hash(&proxy, "example.com/Org/Lib", "v1.0.0", true).unwrap();
        assert_eq!(url, format!("{proxy}/example.com/!org/!lib/@v/v1.0.0.mod"));
        assert_eq!(hash.unwrap(), dirhash::hash_go_mod(GO_MOD));
        assert_eq!(server.join().unwrap().trim_end(), "GET /example.com/!org/!lib/@v/v1.0.0.mod HTTP/1.1");
    }
}
