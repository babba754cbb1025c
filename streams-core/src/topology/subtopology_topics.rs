//! The topics each sub-topology reads and writes, as a runtime sees them:
//! what it sizes internal topics from and assigns partitions by.

use super::builder::{NodeKind, TopicNames, Topology};
use super::internal_topics::changelog_topic;

/// The topics of one sub-topology, internal ones by their full name
/// (`<application.id>-...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubtopologyTopics {
    /// The sub-topology's id, as `describe()` numbers it.
    pub(crate) id: usize,
    /// Every topic its sources read.
    pub(crate) sources: Vec<String>,
    /// The fixed topics its sinks write (a topic-name extractor's are
    /// known only per record).
    pub(crate) sinks: Vec<String>,
    /// The changelog topics of the stores its processors use.
    pub(crate) changelogs: Vec<String>,
}

impl Topology {
    /// The topics of every sub-topology tasks run (global stores' groups
    /// are not among them), by id.
    pub(crate) fn subtopology_topics(&self, application_id: &str) -> Vec<SubtopologyTopics> {
        let names = TopicNames {
            application_id,
            internal: &self.internal_topics,
        };
        let full_name = |topic: &String| names.resolve(topic).to_string();
        self.subtopologies
            .iter()
            .enumerate()
            .filter(|(id, _)| !self.global_subtopologies.contains(id))
            .map(|(id, members)| {
                let mut topics = SubtopologyTopics {
                    id,
                    sources: Vec::new(),
                    sinks: Vec::new(),
                    changelogs: Vec::new(),
                };
                for node in members.iter().map(|&member| &self.nodes[member]) {
                    match &node.kind {
                        NodeKind::Source { topics: read, .. } => {
                            topics.sources.extend(read.iter().map(full_name));
                        }
                        NodeKind::Sink {
                            topic: Some(topic), ..
                        } => topics.sinks.push(full_name(topic)),
                        NodeKind::Sink { topic: None, .. } => {}
                        NodeKind::Processor { stores } => {
                            let logged = self.stores.iter().filter(|store| {
                                stores.contains(&store.name) && store.builder.changelog().is_some()
                            });
                            for store in logged {
                                let changelog = changelog_topic(application_id, &store.name);
                                if !topics.changelogs.contains(&changelog) {
                                    topics.changelogs.push(changelog);
                                }
                            }
                        }
                    }
                }
                topics
            })
            .collect()
    }

    /// The topics global stores are read from (a `GlobalKTable`'s, say):
    /// every instance reads all their partitions.
    pub(crate) fn global_topics(&self) -> Vec<String> {
        self.global_subtopologies
            .iter()
            .filter_map(|&id| self.subtopologies.get(id))
            .flatten()
            .filter_map(|&member| match &self.nodes[member].kind {
                NodeKind::Source { topics, .. } => Some(topics.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::state::Stores;

    /// Forwards what it gets: a processor for topologies whose shape is
    /// what a test is about.
    pub(crate) struct PassThrough;

    impl Processor<(), String, (), String> for PassThrough {
        fn process(
            &mut self,
            ctx: &mut ProcessorContext<'_, (), String>,
            record: Record<(), String>,
        ) -> Result<(), StreamsError> {
            ctx.forward(record)
        }
    }

    #[test]
    fn sub_topologies_list_their_topics_with_internal_ones_prefixed_and_globals_apart(
    ) -> Result<(), StreamsError> {
        let mut builder = TopologyBuilder::new();
        builder
            .add_source(
                "lines",
                &["text"],
                SourceOptions::new(UnitSerde, StringSerde),
            )
            .add_sink(
                "to-repartition",
                "words-repartition",
                SinkOptions::new(UnitSerde, StringSerde),
                &["lines"],
            )
            .add_internal_topic("words-repartition")
            .add_source(
                "words",
                &["words-repartition"],
                SourceOptions::new(UnitSerde, StringSerde),
            )
            .add_processor("keep", || PassThrough, &["words"])
            .add_state_store(
                Stores::key_value_store_builder::<String, i64>("seen").in_memory(),
                &["keep"],
            )
            .add_sink(
                "out",
                "counts",
                SinkOptions::new(UnitSerde, StringSerde),
                &["keep"],
            )
            .add_global_store(
                Stores::key_value_store_builder::<String, String>("reference")
                    .in_memory()
                    .with_logging_disabled(),
                "reference-source",
                "reference",
                SourceOptions::new(UnitSerde, StringSerde),
                "reference-update",
                || PassThrough,
            );
        let topology = builder.build()?;
        let topics = topology.subtopology_topics("app");
        assert_eq!(
            topics,
            [
                SubtopologyTopics {
                    id: 0,
                    sources: vec!["text".to_owned()],
                    sinks: vec!["app-words-repartition".to_owned()],
                    changelogs: vec![],
                },
                SubtopologyTopics {
                    id: 1,
                    sources: vec!["app-words-repartition".to_owned()],
                    sinks: vec!["counts".to_owned()],
                    changelogs: vec!["app-seen-changelog".to_owned()],
                },
            ]
        );
        assert_eq!(topology.global_topics(), ["reference"]);
        Ok(())
    }
}
