//! How `gokeep probe` reads: its `--json` document and its text.

use gokeep::proxy::matrix::{self, Cell};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ProbeJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) cells: &'a [Cell],
    pub(crate) skipped: Vec<Skipped<'a>>,
    pub(crate) recommendation: &'a matrix::Recommendation,
}

/// A proxy and a module Go would not send it.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct Skipped<'a> {
    pub(crate) module: &'a str,
    pub(crate) proxy: &'a str,
}

pub(crate) fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

pub(crate) fn render(cells: &[Cell], skipped: &[(String, String)], rec: &matrix::Recommendation) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<40} {:<28} {:<8} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7}",
        "proxy", "module", "request", "status", "dns ms", "tcp ms", "tls ms", "ttfb ms", "median ms", "spread"
    );
    for c in cells {
        let last = c.rounds.last();
        let t = last.map(|p| p.timings.clone()).unwrap_or_default();
        let status = match (&c.failure, c.status) {
            (Some(f), _) => format!("{:?} at {}", f.kind, f.stage).to_lowercase(),
            (None, Some(s)) => s.to_string(),
            (None, None) => "-".into(),
        };
        let _ = writeln!(
            s,
            "{:<40} {:<28} {:<8} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7}",
            gokeep::proxy::lint::redact(&c.proxy),
            c.module,
            c.endpoint,
            status,
            ms(t.dns_ms),
            ms(t.connect_ms),
            ms(t.tls_ms),
            ms(t.first_byte_ms),
            ms(c.median_ms),
            ms(c.spread_ms)
        );
        if let Some(f) = &c.failure {
            let _ = writeln!(s, "    {}", f.message);
        } else if let Some(does) = last.and_then(|p| p.go_does)
            && c.status.is_some_and(|st| st != 200)
        {
            let _ = writeln!(s, "    go: {does}");
        }
    }
    for (p, m) in skipped {
        let _ = writeln!(s, "skipped {m} on {}: Go would not send this path there", gokeep::proxy::lint::redact(p));
    }
    s.push_str("ranking:\n");
    for (i, r) in rec.ranking.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {}. {}  {}/{} healthy, median {} ms",
            i + 1,
            gokeep::proxy::lint::redact(&r.proxy),
            r.healthy,
            r.cells,
            ms(r.median_ms)
        );
    }
    if !rec.goproxy.is_empty() {
        let _ = writeln!(s, "recommended: {}", gokeep::proxy::lint::go_env_w("GOPROXY", &rec.goproxy));
    }
    s
}
