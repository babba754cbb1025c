//! Fixed-key processors: Processor API code that may change values,
//! timestamps and headers but never keys, and `KStream::process_values`,
//! which runs one without marking the stream for repartitioning (Kafka
//! Streams' `FixedKeyProcessor`).
//!
//! The key is fixed by construction: a [`FixedKeyRecord`] can only be made
//! from the record being processed (its key has no setter), and the
//! [`FixedKeyProcessorContext`] forwards only such records, so a processor
//! that tries to change the key does not compile.

use std::marker::PhantomData;
use std::time::Duration;

use streams_core::prelude::*;
use streams_core::record::RecordMetadata;
use streams_core::state::StoreHandle;

use crate::kstream::KStream;
use crate::named::Named;

/// A record whose key cannot change: made only from the record a
/// [`FixedKeyProcessor`] is given, it keeps that key through every
/// `with_*` call.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedKeyRecord<K, V> {
    key: K,
    /// The value.
    pub value: V,
    /// Event time in milliseconds since the epoch.
    pub timestamp: i64,
    /// Headers, carried along to sinks.
    pub headers: Headers,
}

impl<K, V> FixedKeyRecord<K, V> {
    fn from_record(record: Record<K, V>) -> Self {
        Self {
            key: record.key,
            value: record.value,
            timestamp: record.timestamp,
            headers: record.headers,
        }
    }

    fn into_record(self) -> Record<K, V> {
        Record {
            key: self.key,
            value: self.value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }

    /// The key.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The same record with another value.
    pub fn with_value<V2>(self, value: V2) -> FixedKeyRecord<K, V2> {
        FixedKeyRecord {
            key: self.key,
            value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }

    /// The same record with another timestamp.
    pub fn with_timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// The same record with other headers.
    pub fn with_headers(mut self, headers: Headers) -> Self {
        self.headers = headers;
        self
    }
}

/// What a [`FixedKeyProcessor`] can do besides computing: the
/// [`ProcessorContext`] of a processor, except that it forwards only
/// [`FixedKeyRecord`]s.
pub struct FixedKeyProcessorContext<'c, 'a, K, V> {
    inner: &'c mut ProcessorContext<'a, K, V>,
}

impl<K: Clone + 'static, V: Clone + 'static> FixedKeyProcessorContext<'_, '_, K, V> {
    /// Sends `record` to every child, in the order they were added.
    pub fn forward(&mut self, record: FixedKeyRecord<K, V>) -> Result<(), StreamsError> {
        self.inner.forward(record.into_record())
    }

    /// Sends `record` to the child named `child` only.
    pub fn forward_to(
        &mut self,
        child: &str,
        record: FixedKeyRecord<K, V>,
    ) -> Result<(), StreamsError> {
        self.inner.forward_to(child, record.into_record())
    }
}

impl<K, V> FixedKeyProcessorContext<'_, '_, K, V> {
    /// The name of the processor this context belongs to.
    pub fn processor_name(&self) -> &str {
        self.inner.processor_name()
    }

    /// Topic, partition and offset of the input record being processed;
    /// `None` during punctuation.
    pub fn record_metadata(&self) -> Option<&RecordMetadata> {
        self.inner.record_metadata()
    }

    /// The task's stream time, or -1 before the first record.
    pub fn current_stream_time_ms(&self) -> i64 {
        self.inner.current_stream_time_ms()
    }

    /// The wall-clock time, from the task's clock.
    pub fn current_system_time_ms(&self) -> i64 {
        self.inner.current_system_time_ms()
    }

    /// The application id.
    pub fn application_id(&self) -> &str {
        self.inner.application_id()
    }

    /// The task id, `<sub-topology>_<partition>`.
    pub fn task_id(&self) -> &str {
        self.inner.task_id()
    }

    /// Schedules punctuation every `interval`; the processor's
    /// [`punctuate`](FixedKeyProcessor::punctuate) gets the returned id.
    pub fn schedule(
        &mut self,
        interval: Duration,
        kind: PunctuationType,
    ) -> Result<PunctuatorId, StreamsError> {
        self.inner.schedule(interval, kind)
    }

    /// Cancels a punctuation schedule.
    pub fn cancel(&mut self, punctuator: PunctuatorId) {
        self.inner.cancel(punctuator);
    }

    /// Counts a record this processor dropped on purpose.
    pub fn record_dropped(&mut self, reason: &str) {
        self.inner.record_dropped(reason);
    }

    /// Asks the task to commit as soon as possible.
    pub fn commit(&mut self) {
        self.inner.commit();
    }

    /// A handle to the state store `name`, which must be connected to this
    /// processor.
    pub fn state_store<S: StoreHandle + Clone>(&self, name: &str) -> Result<S, StreamsError> {
        self.inner.state_store(name)
    }
}

/// Processes records of key `K` and value `VIn`, forwarding records of the
/// same key and value `VOut`; see [`KStream::process_values`].
///
/// ```
/// use streams_core::prelude::*;
/// use streams_dsl::{FixedKeyProcessor, FixedKeyProcessorContext, FixedKeyRecord, StreamsBuilder};
///
/// struct Length;
/// impl FixedKeyProcessor<String, String, i64> for Length {
///     fn process(
///         &mut self,
///         ctx: &mut FixedKeyProcessorContext<'_, '_, String, i64>,
///         record: FixedKeyRecord<String, String>,
///     ) -> Result<(), StreamsError> {
///         let length = record.value.len() as i64;
///         ctx.forward(record.with_value(length))
///     }
/// }
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<String, String>("words")
///     .process_values(|| Length, &[])
///     .to("lengths");
/// let driver = TopologyTestDriver::new(&builder.build()?)?;
/// let words = driver.create_input_topic("words", StringSerde, StringSerde);
/// let lengths = driver.create_output_topic("lengths", StringSerde, I64Serde);
/// words.pipe_input_at("w".into(), "kafka".into(), 7)?;
/// assert_eq!(lengths.read_records_to_list()?, vec![TestRecord::new("w".into(), 5, 7)]);
/// # Ok::<(), StreamsError>(())
/// ```
///
/// Forwarding a record with another key does not compile:
///
/// ```compile_fail
/// use streams_core::prelude::*;
/// use streams_dsl::{FixedKeyProcessor, FixedKeyProcessorContext, FixedKeyRecord};
///
/// struct Rekey;
/// impl FixedKeyProcessor<String, String, String> for Rekey {
///     fn process(
///         &mut self,
///         ctx: &mut FixedKeyProcessorContext<'_, '_, String, String>,
///         record: FixedKeyRecord<String, String>,
///     ) -> Result<(), StreamsError> {
///         ctx.forward(Record::new("other".to_string(), record.value, record.timestamp))
///     }
/// }
/// ```
pub trait FixedKeyProcessor<K, VIn, VOut>: 'static {
    /// Called once before the first record.
    fn init(
        &mut self,
        _ctx: &mut FixedKeyProcessorContext<'_, '_, K, VOut>,
    ) -> Result<(), StreamsError> {
        Ok(())
    }

    /// Handles one record.
    fn process(
        &mut self,
        ctx: &mut FixedKeyProcessorContext<'_, '_, K, VOut>,
        record: FixedKeyRecord<K, VIn>,
    ) -> Result<(), StreamsError>;

    /// Called when punctuation `punctuator` fires.
    fn punctuate(
        &mut self,
        _ctx: &mut FixedKeyProcessorContext<'_, '_, K, VOut>,
        _punctuator: PunctuatorId,
        _timestamp: i64,
    ) -> Result<(), StreamsError> {
        Ok(())
    }

    /// Called once when the task closes.
    fn close(
        &mut self,
        _ctx: &mut FixedKeyProcessorContext<'_, '_, K, VOut>,
    ) -> Result<(), StreamsError> {
        Ok(())
    }
}

/// Runs a [`FixedKeyProcessor`] as a core processor.
struct FixedKey<P, VIn> {
    processor: P,
    _input: PhantomData<fn(VIn)>,
}

impl<K, VIn, VOut, P> Processor<K, VIn, K, VOut> for FixedKey<P, VIn>
where
    K: 'static,
    VIn: 'static,
    VOut: 'static,
    P: FixedKeyProcessor<K, VIn, VOut>,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, VOut>) -> Result<(), StreamsError> {
        self.processor
            .init(&mut FixedKeyProcessorContext { inner: ctx })
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, VOut>,
        record: Record<K, VIn>,
    ) -> Result<(), StreamsError> {
        self.processor.process(
            &mut FixedKeyProcessorContext { inner: ctx },
            FixedKeyRecord::from_record(record),
        )
    }

    fn punctuate(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, VOut>,
        punctuator: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        self.processor.punctuate(
            &mut FixedKeyProcessorContext { inner: ctx },
            punctuator,
            timestamp,
        )
    }

    fn close(&mut self, ctx: &mut ProcessorContext<'_, K, VOut>) -> Result<(), StreamsError> {
        self.processor
            .close(&mut FixedKeyProcessorContext { inner: ctx })
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Runs a fixed-key processor on the stream; `stores` are connected to
    /// it. The key cannot change, so unlike
    /// [`process`](Self::process) the result is not marked for
    /// repartitioning.
    pub fn process_values<V2, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
    ) -> KStream<K, V2>
    where
        V2: Clone + 'static,
        P: FixedKeyProcessor<K, V, V2>,
    {
        let name = self.builder.new_name("KSTREAM-PROCESSVALUES-");
        self.process_values_as(name, supplier, stores)
    }

    /// [`process_values`](Self::process_values), naming the processor
    /// (which, as in Kafka, consumes no index).
    pub fn process_values_named<V2, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        named: Named,
        stores: &[&str],
    ) -> KStream<K, V2>
    where
        V2: Clone + 'static,
        P: FixedKeyProcessor<K, V, V2>,
    {
        self.process_values_as(named.name().to_owned(), supplier, stores)
    }

    fn process_values_as<V2, P>(
        &self,
        name: String,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
    ) -> KStream<K, V2>
    where
        V2: Clone + 'static,
        P: FixedKeyProcessor<K, V, V2>,
    {
        self.builder.with(|topology| {
            topology
                .add_processor(
                    &name,
                    move || FixedKey {
                        processor: supplier(),
                        _input: PhantomData,
                    },
                    &[&self.node],
                )
                .connect_processor_and_stores(&name, stores);
        });
        KStream::new(self.builder.clone(), name, self.repartition_required)
            .with_serdes(self.key_serde.clone(), None)
    }
}
