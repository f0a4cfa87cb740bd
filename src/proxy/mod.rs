//! The module proxy chain: where Go sends a module path ([`route`]), what is
//! wrong with the configuration ([`lint`]), how fast and healthy each proxy
//! is ([`probe`]), the layer-by-layer walk for one module ([`chain`]) and
//! named environment profiles ([`profile`]); [`fetch`] asks the route for a
//! version's bytes and its checksum-database record (`explain --online`).

pub mod chain;
pub mod diagnose;
pub mod fetch;
pub mod lint;
pub mod matrix;
pub mod probe;
pub mod profile;
pub mod route;

pub use diagnose::{RouteErrorKind, RouteVerdict, diagnose_route_error};
pub use route::{Route, route};
