//! The Processor API: user code that handles one record at a time.
//!
//! A [`Processor`] is created per task by the supplier given to
//! [`TopologyBuilder::add_processor`](crate::topology::TopologyBuilder::add_processor).
//! Every call gets a [`ProcessorContext`] through which it forwards records to
//! its children, reads the record's metadata and the task's clocks, schedules
//! punctuation and reaches the state stores connected to it.

mod context;

pub use context::{ConnectedStores, ProcessorContext};

use crate::error::StreamsError;
use crate::record::Record;

/// Processes records of key `KIn` and value `VIn`, forwarding records of key
/// `KOut` and value `VOut` to its children.
///
/// Only [`process`](Processor::process) is required. Punctuation scheduled
/// with [`ProcessorContext::schedule`] arrives at
/// [`punctuate`](Processor::punctuate), tagged with the id `schedule` returned.
pub trait Processor<KIn, VIn, KOut = (), VOut = ()>: 'static {
    /// Called once before the first record; a good place to look up stores
    /// and schedule punctuation.
    fn init(&mut self, _ctx: &mut ProcessorContext<'_, KOut, VOut>) -> Result<(), StreamsError> {
        Ok(())
    }

    /// Handles one record.
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, KOut, VOut>,
        record: Record<KIn, VIn>,
    ) -> Result<(), StreamsError>;

    /// Called when punctuation `punctuator` fires; `timestamp` is the current
    /// stream time or wall-clock time, depending on its type.
    fn punctuate(
        &mut self,
        _ctx: &mut ProcessorContext<'_, KOut, VOut>,
        _punctuator: PunctuatorId,
        _timestamp: i64,
    ) -> Result<(), StreamsError> {
        Ok(())
    }

    /// Called at every commit (and before the task closes), in topology
    /// order, before the task's stores are flushed. A processor that holds
    /// updates back - one whose store caches them, see
    /// [`KeyValueStore::cache_flushes`](crate::state::KeyValueStore::cache_flushes) -
    /// forwards them here, so they reach its children, and any cache there,
    /// within the same commit.
    fn flush(&mut self, _ctx: &mut ProcessorContext<'_, KOut, VOut>) -> Result<(), StreamsError> {
        Ok(())
    }

    /// Called once when the task closes.
    fn close(&mut self, _ctx: &mut ProcessorContext<'_, KOut, VOut>) -> Result<(), StreamsError> {
        Ok(())
    }
}

/// Which clock drives a punctuation schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PunctuationType {
    /// Stream time: advances only as records arrive. Schedules are aligned to
    /// 0 and fire when stream time reaches the next multiple of the interval.
    StreamTime,
    /// Wall-clock time: fires as the system clock passes each interval,
    /// starting one interval after scheduling.
    WallClockTime,
}

/// Identifies one punctuation schedule of a task; also used to cancel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PunctuatorId(pub(crate) u64);
