//! Topic configs: the Kafka names the broker understands, their types,
//! validation, defaults (taken from the broker configuration) and how they
//! are described to clients.

use std::collections::BTreeMap;

use super::{BrokerConfig, FlushPolicy, LogDefaults};

/// Where a described config value comes from, with Kafka's wire codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfigSource {
    /// Set on the topic itself.
    Topic = 1,
    /// Set in the broker's static configuration.
    StaticBroker = 4,
    /// Nobody set it.
    Default = 5,
}

/// Kafka's config type codes, reported by DescribeConfigs v3+.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfigType {
    Boolean = 1,
    String = 2,
    Int = 3,
    Long = 5,
    Double = 6,
    List = 7,
}

/// One described config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigEntry {
    pub(crate) name: &'static str,
    pub(crate) value: String,
    pub(crate) source: ConfigSource,
    pub(crate) kind: ConfigType,
}

/// Why a topic config was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConfigError {
    /// Not a topic config this broker knows.
    #[error("unknown topic config {0}")]
    Unknown(String),
    /// Known, but the value is not acceptable.
    #[error("invalid value {value:?} for {name}: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: &'static str,
    },
}

/// The constraint a value must satisfy.
enum Rule {
    /// An integer no smaller than this.
    AtLeast(i64),
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A non-empty comma-separated list of these strings.
    ListOf(&'static [&'static str]),
    /// A number between 0 and 1.
    Ratio,
}

struct Def {
    name: &'static str,
    kind: ConfigType,
    rule: Rule,
    /// The value when the topic does not override it, and whether that comes
    /// from the broker configuration rather than a fixed Kafka default.
    default: fn(&LogDefaults) -> (String, ConfigSource),
}

fn fixed(value: &'static str) -> (String, ConfigSource) {
    (value.to_owned(), ConfigSource::Default)
}

fn broker(value: impl ToString) -> (String, ConfigSource) {
    (value.to_string(), ConfigSource::StaticBroker)
}

/// Every topic config the broker accepts. Of the compaction settings,
/// `max.compaction.lag.ms` is only approximated (see `log::cleaner`).
const DEFS: &[Def] = &[
    Def {
        name: "cleanup.policy",
        kind: ConfigType::List,
        rule: Rule::ListOf(&["delete", "compact"]),
        default: |_| fixed("delete"),
    },
    Def {
        name: "compression.type",
        kind: ConfigType::String,
        // `producer` stores batches as the producer compressed them; a
        // codec has the broker compress them with it.
        rule: Rule::OneOf(&["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"]),
        default: |_| fixed("producer"),
    },
    Def {
        name: "delete.retention.ms",
        kind: ConfigType::Long,
        rule: Rule::AtLeast(0),
        default: |_| fixed("86400000"),
    },
    Def {
        name: "index.interval.bytes",
        kind: ConfigType::Int,
        rule: Rule::AtLeast(0),
        default: |d| broker(d.index_interval_bytes),
    },
    Def {
        name: "max.compaction.lag.ms",
        kind: ConfigType::Long,
        rule: Rule::AtLeast(1),
        default: |_| fixed("9223372036854775807"),
    },
    Def {
        name: "max.message.bytes",
        kind: ConfigType::Int,
        // Zero would refuse every batch; the broker default is checked
        // against this same rule.
        rule: Rule::AtLeast(1),
        default: |d| broker(d.max_message_bytes),
    },
    Def {
        name: "message.timestamp.type",
        kind: ConfigType::String,
        rule: Rule::OneOf(&["CreateTime", "LogAppendTime"]),
        default: |_| fixed("CreateTime"),
    },
    Def {
        name: "min.cleanable.dirty.ratio",
        kind: ConfigType::Double,
        rule: Rule::Ratio,
        default: |_| fixed("0.5"),
    },
    Def {
        name: "min.compaction.lag.ms",
        kind: ConfigType::Long,
        rule: Rule::AtLeast(0),
        default: |_| fixed("0"),
    },
    Def {
        name: "min.insync.replicas",
        kind: ConfigType::Int,
        rule: Rule::AtLeast(1),
        default: |_| fixed("1"),
    },
    Def {
        name: "retention.bytes",
        kind: ConfigType::Long,
        rule: Rule::AtLeast(-1),
        default: |d| broker(d.retention_bytes),
    },
    Def {
        name: "retention.ms",
        kind: ConfigType::Long,
        rule: Rule::AtLeast(-1),
        default: |d| broker(d.retention_ms),
    },
    Def {
        name: "segment.bytes",
        kind: ConfigType::Int,
        rule: Rule::AtLeast(64),
        default: |d| broker(d.segment_bytes),
    },
    Def {
        name: "segment.ms",
        kind: ConfigType::Long,
        rule: Rule::AtLeast(1),
        default: |d| broker(d.segment_ms),
    },
];

fn def(name: &str) -> Result<&'static Def, ConfigError> {
    DEFS.iter()
        .find(|d| d.name == name)
        .ok_or_else(|| ConfigError::Unknown(name.to_owned()))
}

fn check(def: &Def, value: &str) -> Result<(), ConfigError> {
    let invalid = |reason| ConfigError::Invalid {
        name: def.name.to_owned(),
        value: value.to_owned(),
        reason,
    };
    match def.rule {
        Rule::AtLeast(min) => {
            let parsed: i64 = value
                .trim()
                .parse()
                .map_err(|_| invalid("not an integer"))?;
            let max = if def.kind == ConfigType::Int {
                i64::from(i32::MAX)
            } else {
                i64::MAX
            };
            if parsed < min || parsed > max {
                return Err(invalid("out of range"));
            }
        }
        Rule::OneOf(allowed) => {
            if !allowed.contains(&value.trim()) {
                return Err(invalid("not one of the supported values"));
            }
        }
        Rule::ListOf(allowed) => {
            let mut items = value.split(',').map(str::trim).peekable();
            if items.peek().is_none() || !items.all(|item| allowed.contains(&item)) {
                return Err(invalid("not a list of supported values"));
            }
        }
        Rule::Ratio => {
            let parsed: f64 = value.trim().parse().map_err(|_| invalid("not a number"))?;
            if !(0.0..=1.0).contains(&parsed) {
                return Err(invalid("must be between 0 and 1"));
            }
        }
    }
    Ok(())
}

/// Checks the broker's defaults against the rules of the topic configs they
/// stand in for.
pub(crate) fn check_defaults(defaults: &LogDefaults) -> Result<(), ConfigError> {
    DEFS.iter()
        .try_for_each(|def| check(def, &(def.default)(defaults).0))
}

/// The typed settings the log and the request handlers act on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogSettings {
    pub(crate) segment_bytes: u64,
    pub(crate) segment_ms: u64,
    pub(crate) retention_ms: i64,
    pub(crate) retention_bytes: i64,
    pub(crate) max_message_bytes: u64,
    pub(crate) index_interval_bytes: u64,
    /// `message.timestamp.type=LogAppendTime`.
    pub(crate) log_append_time: bool,
    /// `cleanup.policy` includes `delete`, so retention applies.
    pub(crate) delete_retention: bool,
    /// `cleanup.policy` includes `compact`: every record needs a key, and
    /// the log cleaner keeps only the latest record of each.
    pub(crate) compacted: bool,
    /// `delete.retention.ms`: how long tombstones stay after their batch
    /// was first cleaned.
    pub(crate) delete_retention_ms: i64,
    /// `min.compaction.lag.ms`: segments with records younger than this are
    /// not cleaned.
    pub(crate) min_compaction_lag_ms: i64,
    /// `max.compaction.lag.ms`: a log is cleaned, whatever its dirty ratio,
    /// once its oldest uncleaned segment is older than this.
    pub(crate) max_compaction_lag_ms: i64,
    /// `min.cleanable.dirty.ratio`: the share of the cleanable log that must
    /// be uncleaned before the cleaner rewrites it.
    pub(crate) min_cleanable_dirty_ratio: f64,
    /// `compression.type`: the codec the broker stores batches with (as
    /// the batch attributes number it), or `None` for the producer's.
    pub(crate) codec: Option<i16>,
    pub(crate) min_insync_replicas: i32,
}

/// A topic's config overrides, always valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TopicConfig {
    overrides: BTreeMap<String, String>,
}

impl TopicConfig {
    /// Validates every override.
    pub(crate) fn from_overrides(
        overrides: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        for (name, value) in overrides {
            config.set(&name, value)?;
        }
        Ok(config)
    }

    /// The overrides, for persisting.
    pub(crate) fn overrides(&self) -> &BTreeMap<String, String> {
        &self.overrides
    }

    /// Overrides one config.
    pub(crate) fn set(&mut self, name: &str, value: String) -> Result<(), ConfigError> {
        let def = def(name)?;
        check(def, &value)?;
        self.overrides
            .insert(def.name.to_owned(), value.trim().to_owned());
        Ok(())
    }

    /// Reverts one config to its default.
    pub(crate) fn remove(&mut self, name: &str) -> Result<(), ConfigError> {
        let def = def(name)?;
        self.overrides.remove(def.name);
        Ok(())
    }

    /// The effective value of a known config.
    pub(crate) fn value(&self, name: &str, defaults: &LogDefaults) -> Result<String, ConfigError> {
        let def = def(name)?;
        Ok(self.entry(def, defaults).value)
    }

    fn entry(&self, def: &'static Def, defaults: &LogDefaults) -> ConfigEntry {
        let (value, source) = match self.overrides.get(def.name) {
            Some(value) => (value.clone(), ConfigSource::Topic),
            None => (def.default)(defaults),
        };
        ConfigEntry {
            name: def.name,
            value,
            source,
            kind: def.kind,
        }
    }

    /// Every config with its effective value, as DescribeConfigs reports it.
    pub(crate) fn describe(&self, defaults: &LogDefaults) -> Vec<ConfigEntry> {
        DEFS.iter().map(|def| self.entry(def, defaults)).collect()
    }

    /// The typed settings. Values were validated on the way in, so parsing
    /// only falls back to the defaults if a rule and a parser disagree.
    pub(crate) fn settings(&self, defaults: &LogDefaults) -> LogSettings {
        let int = |name: &str, fallback: i64| {
            self.overrides
                .get(name)
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(fallback)
        };
        let text = |name: &str| self.overrides.get(name).map(String::as_str);
        let unsigned = |name: &str, fallback: u64| {
            u64::try_from(int(name, i64::try_from(fallback).unwrap_or(i64::MAX)))
                .unwrap_or(fallback)
        };
        LogSettings {
            segment_bytes: unsigned("segment.bytes", defaults.segment_bytes),
            segment_ms: unsigned("segment.ms", defaults.segment_ms),
            retention_ms: int("retention.ms", defaults.retention_ms),
            retention_bytes: int("retention.bytes", defaults.retention_bytes),
            max_message_bytes: unsigned("max.message.bytes", defaults.max_message_bytes),
            index_interval_bytes: unsigned("index.interval.bytes", defaults.index_interval_bytes),
            log_append_time: text("message.timestamp.type") == Some("LogAppendTime"),
            delete_retention: text("cleanup.policy")
                .is_none_or(|policy| policy.split(',').any(|p| p.trim() == "delete")),
            compacted: text("cleanup.policy")
                .is_some_and(|policy| policy.split(',').any(|p| p.trim() == "compact")),
            delete_retention_ms: int("delete.retention.ms", 86_400_000),
            min_compaction_lag_ms: int("min.compaction.lag.ms", 0),
            max_compaction_lag_ms: int("max.compaction.lag.ms", i64::MAX),
            min_cleanable_dirty_ratio: self
                .overrides
                .get("min.cleanable.dirty.ratio")
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.5),
            min_insync_replicas: i32::try_from(int("min.insync.replicas", 1)).unwrap_or(1),
            codec: match text("compression.type") {
                Some("uncompressed") => Some(0),
                Some("gzip") => Some(1),
                Some("snappy") => Some(2),
                Some("lz4") => Some(3),
                Some("zstd") => Some(4),
                _ => None,
            },
        }
    }
}

/// The broker's own configs, as DescribeConfigs reports them for a broker resource.
pub(crate) fn broker_entries(config: &BrokerConfig) -> Vec<ConfigEntry> {
    let log = &config.log;
    let flush_ms = match config.flush {
        FlushPolicy::EveryProduce => 0,
        FlushPolicy::Interval(interval) => interval.as_millis(),
    };
    let entries: [(&'static str, String, ConfigType); 17] = [
        (
            "auto.create.topics.enable",
            config.auto_create_topics.to_string(),
            ConfigType::Boolean,
        ),
        ("broker.id", config.node_id.to_string(), ConfigType::Int),
        (
            "log.cleaner.backoff.ms",
            config.log_cleaner_backoff.as_millis().to_string(),
            ConfigType::Long,
        ),
        (
            "default.replication.factor",
            "1".to_owned(),
            ConfigType::Int,
        ),
        (
            "group.initial.rebalance.delay.ms",
            config.group_initial_rebalance_delay.as_millis().to_string(),
            ConfigType::Int,
        ),
        (
            "log.dirs",
            config.data_dir.display().to_string(),
            ConfigType::String,
        ),
        (
            "log.flush.interval.ms",
            flush_ms.to_string(),
            ConfigType::Long,
        ),
        (
            "log.index.interval.bytes",
            log.index_interval_bytes.to_string(),
            ConfigType::Int,
        ),
        (
            "log.retention.bytes",
            log.retention_bytes.to_string(),
            ConfigType::Long,
        ),
        (
            "log.retention.check.interval.ms",
            config.retention_check_interval.as_millis().to_string(),
            ConfigType::Long,
        ),
        (
            "log.retention.ms",
            log.retention_ms.to_string(),
            ConfigType::Long,
        ),
        ("log.roll.ms", log.segment_ms.to_string(), ConfigType::Long),
        (
            "log.segment.bytes",
            log.segment_bytes.to_string(),
            ConfigType::Int,
        ),
        (
            "message.max.bytes",
            log.max_message_bytes.to_string(),
            ConfigType::Int,
        ),
        ("min.insync.replicas", "1".to_owned(), ConfigType::Int),
        (
            "num.partitions",
            config.default_partitions.to_string(),
            ConfigType::Int,
        ),
        (
            "socket.request.max.bytes",
            config.max_request_bytes.to_string(),
            ConfigType::Int,
        ),
    ];
    entries
        .into_iter()
        .map(|(name, value, kind)| ConfigEntry {
            name,
            value,
            source: ConfigSource::StaticBroker,
            kind,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_broker() {
        let defaults = LogDefaults {
            retention_ms: 1234,
            ..LogDefaults::default()
        };
        let config = TopicConfig::default();
        assert_eq!(
            config.value("retention.ms", &defaults),
            Ok("1234".to_owned())
        );
        let entry = config
            .describe(&defaults)
            .into_iter()
            .find(|e| e.name == "cleanup.policy");
        assert_eq!(entry.map(|e| e.source), Some(ConfigSource::Default));
    }

    #[test]
    fn overrides_are_validated_and_typed() {
        let defaults = LogDefaults::default();
        let config = TopicConfig::from_overrides([
            ("retention.ms".to_owned(), "5000".to_owned()),
            (
                "message.timestamp.type".to_owned(),
                "LogAppendTime".to_owned(),
            ),
            ("cleanup.policy".to_owned(), "compact".to_owned()),
        ]);
        let settings = config.map(|c| c.settings(&defaults));
        let settings = settings
            .as_ref()
            .map(|s| (s.retention_ms, s.log_append_time, s.delete_retention));
        assert_eq!(settings, Ok((5000, true, false)));
    }

    #[test]
    fn bad_values_and_names_are_refused() {
        let mut config = TopicConfig::default();
        assert!(matches!(
            config.set("retention.ms", "soon".into()),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(matches!(
            config.set("segment.bytes", "1".into()),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(matches!(
            config.set("cleanup.policy", "shred".into()),
            Err(ConfigError::Invalid { .. })
        ));
        assert_eq!(
            config.set("no.such", "1".into()),
            Err(ConfigError::Unknown("no.such".into()))
        );
    }

    #[test]
    fn a_max_message_bytes_of_zero_is_refused() {
        let mut config = TopicConfig::default();
        assert!(matches!(
            config.set("max.message.bytes", "0".into()),
            Err(ConfigError::Invalid { .. })
        ));
        config
            .set("max.message.bytes", "1".into())
            .expect("one byte is a valid limit");
    }
}
