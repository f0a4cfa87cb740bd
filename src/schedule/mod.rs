//! Running gokeep on a schedule: crontab expressions checked and explained
//! ([`expr`]), translated for systemd ([`calendar`]), rendered into units
//! or a crontab block from the templates in `schedules/` ([`units`]), and
//! installed, found and removed ([`install`]).

pub mod calendar;
pub mod expr;
pub mod install;
pub mod units;

pub use expr::{CronError, CronExpr, FieldKind, Zone};
