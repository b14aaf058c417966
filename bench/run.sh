#!/usr/bin/env bash
# Side-by-side benchmark of imdb-rnn and the course's PyTorch pipeline (bench/reference.py)
# on this machine; prints a markdown table (also written to $OUT/results.md).
#
#   bench/run.sh                      # everything, about 10-15 minutes on 2 cores
#   SUBSET=1000 CELLS=lstm bench/run.sh
#
# Settings (environment):
#   IMDB     aclImdb archive            [../shared/data/aclImdb_labeled.tar.gz]
#   GLOVE    GloVe file for (3)         [../shared/data/glove-wiki-gigaword-50.gz]
#   SUBSET   reviews per split for (5)  [5000]
#   EPOCHS   epochs per training run    [1]
#   CELLS    cells for (5)              ["rnn lstm gru"]
#   THREADS  torch threads, both sides  [2]  (OMP_NUM_THREADS for imdb-rnn,
#                                            torch.set_num_threads in the reference)
#   REPEATS  runs of each data measure  [3]  (the median is reported)
#   BIN      imdb-rnn binary            [target/release/imdb-rnn, built if missing]
#   OUT      where logs and run directories go [a new /tmp/imdb-rnn-bench.XXXXXX]
#
# imdb-rnn's in-process phase times come from IMDB_RNN_TIMINGS=1 (stderr lines
# "imdb-rnn timing: <phase> <seconds> s"); whole-process times include loading libtorch,
# which `imdb-rnn --version` measures alone.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/env.sh
source scripts/env.sh
set -euo pipefail

IMDB=${IMDB:-../shared/data/aclImdb_labeled.tar.gz}
GLOVE=${GLOVE:-../shared/data/glove-wiki-gigaword-50.gz}
SUBSET=${SUBSET:-5000}
EPOCHS=${EPOCHS:-1}
CELLS=${CELLS:-"rnn lstm gru"}
THREADS=${THREADS:-2}
REPEATS=${REPEATS:-3}
BIN=${BIN:-target/release/imdb-rnn}
OUT=${OUT:-$(mktemp -d /tmp/imdb-rnn-bench.XXXXXX)}
PY=python # the venv's, first on PATH after scripts/env.sh
mkdir -p "$OUT"
notes=()

if ! [ -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "bench: /usr/bin/time missing; installing Debian's 'time' package" >&2
        apt-get install -y -qq time >/dev/null
        notes+=("/usr/bin/time was missing and was installed with apt-get install time")
    else
        echo "bench: /usr/bin/time is needed (apt-get install time)" >&2
        exit 1
    fi
fi
[ -x "$BIN" ] || cargo build --release
for f in "$IMDB" "$GLOVE"; do [ -f "$f" ] || { echo "bench: $f not found" >&2; exit 1; }; done
export OMP_NUM_THREADS=$THREADS

median() { $PY -c 'import sys, statistics; print("%.3f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
ratio() { $PY -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print("%.2fx" % (a / b) if b else "n/a")' "$1" "$2"; }
# timed LOG CMD...: runs CMD with stdout to LOG.out, stderr to LOG.err and /usr/bin/time's
# "wall maxrss_kb user sys" to LOG.time.
timed() {
    local log=$1; shift
    /usr/bin/time -f "%e %M %U %S" -o "$log.time" "$@" >"$log.out" 2>"$log.err"
}
wall_of() { cut -d' ' -f1 "$1.time"; }
rss_mb_of() { awk '{printf "%.0f", $2 / 1024}' "$1.time"; }
# phase LOG NAME: seconds of "imdb-rnn timing: NAME X s" in LOG.err
phase() { grep -F "imdb-rnn timing: $2 " "$1.err" | tail -1 | awk '{print $(NF-1)}'; }
json_get() { $PY -c 'import json, sys; d = json.load(open(sys.argv[1])); [d := d[k] for k in sys.argv[2:]]; print(d)' "$@"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: results in $OUT (load average $load_before)" >&2

# (0) process start-up: loading libtorch, before any work
starts=()
for i in $(seq "$REPEATS"); do
    timed "$OUT/version-$i" "$BIN" --version
    starts+=("$(wall_of "$OUT/version-$i")")
done
startup=$(median "${starts[@]}")

# (1) data preparation from the archive (a fresh data home each time: no cache)
arch_wall=() arch_prep=() arch_save=() arch_rss=()
for i in $(seq "$REPEATS"); do
    home="$OUT/home-$i"
    rm -rf "$home"
    IMDB_RNN_HOME="$home" IMDB_RNN_TIMINGS=1 timed "$OUT/data-archive-$i" "$BIN" data --imdb "$IMDB"
    arch_wall+=("$(wall_of "$OUT/data-archive-$i")")
    arch_prep+=("$(phase "$OUT/data-archive-$i" 'prepare (read+tokenize+vocab+encode)')")
    arch_save+=("$(phase "$OUT/data-archive-$i" 'cache save')")
    arch_rss+=("$(rss_mb_of "$OUT/data-archive-$i")")
done
grep -q "5820271 (120775 distinct)" "$OUT/data-archive-1.out" \
    || notes+=("imdb-rnn data did NOT report 5,820,271 train tokens / 120,775 distinct (see $OUT/data-archive-1.out)")
ref_total=() ref_read=() ref_vocab=() ref_encode=() ref_wall=() ref_rss=()
for i in $(seq "$REPEATS"); do
    timed "$OUT/ref-prep-$i" $PY bench/reference.py --prep-only --imdb "$IMDB" --threads "$THREADS"
    for k in total read vocab encode; do
        v=$(json_get "$OUT/ref-prep-$i.out" prep "${k}_seconds")
        eval "ref_$k+=(\"\$v\")"
    done
    ref_wall+=("$(wall_of "$OUT/ref-prep-$i")")
    ref_rss+=("$(rss_mb_of "$OUT/ref-prep-$i")")
done

# (2) loading the encoded dataset from the cache (the home of the last run above)
cache_wall=() cache_load=() cache_rss=()
for i in $(seq "$REPEATS"); do
    IMDB_RNN_HOME="$OUT/home-$REPEATS" IMDB_RNN_TIMINGS=1 timed "$OUT/data-cache-$i" "$BIN" data --imdb "$IMDB"
    cache_wall+=("$(wall_of "$OUT/data-cache-$i")")
    cache_load+=("$(phase "$OUT/data-cache-$i" 'cache load')")
    cache_rss+=("$(rss_mb_of "$OUT/data-cache-$i")")
done

# (3) GloVe 50d into a [10002, 50] matrix (dataset from the cache)
glove_wall=() glove_load=() glove_rss=()
for i in $(seq "$REPEATS"); do
    IMDB_RNN_HOME="$OUT/home-$REPEATS" IMDB_RNN_TIMINGS=1 timed "$OUT/data-glove-$i" "$BIN" data --imdb "$IMDB" --glove "$GLOVE"
    glove_wall+=("$(wall_of "$OUT/data-glove-$i")")
    glove_load+=("$(phase "$OUT/data-glove-$i" 'glove load')")
    glove_rss+=("$(rss_mb_of "$OUT/data-glove-$i")")
done

# (5) one training epoch (train + test evaluation), same subset, same thread count
declare -A rs_epoch rs_acc rs_wall py_epoch py_train py_eval py_acc py_wall
for cell in $CELLS; do
    runs="$OUT/runs"
    IMDB_RNN_HOME="$OUT/home-$REPEATS" timed "$OUT/train-$cell" "$BIN" train --cell "$cell" --layers 1 --hidden 128 \
        --batch-size 64 --max-len 200 --epochs "$EPOCHS" --subset "$SUBSET" --imdb "$IMDB" --device cpu \
        --json --quiet --runs-dir "$runs" --name "$cell"
    rs_epoch[$cell]=$($PY -c 'import csv, sys; r = list(csv.DictReader(open(sys.argv[1]))); print("%.3f" % (sum(float(x["epoch_seconds"]) for x in r) / len(r)))' "$runs/$cell/metrics.csv")
    rs_acc[$cell]=$(tail -1 "$runs/$cell/metrics.csv" | cut -d, -f7)
    rs_wall[$cell]=$(wall_of "$OUT/train-$cell")
    timed "$OUT/ref-train-$cell" $PY bench/reference.py --cell "$cell" --layers 1 --epochs "$EPOCHS" \
        --subset "$SUBSET" --threads "$THREADS" --imdb "$IMDB"
    py_epoch[$cell]=$(json_get "$OUT/ref-train-$cell.out" mean_epoch_seconds)
    py_train[$cell]=$($PY -c 'import json, sys; e = json.load(open(sys.argv[1]))["epochs"]; print(sum(x["train_seconds"] for x in e) / len(e))' "$OUT/ref-train-$cell.out")
    py_eval[$cell]=$($PY -c 'import json, sys; e = json.load(open(sys.argv[1]))["epochs"]; print(sum(x["eval_seconds"] for x in e) / len(e))' "$OUT/ref-train-$cell.out")
    py_acc[$cell]=$(json_get "$OUT/ref-train-$cell.out" final_test_acc)
    py_wall[$cell]=$(wall_of "$OUT/ref-train-$cell")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

f3() { $PY -c 'import sys; print("%.3f" % float(sys.argv[1]))' "$1"; }
{
    echo "## imdb-rnn vs PyTorch reference"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc --all) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $("$BIN" --version), torch $($PY -c 'import torch; print(torch.__version__)' 2>/dev/null), THREADS=$THREADS, load average $load_before before / $load_after after"
    echo
    echo "Medians of $REPEATS runs for (0)-(4). In-process times exclude start-up (loading libtorch, $(f3 "$startup") s wall for \`imdb-rnn --version\`)."
    echo
    echo "| measure | imdb-rnn | reference | ratio |"
    echo "|---|---:|---:|---:|"
    p=$(median "${arch_prep[@]}"); r=$(median "${ref_total[@]}")
    echo "| (1) data prep from the archive: read+tokenize+vocab+encode, in-process s | $p | $r | $(ratio "$p" "$r") |"
    echo "| (1) of which reference read / vocab / encode-once s | | $(median "${ref_read[@]}") / $(median "${ref_vocab[@]}") / $(median "${ref_encode[@]}") | |"
    echo "| (1) imdb-rnn cache save s (after prep) | $(median "${arch_save[@]}") | | |"
    p=$(median "${arch_wall[@]}"); r=$(median "${ref_wall[@]}")
    echo "| (1) whole process, wall s | $p | $r | $(ratio "$p" "$r") |"
    echo "| (2) load from cache, in-process s | $(median "${cache_load[@]}") | | |"
    echo "| (2) \`imdb-rnn data\` from cache, whole process wall s | $(median "${cache_wall[@]}") | | |"
    echo "| (3) GloVe 50d -> vocab matrix, in-process s | $(median "${glove_load[@]}") | | |"
    echo "| (3) \`data --glove\` wall minus \`data\` wall s | $($PY -c 'import sys; print("%.3f" % (float(sys.argv[1]) - float(sys.argv[2])))' "$(median "${glove_wall[@]}")" "$(median "${cache_wall[@]}")") | | |"
    mb() { median "$@" | cut -d. -f1; }
    echo "| (4) peak RSS MiB: \`data\` from archive / from cache / with GloVe | $(mb "${arch_rss[@]}") / $(mb "${cache_rss[@]}") / $(mb "${glove_rss[@]}") | $(mb "${ref_rss[@]}") (prep-only) | |"
    for cell in $CELLS; do
        echo "| (5) $cell 1x128, epoch (train + test eval) s, subset $SUBSET | ${rs_epoch[$cell]} | $(f3 "${py_epoch[$cell]}") (train $(f3 "${py_train[$cell]}") + eval $(f3 "${py_eval[$cell]}")) | $(ratio "${rs_epoch[$cell]}" "${py_epoch[$cell]}") |"
    done
    for cell in $CELLS; do
        echo "| (5) $cell test accuracy after $EPOCHS epoch(s) / whole-process wall s | $(f3 "${rs_acc[$cell]}") / ${rs_wall[$cell]} | $(f3 "${py_acc[$cell]}") / ${py_wall[$cell]} | |"
    done
    if [ ${#notes[@]} -gt 0 ]; then
        echo
        for n in "${notes[@]}"; do echo "- $n"; done
    fi
} | tee "$OUT/results.md"
