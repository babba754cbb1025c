//! Orders enriched with their customer, checked record for record through
//! the test driver.

use streams_core::prelude::*;
use streams_examples::enriched_orders::{self, CUSTOMERS_TOPIC, ENRICHED_TOPIC, ORDERS_TOPIC};

/// Each order is joined with its customer as the table holds it when the
/// order is processed, keeps the order's timestamp, and says so when the
/// customer is not known; a customer's later change or deletion only
/// affects later orders.
#[test]
fn each_order_carries_its_customer_at_the_time() -> Result<(), StreamsError> {
    let driver = TopologyTestDriver::new(&enriched_orders::topology()?)?;
    let customers = driver.create_input_topic(
        CUSTOMERS_TOPIC,
        StringSerde,
        OptionSerde::new(std::sync::Arc::new(StringSerde)),
    );
    let orders = driver.create_input_topic(ORDERS_TOPIC, StringSerde, StringSerde);
    let enriched = driver.create_output_topic(ENRICHED_TOPIC, StringSerde, StringSerde);
    let customer = |id: &str, name: Option<&str>, ts| {
        customers.pipe_input_at(id.to_owned(), name.map(str::to_owned), ts)
    };
    let order =
        |id: &str, order: &str, ts| orders.pipe_input_at(id.to_owned(), order.to_owned(), ts);

    customer("c1", Some("Ada"), 1_000)?;
    order("c1", "2 books", 2_000)?;
    order("c2", "1 lamp", 3_000)?;
    customer("c2", Some("Grace"), 4_000)?;
    customer("c1", Some("Ada L."), 5_000)?;
    order("c2", "3 pens", 6_000)?;
    order("c1", "1 desk", 7_000)?;
    customer("c1", None, 8_000)?;
    order("c1", "1 chair", 9_000)?;

    let expected = [
        ("c1", "2 books for Ada", 2_000),
        ("c2", "1 lamp for unknown customer", 3_000),
        ("c2", "3 pens for Grace", 6_000),
        ("c1", "1 desk for Ada L.", 7_000),
        ("c1", "1 chair for unknown customer", 9_000),
    ]
    .map(|(key, value, ts)| TestRecord::new(key.to_owned(), value.to_owned(), ts));
    assert_eq!(enriched.read_records_to_list()?, expected);
    Ok(())
}

/// The topology Kafka Streams would build for the same program: the
/// table's store is named first (`customers-STATE-STORE-0000000000`),
/// then its source nodes, then the stream's; the join reads the table's
/// store.
#[test]
fn describes_as_kafka_streams_does() -> Result<(), StreamsError> {
    let description = enriched_orders::topology()?.describe().to_string();
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000003 (topics: [orders])
      --> KSTREAM-LEFTJOIN-0000000004
    Processor: KSTREAM-LEFTJOIN-0000000004 (stores: [customers-STATE-STORE-0000000000])
      --> KSTREAM-SINK-0000000005
      <-- KSTREAM-SOURCE-0000000003
    Source: KSTREAM-SOURCE-0000000001 (topics: [customers])
      --> KTABLE-SOURCE-0000000002
    Sink: KSTREAM-SINK-0000000005 (topic: enriched-orders)
      <-- KSTREAM-LEFTJOIN-0000000004
    Processor: KTABLE-SOURCE-0000000002 (stores: [customers-STATE-STORE-0000000000])
      --> none
      <-- KSTREAM-SOURCE-0000000001

";
    assert_eq!(description, expected);
    Ok(())
}
