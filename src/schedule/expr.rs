//! Crontab expressions: the five fields (or an `@daily`-style macro) a user
//! types, checked field by field so an error names the field, expanded to
//! the set of values each field allows, and handed to the `cron` crate in
//! its seconds-first form for next runs.
//!
//! Two differences between crontab and the `cron` crate are bridged here:
//! the crate numbers weekdays from 1 = Sunday and rejects 0 (crontab: 0 and
//! 7 are Sunday), so weekdays reach it as names; and the crate ANDs the
//! day-of-month and day-of-week fields, while crontab (Vixie cron, cronie)
//! ORs them when neither field starts with `*`. An OR-ed expression is run
//! as two crate schedules whose next runs are merged.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, Local, TimeZone, Utc};
use serde::Serialize;

/// The five crontab fields, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl FieldKind {
    pub const ALL: [FieldKind; 5] =
        [FieldKind::Minute, FieldKind::Hour, FieldKind::DayOfMonth, FieldKind::Month, FieldKind::DayOfWeek];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Minute => "minute",
            FieldKind::Hour => "hour",
            FieldKind::DayOfMonth => "day-of-month",
            FieldKind::Month => "month",
            FieldKind::DayOfWeek => "day-of-week",
        }
    }

    /// The numbers crontab accepts in this field (day-of-week: 7 is Sunday again).
    #[must_use]
    pub fn bounds(self) -> (u32, u32) {
        match self {
            FieldKind::Minute => (0, 59),
            FieldKind::Hour => (0, 23),
            FieldKind::DayOfMonth => (1, 31),
            FieldKind::Month => (1, 12),
            FieldKind::DayOfWeek => (0, 7),
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            FieldKind::Month => &MONTHS,
            FieldKind::DayOfWeek => &WEEKDAYS,
            _ => &[],
        }
    }

    fn value(self, s: &str) -> Result<u32, String> {
        if let Some(i) = self.names().iter().position(|n| n.eq_ignore_ascii_case(s)) {
            // Months are numbered from 1, weekdays from 0 = Sunday.
            return Ok(i as u32 + u32::from(self == FieldKind::Month));
        }
        let n: u32 = s.parse().map_err(|_| {
            if self.names().is_empty() {
                format!("\"{s}\" is not a number")
            } else {
                format!("\"{s}\" is not a number or a name ({}, ...)", self.names()[..3].join(", "))
            }
        })?;
        let (lo, hi) = self.bounds();
        if n < lo || n > hi {
            return Err(format!("{n} is out of range {lo}-{hi}"));
        }
        Ok(n)
    }
}

/// One field: what was typed and the values it allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Field {
    pub kind: FieldKind,
    pub text: String,
    /// Allowed values; day-of-week uses 0 = Sunday … 6 = Saturday.
    pub values: BTreeSet<u32>,
}

impl Field {
    /// Crontab's own test for the day fields: a field starting with `*`
    /// (`*`, `*/2`) does not count as restricted when the other day field is.
    #[must_use]
    pub fn starts_with_star(&self) -> bool {
        self.text.starts_with('*')
    }

    /// Whether the field allows every value of its kind.
    #[must_use]
    pub fn is_every(&self) -> bool {
        let (lo, hi) = self.kind.bounds();
        let hi = if self.kind == FieldKind::DayOfWeek { 6 } else { hi };
        self.values.len() as u32 == hi - lo + 1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error(
        "\"{line}\": expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, found {found}"
    )]
    FieldCount { line: String, found: usize },
    #[error("\"{line}\": unknown macro; known: @yearly @annually @monthly @weekly @daily @midnight @hourly")]
    UnknownMacro { line: String },
    #[error("\"{line}\": @reboot runs when cron starts, not at a time of day; a timer needs a calendar time")]
    Reboot { line: String },
    #[error("\"{line}\": field {position} ({}) \"{text}\": {reason}", kind.name())]
    Field {
        line: String,
        /// 1-based field number.
        position: usize,
        kind: FieldKind,
        text: String,
        /// Byte offset of the field in `line`, for pointing at it.
        column: usize,
        reason: String,
    },
    #[error("\"{line}\" never runs: day-of-month {days} does not occur in month {months}")]
    Never { line: String, days: String, months: String },
    #[error("\"{line}\": the cron crate rejected \"{translated}\": {message}")]
    Translation { line: String, translated: String, message: String },
    #[error("unknown time zone \"{0}\" (expected an IANA name such as Europe/Berlin or UTC)")]
    UnknownZone(String),
}

/// A validated crontab schedule.
#[derive(Debug, Clone)]
pub struct CronExpr {
    /// What the user typed, whitespace collapsed.
    pub source: String,
    /// The five fields (a macro expanded).
    pub fields: [Field; 5],
    schedules: Vec<cron::Schedule>,
}

impl PartialEq for CronExpr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.fields == other.fields
    }
}

fn macro_fields(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => return None,
    })
}

/// Days in each month at most (February: 29 in a leap year).
const MAX_DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

impl FromStr for CronExpr {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, CronError> {
        CronExpr::parse(s)
    }
}

impl CronExpr {
    pub fn parse(line: &str) -> Result<CronExpr, CronError> {
        let source = line.split_whitespace().collect::<Vec<_>>().join(" ");
        let expanded = if source.starts_with('@') {
            if source.eq_ignore_ascii_case("@reboot") {
                return Err(CronError::Reboot { line: source });
            }
            macro_fields(&source).ok_or_else(|| CronError::UnknownMacro { line: source.clone() })?.to_owned()
        } else {
            source.clone()
        };
        let words: Vec<&str> = expanded.split(' ').filter(|w| !w.is_empty()).collect();
        if words.len() != 5 {
            return Err(CronError::FieldCount { line: source, found: words.len() });
        }
        let mut column = 0;
        let mut fields = Vec::with_capacity(5);
        for (i, (word, kind)) in words.iter().zip(FieldKind::ALL).enumerate() {
            let values = parse_field(kind, word).map_err(|reason| CronError::Field {
                line: source.clone(),
                position: i + 1,
                kind,
                text: (*word).to_owned(),
                column,
                reason,
            })?;
            column += word.len() + 1;
            fields.push(Field { kind, text: (*word).to_owned(), values });
        }
        let fields: [Field; 5] = fields.try_into().expect("five fields");
        let (dom, month) = (&fields[2], &fields[3]);
        let fits = |d: u32| month.values.iter().any(|&m| d <= MAX_DAYS[m as usize - 1]);
        let dom_possible = dom.values.iter().any(|&d| fits(d));
        let ored = !dom.starts_with_star() && !fields[4].starts_with_star();
        // OR-ed with a weekday, an impossible day (31 in February) leaves the
        // weekday runs; otherwise nothing ever runs.
        if !dom_possible && !ored {
            return Err(CronError::Never { line: source.clone(), days: dom.text.clone(), months: month.text.clone() });
        }
        let schedules = crate_schedules(&fields, dom_possible)
            .into_iter()
            .map(|t| {
                cron::Schedule::from_str(&t).map_err(|e| CronError::Translation {
                    line: source.clone(),
                    translated: t.clone(),
                    message: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CronExpr { source, fields, schedules })
    }

    #[must_use]
    pub fn field(&self, kind: FieldKind) -> &Field {
        &self.fields[kind as usize]
    }

    /// Crontab runs on a day when it matches day-of-month OR day-of-week,
    /// if neither field starts with `*`; otherwise both must match.
    #[must_use]
    pub fn days_ored(&self) -> bool {
        !self.field(FieldKind::DayOfMonth).starts_with_star() && !self.field(FieldKind::DayOfWeek).starts_with_star()
    }

    /// The expressions handed to the `cron` crate (two when the days are OR-ed).
    #[must_use]
    pub fn crate_expressions(&self) -> Vec<String> {
        self.schedules.iter().map(|s| s.source().to_owned()).collect()
    }

    /// The next `n` runs strictly after `after`, in `zone`.
    #[must_use]
    pub fn next_runs(&self, zone: &Zone, after: DateTime<Utc>, n: usize) -> Vec<DateTime<FixedOffset>> {
        match zone {
            Zone::Local => self.next_in(&after.with_timezone(&Local), n),
            Zone::Named(tz) => self.next_in(&after.with_timezone(tz), n),
        }
    }

    fn next_in<Z: TimeZone>(&self, after: &DateTime<Z>, n: usize) -> Vec<DateTime<FixedOffset>> {
        let mut iters: Vec<_> = self.schedules.iter().map(|s| s.after(after).peekable()).collect();
        let mut out: Vec<DateTime<FixedOffset>> = Vec::with_capacity(n);
        while out.len() < n {
            let mut best: Option<(usize, i64)> = None;
            for (i, it) in iters.iter_mut().enumerate() {
                if let Some(t) = it.peek().map(DateTime::timestamp)
                    && best.is_none_or(|(_, b)| t < b)
                {
                    best = Some((i, t));
                }
            }
            let Some((i, _)) = best else {
                break;
            };
            let t = iters[i].next().expect("peeked").fixed_offset();
            // The same run from both OR-ed schedules, or the same wall-clock
            // time again in the hour the autumn change repeats: crontab and
            // systemd run once, the cron crate yields it twice.
            if out.last().is_none_or(|l| l.naive_local() != t.naive_local()) {
                out.push(t);
            }
        }
        out
    }
}

/// Parses one field into its values; the error says what is wrong in it.
fn parse_field(kind: FieldKind, text: &str) -> Result<BTreeSet<u32>, String> {
    let (lo, hi) = kind.bounds();
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        if item.is_empty() {
            return Err("empty list item".into());
        }
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| format!("step \"{s}\" is not a number"))?;
                if step == 0 {
                    return Err("a step of 0 never advances".into());
                }
                (r, Some(step))
            }
            None => (item, None),
        };
        let (start, end) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (kind.value(a)?, kind.value(b)?);
            if a > b {
                return Err(format!("range {a}-{b} runs backwards"));
            }
            (a, b)
        } else {
            let a = kind.value(range)?;
            // Like cronie, `5/15` means 5-<last>/15.
            (a, if step.is_some() { hi } else { a })
        };
        let mut v = start;
        while v <= end {
            // Day-of-week 7 is Sunday, as 0 is.
            values.insert(if kind == FieldKind::DayOfWeek && v == 7 { 0 } else { v });
            // A step past u32::MAX (`1/4294967295`) ends the walk like any step past the range.
            let Some(next) = v.checked_add(step.unwrap_or(1)) else { break };
            v = next;
        }
    }
    Ok(values)
}

/// The `cron` crate's seconds-first form of the fields, weekdays by name.
fn crate_schedules(fields: &[Field; 5], dom_possible: bool) -> Vec<String> {
    let list = |f: &Field| -> String {
        if f.is_every() {
            return "*".into();
        }
        let mut s = String::new();
        for v in &f.values {
            if !s.is_empty() {
                s.push(',');
            }
            if f.kind == FieldKind::DayOfWeek {
                s.push_str(WEEKDAYS[*v as usize]);
            } else {
                let _ = write!(s, "{v}");
            }
        }
        s
    };
    let [min, hour, dom, mon, dow] = fields;
    let (days, weekdays) = (list(dom), list(dow));
    let one = |d: &str, w: &str| format!("0 {} {} {d} {} {w}", list(min), list(hour), list(mon));
    if !dom.starts_with_star() && !dow.starts_with_star() {
        let mut v = vec![one("*", &weekdays)];
        if dom_possible {
            v.insert(0, one(&days, "*"));
        }
        v
    } else {
        vec![one(&days, &weekdays)]
    }
}

/// Where next runs are computed: the machine's local zone or a named one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Local,
    Named(chrono_tz::Tz),
}

impl Zone {
    pub fn parse(name: &str) -> Result<Zone, CronError> {
        name.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| CronError::UnknownZone(name.to_owned()))
    }

    /// The IANA name, or `None` for the local zone.
    #[must_use]
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Zone::Local => None,
            Zone::Named(tz) => Some(tz.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01 is a Thursday.
    fn start() -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn runs(expr: &str, zone: Zone, after: DateTime<Utc>, n: usize) -> Vec<String> {
        CronExpr::parse(expr).unwrap().next_runs(&zone, after, n).iter().map(DateTime::to_rfc3339).collect()
    }

    /// Next runs after 2026-01-01T00:00Z in UTC, worked out from a calendar by hand.
    const REFERENCE: &[(&str, &[&str])] = &[
        ("0 2 * * *", &["2026-01-01T02:00:00+00:00", "2026-01-02T02:00:00+00:00", "2026-01-03T02:00:00+00:00"]),
        (
            "*/15 * * * *",
            &[
                "2026-01-01T00:15:00+00:00",
                "2026-01-01T00:30:00+00:00",
                "2026-01-01T00:45:00+00:00",
                "2026-01-01T01:00:00+00:00",
            ],
        ),
        // Only leap years have a 29 February.
        ("0 0 29 2 *", &["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00", "2036-02-29T00:00:00+00:00"]),
        // Thu, Fri, then Mon and Tue: no weekend.
        (
            "0 3 * * 1-5",
            &[
                "2026-01-01T03:00:00+00:00",
                "2026-01-02T03:00:00+00:00",
                "2026-01-05T03:00:00+00:00",
                "2026-01-06T03:00:00+00:00",
            ],
        ),
        // The 1st (a Thursday) OR every Monday; 1 February 2026 is a Sunday.
        (
            "0 3 1 * 1",
            &[
                "2026-01-01T03:00:00+00:00",
                "2026-01-05T03:00:00+00:00",
                "2026-01-12T03:00:00+00:00",
                "2026-01-19T03:00:00+00:00",
                "2026-01-26T03:00:00+00:00",
                "2026-02-01T03:00:00+00:00",
                "2026-02-02T03:00:00+00:00",
            ],
        ),
        ("0 0 * * 7", &["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"]),
        ("0 0 * * 0", &["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"]),
        ("0 0 * * sun", &["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"]),
        // A range through 7 wraps to Sunday.
        (
            "0 0 * * 5-7",
            &[
                "2026-01-02T00:00:00+00:00",
                "2026-01-03T00:00:00+00:00",
                "2026-01-04T00:00:00+00:00",
                "2026-01-09T00:00:00+00:00",
            ],
        ),
        ("0 22 * * 1-5/2", &["2026-01-02T22:00:00+00:00", "2026-01-05T22:00:00+00:00", "2026-01-07T22:00:00+00:00"]),
        ("30 4 1,15 * *", &["2026-01-01T04:30:00+00:00", "2026-01-15T04:30:00+00:00", "2026-02-01T04:30:00+00:00"]),
        ("15 10 * jan,jul sun", &["2026-01-04T10:15:00+00:00", "2026-01-11T10:15:00+00:00"]),
        ("0 12 * 6-8 *", &["2026-06-01T12:00:00+00:00", "2026-06-02T12:00:00+00:00"]),
        ("5,35 9-10 * * *", &["2026-01-01T09:05:00+00:00", "2026-01-01T09:35:00+00:00", "2026-01-01T10:05:00+00:00"]),
        // A day field starting with * is not "restricted": the days are ANDed (odd days that are Mondays).
        ("0 0 */2 * 1", &["2026-01-05T00:00:00+00:00", "2026-01-19T00:00:00+00:00", "2026-02-09T00:00:00+00:00"]),
        // 31 February never comes; the Mondays of February still do.
        ("0 0 31 2 1", &["2026-02-02T00:00:00+00:00", "2026-02-09T00:00:00+00:00"]),
        ("@yearly", &["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"]),
        ("@annually", &["2027-01-01T00:00:00+00:00"]),
        ("@monthly", &["2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00"]),
        ("@weekly", &["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"]),
        ("@daily", &["2026-01-02T00:00:00+00:00"]),
        ("@midnight", &["2026-01-02T00:00:00+00:00"]),
        ("@hourly", &["2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00"]),
    ];

    #[test]
    fn next_runs_match_the_hand_checked_table() {
        let utc = Zone::parse("UTC").unwrap();
        for (expr, want) in REFERENCE {
            assert_eq!(runs(expr, utc, start(), want.len()), *want, "{expr}");
        }
    }

    #[test]
    fn next_runs_match_croner_an_independent_crontab_implementation() {
        // croner ORs the day fields whenever both are set, also for `*/2`; crontab
        // does not (see `days_ored`), so such expressions are left to the table.
        let exprs = [
            "0 2 * * *",
            "*/15 * * * *",
            "0 0 29 2 *",
            "0 3 * * 1-5",
            "0 3 1 * 1",
            "0 0 * * 7",
            "0 0 * * 5-7",
            "30 4 1,15 * *",
            "15 10 * jan,jul sun",
            "0 22 * * 1-5/2",
            "7 */3 10-20 * 0,3",
            "0 6 13 * 5",
            "59 23 31 * *",
            "0 0 1 */3 *",
            "@weekly",
            "@monthly",
            // In and around the hours daylight saving time skips or repeats.
            "30 2 * 3,10 *",
            "0 1-3 * 3,4,10,11 *",
        ];
        for zone in ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"] {
            let tz: chrono_tz::Tz = zone.parse().unwrap();
            for e in exprs {
                let oracle: croner::Cron = e.parse().unwrap();
                // New year, and the weekends before the spring and autumn clock changes.
                for from in [
                    "2026-01-01T00:00:00Z",
                    "2026-03-07T12:00:00Z",
                    "2026-03-28T12:00:00Z",
                    "2026-10-24T12:00:00Z",
                    "2026-10-31T12:00:00Z",
                ] {
                    let from: DateTime<Utc> = from.parse().unwrap();
                    let mut t = from.with_timezone(&tz);
                    let mut want = Vec::new();
                    let mut last_wall = None;
                    while want.len() < 12 {
                        t = oracle.find_next_occurrence(&t, false).unwrap();
                        // croner differs from crontab and systemd at the clock changes, as
                        // pinned in `daylight_saving_changes_skip_a_missing_time_and_run_a_repeated_one_once`:
                        // it moves a skipped time to just after the change, and runs a repeated one twice.
                        if oracle.is_time_matching(&t).unwrap() && last_wall != Some(t.naive_local()) {
                            want.push(t.to_rfc3339());
                        }
                        last_wall = Some(t.naive_local());
                    }
                    assert_eq!(runs(e, Zone::Named(tz), from, 12), want, "{e} in {zone} after {from}");
                }
            }
        }
    }

    #[test]
    fn daylight_saving_changes_skip_a_missing_time_and_run_a_repeated_one_once() {
        // As systemd does (`systemd-analyze calendar` gives the same); cronie would run the
        // missing 02:00 at 03:00.
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(
            runs("0 2 * * *", ny, "2026-03-07T12:00:00Z".parse().unwrap(), 2),
            ["2026-03-09T02:00:00-04:00", "2026-03-10T02:00:00-04:00"]
        );
        // A repeated hour runs once, at its first occurrence.
        assert_eq!(
            runs("30 1 * * *", ny, "2026-11-01T04:00:00Z".parse().unwrap(), 2),
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
        );
    }

    #[test]
    fn runs_are_computed_in_the_named_zone() {
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(runs("0 2 * * *", ny, start(), 1), ["2026-01-01T02:00:00-05:00"]);
        assert_eq!(runs("0 2 * * *", ny, "2026-07-01T00:00:00Z".parse().unwrap(), 1), ["2026-07-01T02:00:00-04:00"]);
        assert_eq!(Zone::parse("Mars/Olympus"), Err(CronError::UnknownZone("Mars/Olympus".into())));
    }

    #[test]
    fn weekdays_reach_the_cron_crate_by_name_and_or_ed_days_as_two_schedules() {
        let e = CronExpr::parse("0 3 1 * 1").unwrap();
        assert!(e.days_ored());
        assert_eq!(e.crate_expressions(), ["0 0 3 1 * *", "0 0 3 * * mon"]);
        let e = CronExpr::parse("0 0 * * 0,7").unwrap();
        assert_eq!(e.crate_expressions(), ["0 0 0 * * sun"]);
        assert!(!CronExpr::parse("0 0 */2 * 1").unwrap().days_ored());
        assert!(!CronExpr::parse("0 0 1 * *").unwrap().days_ored());
    }

    fn field_error(expr: &str) -> (usize, FieldKind, String, usize, String) {
        match CronExpr::parse(expr) {
            Err(CronError::Field { position, kind, text, column, reason, .. }) => {
                (position, kind, text, column, reason)
            }
            other => panic!("{expr}: expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_bad_field_is_named_with_its_position_and_reason() {
        use FieldKind::*;
        let cases: &[(&str, usize, FieldKind, &str, usize, &str)] = &[
            ("60 * * * *", 1, Minute, "60", 0, "60 is out of range 0-59"),
            ("0 24 * * *", 2, Hour, "24", 2, "24 is out of range 0-23"),
            ("0 0 32 * *", 3, DayOfMonth, "32", 4, "32 is out of range 1-31"),
            ("0 0 0 * *", 3, DayOfMonth, "0", 4, "0 is out of range 1-31"),
            ("0 0 * 13 *", 4, Month, "13", 6, "13 is out of range 1-12"),
            ("0 0 * * 8", 5, DayOfWeek, "8", 8, "8 is out of range 0-7"),
            ("0 0 * * mun", 5, DayOfWeek, "mun", 8, "\"mun\" is not a number or a name (sun, mon, tue, ...)"),
            ("0 0 * foo *", 4, Month, "foo", 6, "\"foo\" is not a number or a name (jan, feb, mar, ...)"),
            ("*/0 * * * *", 1, Minute, "*/0", 0, "a step of 0 never advances"),
            ("0 0 5-1 * *", 3, DayOfMonth, "5-1", 4, "range 5-1 runs backwards"),
            ("0 0 1,,2 * *", 3, DayOfMonth, "1,,2", 4, "empty list item"),
            ("0 x * * *", 2, Hour, "x", 2, "\"x\" is not a number"),
            ("0 0 * * 1/x", 5, DayOfWeek, "1/x", 8, "step \"x\" is not a number"),
        ];
        for (expr, pos, kind, text, col, reason) in cases {
            assert_eq!(field_error(expr), (*pos, *kind, (*text).to_owned(), *col, (*reason).to_owned()), "{expr}");
        }
        let msg = CronExpr::parse("0  0 32 * *").unwrap_err().to_string();
        assert_eq!(msg, "\"0 0 32 * *\": field 3 (day-of-month) \"32\": 32 is out of range 1-31");
    }

    #[test]
    fn wrong_shapes_and_impossible_dates_are_refused() {
        assert_eq!(CronExpr::parse("0 0 * * * *"), Err(CronError::FieldCount { line: "0 0 * * * *".into(), found: 6 }));
        assert_eq!(CronExpr::parse("@reboot"), Err(CronError::Reboot { line: "@reboot".into() }));
        assert_eq!(CronExpr::parse("@often"), Err(CronError::UnknownMacro { line: "@often".into() }));
        assert_eq!(
            CronExpr::parse("0 0 30 2 *"),
            Err(CronError::Never { line: "0 0 30 2 *".into(), days: "30".into(), months: "2".into() })
        );
        assert!(CronExpr::parse("0 0 31 4,5 *").is_ok(), "May has a 31st");
    }

    /// Found by the `cron` fuzz target: a step near `u32::MAX` overflowed
    /// the walk through the range (a panic, or a wrapped value in release).
    #[test]
    fn a_step_larger_than_the_range_selects_only_its_start() {
        for (field, start) in [("1/4294967295", 1), ("59/4294967295", 59), ("2-5/4294967294", 2), ("*/4294967295", 0)] {
            let e = CronExpr::parse(&format!("{field} * * * *")).unwrap();
            assert_eq!(e.field(FieldKind::Minute).values, BTreeSet::from([start]), "{field}");
        }
    }
}
