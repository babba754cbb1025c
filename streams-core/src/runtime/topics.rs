//! Sizing and creating an application's internal topics, and the map of
//! topics to the sub-topologies that read them.
//!
//! As in Kafka Streams: a sub-topology has as many tasks as its source
//! topics have partitions; a repartition topic has as many partitions as
//! the largest source topic of the sub-topologies writing to it (unless
//! the topology fixes its count), then as the other topics read with it
//! (co-partitioning); a changelog has one partition per task of the
//! sub-topology that owns the store.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use super::clients::block_on;
use super::config::StreamsConfig;
use super::error::{client, RuntimeError};
use crate::topology::{
    InternalTopicKind, SubtopologyTopics, Topology, DEFAULT_ADDITIONAL_CHANGELOG_RETENTION,
};

/// How long an admin call or a metadata request may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the application's records come from and go to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TopicLayout {
    /// The sub-topology that reads each source topic.
    pub(crate) readers: HashMap<String, usize>,
    /// The number of tasks (partitions) of each sub-topology.
    pub(crate) tasks: BTreeMap<usize, i32>,
    /// The partition count of every topic known when the application
    /// started, its internal topics included.
    pub(crate) partitions: HashMap<String, i32>,
    /// The topics of the global stores, with their partition counts: every
    /// task loads all their partitions.
    pub(crate) globals: Vec<(String, i32)>,
    /// The full names of the repartition topics, which the application
    /// purges of what it committed.
    pub(crate) repartition: HashSet<String>,
}

/// An internal topic to create: its name, partition count and configs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicToCreate {
    pub(crate) name: String,
    pub(crate) partitions: i32,
    pub(crate) configs: BTreeMap<String, String>,
}

/// Works out the layout of `topology` for `application_id` given the topics
/// that exist (`existing`, with their partition counts), and the internal
/// topics still to create.
pub(crate) fn plan(
    topology: &Topology,
    application_id: &str,
    existing: &HashMap<String, i32>,
) -> Result<(TopicLayout, Vec<TopicToCreate>), RuntimeError> {
    let subtopologies = topology.subtopology_topics(application_id);
    let internal = topology.internal_topic_configs(application_id);
    let repartition: BTreeMap<&str, Option<u32>> = internal
        .iter()
        .filter_map(|topic| match topic.kind() {
            InternalTopicKind::Repartition { partitions } => Some((topic.name(), *partitions)),
            InternalTopicKind::Changelog(_) => None,
        })
        .collect();

    let globals = topology.global_topics();
    let mut missing: Vec<String> = subtopologies
        .iter()
        .flat_map(|sub| &sub.sources)
        .chain(&globals)
        .filter(|topic| !repartition.contains_key(topic.as_str()) && !existing.contains_key(*topic))
        .cloned()
        .collect();
    if !missing.is_empty() {
        missing.sort();
        missing.dedup();
        return Err(RuntimeError::MissingSourceTopics(missing));
    }

    let mut partitions: HashMap<String, i32> = existing.clone();
    for (name, fixed) in &repartition {
        if let Some(count) = fixed {
            let count = i32::try_from(*count).unwrap_or(i32::MAX);
            partitions.insert((*name).to_owned(), count);
        } else {
            // Sized from its writers below, even if it exists: a mismatch
            // is an error, not something to adopt.
            partitions.remove(*name);
        }
    }
    // Each round sizes the repartition topics whose writers' sources are
    // all sized; a chain of repartitions takes one round per link.
    let tasks_of = |sub: &SubtopologyTopics, partitions: &HashMap<String, i32>| {
        sub.sources
            .iter()
            .map(|topic| partitions.get(topic).copied())
            .try_fold(0, |most, count| Some(most.max(count?)))
    };
    loop {
        let mut sized = false;
        let unsized_topics: Vec<&str> = repartition
            .keys()
            .copied()
            .filter(|name| !partitions.contains_key(*name))
            .collect();
        for name in unsized_topics {
            let writers: Option<Vec<i32>> = subtopologies
                .iter()
                .filter(|sub| sub.sinks.iter().any(|sink| sink == name))
                .map(|sub| tasks_of(sub, &partitions))
                .collect();
            if let Some(count) = writers.and_then(|counts| counts.into_iter().max()) {
                partitions.insert(name.to_owned(), count);
                sized = true;
            }
        }
        if !sized {
            break;
        }
    }
    // Then the sources of each sub-topology are made co-partitioned, as
    // Kafka's co-partitioning enforcer does: its repartition topics of no
    // fixed count take the count of its other sources (a table's topic
    // that a re-keyed stream joins, say) or, if it has no other, the
    // largest among them.
    for sub in &subtopologies {
        let adjustable = |topic: &String| matches!(repartition.get(topic.as_str()), Some(None));
        let fixed: Vec<i32> = sub
            .sources
            .iter()
            .filter(|topic| !adjustable(topic))
            .filter_map(|topic| partitions.get(topic).copied())
            .collect();
        let adjusted: Vec<&String> = sub
            .sources
            .iter()
            .filter(|topic| adjustable(topic))
            .collect();
        let target = match fixed.first() {
            Some(&count) => Some(count),
            None => adjusted
                .iter()
                .filter_map(|topic| partitions.get(*topic).copied())
                .max(),
        };
        if let Some(count) = target {
            for topic in adjusted {
                partitions.insert(topic.clone(), count);
            }
        }
    }

    let mut layout = TopicLayout::default();
    for sub in &subtopologies {
        let Some(tasks) = tasks_of(sub, &partitions) else {
            let topic = sub
                .sources
                .iter()
                .find(|topic| !partitions.contains_key(*topic))
                .cloned()
                .unwrap_or_default();
            return Err(RuntimeError::InternalTopic {
                topic,
                reason: "its partition count cannot be derived from the topics feeding it"
                    .to_owned(),
            });
        };
        let count = |topic: &String| partitions.get(topic).copied().unwrap_or_default();
        if sub.sources.iter().any(|topic| count(topic) != tasks) {
            let counts = sub
                .sources
                .iter()
                .map(|topic| format!("{topic} ({})", count(topic)))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(RuntimeError::NotCopartitioned {
                subtopology: sub.id,
                counts,
            });
        }
        layout.tasks.insert(sub.id, tasks);
        for topic in &sub.sources {
            layout.readers.insert(topic.clone(), sub.id);
        }
        for changelog in &sub.changelogs {
            partitions.insert(changelog.clone(), tasks);
        }
    }

    let mut to_create = Vec::new();
    for topic in &internal {
        let name = topic.name();
        let wanted = partitions.get(name).copied().unwrap_or(1);
        match existing.get(name) {
            Some(&count) if count != wanted => {
                return Err(RuntimeError::InternalTopic {
                    topic: name.to_owned(),
                    reason: format!("it has {count} partitions where {wanted} are needed"),
                })
            }
            Some(_) => {}
            None => to_create.push(TopicToCreate {
                name: name.to_owned(),
                partitions: wanted,
                configs: topic.properties(DEFAULT_ADDITIONAL_CHANGELOG_RETENTION),
            }),
        }
    }
    layout.globals = globals
        .into_iter()
        .filter_map(|topic| Some((topic.clone(), *existing.get(&topic)?)))
        .collect();
    layout.repartition = repartition.keys().map(|name| (*name).to_owned()).collect();
    layout.partitions = partitions;
    Ok((layout, to_create))
}

/// Reads the cluster's topics with `admin`, plans the layout of `topology`
/// and creates its missing internal topics.
pub(crate) fn prepare(
    topology: &Topology,
    config: &StreamsConfig,
    admin: &AdminClient<DefaultClientContext>,
) -> Result<TopicLayout, RuntimeError> {
    let metadata = admin
        .inner()
        .fetch_metadata(None, ADMIN_TIMEOUT)
        .map_err(client("reading the cluster's topics"))?;
    let existing: HashMap<String, i32> = metadata
        .topics()
        .iter()
        .filter(|topic| topic.error().is_none())
        .filter_map(|topic| {
            Some((
                topic.name().to_owned(),
                i32::try_from(topic.partitions().len()).ok()?,
            ))
        })
        .collect();
    let (layout, to_create) = plan(topology, &config.application_id, &existing)?;
    if to_create.is_empty() {
        return Ok(layout);
    }
    let topics: Vec<NewTopic<'_>> = to_create
        .iter()
        .map(|topic| {
            topic.configs.iter().fold(
                NewTopic::new(&topic.name, topic.partitions, TopicReplication::Fixed(-1)),
                |new, (key, value)| new.set(key, value),
            )
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT));
    let results = block_on(admin.create_topics(&topics, &options))
        .map_err(client("creating internal topics"))?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(%topic, "created internal topic"),
            // Another instance of the application was first.
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(RuntimeError::InternalTopic {
                    topic,
                    reason: code.to_string(),
                })
            }
        }
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::state::Stores;
    use crate::topology::subtopology_topics::tests::PassThrough;

    /// `a` and `b` merged into the repartition topic `r1`, read by a
    /// stateful sub-topology that writes `out`, and into `r2` (with a
    /// fixed count when `fixed` is given).
    fn topology(fixed: Option<u32>) -> Result<Topology, TopologyError> {
        let serdes = || SourceOptions::new(UnitSerde, StringSerde);
        let sink = || SinkOptions::new(UnitSerde, StringSerde);
        let mut builder = TopologyBuilder::new();
        builder
            .add_source("a", &["a"], serdes())
            .add_source("b", &["b"], serdes())
            .add_sink("to-r1", "r1", sink(), &["a", "b"])
            .add_internal_topic("r1")
            .add_source("r1", &["r1"], serdes())
            .add_processor("keep", || PassThrough, &["r1"])
            .add_state_store(
                Stores::key_value_store_builder::<String, i64>("seen").in_memory(),
                &["keep"],
            )
            .add_sink("out", "out", sink(), &["keep"])
            .add_sink("to-r2", "r2", sink(), &["keep"])
            .add_internal_topic("r2")
            .add_source("r2", &["r2"], serdes())
            .add_sink("final", "final", sink(), &["r2"]);
        if let Some(count) = fixed {
            builder.set_internal_topic_partitions("r2", count);
        }
        builder.build()
    }

    fn existing(topics: &[(&str, i32)]) -> HashMap<String, i32> {
        topics
            .iter()
            .map(|(name, count)| ((*name).to_owned(), *count))
            .collect()
    }

    #[test]
    fn repartition_topics_take_the_largest_count_of_their_writers_down_a_chain(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let topology = topology(None)?;
        let (layout, created) = plan(&topology, "app", &existing(&[("a", 3), ("b", 3)]))?;
        assert_eq!(layout.tasks, BTreeMap::from([(0, 3), (1, 3), (2, 3)]));
        assert_eq!(layout.readers["app-r1"], 1);
        assert_eq!(layout.readers["a"], 0);
        let sizes: Vec<(&str, i32)> = created
            .iter()
            .map(|topic| (topic.name.as_str(), topic.partitions))
            .collect();
        assert_eq!(
            sizes,
            [("app-r1", 3), ("app-r2", 3), ("app-seen-changelog", 3)]
        );
        assert_eq!(created[0].configs["cleanup.policy"], "delete");
        assert_eq!(created[2].configs["cleanup.policy"], "compact");
        Ok(())
    }

    #[test]
    fn a_fixed_count_wins_and_existing_internal_topics_are_not_created_again(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let topology = topology(Some(5))?;
        let topics = existing(&[("a", 3), ("b", 3), ("app-r1", 3)]);
        let (layout, created) = plan(&topology, "app", &topics)?;
        assert_eq!(layout.tasks, BTreeMap::from([(0, 3), (1, 3), (2, 5)]));
        let names: Vec<&str> = created.iter().map(|topic| topic.name.as_str()).collect();
        assert_eq!(names, ["app-r2", "app-seen-changelog"]);
        assert_eq!(layout.partitions["app-r2"], 5);
        assert_eq!(layout.partitions["app-seen-changelog"], 3);
        Ok(())
    }

    /// `a` re-keyed through `r1`, read together with `t` (a join's two
    /// sides), and `b` and `c` re-keyed through `r2` and `r3`, read
    /// together.
    fn joins() -> Result<Topology, TopologyError> {
        let serdes = || SourceOptions::new(UnitSerde, StringSerde);
        let sink = || SinkOptions::new(UnitSerde, StringSerde);
        TopologyBuilder::new()
            .add_source("a", &["a"], serdes())
            .add_sink("to-r1", "r1", sink(), &["a"])
            .add_internal_topic("r1")
            .add_source("r1", &["r1"], serdes())
            .add_source("t", &["t"], serdes())
            .add_processor("join", || PassThrough, &["r1", "t"])
            .add_sink("out", "out", sink(), &["join"])
            .add_source("b", &["b"], serdes())
            .add_sink("to-r2", "r2", sink(), &["b"])
            .add_internal_topic("r2")
            .add_source("c", &["c"], serdes())
            .add_sink("to-r3", "r3", sink(), &["c"])
            .add_internal_topic("r3")
            .add_source("r2", &["r2"], serdes())
            .add_source("r3", &["r3"], serdes())
            .add_processor("merge", || PassThrough, &["r2", "r3"])
            .add_sink("out2", "out2", sink(), &["merge"])
            .build()
    }

    #[test]
    fn repartition_topics_take_the_count_of_the_topics_read_with_them(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let topics = existing(&[("a", 5), ("t", 3), ("b", 2), ("c", 4)]);
        let (layout, created) = plan(&joins()?, "app", &topics)?;
        let sizes: BTreeMap<&str, i32> = created
            .iter()
            .map(|topic| (topic.name.as_str(), topic.partitions))
            .collect();
        assert_eq!(
            sizes,
            BTreeMap::from([("app-r1", 3), ("app-r2", 4), ("app-r3", 4)])
        );
        assert_eq!(layout.tasks[&layout.readers["app-r1"]], 3);
        assert_eq!(layout.tasks[&layout.readers["app-r2"]], 4);
        assert_eq!(layout.tasks[&layout.readers["a"]], 5);
        Ok(())
    }

    #[test]
    fn missing_sources_unequal_counts_and_resized_internal_topics_are_refused(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let topology = topology(None)?;
        let missing = plan(&topology, "app", &existing(&[("a", 3)]));
        assert!(
            matches!(&missing, Err(RuntimeError::MissingSourceTopics(topics)) if topics == &["b"]),
            "{missing:?}"
        );
        let unequal = plan(&topology, "app", &existing(&[("a", 3), ("b", 2)]));
        assert!(
            matches!(&unequal, Err(RuntimeError::NotCopartitioned { subtopology: 0, counts }) if counts == "a (3), b (2)"),
            "{unequal:?}"
        );
        let resized = plan(
            &topology,
            "app",
            &existing(&[("a", 3), ("b", 3), ("app-r1", 4)]),
        );
        assert!(
            matches!(&resized, Err(RuntimeError::InternalTopic { topic, .. }) if topic == "app-r1"),
            "{resized:?}"
        );
        Ok(())
    }
}
