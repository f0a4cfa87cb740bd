//! Which file time says "last used" for a cache directory.
//!
//! GOMODCACHE keeps no record of use, so age-based pruning reads the access
//! time the kernel keeps — where it keeps one. Linux mounts with `relatime`
//! by default: atime is updated on a read when it is older than the mtime or
//! more than a day old, which is exact enough for policies counted in days.
//! A `noatime` mount never updates it, so ages fall back to the modification
//! time (when the version was downloaded). `nodiratime` does not matter: only
//! file times are used.
//!
//! The mount options come from the mount table ([`crate::fs::mounts`]).

use std::path::Path;

use serde::Serialize;

use crate::fs::mounts;
use crate::scan::Stats;
use crate::timestamp::Timestamp;

/// The file time a plan reads as "last used".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgeSource {
    /// The newest of atime and mtime: reads count as use.
    Atime,
    /// mtime only, because the file system does not record reads.
    Mtime,
}

impl AgeSource {
    /// When the files summed in `stats` were last used, as far as this source can tell.
    #[must_use]
    pub fn last_used(self, stats: &Stats) -> Option<Timestamp> {
        match self {
            Self::Atime => stats.last_used(),
            Self::Mtime => stats.newest_mtime,
        }
    }
}

/// The age source for files under `path` (which should be canonical, as a
/// scanned cache root is), and why, for the report.
#[must_use]
pub fn age_source_for(path: &Path) -> (AgeSource, String) {
    match mounts::read_mountinfo() {
        Ok(text) => age_source_from_mountinfo(&text, path),
        Err(e) => (AgeSource::Atime, format!("cannot read /proc/self/mountinfo ({e}); assuming reads update atime")),
    }
}

/// [`age_source_for`] on the text of a mountinfo file.
#[must_use]
pub fn age_source_from_mountinfo(mountinfo: &str, path: &Path) -> (AgeSource, String) {
    let Some(mount) = mounts::mount_of(mountinfo, path) else {
        return (AgeSource::Atime, format!("no mount found for {}; assuming reads update atime", path.display()));
    };
    let point = &mount.point;
    if mount.has("noatime") {
        (AgeSource::Mtime, format!("mount {point} has noatime: ages use mtime (time of download)"))
    } else if mount.has("strictatime") {
        (AgeSource::Atime, format!("mount {point} has strictatime: ages use atime"))
    } else if mount.has("relatime") {
        (AgeSource::Atime, format!("mount {point} has relatime: ages use atime (updated at most daily)"))
    } else {
        (AgeSource::Atime, format!("mount {point} records access times: ages use atime"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:25 / /tmp rw,nosuid,nodev shared:5 - tmpfs tmpfs rw
31 22 8:2 / /srv/go\\040cache rw,noatime shared:6 - ext4 /dev/sda2 rw
32 22 8:3 / /data rw,strictatime shared:7 - xfs /dev/sda3 rw
";

    #[test]
    fn relatime_root_uses_atime() {
        let (src, why) = age_source_from_mountinfo(MOUNTINFO, Path::new("/home/u/go/pkg/mod"));
        assert_eq!(src, AgeSource::Atime);
        assert_eq!(why, "mount / has relatime: ages use atime (updated at most daily)");
    }

    #[test]
    fn noatime_mount_falls_back_to_mtime_and_escaped_mount_points_match() {
        let (src, why) = age_source_from_mountinfo(MOUNTINFO, Path::new("/srv/go cache/mod"));
        assert_eq!(src, AgeSource::Mtime);
        assert!(why.contains("/srv/go cache has noatime"), "{why}");
    }

    #[test]
    fn longest_mount_point_wins_and_prefixes_match_whole_components() {
        assert_eq!(age_source_from_mountinfo(MOUNTINFO, Path::new("/data/x")).0, AgeSource::Atime);
        // "/srv/go cache2" is not under "/srv/go cache".
        assert!(age_source_from_mountinfo(MOUNTINFO, Path::new("/srv/go cache2")).1.starts_with("mount / "));
    }

    #[test]
    fn a_later_mount_on_the_same_point_hides_the_earlier() {
        let text = format!("{MOUNTINFO}40 22 8:4 / /tmp rw,noatime - ext4 /dev/sdb1 rw\n");
        assert_eq!(age_source_from_mountinfo(&text, Path::new("/tmp/cache")).0, AgeSource::Mtime);
    }

    #[test]
    fn mtime_source_ignores_reads() {
        let s = Stats { newest_atime: Some(Timestamp(200)), newest_mtime: Some(Timestamp(100)), ..Stats::default() };
        assert_eq!(AgeSource::Atime.last_used(&s), Some(Timestamp(200)));
        assert_eq!(AgeSource::Mtime.last_used(&s), Some(Timestamp(100)));
    }

    #[test]
    fn this_process_can_read_its_mount_table() {
        let (_, why) = age_source_for(Path::new("/"));
        assert!(why.starts_with("mount / "), "{why}");
    }
}
