//! `StreamsBuilder::add_state_store`: stores the program's own processors
//! (`process`, `process_values`) use, as Kafka Streams' `addStateStore`.

use streams_core::state::StoreBuilder;

use crate::builder::StreamsBuilder;

impl StreamsBuilder {
    /// Adds a state store for processors of this program; name it in
    /// [`KStream::process`](crate::KStream::process) or
    /// [`KStream::process_values`](crate::KStream::process_values) to
    /// connect it. A store no processor uses is left out of the topology,
    /// as in Kafka Streams: never built, and without a changelog.
    pub fn add_state_store(&self, store: impl StoreBuilder) -> &Self {
        self.builder.with(|topology| {
            topology.add_state_store(store, &[]);
        });
        self
    }
}
