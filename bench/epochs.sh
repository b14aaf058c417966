#!/usr/bin/env bash
# Epoch time (train + test evaluation) of imdb-rnn against the course's PyTorch pipeline,
# alternating the two sides REPEATS times per cell so both see the same machine load;
# prints every run and a markdown table of medians (also $OUT/epochs.md). The epoch part
# of bench/run.sh, repeated, for a machine shared with other jobs.
#
#   THREADS=1 REPEATS=5 bench/epochs.sh
#   BIN_BEFORE=/tmp/imdb-rnn-old bench/epochs.sh     # also time another build (before/after)
#
# Settings (environment): IMDB, SUBSET [5000], CELLS ["rnn lstm gru"], THREADS [2],
# REPEATS [3], BIN [target/release/imdb-rnn], BIN_BEFORE [none], OUT [new temp dir].
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/env.sh
source scripts/env.sh
set -euo pipefail
IMDB=${IMDB:-../shared/data/aclImdb_labeled.tar.gz}
SUBSET=${SUBSET:-5000}
CELLS=${CELLS:-"rnn lstm gru"}
THREADS=${THREADS:-2}
REPEATS=${REPEATS:-3}
BIN=${BIN:-target/release/imdb-rnn}
BIN_BEFORE=${BIN_BEFORE:-}
OUT=${OUT:-$(mktemp -d /tmp/imdb-rnn-epochs.XXXXXX)}
PY=${IMDB_RNN_TORCH_PYTHON:-python}
[ -x "$BIN" ] || cargo build --release
mkdir -p "$OUT"
export OMP_NUM_THREADS=$THREADS IMDB_RNN_HOME="$OUT/home"
"$BIN" data --imdb "$IMDB" --quiet > /dev/null   # the cache, so no run pays for preparation

ours() {   # ours BIN LABEL CELL I -> "seconds accuracy"
    local dir="$OUT/runs/$2-$3-$4"
    rm -rf "$dir"
    "$1" train --cell "$3" --epochs 1 --subset "$SUBSET" --imdb "$IMDB" --device cpu --quiet \
        --runs-dir "$OUT/runs" --name "$2-$3-$4" > /dev/null
    tail -1 "$dir/metrics.csv" | awk -F, '{print $9, $7}'
}
reference() {   # reference CELL -> "seconds accuracy train_seconds eval_seconds"
    $PY bench/reference.py --cell "$1" --epochs 1 --subset "$SUBSET" --threads "$THREADS" --imdb "$IMDB" 2>/dev/null |
        $PY -c 'import json, sys; e = json.load(sys.stdin)["epochs"][0]; print(e["epoch_seconds"], e["test_acc"], e["train_seconds"], e["eval_seconds"])'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "$(date -u '+%F %T UTC') THREADS=$THREADS SUBSET=$SUBSET REPEATS=$REPEATS load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/runs.txt"
declare -A rs before py
for cell in $CELLS; do
    for i in $(seq "$REPEATS"); do
        r=$(ours "$BIN" now "$cell" "$i"); rs[$cell]+="${r%% *} "
        line="$cell $i imdb-rnn $r"
        if [ -n "$BIN_BEFORE" ]; then b=$(ours "$BIN_BEFORE" before "$cell" "$i"); before[$cell]+="${b%% *} "; line+=" | before $b"; fi
        p=$(reference "$cell"); py[$cell]+="${p%% *} "
        echo "$line | reference $p" | tee -a "$OUT/runs.txt"
    done
done
{
    echo "| cell, 1x128, $SUBSET reviews, THREADS=$THREADS | imdb-rnn s/epoch | reference s/epoch | ratio |${BIN_BEFORE:+ before s/epoch | before ratio |}"
    echo "|---|---:|---:|---:|${BIN_BEFORE:+---:|---:|}"
    for cell in $CELLS; do
        # shellcheck disable=SC2086
        a=$(median ${rs[$cell]}) r=$(median ${py[$cell]})
        row="| $cell (median of $REPEATS) | $a | $r | $(awk -v a="$a" -v r="$r" 'BEGIN {printf "%.2fx", a / r}') |"
        # shellcheck disable=SC2086
        [ -n "$BIN_BEFORE" ] && { b=$(median ${before[$cell]}); row+=" $b | $(awk -v a="$b" -v r="$r" 'BEGIN {printf "%.2fx", a / r}') |"; }
        echo "$row"
    done
    echo
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); runs in $OUT/runs.txt"
} | tee "$OUT/epochs.md"
