//! The latency matrix: every proxy × module × endpoint, several rounds, with
//! bounded concurrency, and the GOPROXY order it recommends.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use super::probe::{self, Failure, Probe, Timeouts, median_spread};
use super::route::{HopOutcome, route};
use crate::go::modpath::escape;
use crate::go::pattern::match_prefix_patterns;
use crate::goenv::GoEnv;

/// Modules every public proxy serves, used when none are given.
pub const DEFAULT_MODULES: &[&str] = &["golang.org/x/text", "golang.org/x/mod", "github.com/google/uuid"];

/// The two requests `go` makes first for a module.
pub const ENDPOINTS: &[&str] = &["@v/list", "@latest"];

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Cell {
    pub proxy: String,
    pub module: String,
    pub endpoint: &'static str,
    pub rounds: Vec<Probe>,
    /// Median and spread of the total time of the rounds that got an answer.
    pub median_ms: Option<f64>,
    pub spread_ms: Option<f64>,
    /// The status of the last round, and its failure if it had one.
    pub status: Option<u16>,
    pub failure: Option<Failure>,
}

/// Paths a probe must not send to `proxy`: Go sends GONOPROXY paths to no
/// proxy, and a proxy outside the module's route gets none of it either
/// unless the caller named the proxy.
#[must_use]
pub fn allowed(env: &GoEnv, proxy: &str, module: &str, proxy_named: bool) -> bool {
    if match_prefix_patterns(env.get("GONOPROXY").unwrap_or(""), module) {
        return false;
    }
    proxy_named || route(env, module).proxies().contains(&proxy)
}

/// Runs every cell of the (proxy, module) `pairs`, `jobs` requests at a
/// time, calling `tick` after each request.
#[must_use]
pub fn run(
    pairs: &[(String, String)],
    rounds: usize,
    timeouts: &Timeouts,
    jobs: usize,
    tick: &(dyn Fn() + Sync),
) -> Vec<Cell> {
    let mut work = Vec::new();
    for (p, m) in pairs {
        for e in ENDPOINTS {
            work.push((p.clone(), m.clone(), *e));
        }
    }
    let results: Vec<Mutex<Vec<Probe>>> = work.iter().map(|_| Mutex::new(Vec::new())).collect();
    let next = AtomicUsize::new(0);
    let total = work.len() * rounds.max(1);
    if total == 0 {
        return Vec::new();
    }
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, 64) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    // Round-major order spreads one proxy's requests over time.
                    let cell = i % work.len();
                    let (p, m, e) = &work[cell];
                    let url = format!("{}/{}/{e}", p.trim_end_matches('/'), escape(m));
                    let probe = probe::get(&url, timeouts);
                    results[cell].lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(probe);
                    tick();
                }
            });
        }
    });
    work.into_iter()
        .zip(results)
        .map(|((proxy, module, endpoint), r)| {
            let rounds = r.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
            let answered: Vec<f64> =
                rounds.iter().filter(|p| p.failure.is_none()).filter_map(|p| p.timings.total_ms).collect();
            let ms = median_spread(&answered);
            let last = rounds.last();
            Cell {
                status: last.and_then(|p| p.status),
                failure: last.and_then(|p| p.failure.clone()),
                median_ms: ms.map(|m| m.0),
                spread_ms: ms.map(|m| m.1),
                proxy,
                module,
                endpoint,
                rounds,
            }
        })
        .collect()
}

/// A proxy's summary over its cells.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Ranked {
    pub proxy: String,
    /// Cells whose answer Go would use or fall through on (2xx, 404, 410).
    pub healthy: usize,
    pub cells: usize,
    /// Median of the cells' medians.
    pub median_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Recommendation {
    pub ranking: Vec<Ranked>,
    /// The GOPROXY value to use: healthy proxies fastest first, joined
    /// with `|` so an error from one moves on to the next.
    pub goproxy: String,
    /// Proxies left out because every request to them failed.
    pub dropped: Vec<String>,
}

/// Orders the proxies: most healthy cells first, then lowest median.
#[must_use]
pub fn recommend(proxies: &[String], cells: &[Cell], keep_direct: bool) -> Recommendation {
    let mut ranking: Vec<Ranked> = proxies
        .iter()
        .map(|p| {
            let mine: Vec<&Cell> = cells.iter().filter(|c| &c.proxy == p).collect();
            let healthy = mine
                .iter()
                .filter(|c| c.failure.is_none() && c.status.is_some_and(|s| probe_outcome(s) != HopOutcome::Error))
                .count();
            let medians: Vec<f64> = mine.iter().filter_map(|c| c.median_ms).collect();
            Ranked { proxy: p.clone(), healthy, cells: mine.len(), median_ms: median_spread(&medians).map(|m| m.0) }
        })
        .collect();
    ranking.sort_by(|a, b| {
        b.healthy
            .cmp(&a.healthy)
            .then(a.median_ms.unwrap_or(f64::INFINITY).total_cmp(&b.median_ms.unwrap_or(f64::INFINITY)))
    });
    let (kept, dropped): (Vec<&Ranked>, Vec<&Ranked>) = ranking.iter().partition(|r| r.healthy > 0);
    let mut goproxy = kept.iter().map(|r| r.proxy.as_str()).collect::<Vec<_>>().join("|");
    if keep_direct {
        if goproxy.is_empty() {
            goproxy.push_str("direct");
        } else {
            goproxy.push_str(",direct");
        }
    }
    Recommendation { dropped: dropped.iter().map(|r| r.proxy.clone()).collect(), goproxy, ranking }
}

fn probe_outcome(status: u16) -> HopOutcome {
    super::route::classify_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goenv::{Source, Var};

    fn cell(proxy: &str, median: Option<f64>, status: Option<u16>) -> Cell {
        Cell {
            proxy: proxy.into(),
            module: "m".into(),
            endpoint: "@v/list",
            rounds: vec![],
            median_ms: median,
            spread_ms: Some(0.0),
            status,
            failure: None,
        }
    }

    #[test]
    fn healthy_fast_proxies_first_joined_with_pipes_and_dead_ones_dropped() {
        let proxies: Vec<String> =
            ["http://slow", "http://fast", "http://dead", "http://forbidden"].map(String::from).into();
        let cells = vec![
            cell("http://slow", Some(210.0), Some(200)),
            cell("http://fast", Some(3.0), Some(404)),
            cell("http://dead", None, None),
            cell("http://forbidden", Some(1.0), Some(403)),
        ];
        let r = recommend(&proxies, &cells, true);
        assert_eq!(r.goproxy, "http://fast|http://slow,direct");
        assert_eq!(r.dropped, vec!["http://forbidden", "http://dead"]);
    }

    #[test]
    fn private_paths_are_never_probed_on_proxies() {
        let mut env = GoEnv::default();
        for (k, v) in [("GOPROXY", "https://a.example,direct"), ("GONOPROXY", "corp.example")] {
            env.vars.insert(k.into(), Var { value: v.into(), source: Source::Env });
        }
        assert!(!allowed(&env, "https://a.example", "corp.example/x", true));
        assert!(allowed(&env, "https://a.example", "github.com/x/y", false));
        assert!(!allowed(&env, "https://b.example", "github.com/x/y", false));
        assert!(allowed(&env, "https://b.example", "github.com/x/y", true));
    }
}
