//! Choosing the partition a sink writes a record to.

use std::sync::Arc;

/// Chooses the partition of each record a sink writes.
pub trait StreamPartitioner<K, V>: Send + Sync {
    /// The partition of `topic` (which has `partitions` partitions), or
    /// `None` for the producer's default partitioning by key hash.
    fn partition(&self, topic: &str, key: &K, value: &V, partitions: i32) -> Option<i32>;
}

impl<K, V, F> StreamPartitioner<K, V> for F
where
    F: Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync,
{
    fn partition(&self, topic: &str, key: &K, value: &V, partitions: i32) -> Option<i32> {
        self(topic, key, value, partitions)
    }
}

impl<K, V, P: StreamPartitioner<K, V> + ?Sized> StreamPartitioner<K, V> for Arc<P> {
    fn partition(&self, topic: &str, key: &K, value: &V, partitions: i32) -> Option<i32> {
        (**self).partition(topic, key, value, partitions)
    }
}

/// The partition Kafka's producers choose for a record whose serialized
/// key is `key`, among `partitions` (at least 1): the positive murmur2
/// hash of the key modulo the partition count. A partitioner that must
/// agree with the producer's default (as Kafka's windowed partitioner
/// does, for a part of the key) uses this.
///
/// ```
/// use streams_core::topology::partition_for_key;
///
/// let partition = partition_for_key(b"user-42", 6);
/// assert!((0..6).contains(&partition));
/// assert_eq!(partition, partition_for_key(b"user-42", 6));
/// ```
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    // Kafka's `toPositive`: clear the sign bit (not `abs`, which
    // overflows on `i32::MIN`).
    (murmur2(key) & 0x7fff_ffff) % partitions.max(1)
}

/// The 32-bit murmur2 hash with Kafka's seed, as its clients compute it.
fn murmur2(data: &[u8]) -> i32 {
    const M: u32 = 0x5bd1_e995;
    const SEED: u32 = 0x9747_b28c;
    // Kafka hashes with Java `int`s: the length wraps as an `int` would.
    let mut hash = SEED ^ data.len() as u32;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        hash = hash.wrapping_mul(M) ^ k;
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate().rev() {
            hash ^= u32::from(byte) << (8 * i);
        }
        hash = hash.wrapping_mul(M);
    }
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(M);
    hash ^= hash >> 15;
    hash as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases of Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn murmur2_matches_kafka() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (data, expected) in cases {
            assert_eq!(
                murmur2(data),
                expected,
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn partitions_are_in_range_even_for_negative_hashes() {
        // "21" hashes negative.
        assert_eq!(
            partition_for_key(b"21", 7),
            (-973_932_308 & 0x7fff_ffff) % 7
        );
        for key in [&b""[..], b"a", b"ab", b"abc", b"abcd", b"abcde"] {
            assert!((0..3).contains(&partition_for_key(key, 3)));
        }
        assert_eq!(partition_for_key(b"any", 0), 0);
    }
}
