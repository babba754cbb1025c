//! `KTable::suppress` (Kafka's `KTableSuppressProcessor` with its
//! in-memory time-ordered buffer): holds back each key's latest update
//! until it is due, then emits it.

use std::collections::BTreeMap;
use std::sync::Arc;

use streams_core::prelude::*;
use streams_core::serde::SharedSerde;

use super::stream_time::ObservedStreamTime;
use crate::ktable::Change;
use crate::suppressed::{BufferConfig, BufferFull, SuppressError, TimeDefinition};

/// Kafka's estimate of a buffered record's metadata: timestamp, offset,
/// partition.
const RECORD_CONTEXT_BYTES: u64 = 8 + 8 + 4;
/// The buffer time each entry carries.
const BUFFER_TIME_BYTES: u64 = 8;

/// Serialized sizes of buffered records, for byte bounds.
pub(crate) struct RecordSizer<K, V> {
    pub(crate) key: SharedSerde<K>,
    pub(crate) value: SharedSerde<V>,
}

impl<K, V> Clone for RecordSizer<K, V> {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            value: self.value.clone(),
        }
    }
}

impl<K, V> RecordSizer<K, V> {
    /// Kafka's `computeRecordSize`: buffer time, key, old and new value and
    /// the record context (with the topic name and headers).
    fn size(&self, topic: &str, record: &Record<K, Change<V>>) -> Result<u64, StreamsError> {
        let serde_error = |source| StreamsError::Serde {
            context: format!("suppression buffer for topic `{topic}`"),
            source,
        };
        let len = |bytes: Option<Vec<u8>>| bytes.map_or(0, |b| b.len() as u64);
        let key = len(self
            .key
            .serialize(topic, &record.key)
            .map_err(serde_error)?);
        let mut values = 0;
        for value in [&record.value.new, &record.value.old].into_iter().flatten() {
            values += len(self.value.serialize(topic, value).map_err(serde_error)?);
        }
        let headers: u64 = record
            .headers
            .iter()
            .map(|header| (header.key.len() + header.value.as_ref().map_or(0, Vec::len)) as u64)
            .sum();
        Ok(BUFFER_TIME_BYTES + key + values + RECORD_CONTEXT_BYTES + topic.len() as u64 + headers)
    }
}

/// A buffered key: its latest update and its size.
struct Buffered<K, V> {
    record: Record<K, Change<V>>,
    bytes: u64,
}

/// Buffers updates per key in time order and emits them when due or when
/// the buffer overflows.
pub(crate) struct Suppress<K, V> {
    /// When a key's first update is due, before the suppression delay.
    time: TimeDefinition<K>,
    /// How long after that the key is emitted.
    delay_ms: i64,
    buffer: BufferConfig,
    /// Final results never emit deletions (Kafka's `safeToDropTombstones`).
    drop_tombstones: bool,
    sizer: Option<RecordSizer<K, V>>,
    stream_time: ObservedStreamTime,
    /// Keys by (due time, arrival); a key keeps its place when updated.
    order: BTreeMap<(i64, u64), K>,
    entries: BTreeMap<K, Buffered<K, V>>,
    arrivals: u64,
    bytes: u64,
}

impl<K: Ord + Clone + 'static, V: Clone + 'static> Suppress<K, V> {
    pub(crate) fn new(
        time: TimeDefinition<K>,
        delay_ms: i64,
        buffer: BufferConfig,
        drop_tombstones: bool,
        sizer: Option<RecordSizer<K, V>>,
    ) -> Self {
        Self {
            time,
            delay_ms,
            buffer,
            drop_tombstones,
            sizer,
            stream_time: ObservedStreamTime::default(),
            order: BTreeMap::new(),
            entries: BTreeMap::new(),
            arrivals: 0,
            bytes: 0,
        }
    }

    fn over_capacity(&self) -> bool {
        self.entries.len() as u64 > self.buffer.max_records || self.bytes > self.buffer.max_bytes
    }

    fn put(&mut self, record: Record<K, Change<V>>, bytes: u64) {
        let due = (self.time)(&record.key, record.timestamp);
        match self.entries.get_mut(&record.key) {
            // An update keeps the key's place in time order (Kafka's
            // non-resetting buffer), so a busy key is still emitted on time.
            Some(buffered) => {
                self.bytes = self.bytes - buffered.bytes + bytes;
                buffered.record = record;
                buffered.bytes = bytes;
            }
            None => {
                let position = (due, self.arrivals);
                self.arrivals += 1;
                self.bytes += bytes;
                self.order.insert(position, record.key.clone());
                self.entries
                    .insert(record.key.clone(), Buffered { record, bytes });
            }
        }
    }

    /// Removes and emits the earliest key.
    fn evict_first(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), StreamsError> {
        let Some((_, key)) = self.order.pop_first() else {
            return Ok(());
        };
        let Some(buffered) = self.entries.remove(&key) else {
            return Ok(());
        };
        self.bytes -= buffered.bytes;
        if buffered.record.value.new.is_some() || !self.drop_tombstones {
            ctx.forward(buffered.record)?;
        }
        Ok(())
    }

    fn earliest_due(&self) -> Option<i64> {
        self.order.first_key_value().map(|((due, _), _)| *due)
    }
}

impl<K: Ord + Clone + 'static, V: Clone + 'static> Processor<K, Change<V>, K, Change<V>>
    for Suppress<K, V>
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
        record: Record<K, Change<V>>,
    ) -> Result<(), StreamsError> {
        let stream_time = self.stream_time.observe(record.timestamp);
        let bytes = match &self.sizer {
            Some(sizer) => {
                let topic = ctx
                    .record_metadata()
                    .map(|m| m.topic.clone())
                    .unwrap_or_default();
                sizer.size(&topic, &record)?
            }
            None => 0,
        };
        self.put(record, bytes);
        let expiry = stream_time.saturating_sub(self.delay_ms);
        while self.earliest_due().is_some_and(|due| due <= expiry) {
            self.evict_first(ctx)?;
        }
        if self.over_capacity() {
            match self.buffer.when_full {
                BufferFull::EmitEarly => {
                    while self.over_capacity() {
                        self.evict_first(ctx)?;
                    }
                }
                BufferFull::ShutDown => {
                    let processor = ctx.processor_name().to_owned();
                    return Err(StreamsError::processor(
                        processor.clone(),
                        SuppressError::BufferFull {
                            processor,
                            records: self.entries.len() as u64,
                            max_records: self.buffer.max_records,
                            bytes: self.bytes,
                            max_bytes: self.buffer.max_bytes,
                        },
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Makes a suppress processor per task.
pub(crate) fn supplier<K: Ord + Clone + 'static, V: Clone + 'static>(
    time: TimeDefinition<K>,
    delay_ms: i64,
    buffer: BufferConfig,
    drop_tombstones: bool,
    sizer: Option<RecordSizer<K, V>>,
) -> impl Fn() -> Suppress<K, V> + Send + Sync + 'static {
    let time = Arc::clone(&time);
    move || {
        Suppress::new(
            time.clone(),
            delay_ms,
            buffer,
            drop_tombstones,
            sizer.clone(),
        )
    }
}
