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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
            if out.last() != Some(&t) {
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
            v += step.unwrap_or(1);
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
