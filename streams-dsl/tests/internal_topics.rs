//! The internal topics a DSL program creates, with Kafka Streams' names and
//! topic configs: repartition topics, key-value changelogs (compacted) and
//! window/session changelogs (compacted and deleted after the store's
//! retention plus a day), and `Materialized`'s logging and retention
//! options.

use std::collections::BTreeMap;
use std::time::Duration;

use streams_core::topology::DEFAULT_ADDITIONAL_CHANGELOG_RETENTION;
use streams_core::{Topology, TopologyError};
use streams_dsl::{
    JoinWindows, Materialized, SessionWindows, StreamJoined, StreamsBuilder, TimeWindows,
};

const DAY_MS: i64 = 86_400_000;

/// Every internal topic of `topology` for application `app`, with its
/// properties.
fn topics(topology: &Topology) -> Vec<(String, BTreeMap<String, String>)> {
    topology
        .internal_topic_configs("app")
        .iter()
        .map(|topic| {
            (
                topic.name().to_owned(),
                topic.properties(DEFAULT_ADDITIONAL_CHANGELOG_RETENTION),
            )
        })
        .collect()
}

fn props(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn repartition() -> BTreeMap<String, String> {
    props(&[
        ("cleanup.policy", "delete"),
        ("message.timestamp.type", "CreateTime"),
        ("retention.ms", "-1"),
        ("segment.bytes", "52428800"),
    ])
}

fn compacted() -> BTreeMap<String, String> {
    props(&[
        ("cleanup.policy", "compact"),
        ("message.timestamp.type", "CreateTime"),
    ])
}

fn windowed(retention_ms: i64) -> BTreeMap<String, String> {
    props(&[
        ("cleanup.policy", "compact,delete"),
        ("message.timestamp.type", "CreateTime"),
        ("retention.ms", &retention_ms.to_string()),
    ])
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn word_count_has_a_repartition_topic_and_a_compacted_changelog() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("lines")
        .flat_map_values(|line| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
        .group_by(|_, word| word.clone())
        .count_with(Materialized::named("counts-store"))
        .to_stream()
        .to("counts");
    let topology = builder.build().expect("valid");
    assert_eq!(
        topics(&topology),
        [
            ("app-counts-store-repartition".to_owned(), repartition()),
            ("app-counts-store-changelog".to_owned(), compacted()),
        ]
    );
    assert_eq!(
        topology.changelog_topics("app"),
        ["app-counts-store-changelog"]
    );
}

#[test]
fn windowed_changelogs_keep_the_store_retention_plus_a_day() {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("input").group_by_key();
    grouped
        .windowed_by(TimeWindows::of_size_and_grace(secs(5), secs(1)).expect("windows"))
        .count_with(Materialized::named("tumbling"));
    grouped
        .windowed_by(SessionWindows::of_inactivity_gap_and_grace(secs(10), secs(2)).expect("gap"))
        .count_with(Materialized::named("sessions"));
    grouped
        .windowed_by(TimeWindows::of_size_with_no_grace(secs(5)).expect("windows"))
        .count_with(Materialized::named("kept-an-hour").with_retention(secs(3_600)));
    let topology = builder.build().expect("valid");
    assert_eq!(
        topics(&topology),
        [
            (
                "app-tumbling-changelog".to_owned(),
                windowed(6_000 + DAY_MS)
            ),
            (
                "app-sessions-changelog".to_owned(),
                windowed(12_000 + DAY_MS)
            ),
            (
                "app-kept-an-hour-changelog".to_owned(),
                windowed(3_600_000 + DAY_MS)
            ),
        ]
    );
}

#[test]
fn logging_overrides_win_and_disabled_logging_has_no_changelog() {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("input").group_by_key();
    grouped.count_with(
        Materialized::named("tuned").with_logging_enabled([("min.insync.replicas", "2")]),
    );
    grouped.count_with(Materialized::named("unlogged").with_logging_disabled());
    grouped
        .windowed_by(TimeWindows::of_size_with_no_grace(secs(5)).expect("windows"))
        .count_with(Materialized::named("fixed").with_logging_enabled([("retention.ms", "1000")]));
    let topology = builder.build().expect("valid");
    let mut tuned = compacted();
    tuned.insert("min.insync.replicas".to_owned(), "2".to_owned());
    let mut fixed = windowed(1_000);
    fixed.insert("retention.ms".to_owned(), "1000".to_owned());
    assert_eq!(
        topics(&topology),
        [
            ("app-tuned-changelog".to_owned(), tuned),
            ("app-fixed-changelog".to_owned(), fixed),
        ]
    );
}

#[test]
fn a_retention_shorter_than_size_plus_grace_fails_the_build() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_and_grace(secs(5), secs(1)).expect("windows"))
        .count_with(Materialized::named("short").with_retention(secs(5)));
    match builder.build() {
        Err(TopologyError::RetentionTooShort {
            store,
            retention_ms,
            minimum_ms,
        }) => assert_eq!(
            (store.as_str(), retention_ms, minimum_ms),
            ("short", 5_000, 6_000)
        ),
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a too-short retention must fail the build"),
    }
}

#[test]
fn stream_stream_join_stores_log_to_windowed_changelogs() {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("left");
    let right = builder.stream::<String, String>("right");
    left.join_with(
        &right,
        |l, r| format!("{l}+{r}"),
        JoinWindows::of_time_difference_and_grace(secs(10), secs(1)),
        StreamJoined::default()
            .with_store_name("pairs")
            .with_logging_enabled([("segment.ms", "60000")]),
    )
    .to("joined");
    let topology = builder.build().expect("valid");
    // Join stores keep a record for before + after + grace; they retain
    // duplicates, so their changelogs are never compacted.
    let mut expected = windowed(21_000 + DAY_MS);
    expected.insert("segment.ms".to_owned(), "60000".to_owned());
    expected.insert("cleanup.policy".to_owned(), "delete".to_owned());
    assert_eq!(
        topics(&topology),
        [
            (
                "app-pairs-this-join-store-changelog".to_owned(),
                expected.clone()
            ),
            ("app-pairs-other-join-store-changelog".to_owned(), expected),
        ]
    );
}

#[test]
fn an_outer_join_also_logs_its_shared_store_as_a_compacted_changelog() {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("left");
    let right = builder.stream::<String, String>("right");
    left.outer_join(
        &right,
        |l, r| format!("{l:?}+{r:?}"),
        JoinWindows::of_time_difference_with_no_grace(secs(60)),
    )
    .to("joined");
    let topology = builder.build().expect("valid");
    let mut window = windowed(120_000 + DAY_MS);
    window.insert("cleanup.policy".to_owned(), "delete".to_owned());
    let mut names_and_configs = topics(&topology);
    names_and_configs.sort();
    assert_eq!(
        names_and_configs,
        [
            (
                "app-KSTREAM-OUTEROTHER-0000000005-store-changelog".to_owned(),
                window.clone()
            ),
            (
                "app-KSTREAM-OUTERSHARED-0000000004-store-changelog".to_owned(),
                compacted()
            ),
            (
                "app-KSTREAM-OUTERTHIS-0000000004-store-changelog".to_owned(),
                window
            ),
        ]
    );
}

/// A partition count given to `repartition()` is fixed on its topic (Kafka
/// creates it with that many partitions); other repartition topics are
/// sized from the topics that feed them.
#[test]
fn repartition_counts_are_fixed_on_their_topics() {
    use streams_core::topology::InternalTopicKind;
    use streams_dsl::Repartitioned;

    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .repartition_with(Repartitioned::with_partitions(4).with_name("spread"))
        .group_by(|_, v| v.clone())
        .count();
    let topology = builder.build().expect("valid");
    let partitions: Vec<(String, Option<u32>)> = topology
        .internal_topic_configs("app")
        .into_iter()
        .filter_map(|topic| match topic.kind() {
            InternalTopicKind::Repartition { partitions } => {
                Some((topic.name().to_owned(), *partitions))
            }
            InternalTopicKind::Changelog(_) => None,
        })
        .collect();
    assert_eq!(
        partitions,
        [
            (
                "app-KSTREAM-AGGREGATE-STATE-STORE-0000000005-repartition".to_owned(),
                None
            ),
            ("app-spread-repartition".to_owned(), Some(4)),
        ]
    );
}
