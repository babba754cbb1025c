//! Orders enriched with their customer, with the DSL: a stream of orders
//! left-joined with a table of customers, both keyed by customer id.

use streams_core::prelude::*;
use streams_dsl::StreamsBuilder;

/// The topic orders are read from: customer id as key, the order as value.
pub const ORDERS_TOPIC: &str = "orders";
/// The topic customers are read from: customer id as key, the name as
/// value (a null value deletes the customer).
pub const CUSTOMERS_TOPIC: &str = "customers";
/// The topic enriched orders are written to.
pub const ENRICHED_TOPIC: &str = "enriched-orders";

/// Writes each order with the name its customer has when the order is
/// processed, or `unknown customer` if the table has none yet. Later
/// changes of the customer do not rewrite earlier orders: a stream-table
/// join looks the table up once, per order.
pub fn topology() -> Result<Topology, StreamsError> {
    let builder = StreamsBuilder::new();
    let customers = builder.table::<String, String>(CUSTOMERS_TOPIC);
    builder
        .stream::<String, String>(ORDERS_TOPIC)
        .left_join_table(&customers, |order, customer: Option<&String>| {
            let customer = customer.map_or("unknown customer", String::as_str);
            format!("{order} for {customer}")
        })
        .to(ENRICHED_TOPIC);
    Ok(builder.build()?)
}
