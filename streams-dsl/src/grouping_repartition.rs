//! The repartition topic a grouping inserts for its aggregations.

use std::cell::RefCell;

/// The source node of the repartition topic the first aggregation of a
/// grouped stream, a grouped table or one input of a cogroup inserted, and
/// which later aggregations read instead of inserting their own.
///
/// A grouped stream or table reuses its topic only when the user named
/// it, as Kafka's `GroupedStreamAggregateBuilder` and `KGroupedTableImpl`
/// reuse their repartition node; without a name, each aggregation inserts
/// its own. A cogroup reuses each input's topic, named or not, for every
/// aggregation of the cogroup, as Kafka's `CogroupedStreamAggregateBuilder`
/// keeps the repartition node of each grouped stream it was given.
#[derive(Debug, Default)]
pub(crate) struct GroupingRepartition {
    /// The node writing the topic's records (its sink, or the filter in
    /// front of it) and the topic's source node.
    nodes: RefCell<Option<RepartitionNodes>>,
    reuses_unnamed: bool,
}

/// The nodes of an inserted repartition topic.
#[derive(Debug, Clone)]
pub(crate) struct RepartitionNodes {
    /// The first node on the writing side: the sink, or the filter in
    /// front of it.
    pub(crate) writer: String,
    /// The source node reading the topic back.
    pub(crate) source: String,
}

impl GroupingRepartition {
    /// The topic of one input of a cogroup: reused named or not.
    pub(crate) fn of_cogroup_input() -> Self {
        Self {
            nodes: RefCell::default(),
            reuses_unnamed: true,
        }
    }

    /// The nodes of the topic an aggregation of a grouping (`named` or
    /// not) reads instead of inserting one, if there is one.
    pub(crate) fn reused(&self, named: bool) -> Option<RepartitionNodes> {
        let reuses = named || self.reuses_unnamed;
        self.nodes.borrow().clone().filter(|_| reuses)
    }

    /// Whether an aggregation reading the topic again puts its nodes
    /// after those added since (see `TopologyBuilder::move_to_end`): a
    /// grouped stream or table adds its repartition node to Kafka's graph
    /// again, giving it a later build priority; a cogroup does not.
    pub(crate) fn moves_on_reuse(&self) -> bool {
        !self.reuses_unnamed
    }

    /// Keeps the nodes of the topic an aggregation just inserted.
    pub(crate) fn inserted(&self, writer: &str, source: &str) {
        self.nodes.replace(Some(RepartitionNodes {
            writer: writer.to_owned(),
            source: source.to_owned(),
        }));
    }
}
