# Sourced by the scripts: one shared cargo target directory outside the
# checkout, so fresh clones reuse the (slow) RocksDB and librdkafka builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kstreams-rs/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
