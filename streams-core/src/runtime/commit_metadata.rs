//! What a task commits with each input offset, for the next task of the
//! same partition: the partition's time, so stream time does not go back
//! across a restart or a move, and the processors' metadata (Kafka encodes
//! both in the offset's metadata string too).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The metadata committed with one input partition's offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CommitMetadata {
    /// The largest timestamp processed from the partition.
    #[serde(rename = "t")]
    pub(crate) partition_time: i64,
    /// The task's processor metadata.
    #[serde(rename = "p", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) processors: BTreeMap<String, i64>,
}

impl CommitMetadata {
    /// The string committed with the offset.
    pub(crate) fn encode(&self) -> String {
        // A struct of an integer and a string map always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The metadata in `committed`, or `None` for none (a first start) or
    /// for metadata another application left, which is logged and ignored:
    /// the task then starts its stream time afresh, as Kafka's does.
    pub(crate) fn decode(committed: &str) -> Option<Self> {
        if committed.is_empty() {
            return None;
        }
        match serde_json::from_str(committed) {
            Ok(metadata) => Some(metadata),
            Err(error) => {
                tracing::warn!(%error, committed, "ignoring unreadable commit metadata");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_and_foreign_metadata_is_ignored() {
        let metadata = CommitMetadata {
            partition_time: 1_700_000_000_000,
            processors: BTreeMap::from([("emit-final".to_owned(), 60_000)]),
        };
        assert_eq!(CommitMetadata::decode(&metadata.encode()), Some(metadata));
        let bare = CommitMetadata {
            partition_time: 5,
            processors: BTreeMap::new(),
        };
        assert_eq!(bare.encode(), r#"{"t":5}"#);
        assert_eq!(CommitMetadata::decode(r#"{"t":5}"#), Some(bare));
        assert_eq!(CommitMetadata::decode(""), None);
        assert_eq!(CommitMetadata::decode("AgAAAZKp"), None);
    }
}
