//! `prune::prepare` as a library call: the pipeline `gokeep prune` runs
//! (recognise, scan, plan) from a request that is plain data, with no
//! argument parser, on a cache real `go` filled.

mod common;

use std::collections::BTreeMap;

use common::*;
use gokeep::goenv::{GoEnv, HostOs};
use gokeep::policy::Overrides;
use gokeep::prune::prepare::{self, PrepareError, Request};
use gokeep::scan::ScanOptions;
use gokeep::timestamp::Timestamp;
use serde_json::Value;

fn sandbox_env(fx: &Fixture) -> GoEnv {
    GoEnv::from_env(fx.sandbox.go_env().into_iter().collect::<BTreeMap<_, _>>(), HostOs::current())
}

fn request(fx: &Fixture, overrides: Overrides) -> Request {
    Request { overrides, modcache: fx.modcache(), gocache: Some(fx.gocache()), ..Request::default() }
}

#[test]
fn the_library_plans_what_gokeep_prune_plans() {
    let fx = Fixture::standard();
    fx.download_all();
    let overrides = Overrides { all: true, ..Overrides::default() };
    let prepared = prepare::prepare(
        request(&fx, overrides),
        &sandbox_env(&fx),
        &ScanOptions::default(),
        Timestamp::now(),
        &|_, _| Vec::new(),
    )
    .unwrap();
    let mine: Vec<Value> = prepared.plan.items.iter().map(|i| serde_json::to_value(&i.target).unwrap()).collect();
    assert!(!mine.is_empty());
    assert_eq!(prepared.mod_root.as_ref().map(|r| r.path().to_owned()), Some(fx.modcache().canonicalize().unwrap()));
    assert!(prepared.build_root.is_none(), "--all touches only the module cache");

    let out = run_ok(fx.sandbox.gokeep().args(["--json", "prune", "--all", "--dry-run"]));
    let v: Value = serde_json::from_str(&out).unwrap();
    let theirs: Vec<Value> = v["plan"]["items"].as_array().unwrap().iter().map(|i| i["target"].clone()).collect();
    assert_eq!(mine, theirs);
    assert_eq!(cached_versions(&fx).len(), fx.modules.len(), "preparing deletes nothing");
}

#[test]
fn a_request_that_removes_nothing_is_refused_before_any_root_is_looked_at() {
    let fx = Fixture::standard();
    let mut req = request(&fx, Overrides::default());
    req.modcache = fx.sandbox.root().join("no-such-cache");
    let err = prepare::recognise(req).unwrap_err();
    assert!(matches!(err, PrepareError::NothingToPrune), "{err}");
}
