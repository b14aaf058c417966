#!/usr/bin/env bash
# The course's default scale, chosen by measurement: the 1-layer course models (final
# readout, random embeddings) over seeds for candidate settings, each run's test accuracy
# per epoch and CPU seconds. A setting shows the course's findings when the LSTM and GRU
# leave chance (test acc > 0.6) on at least 4 of 5 seeds with a mean of at least 0.75,
# while the plain RNN stays near chance.
#
#   bench/course-scale.sh "--subset 10000 --max-len 100 --hidden 64 --emb-dim 50 --lr 0.003 --epochs 5"
#
# Settings (environment): IMDB, SEEDS ["0 1 2 3 4"], CELLS ["lstm gru rnn"], THREADS [1],
# JOBS [2] (runs at once, THREADS each), BIN [target/release/imdb-rnn], OUT [new temp dir].
# Every run's line goes to $OUT/runs.txt as it finishes, the table to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
IMDB=${IMDB:-../shared/data/aclImdb_labeled.tar.gz}
SEEDS=${SEEDS:-"0 1 2 3 4"}
CELLS=${CELLS:-"lstm gru rnn"}
THREADS=${THREADS:-1}
JOBS=${JOBS:-2}
BIN=${BIN:-target/release/imdb-rnn}
OUT=${OUT:-$(mktemp -d /tmp/imdb-rnn-scale.XXXXXX)}
mkdir -p "$OUT/runs"
[ $# -ge 1 ] || { echo "usage: bench/course-scale.sh \"TRAIN FLAGS\" [\"TRAIN FLAGS\" ...]" >&2; exit 2; }
echo "$(date -u '+%F %T UTC') JOBS=$JOBS THREADS=$THREADS load $(cut -d' ' -f1-3 /proc/loadavg) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)" | tee -a "$OUT/runs.txt" >&2

# one SETTING CELL SEED: trains, prints "cell seed acc1/acc2/... cpu_s"
one() {
    local setting=$1 cell=$2 seed=$3 name
    name="$(echo "$setting" | tr -c 'a-z0-9.\n' '_')-$cell-s$seed"
    # shellcheck disable=SC2086
    /usr/bin/time -f '%U %S' -o "$OUT/runs/$name.time" "$BIN" train $setting --cell "$cell" --seed "$seed" \
        --threads "$THREADS" --imdb "$IMDB" --quiet --runs-dir "$OUT/runs" --name "$name" >/dev/null
    local accs cpu
    accs=$(awk -F, 'NR > 1 {printf "%s%.3f", (NR > 2 ? "/" : ""), $7}' "$OUT/runs/$name/metrics.csv")
    cpu=$(awk '{printf "%.0f", $1 + $2}' "$OUT/runs/$name.time")
    echo "$cell $seed $accs $cpu" | tee -a "$OUT/runs.txt" >&2
    echo "$cell $seed $accs $cpu"
}
export -f one
export BIN IMDB THREADS OUT

for setting in "$@"; do
    echo "setting: $setting" | tee -a "$OUT/runs.txt" >&2
    start=$(date +%s)
    results=$(for cell in $CELLS; do for seed in $SEEDS; do echo "$cell $seed"; done; done |
        xargs -P "$JOBS" -L 1 bash -c 'one "$0" "$1" "$2"' "$setting")
    wall=$(( $(date +%s) - start ))
    echo
    echo "**\`$setting\`** ($wall s wall for $(wc -l <<<"$results") runs, JOBS=$JOBS x THREADS=$THREADS)"
    echo
    echo "| cell | seeds | final test acc, mean ± std | left chance (> 0.6) | per seed (acc by epoch) | CPU s per run |"
    echo "|---|---:|---:|---:|---|---:|"
    for cell in $CELLS; do
        grep "^$cell " <<<"$results" | sort -k2n | awk -v cell="$cell" '{
            n++; split($3, e, "/"); a = e[length(e)]; s += a; ss += a * a; if (a > 0.6) up++; cpu += $4
            per = per (n > 1 ? "; " : "") "s" $2 ": " $3 }
            END { m = s / n; sd = (n > 1) ? sqrt((ss - n * m * m) / (n - 1)) : 0
                printf "| %s | %d | %.3f ± %.3f | %d of %d | %s | %.0f |\n", cell, n, m, sd, up, n, per, cpu / n }'
    done
done
echo "$(date -u '+%F %T UTC') done, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/runs.txt" >&2
