#!/usr/bin/env bash
# The main job: build imdb-rnn, fetch IMDB when it is not cached, and train the course's
# default experiment (1-layer LSTM, random embeddings, 5 epochs). Extra arguments go to
# `imdb-rnn train`, e.g. `scripts/main.sh --cell gru --epochs 2`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --release --locked
exec target/release/imdb-rnn train "$@"
