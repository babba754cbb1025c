//! The repartition topic a grouping inserts for its aggregations.

use std::cell::RefCell;

/// The source node of the repartition topic a grouped stream's or grouped
/// table's first aggregation inserted. A topic the user named is inserted
/// once and read by every later aggregation of the grouping, as Kafka's
/// `GroupedStreamAggregateBuilder` and `KGroupedTableImpl` reuse their
/// repartition node; without a name, each aggregation inserts its own.
#[derive(Debug, Default)]
pub(crate) struct GroupingRepartition(RefCell<Option<String>>);

impl GroupingRepartition {
    /// The source an aggregation of a grouping (`named` or not) reads
    /// instead of inserting a topic, if there is one.
    pub(crate) fn reused(&self, named: bool) -> Option<String> {
        self.0.borrow().clone().filter(|_| named)
    }

    /// Keeps `source`, the one an aggregation just inserted.
    pub(crate) fn inserted(&self, source: &str) {
        self.0.replace(Some(source.to_owned()));
    }
}
