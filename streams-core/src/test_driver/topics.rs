//! Test input and output topics.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use super::DriverHandle;
use crate::engine::millis;
use crate::error::StreamsError;
use crate::record::{Headers, ProducerRecord};
use crate::serde::{Deserializer, Serializer};

/// A record as a test reads or writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct TestRecord<K, V> {
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// The timestamp.
    pub timestamp: i64,
    /// The headers.
    pub headers: Headers,
}

impl<K, V> TestRecord<K, V> {
    /// A record without headers.
    pub fn new(key: K, value: V, timestamp: i64) -> Self {
        Self {
            key,
            value,
            timestamp,
            headers: Headers::new(),
        }
    }
}

/// Writes typed records into a topic of a [`TopologyTestDriver`](super::TopologyTestDriver).
pub struct TestInputTopic<K, V> {
    driver: DriverHandle,
    topic: String,
    key: Box<dyn Serializer<K>>,
    value: Box<dyn Serializer<V>>,
    current_ms: Cell<i64>,
    auto_advance_ms: i64,
}

impl<K, V> TestInputTopic<K, V> {
    pub(super) fn new(
        driver: DriverHandle,
        topic: &str,
        key: Box<dyn Serializer<K>>,
        value: Box<dyn Serializer<V>>,
        start_ms: i64,
        auto_advance: Duration,
    ) -> Self {
        Self {
            driver,
            topic: topic.to_owned(),
            key,
            value,
            current_ms: Cell::new(start_ms),
            auto_advance_ms: millis(auto_advance),
        }
    }

    /// The topic's current time, used for records piped without a timestamp.
    fn take_time(&self) -> i64 {
        let now = self.current_ms.get();
        self.current_ms
            .set(now.saturating_add(self.auto_advance_ms));
        now
    }

    fn serde_error(&self, source: crate::serde::SerdeError) -> StreamsError {
        StreamsError::Serde {
            context: format!("test input topic `{}`", self.topic),
            source,
        }
    }

    fn pipe(
        &self,
        key: Option<&K>,
        value: &V,
        timestamp: i64,
        headers: Headers,
    ) -> Result<(), StreamsError> {
        let key = match key {
            Some(key) => self
                .key
                .serialize(&self.topic, key)
                .map_err(|e| self.serde_error(e))?,
            None => None,
        };
        let value = self
            .value
            .serialize(&self.topic, value)
            .map_err(|e| self.serde_error(e))?;
        self.driver
            .pipe(&self.topic, key, value, timestamp, headers)
    }

    /// Pipes a record with a null key at the topic's current time.
    pub fn pipe_value(&self, value: V) -> Result<(), StreamsError> {
        let timestamp = self.take_time();
        self.pipe(None, &value, timestamp, Headers::new())
    }

    /// Pipes a record with a null key at `timestamp`.
    pub fn pipe_value_at(&self, value: V, timestamp: i64) -> Result<(), StreamsError> {
        self.pipe(None, &value, timestamp, Headers::new())
    }

    /// Pipes a keyed record at the topic's current time.
    pub fn pipe_input(&self, key: K, value: V) -> Result<(), StreamsError> {
        let timestamp = self.take_time();
        self.pipe(Some(&key), &value, timestamp, Headers::new())
    }

    /// Pipes a keyed record at `timestamp` (the topic's time is unchanged).
    pub fn pipe_input_at(&self, key: K, value: V, timestamp: i64) -> Result<(), StreamsError> {
        self.pipe(Some(&key), &value, timestamp, Headers::new())
    }

    /// Pipes a whole record, headers included.
    pub fn pipe_record(&self, record: TestRecord<K, V>) -> Result<(), StreamsError> {
        self.pipe(
            Some(&record.key),
            &record.value,
            record.timestamp,
            record.headers,
        )
    }

    /// Pipes values with null keys, each at the topic's current time.
    pub fn pipe_value_list(&self, values: impl IntoIterator<Item = V>) -> Result<(), StreamsError> {
        values
            .into_iter()
            .try_for_each(|value| self.pipe_value(value))
    }

    /// Pipes key-value pairs, each at the topic's current time.
    pub fn pipe_key_value_list(
        &self,
        records: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), StreamsError> {
        records
            .into_iter()
            .try_for_each(|(key, value)| self.pipe_input(key, value))
    }

    /// Moves the topic's time forward (stream time and the wall clock are
    /// not affected).
    pub fn advance_time(&self, by: Duration) {
        self.current_ms
            .set(self.current_ms.get().saturating_add(millis(by)));
    }
}

/// Reads typed records from a topic of a [`TopologyTestDriver`](super::TopologyTestDriver).
pub struct TestOutputTopic<K, V> {
    driver: DriverHandle,
    topic: String,
    key: Box<dyn Deserializer<K>>,
    value: Box<dyn Deserializer<V>>,
}

impl<K, V> TestOutputTopic<K, V> {
    pub(super) fn new(
        driver: DriverHandle,
        topic: &str,
        key: Box<dyn Deserializer<K>>,
        value: Box<dyn Deserializer<V>>,
    ) -> Self {
        Self {
            driver,
            topic: topic.to_owned(),
            key,
            value,
        }
    }

    fn next(&self) -> Result<ProducerRecord, StreamsError> {
        self.driver
            .read(&self.topic)
            .ok_or_else(|| StreamsError::NoRecord(self.topic.clone()))
    }

    fn decode(&self, record: ProducerRecord) -> Result<TestRecord<K, V>, StreamsError> {
        let serde_error = |source| StreamsError::Serde {
            context: format!("test output topic `{}`", self.topic),
            source,
        };
        Ok(TestRecord {
            key: self
                .key
                .deserialize(&self.topic, record.key.as_deref())
                .map_err(serde_error)?,
            value: self
                .value
                .deserialize(&self.topic, record.value.as_deref())
                .map_err(serde_error)?,
            timestamp: record.timestamp,
            headers: record.headers,
        })
    }

    /// Reads the next record whole. Errors with [`StreamsError::NoRecord`]
    /// when the topic is empty.
    pub fn read_record(&self) -> Result<TestRecord<K, V>, StreamsError> {
        let record = self.next()?;
        self.decode(record)
    }

    /// Reads the next value.
    pub fn read_value(&self) -> Result<V, StreamsError> {
        self.read_record().map(|record| record.value)
    }

    /// Reads the next key and value.
    pub fn read_key_value(&self) -> Result<(K, V), StreamsError> {
        self.read_record().map(|record| (record.key, record.value))
    }

    /// Reads every remaining record.
    pub fn read_records_to_list(&self) -> Result<Vec<TestRecord<K, V>>, StreamsError> {
        std::iter::from_fn(|| self.driver.read(&self.topic))
            .map(|record| self.decode(record))
            .collect()
    }

    /// Reads every remaining value.
    pub fn read_values_to_list(&self) -> Result<Vec<V>, StreamsError> {
        Ok(self
            .read_records_to_list()?
            .into_iter()
            .map(|record| record.value)
            .collect())
    }

    /// Reads every remaining key and value.
    pub fn read_key_values_to_list(&self) -> Result<Vec<(K, V)>, StreamsError> {
        Ok(self
            .read_records_to_list()?
            .into_iter()
            .map(|record| (record.key, record.value))
            .collect())
    }

    /// Reads every remaining record into a map holding the last value per
    /// key. A null key is an error, as in Kafka Streams.
    pub fn read_key_values_to_map(&self) -> Result<HashMap<K, V>, StreamsError>
    where
        K: Eq + Hash,
    {
        let mut map = HashMap::new();
        while let Some(record) = self.driver.read(&self.topic) {
            if record.key.is_none() {
                return Err(StreamsError::NullKey(self.topic.clone()));
            }
            let record = self.decode(record)?;
            map.insert(record.key, record.value);
        }
        Ok(map)
    }

    /// Records waiting to be read.
    pub fn queue_size(&self) -> usize {
        self.driver.queue_size(&self.topic)
    }

    /// Whether no records wait to be read.
    pub fn is_empty(&self) -> bool {
        self.queue_size() == 0
    }
}
