//! A strict reader of the Prometheus text exposition format (0.0.4) as
//! `node_exporter`'s textfile collector takes it, for every test that reads
//! gokeep's metrics: [`check_exposition`] parses the text, fails the test on
//! the first thing Prometheus would reject or `node_exporter` would refuse,
//! and also runs `promtool check metrics` when promtool is installed
//! (Debian's `prometheus` package; `.ci/run` installs it).
//!
//! Checked: metric and label names against the format's grammar; a family's
//! `# HELP` and `# TYPE` once each, before its samples, which are contiguous;
//! label syntax (`name="value"`, comma-separated, no name twice) and value
//! escapes (only `\\`, `\"`, `\n`); HELP escapes (only `\\`, `\n`); values as
//! Go's `ParseFloat` reads them (and `+Inf`, `-Inf`, `NaN`); no timestamps
//! (the textfile collector refuses them); no series twice; a final newline.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

/// One metric family as read.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: String,
    pub help: String,
    pub kind: String,
    pub samples: Vec<(BTreeMap<String, String>, f64)>,
}

/// A whole exposition, families in the order written.
#[derive(Debug, Clone, Default)]
pub struct Exposition {
    pub families: Vec<Family>,
}

#[allow(dead_code)]
impl Exposition {
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The value of the sample of `name` whose labels include every pair of `labels`;
    /// panics unless exactly one matches.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let f = self.family(name).unwrap_or_else(|| panic!("no metric family {name}"));
        let found: Vec<f64> = f
            .samples
            .iter()
            .filter(|(l, _)| labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(found.len(), 1, "{name} with {labels:?}: {} samples match in {:?}", found.len(), f.samples);
        found[0]
    }

    pub fn names(&self) -> BTreeSet<String> {
        self.families.iter().map(|f| f.name.clone()).collect()
    }
}

fn is_metric_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut c = s.chars();
    !s.starts_with("__")
        && c.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A value as Go's `strconv.ParseFloat` reads it in the text format.
fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" | "Inf" => return Ok(f64::INFINITY),
        "-Inf" => return Ok(f64::NEG_INFINITY),
        "NaN" => return Ok(f64::NAN),
        _ => {}
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => (digits(a) || a.is_empty()) && (digits(b) || b.is_empty()) && !(a.is_empty() && b.is_empty()),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !(mantissa_ok && exponent_ok) {
        return Err(format!("{s:?} is not a float value"));
    }
    s.parse().map_err(|e| format!("{s:?}: {e}"))
}

/// Reads `text` after `escapes` allow: `\\` and `\n` always, `\"` in label values.
fn unescape(s: &str, quote_allowed: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote_allowed => out.push('"'),
            other => return Err(format!("bad escape \\{} in {s:?}", other.map(String::from).unwrap_or_default())),
        }
    }
    Ok(out)
}

/// `{a="x",b="y"}` after the metric name, up to the closing brace; returns the labels and the rest.
fn parse_labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = s.strip_prefix('{').expect("called at a brace");
    loop {
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((labels, r));
        }
        let eq = rest.find('=').ok_or_else(|| format!("label without '=' in {s:?}"))?;
        let name = &rest[..eq];
        if !is_label_name(name) {
            return Err(format!("{name:?} is not a label name"));
        }
        rest = rest[eq + 1..].strip_prefix('"').ok_or_else(|| format!("label {name} has no opening quote"))?;
        // The closing quote is the first one not escaped.
        let mut end = None;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.ok_or_else(|| format!("label {name} has no closing quote"))?;
        let value = unescape(&rest[..end], true)?;
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} given twice"));
        }
        rest = &rest[end + 1..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with('}') {
            return Err(format!("expected ',' or '}}' after label {name}, found {rest:?}"));
        }
    }
}

/// The family a sample name belongs to under `kind`.
fn belongs(sample: &str, family: &str, kind: &str) -> bool {
    sample == family
        || match kind {
            "histogram" => ["_bucket", "_sum", "_count"].iter().any(|s| sample == format!("{family}{s}")),
            "summary" => ["_sum", "_count"].iter().any(|s| sample == format!("{family}{s}")),
            _ => false,
        }
}

/// Parses `text` strictly; the error names the line.
pub fn parse_exposition(text: &str) -> Result<Exposition, String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the last line has no newline".into());
    }
    let mut out = Exposition::default();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut series: BTreeSet<(String, Vec<(String, String)>)> = BTreeSet::new();
    let mut help: BTreeMap<String, String> = BTreeMap::new();
    let mut kinds: BTreeMap<String, String> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let at = |m: String| format!("line {}: {m}: {line:?}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let mut words = rest.trim_start().splitn(3, ' ');
            let (keyword, name, tail) = (words.next().unwrap_or(""), words.next(), words.next());
            if keyword != "HELP" && keyword != "TYPE" {
                continue; // a comment
            }
            let name = name.filter(|n| is_metric_name(n)).ok_or_else(|| at("not a metric name".into()))?;
            if out.families.iter().any(|f| f.name == name) {
                return Err(at(format!("{keyword} for {name} after its samples")));
            }
            let tail = tail.unwrap_or("");
            if keyword == "HELP" {
                if help.insert(name.to_owned(), unescape(tail, false).map_err(&at)?).is_some() {
                    return Err(at(format!("second HELP for {name}")));
                }
            } else {
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&tail) {
                    return Err(at(format!("{tail:?} is not a metric type")));
                }
                if kinds.insert(name.to_owned(), tail.to_owned()).is_some() {
                    return Err(at(format!("second TYPE for {name}")));
                }
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| at("a sample needs a value".into()))?;
        let name = &line[..name_end];
        if !is_metric_name(name) {
            return Err(at(format!("{name:?} is not a metric name")));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(&at)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let rest = rest.strip_prefix(' ').ok_or_else(|| at("expected one space before the value".into()))?;
        let mut fields = rest.split(' ');
        let value = parse_value(fields.next().unwrap_or("")).map_err(&at)?;
        if fields.next().is_some() {
            return Err(at(
                "a timestamp or trailing text (node_exporter's textfile collector refuses timestamps)".into()
            ));
        }
        // The family: the current one if the name belongs to it, else a new one named like the sample.
        let current = out.families.last().filter(|f| belongs(name, &f.name, &f.kind)).map(|f| f.name.clone());
        let family = if let Some(f) = current {
            f
        } else {
            let family = kinds
                .iter()
                .find(|(f, k)| belongs(name, f, k) && !out.families.iter().any(|x| &x.name == *f))
                .map_or_else(|| name.to_owned(), |(f, _)| f.clone());
            if let Some(last) = out.families.last() {
                done.insert(last.name.clone());
            }
            if done.contains(&family) || out.families.iter().any(|f| f.name == family) {
                return Err(at(format!("samples of {family} are not contiguous")));
            }
            let Some(h) = help.get(&family) else { return Err(at(format!("{family} has no HELP before its samples"))) };
            let Some(k) = kinds.get(&family) else {
                return Err(at(format!("{family} has no TYPE before its samples")));
            };
            out.families.push(Family { name: family.clone(), help: h.clone(), kind: k.clone(), samples: Vec::new() });
            family
        };
        let key = (name.to_owned(), labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        if !series.insert(key) {
            return Err(at(format!("series {name}{labels:?} given twice")));
        }
        let f = out.families.iter_mut().find(|f| f.name == family).expect("pushed above");
        f.samples.push((labels, value));
    }
    for name in kinds.keys().chain(help.keys()) {
        if !out.families.iter().any(|f| &f.name == name) {
            return Err(format!("{name} has HELP or TYPE but no samples"));
        }
    }
    Ok(out)
}

/// Parses `text` (what `what` wrote) strictly and, where promtool is
/// installed, has `promtool check metrics` read it too; panics on any error.
pub fn check_exposition(what: &str, text: &str) -> Exposition {
    let parsed = parse_exposition(text).unwrap_or_else(|e| panic!("{what}: not valid exposition format: {e}\n{text}"));
    if let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        use std::io::Write as _;
        child.stdin.take().expect("piped").write_all(text.as_bytes()).expect("writing to promtool");
        let out = child.wait_with_output().expect("waiting for promtool");
        assert!(
            out.status.success(),
            "{what}: promtool check metrics failed ({}):\n{}{}\n{text}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parsed
}
