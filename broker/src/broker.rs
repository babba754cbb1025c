//! The broker: its shared state, its background tasks, and the handle an
//! embedding program holds.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::config::{BrokerConfig, FlushPolicy};
use crate::error::{BrokerError, Result};
use crate::group::offsets::OffsetStore;
use crate::group::Coordinator;
use crate::group::OffsetCommit;
use crate::log::batch::Marker;
use crate::producer_ids::ProducerIds;
use crate::server;
use crate::topics::{Topic, Topics};
use crate::transactions::{Completion, Transactions};

/// How often group sessions and rebalance deadlines are checked.
const GROUP_TICK: Duration = Duration::from_millis(100);

/// Milliseconds since the Unix epoch, the clock of record timestamps.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `duration` in milliseconds, as Kafka's `*.ms` settings count.
fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Everything request handlers share.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: BrokerConfig,
    /// Host and port clients are told to connect to.
    pub(crate) advertised_host: String,
    pub(crate) advertised_port: i32,
    pub(crate) topics: Topics,
    pub(crate) groups: Coordinator,
    pub(crate) producer_ids: ProducerIds,
    pub(crate) transactions: Transactions,
    /// Bumped after every append, to wake waiting fetches.
    appended: watch::Sender<u64>,
}

impl State {
    /// Opens the data directory: topics with their logs, and committed offsets.
    pub(crate) fn open(config: BrokerConfig, local_addr: SocketAddr) -> Result<Self> {
        let advertised_host =
            config
                .advertised_host
                .clone()
                .unwrap_or_else(|| match local_addr.ip() {
                    ip if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]).to_string(),
                    ip => ip.to_string(),
                });
        let topics = Topics::open(&config, now_ms())?;
        let transactions = Transactions::open(
            &config.data_dir,
            now_ms(),
            millis(config.transactional_id_expiration),
        )?;
        let in_use = topics
            .all()
            .iter()
            .flat_map(|topic| topic.partitions())
            .filter_map(|partition| partition.log().max_producer_id())
            .chain(transactions.max_producer_id())
            .max();
        let producer_ids = ProducerIds::open(&config.data_dir, in_use)?;
        let offsets_dir = config.data_dir.join("__group_offsets");
        let offsets = OffsetStore::open(&offsets_dir, config.flush == FlushPolicy::EveryProduce)?;
        let groups = Coordinator::new(offsets, config.group_initial_rebalance_delay);
        let (appended, _) = watch::channel(0);
        let state = Self {
            advertised_host,
            advertised_port: i32::from(config.advertised_port.unwrap_or(local_addr.port())),
            config,
            topics,
            groups,
            producer_ids,
            transactions,
            appended,
        };
        // Transactions decided before a crash are completed before anyone
        // reads their partitions, and any left open in a partition that
        // the coordinator does not hold open is ended.
        state.transactions.tick(&state, now_ms());
        state.resolve_open_transactions()?;
        Ok(state)
    }

    /// Ends the transactions open in partition logs that the coordinator
    /// does not hold open: it decided them, but the marker did not reach
    /// the disk (or the coordinator's state was lost). Each ends as the
    /// coordinator says ([`Transactions::resolve`]); otherwise it would
    /// hold back the partition's last stable offset for ever.
    fn resolve_open_transactions(&self) -> Result<()> {
        for topic in self.topics.all() {
            for (index, partition) in (0..).zip(topic.partitions()) {
                let mut log = partition.log();
                for (producer_id, epoch) in log.open_transactions() {
                    let resolution =
                        self.transactions
                            .resolve(producer_id, epoch, topic.name(), index);
                    let Some(marker) = resolution else {
                        continue;
                    };
                    warn!(
                        topic = topic.name(),
                        partition = index,
                        producer_id,
                        ?marker,
                        "ending a transaction the coordinator does not hold open"
                    );
                    log.append_marker(producer_id, epoch, marker, now_ms())
                        .and_then(|_| log.sync().map_err(Into::into))
                        .map_err(|e| BrokerError::storage(log.dir(), std::io::Error::other(e)))?;
                }
            }
        }
        Ok(())
    }

    /// Wakes fetches waiting for data.
    pub(crate) fn notify_appended(&self) {
        self.appended.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes after every append.
    pub(crate) fn subscribe_appends(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }

    /// The topic, created with the defaults if it does not exist and
    /// auto-creation is enabled.
    pub(crate) fn topic_or_auto_create(&self, name: &str) -> Option<Arc<Topic>> {
        if let Some(topic) = self.topics.get(name) {
            return Some(topic);
        }
        if !self.config.auto_create_topics {
            return None;
        }
        match self
            .topics
            .create(name, None, -1, Default::default(), false, now_ms())
        {
            Ok(topic) => Some(topic),
            // Another request created it in the meantime, or is still
            // creating it: then the client is told it is unknown, and retries.
            Err(crate::topics::TopicError::AlreadyExists) => self.topics.get(name),
            Err(e) => {
                debug!(topic = name, error = %e, "auto-creation refused");
                None
            }
        }
    }

    /// Forces every log and the offsets to disk. A failure does not stop
    /// the others from being flushed; each is logged, and the first returned.
    fn sync_all(&self) -> Result<()> {
        let mut first = None;
        let mut failed = |e: BrokerError| {
            error!(error = %e, "flush failed");
            first.get_or_insert(e);
        };
        for topic in self.topics.all() {
            for partition in topic.partitions() {
                let mut log = partition.log();
                // Already reported when it went offline.
                if log.is_offline() {
                    continue;
                }
                if let Err(e) = log.sync() {
                    failed(BrokerError::storage(log.dir(), e));
                }
            }
        }
        if let Err(e) = self.groups.flush_offsets() {
            failed(e);
        }
        first.map_or(Ok(()), Err)
    }

    /// Deletes what retention lets go of, and forgets idempotent
    /// producers that have been idle too long.
    fn enforce_retention(&self) {
        let now = now_ms();
        let expiration = millis(self.config.producer_id_expiration);
        for topic in self.topics.all() {
            for partition in topic.partitions() {
                let mut log = partition.log();
                if let Err(e) = log.enforce_retention(now) {
                    warn!(topic = topic.name(), error = %e, "retention failed");
                }
                log.expire_producers(now, expiration);
            }
        }
    }

    /// Runs the log cleaner over every partition of a compacted topic
    /// whose log is due for it (see `log::cleaner`).
    fn clean_logs(&self) {
        let now = now_ms();
        for topic in self.topics.all() {
            for (index, partition) in (0..).zip(topic.partitions()) {
                if let Err(e) = partition.log().clean(now) {
                    warn!(topic = topic.name(), partition = index, error = %e, "log cleaning failed");
                }
            }
        }
    }
}

/// The broker carries out what transactions decide: markers into the
/// partitions' logs, offsets into the groups'.
impl Completion for State {
    fn write_marker(
        &self,
        topic: &str,
        partition: i32,
        producer_id: i64,
        epoch: i16,
        marker: Marker,
    ) -> std::io::Result<()> {
        // A deleted topic's transactions went with it.
        let Some(partition) = self.topics.get(topic).and_then(|t| t.partition(partition)) else {
            return Ok(());
        };
        let mut log = partition.log();
        // Nothing written there (or the marker already is): nothing to end.
        if !log.in_transaction(producer_id) {
            return Ok(());
        }
        log.append_marker(producer_id, epoch, marker, now_ms())
            .map_err(std::io::Error::other)?;
        // On disk before the transaction is saved as complete, whatever
        // the flush policy: nothing would write it again.
        log.sync()?;
        drop(log);
        // Read-committed fetches waiting for the stable offset to move.
        self.notify_appended();
        Ok(())
    }

    fn commit_offsets(&self, group: &str, offsets: Vec<OffsetCommit>) -> std::io::Result<()> {
        self.groups.commit_transaction_offsets(group, offsets)
    }
}

/// A running broker.
///
/// Dropping the handle stops the broker's tasks; [`Broker::shutdown`] also
/// waits for them and flushes every log to disk.
#[derive(Debug)]
pub struct Broker {
    local_addr: SocketAddr,
    state: Arc<State>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Broker {
    /// Opens the data directory (recovering logs, topics and offsets) and
    /// starts serving on `config.listen`, on the current Tokio runtime.
    pub async fn start(config: BrokerConfig) -> Result<Self> {
        config.validate()?;
        let started = Instant::now();
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| BrokerError::storage(&config.data_dir, e))?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| BrokerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| BrokerError::Bind {
            addr: config.listen,
            source,
        })?;
        let state = Arc::new(State::open(config, local_addr)?);

        let (shutdown, _) = watch::channel(false);
        let mut tasks = JoinSet::new();
        tasks.spawn(server::serve(
            listener,
            Arc::clone(&state),
            shutdown.subscribe(),
        ));
        tasks.spawn(every(GROUP_TICK, shutdown.subscribe(), {
            let state = Arc::clone(&state);
            move || {
                state.groups.tick(Instant::now());
                state.transactions.tick(&*state, now_ms());
            }
        }));
        tasks.spawn(every(
            state.config.retention_check_interval,
            shutdown.subscribe(),
            {
                let state = Arc::clone(&state);
                move || state.enforce_retention()
            },
        ));
        tasks.spawn(every(
            state.config.log_cleaner_backoff,
            shutdown.subscribe(),
            {
                let state = Arc::clone(&state);
                move || state.clean_logs()
            },
        ));
        if let FlushPolicy::Interval(interval) = state.config.flush {
            tasks.spawn(every(interval, shutdown.subscribe(), {
                let state = Arc::clone(&state);
                move || {
                    // Failures are logged, and the next interval tries again.
                    let _ = state.sync_all();
                }
            }));
        }
        info!(
            addr = %local_addr,
            data_dir = %state.config.data_dir.display(),
            elapsed_ms = started.elapsed().as_millis(),
            "broker started"
        );
        Ok(Self {
            local_addr,
            state,
            shutdown,
            tasks,
        })
    }

    /// The address the broker listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The `host:port` to give clients as `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> String {
        format!(
            "{}:{}",
            self.state.advertised_host, self.state.advertised_port
        )
    }

    /// Stops accepting connections, closes the open ones, waits for the
    /// background tasks and forces all data to disk. Fails with the first
    /// storage error if any data could not be forced to disk (all are
    /// logged).
    pub async fn shutdown(mut self) -> Result<()> {
        let _ = self.shutdown.send(true);
        while let Some(result) = self.tasks.join_next().await {
            if let Err(e) = result {
                warn!(error = %e, "broker task failed");
            }
        }
        let state = Arc::clone(&self.state);
        let synced = tokio::task::spawn_blocking(move || state.sync_all())
            .await
            .map_err(|e| BrokerError::Task(e.to_string()))?;
        info!(addr = %self.local_addr, "broker stopped");
        synced
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Runs `action` every `period` until shutdown, each time on Tokio's
/// blocking pool: the periodic work (retention, cleaning, flushes,
/// transaction markers) holds partitions' std mutexes while it does file
/// I/O - a cleaning pass rewrites whole segments - and run inline it would
/// hold up a runtime worker, on a current-thread runtime the whole
/// broker. The next period waits for the action to end, and so does
/// shutdown, so that it never flushes under a pass still running.
async fn every(
    period: Duration,
    mut shutdown: watch::Receiver<bool>,
    action: impl Fn() + Send + Sync + 'static,
) {
    let action = Arc::new(action);
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = interval.tick() => {
                let action = Arc::clone(&action);
                if let Err(e) = tokio::task::spawn_blocking(move || action()).await {
                    warn!(error = %e, "background task failed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::sync::Mutex;

    /// A periodic action that blocks (as a cleaning pass does) leaves the
    /// runtime free, even a current-thread one: another task runs, and
    /// here releases the action, while it waits.
    #[test]
    fn periodic_work_does_not_block_the_runtime() {
        use super::*;

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (started, mut action_started) = tokio::sync::mpsc::unbounded_channel();
        let (release, released) = mpsc::channel::<()>();
        let released = Mutex::new(released);
        let (outcome, outcomes) = mpsc::channel();
        let (stop, stopped) = watch::channel(false);
        let action = move || {
            let _ = started.send(());
            // Inline, nothing else runs until this times out.
            let waited = released
                .lock()
                .map(|released| released.recv_timeout(Duration::from_secs(5)).is_ok());
            let _ = outcome.send(waited.unwrap_or(false));
        };
        runtime.block_on(async {
            let task = tokio::spawn(every(Duration::from_secs(3600), stopped, action));
            action_started.recv().await.expect("the action ran");
            release.send(()).expect("the action waits");
            let _ = stop.send(true);
            task.await.expect("task");
        });
        assert_eq!(outcomes.recv().ok(), Some(true), "released while blocking");
    }

    // Linux only: it needs fsync of /dev/full to fail, which Linux does
    // (EINVAL) and other systems need not, if they have the device at all.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_flush_is_returned_not_only_logged() {
        use std::fs::OpenOptions;

        use super::*;

        let dir = tempfile::tempdir().expect("tempdir");
        let addr = SocketAddr::from(([127, 0, 0, 1], 9092));
        let mut state = State::open(BrokerConfig::new(dir.path()), addr).expect("state");
        assert!(state.sync_all().is_ok());

        let offsets_dir = dir.path().join("other-offsets");
        let mut offsets = OffsetStore::open(&offsets_dir, false).expect("offsets");
        // Linux does not support fsync on this device.
        offsets.replace_file(
            OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        );
        state.groups = Coordinator::new(offsets, Duration::ZERO);
        match state.sync_all() {
            Err(BrokerError::Storage { path, .. }) => {
                assert_eq!(path, offsets_dir.join("offsets.log"));
            }
            other => panic!("expected a storage error, got {other:?}"),
        }
    }
}
