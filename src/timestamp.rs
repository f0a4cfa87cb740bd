//! Times as the JSON schema carries them: RFC 3339 in UTC, whole seconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with one-second precision, serialised as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    #[must_use]
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// Seconds from `self` to `now`; negative when `self` is in the future.
    #[must_use]
    pub fn age_secs(self, now: Timestamp) -> i64 {
        now.0 - self.0
    }

    #[must_use]
    pub fn to_system_time(self) -> SystemTime {
        if self.0 >= 0 {
            UNIX_EPOCH + Duration::from_secs(self.0 as u64)
        } else {
            UNIX_EPOCH - Duration::from_secs(self.0.unsigned_abs())
        }
    }

    #[must_use]
    pub fn rfc3339(self) -> String {
        humantime::format_rfc3339_seconds(self.to_system_time()).to_string()
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Self(d.as_secs() as i64),
            Err(e) => Self(-(e.duration().as_secs() as i64)),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

/// What `Serialize` writes: an RFC 3339 string, not the seconds inside.
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 in UTC, whole seconds",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
        })
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_rfc3339(&s).map(Timestamp::from).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_rfc3339_utc() {
        assert_eq!(serde_json::to_string(&Timestamp(0)).unwrap(), "\"1970-01-01T00:00:00Z\"");
        assert_eq!(Timestamp(1_700_000_000).rfc3339(), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn round_trips_through_json() {
        let t = Timestamp(1_700_000_000);
        let back: Timestamp = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }

    #[test]
    fn schema_describes_the_string_serde_writes() {
        let schema = schemars::schema_for!(Timestamp);
        assert_eq!(schema.get("type"), Some(&serde_json::json!("string")));
        let pattern = regex::Regex::new(schema.get("pattern").unwrap().as_str().unwrap()).unwrap();
        for t in [Timestamp(0), Timestamp(1_700_000_000), Timestamp::now()] {
            let written = serde_json::to_value(t).unwrap();
            assert!(pattern.is_match(written.as_str().unwrap()), "{written}");
        }
    }

    #[test]
    fn age_is_signed() {
        assert_eq!(Timestamp(10).age_secs(Timestamp(25)), 15);
        assert_eq!(Timestamp(25).age_secs(Timestamp(10)), -15);
    }
}
