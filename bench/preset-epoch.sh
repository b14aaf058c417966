#!/usr/bin/env bash
# Epoch time (train + test evaluation) of the 0.90 preset's shape (issue 11): a
# bidirectional GRU with a pooled readout over 800 tokens and a 30,000-word vocabulary,
# as main ran it before issue 11 (packed, every batch padded to 800: BIN_BEFORE) against
# the same model unpacked and bucketed, and against configs/best.toml itself (meanmax,
# dropouts, AdamW, cosine schedule). The cases alternate within each repeat so they see
# the same machine load; prints every run and a markdown table of medians ($OUT/preset.md).
#
#   BIN_BEFORE=/tmp/imdb-rnn-before THREADS=1 SUBSET=1000 REPEATS=2 bench/preset-epoch.sh
#
# Settings (environment): IMDB, GLOVE [../shared/data/glove-wiki-gigaword-50.gz], SUBSET [1000], THREADS [1], REPEATS [2],
# BIN [target/release/imdb-rnn], BIN_BEFORE [required], OUT [new temp dir].
set -euo pipefail
cd "$(dirname "$0")/.."
IMDB=${IMDB:-../shared/data/aclImdb_labeled.tar.gz}
GLOVE=${GLOVE:-../shared/data/glove-wiki-gigaword-50.gz}
SUBSET=${SUBSET:-1000}
THREADS=${THREADS:-1}
REPEATS=${REPEATS:-2}
BIN=${BIN:-target/release/imdb-rnn}
BIN_BEFORE=${BIN_BEFORE:?set BIN_BEFORE to the build to compare against}
OUT=${OUT:-$(mktemp -d /tmp/imdb-rnn-preset.XXXXXX)}
mkdir -p "$OUT"
export OMP_NUM_THREADS=$THREADS IMDB_RNN_HOME="$OUT/home"
SHAPE="--cell gru --bidirectional --readout max --max-len 800 --vocab-size 30000 --clip 1"
"$BIN" data --imdb "$IMDB" --max-len 800 --vocab-size 30000 --quiet > /dev/null   # the cache, so no timed run pays for it

epoch() {   # epoch NAME BIN ARGS... -> seconds of a one-epoch run
    local name=$1 bin=$2
    shift 2
    rm -rf "$OUT/runs/$name"
    "$bin" train --epochs 1 --subset "$SUBSET" --imdb "$IMDB" --device cpu --quiet \
        --runs-dir "$OUT/runs" --name "$name" "$@" > /dev/null
    tail -1 "$OUT/runs/$name/metrics.csv" | awk -F, '{print $9}'
}
# shellcheck source=alternate.sh
source bench/alternate.sh

# label | binary | flags
CASES=(
    "before: BiGRU max 800, packed, padded to 800|$BIN_BEFORE|$SHAPE"
    "now: BiGRU max 800, unpacked, bucketed|$BIN|$SHAPE"
    "now: configs/best.toml (BiGRU meanmax 800, dropouts, AdamW, cosine)|$BIN|--config configs/best.toml --glove $GLOVE"
)
alternate "THREADS=$THREADS SUBSET=$SUBSET REPEATS=$REPEATS"
{
    echo "| $SUBSET reviews, THREADS=$THREADS, median of $REPEATS | s/epoch | vs before |"
    echo "|---|---:|---:|"
    # shellcheck disable=SC2086
    base=$(median ${secs[0]})
    for c in "${!CASES[@]}"; do
        IFS='|' read -r label _ _ <<< "${CASES[$c]}"
        # shellcheck disable=SC2086
        s=$(median ${secs[$c]})
        awk -v l="$label" -v s="$s" -v b="$base" 'BEGIN {printf "| %s | %.2f | %.2fx faster |\n", l, s, b / s}'
    done
} | tee "$OUT/preset.md"
