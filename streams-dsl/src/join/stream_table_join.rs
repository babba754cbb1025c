//! The processor of stream-table and stream-global-table joins (Kafka's
//! `KStreamKTableJoinProcessor` and `KStreamGlobalKTableJoin`).

use std::sync::Arc;

use streams_core::prelude::*;
use streams_core::serde::SharedSerde;

use super::joiner::{Joiner, Unmatched};
use crate::nulls::NULL_JOIN_KEY_OR_VALUE;
use crate::row_lookup::{RowGetter, RowLookup};

/// Maps a stream record to the key of the table row it joins.
pub(crate) type KeyMapper<K, V, KT> = Arc<dyn Fn(&K, &V) -> KT + Send + Sync>;

/// Looks each stream record's row up in the table and forwards the
/// joined value with the stream record's timestamp; without a row, an
/// inner join emits nothing and a left join joins with `None`. Table
/// updates never reach this processor, so they never trigger a result.
///
/// As in Kafka, a record with a null value is dropped, and so is one whose
/// row key is null in an inner join; a left join joins it with `None`
/// (KIP-962). A record with a null key joins the row its mapped key finds.
pub(crate) struct StreamTableJoin<K, V, KT, VT, VR> {
    pub(crate) rows: RowLookup<KT, VT>,
    pub(crate) key_mapper: KeyMapper<K, V, KT>,
    pub(crate) joiner: Joiner<V, VT, VR>,
    /// Tells null stream values, where their serde is known (a null
    /// stream key matters only as a null row key).
    pub(crate) null_values: Option<SharedSerde<V>>,
    /// Tells null row keys, where their serde is known.
    pub(crate) row_key: Option<SharedSerde<KT>>,
    pub(crate) table: Option<Box<dyn RowGetter<KT, VT>>>,
}

impl<K, V, KT, VT, VR> Processor<K, V, K, VR> for StreamTableJoin<K, V, KT, VT, VR>
where
    K: Clone + 'static,
    V: 'static,
    KT: 'static,
    VT: 'static,
    VR: Clone + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, VR>) -> Result<(), StreamsError> {
        self.table = Some(self.rows.open(&ctx.stores())?);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, VR>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let Some(table) = &self.table else {
            return Ok(());
        };
        let row_key = (self.key_mapper)(&record.key, &record.value);
        let row_key_null = self.row_key.as_ref().is_some_and(|s| s.is_null(&row_key));
        // A left join joins a record without a row key (a null stream key,
        // or a null key mapped to a global table's row) with no row, as
        // Kafka's `maybeDropRecord` does since KAFKA-19208; only records
        // without a value are always dropped.
        let value_null = self
            .null_values
            .as_ref()
            .is_some_and(|s| s.is_null(&record.value));
        if value_null || (row_key_null && !self.joiner.keeps_left()) {
            ctx.record_dropped(NULL_JOIN_KEY_OR_VALUE);
            return Ok(());
        }
        let row = if row_key_null {
            None
        } else {
            table.get(&row_key)?
        };
        let value = match row {
            Some(row) => Some((self.joiner.both)(&record.value, &row.value)),
            None => self.joiner.unmatched(&Unmatched::Left(record.value)),
        };
        match value {
            Some(value) => ctx.forward(Record {
                key: record.key,
                value,
                timestamp: record.timestamp,
                headers: record.headers,
            }),
            None => Ok(()),
        }
    }
}
