//! The processor in front of each side of a stream-stream join (Kafka's
//! `KStreamJoinWindow`): it remembers every record in its side's window
//! store, where the other side's join processor looks for matches.

use streams_core::prelude::*;
use streams_core::state::WindowStore;

use crate::nulls::NullTest;

/// Forwards each record to its side's join processor, then stores it in the
/// window starting at its timestamp. Forwarding first keeps a record from
/// meeting itself in a self-join. A record with a null key or value is
/// forwarded but not stored: it can never match.
pub(crate) struct JoinWindowBuffer<K, V> {
    pub(crate) store_name: String,
    pub(crate) nulls: NullTest<K, V>,
    pub(crate) store: Option<WindowStore<K, V>>,
}

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V, K, V> for JoinWindowBuffer<K, V> {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, V>) -> Result<(), StreamsError> {
        self.store = Some(ctx.state_store(&self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, V>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let Some(store) = self.store.clone() else {
            return Ok(());
        };
        if self.nulls.key(&record.key) || self.nulls.value(&record.value) {
            return ctx.forward(record);
        }
        let (key, value, timestamp) = (record.key.clone(), record.value.clone(), record.timestamp);
        ctx.forward(record)?;
        if !store.put(&key, &value, timestamp)? {
            // Kafka's window store counts the write it drops as expired.
            ctx.record_dropped("too late for the join window store's retention");
        }
        Ok(())
    }
}
