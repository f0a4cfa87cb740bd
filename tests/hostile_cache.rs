//! Caches built to hurt a cache tool: links and hard links to files outside,
//! names with newlines and invalid UTF-8, a zip bomb whose `.ziphash` says
//! it is fine, a zip that lies about its sizes, a zip with `../` names, a
//! 10 GB sparse file in a tree and as a zip, FIFOs wherever Go keeps a
//! file. `status`, `verify` and `prune` each: the hostile entries are
//! reported, nothing outside the cache changes, memory stays bounded, and
//! every run ends (a run still going after the timeout is killed and fails
//! the test).
//!
//! Hostile files written by hand live in the module cache as versions of
//! their own (`example.com/hostile/...`), beside a real version `go`
//! downloaded whose tree holds the rest.

mod common;

use std::fmt::Write as _;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// A run still going after this long is hung.
const TIMEOUT: Duration = Duration::from_secs(180);
/// Bound on gokeep's peak resident memory; hostile input must not raise it.
const MAX_RSS_KB: u64 = 256 * 1024;
/// What the zip bomb inflates to: 256 MiB in CI; `bench/torture.sh` sets
/// `GOKEEP_BOMB_BYTES` to gigabytes (at most 4 GiB - 1: the zip has no zip64).
fn bomb_bytes() -> u64 {
    std::env::var("GOKEEP_BOMB_BYTES").ok().and_then(|v| v.parse().ok()).unwrap_or(256 << 20).min(u64::from(u32::MAX))
}

/// The sparse files' size, of which nothing is on disk: 10 GB, or
/// `GOKEEP_SPARSE_BYTES`.
fn sparse_bytes() -> u64 {
    std::env::var("GOKEEP_SPARSE_BYTES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000_000)
}

const REAL: &str = "example.com/real";
const V1: &str = "v1.0.0";

// ---- Writing deflate streams and zips by hand -----------------------------

/// Little-endian bit writer for a deflate stream (RFC 1951 3.1.1).
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code goes most significant bit first.
    fn put_code(&mut self, code: u64, count: u32) {
        let reversed = (0..count).fold(0, |r, i| r | (((code >> i) & 1) << (count - 1 - i)));
        self.put(reversed, count);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A deflate stream that inflates to `n` zero bytes: one fixed-Huffman
/// block of a literal zero, then copies of length 258 at distance 1.
fn deflated_zeros(n: u64) -> Vec<u8> {
    let mut b = Bits::default();
    b.put(1, 1); // BFINAL
    b.put(1, 2); // BTYPE = fixed Huffman
    let mut left = n;
    if left > 0 {
        b.put_code(0x30, 8); // literal 0
        left -= 1;
    }
    while left >= 258 {
        b.put_code(0b1100_0101, 8); // length code 285: 258 bytes
        b.put_code(0, 5); // distance code 0: distance 1
        left -= 258;
    }
    for _ in 0..left {
        b.put_code(0x30, 8);
    }
    b.put_code(0, 7); // end of block
    b.finish()
}

fn crc32_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    for (i, e) in t.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *e = c;
    }
    t
}

/// CRC-32 of `n` zero bytes followed by nothing, or of `data`.
fn crc32(data: &[u8], zeros: u64) -> u32 {
    let t = crc32_table();
    let mut c = !0u32;
    for &byte in data {
        c = t[((c ^ u32::from(byte)) & 0xff) as usize] ^ (c >> 8);
    }
    for _ in 0..zeros {
        c = t[(c & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// One zip entry: name, method (0 stored, 8 deflate), the bytes stored,
/// and what the headers claim: CRC-32 and inflated size.
struct Entry {
    name: Vec<u8>,
    method: u16,
    data: Vec<u8>,
    crc: u32,
    size: u64,
}

impl Entry {
    fn stored(name: &str, content: &[u8]) -> Self {
        Entry {
            name: name.into(),
            method: 0,
            data: content.to_vec(),
            crc: crc32(content, 0),
            size: content.len() as u64,
        }
    }
}

/// A zip (no zip64: every size here fits 32 bits) of `entries`.
fn zip_of(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes()); // made by
            }
            h.extend(20u16.to_le_bytes()); // needed
            h.extend(0u16.to_le_bytes()); // flags
            h.extend(e.method.to_le_bytes());
            h.extend(0u32.to_le_bytes()); // time, date
            h.extend(e.crc.to_le_bytes());
            h.extend((e.data.len() as u32).to_le_bytes());
            h.extend((e.size as u32).to_le_bytes());
            h.extend((e.name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            if central {
                h.extend([0u8; 8]); // comment, disk, internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(&e.name);
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(&e.data);
        central.extend(header(0x0201_4b50, true));
    }
    let start = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// `sha256sum` of `n` zero bytes, computed by coreutils, not by gokeep's code.
fn sha256_of_zeros(n: u64) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("head -c {n} /dev/zero | sha256sum"))
        .output()
        .expect("running sha256sum");
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

/// Go's `h1:` of a zip holding `files` (name, hex SHA-256), as dirhash.Hash1 makes it.
fn h1(files: &[(&str, String)]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let mut sorted = files.to_vec();
    sorted.sort();
    let summary = sorted.iter().fold(String::new(), |mut s, (name, sum)| {
        let _ = writeln!(s, "{sum}  {name}");
        s
    });
    format!("h1:{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(summary.as_bytes())))
}

// ---- The hostile cache -----------------------------------------------------

/// A version written by hand: `cache/download/<path>/@v/v1.0.0.*`.
fn at_v(modcache: &Path, path: &str) -> PathBuf {
    let d = modcache.join("cache/download").join(path).join("@v");
    fs::create_dir_all(&d).unwrap();
    d
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().expect("running mkfifo");
    assert!(st.success(), "mkfifo {}", p.display());
}

fn sparse(p: &Path) {
    fs::File::create(p).unwrap().set_len(sparse_bytes()).unwrap();
}

/// Files outside the cache that hostile entries point at.
struct Outside {
    dir: PathBuf,
}

impl Outside {
    fn new(root: &Path) -> Self {
        let dir = root.join("outside");
        fs::create_dir_all(dir.join("dir")).unwrap();
        for (name, text) in [("secret", "secret\n"), ("hard", "hard-linked\n"), ("dir/inner", "inner\n")] {
            fs::write(dir.join(name), text).unwrap();
        }
        set_tree_times(&dir, 30 * 86_400);
        Outside { dir }
    }
}

/// The hostile module paths written by hand, each one a kind of attack.
const BOMB: &str = "example.com/hostile/bomb";
const LIAR: &str = "example.com/hostile/liar";
const SLIP: &str = "example.com/hostile/slip";
const SPARSE_ZIP: &str = "example.com/hostile/sparse";
const FIFOS: &str = "example.com/hostile/fifo";

fn make_hostile(fx: &Fixture, outside: &Outside) {
    let mc = fx.modcache();
    let bomb_size = bomb_bytes();
    let tree = fx.extracted_dir(REAL, V1);
    GoSandbox::make_writable(&tree);
    // Links out of a tree, to a file and to a directory.
    symlink(outside.dir.join("secret"), tree.join("link-out")).unwrap();
    symlink(outside.dir.join("dir"), tree.join("dir-out")).unwrap();
    symlink("../../../../../outside/secret", tree.join("relative-out")).unwrap();
    // A hard link: removing it must leave the other name and its bytes.
    fs::hard_link(outside.dir.join("hard"), tree.join("hard")).unwrap();
    // Names no UTF-8 string holds, and a newline.
    fs::write(tree.join("new\nline.go"), "package real\n").unwrap();
    fs::write(tree.join(std::ffi::OsStr::from_bytes(b"bad\xffname.go")), "package real\n").unwrap();
    let odd_dir = mc.join(std::ffi::OsStr::from_bytes(b"example.com/odd\xff\nname@v1.0.0"));
    fs::create_dir_all(&odd_dir).unwrap();
    fs::write(odd_dir.join("go.mod"), "module odd\n").unwrap();
    // A FIFO in a tree, a 10 GB sparse file beside it.
    mkfifo(&tree.join("pipe"));
    sparse(&tree.join("sparse.bin"));
    fs::set_permissions(&tree, fs::Permissions::from_mode(0o555)).unwrap();

    // FIFOs in place of every file Go keeps for a version, and of its tree's go.mod.
    let v = at_v(&mc, FIFOS);
    for ext in ["mod", "info", "zip", "ziphash", "lock"] {
        mkfifo(&v.join(format!("{V1}.{ext}")));
    }
    let fifo_tree = mc.join(format!("{FIFOS}@{V1}"));
    fs::create_dir_all(&fifo_tree).unwrap();
    mkfifo(&fifo_tree.join("go.mod"));

    // A zip bomb whose .ziphash is right: checking it means inflating all of it.
    let v = at_v(&mc, BOMB);
    let go_mod = format!("module {BOMB}\n");
    let big = format!("{BOMB}@{V1}/zeros.bin");
    let gm = format!("{BOMB}@{V1}/go.mod");
    let bomb = zip_of(&[
        Entry::stored(&gm, go_mod.as_bytes()),
        Entry {
            name: big.clone().into(),
            method: 8,
            data: deflated_zeros(bomb_size),
            crc: crc32(&[], bomb_size),
            size: bomb_size,
        },
    ]);
    fs::write(v.join(format!("{V1}.zip")), &bomb).unwrap();
    let sum = h1(&[(gm.as_str(), sha256_hex(go_mod.as_bytes())), (big.as_str(), sha256_of_zeros(bomb_size))]);
    fs::write(v.join(format!("{V1}.ziphash")), &sum).unwrap();
    write_meta(&v, &go_mod);

    // A bomb that claims to hold 1000 bytes.
    let v = at_v(&mc, LIAR);
    let go_mod = format!("module {LIAR}\n");
    let liar = zip_of(&[
        Entry::stored(&format!("{LIAR}@{V1}/go.mod"), go_mod.as_bytes()),
        Entry {
            name: format!("{LIAR}@{V1}/zeros.bin").into(),
            method: 8,
            data: deflated_zeros(bomb_size),
            crc: crc32(&[], 1000),
            size: 1000,
        },
    ]);
    fs::write(v.join(format!("{V1}.zip")), &liar).unwrap();
    fs::write(v.join(format!("{V1}.ziphash")), "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").unwrap();
    write_meta(&v, &go_mod);

    // A zip whose names climb out of the module's directory.
    let v = at_v(&mc, SLIP);
    let go_mod = format!("module {SLIP}\n");
    let gm = format!("{SLIP}@{V1}/go.mod");
    let slip_name = format!("{SLIP}@{V1}/../../../../../outside/slipped");
    let slip = zip_of(&[Entry::stored(&gm, go_mod.as_bytes()), Entry::stored(&slip_name, b"slipped\n")]);
    fs::write(v.join(format!("{V1}.zip")), &slip).unwrap();
    let sum = h1(&[(gm.as_str(), sha256_hex(go_mod.as_bytes())), (slip_name.as_str(), sha256_hex(b"slipped\n"))]);
    fs::write(v.join(format!("{V1}.ziphash")), &sum).unwrap();
    write_meta(&v, &go_mod);

    // A 10 GB sparse file where a zip should be.
    let v = at_v(&mc, SPARSE_ZIP);
    sparse(&v.join(format!("{V1}.zip")));
    fs::write(v.join(format!("{V1}.ziphash")), "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").unwrap();
    write_meta(&v, &format!("module {SPARSE_ZIP}\n"));

    // Written long ago, as a cache that sat on a disk: no fresh-download grace.
    set_tree_times(&mc.join("cache/download/example.com/hostile"), 10 * 86_400);

    // FIFOs in the build cache, as an action entry and as an output.
    let shard = fx.gocache().join("ab");
    mkfifo(&shard.join(format!("ab{}-a", "0".repeat(62))));
    mkfifo(&shard.join(format!("ab{}-d", "1".repeat(62))));
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn write_meta(at_v: &Path, go_mod: &str) {
    fs::write(at_v.join(format!("{V1}.mod")), go_mod).unwrap();
    fs::write(at_v.join(format!("{V1}.info")), format!("{{\"Version\":\"{V1}\",\"Time\":\"2024-01-01T00:00:00Z\"}}\n"))
        .unwrap();
    fs::write(at_v.join(format!("{V1}.lock")), "").unwrap();
}

// ---- Running gokeep with a timeout and a memory bound ----------------------

struct Bounded {
    code: i32,
    stdout: String,
    stderr: String,
    max_rss_kb: u64,
}

/// The peak resident set so far (`VmHWM`) of a running process.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs gokeep in the sandbox; kills it and fails after [`TIMEOUT`]. The
/// peak memory is read from `/proc` until it exits.
fn bounded(fx: &Fixture, args: &[&str]) -> Bounded {
    let dir = fx.sandbox.root().join("runs");
    fs::create_dir_all(&dir).unwrap();
    let (out_path, err_path) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new(gokeep_bin())
        .current_dir(fx.sandbox.root())
        .env_clear()
        .envs(fx.sandbox.go_env())
        .args(args)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("starting gokeep");
    let started = Instant::now();
    let mut max_rss_kb = 0;
    let status = loop {
        if let Some(kb) = peak_rss_kb(child.id()) {
            max_rss_kb = max_rss_kb.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let err = fs::read_to_string(&err_path).unwrap_or_default();
            panic!("`gokeep {}` hung: killed after {TIMEOUT:?}\n--- stderr\n{err}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = String::from_utf8_lossy(&fs::read(&out_path).unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&fs::read(&err_path).unwrap()).into_owned();
    let code = status.code().unwrap_or_else(|| panic!("`gokeep {}` died: {status}\n{stderr}", args.join(" ")));
    Bounded { code, stdout, stderr, max_rss_kb }
}

fn json_of(args: &[&str], r: &Bounded) -> Value {
    if serde_json::from_str::<Value>(&r.stdout).is_err() {
        eprintln!("--- stderr of gokeep {}\n{}", args.join(" "), r.stderr);
    }
    parse_json(&format!("gokeep {}", args.join(" ")), r.stdout.as_bytes())
}

fn hostile_fixture() -> (Fixture, Outside) {
    let fx = Fixture::with_modules(vec![
        Module::named(REAL, V1, "real", &format!("{REAL}@{V1}")).file("data/keep.txt", "keep\n"),
    ]);
    let outside = Outside::new(fx.sandbox.root());
    make_hostile(&fx, &outside);
    (fx, outside)
}

/// The module versions a verify finding names.
fn flagged_modules(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings: {doc:#}"))
        .iter()
        .filter(|f| f["severity"] != "info")
        .filter_map(|f| f["module"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn status_verify_and_prune_of_a_hostile_cache_end_bounded_and_touch_nothing_outside() {
    let (fx, outside) = hostile_fixture();
    let before = snapshot_with_times(&outside.dir);
    let hard_inode = fs::metadata(outside.dir.join("hard")).unwrap().ino();

    let status_args = ["status", "--json"];
    let status = bounded(&fx, &status_args);
    assert_eq!(status.code, 0, "status reads a hostile cache: {}", status.stderr);
    let doc = json_of(&status_args, &status);
    assert!(doc.is_object());
    assert!(status.max_rss_kb < MAX_RSS_KB, "status peaked at {} kB", status.max_rss_kb);
    assert_same(&before, &snapshot_with_times(&outside.dir));

    let verify_args = ["verify", "--json", "--no-project", "-j", "2"];
    let verify = bounded(&fx, &verify_args);
    let doc = json_of(&verify_args, &verify);
    assert_eq!(verify.code, 1, "verify finds the hostile versions: {doc:#}\n{}", verify.stderr);
    assert!(verify.max_rss_kb < MAX_RSS_KB, "verify peaked at {} kB", verify.max_rss_kb);
    let flagged = flagged_modules(&doc);
    for m in [REAL, LIAR, SLIP, SPARSE_ZIP, FIFOS] {
        assert!(flagged.iter().any(|f| f == m), "verify reports {m}: {flagged:?}\n{doc:#}");
    }
    assert_same(&before, &snapshot_with_times(&outside.dir));

    let prune_args = ["prune", "--all", "--yes", "--json"];
    let prune = bounded(&fx, &prune_args);
    let doc = json_of(&prune_args, &prune);
    assert!(prune.code == 0 || prune.code == 3, "prune ends with a result: {doc:#}\n{}", prune.stderr);
    assert!(prune.max_rss_kb < MAX_RSS_KB, "prune peaked at {} kB", prune.max_rss_kb);
    assert_same(&before, &snapshot_with_times(&outside.dir));
    assert_eq!(fs::metadata(outside.dir.join("hard")).unwrap().ino(), hard_inode);
    assert!(!fx.sandbox.root().join("outside/slipped").exists(), "a zip name climbed out");
    assert!(!fx.extracted_dir(REAL, V1).exists(), "the real version's hostile tree is removed: {doc:#}");
    for m in [BOMB, LIAR, SLIP, SPARSE_ZIP, FIFOS] {
        let zip = fx.modcache().join(format!("cache/download/{m}/@v/{V1}.zip"));
        assert!(fs::symlink_metadata(&zip).is_err(), "{m}'s zip is removed: {doc:#}");
    }
    // What go made still works after all that.
    fx.sandbox.go_ok(&fx.consumer, &["mod", "download", &format!("{REAL}@{V1}")]);
    fx.consumer_go_build_ok();
}
