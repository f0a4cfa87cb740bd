//! How `gokeep doctor` reads: its `--json` document and its text.

use gokeep::proxy::chain::{self, Chain, Verdict};
use gokeep::proxy::lint::{self, Finding, Severity};
use gokeep::proxy::route::{FallThrough, Hop, Route, SumdbAccess};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct RouteReport {
    #[serde(flatten)]
    pub(crate) route: Route,
    pub(crate) version: Option<String>,
    pub(crate) finding: Option<Finding>,
    /// Online only: each hop asked as Go asks it.
    pub(crate) resolution: Option<chain::Resolution>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct DoctorJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) findings: &'a [Finding],
    pub(crate) routes: &'a [RouteReport],
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ChainJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) chain: &'a Chain,
}

pub(crate) fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

pub(crate) fn render_finding(s: &mut String, f: &Finding) {
    let _ = writeln!(s, "  {:<7}  {}: {}", severity(f.severity), f.key, f.message);
    if let Some(fix) = &f.fix {
        let _ = writeln!(s, "           fix: {fix}");
    }
}

/// One line per hop: `https://proxy.example (, next on 404/410) → direct`.
pub(crate) fn hops_text(route: &Route) -> String {
    if let Some(e) = &route.error {
        return format!("fails: {e}");
    }
    route
        .hops
        .iter()
        .map(|h| match h {
            Hop::Proxy { url, then } => format!(
                "{}{}",
                lint::redact(url),
                match then {
                    FallThrough::NotFoundOnly => " (next on 404/410 only)",
                    FallThrough::AnyError => " (next on any error)",
                    FallThrough::End => "",
                }
            ),
            Hop::Direct => "direct (origin VCS)".into(),
            Hop::Off => "off (fails)".into(),
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

pub(crate) fn sumdb_text(route: &Route) -> String {
    match &route.sumdb {
        SumdbAccess::Skipped { reason } => format!("not consulted ({reason})"),
        SumdbAccess::Invalid { error } => format!("fails: {error}"),
        SumdbAccess::Consulted { db, via, direct } => {
            let mut steps: Vec<String> = via.iter().map(|(u, _)| format!("{}/supported", lint::redact(u))).collect();
            steps.push(direct.clone());
            format!("{} via {}", db.name, steps.join(" → "))
        }
    }
}

pub(crate) fn render(findings: &[Finding], routes: &[RouteReport]) -> String {
    let mut s = String::new();
    if findings.is_empty() {
        s.push_str("environment: no findings\n");
    } else {
        s.push_str("environment:\n");
        for f in findings {
            render_finding(&mut s, f);
        }
    }
    if !routes.is_empty() {
        s.push_str("routes:\n");
        for r in routes {
            let _ = writeln!(s, "  {}", r.route.module);
            let _ = writeln!(s, "    fetch:    {}", hops_text(&r.route));
            let _ = writeln!(s, "    checksum: {}", sumdb_text(&r.route));
            if let Some(res) = &r.resolution {
                let _ = writeln!(s, "    lookup:   {}", res.verdict);
            }
            if let Some(f) = &r.finding {
                render_finding(&mut s, f);
            }
        }
    }
    s
}

/// `doctor --chain`: the route, then each step of the walk with its verdict.
pub(crate) fn render_chain(c: &Chain, version: Option<&str>) -> String {
    let mut s = String::new();
    let _ =
        writeln!(s, "{}{}: {}", c.module, version.map(|v| format!("@{v}")).unwrap_or_default(), hops_text(&c.route));
    for st in &c.steps {
        let mark = match st.verdict {
            Verdict::Ok => "ok",
            Verdict::Note => "note",
            Verdict::Broken => "BROKEN",
            Verdict::Skipped => "skip",
        };
        let layer = serde_json::to_value(st.layer).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let _ = writeln!(s, "  {mark:<6} {layer:<8} {}", st.detail);
        if let Some(next) = &st.next {
            let _ = writeln!(s, "         next: {next}");
        }
    }
    s
}
