//! The runtime: a topology run against a Kafka cluster (or the bundled
//! broker), as Kafka Streams' `KafkaStreams` runs one.
//!
//! [`KafkaStreams::start`] starts a stream thread that:
//!
//! 1. reads the cluster's topics, and creates the application's internal
//!    topics (repartition topics and store changelogs) with Kafka Streams'
//!    names, configs and partition counts; every source topic must exist;
//! 2. joins the consumer group named by the application id, subscribed to
//!    every source topic. Each assigned partition number of a
//!    sub-topology's topics makes one task (`<sub-topology>_<partition>`),
//!    a [`StreamTask`](crate::engine::StreamTask) whose stores are first
//!    restored from their changelogs, and whose stream time resumes from
//!    the partition times committed with the group's offsets;
//! 3. polls records into the tasks, processes them, fires punctuators and
//!    sends what the tasks write (output, repartition and changelog
//!    records) through one producer;
//! 4. commits every commit interval, when a processor asks, when the group
//!    rebalances and on close: at least once, the offsets are committed
//!    once every record sent before them is acknowledged; exactly once,
//!    records and offsets commit in one transaction.
//!
//! # Example
//!
//! Word count against the bundled broker (any Kafka cluster works the
//! same way, at another bootstrap address):
//!
//! ```no_run
//! use streams_core::prelude::*;
//! use streams_core::runtime::{KafkaStreams, StreamsConfig};
//!
//! # fn topology() -> Result<Topology, StreamsError> { unimplemented!() }
//! let mut streams = KafkaStreams::new(
//!     topology()?,
//!     StreamsConfig::new("word-count", "localhost:9092"),
//! )?;
//! streams.start()?;
//! // ... until the application should stop:
//! streams.close()?;
//! # Ok::<(), StreamsError>(())
//! ```
//!
//! Global stores (a `GlobalKTable`'s) are loaded from every partition of
//! their topics by each task before it processes anything, then kept up to
//! date from a consumer outside the group.
//!
//! # Not yet run
//!
//! One stream thread runs all tasks; a starting task rebuilds its
//! persistent stores from their changelogs (no checkpoints yet); each task
//! keeps its own copy of the global stores.

mod clients;
mod commit_metadata;
mod config;
mod error;
mod partition_reader;
mod tasks;
mod thread;
mod topics;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

pub use config::{ProcessingGuarantee, StreamsConfig};
pub use error::RuntimeError;

use crate::engine::TaskMetrics;
use crate::error::StreamsError;
use crate::topology::Topology;

/// Where an application is in its life (Kafka's `KafkaStreams.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamsState {
    /// Made, not started.
    Created,
    /// Started, waiting for the consumer group to assign partitions.
    Rebalancing,
    /// Processing its assigned partitions.
    Running,
    /// Committing and closing its tasks.
    PendingShutdown,
    /// Closed after a clean run.
    NotRunning,
    /// Stopped by an error, which [`KafkaStreams::close`] returns.
    Error,
}

/// The counters of a running application, summed over every task it ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamsMetrics {
    /// The tasks' counters: records processed and dropped, punctuations,
    /// commits, records restored.
    pub tasks: TaskMetrics,
    /// The tasks running now.
    pub active_tasks: usize,
    /// The records of the assigned partitions past the group's committed
    /// offsets (what `kafka-consumer-groups` shows as lag), summed, as of
    /// the consumer's statistics of the last second.
    pub consumer_lag: i64,
}

/// What the handle and the stream thread share.
struct Shared {
    state: Mutex<StreamsState>,
    metrics: Mutex<StreamsMetrics>,
    stop: AtomicBool,
}

impl Shared {
    fn set_state(&self, state: StreamsState) {
        let mut current = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if *current != state {
            tracing::info!(from = ?*current, to = ?state, "state change");
            *current = state;
        }
    }

    fn publish(&self, tasks: &tasks::Tasks, consumer_lag: i64) {
        *self.metrics.lock().unwrap_or_else(PoisonError::into_inner) = StreamsMetrics {
            tasks: tasks.metrics(),
            active_tasks: tasks.len(),
            consumer_lag,
        };
    }
}

/// A topology running against Kafka: see the [module docs](self).
pub struct KafkaStreams {
    /// The topology and config until `start` hands them to the thread.
    pending: Option<(Topology, StreamsConfig)>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Result<(), StreamsError>>>,
}

impl KafkaStreams {
    /// An application running `topology` with `config`, not yet started.
    pub fn new(topology: Topology, config: StreamsConfig) -> Result<Self, StreamsError> {
        Ok(Self {
            pending: Some((topology, config)),
            shared: Arc::new(Shared {
                state: Mutex::new(StreamsState::Created),
                metrics: Mutex::new(StreamsMetrics::default()),
                stop: AtomicBool::new(false),
            }),
            thread: None,
        })
    }

    /// Starts the stream thread. It creates the internal topics, joins the
    /// group and processes until [`close`](Self::close).
    pub fn start(&mut self) -> Result<(), StreamsError> {
        let (topology, config) = self.pending.take().ok_or(RuntimeError::AlreadyStarted)?;
        self.shared.set_state(StreamsState::Rebalancing);
        let shared = Arc::clone(&self.shared);
        let thread = std::thread::Builder::new()
            .name(format!("{}-stream-thread", config.application_id))
            .spawn(move || {
                let result = thread::run(topology, config, &shared);
                match &result {
                    Ok(()) => shared.set_state(StreamsState::NotRunning),
                    Err(error) => {
                        tracing::error!(%error, "stream thread failed");
                        shared.set_state(StreamsState::Error);
                    }
                }
                result
            })
            .map_err(RuntimeError::ThreadSpawn)?;
        self.thread = Some(thread);
        Ok(())
    }

    /// The application's state.
    pub fn state(&self) -> StreamsState {
        *self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The application's counters, as of the stream thread's last loop.
    pub fn metrics(&self) -> StreamsMetrics {
        *self
            .shared
            .metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops the stream thread (which commits and closes its tasks, and
    /// leaves the group) and waits for it; returns the error that stopped
    /// it, if one did.
    pub fn close(&mut self) -> Result<(), StreamsError> {
        self.shared.stop.store(true, Ordering::Release);
        let Some(thread) = self.thread.take() else {
            // Never started (or closed already, when the state stays).
            if self.pending.take().is_some() {
                self.shared.set_state(StreamsState::NotRunning);
            }
            return Ok(());
        };
        thread.join().map_err(|_| RuntimeError::ThreadPanicked)?
    }
}

impl Drop for KafkaStreams {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::error!(%error, "closing on drop");
        }
    }
}
