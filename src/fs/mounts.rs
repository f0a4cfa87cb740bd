//! The mount table: which mount holds a path, and with which options.
//!
//! Read from `/proc/self/mountinfo`; the mount holding a path is the one
//! whose mount point is its longest whole-component prefix, and the last
//! such line wins (it is mounted on top).

use std::path::Path;

/// Where the kernel lists this process's mounts.
pub const MOUNTINFO: &str = "/proc/self/mountinfo";

/// One mount: its point (unescaped) and its per-mount options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub point: String,
    pub options: Vec<String>,
}

impl Mount {
    /// Whether the mount has option `o` (`noatime`, `relatime`, ...).
    #[must_use]
    pub fn has(&self, o: &str) -> bool {
        self.options.iter().any(|x| x == o)
    }
}

/// The text of this process's mount table.
///
/// # Errors
/// When `/proc/self/mountinfo` cannot be read (no procfs).
pub fn read_mountinfo() -> std::io::Result<String> {
    std::fs::read_to_string(MOUNTINFO)
}

/// The mount in `mountinfo` that holds `path` (which should be canonical).
#[must_use]
pub fn mount_of(mountinfo: &str, path: &Path) -> Option<Mount> {
    let mut best: Option<(usize, Mount)> = None;
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        // id parent major:minor root mount-point options ...
        let (Some(point), Some(options)) = (fields.get(4), fields.get(5)) else { continue };
        let point = unescape_octal(point);
        if !path.starts_with(&point) {
            continue;
        }
        let depth = Path::new(&point).components().count();
        if best.as_ref().is_none_or(|(d, _)| depth >= *d) {
            best = Some((depth, Mount { point, options: options.split(',').map(str::to_owned).collect() }));
        }
    }
    best.map(|(_, m)| m)
}

/// mountinfo writes space, tab, newline and backslash in paths as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
