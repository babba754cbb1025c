//! The context a processor works through.

use std::time::Duration;

use super::{PunctuationType, PunctuatorId};
use crate::engine::NodeId;
use crate::engine::{EmitIntervals, NodeContext};
use crate::error::StreamsError;
use crate::record::{Record, RecordMetadata};
use crate::state::{StoreHandle, StoreRegistry};

/// What a processor can do besides computing: forward records to its
/// children, read metadata and clocks, schedule punctuation, use stores.
///
/// `KOut` and `VOut` are the types this processor forwards.
pub struct ProcessorContext<'a, KOut, VOut> {
    node: NodeContext<'a, KOut, VOut>,
}

impl<'a, KOut, VOut> ProcessorContext<'a, KOut, VOut> {
    pub(crate) fn new(node: NodeContext<'a, KOut, VOut>) -> Self {
        Self { node }
    }
}

impl<KOut: Clone + 'static, VOut: Clone + 'static> ProcessorContext<'_, KOut, VOut> {
    /// Sends `record` to every child, in the order they were added. A
    /// negative timestamp is an error, as Kafka's `Record` refuses one.
    pub fn forward(&mut self, record: Record<KOut, VOut>) -> Result<(), StreamsError> {
        self.check_timestamp(record.timestamp)?;
        self.node.forward(record)
    }

    /// Sends `record` to every child as a record read at `source` (`None`:
    /// read from no input, as in punctuation): children see `source` as
    /// [`record_metadata`](Self::record_metadata) while it travels down.
    /// For a record held since another input was processed, as Kafka's
    /// suppression buffer forwards a held record with its own context.
    pub fn forward_from(
        &mut self,
        source: Option<RecordMetadata>,
        record: Record<KOut, VOut>,
    ) -> Result<(), StreamsError> {
        let context = self.node.task.record_context.clone();
        let tracks_sources = context.tracks_sources();
        let previous_source = if tracks_sources {
            let previous = context.source();
            context.set_source(source.as_ref().map(RecordMetadata::as_source));
            previous
        } else {
            None
        };
        let current = std::mem::replace(&mut self.node.task.record_metadata, source);
        let forwarded = self.forward(record);
        self.node.task.record_metadata = current;
        if tracks_sources {
            // Caches below keep the forwarded record's source, not the one
            // being processed (Kafka forwards a flushed entry's context).
            context.set_source(previous_source);
        }
        forwarded
    }

    /// Sends `record` to the child named `child` only.
    pub fn forward_to(
        &mut self,
        child: &str,
        record: Record<KOut, VOut>,
    ) -> Result<(), StreamsError> {
        self.check_timestamp(record.timestamp)?;
        self.node.forward_to(child, record)
    }

    fn check_timestamp(&self, timestamp: i64) -> Result<(), StreamsError> {
        if timestamp < 0 {
            return Err(StreamsError::NegativeTimestamp {
                processor: self.processor_name().to_owned(),
                timestamp,
            });
        }
        Ok(())
    }
}

impl<KOut, VOut> ProcessorContext<'_, KOut, VOut> {
    /// The name of the processor this context belongs to.
    pub fn processor_name(&self) -> &str {
        self.node.name()
    }

    /// Topic, partition and offset of the input record being processed;
    /// `None` during punctuation.
    pub fn record_metadata(&self) -> Option<&RecordMetadata> {
        self.node.task.record_metadata.as_ref()
    }

    /// The task's stream time: the largest record timestamp it has processed,
    /// or -1 before the first record.
    pub fn current_stream_time_ms(&self) -> i64 {
        self.node.task.stream_time
    }

    /// The wall-clock time, from the task's clock.
    pub fn current_system_time_ms(&self) -> i64 {
        self.node.task.clock.now_ms()
    }

    /// How often operators whose results wait for stream time look for
    /// them (see [`EmitIntervals`](crate::engine::EmitIntervals)).
    pub fn emit_intervals(&self) -> EmitIntervals {
        self.node.task.emit_intervals
    }

    /// The value kept under `key` with the task's committed offsets
    /// (Kafka's processor metadata): set by this task, or by an earlier
    /// task of the same partition (see `StreamTask::processor_metadata`).
    pub fn processor_metadata(&self, key: &str) -> Option<i64> {
        self.node.task.processor_metadata.get(key).copied()
    }

    /// Keeps `value` under `key` with the task's offsets from the next
    /// commit on, for the tasks that continue from that commit.
    pub fn set_processor_metadata(&mut self, key: &str, value: i64) {
        self.node
            .task
            .processor_metadata
            .insert(key.to_owned(), value);
    }

    /// The application id.
    pub fn application_id(&self) -> &str {
        &self.node.task.application_id
    }

    /// The task id, `<sub-topology>_<partition>`.
    pub fn task_id(&self) -> &str {
        &self.node.task.task_id
    }

    /// The partition this task processes: every record it reads comes from
    /// that partition of its input topics, even when no record is current
    /// (in punctuation, or at a commit).
    pub fn partition(&self) -> i32 {
        self.node.task.partition
    }

    /// Schedules punctuation every `interval`; the processor's
    /// [`punctuate`](super::Processor::punctuate) is called with the returned id.
    pub fn schedule(
        &mut self,
        interval: Duration,
        kind: PunctuationType,
    ) -> Result<PunctuatorId, StreamsError> {
        let node = self.node.node_id();
        self.node.task.schedule(node, interval, kind)
    }

    /// Cancels a punctuation schedule; it does not fire again.
    pub fn cancel(&mut self, punctuator: PunctuatorId) {
        self.node.task.cancel(punctuator);
    }

    /// Counts a record this processor dropped on purpose (a late arrival
    /// past a window's grace, say) in the task's `dropped_records`, and logs
    /// why at debug level.
    pub fn record_dropped(&mut self, reason: &str) {
        self.node.task.metrics.dropped_records += 1;
        tracing::debug!(processor = self.node.name(), reason, "record dropped");
    }

    /// Asks the task to commit as soon as possible.
    pub fn commit(&mut self) {
        self.node.task.commit_requested = true;
    }

    /// A handle to the state store `name`, which must be connected to this
    /// processor and be of type `S` (e.g. `KeyValueStore<String, i64>`).
    pub fn state_store<S: StoreHandle + Clone>(&self, name: &str) -> Result<S, StreamsError> {
        self.stores().get(name)
    }

    /// The stores connected to this processor, as a value that does not
    /// carry the types the processor forwards: for helpers that open
    /// stores on a processor's behalf whatever it forwards (a table's row
    /// lookup, say).
    pub fn stores(&self) -> ConnectedStores<'_> {
        ConnectedStores {
            registry: &self.node.task.stores,
            node: self.node.node_id(),
            processor: self.node.name(),
        }
    }
}

/// The state stores connected to one processor (see
/// [`ProcessorContext::stores`]).
pub struct ConnectedStores<'a> {
    registry: &'a StoreRegistry,
    node: NodeId,
    processor: &'a str,
}

impl ConnectedStores<'_> {
    /// A handle to the state store `name`, which must be connected to the
    /// processor and be of type `S`, as [`ProcessorContext::state_store`].
    pub fn get<S: StoreHandle + Clone>(&self, name: &str) -> Result<S, StreamsError> {
        self.registry.handle(self.node, self.processor, name)
    }
}
