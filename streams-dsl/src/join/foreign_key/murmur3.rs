//! MurmurHash3 (x64, 128-bit): the hash a foreign-key join stamps on each
//! subscription to recognise stale responses.
//!
//! Kafka Streams hashes the serialized left value with this function and
//! the seed 104729 and keeps the two 64-bit halves; the hashes travel in
//! the subscription and response topics, so they must be bit-identical to
//! Kafka's for the topics to read the same.

/// The seed Kafka Streams hashes left values with.
const KAFKA_SEED: u32 = 104_729;

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

/// The 128-bit hash of a serialized left value, as its two 64-bit halves
/// (Kafka's `long[2]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValueHash(pub(crate) [u64; 2]);

impl ValueHash {
    /// The hash Kafka Streams gives `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> Self {
        Self(hash128(bytes, KAFKA_SEED))
    }
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

fn mix_k1(k1: u64) -> u64 {
    k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

fn mix_k2(k2: u64) -> u64 {
    k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

/// Reads up to 8 bytes as a little-endian number (the tail's partial
/// words are zero-padded).
fn little_endian(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0, |word, &byte| (word << 8) | u64::from(byte))
}

/// MurmurHash3_x64_128 of `data` with `seed`.
fn hash128(data: &[u8], seed: u32) -> [u64; 2] {
    let mut h1 = u64::from(seed);
    let mut h2 = u64::from(seed);
    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let (k1, k2) = block.split_at(8);
        h1 ^= mix_k1(little_endian(k1));
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(little_endian(k2));
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    if tail.len() > 8 {
        h2 ^= mix_k2(little_endian(&tail[8..]));
    }
    if !tail.is_empty() {
        h1 ^= mix_k1(little_endian(&tail[..tail.len().min(8)]));
    }
    // The length is mixed in as a 64-bit number, as Kafka's `long`.
    let length = data.len() as u64;
    h1 ^= length;
    h2 ^= length;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    [h1, h2]
}

#[cfg(test)]
mod tests {
    use super::hash128;

    /// Kafka's `Murmur3Test` vectors (seed 123), its signed longs written
    /// as the same bits.
    #[test]
    fn matches_kafka_test_vectors() {
        let cases: [(&[u8], [i64; 2]); 6] = [
            (b"21", [5857341059704281894, -5288187638297930763]),
            (b"foobar", [-351361463397418609, 8959716011862540668]),
            (
                b"a-little-bit-long-string",
                [8836256500583638442, -198172363548498523],
            ),
            (
                b"a-little-bit-longer-string",
                [1838346159335108511, 8794688210320490705],
            ),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                [-4024021876037397259, -1482317706335141238],
            ),
            (b"abc", [1489494923063836066, -5440978547625122829]),
        ];
        for (data, [h1, h2]) in cases {
            assert_eq!(hash128(data, 123), [h1 as u64, h2 as u64], "{data:?}");
        }
    }
}
