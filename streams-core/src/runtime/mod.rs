//! The runtime: a topology run against a Kafka cluster (or the bundled
//! broker), as Kafka Streams' `KafkaStreams` runs one.
//!
//! [`KafkaStreams::start`] starts stream threads
//! ([`StreamsConfig::with_num_stream_threads`], one by default), each a
//! member of the application's consumer group, that:
//!
//! 1. reads the cluster's topics, and creates the application's internal
//!    topics (repartition topics and store changelogs) with Kafka Streams'
//!    names, configs and partition counts; every source topic must exist;
//! 2. joins the consumer group named by the application id, subscribed to
//!    every source topic. Each assigned partition number of a
//!    sub-topology's topics makes one task (`<sub-topology>_<partition>`),
//!    a [`StreamTask`](crate::engine::StreamTask) whose stream time resumes
//!    from the partition times committed with the group's offsets, and
//!    whose stores are first restored from their changelogs: a batch per
//!    round of the thread's loop, the task's input partitions paused
//!    meanwhile, so that the thread keeps answering the group. Persistent
//!    (RocksDB) stores keep their contents in the state directory
//!    ([`StreamsConfig::with_state_dir`]) and restore only what follows
//!    the offsets their task's checkpoint names (written after commits at
//!    least once, at a clean close exactly once);
//! 3. polls records into the tasks, processes them, fires punctuators and
//!    sends what the tasks write (output, repartition and changelog
//!    records) through one producer;
//! 4. commits every commit interval, when a processor asks, when the group
//!    rebalances and on close: at least once, the offsets are committed
//!    once every record sent before them is acknowledged; exactly once,
//!    records and offsets commit in one transaction. Repartition topics
//!    are then purged of the records their readers committed.
//!
//! # Example
//!
//! A topology run against a broker at `localhost:9092` (the bundled one,
//! or any Kafka cluster):
//!
//! ```no_run
//! use streams_core::prelude::*;
//! use streams_core::runtime::{KafkaStreams, StreamsConfig};
//!
//! // Copies lines from one topic to another.
//! let topology = TopologyBuilder::new()
//!     .add_source("lines", &["text-lines"], SourceOptions::new(UnitSerde, StringSerde))
//!     .add_sink("copy", "lines-copy", SinkOptions::new(UnitSerde, StringSerde), &["lines"])
//!     .build()?;
//! let mut streams = KafkaStreams::new(
//!     topology,
//!     StreamsConfig::new("copy-lines", "localhost:9092"),
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
//! # Differences, and what is not run yet
//!
//! Every source topic of a sub-topology must have the same partition count
//! (Kafka Streams asks it of joined topics only): the group's range
//! assignor keeps a task's partitions on one member only then. A failed
//! stream thread stops the others, as Kafka's default exception handler
//! does.
//!
//! Each task keeps its own copy of the global stores, loaded when it is
//! created: that load blocks the thread, so with global stores
//! `max.poll.interval.ms` (also the group's rebalance timeout) defaults to
//! a day. The directories of tasks the instance no longer runs are
//! deleted once left unchanged for the state cleanup delay
//! ([`StreamsConfig::with_state_cleanup_delay`]), and all local state by
//! [`KafkaStreams::clean_up`].

mod clients;
mod commit_metadata;
mod config;
mod error;
mod partition_reader;
mod purge;
mod restore_listener;
mod state_dir;
mod tasks;
mod thread;
mod topics;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

pub use config::{ProcessingGuarantee, StreamsConfig};
pub use error::RuntimeError;
pub use restore_listener::StateRestoreListener;

use crate::engine::TaskMetrics;
use crate::error::StreamsError;
use crate::topology::Topology;

/// Where an application is in its life (Kafka's `KafkaStreams.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamsState {
    /// Made, not started.
    Created,
    /// Started, waiting for the consumer group to assign partitions, or
    /// restoring the stores of the tasks it assigned.
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

/// What [`KafkaStreams::set_state_listener`] takes: called with the old
/// and the new state at every change of the application's state.
type StateListener = Box<dyn Fn(StreamsState, StreamsState) + Send + Sync>;

/// What the handle and the stream threads share.
struct Shared {
    stop: AtomicBool,
    /// Told of every change of the application's state.
    listener: Option<StateListener>,
    /// Told of the progress of every store restore.
    restore_listener: Option<Arc<dyn StateRestoreListener>>,
    /// Held from a change of a thread's state to the end of the listener's
    /// call, so that changes reach the listener in the order they happen.
    notifying: Mutex<()>,
    /// Each thread's state and counters, by thread index.
    threads: Mutex<Vec<ThreadStatus>>,
    /// The task directories the threads hold.
    directories: Arc<state_dir::StateDirectories>,
}

#[derive(Clone, Copy)]
struct ThreadStatus {
    state: StreamsState,
    metrics: StreamsMetrics,
}

/// A stream thread's view of [`Shared`]: where it reports.
pub(crate) struct ThreadSlot {
    shared: Arc<Shared>,
    index: usize,
}

impl ThreadSlot {
    /// Whether the application is closing.
    fn stop_requested(&self) -> bool {
        self.shared.stop.load(Ordering::Acquire)
    }

    /// Changes this thread's status, and tells the listener if that
    /// changed the application's state (outside the lock, so that it may
    /// ask the handle anything).
    fn update(&self, change: impl FnOnce(&mut ThreadStatus)) {
        let _notifying = self
            .shared
            .notifying
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut threads = self
            .shared
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let before = combined_state(&threads);
        if let Some(status) = threads.get_mut(self.index) {
            change(status);
        }
        let after = combined_state(&threads);
        drop(threads);
        if let (Some(listener), true) = (&self.shared.listener, before != after) {
            // The listener is the user's: its panic is no stream thread's.
            let told = std::panic::catch_unwind(AssertUnwindSafe(|| listener(before, after)));
            if told.is_err() {
                tracing::error!(from = ?before, to = ?after, "the state listener panicked");
            }
        }
    }

    fn set_state(&self, state: StreamsState) {
        self.update(|status| {
            if status.state != state {
                tracing::info!(from = ?status.state, to = ?state, "state change");
                status.state = state;
            }
        });
    }

    fn publish(&self, tasks: &tasks::Tasks, consumer_lag: i64) {
        self.update(|status| {
            status.metrics = StreamsMetrics {
                tasks: tasks.metrics(),
                active_tasks: tasks.len(),
                consumer_lag,
            };
        });
    }
}

/// A topology running against Kafka: see the [module docs](self).
pub struct KafkaStreams {
    /// The topology and config until `start` hands them to the threads.
    pending: Option<(Topology, StreamsConfig)>,
    /// The application's directory in the state directory, if it has one.
    state_dir: Option<std::path::PathBuf>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<Result<(), StreamsError>>>,
}

impl KafkaStreams {
    /// An application running `topology` with `config`, not yet started.
    pub fn new(topology: Topology, config: StreamsConfig) -> Result<Self, StreamsError> {
        if config.num_stream_threads == 0 {
            return Err(RuntimeError::NoStreamThreads.into());
        }
        let state_dir = config
            .state_dir
            .as_ref()
            .map(|root| root.join(&config.application_id));
        Ok(Self {
            state_dir,
            pending: Some((topology, config)),
            shared: Arc::new(Shared {
                stop: AtomicBool::new(false),
                listener: None,
                restore_listener: None,
                notifying: Mutex::new(()),
                threads: Mutex::new(Vec::new()),
                directories: Arc::default(),
            }),
            threads: Vec::new(),
        })
    }

    /// Has `listener` called with the old and the new state at every change
    /// of the application's state (Kafka's `setStateListener`), in order:
    /// from [`start`](Self::start) for the first, then from the stream
    /// thread that made each. Only before `start`. The threads wait for
    /// it, so it must not wait for them (by taking a lock held around
    /// [`close`](Self::close), say); a panic in it is logged.
    ///
    /// ```
    /// use streams_core::prelude::*;
    /// use streams_core::runtime::{KafkaStreams, StreamsConfig};
    ///
    /// let topology = TopologyBuilder::new()
    ///     .add_source("lines", &["text-lines"], SourceOptions::new(UnitSerde, StringSerde))
    ///     .build()?;
    /// let mut streams =
    ///     KafkaStreams::new(topology, StreamsConfig::new("app", "localhost:9092"))?;
    /// streams.set_state_listener(|old, new| println!("{old:?} -> {new:?}"))?;
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn set_state_listener(
        &mut self,
        listener: impl Fn(StreamsState, StreamsState) + Send + Sync + 'static,
    ) -> Result<(), StreamsError> {
        let shared = Arc::get_mut(&mut self.shared)
            .filter(|_| self.pending.is_some())
            .ok_or(RuntimeError::AlreadyStarted)?;
        shared.listener = Some(Box::new(listener));
        Ok(())
    }

    /// Has `listener` told of the progress of every restore of a store
    /// from its changelog (Kafka's `setGlobalStateRestoreListener`). Only
    /// before [`start`](Self::start).
    pub fn set_state_restore_listener(
        &mut self,
        listener: impl StateRestoreListener + 'static,
    ) -> Result<(), StreamsError> {
        let shared = Arc::get_mut(&mut self.shared)
            .filter(|_| self.pending.is_some())
            .ok_or(RuntimeError::AlreadyStarted)?;
        shared.restore_listener = Some(Arc::new(listener));
        Ok(())
    }

    /// Starts the stream threads. Each creates the internal topics if they
    /// are missing, joins the group and processes until
    /// [`close`](Self::close).
    pub fn start(&mut self) -> Result<(), StreamsError> {
        let (topology, config) = self.pending.take().ok_or(RuntimeError::AlreadyStarted)?;
        let count = config.num_stream_threads;
        *self
            .shared
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = vec![
            ThreadStatus {
                state: StreamsState::Rebalancing,
                metrics: StreamsMetrics::default(),
            };
            count
        ];
        if let Some(listener) = &self.shared.listener {
            listener(StreamsState::Created, StreamsState::Rebalancing);
        }
        for index in 0..count {
            let slot = ThreadSlot {
                shared: Arc::clone(&self.shared),
                index,
            };
            let (topology, config) = (topology.clone(), config.clone());
            let thread = std::thread::Builder::new()
                .name(format!(
                    "{}-StreamThread-{}",
                    config.application_id,
                    index + 1
                ))
                .spawn(move || {
                    // A panic (in a user's processor, say) fails the thread
                    // as an error does.
                    let run = AssertUnwindSafe(|| thread::run(topology, config, &slot));
                    let result = std::panic::catch_unwind(run)
                        .unwrap_or_else(|_| Err(RuntimeError::ThreadPanicked.into()));
                    match &result {
                        Ok(()) => slot.set_state(StreamsState::NotRunning),
                        Err(error) => {
                            tracing::error!(%error, "stream thread failed: stopping the others");
                            // As Kafka's default exception handler
                            // (SHUTDOWN_CLIENT) does.
                            slot.shared.stop.store(true, Ordering::Release);
                            slot.set_state(StreamsState::Error);
                        }
                    }
                    result
                });
            match thread {
                Ok(thread) => self.threads.push(thread),
                Err(error) => {
                    // Those started stop again; the handle is closed.
                    let _ = self.close();
                    return Err(RuntimeError::ThreadSpawn(error).into());
                }
            }
        }
        Ok(())
    }

    /// The application's state: `Error` if a thread failed; otherwise
    /// the least advanced of its threads'.
    pub fn state(&self) -> StreamsState {
        if self.pending.is_some() {
            return StreamsState::Created;
        }
        let threads = self
            .shared
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        combined_state(&threads)
    }

    /// The application's counters, summed over its threads, as of each
    /// thread's last loop.
    pub fn metrics(&self) -> StreamsMetrics {
        let threads = self
            .shared
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        threads
            .iter()
            .fold(StreamsMetrics::default(), |total, status| StreamsMetrics {
                tasks: total.tasks + status.metrics.tasks,
                active_tasks: total.active_tasks + status.metrics.active_tasks,
                consumer_lag: total.consumer_lag + status.metrics.consumer_lag,
            })
    }

    /// Each stream thread's counters, by thread.
    pub fn thread_metrics(&self) -> Vec<StreamsMetrics> {
        let threads = self
            .shared
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        threads.iter().map(|status| status.metrics).collect()
    }

    /// Deletes the application's local state: every task's directory in
    /// the state directory, with its stores and checkpoint, so that the
    /// next start restores everything from the changelogs (Kafka's
    /// `cleanUp`; what an application reset asks for, since checkpoints
    /// of the old changelogs would be trusted against the new ones). Only
    /// before [`start`](Self::start), after [`close`](Self::close), or
    /// once the application stopped on an error. Another instance sharing
    /// the state directory is not asked.
    pub fn clean_up(&self) -> Result<(), StreamsError> {
        if self.threads.iter().any(|thread| !thread.is_finished()) {
            return Err(RuntimeError::CleanUpWhileRunning.into());
        }
        let Some(dir) = &self.state_dir else {
            return Ok(());
        };
        match std::fs::remove_dir_all(dir) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(RuntimeError::StateDir {
                    dir: dir.clone(),
                    source: error,
                }
                .into())
            }
            _ => {
                tracing::info!(dir = %dir.display(), "local state deleted");
                Ok(())
            }
        }
    }

    /// Stops the stream threads (each commits and closes its tasks, and
    /// leaves the group) and waits for them; returns the first error that
    /// stopped one, if one did.
    pub fn close(&mut self) -> Result<(), StreamsError> {
        self.shared.stop.store(true, Ordering::Release);
        // A handle closed before it started has nothing to run.
        self.pending = None;
        let mut first_error = None;
        for thread in self.threads.drain(..) {
            let result = thread
                .join()
                .unwrap_or_else(|_| Err(RuntimeError::ThreadPanicked.into()));
            if let Err(error) = result {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The application's state, from its threads': `Error` if one failed;
/// `NotRunning` once all stopped, and shutting down from the moment one
/// shuts down or stopped until then; otherwise the least advanced of
/// theirs.
fn combined_state(threads: &[ThreadStatus]) -> StreamsState {
    let any = |state: StreamsState| threads.iter().any(|status| status.state == state);
    if any(StreamsState::Error) {
        StreamsState::Error
    } else if threads
        .iter()
        .all(|status| status.state == StreamsState::NotRunning)
    {
        StreamsState::NotRunning
    } else if any(StreamsState::PendingShutdown) || any(StreamsState::NotRunning) {
        StreamsState::PendingShutdown
    } else if any(StreamsState::Rebalancing) {
        StreamsState::Rebalancing
    } else {
        StreamsState::Running
    }
}

impl Drop for KafkaStreams {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::error!(%error, "closing on drop");
        }
    }
}
