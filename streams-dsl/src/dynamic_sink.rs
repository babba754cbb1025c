//! `KStream::to_extractor`: a sink that chooses each record's topic, as
//! Kafka Streams' `to(TopicNameExtractor, Produced)`.

use streams_core::topology::{SinkTopic, TopicNameExtractor};

use crate::config::Produced;
use crate::kstream::KStream;

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Writes each record to the topic `extractor` picks for it (from key,
    /// value and the record's context: its input's topic, partition and
    /// offset, its timestamp and headers), as `produced` says (with the
    /// stream's serdes where it gives none). The topics must exist;
    /// `describe()` shows the sink with the extractor's type instead of a
    /// topic.
    pub fn to_extractor(
        &self,
        extractor: impl TopicNameExtractor<K, V> + 'static,
        produced: Produced<K, V>,
    ) {
        let name = self
            .builder
            .name_or(produced.name.as_deref(), "KSTREAM-SINK-");
        let options = produced.sink_options(self.key_serde.as_ref(), self.value_serde.as_ref());
        self.builder.with(|topology| {
            topology.add_sink(
                &name,
                SinkTopic::extractor(extractor),
                options,
                &[&self.node],
            );
        });
    }
}
