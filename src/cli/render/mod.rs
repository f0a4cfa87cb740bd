//! Rendering in one place: for each report, the `--json` document serde
//! writes and the text a person reads. Commands build data and hand it here.

pub(crate) mod discover;
pub(crate) mod doctor;
pub(crate) mod env;
pub(crate) mod explain;
pub(crate) mod gocache;
pub(crate) mod link;
pub(crate) mod log;
pub(crate) mod mark;
pub(crate) mod probe;
pub(crate) mod profile;
pub(crate) mod prune;
pub(crate) mod schedule;
pub(crate) mod status;
pub(crate) mod verify;
