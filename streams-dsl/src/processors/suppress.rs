//! `KTable::suppress` (Kafka's `KTableSuppressProcessor` with its
//! in-memory time-ordered buffer): holds back each key's latest update
//! until it is due, then emits it.
//!
//! The buffer is ordered as Kafka's: by due time, then by serialized key.
//! When the table's serdes are known it is mirrored into a logged
//! key-value store (`KTABLE-SUPPRESS-STATE-STORE-...`, or `<name>-store`),
//! from which it is rebuilt when the task starts, so a restart restores
//! what was held back.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use streams_core::prelude::*;
use streams_core::record::RecordMetadata;
use streams_core::serde::SharedSerde;
use streams_core::state::KeyValueStore;

use super::stream_time::ObservedStreamTime;
use super::suppress_buffer::BufferedChange;
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
    /// Kafka's `computeRecordSize` (buffer time, key, the key's prior
    /// value, old value unless it equals the prior one, new value, and the
    /// record context with the topic name and headers), and the serialized
    /// key, which orders keys due at the same time.
    fn measure(
        &self,
        topic: &str,
        record: &Record<K, Change<V>>,
        prior: Option<&V>,
    ) -> Result<(u64, Vec<u8>), StreamsError> {
        let serde_error = |source| StreamsError::Serde {
            context: format!("suppression buffer for topic `{topic}`"),
            source,
        };
        let serialized_key = self
            .key
            .serialize(topic, &record.key)
            .map_err(serde_error)?
            .unwrap_or_default();
        let key = serialized_key.len() as u64;
        let serialize = |value: Option<&V>| -> Result<Option<Vec<u8>>, StreamsError> {
            match value {
                Some(value) => self.value.serialize(topic, value).map_err(serde_error),
                None => Ok(None),
            }
        };
        let len = |bytes: &Option<Vec<u8>>| bytes.as_ref().map_or(0, |b| b.len() as u64);
        let prior = serialize(prior)?;
        let old = serialize(record.value.old.as_ref())?;
        let new = serialize(record.value.new.as_ref())?;
        // Kafka keeps an old value equal to the prior one only once.
        let old_bytes = if old == prior { 0 } else { len(&old) };
        let values = len(&prior) + old_bytes + len(&new);
        // Kafka counts a header key in Java chars (UTF-16 code units).
        let headers: u64 = record
            .headers
            .iter()
            .map(|header| {
                let key = header.key.encode_utf16().count();
                (key + header.value.as_ref().map_or(0, Vec::len)) as u64
            })
            .sum();
        let size =
            BUFFER_TIME_BYTES + key + values + RECORD_CONTEXT_BYTES + topic.len() as u64 + headers;
        Ok((size, serialized_key))
    }
}

/// A buffered key: its latest update, the value it had before its first
/// buffered update (what downstream saw last), its size and its place in
/// order.
struct Buffered<K, V> {
    record: Record<K, Change<V>>,
    /// Where the latest update was read: downstream sees it as the emitted
    /// record's metadata.
    source: Option<RecordMetadata>,
    prior: Option<V>,
    bytes: u64,
    position: Position<K>,
}

/// A key's place in the buffer: due time, then serialized key (Kafka's
/// `BufferKey` order), then the key itself when there are no serdes.
type Position<K> = (i64, Vec<u8>, K);

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
    /// The store the buffer is mirrored in, when the serdes are known.
    store_name: Option<String>,
    store: Option<KeyValueStore<K, BufferedChange<V>>>,
    stream_time: ObservedStreamTime,
    /// Keys in emission order; a key keeps its place when updated.
    order: BTreeSet<Position<K>>,
    entries: BTreeMap<K, Buffered<K, V>>,
    bytes: u64,
}

impl<K: Ord + Clone + 'static, V: Clone + 'static> Suppress<K, V> {
    fn over_capacity(&self) -> bool {
        self.entries.len() as u64 > self.buffer.max_records || self.bytes > self.buffer.max_bytes
    }

    /// The buffer size of `record`, buffered with `prior`, and the
    /// serialized key that orders it.
    fn measure(
        &self,
        source: Option<&RecordMetadata>,
        record: &Record<K, Change<V>>,
        prior: Option<&V>,
    ) -> Result<(u64, Vec<u8>), StreamsError> {
        let topic = source.map_or("", |source| source.topic.as_str());
        match &self.sizer {
            Some(sizer) => sizer.measure(topic, record, prior),
            None => Ok((0, Vec::new())),
        }
    }

    fn put(
        &mut self,
        source: Option<RecordMetadata>,
        record: Record<K, Change<V>>,
    ) -> Result<(), StreamsError> {
        // A key keeps the prior value of its first buffered update until
        // it leaves the buffer (Kafka's `BufferValue.priorValue`).
        let prior = match self.entries.get(&record.key) {
            Some(buffered) => buffered.prior.clone(),
            None => record.value.old.clone(),
        };
        let (bytes, serialized_key) = self.measure(source.as_ref(), &record, prior.as_ref())?;
        let time = match self.entries.get(&record.key) {
            // An update keeps the key's place in time order (Kafka's
            // non-resetting buffer), so a busy key is still emitted on time.
            Some(buffered) => buffered.position.0,
            None => (self.time)(&record.key, record.timestamp),
        };
        if let Some(store) = &self.store {
            store.put(
                &record.key,
                &BufferedChange {
                    time,
                    timestamp: record.timestamp,
                    headers: record.headers.clone(),
                    source: source.clone(),
                    prior: prior.clone(),
                    change: record.value.clone(),
                },
            )?;
        }
        self.insert(time, serialized_key, record, source, prior, bytes);
        Ok(())
    }

    fn insert(
        &mut self,
        time: i64,
        serialized_key: Vec<u8>,
        record: Record<K, Change<V>>,
        source: Option<RecordMetadata>,
        prior: Option<V>,
        bytes: u64,
    ) {
        match self.entries.get_mut(&record.key) {
            Some(buffered) => {
                self.bytes = self.bytes - buffered.bytes + bytes;
                buffered.record = record;
                buffered.source = source;
                buffered.bytes = bytes;
            }
            None => {
                let position = (time, serialized_key, record.key.clone());
                self.bytes += bytes;
                self.order.insert(position.clone());
                self.entries.insert(
                    record.key.clone(),
                    Buffered {
                        record,
                        source,
                        prior,
                        bytes,
                        position,
                    },
                );
            }
        }
    }

    /// Removes and emits the earliest key.
    fn evict_first(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), StreamsError> {
        let Some((_, _, key)) = self.order.pop_first() else {
            return Ok(());
        };
        let Some(buffered) = self.entries.remove(&key) else {
            return Ok(());
        };
        if let Some(store) = &self.store {
            store.delete(&key)?;
        }
        self.bytes -= buffered.bytes;
        if buffered.record.value.new.is_some() || !self.drop_tombstones {
            ctx.forward_from(buffered.source, buffered.record)?;
        }
        Ok(())
    }

    fn earliest_due(&self) -> Option<i64> {
        self.order.first().map(|(due, _, _)| *due)
    }
}

impl<K: Ord + Clone + 'static, V: Clone + 'static> Processor<K, Change<V>, K, Change<V>>
    for Suppress<K, V>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), StreamsError> {
        let Some(name) = &self.store_name else {
            return Ok(());
        };
        let store: KeyValueStore<K, BufferedChange<V>> = ctx.state_store(name)?;
        // Rebuild the buffer from what the store restored, each entry
        // sized as it was before.
        for (key, buffered) in store.all()? {
            let record = Record::new(key, buffered.change, buffered.timestamp)
                .with_headers(buffered.headers);
            let (bytes, serialized_key) =
                self.measure(buffered.source.as_ref(), &record, buffered.prior.as_ref())?;
            let BufferedChange {
                time,
                source,
                prior,
                ..
            } = buffered;
            self.insert(time, serialized_key, record, source, prior, bytes);
        }
        self.store = Some(store);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
        record: Record<K, Change<V>>,
    ) -> Result<(), StreamsError> {
        let stream_time = self.stream_time.observe(record.timestamp);
        self.put(ctx.record_metadata().cloned(), record)?;
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

/// What a suppression is configured with; each task's processor is made
/// from it.
pub(crate) struct SuppressSpec<K, V> {
    pub(crate) time: TimeDefinition<K>,
    pub(crate) delay_ms: i64,
    pub(crate) buffer: BufferConfig,
    pub(crate) drop_tombstones: bool,
    pub(crate) sizer: Option<RecordSizer<K, V>>,
    pub(crate) store_name: Option<String>,
}

/// Makes a suppress processor per task.
pub(crate) fn supplier<K: Ord + Clone + 'static, V: Clone + 'static>(
    spec: SuppressSpec<K, V>,
) -> impl Fn() -> Suppress<K, V> + Send + Sync + 'static {
    move || Suppress {
        time: Arc::clone(&spec.time),
        delay_ms: spec.delay_ms,
        buffer: spec.buffer,
        drop_tombstones: spec.drop_tombstones,
        sizer: spec.sizer.clone(),
        store_name: spec.store_name.clone(),
        store: None,
        stream_time: ObservedStreamTime::default(),
        order: BTreeSet::new(),
        entries: BTreeMap::new(),
        bytes: 0,
    }
}
