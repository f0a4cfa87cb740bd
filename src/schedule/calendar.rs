//! A crontab schedule as systemd `OnCalendar=` expressions
//! (`systemd.time(7)`): `[weekdays] *-month-day hour:minute:00 [zone]`.
//!
//! systemd ANDs a weekday with a day of the month, crontab ORs them when
//! both are restricted (see [`CronExpr::days_ored`]); such a schedule
//! becomes two expressions, one per day field, and a timer fires on either.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::expr::{CronExpr, FieldKind};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The `OnCalendar=` values for `expr`, with `zone` (an IANA name) appended if given.
#[must_use]
pub fn on_calendar(expr: &CronExpr, zone: Option<&str>) -> Vec<String> {
    let time = format!(
        "{}:{}:00",
        numbers(&expr.field(FieldKind::Hour).values, 0, 23, expr.field(FieldKind::Hour).is_every()),
        numbers(&expr.field(FieldKind::Minute).values, 0, 59, expr.field(FieldKind::Minute).is_every()),
    );
    let month = expr.field(FieldKind::Month);
    let month = numbers(&month.values, 1, 12, month.is_every());
    let dom = expr.field(FieldKind::DayOfMonth);
    let dow = expr.field(FieldKind::DayOfWeek);
    let line = |weekdays: Option<String>, day: &str| {
        let mut s = String::new();
        if let Some(w) = weekdays {
            let _ = write!(s, "{w} ");
        }
        let _ = write!(s, "*-{month}-{day} {time}");
        if let Some(z) = zone {
            let _ = write!(s, " {z}");
        }
        s
    };
    let days = numbers(&dom.values, 1, 31, dom.is_every());
    let weekdays = (!dow.is_every()).then(|| weekday_names(&dow.values));
    if expr.days_ored() {
        let mut v = Vec::new();
        // An impossible day (31 in February) would be refused by systemd;
        // crontab then runs only on the weekdays.
        if expr.crate_expressions().len() == 2 {
            v.push(line(None, &days));
        }
        v.push(line(Some(weekday_names(&dow.values)), "*"));
        v
    } else {
        vec![line(weekdays, &days)]
    }
}

/// `*`, `00/15` (from 0 every 15 to the end), `01..05`, or a list.
fn numbers(values: &BTreeSet<u32>, lo: u32, hi: u32, every: bool) -> String {
    if every {
        return "*".into();
    }
    let v: Vec<u32> = values.iter().copied().collect();
    if v.len() >= 3 {
        let step = v[1] - v[0];
        let progression = v.windows(2).all(|w| w[1] - w[0] == step);
        // systemd's `a/b` repeats up to the end of the component's range.
        if progression && step > 1 && v[v.len() - 1] + step > hi && v[0] >= lo {
            return format!("{:02}/{step}", v[0]);
        }
    }
    runs(&v).iter().map(|&(a, b)| span(a, b, |n| format!("{n:02}"))).collect::<Vec<_>>().join(",")
}

/// Weekdays in systemd's order (Monday first), consecutive ones as ranges.
fn weekday_names(values: &BTreeSet<u32>) -> String {
    // crontab 0 = Sunday; systemd's week runs Mon..Sun.
    let monday_first: Vec<u32> =
        values.iter().map(|&d| if d == 0 { 6 } else { d - 1 }).collect::<BTreeSet<_>>().into_iter().collect();
    runs(&monday_first)
        .iter()
        .map(|&(a, b)| span(a, b, |n| WEEKDAYS[n as usize].to_owned()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Maximal runs of consecutive values.
fn runs(v: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &x in v {
        match out.last_mut() {
            Some((_, b)) if *b + 1 == x => *b = x,
            _ => out.push((x, x)),
        }
    }
    out
}

fn span(a: u32, b: u32, show: impl Fn(u32) -> String) -> String {
    match b - a {
        0 => show(a),
        1 => format!("{},{}", show(a), show(b)),
        _ => format!("{}..{}", show(a), show(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(e: &str) -> Vec<String> {
        on_calendar(&CronExpr::parse(e).unwrap(), None)
    }

    #[test]
    fn expressions_translate_to_systemd_calendar_syntax() {
        // The first three were checked with `systemd-analyze calendar`; tests/schedule.rs
        // compares every translation's runs with systemd's.
        let table: &[(&str, &[&str])] = &[
            ("0 3 * * 1-5", &["Mon..Fri *-*-* 03:00:00"]),
            ("*/15 * * * *", &["*-*-* *:00/15:00"]),
            ("0 3 1,15 * *", &["*-*-01,15 03:00:00"]),
            ("0 2 * * *", &["*-*-* 02:00:00"]),
            ("0 0 29 2 *", &["*-02-29 00:00:00"]),
            ("0 0 * * 7", &["Sun *-*-* 00:00:00"]),
            ("0 0 * * 5-7", &["Fri..Sun *-*-* 00:00:00"]),
            ("0 0 * * 0,6", &["Sat,Sun *-*-* 00:00:00"]),
            ("5 */6 * * *", &["*-*-* 00/6:05:00"]),
            ("0 0 */10 */3 *", &["*-01/3-01/10 00:00:00"]),
            ("10,20 1-5 * * *", &["*-*-* 01..05:10,20:00"]),
            ("0 0 */2 * 1", &["Mon *-*-01/2 00:00:00"]),
            ("@hourly", &["*-*-* *:00:00"]),
        ];
        for (e, want) in table {
            assert_eq!(cal(e), *want, "{e}");
        }
    }

    #[test]
    fn or_ed_day_fields_become_two_lines() {
        assert_eq!(cal("0 3 1 * 1"), ["*-*-01 03:00:00", "Mon *-*-* 03:00:00"]);
        // No 31 February: only the weekday line, which systemd can schedule.
        assert_eq!(cal("0 0 31 2 1"), ["Mon *-02-* 00:00:00"]);
    }

    #[test]
    fn a_zone_is_appended() {
        let e = CronExpr::parse("0 2 * * *").unwrap();
        assert_eq!(on_calendar(&e, Some("Europe/Berlin")), ["*-*-* 02:00:00 Europe/Berlin"]);
    }
}
