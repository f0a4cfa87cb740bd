//! Crontab expressions: any line either parses or is refused with a reason
//! (never "the cron crate rejected" our own translation), and the next runs
//! of a parsed one come back in bounded time, strictly after the start, in
//! order, each on a minute the fields allow.
#![no_main]

use arbitrary::Arbitrary;
use chrono::{DateTime, Datelike, Timelike, Utc};
use gokeep::schedule::{CronError, CronExpr, FieldKind, Zone};
use libfuzzer_sys::fuzz_target;

const ZONES: &[&str] =
    &["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia"];

#[derive(Debug, Arbitrary)]
struct Input {
    zone: u8,
    /// Minutes after 1970-01-01, up to about the year 2200.
    start: u32,
    runs: u8,
    line: String,
}

fuzz_target!(|input: Input| {
    let expr = match CronExpr::parse(&input.line) {
        Ok(e) => e,
        Err(CronError::Translation { line, translated, message }) => {
            panic!("{line:?} checked, then refused by the cron crate as {translated:?}: {message}")
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    // What was parsed parses again to the same fields.
    assert_eq!(CronExpr::parse(&expr.source).as_ref(), Ok(&expr));
    let name = ZONES[input.zone as usize % ZONES.len()];
    let zone = Zone::parse(name).expect("a known zone");
    let after = DateTime::<Utc>::from_timestamp(i64::from(input.start % 120_000_000) * 60, 0).expect("in range");
    let n = usize::from(input.runs % 6);
    let runs = expr.next_runs(&zone, after, n);
    assert!(runs.len() <= n);
    let mut last = after.timestamp();
    for r in &runs {
        assert!(r.timestamp() > last, "{} runs at {r}, not after {last}", expr.source);
        last = r.timestamp();
        let allowed = |k: FieldKind, v: u32| expr.field(k).values.contains(&v);
        assert!(allowed(FieldKind::Minute, r.minute()) && allowed(FieldKind::Hour, r.hour()), "{} at {r}", expr.source);
        assert!(allowed(FieldKind::Month, r.month()), "{} at {r}", expr.source);
        let dom = allowed(FieldKind::DayOfMonth, r.day());
        let dow = allowed(FieldKind::DayOfWeek, r.weekday().num_days_from_sunday());
        assert!(if expr.days_ored() { dom || dow } else { dom && dow }, "{} at {r}", expr.source);
    }
});
