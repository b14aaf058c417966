#!/usr/bin/env bash
# Runs the whole test suite (unit, CLI, learning and fault tests), after the checks that
# keep the code as it is written: rustfmt (rustfmt.toml) and clippy with warnings denied.
# No network, no real data.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo fmt --check
cargo build --release --locked
cargo clippy --release --all-targets --locked -- -D warnings
cargo test --release --locked "$@"
