//! The task engine: runs one task of a topology.
//!
//! A [`StreamTask`] owns an instance of every node of its sub-topologies and
//! of their stores. Records are pushed in per partition
//! ([`StreamTask::add_records`]); the task picks the partition whose head
//! record has the smallest timestamp, advances stream time (which never goes
//! back), and hands the record depth-first through the nodes. Output records
//! and changelog writes collect in the task until the driver
//! [drains](StreamTask::take_output) them. The clock is a [`Clock`], so the
//! same engine runs under the wall clock in production and a mock clock in
//! the [`TopologyTestDriver`](crate::test_driver::TopologyTestDriver).

mod checkpoint;
mod clock;
mod collector;
mod emit_intervals;
mod graph;
mod java_heap;
mod partition_group;
mod punctuation;
mod restore;
mod task;

pub(crate) use clock::millis;
pub use clock::{Clock, MockClock, SystemClock};
pub(crate) use collector::ChangelogCollector;
pub use emit_intervals::EmitIntervals;
pub(crate) use graph::{Children, Input, Node, NodeContext, NodeId, NodeInfo, NodeInstance};
pub use restore::{ChangelogReader, ChangelogRestore};
pub(crate) use task::TaskState;
pub use task::{PartitionCount, StreamTask, TaskConfig, TaskMetrics};
