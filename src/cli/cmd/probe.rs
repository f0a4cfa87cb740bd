//! `gokeep probe`: times each proxy on `@v/list` and `@latest` for a few
//! modules, stage by stage, over several rounds, and recommends a GOPROXY
//! order. A path GONOPROXY covers is never sent to a proxy, and a proxy is
//! only sent the paths Go itself would send it unless it was named with
//! `--proxy`. `--json` is `{"schema_version": 1, "cells": [...], "recommendation": {...}}`.
//!
//! Exit code: 0 when every request got an answer Go would accept or fall
//! through on, 1 otherwise, 2 for usage errors.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use gokeep::goenv::GoEnv;
use gokeep::proxy::matrix::{self, DEFAULT_MODULES, ENDPOINTS};
use gokeep::proxy::route::{Entry, proxy_list};

use crate::cli::exit::UsageError;
use crate::cli::render::probe::{ProbeJson, Skipped, render};
use crate::cli::{Outcome, Printer, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Proxy to probe (repeatable). Default: the http(s) proxies of GOPROXY.
    #[arg(long = "proxy", value_name = "URL")]
    pub proxies: Vec<String>,
    /// Module path to ask for (repeatable). Default: up to five public
    /// requirements of the current project, else a few well-known public modules.
    #[arg(long = "module", value_name = "PATH")]
    pub modules: Vec<String>,
    /// Requests per proxy, module and endpoint; the median is reported.
    #[arg(long, value_name = "N", default_value = "3", value_parser = clap::value_parser!(u16).range(1..=100))]
    pub rounds: u16,
    /// Seconds each network stage may take.
    #[arg(long, value_name = "SECS", default_value = "5")]
    pub timeout: f64,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value = "8", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// A proxy and a module path.
type Pair = (String, String);

pub fn run(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let timeouts = crate::cli::doctor::timeouts(args.timeout)?;
    let env = &settings.env;
    let goproxy = env.get("GOPROXY").unwrap_or("");
    let named = !args.proxies.is_empty();
    let proxies: Vec<String> = if named {
        args.proxies.iter().map(|p| p.trim_end_matches('/').to_owned()).collect()
    } else {
        proxy_list(goproxy, "")
            .map(|l| {
                l.entries
                    .into_iter()
                    .filter_map(|e| match e {
                        Entry::Proxy { url, .. } if url.starts_with("http") => Some(url),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    if proxies.is_empty() {
        return Err(UsageError(format!("GOPROXY={goproxy:?} names no http(s) proxy; give --proxy URL")).into());
    }
    let modules: Vec<String> = if args.modules.is_empty() { default_modules(env) } else { args.modules.clone() };
    let (pairs, skipped): (Vec<Pair>, Vec<Pair>) = proxies
        .iter()
        .flat_map(|p| modules.iter().map(move |m| (p.clone(), m.clone())))
        .partition(|(p, m)| matrix::allowed(env, p, m, named));
    let total = pairs.len() * ENDPOINTS.len() * usize::from(args.rounds);
    let bar = if std::io::stderr().is_terminal() && !printer.json && !printer.quiet {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} requests {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let cells = matrix::run(&pairs, usize::from(args.rounds), &timeouts, usize::from(args.concurrency), &|| bar.inc(1));
    bar.finish_and_clear();
    let keep_direct = proxy_list(goproxy, "").is_ok_and(|l| l.entries.last() == Some(&Entry::Direct));
    let rec = matrix::recommend(&proxies, &cells, keep_direct);
    let failed = cells.iter().any(|c| {
        c.failure.is_some()
            || c.status
                .is_some_and(|s| gokeep::proxy::route::classify_status(s) == gokeep::proxy::route::HopOutcome::Error)
    });
    if printer.json {
        let skipped = skipped.iter().map(|(proxy, module)| Skipped { module, proxy }).collect();
        printer.json(&ProbeJson { schema_version: 1, cells: &cells, skipped, recommendation: &rec })?;
    } else if !printer.quiet {
        printer.out(&render(&cells, &skipped, &rec))?;
    }
    Ok(if failed { Outcome::Findings } else { Outcome::Clean })
}

/// The project's public requirements (a few), else a small public set.
/// A path that looks private or that GONOPROXY covers is never chosen.
fn default_modules(env: &GoEnv) -> Vec<String> {
    let public: Vec<String> = crate::cli::doctor::project_modules()
        .into_iter()
        .filter(|m| {
            let r = gokeep::proxy::route(env, m);
            !r.private_fetch && gokeep::proxy::lint::lint_route(&r).is_none()
        })
        .take(5)
        .collect();
    if public.is_empty() { DEFAULT_MODULES.iter().map(|m| (*m).to_owned()).collect() } else { public }
}
