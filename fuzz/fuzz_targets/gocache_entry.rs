//! GOCACHE action entries: any bytes are read as `DiskCache.get` reads them,
//! accepted or refused with a reason and never a panic; an accepted entry
//! is one 175-byte line naming the action it was looked up as. An accepted
//! entry is then put in a scratch GOCACHE beside an output of the size it
//! claims (or shorter) and the whole cache checked.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use gokeep::verify::gocache::{ENTRY_SIZE, check_gocache, parse_action};
use libfuzzer_sys::fuzz_target;

fn cache() -> &'static (tempfile::TempDir, PathBuf) {
    static C: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    C.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("go-build");
        std::fs::create_dir(&root).expect("cache root");
        (dir, root)
    })
}

fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fuzz_target!(|data: &[u8]| {
    // The name the entry is looked up under: its own id when it has one in
    // place, so that the fields after it are reached.
    let own = data.get(3..67).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("");
    for id in [own, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"] {
        let Ok(e) = parse_action(data, id) else { continue };
        assert_eq!(data.len(), ENTRY_SIZE);
        assert!(data[3..67].eq_ignore_ascii_case(id.as_bytes()));
        assert!(is_id(&e.output_id), "output id {:?}", e.output_id);
        assert_eq!(e.output_id, String::from_utf8_lossy(&data[68..132]).to_ascii_lowercase());
        if !is_id(id) {
            continue;
        }
        let root = &cache().1;
        let _ = std::fs::remove_dir_all(root);
        let shard = root.join(&id[..2]);
        std::fs::create_dir_all(&shard).expect("shard");
        std::fs::write(shard.join(format!("{id}-a")), data).expect("action");
        let out_shard = root.join(&e.output_id[..2]);
        std::fs::create_dir_all(&out_shard).expect("shard");
        let len = usize::try_from(e.size).unwrap_or(usize::MAX).min(data.len());
        std::fs::write(out_shard.join(format!("{}-d", e.output_id)), &data[..len]).expect("output");
        let check = check_gocache(root, &|| {}).expect("a readable cache");
        assert_eq!(check.actions_checked, 1);
    }
});
