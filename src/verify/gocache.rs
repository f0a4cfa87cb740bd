//! GOCACHE entries against their own format (`cmd/go/internal/cache/cache.go`).
//!
//! An action entry `<xx>/<action id>-a` is exactly one 175-byte line,
//! `v1 <action id hex> <output id hex> <size %20d> <unix nanos %20d>\n`, whose
//! action id is its file name. The output it names, `<yy>/<output id>-d`, is
//! stored under the SHA-256 of its content (`put`), so its size and hash can
//! be checked. cmd/go treats any bad entry as a cache miss and rebuilds, but
//! an output whose size is right and content wrong is used as is (`GetFile`
//! only compares sizes): that is what this check exists to find.
//!
//! A missing output is normal (trimming removes `-a` and `-d` files
//! independently) and is not reported.
//!
//! Since Go 1.24 an executable built by `go run` or `go tool` is stored as a
//! directory `<output id>-d/` holding that one file under its own name
//! (`PutExecutable`); `OutputFile` refuses such a directory unless it holds
//! exactly one entry, and the action's size and the output id are those of
//! the file inside.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::dirhash::sha256_file;
use super::finding::{Finding, FindingKind as K};
use crate::prune::Target;

/// The fix for an unusable entry: remove it, so go rebuilds it.
fn remove_entry(f: Finding, root: &Path, entry: &Path) -> Finding {
    let Ok(rel) = entry.strip_prefix(root) else { return f };
    f.fix("remove the entry; go rebuilds it on next use", vec![Target::BuildEntry { entry: rel.to_owned() }])
}

/// Go's `entrySize`.
pub const ENTRY_SIZE: usize = 2 + 1 + 64 + 1 + 64 + 1 + 20 + 1 + 20 + 1;

/// A well-formed action entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionEntry {
    pub output_id: String,
    pub size: u64,
}

/// Parses an action entry the way `DiskCache.get` does; the error says why not.
pub fn parse_action(data: &[u8], action_id: &str) -> Result<ActionEntry, &'static str> {
    match data.len().cmp(&ENTRY_SIZE) {
        std::cmp::Ordering::Greater => return Err("too long"),
        std::cmp::Ordering::Less => return Err("entry file incomplete"),
        std::cmp::Ordering::Equal => {}
    }
    let h = 64;
    if &data[0..3] != b"v1 "
        || data[3 + h] != b' '
        || data[3 + h + 1 + h] != b' '
        || data[3 + h + 1 + h + 1 + 20] != b' '
        || data[ENTRY_SIZE - 1] != b'\n'
    {
        return Err("invalid header");
    }
    let hex = |s: &[u8]| s.iter().all(u8::is_ascii_hexdigit);
    let eid = &data[3..3 + h];
    let eout = &data[4 + h..4 + 2 * h];
    if !hex(eid) {
        return Err("action id is not hex");
    }
    if !eid.eq_ignore_ascii_case(action_id.as_bytes()) {
        return Err("mismatched ID");
    }
    if !hex(eout) {
        return Err("output id is not hex");
    }
    let num = |s: &[u8]| -> Option<i64> { std::str::from_utf8(s).ok()?.trim_start_matches(' ').parse().ok() };
    let size = num(&data[5 + 2 * h..5 + 2 * h + 20]).ok_or("size is not a number")?;
    let time = num(&data[6 + 2 * h + 20..6 + 2 * h + 40]).ok_or("time is not a number")?;
    if size < 0 {
        return Err("negative size");
    }
    if time < 0 {
        return Err("negative time");
    }
    Ok(ActionEntry { output_id: String::from_utf8_lossy(eout).to_ascii_lowercase(), size: size as u64 })
}

/// What the build cache check looked at.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct GocacheCheck {
    pub root: PathBuf,
    pub actions_checked: usize,
    pub outputs_checked: usize,
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

fn is_hex_name(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One shard's findings, the outputs its actions name (id, size, action
/// path) and how many actions it holds.
type ShardResult = (Vec<Finding>, Vec<(String, u64, PathBuf)>, usize);

/// Checks every action entry and every output an action entry names.
pub fn check_gocache(root: &Path, progress: &(dyn Fn() + Sync)) -> Result<GocacheCheck, std::io::Error> {
    std::fs::read_dir(root)?;
    let shards: Vec<PathBuf> = (0..=255u8).map(|i| root.join(format!("{i:02x}"))).collect();
    // Pass 1: action entries.
    let per_shard: Vec<ShardResult> = shards
        .par_iter()
        .map(|shard| {
            let mut findings = Vec::new();
            let mut outputs = Vec::new();
            let mut n = 0;
            let Ok(rd) = std::fs::read_dir(shard) else {
                progress();
                return (findings, outputs, n);
            };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let Some(id) = name.strip_suffix("-a").filter(|id| is_hex_name(id, 64)) else { continue };
                if !e.file_type().is_ok_and(|t| t.is_file()) {
                    continue;
                }
                n += 1;
                let path = e.path();
                // Read one byte more than an entry, like cmd/go, to tell "too long".
                let data = match read_prefix(&path, ENTRY_SIZE + 1) {
                    Ok(d) => d,
                    Err(err) => {
                        findings.push(
                            Finding::new(K::BuildActionMalformed, format!("cannot read action entry: {err}"))
                                .path(&path),
                        );
                        continue;
                    }
                };
                match parse_action(&data, id) {
                    Ok(a) => outputs.push((a.output_id, a.size, path)),
                    Err(why) => findings.push(remove_entry(
                        Finding::new(K::BuildActionMalformed, format!("action entry is not Go's format: {why}"))
                            .path(&path)
                            .hashes(Some(&format!("{ENTRY_SIZE}-byte v1 entry named {id}")), None),
                        root,
                        &path,
                    )),
                }
            }
            progress();
            (findings, outputs, n)
        })
        .collect();
    let mut findings = Vec::new();
    // Every action naming an output, so that each one's size is checked.
    let mut wanted: BTreeMap<String, Vec<(u64, PathBuf)>> = BTreeMap::new();
    let mut actions = 0;
    for (f, outs, n) in per_shard {
        findings.extend(f);
        actions += n;
        for (id, size, action) in outs {
            wanted.entry(id).or_default().push((size, action));
        }
    }
    // Pass 2: outputs, each hashed once however many actions name it.
    let out_findings: Vec<(bool, Vec<Finding>)> =
        wanted.par_iter().map(|(id, actions)| check_output(root, id, actions)).collect();
    let outputs = out_findings.iter().filter(|(seen, _)| *seen).count();
    findings.extend(out_findings.into_iter().flat_map(|(_, f)| f));
    findings.sort_by(|a, b| a.paths.cmp(&b.paths));
    Ok(GocacheCheck { root: root.to_owned(), actions_checked: actions, outputs_checked: outputs, findings })
}

/// One output against the action entry naming it: whether it exists, and
/// what is wrong with it.
fn check_output(root: &Path, id: &str, actions: &[(u64, PathBuf)]) -> (bool, Vec<Finding>) {
    let entry = root.join(&id[..2]).join(format!("{id}-d"));
    let path = entry.clone();
    let Ok(md) = std::fs::symlink_metadata(&path) else { return (false, Vec::new()) };
    // Content that is not what its name says is wrong for every action naming it: the output goes.
    let bad = |path: &Path, what: &str| {
        let f =
            actions.iter().fold(Finding::new(K::BuildOutputMismatch, what).path(path), |f, (_, action)| f.path(action));
        remove_entry(f, root, &entry)
    };
    let (path, md) = if md.is_dir() {
        match executable_in(&path) {
            Ok(found) => found,
            Err(why) => return (true, vec![bad(&path, &format!("executable entry is not usable: {why}"))]),
        }
    } else {
        (path, md)
    };
    let mut findings: Vec<Finding> = actions
        .iter()
        .filter(|(size, _)| *size != md.len())
        .map(|(size, action)| {
            // Only this action disagrees with the output: it goes, the output stays for the others.
            let f = Finding::new(K::BuildOutputMismatch, "output size differs from its action entry")
                .path(&path)
                .path(action)
                .hashes(Some(&format!("{size} bytes")), Some(&format!("{} bytes", md.len())));
            remove_entry(f, root, action)
        })
        .collect();
    // The content is only worth hashing when some action expects this size.
    if findings.len() < actions.len() {
        match sha256_file(&path) {
            Ok(sum) => {
                let hex = super::dirhash::to_hex(&sum);
                if hex != id {
                    let f = bad(&path, "output content differs from its SHA-256 name").hashes(Some(id), Some(&hex));
                    findings.push(f);
                }
            }
            Err(e) => findings.push(bad(&path, &e.to_string())),
        }
    }
    (true, findings)
}

/// The one regular file an executable entry directory must hold.
fn executable_in(dir: &Path) -> Result<(PathBuf, std::fs::Metadata), String> {
    let entries: Vec<_> =
        std::fs::read_dir(dir).map_err(|e| e.to_string())?.collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let [only] = entries.as_slice() else {
        return Err(format!("{} entries where go expects exactly one", entries.len()));
    };
    let md = std::fs::symlink_metadata(only.path()).map_err(|e| e.to_string())?;
    if !md.is_file() {
        return Err(format!("{} is not a regular file", only.path().display()));
    }
    Ok((only.path(), md))
}

fn read_prefix(path: &Path, n: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(n);
    crate::fs::noatime::open(path)?.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, out: &str, size: i64) -> Vec<u8> {
        format!("v1 {id} {out} {size:20} {:20}\n", 1_700_000_000_000_000_000_i64).into_bytes()
    }

    #[test]
    fn every_action_naming_an_output_has_its_size_checked() {
        use sha2::Digest as _;
        let t = tempfile::tempdir().unwrap();
        let data = b"compiled package";
        let out = super::super::dirhash::to_hex(&sha2::Sha256::digest(data));
        std::fs::create_dir_all(t.path().join(&out[..2])).unwrap();
        std::fs::write(t.path().join(&out[..2]).join(format!("{out}-d")), data).unwrap();
        let mut actions = Vec::new();
        for (c, size) in [('c', data.len()), ('e', data.len() + 1)] {
            let id = c.to_string().repeat(64);
            std::fs::create_dir_all(t.path().join(&id[..2])).unwrap();
            let path = t.path().join(&id[..2]).join(format!("{id}-a"));
            std::fs::write(&path, entry(&id, &out, i64::try_from(size).unwrap())).unwrap();
            actions.push(path);
        }
        let check = check_gocache(t.path(), &|| {}).unwrap();
        assert_eq!((check.actions_checked, check.outputs_checked), (2, 1));
        let [f] = check.findings.as_slice() else { panic!("{:?}", check.findings) };
        assert!(f.detail.contains("size") && f.paths.contains(&actions[1]) && !f.paths.contains(&actions[0]), "{f:?}");
    }

    #[test]
    fn reads_go_s_entry_format() {
        let id = "a".repeat(64);
        let out = "b".repeat(64);
        let e = entry(&id, &out, 42);
        assert_eq!(e.len(), ENTRY_SIZE);
        assert_eq!(parse_action(&e, &id), Ok(ActionEntry { output_id: out.clone(), size: 42 }));
        assert_eq!(parse_action(&e, &"c".repeat(64)), Err("mismatched ID"));
        assert_eq!(parse_action(&e[..100], &id), Err("entry file incomplete"));
        let mut long = e.clone();
        long.push(b'x');
        assert_eq!(parse_action(&long, &id), Err("too long"));
        let mut bad = e.clone();
        bad[0] = b'x';
        assert_eq!(parse_action(&bad, &id), Err("invalid header"));
        assert_eq!(parse_action(&entry(&id, &out, -1), &id), Err("negative size"));
        assert!(parse_action(&[0xff; ENTRY_SIZE], &id).is_err());
    }
}
