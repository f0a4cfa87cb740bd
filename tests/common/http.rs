//! Local module proxies for proxy-chain tests: std `TcpListener` threads on
//! 127.0.0.1, each answering in one fixed way, each keeping an access log.
//! Nothing here reaches beyond the loopback interface.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a test proxy answers every request.
#[derive(Clone)]
pub enum Behaviour {
    /// Files under the directory (a `file://` GOPROXY layout, including
    /// `sumdb/...`), 404 for anything missing.
    Serve(PathBuf),
    /// Sleeps, then serves the directory.
    Slow(Duration, PathBuf),
    /// This status for every request.
    Status(u16),
    /// Accepts and never answers.
    Stall,
    /// Accepts and closes at once (a TLS client sees its handshake reset).
    Hangup,
    /// TLS with this certificate and key (PEM), then serves the directory.
    Tls { cert_pem: String, key_pem: String, dir: PathBuf },
    /// Serves the directory, but a `.zip` stops after the first half of its
    /// body (headers announce the whole) until [`TestProxy::release`]: the
    /// `go` fetching it sits inside its download, holding the version lock.
    StallZip(PathBuf),
}

pub struct TestProxy {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    gate: Arc<Gate>,
}

/// Where [`Behaviour::StallZip`] holds a zip: how many are held right now,
/// and whether they may go on.
#[derive(Default)]
struct Gate {
    held: std::sync::atomic::AtomicUsize,
    open: AtomicBool,
}

impl TestProxy {
    pub fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let gate = Arc::new(Gate::default());
        let (log2, stop2, gate2) = (Arc::clone(&log), Arc::clone(&stop), Arc::clone(&gate));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (b, l, s, g) = (behaviour.clone(), Arc::clone(&log2), Arc::clone(&stop2), Arc::clone(&gate2));
                std::thread::spawn(move || handle(conn, &b, &l, &s, &g));
            }
        });
        Self { addr, log, stop, gate }
    }

    /// How many zip downloads [`Behaviour::StallZip`] holds halfway right now.
    pub fn stalled(&self) -> usize {
        self.gate.held.load(Ordering::SeqCst)
    }

    /// Lets every held (and every later) zip download finish.
    pub fn release(&self) {
        self.gate.open.store(true, Ordering::SeqCst);
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request paths received so far.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// A port on 127.0.0.1 that refuses connections (bound, then released).
pub fn refused_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn read_request<R: Read>(r: R) -> Option<String> {
    let mut reader = BufReader::new(r);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    first.split_whitespace().nth(1).map(str::to_owned)
}

fn respond<W: Write>(mut w: W, dir: Option<&PathBuf>, status: u16, path: &str) {
    let (status, body) = match dir {
        Some(d) => {
            let rel = path.trim_start_matches('/');
            let file = d.join(rel);
            if rel.contains("..") || !file.is_file() {
                (404, b"not found\n".to_vec())
            } else {
                (200, std::fs::read(file).unwrap())
            }
        }
        None => (status, format!("status {status}\n").into_bytes()),
    };
    let head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = w.write_all(head.as_bytes());
    let _ = w.write_all(&body);
    let _ = w.flush();
}

/// The first half of a zip, then (once the gate opens) the rest.
fn respond_in_halves<W: Write>(mut w: W, dir: &PathBuf, path: &str, gate: &Gate, stop: &AtomicBool) {
    let rel = path.trim_start_matches('/');
    let file = dir.join(rel);
    if rel.contains("..") || !file.is_file() {
        return respond(w, Some(dir), 200, path);
    }
    let body = std::fs::read(file).unwrap();
    let head = format!("HTTP/1.1 200 X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let half = body.len() / 2;
    let _ = w.write_all(head.as_bytes());
    let _ = w.write_all(&body[..half]);
    let _ = w.flush();
    gate.held.fetch_add(1, Ordering::SeqCst);
    while !gate.open.load(Ordering::SeqCst) && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20));
    }
    gate.held.fetch_sub(1, Ordering::SeqCst);
    let _ = w.write_all(&body[half..]);
    let _ = w.flush();
}

fn handle(mut conn: TcpStream, b: &Behaviour, log: &Mutex<Vec<String>>, stop: &AtomicBool, gate: &Gate) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    match b {
        Behaviour::Hangup => {}
        Behaviour::Stall => {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Behaviour::Tls { cert_pem, key_pem, dir } => {
            use rustls::pki_types::pem::PemObject;
            let certs = vec![rustls::pki_types::CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()];
            let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap();
            let server = rustls::ServerConnection::new(Arc::new(config)).unwrap();
            let mut tls = rustls::StreamOwned::new(server, conn);
            if let Some(path) = read_request(&mut tls) {
                log.lock().unwrap().push(path.clone());
                respond(&mut tls, Some(dir), 200, &path);
            }
        }
        Behaviour::Serve(dir) | Behaviour::Slow(_, dir) => {
            if let Some(path) = read_request(&mut conn) {
                log.lock().unwrap().push(path.clone());
                if let Behaviour::Slow(d, _) = b {
                    std::thread::sleep(*d);
                }
                respond(&mut conn, Some(dir), 200, &path);
            }
        }
        Behaviour::StallZip(dir) => {
            if let Some(path) = read_request(&mut conn) {
                log.lock().unwrap().push(path.clone());
                if std::path::Path::new(&path).extension().is_some_and(|e| e == "zip") {
                    respond_in_halves(&mut conn, dir, &path, gate, stop);
                } else {
                    respond(&mut conn, Some(dir), 200, &path);
                }
            }
        }
        Behaviour::Status(s) => {
            if let Some(path) = read_request(&mut conn) {
                log.lock().unwrap().push(path.clone());
                respond(&mut conn, None, *s, &path);
            }
        }
    }
}
