#!/usr/bin/env bash
# Runs the whole test suite (unit, CLI, learning and fault tests). No network, no real data.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --release --locked
cargo test --release --locked "$@"
