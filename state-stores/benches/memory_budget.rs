//! Peak memory of RocksDB stores under a memory budget.
//!
//! Writes 10 million keys into a RocksDB key-value store opened with a
//! 64 MiB [`RocksDbMemoryBudget`] and prints the peak resident set size
//! (`VmHWM` from `/proc/self/status`); target: within budget + 100 MiB.

use std::error::Error;
use std::time::Instant;

use state_stores::{
    KeyValueStore, RocksDbBackend, RocksDbKeyValueStore, RocksDbMemoryBudget, StateStore,
};

const KEYS: u64 = 10_000_000;
const VALUE_LEN: usize = 48;
const BUDGET_BYTES: usize = 64 << 20;

/// A `kB` field of `/proc/self/status`, in MiB.
fn status_mib(field: &str) -> Result<f64, Box<dyn Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .ok_or_else(|| format!("{field} missing from /proc/self/status"))?;
    let kib: f64 = line
        .trim_start_matches(field)
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib / 1024.0)
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let budget = RocksDbMemoryBudget::new(BUDGET_BYTES);
    let backend = RocksDbBackend::open("budget", dir.path(), &budget, None)?;
    let mut store = RocksDbKeyValueStore::new(backend);
    let baseline = status_mib("VmHWM")?;

    let start = Instant::now();
    let mut value = vec![0u8; VALUE_LEN];
    for i in 0..KEYS {
        // Scrambled keys, so compaction has real work to do.
        let key = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes();
        value[..8].copy_from_slice(&i.to_le_bytes());
        store.put(&key, &value)?;
        if i % 2_000_000 == 0 {
            println!(
                "{i:>9} keys  rss {:>7.1} MiB  peak {:>7.1} MiB  budget usage {:>6.1} MiB",
                status_mib("VmRSS")?,
                status_mib("VmHWM")?,
                budget.usage() as f64 / (1 << 20) as f64
            );
        }
    }
    store.flush()?;
    let elapsed = start.elapsed();
    let probe = 12_345u64.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes();
    let found = store.get(&probe)?.is_some();
    let peak = status_mib("VmHWM")?;
    let budget_mib = BUDGET_BYTES as f64 / (1 << 20) as f64;
    println!(
        "wrote {KEYS} keys ({VALUE_LEN}-byte values) in {:.1} s; probe found: {found}",
        elapsed.as_secs_f64()
    );
    println!("peak RSS {peak:.1} MiB (baseline before writing {baseline:.1} MiB), budget {budget_mib:.0} MiB");
    println!(
        "peak RSS - budget = {:.1} MiB (target <= 100 MiB): {}",
        peak - budget_mib,
        if peak <= budget_mib + 100.0 {
            "OK"
        } else {
            "OVER"
        }
    );
    store.close()?;
    Ok(())
}
