//! Shared real-Go test harness for gokeep's integration tests.
//!
//! Every cache a test looks at is written by the real `go` command, in a
//! temporary sandbox with its own HOME, GOPATH, GOMODCACHE and GOCACHE, from a
//! `file://` GOPROXY the test itself writes. No network, no checksum
//! database, no toolchain switching. If `go` is not installed the tests fail
//! with a message saying so; they never skip.
//!
//! - [`GoSandbox`]: the temp world, `go(...)`, `go_ok(...)`, `gokeep()`.
//! - [`Module`]: a synthetic module version and `publish(proxy_dir)`.
//! - [`standard_modules`] and [`Fixture::standard`]: the usual set, downloaded
//!   and built (about a second).
//!
//! Use it from a test file with `mod common;` and `use common::*;`.

// Each test binary uses a different part of the harness.
#![allow(dead_code, unused_imports)]

pub mod fixture;
pub mod module;
pub mod run;
pub mod sandbox;
pub mod tree;

pub use fixture::{CONSUMER_MODULE, Fixture, du, du_with, standard_modules};
pub use module::{GoMod, Module};
pub use run::{Run, assert_go_ok, cmd, cmd_ok, command_line, parse_json, run, run_ok};
pub use sandbox::{GoSandbox, age_tree, go_bin_dir, go_offline, gokeep_bin, set_tree_times};
pub use tree::{assert_same, cached_versions, gocache_entries, snapshot};
