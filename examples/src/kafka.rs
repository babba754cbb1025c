//! The few client calls the examples make around a running application:
//! creating its input and output topics, writing input, reading output.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset, Timestamp, TopicPartitionList};
use streams_core::serde::Deserializer;

/// The examples' errors: the client's, the serdes', the runtime's.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

const TIMEOUT: Duration = Duration::from_secs(30);

fn client(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    config
}

/// Creates `topics` with one partition each; topics that exist are left
/// as they are.
pub fn create_topics(bootstrap: &str, topics: &[&str]) -> Result<(), Error> {
    let admin: AdminClient<DefaultClientContext> = client(bootstrap).create()?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|topic| NewTopic::new(topic, 1, TopicReplication::Fixed(-1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    let created = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(admin.create_topics(&new, &options))?;
    for result in created {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(format!("creating {topic}: {code}").into()),
        }
    }
    Ok(())
}

/// Writes `values` to `topic`, with null keys, and waits until they are
/// acknowledged.
pub fn produce_values(bootstrap: &str, topic: &str, values: &[&str]) -> Result<(), Error> {
    let producer: ThreadedProducer<DefaultProducerContext> =
        client(bootstrap).set("acks", "all").create()?;
    for value in values {
        producer
            .send(BaseRecord::<(), str>::to(topic).payload(*value))
            .map_err(|(error, _)| error)?;
    }
    producer.flush(TIMEOUT)?;
    Ok(())
}

/// Reads a one-partition topic from its start, as an application's user
/// would (read-committed: only what committed transactions wrote).
pub struct Reader {
    consumer: BaseConsumer,
}

impl Reader {
    /// A reader of partition 0 of `topic`.
    pub fn new(bootstrap: &str, topic: &str) -> Result<Self, Error> {
        let consumer: BaseConsumer = client(bootstrap)
            .set("group.id", "example-reader")
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .create()?;
        let mut assignment = TopicPartitionList::new();
        assignment.add_partition_offset(topic, 0, Offset::Beginning)?;
        consumer.assign(&assignment)?;
        Ok(Self { consumer })
    }

    /// The records that arrived within 100 ms, deserialized: (key, value,
    /// timestamp).
    pub fn poll<K, V>(
        &mut self,
        keys: impl Deserializer<K>,
        values: impl Deserializer<V>,
    ) -> Result<Vec<(K, V, i64)>, Error> {
        let mut records = Vec::new();
        let mut timeout = Duration::from_millis(100);
        while let Some(message) = self.consumer.poll(timeout) {
            let message = match message {
                Ok(message) => message,
                Err(KafkaError::PartitionEOF(_)) => break,
                Err(error) => return Err(error.into()),
            };
            let timestamp = match message.timestamp() {
                Timestamp::CreateTime(ms) | Timestamp::LogAppendTime(ms) => ms,
                Timestamp::NotAvailable => -1,
            };
            let key = keys.deserialize(message.topic(), message.key())?;
            let value = values.deserialize(message.topic(), message.payload())?;
            records.push((key, value, timestamp));
            timeout = Duration::ZERO;
        }
        Ok(records)
    }
}
