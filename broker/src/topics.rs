//! The topic registry: topics, their partitions' logs and their configs,
//! persisted so that they survive a restart.
//!
//! Each topic has a small text file in `<data>/__topics/` (id, partition
//! count, config overrides), replaced atomically on every change, and one log
//! directory per partition, `<data>/<topic>-<partition>/`.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::mem;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use kafka_protocol::error::ResponseError;
use tracing::{info, warn};
use uuid::Uuid;

use crate::config::topic::{ConfigError, TopicConfig};
use crate::config::{BrokerConfig, LogDefaults};
use crate::error::BrokerError;
use crate::log::{replace_file, sync_dir, PartitionLog};

const META_DIR: &str = "__topics";
const META_SUFFIX: &str = ".topic";

/// Locks a mutex; a panic in another holder leaves consistent data behind
/// (every mutation completes before it can fail), so poisoning is ignored.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// Why a topic operation was refused, mapped to Kafka error codes.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TopicError {
    #[error("topic already exists")]
    AlreadyExists,
    #[error("unknown topic")]
    Unknown,
    #[error("invalid topic name: {0}")]
    InvalidName(&'static str),
    #[error("invalid number of partitions: {0}")]
    InvalidPartitions(String),
    #[error("replication factor must be 1 (or -1 for the default) on a single broker")]
    InvalidReplicationFactor,
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("storage error: {0}")]
    Io(#[from] io::Error),
}

impl TopicError {
    /// The Kafka error for the response.
    pub(crate) fn response_error(&self) -> ResponseError {
        match self {
            Self::AlreadyExists => ResponseError::TopicAlreadyExists,
            Self::Unknown => ResponseError::UnknownTopicOrPartition,
            Self::InvalidName(_) => ResponseError::InvalidTopicException,
            Self::InvalidPartitions(_) => ResponseError::InvalidPartitions,
            Self::InvalidReplicationFactor => ResponseError::InvalidReplicationFactor,
            Self::Config(_) => ResponseError::InvalidConfig,
            Self::Io(_) => ResponseError::KafkaStorageError,
        }
    }
}

/// Kafka's rule for topic names.
pub(crate) fn validate_name(name: &str) -> Result<(), TopicError> {
    if name.is_empty() {
        return Err(TopicError::InvalidName("empty"));
    }
    if name == "." || name == ".." {
        return Err(TopicError::InvalidName("'.' and '..' are not allowed"));
    }
    if name.len() > 249 {
        return Err(TopicError::InvalidName("longer than 249 characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Err(TopicError::InvalidName(
            "only ASCII alphanumerics, '.', '_' and '-' are allowed",
        ));
    }
    Ok(())
}

/// One partition: its log behind a lock.
#[derive(Debug)]
pub(crate) struct Partition {
    log: Mutex<PartitionLog>,
}

impl Partition {
    /// Exclusive access to the log.
    pub(crate) fn log(&self) -> MutexGuard<'_, PartitionLog> {
        lock(&self.log)
    }
}

/// A topic.
#[derive(Debug)]
pub(crate) struct Topic {
    name: String,
    id: Uuid,
    config: Mutex<TopicConfig>,
    partitions: RwLock<Vec<Arc<Partition>>>,
}

impl Topic {
    /// The topic name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The topic id.
    pub(crate) fn id(&self) -> Uuid {
        self.id
    }

    /// A copy of the topic's config overrides.
    pub(crate) fn config(&self) -> TopicConfig {
        lock(&self.config).clone()
    }

    /// The number of partitions.
    pub(crate) fn partition_count(&self) -> i32 {
        i32::try_from(read(&self.partitions).len()).unwrap_or(i32::MAX)
    }

    /// A partition by index.
    pub(crate) fn partition(&self, index: i32) -> Option<Arc<Partition>> {
        let index = usize::try_from(index).ok()?;
        read(&self.partitions).get(index).cloned()
    }

    /// All partitions, by index.
    pub(crate) fn partitions(&self) -> Vec<Arc<Partition>> {
        read(&self.partitions).clone()
    }

    fn persist(&self, meta_dir: &Path) -> io::Result<()> {
        let config = lock(&self.config);
        write_meta(
            meta_dir,
            &self.name,
            self.id,
            self.partition_count(),
            &config,
        )
    }
}

/// Replaces the metadata file of topic `name` atomically. Callers that
/// change a topic save its new state with this before anyone can see the
/// change, so what clients were told always survives a restart. Locks, if
/// held, are taken in the order config, then partitions.
fn write_meta(
    meta_dir: &Path,
    name: &str,
    id: Uuid,
    partitions: i32,
    config: &TopicConfig,
) -> io::Result<()> {
    let mut text = format!("id={id}\npartitions={partitions}\n");
    for (key, value) in config.overrides() {
        text.push_str(&format!("config.{key}={value}\n"));
    }
    replace_file(
        &meta_dir.join(format!("{name}{META_SUFFIX}")),
        text.as_bytes(),
    )
}

/// What a topic metadata file says.
struct TopicMeta {
    id: Uuid,
    partitions: i32,
    config: TopicConfig,
}

fn parse_meta(path: &Path, text: &str) -> Result<TopicMeta, BrokerError> {
    let corrupt = |reason: String| BrokerError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let mut id = None;
    let mut partitions = None;
    let mut overrides = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| corrupt(format!("malformed line {line:?}")))?;
        match key {
            "id" => id = Some(Uuid::parse_str(value).map_err(|e| corrupt(e.to_string()))?),
            "partitions" => {
                // Fewer than one would make every partition directory look
                // orphaned, and removed, on start.
                partitions = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|&n: &i32| n >= 1)
                        .ok_or_else(|| corrupt(format!("bad partitions {value:?}")))?,
                )
            }
            _ => match key.strip_prefix("config.") {
                Some(name) => overrides.push((name.to_owned(), value.to_owned())),
                None => return Err(corrupt(format!("unknown key {key:?}"))),
            },
        }
    }
    let config = TopicConfig::from_overrides(overrides).map_err(|e| corrupt(e.to_string()))?;
    match (id, partitions) {
        (Some(id), Some(partitions)) => Ok(TopicMeta {
            id,
            partitions,
            config,
        }),
        _ => Err(corrupt("missing id or partitions".to_owned())),
    }
}

/// All topics.
#[derive(Debug)]
pub(crate) struct Topics {
    data_dir: PathBuf,
    meta_dir: PathBuf,
    defaults: LogDefaults,
    default_partitions: i32,
    max_partitions: i32,
    by_name: RwLock<BTreeMap<String, Arc<Topic>>>,
    /// Names whose files are being created or deleted, outside the
    /// `by_name` lock. Always locked after `by_name`, if both are.
    busy: Mutex<HashSet<String>>,
}

/// A name in [`Topics::busy`], released on drop unless kept.
struct Reservation<'a> {
    busy: &'a Mutex<HashSet<String>>,
    name: String,
    kept: bool,
}

impl<'a> Reservation<'a> {
    /// Reserves `name` in `busy`; `None` if it is reserved already.
    fn claim(busy: &'a Mutex<HashSet<String>>, name: &str) -> Option<Self> {
        lock(busy).insert(name.to_owned()).then(|| Self {
            busy,
            name: name.to_owned(),
            kept: false,
        })
    }

    /// Holds the name until the broker restarts, for files that only the
    /// startup cleanup can remove.
    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.kept {
            lock(self.busy).remove(&self.name);
        }
    }
}

impl Topics {
    /// Loads every topic in the data directory, recovering their logs, and
    /// removes partition directories no topic owns (left by an interrupted
    /// deletion).
    pub(crate) fn open(config: &BrokerConfig, now_ms: i64) -> Result<Self, BrokerError> {
        let data_dir = config.data_dir.clone();
        let meta_dir = data_dir.join(META_DIR);
        fs::create_dir_all(&meta_dir).map_err(|e| BrokerError::storage(&meta_dir, e))?;
        let topics = Self {
            data_dir,
            meta_dir,
            defaults: config.log.clone(),
            default_partitions: config.default_partitions,
            max_partitions: config.max_partitions,
            by_name: RwLock::new(BTreeMap::new()),
            busy: Mutex::new(HashSet::new()),
        };
        let entries = fs::read_dir(&topics.meta_dir)
            .map_err(|e| BrokerError::storage(&topics.meta_dir, e))?;
        for entry in entries {
            let path = entry
                .map_err(|e| BrokerError::storage(&topics.meta_dir, e))?
                .path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(META_SUFFIX))
            else {
                continue;
            };
            let text = fs::read_to_string(&path).map_err(|e| BrokerError::storage(&path, e))?;
            let meta = parse_meta(&path, &text)?;
            let topic = topics
                .build(name, meta.id, meta.partitions, meta.config, now_ms)
                .map_err(|e| BrokerError::storage(&path, e))?;
            write(&topics.by_name).insert(name.to_owned(), Arc::new(topic));
        }
        topics.remove_orphans()?;
        info!(topics = read(&topics.by_name).len(), "loaded topics");
        Ok(topics)
    }

    fn remove_orphans(&self) -> Result<(), BrokerError> {
        let entries =
            fs::read_dir(&self.data_dir).map_err(|e| BrokerError::storage(&self.data_dir, e))?;
        let by_name = read(&self.by_name);
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((topic, partition)) = name.rsplit_once('-') else {
                continue;
            };
            let Ok(partition) = partition.parse::<i32>() else {
                continue;
            };
            let owned = by_name
                .get(topic)
                .is_some_and(|t| partition < t.partition_count());
            if !owned && entry.path().is_dir() {
                warn!(dir = %entry.path().display(), "removing log directory of a deleted topic");
                fs::remove_dir_all(entry.path())
                    .map_err(|e| BrokerError::storage(entry.path(), e))?;
            }
        }
        Ok(())
    }

    fn partition_dir(&self, topic: &str, partition: i32) -> PathBuf {
        self.data_dir.join(format!("{topic}-{partition}"))
    }

    fn open_partition(
        &self,
        topic: &str,
        index: i32,
        config: &TopicConfig,
        now_ms: i64,
    ) -> io::Result<Arc<Partition>> {
        let log = PartitionLog::open(
            self.partition_dir(topic, index),
            config.settings(&self.defaults),
            now_ms,
        )?;
        Ok(Arc::new(Partition {
            log: Mutex::new(log),
        }))
    }

    fn build(
        &self,
        name: &str,
        id: Uuid,
        partitions: i32,
        config: TopicConfig,
        now_ms: i64,
    ) -> io::Result<Topic> {
        let logs = (0..partitions)
            .map(|index| self.open_partition(name, index, &config, now_ms))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Topic {
            name: name.to_owned(),
            id,
            config: Mutex::new(config),
            partitions: RwLock::new(logs),
        })
    }

    /// The broker defaults for topic settings.
    pub(crate) fn defaults(&self) -> &LogDefaults {
        &self.defaults
    }

    /// A topic by name.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Topic>> {
        read(&self.by_name).get(name).cloned()
    }

    /// A topic by id.
    pub(crate) fn get_by_id(&self, id: Uuid) -> Option<Arc<Topic>> {
        read(&self.by_name).values().find(|t| t.id == id).cloned()
    }

    /// Every topic, by name.
    pub(crate) fn all(&self) -> Vec<Arc<Topic>> {
        read(&self.by_name).values().cloned().collect()
    }

    /// Refuses a partition count below one or above the broker's limit.
    fn check_partitions(&self, count: i32) -> Result<(), TopicError> {
        if count < 1 {
            return Err(TopicError::InvalidPartitions(format!(
                "{count} is not positive"
            )));
        }
        if count > self.max_partitions {
            return Err(TopicError::InvalidPartitions(format!(
                "{count} is more than the {} partitions a topic may have on this broker",
                self.max_partitions
            )));
        }
        Ok(())
    }

    /// Reserves the name of a topic about to be created. Like Kafka, a name
    /// still being deleted counts as existing.
    fn reserve(&self, name: &str) -> Result<Reservation<'_>, TopicError> {
        let by_name = read(&self.by_name);
        if by_name.contains_key(name) {
            return Err(TopicError::AlreadyExists);
        }
        Reservation::claim(&self.busy, name).ok_or(TopicError::AlreadyExists)
    }

    /// Creates a topic. `partitions` of `None` (or -1) means the broker
    /// default; with `validate_only` nothing is created.
    pub(crate) fn create(
        &self,
        name: &str,
        partitions: Option<i32>,
        replication_factor: i16,
        config: TopicConfig,
        validate_only: bool,
        now_ms: i64,
    ) -> Result<Arc<Topic>, TopicError> {
        validate_name(name)?;
        let partitions = match partitions {
            None | Some(-1) => self.default_partitions,
            Some(n) => n,
        };
        self.check_partitions(partitions)?;
        if replication_factor != 1 && replication_factor != -1 {
            return Err(TopicError::InvalidReplicationFactor);
        }
        let reservation = self.reserve(name)?;
        if validate_only {
            return Ok(Arc::new(Topic {
                name: name.to_owned(),
                id: Uuid::new_v4(),
                config: Mutex::new(config),
                partitions: RwLock::new(Vec::new()),
            }));
        }
        // The files are created under the reservation alone, so that other
        // requests do not wait for them.
        let topic = self.build(name, Uuid::new_v4(), partitions, config, now_ms)?;
        topic.persist(&self.meta_dir)?;
        let topic = Arc::new(topic);
        let mut by_name = write(&self.by_name);
        by_name.insert(name.to_owned(), Arc::clone(&topic));
        // Released under the lock: a deletion must find the topic either
        // absent or registered and not busy.
        drop(reservation);
        drop(by_name);
        info!(topic = name, partitions, "created topic");
        Ok(topic)
    }

    /// Deletes a topic and its logs.
    pub(crate) fn delete(&self, name: &str) -> Result<Arc<Topic>, TopicError> {
        let (topic, reservation) = {
            let mut by_name = write(&self.by_name);
            if !by_name.contains_key(name) {
                return Err(TopicError::Unknown);
            }
            // Until its files are gone, a topic of the same name must not be
            // created: it would open the logs being deleted. A registered
            // name is never reserved (`create` releases it under this lock).
            let reservation = Reservation::claim(&self.busy, name).ok_or(TopicError::Unknown)?;
            let topic = by_name.remove(name).ok_or(TopicError::Unknown)?;
            (topic, reservation)
        };
        // Both locks, in their order, so that a concurrent `create_partitions`
        // or `alter_config` on this topic either saves its metadata before
        // the file is removed or finds the topic drained and refuses.
        let config = lock(&topic.config);
        let mut partitions = write(&topic.partitions);
        // The metadata file goes first: if the deletion is interrupted, the
        // next start removes the orphaned logs.
        if let Err(e) = fs::remove_file(self.meta_dir.join(format!("{name}{META_SUFFIX}"))) {
            // Released first: `by_name` is locked before a topic's locks.
            drop(partitions);
            drop(config);
            // Nothing is deleted, so the topic stays. The reservation is
            // released under the lock, as in `create`.
            write(&self.by_name).insert(name.to_owned(), Arc::clone(&topic));
            drop(reservation);
            return Err(e.into());
        }
        let drained = mem::take(&mut *partitions);
        drop(partitions);
        drop(config);
        // Logs are removed only once the removal of the metadata file is
        // durable: otherwise a crash could bring the topic back without them.
        if let Err(e) = sync_dir(&self.meta_dir).and_then(|()| self.delete_logs(name, drained)) {
            // Without its metadata file the topic's logs are orphans, which
            // the next start removes; a new topic of the same name before
            // then would open them.
            reservation.keep();
            return Err(e.into());
        }
        info!(topic = name, "deleted topic");
        Ok(topic)
    }

    fn delete_logs(&self, name: &str, partitions: Vec<Arc<Partition>>) -> io::Result<()> {
        for (index, partition) in partitions.into_iter().enumerate() {
            match Arc::try_unwrap(partition) {
                Ok(partition) => partition
                    .log
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner)
                    .delete()?,
                // A request still holds it; its directory goes with the orphans.
                Err(_) => fs::remove_dir_all(self.partition_dir(name, index as i32))?,
            }
        }
        Ok(())
    }

    /// Grows a topic to `count` partitions.
    pub(crate) fn create_partitions(
        &self,
        name: &str,
        count: i32,
        validate_only: bool,
        now_ms: i64,
    ) -> Result<(), TopicError> {
        let topic = self.get(name).ok_or(TopicError::Unknown)?;
        self.grow(&topic, count, validate_only, now_ms)
    }

    /// `create_partitions` once the topic is found; a deletion may have
    /// happened in between.
    fn grow(
        &self,
        topic: &Topic,
        count: i32,
        validate_only: bool,
        now_ms: i64,
    ) -> Result<(), TopicError> {
        let name = topic.name();
        let config = lock(&topic.config);
        let mut partitions = write(&topic.partitions);
        // A live topic has at least one partition; `delete` drained this one.
        if partitions.is_empty() {
            return Err(TopicError::Unknown);
        }
        let current = i32::try_from(partitions.len()).unwrap_or(i32::MAX);
        if count <= current {
            return Err(TopicError::InvalidPartitions(format!(
                "topic has {current} partitions; the new count must be larger"
            )));
        }
        self.check_partitions(count)?;
        if validate_only {
            return Ok(());
        }
        let added = (current..count)
            .map(|index| self.open_partition(name, index, &config, now_ms))
            .collect::<Result<Vec<_>, _>>()?;
        // Saved before the new partitions take writes: if the save fails,
        // they never do, and the next start removes their directories.
        write_meta(&self.meta_dir, name, topic.id, count, &config)?;
        partitions.extend(added);
        drop(partitions);
        drop(config);
        info!(topic = name, partitions = count, "added partitions");
        Ok(())
    }

    /// Changes a topic's config with `change`, persists it and applies the
    /// new settings to the topic's logs.
    pub(crate) fn alter_config(
        &self,
        name: &str,
        validate_only: bool,
        change: impl FnOnce(&mut TopicConfig) -> Result<(), ConfigError>,
    ) -> Result<(), TopicError> {
        let topic = self.get(name).ok_or(TopicError::Unknown)?;
        self.reconfigure(&topic, validate_only, change)
    }

    /// `alter_config` once the topic is found; a deletion may have happened
    /// in between.
    fn reconfigure(
        &self,
        topic: &Topic,
        validate_only: bool,
        change: impl FnOnce(&mut TopicConfig) -> Result<(), ConfigError>,
    ) -> Result<(), TopicError> {
        let mut config = lock(&topic.config);
        // Read under the config lock, which `delete` holds while draining.
        let partitions = topic.partition_count();
        if partitions == 0 {
            return Err(TopicError::Unknown);
        }
        let mut changed = config.clone();
        change(&mut changed)?;
        if validate_only {
            return Ok(());
        }
        // Saved before it applies, as in `create_partitions`.
        write_meta(&self.meta_dir, &topic.name, topic.id, partitions, &changed)?;
        *config = changed;
        let settings = config.settings(&self.defaults);
        drop(config);
        for partition in topic.partitions() {
            partition.log().set_settings(settings.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_configs_survive_a_reopen_and_deletion_removes_logs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = BrokerConfig::new(dir.path());
        let topics = Topics::open(&config, 0).expect("open");
        let overrides =
            TopicConfig::from_overrides([("retention.ms".to_owned(), "1000".to_owned())])
                .expect("config");
        let created = topics
            .create("orders", Some(3), -1, overrides, false, 0)
            .expect("create");
        topics
            .create("gone", None, 1, TopicConfig::default(), false, 0)
            .expect("create");
        assert!(matches!(
            topics.create("orders", Some(1), 1, TopicConfig::default(), false, 0),
            Err(TopicError::AlreadyExists)
        ));
        assert!(matches!(
            topics.create("bad/name", None, 1, TopicConfig::default(), false, 0),
            Err(TopicError::InvalidName(_))
        ));
        topics
            .create_partitions("orders", 4, false, 0)
            .expect("grow");
        topics.delete("gone").expect("delete");
        assert!(!dir.path().join("gone-0").exists());
        drop(topics);

        let topics = Topics::open(&config, 0).expect("reopen");
        let orders = topics.get("orders").expect("orders survives");
        assert_eq!(orders.id(), created.id());
        assert_eq!(orders.partition_count(), 4);
        assert_eq!(
            orders.config().value("retention.ms", topics.defaults()),
            Ok("1000".to_owned())
        );
        assert!(topics.get("gone").is_none());
    }

    #[test]
    fn a_meta_file_with_no_partitions_is_corrupt_and_deletes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = BrokerConfig::new(dir.path());
        let topics = Topics::open(&config, 0).expect("open");
        let created = topics
            .create("orders", Some(2), 1, TopicConfig::default(), false, 0)
            .expect("create");
        drop(topics);
        let meta = dir.path().join(META_DIR).join("orders.topic");
        for partitions in ["0", "-3"] {
            fs::write(
                &meta,
                format!("id={}\npartitions={partitions}\n", created.id()),
            )
            .expect("write meta");
            assert!(matches!(
                Topics::open(&config, 0),
                Err(BrokerError::Corrupt { path, .. }) if path == meta
            ));
            assert!(dir.path().join("orders-0").is_dir());
            assert!(dir.path().join("orders-1").is_dir());
        }
    }

    /// Partitions added, or a config changed, take effect only once the
    /// topic's metadata file says so: a failed save changes nothing.
    #[test]
    fn changes_that_cannot_be_saved_are_not_applied() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = BrokerConfig::new(dir.path());
        let topics = Topics::open(&config, 0).expect("open");
        let topic = topics
            .create("orders", Some(1), 1, TopicConfig::default(), false, 0)
            .expect("create");
        // The save writes `orders.tmp` first: a directory there fails it.
        let blocker = dir.path().join(META_DIR).join("orders.tmp");
        fs::create_dir(&blocker).expect("blocker");
        assert!(topics.create_partitions("orders", 3, false, 0).is_err());
        assert_eq!(topic.partition_count(), 1);
        let retention = |config: &mut TopicConfig| config.set("retention.ms", "1000".to_owned());
        assert!(topics.alter_config("orders", false, retention).is_err());
        assert_eq!(topic.config(), TopicConfig::default());

        fs::remove_dir(&blocker).expect("unblock");
        topics
            .create_partitions("orders", 3, false, 0)
            .expect("grow");
        topics
            .alter_config("orders", false, retention)
            .expect("alter");
        drop(topics);
        let reopened = Topics::open(&config, 0).expect("reopen");
        let topic = reopened.get("orders").expect("kept");
        assert_eq!(topic.partition_count(), 3);
        assert_ne!(topic.config(), TopicConfig::default());
    }

    #[test]
    fn partition_counts_are_capped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = BrokerConfig {
            max_partitions: 4,
            ..BrokerConfig::new(dir.path())
        };
        let topics = Topics::open(&config, 0).expect("open");
        for count in [0, -2, 5, i32::MAX] {
            assert!(matches!(
                topics.create("big", Some(count), 1, TopicConfig::default(), false, 0),
                Err(TopicError::InvalidPartitions(_))
            ));
        }
        assert!(!dir.path().join("big-0").exists());
        topics
            .create("big", Some(3), 1, TopicConfig::default(), false, 0)
            .expect("create");
        assert!(matches!(
            topics.create_partitions("big", 5, false, 0),
            Err(TopicError::InvalidPartitions(_))
        ));
        assert!(!dir.path().join("big-3").exists());
        topics
            .create_partitions("big", 4, false, 0)
            .expect("grow to the limit");
    }

    #[test]
    fn a_name_being_created_or_deleted_cannot_be_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let topics = Topics::open(&BrokerConfig::new(dir.path()), 0).expect("open");
        let busy = topics.reserve("t").expect("reserve");
        for validate_only in [true, false] {
            assert!(matches!(
                topics.create("t", None, 1, TopicConfig::default(), validate_only, 0),
                Err(TopicError::AlreadyExists)
            ));
        }
        drop(busy);
        topics
            .create("t", None, 1, TopicConfig::default(), false, 0)
            .expect("create once released");
        assert!(lock(&topics.busy).is_empty());
        topics.delete("t").expect("delete");
        assert!(lock(&topics.busy).is_empty());
        topics
            .create("t", None, 1, TopicConfig::default(), false, 0)
            .expect("create again after deletion");
    }

    #[test]
    fn a_deletion_that_cannot_remove_the_metadata_file_keeps_the_topic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let topics = Topics::open(&BrokerConfig::new(dir.path()), 0).expect("open");
        let topic = topics
            .create("t", Some(2), 1, TopicConfig::default(), false, 0)
            .expect("create");
        // Removing a file fails on a directory.
        let meta = dir.path().join(META_DIR).join("t.topic");
        let text = fs::read_to_string(&meta).expect("read meta");
        fs::remove_file(&meta).expect("remove meta");
        fs::create_dir(&meta).expect("blocker");
        assert!(matches!(topics.delete("t"), Err(TopicError::Io(_))));
        assert!(Arc::ptr_eq(&topics.get("t").expect("kept"), &topic));
        assert_eq!(topic.partition_count(), 2);
        assert!(lock(&topics.busy).is_empty());

        fs::remove_dir(&meta).expect("unblock");
        fs::write(&meta, text).expect("restore meta");
        topics.delete("t").expect("delete");
        assert!(topics.get("t").is_none());
    }

    #[test]
    fn a_name_whose_logs_could_not_be_deleted_stays_reserved_until_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = BrokerConfig::new(dir.path());
        let topics = Topics::open(&config, 0).expect("open");
        topics
            .create("t", Some(2), 1, TopicConfig::default(), false, 0)
            .expect("create");
        // Deleting a log whose directory is already gone fails.
        fs::remove_dir_all(dir.path().join("t-0")).expect("remove log dir");
        assert!(matches!(topics.delete("t"), Err(TopicError::Io(_))));
        assert!(topics.get("t").is_none());
        assert!(dir.path().join("t-1").is_dir());
        assert!(matches!(
            topics.create("t", Some(1), 1, TopicConfig::default(), false, 0),
            Err(TopicError::AlreadyExists)
        ));
        drop(topics);

        let topics = Topics::open(&config, 0).expect("reopen");
        assert!(!dir.path().join("t-1").exists());
        topics
            .create("t", Some(1), 1, TopicConfig::default(), false, 0)
            .expect("create after restart");
    }

    /// A request that found the topic before a deletion must not save its
    /// metadata again afterwards.
    #[test]
    fn a_deleted_topic_cannot_be_grown_or_reconfigured() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = BrokerConfig::new(dir.path());
        let topics = Topics::open(&config, 0).expect("open");
        let topic = topics
            .create("t", Some(1), 1, TopicConfig::default(), false, 0)
            .expect("create");
        topics.delete("t").expect("delete");
        for validate_only in [true, false] {
            assert!(matches!(
                topics.grow(&topic, 2, validate_only, 0),
                Err(TopicError::Unknown)
            ));
            let retention =
                |config: &mut TopicConfig| config.set("retention.ms", "1000".to_owned());
            assert!(matches!(
                topics.reconfigure(&topic, validate_only, retention),
                Err(TopicError::Unknown)
            ));
        }
        assert!(!dir.path().join(META_DIR).join("t.topic").exists());
        assert!(!dir.path().join("t-1").exists());
        drop(topics);
        assert!(Topics::open(&config, 0).expect("reopen").get("t").is_none());
    }
}
