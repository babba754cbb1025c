//! Cross-crate tests, in `tests/`: what no one crate can check alone, such
//! as a topology of the DSL run by `KafkaStreams` against the bundled
//! broker, every record carried by librdkafka.
