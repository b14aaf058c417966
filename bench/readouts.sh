#!/usr/bin/env bash
# Epoch time (train + test evaluation) of the length-aware readouts (issue 11): the GRU
# `last` readout at 400 tokens bucketed and unpacked against a build that packs and pads
# every batch to --max-len (BIN_BEFORE, e.g. main before issue 11), and `last` against
# the course's `final` at 200 tokens. All cases alternate within each repeat so they see
# the same machine load; prints every run and a markdown table of medians ($OUT/readouts.md).
#
#   BIN_BEFORE=/tmp/imdb-rnn-before THREADS=1 REPEATS=3 bench/readouts.sh
#
# Settings (environment): IMDB, SUBSET [2000], THREADS [1], REPEATS [3],
# BIN [target/release/imdb-rnn], BIN_BEFORE [required], OUT [new temp dir].
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/env.sh
source scripts/env.sh
set -euo pipefail
IMDB=${IMDB:-../shared/data/aclImdb_labeled.tar.gz}
SUBSET=${SUBSET:-2000}
THREADS=${THREADS:-1}
REPEATS=${REPEATS:-3}
BIN=${BIN:-target/release/imdb-rnn}
BIN_BEFORE=${BIN_BEFORE:?set BIN_BEFORE to the build to compare against}
OUT=${OUT:-$(mktemp -d /tmp/imdb-rnn-readouts.XXXXXX)}
[ -x "$BIN" ] || cargo build --release
mkdir -p "$OUT"
export OMP_NUM_THREADS=$THREADS IMDB_RNN_HOME="$OUT/home"
for len in 200 400; do   # the caches, so no timed run pays for preparation
    "$BIN" data --imdb "$IMDB" --max-len "$len" --quiet > /dev/null
done

epoch() {   # epoch NAME BIN ARGS... -> "seconds test_accuracy" of a one-epoch GRU run
    local name=$1 bin=$2
    shift 2
    rm -rf "$OUT/runs/$name"
    "$bin" train --cell gru --epochs 1 --subset "$SUBSET" --imdb "$IMDB" --device cpu --quiet \
        --runs-dir "$OUT/runs" --name "$name" "$@" > /dev/null
    tail -1 "$OUT/runs/$name/metrics.csv" | awk -F, '{print $9, $7}'
}
# shellcheck source=alternate.sh
source bench/alternate.sh

# label | binary | flags
CASES=(
    "before: last 400, packed, padded to 400|$BIN_BEFORE|--readout last --max-len 400"
    "now: last 400, unpacked, bucketed|$BIN|--readout last --max-len 400"
    "now: last 400, unpacked, random batches|$BIN|--readout last --max-len 400 --batching random"
    "before: last 200, packed, padded to 200|$BIN_BEFORE|--readout last --max-len 200"
    "now: last 200, unpacked, bucketed|$BIN|--readout last --max-len 200"
    "now: final 200 (course)|$BIN|--readout final --max-len 200"
)
alternate "THREADS=$THREADS SUBSET=$SUBSET REPEATS=$REPEATS"
{
    echo "| GRU 1x128, $SUBSET reviews, THREADS=$THREADS, median of $REPEATS | s/epoch | vs before, same max-len | vs final 200 |"
    echo "|---|---:|---:|---:|"
    # shellcheck disable=SC2086
    final=$(median ${secs[5]})
    for c in "${!CASES[@]}"; do
        IFS='|' read -r label _ _ <<< "${CASES[$c]}"
        # shellcheck disable=SC2086
        s=$(median ${secs[$c]})
        base=$(if [ "$c" -lt 3 ]; then median ${secs[0]}; elif [ "$c" -lt 5 ]; then median ${secs[3]}; else echo 0; fi)
        awk -v l="$label" -v s="$s" -v b="$base" -v f="$final" \
            'BEGIN {printf "| %s | %.2f | %s | %.2fx |\n", l, s, (b > 0 ? sprintf("%.2fx faster", b / s) : "–"), s / f}'
    done
} | tee "$OUT/readouts.md"
