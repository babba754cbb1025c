//! Orders enriched with their customer's name, run on the in-process test
//! driver.

use streams_core::prelude::*;
use streams_examples::enriched_orders::{self, CUSTOMERS_TOPIC, ENRICHED_TOPIC, ORDERS_TOPIC};

fn main() -> Result<(), StreamsError> {
    let topology = enriched_orders::topology()?;
    println!("{}", topology.describe());

    let driver = TopologyTestDriver::new(&topology)?;
    let customers = driver.create_input_topic(CUSTOMERS_TOPIC, StringSerde, StringSerde);
    let orders = driver.create_input_topic(ORDERS_TOPIC, StringSerde, StringSerde);
    let enriched = driver.create_output_topic(ENRICHED_TOPIC, StringSerde, StringSerde);

    customers.pipe_input_at("c1".to_owned(), "Ada".to_owned(), 1_000)?;
    orders.pipe_input_at("c1".to_owned(), "2 books".to_owned(), 2_000)?;
    orders.pipe_input_at("c2".to_owned(), "1 lamp".to_owned(), 3_000)?;
    customers.pipe_input_at("c2".to_owned(), "Grace".to_owned(), 4_000)?;
    customers.pipe_input_at("c1".to_owned(), "Ada L.".to_owned(), 5_000)?;
    orders.pipe_input_at("c2".to_owned(), "3 pens".to_owned(), 6_000)?;
    orders.pipe_input_at("c1".to_owned(), "1 desk".to_owned(), 7_000)?;

    println!("enriched orders (customer: order @ timestamp):");
    for record in enriched.read_records_to_list()? {
        println!("  {}: {} @ {}", record.key, record.value, record.timestamp);
    }
    driver.close()
}
