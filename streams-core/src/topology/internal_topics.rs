//! The topics an application creates for itself, and their topic configs.
//!
//! A topology needs two kinds of internal topics besides the ones the user
//! names: repartition topics (between sub-topologies) and the changelog
//! topics of its logged stores. Each is created with Kafka Streams' configs,
//! layered from least to most specific:
//!
//! 1. the defaults of every internal topic: `message.timestamp.type=CreateTime`,
//!    since stream time, windows and restore read the timestamps the
//!    application wrote, not the broker's append time;
//! 2. the defaults of its kind:
//!    - repartition: `cleanup.policy=delete`, `retention.ms=-1` (records are
//!      purged once consumed, never by age) and 50 MiB segments;
//!    - key-value changelog: `cleanup.policy=compact` (only the latest value
//!      of a key is needed to restore);
//!    - window and session changelog: `cleanup.policy=compact,delete`, with
//!      `retention.ms` = the store's retention plus an allowance for clock
//!      drift (one day by default), so expired windows leave the topic too;
//! 3. the overrides given to the store (`with_logging_enabled(configs)`),
//!    which win; a `retention.ms` override replaces the computed one.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::engine::millis;

/// How long a window or session changelog keeps records beyond its store's
/// retention: Kafka Streams' `windowstore.changelog.additional.retention.ms`
/// default of one day.
pub const DEFAULT_ADDITIONAL_CHANGELOG_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

const CLEANUP_POLICY: &str = "cleanup.policy";

/// What every internal topic is created with (Kafka's
/// `InternalTopicConfig.INTERNAL_TOPIC_DEFAULT_OVERRIDES`).
fn internal_topic_defaults() -> BTreeMap<String, String> {
    collect([("message.timestamp.type", "CreateTime")])
}
const RETENTION_MS: &str = "retention.ms";

/// The changelog topic of store `store`: `<application.id>-<store>-changelog`.
pub(crate) fn changelog_topic(application_id: &str, store: &str) -> String {
    format!("{application_id}-{store}-changelog")
}

/// How a store's changelog topic is configured: compacted (key-value
/// stores) or compacted and deleted after the store's retention (window
/// and session stores), plus the store's own topic-config overrides.
///
/// ```
/// use std::time::Duration;
/// use streams_core::topology::ChangelogConfig;
///
/// let config = ChangelogConfig::windowed(Duration::from_secs(60), [("segment.ms", "600000")]);
/// let properties = config.properties(Duration::from_secs(1));
/// assert_eq!(properties["cleanup.policy"], "compact,delete");
/// assert_eq!(properties["retention.ms"], "61000");
/// assert_eq!(properties["segment.ms"], "600000");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangelogConfig {
    /// The store's retention, for stores whose entries expire.
    retention: Option<Duration>,
    overrides: BTreeMap<String, String>,
}

impl ChangelogConfig {
    /// The changelog of a store whose entries never expire (key-value).
    pub fn compacted<K: Into<String>, V: Into<String>>(
        overrides: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            retention: None,
            overrides: collect(overrides),
        }
    }

    /// The changelog of a store that keeps entries for `retention` of stream
    /// time (window and session stores).
    pub fn windowed<K: Into<String>, V: Into<String>>(
        retention: Duration,
        overrides: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            retention: Some(retention),
            overrides: collect(overrides),
        }
    }

    /// The topic configs the changelog is created with, given the extra
    /// retention that window and session changelogs get.
    pub fn properties(&self, additional_retention: Duration) -> BTreeMap<String, String> {
        let mut properties = internal_topic_defaults();
        let policy = match self.retention {
            None => "compact",
            Some(_) => "compact,delete",
        };
        properties.insert(CLEANUP_POLICY.to_owned(), policy.to_owned());
        properties.extend(self.overrides.clone());
        if let Some(retention) = self.retention {
            if !self.overrides.contains_key(RETENTION_MS) {
                let retention_ms = millis(retention).saturating_add(millis(additional_retention));
                properties.insert(RETENTION_MS.to_owned(), retention_ms.to_string());
            }
        }
        properties
    }
}

/// What an internal topic is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InternalTopicKind {
    /// Carries records between sub-topologies after a key change.
    Repartition {
        /// The partition count fixed for it (`repartition()` with a count:
        /// Kafka enforces it); `None` sizes it from the topics feeding it.
        partitions: Option<u32>,
    },
    /// Backs up a state store, which restores from it.
    Changelog(ChangelogConfig),
}

/// An internal topic of an application: its full name
/// (`<application.id>-...`) and what it is for, which decides its configs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalTopic {
    name: String,
    kind: InternalTopicKind,
}

impl InternalTopic {
    pub(crate) fn new(name: String, kind: InternalTopicKind) -> Self {
        Self { name, kind }
    }

    /// The topic's full name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the topic is for.
    pub fn kind(&self) -> &InternalTopicKind {
        &self.kind
    }

    /// The topic configs to create it with; `additional_retention` is added
    /// to the retention of window and session changelogs (see
    /// [`DEFAULT_ADDITIONAL_CHANGELOG_RETENTION`]).
    pub fn properties(&self, additional_retention: Duration) -> BTreeMap<String, String> {
        match &self.kind {
            InternalTopicKind::Repartition { .. } => {
                let mut properties = internal_topic_defaults();
                properties.extend(collect([
                    (CLEANUP_POLICY, "delete"),
                    ("segment.bytes", "52428800"),
                    (RETENTION_MS, "-1"),
                ]));
                properties
            }
            InternalTopicKind::Changelog(config) => config.properties(additional_retention),
        }
    }
}

fn collect<K: Into<String>, V: Into<String>>(
    entries: impl IntoIterator<Item = (K, V)>,
) -> BTreeMap<String, String> {
    entries
        .into_iter()
        .map(|(key, value)| (key.into(), value.into()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        collect(entries.iter().copied())
    }

    #[test]
    fn key_value_changelogs_are_compacted_with_create_time() {
        let config = ChangelogConfig::compacted::<&str, &str>([]);
        assert_eq!(
            config.properties(DEFAULT_ADDITIONAL_CHANGELOG_RETENTION),
            map(&[
                ("cleanup.policy", "compact"),
                ("message.timestamp.type", "CreateTime"),
            ])
        );
    }

    #[test]
    fn windowed_changelogs_keep_the_store_retention_plus_a_day() {
        let config = ChangelogConfig::windowed::<&str, &str>(Duration::from_millis(5_000), []);
        assert_eq!(
            config.properties(DEFAULT_ADDITIONAL_CHANGELOG_RETENTION),
            map(&[
                ("cleanup.policy", "compact,delete"),
                ("message.timestamp.type", "CreateTime"),
                ("retention.ms", "86405000"),
            ])
        );
    }

    #[test]
    fn overrides_win_and_a_retention_override_is_taken_as_is() {
        let config = ChangelogConfig::windowed(
            Duration::from_millis(5_000),
            [("retention.ms", "100"), ("cleanup.policy", "delete")],
        );
        assert_eq!(
            config.properties(DEFAULT_ADDITIONAL_CHANGELOG_RETENTION),
            map(&[
                ("cleanup.policy", "delete"),
                ("message.timestamp.type", "CreateTime"),
                ("retention.ms", "100"),
            ])
        );
    }

    #[test]
    fn endless_retention_saturates() {
        let config = ChangelogConfig::windowed::<&str, &str>(Duration::MAX, []);
        let properties = config.properties(DEFAULT_ADDITIONAL_CHANGELOG_RETENTION);
        assert_eq!(properties["retention.ms"], i64::MAX.to_string());
    }

    #[test]
    fn repartition_topics_are_deleted_once_read_not_by_age() {
        let topic = InternalTopic::new(
            "app-x-repartition".to_owned(),
            InternalTopicKind::Repartition { partitions: None },
        );
        assert_eq!(
            topic.properties(DEFAULT_ADDITIONAL_CHANGELOG_RETENTION),
            map(&[
                ("cleanup.policy", "delete"),
                ("message.timestamp.type", "CreateTime"),
                ("retention.ms", "-1"),
                ("segment.bytes", "52428800"),
            ])
        );
    }
}
