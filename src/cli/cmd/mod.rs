//! One module per subcommand: its clap arguments, the resolved settings, one
//! library call and the rendering of what it returned.

pub mod discover;
pub mod doctor;
pub mod env;
pub mod explain;
pub mod generate;
pub mod gocache;
pub mod link;
pub mod log;
pub mod mark;
pub mod probe;
pub mod profile;
pub mod prune;
pub mod schedule;
pub mod schema;
pub mod status;
pub mod verify;
