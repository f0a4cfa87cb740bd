//! Turns a [`CacheInventory`] into the rows `gokeep status` shows: totals,
//! categories, the largest modules, the least recently used versions and the
//! age distribution. It computes; the binary renders.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::layout::Category;
use crate::scan::{CacheInventory, CacheKind, ScanWarning, Stats};
use crate::timestamp::Timestamp;

/// The ages `status` buckets by, in days.
pub const AGE_THRESHOLDS_DAYS: [u32; 3] = [7, 30, 90];

const DAY: i64 = 86_400;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CategoryRow {
    pub category: Category,
    pub apparent_bytes: u64,
    pub disk_bytes: u64,
    pub files: u64,
}

/// All cached versions of one module, summed.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ModuleRow {
    pub module: String,
    pub versions: usize,
    pub apparent_bytes: u64,
    pub disk_bytes: u64,
    pub files: u64,
    pub last_used: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VersionRow {
    pub module: String,
    pub version: String,
    pub apparent_bytes: u64,
    pub disk_bytes: u64,
    pub last_used: Option<Timestamp>,
}

/// What has not been used for longer than `older_than_days`. For the module
/// cache an item is a module version; for the build cache an action or
/// output entry.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AgeBucket {
    pub older_than_days: u32,
    pub items: u64,
    pub apparent_bytes: u64,
    pub disk_bytes: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CacheReport {
    pub kind: CacheKind,
    pub root: std::path::PathBuf,
    pub apparent_bytes: u64,
    pub disk_bytes: u64,
    pub files: u64,
    pub dirs: u64,
    pub oldest_mtime: Option<Timestamp>,
    pub newest_mtime: Option<Timestamp>,
    /// Module versions (module cache) or action+output entries (build cache).
    pub items: u64,
    pub categories: Vec<CategoryRow>,
    pub top_modules: Vec<ModuleRow>,
    pub least_recently_used: Vec<VersionRow>,
    pub age: Vec<AgeBucket>,
    pub warnings: Vec<ScanWarning>,
}

/// Builds the report of one cache; `top` bounds the module and version lists.
#[must_use]
pub fn cache_report(inv: &CacheInventory, top: usize, now: Timestamp) -> CacheReport {
    let categories = inv
        .categories
        .iter()
        .filter(|(_, s)| !s.is_empty())
        .map(|(c, s)| CategoryRow {
            category: *c,
            apparent_bytes: s.apparent_bytes,
            disk_bytes: s.disk_bytes,
            files: s.files,
        })
        .collect();
    let (items, top_modules, least_recently_used, age) = match inv.kind {
        CacheKind::ModCache => {
            // A version pruned to its lock file is gone as far as a reader is concerned.
            let totals: Vec<(&str, &str, Stats)> = inv
                .versions
                .iter()
                .filter(|v| v.holds_content())
                .map(|v| (v.module.as_str(), v.version.as_str(), v.total()))
                .collect();
            (totals.len() as u64, top_modules(&totals, top), least_recent(&totals, top), version_ages(&totals, now))
        }
        CacheKind::BuildCache => {
            let items = inv.build_entries_by_day.values().map(|s| s.files).sum();
            (items, Vec::new(), Vec::new(), day_ages(&inv.build_entries_by_day, now))
        }
    };
    CacheReport {
        kind: inv.kind,
        root: inv.root.clone(),
        apparent_bytes: inv.total.apparent_bytes,
        disk_bytes: inv.total.disk_bytes,
        files: inv.total.files,
        dirs: inv.total.dirs,
        oldest_mtime: inv.total.oldest_mtime,
        newest_mtime: inv.total.newest_mtime,
        items,
        categories,
        top_modules,
        least_recently_used,
        age,
        warnings: inv.warnings.clone(),
    }
}

fn top_modules(versions: &[(&str, &str, Stats)], top: usize) -> Vec<ModuleRow> {
    let mut by_module: BTreeMap<&str, (usize, Stats)> = BTreeMap::new();
    for (module, _, s) in versions {
        let e = by_module.entry(module).or_default();
        e.0 += 1;
        e.1 += s;
    }
    let mut rows: Vec<ModuleRow> = by_module
        .into_iter()
        .map(|(module, (n, s))| ModuleRow {
            module: module.to_owned(),
            versions: n,
            apparent_bytes: s.apparent_bytes,
            disk_bytes: s.disk_bytes,
            files: s.files,
            last_used: s.last_used(),
        })
        .collect();
    rows.sort_by(|a, b| b.disk_bytes.cmp(&a.disk_bytes).then_with(|| a.module.cmp(&b.module)));
    rows.truncate(top);
    rows
}

fn least_recent(versions: &[(&str, &str, Stats)], top: usize) -> Vec<VersionRow> {
    let mut rows: Vec<VersionRow> = versions
        .iter()
        .map(|(module, version, s)| VersionRow {
            module: (*module).to_owned(),
            version: (*version).to_owned(),
            apparent_bytes: s.apparent_bytes,
            disk_bytes: s.disk_bytes,
            last_used: s.last_used(),
        })
        .collect();
    rows.sort_by(|a, b| a.last_used.cmp(&b.last_used).then_with(|| b.disk_bytes.cmp(&a.disk_bytes)));
    rows.truncate(top);
    rows
}

fn version_ages(versions: &[(&str, &str, Stats)], now: Timestamp) -> Vec<AgeBucket> {
    AGE_THRESHOLDS_DAYS
        .iter()
        .map(|&days| {
            let mut b = AgeBucket { older_than_days: days, items: 0, apparent_bytes: 0, disk_bytes: 0 };
            for (_, _, s) in versions {
                if s.last_used().is_some_and(|t| t.age_secs(now) > i64::from(days) * DAY) {
                    b.items += 1;
                    b.apparent_bytes += s.apparent_bytes;
                    b.disk_bytes += s.disk_bytes;
                }
            }
            b
        })
        .collect()
}

fn day_ages(by_day: &BTreeMap<i64, Stats>, now: Timestamp) -> Vec<AgeBucket> {
    let today = now.0.div_euclid(DAY);
    AGE_THRESHOLDS_DAYS
        .iter()
        .map(|&days| {
            let mut b = AgeBucket { older_than_days: days, items: 0, apparent_bytes: 0, disk_bytes: 0 };
            // A whole day is older than N days only if it ended more than N days ago.
            for (_, s) in by_day.range(..today - i64::from(days)) {
                b.items += s.files;
                b.apparent_bytes += s.apparent_bytes;
                b.disk_bytes += s.disk_bytes;
            }
            b
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(bytes: u64, used: i64) -> Stats {
        Stats {
            apparent_bytes: bytes,
            disk_bytes: bytes * 2,
            files: 1,
            dirs: 0,
            oldest_mtime: Some(Timestamp(used)),
            newest_mtime: Some(Timestamp(used)),
            oldest_atime: Some(Timestamp(used)),
            newest_atime: Some(Timestamp(used)),
        }
    }

    #[test]
    fn top_modules_sum_versions_and_sort_by_disk_bytes() {
        let v = [("a", "v1.0.0", stats(10, 0)), ("a", "v1.1.0", stats(10, 5)), ("b", "v1.0.0", stats(15, 1))];
        let rows = top_modules(&v, 10);
        assert_eq!(rows[0].module, "a");
        assert_eq!(rows[0].versions, 2);
        assert_eq!(rows[0].disk_bytes, 40);
        assert_eq!(rows[0].last_used, Some(Timestamp(5)));
        assert_eq!(top_modules(&v, 1).len(), 1);
    }

    #[test]
    fn least_recent_lists_oldest_first() {
        let v = [("a", "v1", stats(1, 50)), ("b", "v1", stats(1, 10)), ("c", "v1", stats(1, 30))];
        let names: Vec<_> = least_recent(&v, 2).into_iter().map(|r| r.module).collect();
        assert_eq!(names, ["b", "c"]);
    }

    #[test]
    fn age_buckets_are_cumulative() {
        let now = Timestamp(200 * DAY);
        let v = [
            ("a", "v1", stats(1, now.0 - 100 * DAY)),
            ("b", "v1", stats(2, now.0 - 10 * DAY)),
            ("c", "v1", stats(4, now.0)),
        ];
        let b = version_ages(&v, now);
        assert_eq!(b.iter().map(|b| b.items).collect::<Vec<_>>(), [2, 1, 1]);
        assert_eq!(b[0].apparent_bytes, 3);
    }

    #[test]
    fn build_cache_days_bucket_by_whole_days() {
        let now = Timestamp(100 * DAY + 3600);
        let mut by_day = BTreeMap::new();
        by_day.insert(100, stats(1, 0)); // today
        by_day.insert(92, stats(2, 0)); // 8 days ago
        by_day.insert(93, stats(4, 0)); // 7 days ago: not older than 7 days
        let b = day_ages(&by_day, now);
        assert_eq!(b[0].apparent_bytes, 2);
        assert_eq!(b[1].items, 0);
    }
}
