//! The processors DSL operators compile to, each a small Processor API
//! processor, as Kafka Streams' `KStreamFilter`, `KStreamMap`, ...

mod aggregate;
mod stateless;
mod table;

pub(crate) use aggregate::{Aggregate, Aggregator};
pub(crate) use stateless::{Action, Branch, Filter, FlatMap, Map, PassThrough, Peek, Predicate};
pub(crate) use table::{
    RepartitionMap, RowMapper, TableAggregate, TableAggregator, TableSource, TableValues,
};
