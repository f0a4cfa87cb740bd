//! Shared real-Go test harness for gokeep's integration tests.
//!
//! Every cache a test looks at is written by the real `go` command, in a
//! temporary sandbox with its own HOME, GOPATH, GOMODCACHE and GOCACHE, from a
//! `file://` GOPROXY the test itself writes. No network, no checksum
//! database, no toolchain switching. If `go` is not installed the tests fail
//! with a message saying so; they never skip.
//!
//! What lives where:
//!
//! - `sandbox.rs`: [`GoSandbox`], the temp world (`go`, `go_ok`, `go_with_env`,
//!   `gokeep`, `gokeep_as_nobody`); [`GoSandbox::bare`] for a world with only
//!   PATH and HOME, to compare how gokeep and `go env` resolve Go's defaults;
//!   [`go_offline`], [`age_tree`] and [`set_tree_times`]; [`gokeep_bin`] and
//!   [`go_bin_dir`].
//! - `module.rs`: [`Module`], a synthetic module version, and `publish(proxy_dir)`.
//! - `fixture.rs`: [`standard_modules`] and [`Fixture::standard`], the usual set
//!   downloaded and built by a consumer (about a second); [`du`].
//! - `run.rs`: running gokeep. [`cmd`] returns a [`Run`] (exit code, parsed
//!   JSON, stdout, stderr) and [`cmd_ok`] the JSON of a run that must succeed;
//!   [`run`] and [`run_ok`] for text. Every JSON document gokeep prints is
//!   read through [`parse_json`], the one place to validate it.
//! - `text.rs`: insta settings for text snapshots, [`text_settings`] (the
//!   sandbox path filtered) and [`report_settings`] (sizes too).
//! - `exposition.rs`: [`exposition::check_exposition`], the strict reader of
//!   the Prometheus text format every metrics test reads gokeep's output with
//!   (and `promtool check metrics`, where installed).
//! - `tree.rs`: byte-for-byte tree [`snapshot`]s (and [`snapshot_with_times`])
//!   with [`assert_same`], [`copy_tree`],
//!   [`cached_versions`] of a fixture, and [`gocache_entries`].
//!
//! Use it from a test file with `mod common;` and `use common::*;`.
//!
//! Each test file is its own crate and compiles all of this, using a part
//! of it, so the public items some test file leaves unused carry
//! `#[allow(dead_code)]` one by one (and the re-exports below
//! `#[allow(unused_imports)]`): every other lint, and dead-code warnings
//! for private helpers here and for everything in the test files, stay on.
//! Splitting the harness into submodules that each test declares would not
//! help: `mod common;` compiles every submodule it names into every test.

// The go.mod/go.work corpus and the loopback proxies serve two or three test
// files each; the others compile them unused.
#[allow(dead_code)]
pub mod corpus;
// Read by the tests of metrics only.
#[allow(dead_code)]
pub mod exposition;
pub mod fixture;
#[allow(dead_code)]
pub mod http;
pub mod module;
pub mod run;
pub mod sandbox;
pub mod schema;
pub mod text;
pub mod tree;

#[allow(unused_imports)]
pub use fixture::{CONSUMER_MODULE, Fixture, du, du_with, standard_modules};
#[allow(unused_imports)]
pub use module::{GoMod, Module};
#[allow(unused_imports)]
pub use run::{Run, Stopped, assert_go_ok, cmd, cmd_ok, command_line, parse_json, run, run_ok, run_to_failpoint};
#[allow(unused_imports)]
pub use sandbox::{GoSandbox, age_tree, go_bin_dir, go_offline, gokeep_bin, set_tree_times};
#[allow(unused_imports)]
pub use text::{report_settings, text_settings};
#[allow(unused_imports)]
pub use tree::{assert_same, cached_versions, copy_tree, gocache_entries, snapshot, snapshot_with_times};
