//! `describe()`: the topology in Kafka Streams' `TopologyDescription` text.
//!
//! The text must match Kafka Streams' line for line so users can paste it
//! into the visualizers they know. Kafka orders the nodes of a sub-topology
//! by the size of the sub-graph below each node, and that size is computed
//! while walking a `java.util.HashMap`; successor and predecessor lists are
//! `TreeSet`s ordered by that (still changing) size. To print the same order
//! this module reproduces Java's `String.hashCode` and `HashMap` iteration
//! order, and fills the sets through the same red-black tree
//! ([`JavaTreeSet`]).

use std::cmp::Ordering;
use std::fmt;

use super::builder::{NodeKind, Topology};
use super::java_tree_set::JavaTreeSet;

/// The printable description of a topology; `Display` gives Kafka's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyDescription {
    subtopologies: Vec<SubtopologyDescription>,
}

/// One sub-topology of a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtopologyDescription {
    /// The sub-topology id.
    pub id: usize,
    /// Whether this node group keeps a global store (a source and the
    /// processor that updates the store), which runs in no stream task.
    pub global_store: bool,
    /// Its nodes, in Kafka's print order.
    pub nodes: Vec<NodeDescription>,
}

/// One node of a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDescription {
    /// The node name.
    pub name: String,
    /// What kind of node it is, and its topics or stores.
    pub kind: NodeDescriptionKind,
    /// Successor names, in print order.
    pub successors: Vec<String>,
    /// Predecessor names, in print order.
    pub predecessors: Vec<String>,
}

/// The kind of a described node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeDescriptionKind {
    /// A source and its topics.
    Source(Vec<String>),
    /// A processor and its stores.
    Processor(Vec<String>),
    /// A sink and its fixed topic, or the extractor that picks topics.
    Sink(SinkTarget),
}

/// Where a described sink writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkTarget {
    /// A fixed topic.
    Topic(String),
    /// A topic-name extractor, by type name.
    Extractor(String),
}

impl TopologyDescription {
    /// The sub-topologies, by id.
    pub fn subtopologies(&self) -> &[SubtopologyDescription] {
        &self.subtopologies
    }
}

/// Java's `String.hashCode` over UTF-16 code units.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The order in which a `java.util.HashMap`/`HashSet` of `names`, filled in
/// this order, iterates: by bucket of the final table, then insertion order.
fn java_hash_order<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let names: Vec<&str> = names.into_iter().collect();
    let mut capacity = 16usize;
    while names.len() > capacity * 3 / 4 {
        capacity *= 2;
    }
    let bucket = |name: &str| {
        let h = java_hash(name) as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut ordered: Vec<(usize, usize, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (bucket(name), i, *name))
        .collect();
    ordered.sort_unstable();
    ordered.dedup_by(|a, b| a.2 == b.2);
    ordered.into_iter().map(|(_, _, name)| name).collect()
}

/// Java's `Set.toString()` of a `HashSet` of `items`.
fn java_set_string(items: &[String]) -> String {
    let ordered = java_hash_order(items.iter().map(String::as_str));
    format!("[{}]", ordered.join(", "))
}

struct Working {
    name: String,
    size: usize,
    predecessors: JavaTreeSet,
    successors: JavaTreeSet,
}

/// Kafka's node order: larger sub-graph first, then by name.
fn compare(nodes: &[Working], a: usize, b: usize) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    nodes[b]
        .size
        .cmp(&nodes[a].size)
        .then_with(|| nodes[a].name.cmp(&nodes[b].name))
}

fn add_size(nodes: &mut [Working], node: usize, delta: usize) {
    nodes[node].size += delta;
    for predecessor in nodes[node].predecessors.items() {
        add_size(nodes, predecessor, delta);
    }
}

pub(super) fn describe(topology: &Topology) -> TopologyDescription {
    let subtopologies = topology
        .subtopologies
        .iter()
        .enumerate()
        .map(|(id, members)| describe_subtopology(topology, id, members))
        .collect();
    TopologyDescription { subtopologies }
}

fn describe_subtopology(
    topology: &Topology,
    id: usize,
    members: &[usize],
) -> SubtopologyDescription {
    let defs: Vec<_> = members.iter().map(|&m| &topology.nodes[m]).collect();
    let mut nodes: Vec<Working> = defs
        .iter()
        .map(|def| Working {
            name: def.name.clone(),
            size: 1,
            predecessors: JavaTreeSet::default(),
            successors: JavaTreeSet::default(),
        })
        .collect();
    let position = |name: &str| defs.iter().position(|def| def.name == name);
    // Link nodes in HashMap order, growing sizes as Kafka does.
    for name in java_hash_order(defs.iter().map(|def| def.name.as_str())) {
        let Some(node) = position(name) else { continue };
        for parent in &defs[node].parents {
            let Some(parent) = position(parent) else {
                continue;
            };
            // Each set compares with the sizes as they are now; its
            // elements keep the places they got when inserted.
            let mut predecessors = std::mem::take(&mut nodes[node].predecessors);
            predecessors.insert(parent, |a, b| compare(&nodes, a, b));
            nodes[node].predecessors = predecessors;
            let mut successors = std::mem::take(&mut nodes[parent].successors);
            successors.insert(node, |a, b| compare(&nodes, a, b));
            nodes[parent].successors = successors;
            let delta = nodes[node].size;
            add_size(&mut nodes, parent, delta);
        }
    }
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by(|&a, &b| compare(&nodes, a, b));
    let names = |set: &JavaTreeSet| {
        set.items()
            .into_iter()
            .map(|i| nodes[i].name.clone())
            .collect()
    };
    let described = order
        .iter()
        .map(|&i| NodeDescription {
            name: nodes[i].name.clone(),
            kind: match &defs[i].kind {
                NodeKind::Source { topics, .. } => NodeDescriptionKind::Source(topics.clone()),
                NodeKind::Processor { stores } => NodeDescriptionKind::Processor(stores.clone()),
                NodeKind::Sink {
                    topic: Some(topic), ..
                } => NodeDescriptionKind::Sink(SinkTarget::Topic(topic.clone())),
                NodeKind::Sink { extractor, .. } => {
                    NodeDescriptionKind::Sink(SinkTarget::Extractor((*extractor).to_owned()))
                }
            },
            successors: names(&nodes[i].successors),
            predecessors: names(&nodes[i].predecessors),
        })
        .collect();
    SubtopologyDescription {
        id,
        global_store: topology.global_subtopologies.contains(&id),
        nodes: described,
    }
}

fn node_names(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

impl fmt::Display for NodeDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            NodeDescriptionKind::Source(topics) => write!(
                f,
                "Source: {} (topics: {})\n      --> {}",
                self.name,
                java_set_string(topics),
                node_names(&self.successors)
            ),
            NodeDescriptionKind::Processor(stores) => write!(
                f,
                "Processor: {} (stores: {})\n      --> {}\n      <-- {}",
                self.name,
                java_set_string(stores),
                node_names(&self.successors),
                node_names(&self.predecessors)
            ),
            NodeDescriptionKind::Sink(SinkTarget::Topic(topic)) => write!(
                f,
                "Sink: {} (topic: {})\n      <-- {}",
                self.name,
                topic,
                node_names(&self.predecessors)
            ),
            NodeDescriptionKind::Sink(SinkTarget::Extractor(extractor)) => write!(
                f,
                "Sink: {} (extractor class: {})\n      <-- {}",
                self.name,
                extractor,
                node_names(&self.predecessors)
            ),
        }
    }
}

impl fmt::Display for SubtopologyDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.global_store {
            // Kafka's `GlobalStore.toString`: no blank line after it.
            writeln!(
                f,
                "Sub-topology: {} for global store (will not generate tasks)",
                self.id
            )?;
        } else {
            writeln!(f, "Sub-topology: {}", self.id)?;
        }
        for node in &self.nodes {
            writeln!(f, "    {node}")?;
        }
        if self.global_store {
            Ok(())
        } else {
            writeln!(f)
        }
    }
}

impl fmt::Display for TopologyDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Topologies:\n ")?;
        for subtopology in &self.subtopologies {
            write!(f, "  {subtopology}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_string_hash_matches_java() {
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("a"), 97);
        assert_eq!(java_hash("hello"), 99_162_322);
        // Overflow wraps as in Java: "KSTREAM-SOURCE-0000000000".hashCode().
        assert_eq!(java_hash("KSTREAM-SOURCE-0000000000"), 1_861_603_632);
    }

    #[test]
    fn hash_set_order_is_bucket_order() {
        // "b" (98) and "a" (97) land in buckets 2 and 1 of a 16-slot table.
        assert_eq!(java_hash_order(["b", "a"]), vec!["a", "b"]);
        assert_eq!(
            java_set_string(&["store-b".into(), "store-a".into()]),
            "[store-a, store-b]"
        );
        assert_eq!(java_set_string(&[]), "[]");
    }
}
