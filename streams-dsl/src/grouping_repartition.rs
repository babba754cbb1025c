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
    source: RefCell<Option<String>>,
    reuses_unnamed: bool,
}

impl GroupingRepartition {
    /// The topic of one input of a cogroup: reused named or not.
    pub(crate) fn of_cogroup_input() -> Self {
        Self {
            source: RefCell::default(),
            reuses_unnamed: true,
        }
    }

    /// The source an aggregation of a grouping (`named` or not) reads
    /// instead of inserting a topic, if there is one.
    pub(crate) fn reused(&self, named: bool) -> Option<String> {
        let reuses = named || self.reuses_unnamed;
        self.source.borrow().clone().filter(|_| reuses)
    }

    /// Keeps `source`, the one an aggregation just inserted.
    pub(crate) fn inserted(&self, source: &str) {
        self.source.replace(Some(source.to_owned()));
    }
}
