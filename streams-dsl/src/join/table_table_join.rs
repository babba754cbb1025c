//! The processor of each side of a table-table join (Kafka's
//! `KTableKTableInnerJoin`, `KTableKTableLeftJoin`,
//! `KTableKTableRightJoin` and `KTableKTableOuterJoin`, one mechanism for
//! all four).

use std::sync::Arc;

use streams_core::prelude::*;

use super::joiner::Joiner;
use crate::ktable::Change;
use crate::row_lookup::{RowGetter, RowLookup};
use crate::table_node::NodeView;

/// Joins a value of the updated side with the other side's row, either of
/// which may be absent; `None` when the join kind makes no result of that
/// case (an inner join's unmatched rows, say).
pub(crate) type Combine<VT, VO, VR> =
    Arc<dyn Fn(Option<&VT>, Option<&VO>) -> Option<VR> + Send + Sync>;

/// One side of a join: how its updates combine with the other side's rows,
/// and whether its rows make results without a partner.
pub(crate) struct Side<VT, VO, VR> {
    pub(crate) combine: Combine<VT, VO, VR>,
    pub(crate) keeps_unmatched: bool,
}

impl<VT, VO, VR> Clone for Side<VT, VO, VR> {
    fn clone(&self) -> Self {
        Self {
            combine: self.combine.clone(),
            keeps_unmatched: self.keeps_unmatched,
        }
    }
}

/// The left side of `joiner`'s join (Kafka's `joinThis`).
pub(crate) fn left_side<V1, V2, VR>(joiner: Joiner<V1, V2, VR>) -> Side<V1, V2, VR>
where
    V1: 'static,
    V2: 'static,
    VR: 'static,
{
    let keeps_unmatched = joiner.left_only.is_some();
    Side {
        combine: Arc::new(move |left, right| joiner.combine(left, right)),
        keeps_unmatched,
    }
}

/// The right side of `joiner`'s join (Kafka's `joinOther`, with the
/// joiner's arguments swapped back).
pub(crate) fn right_side<V1, V2, VR>(joiner: Joiner<V1, V2, VR>) -> Side<V2, V1, VR>
where
    V1: 'static,
    V2: 'static,
    VR: 'static,
{
    let keeps_unmatched = joiner.right_only.is_some();
    Side {
        combine: Arc::new(move |right, left| joiner.combine(left, right)),
        keeps_unmatched,
    }
}

/// Joins each update of one table with the other table's row of its key,
/// read from the other table's store or through its view, stamped with the later of the two
/// rows' timestamps.
///
/// Without a partner row, a side that does not keep unmatched rows emits
/// nothing, and one that does emits nothing for a change that is absent
/// before and after (a deletion of a row that never existed, as the input
/// tables send old values for the sides that keep unmatched rows).
/// Otherwise the result's new value is the combination of the update's new
/// value (a tombstone where there is none), and its old value, only when
/// the result table sends old values, the combination of the update's old
/// value.
pub(crate) struct TableTableJoin<K, VT, VO, VR> {
    pub(crate) side: Side<VT, VO, VR>,
    pub(crate) other_rows: RowLookup<K, VO>,
    /// The result table's node, whose old-value flag the join reads.
    pub(crate) view: NodeView,
    pub(crate) other: Option<Box<dyn RowGetter<K, VO>>>,
    pub(crate) send_old_values: bool,
}

impl<K, VT, VO, VR> Processor<K, Change<VT>, K, Change<VR>> for TableTableJoin<K, VT, VO, VR>
where
    K: Clone + 'static,
    VT: 'static,
    VO: 'static,
    VR: Clone + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<VR>>) -> Result<(), StreamsError> {
        self.other = Some(self.other_rows.open(&ctx.stores())?);
        self.send_old_values = self.view.send_old_values();
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<VR>>,
        record: Record<K, Change<VT>>,
    ) -> Result<(), StreamsError> {
        let Some(store) = &self.other else {
            return Ok(());
        };
        let other = store.get(&record.key)?;
        let change = &record.value;
        let timestamp = match &other {
            Some(row) => record.timestamp.max(row.timestamp),
            None if !self.side.keeps_unmatched => return Ok(()),
            None if change.new.is_none() && change.old.is_none() => return Ok(()),
            None => record.timestamp,
        };
        let other = other.as_ref().map(|row| &row.value);
        let new = (self.side.combine)(change.new.as_ref(), other);
        let old = if self.send_old_values {
            (self.side.combine)(change.old.as_ref(), other)
        } else {
            None
        };
        ctx.forward(Record {
            key: record.key,
            value: Change { new, old },
            timestamp,
            headers: record.headers,
        })
    }
}
