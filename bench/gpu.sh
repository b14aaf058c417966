#!/usr/bin/env bash
# The GPU checks of issue 3 as one script, for a machine with CUDA and PyTorch but no
# cargo (the library's device tool). What it measures, on one GPU:
#   (a) imdb-rnn: a 5-epoch LSTM 1x128 run (course defaults), end-to-end wall time and
#       per-epoch seconds;
#   (b) the yardstick: the same forward/backward/Adam steps in PyTorch on tensors already
#       on the device (bench/reference.py --preloaded), per-epoch seconds;
#   (c) the course's PyTorch notebook pipeline (bench/reference.py), 5 epochs, end to end;
#   (d) smoke runs of what else must work on CUDA: packed `last` readout, GRU, plain RNN,
#       the gradient study, eval and predict.
#   (e) issue 11: the `last` readout against `final` at 200 tokens (LSTM 1x128, steady
#       epochs, target within 1.2x), and the 0.90 preset (configs/best.toml) end to end
#       on the full data (target under 60 s), when .gpu holds the GloVe subset;
#   (f) issue 13: `imdb-rnn course --scale full` end to end (target under 5 minutes);
# and prints the ratios the issues ask for: (a) epoch / (b) epoch (target <= 1.05) and
# (c) wall / (a) wall (target >= 6).
#
# Prepare here (the binary links the project venv's libtorch; the device uses its own):
#   source scripts/env.sh && cargo build --release
#   mkdir -p .gpu && cp target/release/imdb-rnn ../shared/data/aclImdb_labeled.tar.gz .gpu/
#   # the preset's GloVe, cut to its 30k vocabulary (the whole 50d file does not fit the carry):
#   python3 bench/glove-subset.py ../shared/data/glove-wiki-gigaword-50.gz RUN/vocab.json .gpu/glove-50-vocab.gz
# Then with the device tool: run(command="bash bench/gpu.sh", carry=[".gpu"], timeout_s=540)
# Try it here on the CPU first (about a minute):
#   BIN=target/release/imdb-rnn IMDB=../shared/data/aclImdb_labeled.tar.gz PY=python \
#   DEVICE=cpu SUBSET=300 EPOCHS=2 THREADS=1 OMP_NUM_THREADS=1 OUT=/tmp/gpu bash bench/gpu.sh
# (add GLOVE=... pointing at the GloVe subset below for sections (e) and (f); about 4 minutes)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.gpu/imdb-rnn}
IMDB=${IMDB:-.gpu/aclImdb_labeled.tar.gz}
GLOVE=${GLOVE:-.gpu/glove-50-vocab.gz}
DEVICE=${DEVICE:-cuda}
EPOCHS=${EPOCHS:-5}
SUBSET=${SUBSET:-}
OUT=${OUT:-/tmp/imdb-rnn-gpu}
PY=${PY:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 IMDB_RNN_HOME="$OUT/home"
TORCH_LIB=$($PY -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') || exit 1
export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
subset=(); [ -n "$SUBSET" ] && subset=(--subset "$SUBSET")
# CPU threads of the reference (torch's default when unset); on the CPU try-out, 1.
threads=(); [ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")
now() { date +%s.%N; }
log() { echo "== $*" | tee -a "$OUT/log.txt"; }

log "$(date -u '+%F %T UTC') device=$DEVICE epochs=$EPOCHS subset=${SUBSET:-all}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$OUT/log.txt"
"$BIN" info --json > "$OUT/info.json" || { log "imdb-rnn does not start: check LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; exit 1; }
log "info: $(tr -d '\n ' < "$OUT/info.json" | head -c 400)"

# (a) imdb-rnn, end to end (process start, data from the archive, 5 epochs, evaluation)
t0=$(now)
"$BIN" train --cell lstm --epochs "$EPOCHS" --device "$DEVICE" "${subset[@]}" --imdb "$IMDB" \
    --runs-dir "$OUT/runs" --name lstm --quiet --json > "$OUT/ours.json" 2> "$OUT/ours.err"
ours_rc=$?; t1=$(now)
ours_wall=$($PY -c "print(round($t1 - $t0, 3))")
log "(a) imdb-rnn lstm: rc=$ours_rc wall ${ours_wall} s"
# libtorch warns when cuDNN has to copy non-flattened RNN weights at every call.
log "(a) warnings about non-contiguous RNN weights: $(grep -c 'contiguous chunk' "$OUT/ours.err")"
cp "$OUT/runs/lstm/metrics.csv" "$OUT/ours-metrics.csv" 2>/dev/null

# (b) the preloaded PyTorch loop
$PY bench/reference.py --cell lstm --epochs 2 --device "$DEVICE" --preloaded "${subset[@]}" "${threads[@]}" --imdb "$IMDB" \
    > "$OUT/loop.json" 2> "$OUT/loop.err"
log "(b) preloaded loop: rc=$?"

# (c) the notebook pipeline, end to end
t0=$(now)
$PY bench/reference.py --cell lstm --epochs "$EPOCHS" --device "$DEVICE" "${subset[@]}" "${threads[@]}" --imdb "$IMDB" \
    > "$OUT/ref.json" 2> "$OUT/ref.err"
ref_rc=$?; t1=$(now)
ref_wall=$($PY -c "print(round($t1 - $t0, 3))")
log "(c) reference notebook: rc=$ref_rc wall ${ref_wall} s"

# (d) the rest must at least run on the device
smoke() {
    local name=$1; shift
    if "$@" > "$OUT/smoke-$name.out" 2>&1; then log "(d) $name: ok"; else log "(d) $name: FAILED rc=$? ($(tail -1 "$OUT/smoke-$name.out"))"; fi
}
sub=${SUBSET:-2000}
smoke last-clip "$BIN" train --cell lstm --readout last --clip 1 --bidirectional --epochs 1 --subset "$sub" --device "$DEVICE" --imdb "$IMDB" --runs-dir "$OUT/runs" --name last --quiet
smoke gru "$BIN" train --cell gru --layers 2 --dropout 0.2 --epochs 1 --subset "$sub" --device "$DEVICE" --imdb "$IMDB" --runs-dir "$OUT/runs" --name gru --quiet
smoke rnn-grads "$BIN" grads --cells rnn,lstm --depth 1,3 --epochs 1 --subset 500 --device "$DEVICE" --imdb "$IMDB" --runs-dir "$OUT/runs" --name grads --quiet
smoke eval "$BIN" eval --run "$OUT/runs/lstm" --device "$DEVICE"
smoke predict "$BIN" predict --run "$OUT/runs/lstm" --device "$DEVICE" "a wonderful film, moving and funny" "dull, too long, a waste of time"

# (e) issue 11: `last` against `final` at the same max-len, and the preset end to end
for readout in final last; do
    "$BIN" train --cell lstm --readout "$readout" --max-len 200 --epochs 3 --device "$DEVICE" "${subset[@]}" --imdb "$IMDB" \
        --runs-dir "$OUT/runs" --name "readout-$readout" --quiet > /dev/null 2>> "$OUT/readouts.err"
    log "(e) readout $readout: rc=$? epochs $(tail -n +2 "$OUT/runs/readout-$readout/metrics.csv" 2>/dev/null | cut -d, -f9 | tr '\n' ' ')"
done
if [ -f "$GLOVE" ]; then
    t0=$(now)
    "$BIN" train --config configs/best.toml --glove "$GLOVE" --seed 1 --device "$DEVICE" "${subset[@]}" --imdb "$IMDB" \
        --runs-dir "$OUT/runs" --name preset --quiet --json > "$OUT/preset.json" 2> "$OUT/preset.err"
    preset_rc=$?; t1=$(now)
    log "(e) preset configs/best.toml: rc=$preset_rc wall $($PY -c "print(round($t1 - $t0, 1))") s (target < 60 s), $(tr -d '\n' < "$OUT/preset.json" | head -c 300)"
else
    log "(e) preset: skipped, no GloVe at $GLOVE (see the preparation above)"
fi

# (f) issue 13: the whole course at its own settings (the 10k vocabulary is inside the
# GloVe subset's 30k words, so every GloVe run sees the vectors the full file has)
if [ -f "$GLOVE" ]; then
    t0=$(now)
    # a tiny --subset (the CPU try-out) has fewer steps an epoch than the full scale's --grad-every
    grad=(); [ -n "$SUBSET" ] && grad=(--grad-every 1)
    # COURSE_SEEDS seeds (5: the readings need seeds to tell findings from noise).
    "$BIN" course --scale full --seeds "${COURSE_SEEDS:-5}" --glove "$GLOVE" --device "$DEVICE" "${subset[@]}" "${grad[@]}" --imdb "$IMDB" \
        --runs-dir "$OUT/runs" --out "$OUT/course/course-full.html" > "$OUT/course.out" 2>&1
    course_rc=$?; t1=$(now)
    log "(f) course --scale full --seeds ${COURSE_SEEDS:-5}: rc=$course_rc wall $($PY -c "print(round($t1 - $t0, 1))") s (target < 300 s a seed)"
fi

# The ratios. Epoch times skip the first epoch (CUDA/cuDNN start-up) where there are more.
$PY - "$OUT" "$ours_wall" "$ref_wall" <<'PYEOF' | tee -a "$OUT/log.txt"
import csv, json, sys
out, ours_wall, ref_wall = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def steady(xs):
    return sum(xs[1:]) / len(xs[1:]) if len(xs) > 1 else xs[0]
try:
    ours = [float(r["epoch_seconds"]) for r in csv.DictReader(open(f"{out}/ours-metrics.csv"))]
    ours_acc = json.load(open(f"{out}/ours.json"))["final_test_acc"]
    loop = [e["epoch_seconds"] for e in json.load(open(f"{out}/loop.json"))["epochs"]]
    ref = json.load(open(f"{out}/ref.json"))
except (OSError, ValueError, KeyError) as e:
    sys.exit(f"== ratios: a measure is missing ({e}); see {out}")
print(f"== imdb-rnn epoch {steady(ours):.3f} s (all: {', '.join('%.2f' % x for x in ours)}), test acc {ours_acc:.4f}")
print(f"== preloaded loop epoch {steady(loop):.3f} s; imdb-rnn / loop = {steady(ours) / steady(loop):.3f}x (target <= 1.05x)")
print(f"== reference notebook: epoch {steady([e['epoch_seconds'] for e in ref['epochs']]):.3f} s, test acc {ref['final_test_acc']:.4f}, wall {ref_wall:.1f} s")
print(f"== end to end: reference wall / imdb-rnn wall = {ref_wall / ours_wall:.2f}x (target >= 6x)")
try:
    last, final = ([float(r["epoch_seconds"]) for r in csv.DictReader(open(f"{out}/runs/readout-{k}/metrics.csv"))] for k in ("last", "final"))
    print(f"== readouts at 200 tokens: last {steady(last):.3f} s / final {steady(final):.3f} s = {steady(last) / steady(final):.3f}x (target <= 1.2x)")
except (OSError, ValueError, KeyError) as e:
    print(f"== readouts: a measure is missing ({e})")
PYEOF
