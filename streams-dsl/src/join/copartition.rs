//! Co-partitioning: the inputs of a join must have the same number of
//! partitions, so that equal keys meet in the same task.
//!
//! Kafka Streams checks this when partitions are assigned, against the
//! broker's metadata. Here the check runs in `StreamsBuilder::build` for
//! the topics whose partition counts the program declared
//! ([`StreamsBuilder::declare_topic_partitions`](crate::StreamsBuilder::declare_topic_partitions));
//! topics of unknown size, such as repartition topics, are sized to match
//! at run time, as Kafka sizes repartition topics of a join.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use streams_core::topology::{NodeDescriptionKind, TopologyDescription};
use streams_core::TopologyError;

use crate::builder::StreamsBuilder;

/// What the builder knows about partition counts and which join inputs
/// must agree on them.
#[derive(Debug, Default)]
pub(crate) struct Copartitioning {
    /// Partition counts declared for topics.
    declared: BTreeMap<String, u32>,
    /// Groups of nodes whose source topics must be co-partitioned.
    groups: Vec<Vec<String>>,
}

impl Copartitioning {
    /// Declares that `topic` has `partitions` partitions.
    pub(crate) fn declare(&mut self, topic: &str, partitions: u32) {
        self.declared.insert(topic.to_owned(), partitions);
    }

    /// Requires the source topics feeding `nodes` to be co-partitioned.
    pub(crate) fn require(&mut self, nodes: &[&str]) {
        self.groups
            .push(nodes.iter().map(|node| (*node).to_owned()).collect());
    }

    /// Fails if the source topics of some group have different declared
    /// partition counts.
    pub(crate) fn check(&self, description: &TopologyDescription) -> Result<(), TopologyError> {
        let nodes: HashMap<&str, (&NodeDescriptionKind, &[String])> = description
            .subtopologies()
            .iter()
            .flat_map(|subtopology| &subtopology.nodes)
            .map(|node| {
                (
                    node.name.as_str(),
                    (&node.kind, node.predecessors.as_slice()),
                )
            })
            .collect();
        for group in &self.groups {
            let mut topics = BTreeSet::new();
            for node in group {
                source_topics(&nodes, node, &mut BTreeSet::new(), &mut topics);
            }
            let known: BTreeMap<String, u32> = topics
                .into_iter()
                .filter_map(|topic| Some((topic.clone(), *self.declared.get(&topic)?)))
                .collect();
            let mut counts = known.values();
            if let Some(first) = counts.next() {
                if counts.any(|count| count != first) {
                    return Err(TopologyError::NotCopartitioned { partitions: known });
                }
            }
        }
        Ok(())
    }
}

/// Collects the topics of the sources upstream of `node`.
fn source_topics(
    nodes: &HashMap<&str, (&NodeDescriptionKind, &[String])>,
    node: &str,
    seen: &mut BTreeSet<String>,
    topics: &mut BTreeSet<String>,
) {
    if !seen.insert(node.to_owned()) {
        return;
    }
    let Some((kind, predecessors)) = nodes.get(node) else {
        return;
    };
    if let NodeDescriptionKind::Source(source_topics) = kind {
        topics.extend(source_topics.iter().cloned());
    }
    for predecessor in predecessors.iter() {
        source_topics(nodes, predecessor, seen, topics);
    }
}

impl StreamsBuilder {
    /// Declares that `topic` has `partitions` partitions, so that
    /// [`build`](Self::build) can refuse joins of topics that are not
    /// co-partitioned (with [`TopologyError::NotCopartitioned`]) instead of
    /// failing when the application starts.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::TopologyError;
    /// use streams_dsl::{JoinWindows, StreamsBuilder};
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.declare_topic_partitions("orders", 6);
    /// builder.declare_topic_partitions("payments", 3);
    /// let orders = builder.stream::<String, String>("orders");
    /// let payments = builder.stream::<String, String>("payments");
    /// orders
    ///     .join(
    ///         &payments,
    ///         |order, payment| format!("{order}/{payment}"),
    ///         JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(60)),
    ///     )
    ///     .to("paid-orders");
    /// assert!(matches!(builder.build(), Err(TopologyError::NotCopartitioned { .. })));
    /// ```
    pub fn declare_topic_partitions(&self, topic: &str, partitions: u32) -> &Self {
        self.builder
            .copartitioning(|copartitioning| copartitioning.declare(topic, partitions));
        self
    }
}
