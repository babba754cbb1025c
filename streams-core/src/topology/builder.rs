//! Building and validating topologies.

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::marker::PhantomData;
use std::sync::Arc;

use super::describe::{self, TopologyDescription};
use super::internal_topics::{changelog_topic, InternalTopic, InternalTopicKind};
use super::nodes::ProcessorNode;
use super::sink::{SinkNode, SinkOptions, SinkTopic};
use super::source::{OffsetReset, SourceNode, SourceOptions, TimestampExtractor};
use crate::engine::{Children, NodeInfo, NodeInstance};
use crate::error::TopologyError;
use crate::processor::Processor;
use crate::record::{Record, TopicName};
use crate::state::{ErasedStoreBuilder, StoreBuilder};

type NodeFactory = Arc<dyn Fn(&TopicNames, NodeInfo) -> NodeInstance + Send + Sync>;

/// Resolves topic names for a running task: internal topics (repartition
/// topics) are prefixed with the application id, as Kafka Streams does.
pub(crate) struct TopicNames<'a> {
    pub(crate) application_id: &'a str,
    pub(crate) internal: &'a BTreeSet<String>,
}

impl TopicNames<'_> {
    pub(crate) fn resolve(&self, topic: &str) -> TopicName {
        if self.internal.contains(topic) {
            TopicName::from(format!("{}-{topic}", self.application_id))
        } else {
            TopicName::new(topic)
        }
    }
}

/// The record type a node takes or forwards, for checking links.
#[derive(Clone, Copy)]
struct RecordType {
    id: TypeId,
    name: &'static str,
}

impl RecordType {
    fn of<K: 'static, V: 'static>() -> Self {
        Self {
            id: TypeId::of::<Record<K, V>>(),
            name: std::any::type_name::<Record<K, V>>(),
        }
    }
}

/// What kind of node a definition is, with what `describe()` prints of it.
#[derive(Clone)]
pub(crate) enum NodeKind {
    Source {
        topics: Vec<String>,
        timestamp_extractor: Option<Arc<dyn TimestampExtractor>>,
        offset_reset: Option<OffsetReset>,
    },
    Processor {
        stores: Vec<String>,
    },
    Sink {
        /// The fixed topic, or `None` when a topic-name extractor chooses.
        topic: Option<String>,
        extractor: &'static str,
    },
}

#[derive(Clone)]
pub(crate) struct NodeDef {
    pub(crate) name: String,
    pub(crate) parents: Vec<String>,
    pub(crate) kind: NodeKind,
    input: Option<RecordType>,
    output: Option<RecordType>,
    pub(crate) factory: NodeFactory,
}

/// A state store of the topology and the processors that use it.
#[derive(Clone)]
pub(crate) struct StoreDef {
    pub(crate) name: String,
    pub(crate) builder: Arc<dyn ErasedStoreBuilder>,
    /// A global store: every processor of a task may read it, and it does
    /// not join the sub-topologies of its readers.
    pub(crate) global: bool,
}

/// Records sources, processors, sinks and stores; [`build`](Self::build)
/// checks them and yields a [`Topology`].
///
/// Errors found while adding (a duplicate name, say) are kept and reported
/// by `build`, so calls chain.
///
/// ```
/// use streams_core::prelude::*;
///
/// struct Upper;
/// impl Processor<String, String, String, String> for Upper {
///     fn process(
///         &mut self,
///         ctx: &mut ProcessorContext<'_, String, String>,
///         record: Record<String, String>,
///     ) -> Result<(), StreamsError> {
///         let upper = record.value.to_uppercase();
///         ctx.forward(record.with_value(upper))
///     }
/// }
///
/// let topology = TopologyBuilder::new()
///     .add_source("in", &["words"], SourceOptions::new(StringSerde, StringSerde))
///     .add_processor("upper", || Upper, &["in"])
///     .add_sink("out", "shouted", SinkOptions::new(StringSerde, StringSerde), &["upper"])
///     .build()?;
/// assert!(topology.describe().to_string().contains("Processor: upper (stores: [])"));
/// # Ok::<(), TopologyError>(())
/// ```
#[derive(Default)]
pub struct TopologyBuilder {
    nodes: Vec<NodeDef>,
    stores: Vec<StoreDef>,
    connections: Vec<(String, String)>,
    internal_topics: BTreeSet<String>,
    /// The partition counts fixed for some internal topics.
    internal_partitions: BTreeMap<String, u32>,
    /// The sources and processors of global stores.
    global_nodes: BTreeSet<String>,
    error: Option<TopologyError>,
}

impl TopologyBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, error: TopologyError) -> &mut Self {
        self.error.get_or_insert(error);
        self
    }

    fn add_node(&mut self, def: NodeDef) -> &mut Self {
        if self.nodes.iter().any(|node| node.name == def.name) {
            return self.fail(TopologyError::DuplicateNode(def.name));
        }
        self.nodes.push(def);
        self
    }

    /// Adds a source named `name` reading `topics`.
    pub fn add_source<K, V>(
        &mut self,
        name: &str,
        topics: &[&str],
        options: SourceOptions<K, V>,
    ) -> &mut Self
    where
        K: Clone + 'static,
        V: Clone + 'static,
    {
        if topics.is_empty() {
            return self.fail(TopologyError::NoTopics(name.to_owned()));
        }
        let SourceOptions {
            key,
            value,
            timestamp_extractor,
            offset_reset,
        } = options;
        self.add_node(NodeDef {
            name: name.to_owned(),
            parents: Vec::new(),
            kind: NodeKind::Source {
                topics: topics.iter().map(|topic| (*topic).to_owned()).collect(),
                timestamp_extractor,
                offset_reset,
            },
            input: Some(RecordType::of::<Option<Vec<u8>>, Option<Vec<u8>>>()),
            output: Some(RecordType::of::<K, V>()),
            factory: Arc::new(move |_, info| {
                NodeInstance::new(SourceNode {
                    info,
                    key: key.clone(),
                    value: value.clone(),
                    children: Children::default(),
                })
            }),
        })
    }

    /// Adds a processor named `name`, a child of `parents`. `supplier` makes
    /// a new processor instance for every task.
    pub fn add_processor<KIn, VIn, KOut, VOut, P>(
        &mut self,
        name: &str,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        parents: &[&str],
    ) -> &mut Self
    where
        P: Processor<KIn, VIn, KOut, VOut>,
        KIn: 'static,
        VIn: 'static,
        KOut: Clone + 'static,
        VOut: Clone + 'static,
    {
        if parents.is_empty() {
            return self.fail(TopologyError::NoParent(name.to_owned()));
        }
        self.add_node(NodeDef {
            name: name.to_owned(),
            parents: parents.iter().map(|parent| (*parent).to_owned()).collect(),
            kind: NodeKind::Processor { stores: Vec::new() },
            input: Some(RecordType::of::<KIn, VIn>()),
            output: Some(RecordType::of::<KOut, VOut>()),
            factory: Arc::new(move |_, info| {
                NodeInstance::new(ProcessorNode {
                    info,
                    processor: supplier(),
                    children: Children::default(),
                    _input: PhantomData,
                })
            }),
        })
    }

    /// Adds a sink named `name` writing what `parents` forward to `topic`.
    pub fn add_sink<K: 'static, V: 'static>(
        &mut self,
        name: &str,
        topic: impl Into<SinkTopic<K, V>>,
        options: SinkOptions<K, V>,
        parents: &[&str],
    ) -> &mut Self {
        if parents.is_empty() {
            return self.fail(TopologyError::NoParent(name.to_owned()));
        }
        let topic = Arc::new(topic.into());
        let (fixed, extractor) = match &*topic {
            SinkTopic::Fixed(topic) => (Some(topic.clone()), ""),
            SinkTopic::Extractor(extractor) => (None, extractor.type_name()),
        };
        let options = Arc::new(options);
        self.add_node(NodeDef {
            name: name.to_owned(),
            parents: parents.iter().map(|parent| (*parent).to_owned()).collect(),
            kind: NodeKind::Sink {
                topic: fixed,
                extractor,
            },
            input: Some(RecordType::of::<K, V>()),
            output: None,
            factory: Arc::new(move |names, info| {
                NodeInstance::new(SinkNode {
                    info,
                    topic: match &*topic {
                        SinkTopic::Fixed(fixed) => Some(names.resolve(fixed)),
                        SinkTopic::Extractor(_) => None,
                    },
                    extractor: topic.clone(),
                    options: options.clone(),
                })
            }),
        })
    }

    /// Adds a state store and connects it to `processors`.
    pub fn add_state_store(
        &mut self,
        builder: impl StoreBuilder,
        processors: &[&str],
    ) -> &mut Self {
        let name = builder.name().to_owned();
        if self.stores.iter().any(|store| store.name == name) {
            return self.fail(TopologyError::DuplicateStore(name));
        }
        self.stores.push(StoreDef {
            name: name.clone(),
            builder: Arc::new(builder),
            global: false,
        });
        self.connect_processor_and_stores_inner(processors, &name);
        self
    }

    /// Adds a global store, as Kafka Streams' `addGlobalStore`: the source
    /// `source` reads `topic` and hands every record to the processor
    /// `processor`, which keeps `store` up to date. The three form a node
    /// group of their own that `describe()` prints as a global store; the
    /// processor may have no children. Every processor of the topology may
    /// read the store without being connected to it. The topic itself is
    /// the store's changelog, so the store must not log.
    pub fn add_global_store<K, V, KOut, VOut, P>(
        &mut self,
        store: impl StoreBuilder,
        source: &str,
        topic: &str,
        options: SourceOptions<K, V>,
        processor: &str,
        supplier: impl Fn() -> P + Send + Sync + 'static,
    ) -> &mut Self
    where
        K: Clone + 'static,
        V: Clone + 'static,
        KOut: Clone + 'static,
        VOut: Clone + 'static,
        P: Processor<K, V, KOut, VOut>,
    {
        let name = store.name().to_owned();
        if store.changelog().is_some() {
            return self.fail(TopologyError::GlobalStoreLogging(name));
        }
        self.add_source(source, &[topic], options)
            .add_processor(processor, supplier, &[source])
            .add_state_store(store, &[processor]);
        if let Some(def) = self.stores.iter_mut().find(|def| def.name == name) {
            def.global = true;
        }
        self.global_nodes.insert(source.to_owned());
        self.global_nodes.insert(processor.to_owned());
        self
    }

    /// Moves the nodes `roots`, and every node below them, after all the
    /// others, keeping their order among themselves. The order nodes are
    /// added in numbers the sub-topologies, as the order Kafka Streams
    /// writes its graph nodes in numbers its node groups; the DSL moves a
    /// repartition topic's nodes when an aggregation reads the topic again,
    /// as Kafka writes a graph node added again after those added since.
    pub fn move_to_end(&mut self, roots: &[&str]) -> &mut Self {
        let mut moved: BTreeSet<String> = roots.iter().map(|&root| root.to_owned()).collect();
        // Parents may be added after their children: repeat until stable.
        loop {
            let before = moved.len();
            for node in &self.nodes {
                if node.parents.iter().any(|parent| moved.contains(parent)) {
                    moved.insert(node.name.clone());
                }
            }
            if moved.len() == before {
                break;
            }
        }
        let (last, first): (Vec<NodeDef>, Vec<NodeDef>) = std::mem::take(&mut self.nodes)
            .into_iter()
            .partition(|node| moved.contains(&node.name));
        self.nodes = first;
        self.nodes.extend(last);
        self
    }

    fn connect_processor_and_stores_inner(&mut self, processors: &[&str], store: &str) {
        for processor in processors {
            self.connections
                .push(((*processor).to_owned(), store.to_owned()));
        }
    }

    /// Connects `processor` to stores that were added already.
    pub fn connect_processor_and_stores(&mut self, processor: &str, stores: &[&str]) -> &mut Self {
        for store in stores {
            self.connect_processor_and_stores_inner(&[processor], store);
        }
        self
    }

    /// Marks `topic` as internal to the application (a repartition topic):
    /// tasks read and write it as `<application.id>-<topic>`.
    pub fn add_internal_topic(&mut self, topic: &str) -> &mut Self {
        self.internal_topics.insert(topic.to_owned());
        self
    }

    /// Fixes the partition count of the internal topic `topic` (as
    /// `repartition()` with a count does); others are sized from the
    /// topics that feed them.
    pub fn set_internal_topic_partitions(&mut self, topic: &str, partitions: u32) -> &mut Self {
        self.internal_partitions
            .insert(topic.to_owned(), partitions);
        self
    }

    /// The nodes whose records reach `node` directly: its parents, or for a
    /// source, the sinks that write its internal (repartition) topics; none
    /// for a source of external topics. `None` if there is no such node.
    pub fn upstream(&self, node: &str) -> Option<Vec<&str>> {
        let def = self.nodes.iter().find(|def| def.name == node)?;
        let NodeKind::Source { topics, .. } = &def.kind else {
            return Some(def.parents.iter().map(String::as_str).collect());
        };
        let internal: Vec<&String> = topics
            .iter()
            .filter(|topic| self.internal_topics.contains(*topic))
            .collect();
        let writers = self.nodes.iter().filter(|def| {
            matches!(&def.kind, NodeKind::Sink { topic: Some(topic), .. } if internal.contains(&topic))
        });
        Some(writers.map(|def| def.name.as_str()).collect())
    }

    /// Validates everything and builds the topology.
    pub fn build(&mut self) -> Result<Topology, TopologyError> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let mut nodes = self.nodes.clone();
        let index: HashMap<&str, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| (node.name.as_str(), i))
            .collect();
        if !nodes
            .iter()
            .any(|node| matches!(node.kind, NodeKind::Source { .. }))
        {
            return Err(TopologyError::Empty);
        }
        check_topics(&nodes)?;
        check_parents(&nodes, &index)?;
        // Store connections, in the order they were made.
        for (processor, store) in &self.connections {
            let node = index
                .get(processor.as_str())
                .map(|&i| &mut nodes[i])
                .ok_or_else(|| TopologyError::UnknownStore {
                    processor: processor.clone(),
                    store: store.clone(),
                })?;
            match self.stores.iter().find(|s| &s.name == store) {
                None => {
                    return Err(TopologyError::UnknownStore {
                        processor: processor.clone(),
                        store: store.clone(),
                    })
                }
                // The global store's own processor keeps it up to date.
                Some(def) if def.global && !self.global_nodes.contains(processor) => {
                    return Err(TopologyError::GlobalStoreConnected {
                        processor: processor.clone(),
                        store: store.clone(),
                    })
                }
                Some(_) => {}
            }
            match &mut node.kind {
                NodeKind::Processor { stores } if !stores.contains(store) => {
                    stores.push(store.clone())
                }
                NodeKind::Processor { .. } => {}
                _ => {
                    return Err(TopologyError::StoreOnNonProcessor {
                        store: store.clone(),
                        node: processor.clone(),
                    })
                }
            }
        }
        // A store no processor uses is part of no task, as in Kafka: it is
        // never built, and has no changelog.
        let stores: Vec<StoreDef> = self
            .stores
            .iter()
            .filter(|store| {
                nodes.iter().any(|node| {
                    matches!(&node.kind, NodeKind::Processor { stores } if stores.contains(&store.name))
                })
            })
            .cloned()
            .collect();
        check_acyclic(&nodes, &index)?;
        self.check_global_children(&nodes)?;
        let subtopologies = group_subtopologies(&nodes, &index, &stores);
        let global_subtopologies = subtopologies
            .iter()
            .enumerate()
            .filter(|(_, members)| {
                members
                    .iter()
                    .any(|&m| self.global_nodes.contains(&nodes[m].name))
            })
            .map(|(id, _)| id)
            .collect();
        Ok(Topology {
            nodes,
            stores,
            subtopologies,
            global_subtopologies,
            internal_topics: self.internal_topics.clone(),
            internal_partitions: self.internal_partitions.clone(),
        })
    }

    /// Only a global store's own processor may follow its source, and its
    /// processor has no children: the group never runs as a stream task.
    fn check_global_children(&self, nodes: &[NodeDef]) -> Result<(), TopologyError> {
        for node in nodes {
            if self.global_nodes.contains(&node.name) {
                continue;
            }
            if let Some(parent) = node
                .parents
                .iter()
                .find(|parent| self.global_nodes.contains(*parent))
            {
                return Err(TopologyError::GlobalStoreChild {
                    node: node.name.clone(),
                    parent: parent.clone(),
                });
            }
        }
        Ok(())
    }
}

fn check_topics(nodes: &[NodeDef]) -> Result<(), TopologyError> {
    let mut readers: HashMap<&str, &str> = HashMap::new();
    for node in nodes {
        if let NodeKind::Source { topics, .. } = &node.kind {
            for topic in topics {
                if let Some(existing) = readers.insert(topic, &node.name) {
                    return Err(TopologyError::TopicAlreadyRead {
                        topic: topic.clone(),
                        source_node: existing.to_owned(),
                    });
                }
            }
        }
    }
    Ok(())
}

fn check_parents(nodes: &[NodeDef], index: &HashMap<&str, usize>) -> Result<(), TopologyError> {
    for node in nodes {
        for parent_name in &node.parents {
            let parent = index
                .get(parent_name.as_str())
                .map(|&i| &nodes[i])
                .ok_or_else(|| TopologyError::UnknownParent {
                    node: node.name.clone(),
                    parent: parent_name.clone(),
                })?;
            let Some(output) = parent.output else {
                return Err(TopologyError::SinkAsParent {
                    node: node.name.clone(),
                    parent: parent_name.clone(),
                });
            };
            if let Some(input) = node.input {
                if input.id != output.id {
                    return Err(TopologyError::TypeMismatch {
                        parent: parent_name.clone(),
                        child: node.name.clone(),
                        expected: input.name,
                        actual: output.name,
                    });
                }
            }
        }
    }
    Ok(())
}

fn check_acyclic(nodes: &[NodeDef], index: &HashMap<&str, usize>) -> Result<(), TopologyError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    fn visit(
        node: usize,
        nodes: &[NodeDef],
        index: &HashMap<&str, usize>,
        marks: &mut [Mark],
    ) -> Result<(), TopologyError> {
        match marks[node] {
            Mark::Done => return Ok(()),
            Mark::Visiting => return Err(TopologyError::Cycle(nodes[node].name.clone())),
            Mark::New => {}
        }
        marks[node] = Mark::Visiting;
        for parent in &nodes[node].parents {
            if let Some(&p) = index.get(parent.as_str()) {
                visit(p, nodes, index, marks)?;
            }
        }
        marks[node] = Mark::Done;
        Ok(())
    }
    let mut marks = vec![Mark::New; nodes.len()];
    (0..nodes.len()).try_for_each(|node| visit(node, nodes, index, &mut marks))
}

/// Splits nodes into sub-topologies: the connected components of the parent
/// links and of processors sharing a (non-global) store, numbered in the
/// order their first node was added, as Kafka Streams numbers them.
fn group_subtopologies(
    nodes: &[NodeDef],
    index: &HashMap<&str, usize>,
    store_defs: &[StoreDef],
) -> Vec<Vec<usize>> {
    let global = |name: &str| store_defs.iter().any(|s| s.global && s.name == name);
    let mut root: Vec<usize> = (0..nodes.len()).collect();
    fn find(root: &mut [usize], mut node: usize) -> usize {
        while root[node] != node {
            root[node] = root[root[node]];
            node = root[node];
        }
        node
    }
    let union = |root: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (find(root, a), find(root, b));
        root[ra.max(rb)] = ra.min(rb);
    };
    let mut store_users: HashMap<&str, usize> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        for parent in &node.parents {
            if let Some(&p) = index.get(parent.as_str()) {
                union(&mut root, i, p);
            }
        }
        if let NodeKind::Processor { stores } = &node.kind {
            for store in stores.iter().filter(|store| !global(store)) {
                match store_users.get(store.as_str()) {
                    Some(&other) => union(&mut root, i, other),
                    None => {
                        store_users.insert(store, i);
                    }
                }
            }
        }
    }
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for node in 0..nodes.len() {
        let r = find(&mut root, node);
        match groups.iter_mut().find(|(group_root, _)| *group_root == r) {
            Some((_, members)) => members.push(node),
            None => groups.push((r, vec![node])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// A validated topology: the nodes and stores from which tasks are built.
#[derive(Clone)]
pub struct Topology {
    pub(crate) nodes: Vec<NodeDef>,
    pub(crate) stores: Vec<StoreDef>,
    /// Node indices of each sub-topology, by sub-topology id.
    pub(crate) subtopologies: Vec<Vec<usize>>,
    /// The ids of the node groups that are global stores.
    pub(crate) global_subtopologies: BTreeSet<usize>,
    pub(crate) internal_topics: BTreeSet<String>,
    pub(crate) internal_partitions: BTreeMap<String, u32>,
}

impl Topology {
    /// The Kafka Streams-style description of this topology.
    pub fn describe(&self) -> TopologyDescription {
        describe::describe(self)
    }

    /// Every topic a source of this topology reads.
    pub fn source_topics(&self) -> BTreeSet<String> {
        self.nodes
            .iter()
            .filter_map(|node| match &node.kind {
                NodeKind::Source { topics, .. } => Some(topics.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The internal (repartition) topics, without the application-id prefix.
    pub fn internal_topics(&self) -> &BTreeSet<String> {
        &self.internal_topics
    }

    /// Every topic the application `application_id` creates for itself:
    /// the repartition topics, then the changelogs of the stores that log
    /// (in the order the stores were added), each with what decides its
    /// topic configs.
    pub fn internal_topic_configs(&self, application_id: &str) -> Vec<InternalTopic> {
        let repartition = self.internal_topics.iter().map(|topic| {
            InternalTopic::new(
                format!("{application_id}-{topic}"),
                InternalTopicKind::Repartition {
                    partitions: self.internal_partitions.get(topic).copied(),
                },
            )
        });
        let changelogs = self.stores.iter().filter_map(|store| {
            let config = store.builder.changelog()?;
            Some(InternalTopic::new(
                changelog_topic(application_id, &store.name),
                InternalTopicKind::Changelog(config),
            ))
        });
        repartition.chain(changelogs).collect()
    }

    /// Where the source reading `topic` starts without a committed offset,
    /// if it chose.
    pub fn offset_reset(&self, topic: &str) -> Option<OffsetReset> {
        self.nodes.iter().find_map(|node| match &node.kind {
            NodeKind::Source {
                topics,
                offset_reset,
                ..
            } if topics.iter().any(|t| t == topic) => *offset_reset,
            _ => None,
        })
    }

    /// The changelog topics of the stores that log, for `application_id`.
    pub fn changelog_topics(&self, application_id: &str) -> Vec<String> {
        self.stores
            .iter()
            .filter(|store| store.builder.changelog().is_some())
            .map(|store| changelog_topic(application_id, &store.name))
            .collect()
    }

    /// The number of sub-topologies.
    pub fn subtopology_count(&self) -> usize {
        self.subtopologies.len()
    }

    /// The names of the state stores.
    pub fn store_names(&self) -> Vec<&str> {
        self.stores
            .iter()
            .map(|store| store.name.as_str())
            .collect()
    }
}
