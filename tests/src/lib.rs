//! Cross-crate tests, in `tests/`: what no one crate can check alone, such
//! as a topology of the DSL run by the task engine against the bundled
//! broker, every record carried by librdkafka.
