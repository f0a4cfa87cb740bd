//! One timed GET, stage by stage: DNS, TCP connect, TLS handshake, time to
//! first byte and total, each with its own timeout, so a proxy that does not
//! resolve, refuses, resets the handshake or stalls is named as such and
//! never holds the caller past the timeout.
//!
//! The stages are done here rather than inside an HTTP client because
//! clients hide them: std for DNS and TCP, rustls with the platform
//! verifier (the stack ureq uses, trusting what the system trusts, as Go
//! does) for TLS, and a minimal HTTP/1.1 exchange with `Connection: close`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::route::{HopOutcome, classify_status};

/// Per-stage limits.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub dns: Duration,
    pub connect: Duration,
    pub tls: Duration,
    /// From the request sent to the first byte of the answer.
    pub first_byte: Duration,
    /// The whole exchange.
    pub total: Duration,
}

impl Timeouts {
    /// Every stage bounded by `each`, the whole by three times it.
    #[must_use]
    pub fn uniform(each: Duration) -> Self {
        Self { dns: each, connect: each, tls: each, first_byte: each, total: each * 3 }
    }
}

/// The layer at which a probe stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Url,
    Dns,
    Connect,
    Tls,
    Response,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Url => "URL",
            Stage::Dns => "DNS",
            Stage::Connect => "TCP connect",
            Stage::Tls => "TLS handshake",
            Stage::Response => "HTTP response",
        })
    }
}

/// How a stage failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    Unresolved,
    Refused,
    Reset,
    Timeout,
    Certificate,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Failure {
    pub stage: Stage,
    pub kind: FailureKind,
    pub message: String,
}

/// Milliseconds each stage took; `None` for stages not reached or not
/// applicable (no TLS over http).
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Timings {
    pub dns_ms: Option<f64>,
    pub connect_ms: Option<f64>,
    pub tls_ms: Option<f64>,
    pub first_byte_ms: Option<f64>,
    pub total_ms: Option<f64>,
}

/// Largest body kept (lists, `.info`, `.mod`); a `.zip` is counted, not kept.
pub const BODY_LIMIT: usize = 4 << 20;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Probe {
    pub url: String,
    pub addr: Option<String>,
    pub timings: Timings,
    pub status: Option<u16>,
    /// What Go's `TryProxies` does with this answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go_does: Option<&'static str>,
    pub failure: Option<Failure>,
    /// Bytes of body received (all of it, even past [`BODY_LIMIT`]).
    pub body_len: u64,
    #[serde(skip)]
    pub body: Vec<u8>,
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
}

impl Probe {
    /// Go's view of this answer.
    #[must_use]
    pub fn outcome(&self) -> HopOutcome {
        match (self.status, &self.failure) {
            (Some(s), None) => classify_status(s),
            // Past the connect, only gokeep's own timeout ends the wait.
            (_, Some(f)) if f.kind == FailureKind::Timeout && matches!(f.stage, Stage::Tls | Stage::Response) => {
                HopOutcome::Stalled
            }
            _ => HopOutcome::Error,
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

struct Target {
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("{url}: not an http(s) URL"))?;
    let tls = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        _ => return Err(format!("{url}: not an http(s) URL")),
    };
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    // Credentials in the URL are not sent by the probe and never shown.
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    // `[v6]:port`, `[v6]`, `host:port`, `host`.
    let port_sep = if authority.starts_with('[') { authority.find("]:").map(|i| i + 1) } else { authority.rfind(':') };
    let (host, port) = match port_sep {
        Some(i) => {
            let p = &authority[i + 1..];
            (&authority[..i], p.parse::<u16>().map_err(|_| format!("{url}: bad port {p:?}"))?)
        }
        None => (authority, if tls { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok(Target { tls, host: host.to_owned(), port, path: path.to_owned() })
}

fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            use rustls_platform_verifier::BuilderVerifierExt;
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .and_then(BuilderVerifierExt::with_platform_verifier)
                .map(|b| Arc::new(b.with_no_client_auth()))
                .map_err(|e| format!("TLS setup: {e}"))
        })
        .clone()
}

fn io_kind(e: &std::io::Error) -> FailureKind {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => FailureKind::Refused,
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => FailureKind::Reset,
        K::TimedOut | K::WouldBlock => FailureKind::Timeout,
        K::InvalidData if e.to_string().contains("certificate") => FailureKind::Certificate,
        _ => FailureKind::Other,
    }
}

fn fail(stage: Stage, kind: FailureKind, message: impl Into<String>) -> Failure {
    Failure { stage, kind, message: message.into() }
}

fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, Failure> {
    let (tx, rx) = mpsc::channel();
    let name = format!("{host}:{port}");
    // The system resolver has no timeout of its own; a stuck lookup is left behind.
    std::thread::spawn(move || {
        let _ = tx.send(name.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(fail(Stage::Dns, FailureKind::Unresolved, format!("{host}: no addresses"))),
        Ok(Err(e)) => Err(fail(Stage::Dns, FailureKind::Unresolved, format!("lookup {host}: {e}"))),
        Err(_) => Err(fail(Stage::Dns, FailureKind::Timeout, format!("lookup {host}: no answer in {timeout:?}"))),
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Connects and, for https, completes the handshake; the stages so far.
fn connect(t: &Target, timeouts: &Timeouts, timings: &mut Timings) -> Result<(Stream, SocketAddr), Failure> {
    let start = Instant::now();
    let addrs = match t.host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, t.port)],
        Err(_) => resolve(&t.host, t.port, timeouts.dns)?,
    };
    timings.dns_ms = Some(ms(start.elapsed()));
    let start = Instant::now();
    let mut last = None;
    let mut sock = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, timeouts.connect) {
            Ok(s) => {
                sock = Some((s, *addr));
                break;
            }
            Err(e) => last = Some(fail(Stage::Connect, io_kind(&e), format!("dial tcp {addr}: {e}"))),
        }
    }
    let Some((sock, addr)) = sock else {
        return Err(last.unwrap_or_else(|| fail(Stage::Connect, FailureKind::Other, "no address")));
    };
    timings.connect_ms = Some(ms(start.elapsed()));
    if !t.tls {
        return Ok((Stream::Plain(sock), addr));
    }
    let start = Instant::now();
    let config = tls_config().map_err(|e| fail(Stage::Tls, FailureKind::Other, e))?;
    let name = rustls::pki_types::ServerName::try_from(t.host.clone())
        .map_err(|e| fail(Stage::Tls, FailureKind::Other, format!("{}: {e}", t.host)))?;
    let conn =
        rustls::ClientConnection::new(config, name).map_err(|e| fail(Stage::Tls, FailureKind::Other, e.to_string()))?;
    let _ = sock.set_read_timeout(Some(timeouts.tls));
    let _ = sock.set_write_timeout(Some(timeouts.tls));
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        if start.elapsed() > timeouts.tls {
            return Err(fail(
                Stage::Tls,
                FailureKind::Timeout,
                format!("TLS handshake timeout after {:?}", timeouts.tls),
            ));
        }
        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
            let kind = match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
                Some(rustls::Error::InvalidCertificate(_)) => FailureKind::Certificate,
                _ => io_kind(&e),
            };
            return Err(fail(Stage::Tls, kind, format!("tls: {e}")));
        }
    }
    timings.tls_ms = Some(ms(start.elapsed()));
    Ok((Stream::Tls(Box::new(tls)), addr))
}

/// GETs `url`, timing every stage, keeping up to [`BODY_LIMIT`] of the body.
#[must_use]
pub fn get(url: &str, timeouts: &Timeouts) -> Probe {
    get_limited(url, timeouts, BODY_LIMIT)
}

/// [`get`] keeping up to `limit` bytes of the body.
#[must_use]
pub fn get_limited(url: &str, timeouts: &Timeouts, limit: usize) -> Probe {
    let mut p = Probe {
        url: super::lint::redact(url),
        addr: None,
        timings: Timings::default(),
        status: None,
        go_does: None,
        failure: None,
        body_len: 0,
        body: Vec::new(),
        headers: Vec::new(),
    };
    let start = Instant::now();
    let t = match parse_url(url) {
        Ok(t) => t,
        Err(e) => {
            p.failure = Some(fail(Stage::Url, FailureKind::Other, e));
            return p;
        }
    };
    let (mut stream, addr) = match connect(&t, timeouts, &mut p.timings) {
        Ok(s) => s,
        Err(f) => {
            p.failure = Some(f);
            return p;
        }
    };
    p.addr = Some(addr.to_string());
    if let Err(f) = exchange(&t, &mut stream, timeouts, start, limit, &mut p) {
        p.failure = Some(f);
    }
    p.timings.total_ms = Some(ms(start.elapsed()));
    p.go_does = Some(match p.outcome() {
        HopOutcome::Ok => "use this answer",
        HopOutcome::NotFound => "try the next GOPROXY entry",
        HopOutcome::Error => "try the next entry only after `|`; after `,` the download fails",
        HopOutcome::Stalled => "wait: go sets no timeout on a proxy that accepted and does not answer",
    });
    p
}

fn exchange(
    t: &Target,
    stream: &mut Stream,
    timeouts: &Timeouts,
    start: Instant,
    limit: usize,
    p: &mut Probe,
) -> Result<(), Failure> {
    let host = if (t.tls && t.port == 443) || (!t.tls && t.port == 80) {
        t.host.clone()
    } else {
        format!("{}:{}", t.host, t.port)
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: gokeep/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        t.path,
        env!("CARGO_PKG_VERSION")
    );
    let _ = stream.tcp().set_write_timeout(Some(timeouts.first_byte));
    stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.flush())
        .map_err(|e| fail(Stage::Response, io_kind(&e), format!("write: {e}")))?;
    let sent = Instant::now();
    let _ = stream.tcp().set_read_timeout(Some(timeouts.first_byte));
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut header_end = None;
    loop {
        let left = timeouts.total.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(fail(
                Stage::Response,
                FailureKind::Timeout,
                format!("no complete answer in {:?}", timeouts.total),
            ));
        }
        if p.timings.first_byte_ms.is_some() {
            let _ = stream.tcp().set_read_timeout(Some(left));
        }
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            // Servers that close without close_notify: the body is complete by length or close.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && header_end.is_some() => 0,
            Err(e) => {
                let kind = io_kind(&e);
                let what = if p.timings.first_byte_ms.is_none() { "waiting for the first byte" } else { "reading" };
                let message = if kind == FailureKind::Timeout {
                    format!(
                        "{what}: no data within {:?}",
                        if p.timings.first_byte_ms.is_none() { timeouts.first_byte } else { left }
                    )
                } else {
                    format!("{what}: {e}")
                };
                return Err(fail(Stage::Response, kind, message));
            }
        };
        if n == 0 {
            break;
        }
        if p.timings.first_byte_ms.is_none() {
            p.timings.first_byte_ms = Some(ms(sent.elapsed()));
        }
        p.body_len += n as u64;
        if raw.len() < limit.saturating_add(64 << 10) {
            raw.extend_from_slice(&buf[..n]);
        }
        if header_end.is_none() {
            header_end = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
        }
    }
    let Some(header_end) = header_end else {
        return Err(fail(Stage::Response, FailureKind::Reset, "connection closed before a complete HTTP header"));
    };
    let head = String::from_utf8_lossy(&raw[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    p.status = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    if p.status.is_none() {
        return Err(fail(Stage::Response, FailureKind::Other, format!("not an HTTP answer: {status_line:?}")));
    }
    p.headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    p.body_len -= header_end as u64;
    let body = raw.split_off(header_end);
    let chunked = p.headers.iter().any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    p.body = if chunked { dechunk(&body) } else { body };
    if chunked {
        p.body_len = p.body.len() as u64;
    }
    Ok(())
}

/// Decodes a chunked body (HTTP/1.1 §7.1); stops at the first malformed size.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16) else { break };
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            out.extend_from_slice(&data[..size.min(data.len())]);
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or(&[]);
    }
    out
}

/// Median and spread (max − min) of the rounds that answered.
#[must_use]
pub fn median_spread(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    let median = if v.len().is_multiple_of(2) { f64::midpoint(v[mid - 1], v[mid]) } else { v[mid] };
    Some((median, v[v.len() - 1] - v[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_path_without_credentials() {
        let t = parse_url("https://u:p@proxy.example:8443/base/mod/@v/list").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.path.as_str()),
            (true, "proxy.example", 8443, "/base/mod/@v/list")
        );
        let t = parse_url("http://[::1]/x").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 80));
        assert!(parse_url("file:///srv").is_err());
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        assert_eq!(dechunk(b"4\r\nv1.0\r\n3;x=y\r\n.0\n\r\n0\r\n\r\n"), b"v1.0.0\n");
    }

    #[test]
    fn median_and_spread() {
        assert_eq!(median_spread(&[3.0, 1.0, 2.0]), Some((2.0, 2.0)));
        assert_eq!(median_spread(&[4.0, 1.0, 2.0, 3.0]), Some((2.5, 3.0)));
        assert_eq!(median_spread(&[]), None);
    }
}
