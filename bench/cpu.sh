#!/usr/bin/env bash
# CPU throughput (issue 9): subnormal flushing and OpenMP oversubscription, imdb-rnn
# against the course's PyTorch pipeline (bench/reference.py) run as the notebook runs it
# (no flush) and with torch.set_flush_denormal(True), side by side in one run.
#
#   bench/cpu.sh spin                                       # OpenMP spin policies, 1 and 2 threads, vs reference
#   bench/cpu.sh pairs                                      # two at once: by hand, short spin, a share each
#   BIN_BEFORE=/tmp/imdb-rnn-before bench/cpu.sh epochs    # first and steady epochs
#   BIN_BEFORE=/tmp/imdb-rnn-before bench/cpu.sh pair      # two trainings at once
#   BIN_BEFORE=/tmp/imdb-rnn-before bench/cpu.sh course    # course LSTM, full data, end to end
#   BIN_BEFORE=/tmp/imdb-rnn-before bench/cpu.sh grads     # gradient study, end to end
#   bench/cpu.sh micro                                      # does this CPU pay for subnormals?
#
# Sides: "after" = BIN (flushes by default), "before" = BIN_BEFORE (a build from before
# flushing, e.g. main at 03251d0; without one, BIN with --denormals keep stands in),
# "ref" = reference.py, "ref+flush" = reference.py --flush-denormal.
# Settings (environment): IMDB, SUBSET [2000], EPOCHS [3], CELLS ["rnn lstm gru"],
# THREADS [1] (both sides), SPIN_THREADS ["1 2"] (spin), SPIN (GOMP_SPINCOUNT for "ours";
# unset: libgomp's default), BIN [target/release/imdb-rnn], BIN_BEFORE, OUT [new temp dir].
# Every run's line goes to $OUT/runs.txt as it finishes, the tables to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/env.sh
source scripts/env.sh
set -euo pipefail
IMDB=${IMDB:-../shared/data/aclImdb_labeled.tar.gz}
SUBSET=${SUBSET:-2000}
EPOCHS=${EPOCHS:-3}
CELLS=${CELLS:-"rnn lstm gru"}
THREADS=${THREADS:-1}
BIN=${BIN:-target/release/imdb-rnn}
BIN_BEFORE=${BIN_BEFORE:-}
OUT=${OUT:-$(mktemp -d /tmp/imdb-rnn-cpu.XXXXXX)}
PY=${IMDB_RNN_TORCH_PYTHON:-python}
[ -x "$BIN" ] || cargo build --release
mkdir -p "$OUT/runs"
export IMDB_RNN_HOME="$OUT/home"
"$BIN" data --imdb "$IMDB" --quiet >/dev/null # the cache, so no run pays for preparation
# threads_env CMD...: CMD with OMP_NUM_THREADS=$THREADS, or libtorch's default when empty
threads_env() { if [ -n "$THREADS" ]; then OMP_NUM_THREADS=$THREADS "$@"; else env -u OMP_NUM_THREADS "$@"; fi; }
log() { echo "$*" | tee -a "$OUT/runs.txt" >&2; }
log "$(date -u '+%F %T UTC') $* THREADS=$THREADS SUBSET=$SUBSET EPOCHS=$EPOCHS load $(cut -d' ' -f1-3 /proc/loadavg)"
log "CPU:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $(nproc) cores; flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_bf16|amx_tile|amx_bf16)$' | tr '\n' ' ')"

# ours SIDE NAME ARGS... -> prints "wall epoch1 steady test_acc" (steady: mean of epochs 2..)
ours() {
    local side=$1 name=$2 bin=$BIN extra=()
    shift 2
    if [ "$side" = before ]; then
        if [ -n "$BIN_BEFORE" ]; then bin=$BIN_BEFORE; else extra=(--denormals keep); fi
    fi
    rm -rf "$OUT/runs/$name"
    local t0 t1
    t0=$(date +%s.%N)
    threads_env env -u GOMP_SPINCOUNT ${SPIN:+GOMP_SPINCOUNT=$SPIN} "$bin" train --imdb "$IMDB" --device cpu --quiet --runs-dir "$OUT/runs" --name "$name" "${extra[@]}" "$@" >/dev/null
    t1=$(date +%s.%N)
    awk -F, -v wall="$(echo "$t1 - $t0" | bc)" 'NR > 1 {s[NR - 1] = $9; acc = $7; n = NR - 1}
        END {st = 0; for (i = 2; i <= n; i++) st += s[i]; printf "%.1f %.2f %.2f %.4f\n", wall, s[1], (n > 1 ? st / (n - 1) : 0), acc}' \
        "$OUT/runs/$name/metrics.csv"
}
# ref FLUSH ARGS... -> the same four numbers for reference.py (FLUSH: 1 or 0)
ref() {
    local flush=() t0 t1
    [ "$1" = 1 ] && flush=(--flush-denormal)
    shift
    t0=$(date +%s.%N)
    "$PY" bench/reference.py --imdb "$IMDB" --threads "$THREADS" "${flush[@]}" "$@" 2>/dev/null >"$OUT/ref.json"
    t1=$(date +%s.%N)
    "$PY" -c 'import json, sys
e = json.load(open(sys.argv[1]))["epochs"]; s = [x["epoch_seconds"] for x in e]
st = sum(s[1:]) / (len(s) - 1) if len(s) > 1 else 0
print("%.1f %.2f %.2f %.4f" % (float(sys.argv[2]), s[0], st, e[-1]["test_acc"]))' "$OUT/ref.json" "$(echo "$t1 - $t0" | bc)"
}
# same_metrics DIR DIR: "identical" when both runs' metrics.csv agree in every column but
# the timing ones (epoch_seconds, tokens_per_s), else the largest difference
same_metrics() {
    paste -d, <(cut -d, -f1-8 "$1/metrics.csv") <(cut -d, -f1-8 "$2/metrics.csv") | awk -F, 'NR > 1 {
        for (i = 1; i <= 8; i++) { d = $i - $(i + 8); if (d < 0) d = -d; if (d > m) m = d } }
        END { if (m == 0) print "identical"; else printf "max difference %g\n", m }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf (b > 0 ? "%.2fx" : "n/a"), a / b}'; }

epochs() {
    echo "| cell, $SUBSET reviews, $EPOCHS epochs, THREADS=$THREADS | before | after | ref | ref+flush | after/ref | after/ref+flush | before/ref |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for cell in $CELLS; do
        local args=(--cell "$cell" --epochs "$EPOCHS" --subset "$SUBSET")
        local b a r f
        b=$(ours before "b-$cell" "${args[@]}"); log "$cell before $b"
        a=$(ours after "a-$cell" "${args[@]}"); log "$cell after $a"
        r=$(ref 0 "${args[@]}"); log "$cell ref $r"
        f=$(ref 1 "${args[@]}"); log "$cell ref+flush $f"
        for k in 2 3; do # epoch 1, then the steady epochs
            local what; [ $k = 2 ] && what="epoch 1 s" || what="epochs 2-$EPOCHS s"
            local bv av rv fv
            bv=$(cut -d' ' -f$k <<<"$b") av=$(cut -d' ' -f$k <<<"$a") rv=$(cut -d' ' -f$k <<<"$r") fv=$(cut -d' ' -f$k <<<"$f")
            echo "| $cell, $what | $bv | $av | $rv | $fv | $(ratio "$av" "$rv") | $(ratio "$av" "$fv") | $(ratio "$bv" "$rv") |"
        done
        echo "| $cell, test acc after $EPOCHS | $(cut -d' ' -f4 <<<"$b") | $(cut -d' ' -f4 <<<"$a") | $(cut -d' ' -f4 <<<"$r") | $(cut -d' ' -f4 <<<"$f") | | | |"
        log "$cell before/after metrics (losses, accuracies): $(same_metrics "$OUT/runs/b-$cell" "$OUT/runs/a-$cell")"
    done
}

# Two trainings at once on the machine's cores, libtorch's default thread count each.
pair() {
    local args=(--cell lstm --epochs 1 --subset "${PAIR_SUBSET:-500}")
    local side THREADS=""
    echo "| side | one alone, s | two at once, s each | ratio |"
    echo "|---|---:|---:|---:|"
    for side in before after; do
        local alone p1 p2
        alone=$(ours "$side" "alone-$side" "${args[@]}" | cut -d' ' -f1)
        ours "$side" "p1-$side" "${args[@]}" | cut -d' ' -f1 >"$OUT/p1" &
        ours "$side" "p2-$side" "${args[@]}" | cut -d' ' -f1 >"$OUT/p2"
        wait
        p1=$(cat "$OUT/p1") p2=$(cat "$OUT/p2")
        log "pair $side alone $alone together $p1 $p2"
        echo "| $side | $alone | $p1 / $p2 | $(ratio "$(echo "($p1 + $p2) / 2" | bc -l)" "$alone") |"
    done
}

# The OpenMP spin policy of a training alone, at 1 and 2 threads, against the reference
# with and without flushing: steady epoch seconds (epochs 2..), same run.
spin() {
    local t cell
    for t in ${SPIN_THREADS:-1 2}; do
        echo "| cell, $SUBSET reviews, $EPOCHS epochs, $t thread(s) | libgomp's spin (default) | GOMP_SPINCOUNT=1000 | ref | ref+flush | default/ref+flush | 1000/ref+flush | default/ref |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|"
        for cell in $CELLS; do
            local args=(--cell "$cell" --epochs "$EPOCHS" --subset "$SUBSET") d s r f
            d=$(THREADS=$t ours after "d-$cell-$t" "${args[@]}"); log "$cell t$t default $d"
            s=$(THREADS=$t SPIN=1000 ours after "s-$cell-$t" "${args[@]}"); log "$cell t$t spin1000 $s"
            r=$(THREADS=$t ref 0 "${args[@]}"); log "$cell t$t ref $r"
            f=$(THREADS=$t ref 1 "${args[@]}"); log "$cell t$t ref+flush $f"
            local dv sv rv fv
            dv=$(cut -d' ' -f3 <<<"$d") sv=$(cut -d' ' -f3 <<<"$s") rv=$(cut -d' ' -f3 <<<"$r") fv=$(cut -d' ' -f3 <<<"$f")
            echo "| $cell | $dv | $sv | $rv | $fv | $(ratio "$dv" "$fv") | $(ratio "$sv" "$fv") | $(ratio "$dv" "$rv") |"
        done
    done
}

# Two trainings at once against one alone (libgomp's spin, every core): by hand with every
# core each, by hand with the short spin, and as the project's workers start them (a share
# of the cores each, `--jobs`). Whole-process wall seconds.
pairs() {
    local cores cell
    cores=$(nproc)
    local share=$((cores / 2 > 0 ? cores / 2 : 1))
    echo "| cell, $SUBSET reviews, $EPOCHS epochs | one alone ($cores threads), s | two at once, $cores threads each | the same, GOMP_SPINCOUNT=1000 | two at once, $share thread(s) each (--jobs 2) | ratios to alone |"
    echo "|---|---:|---:|---:|---:|---|"
    for cell in $CELLS; do
        local args=(--cell "$cell" --epochs "$EPOCHS" --subset "$SUBSET") alone row=() ratios=()
        alone=$(THREADS=$cores ours after "alone-$cell" "${args[@]}" | cut -d' ' -f1)
        local variant
        for variant in "$cores:" "$cores:1000" "$share:"; do
            local t=${variant%%:*} sp=${variant#*:}
            THREADS=$t SPIN=$sp ours after "p1-$cell" "${args[@]}" | cut -d' ' -f1 >"$OUT/p1" &
            THREADS=$t SPIN=$sp ours after "p2-$cell" "${args[@]}" | cut -d' ' -f1 >"$OUT/p2"
            wait
            local p1 p2
            p1=$(cat "$OUT/p1") p2=$(cat "$OUT/p2")
            log "pairs $cell threads $t spin ${sp:-default}: alone $alone, together $p1 $p2"
            row+=("$p1 / $p2")
            ratios+=("$(ratio "$(echo "($p1 + $p2) / 2" | bc -l)" "$alone")")
        done
        echo "| $cell | $alone | ${row[0]} | ${row[1]} | ${row[2]} | ${ratios[*]} |"
    done
}

course() { # COURSE_SIDES: which of after ref+flush before ref to run [all four]
    local args=(--cell lstm --epochs 5) side r
    echo "| course LSTM, full data, 5 epochs, THREADS=$THREADS | wall s | epoch 1 s | epochs 2-5 s | test acc |"
    echo "|---|---:|---:|---:|---:|"
    for side in ${COURSE_SIDES:-after ref+flush before ref}; do
        case $side in
            after | before) r=$(ours "$side" "course-$side" "${args[@]}") ;;
            ref) r=$(ref 0 "${args[@]}") ;;
            ref+flush) r=$(ref 1 "${args[@]}") ;;
        esac
        log "course $side $r"
        echo "| $side | $(sed 's/ / | /g' <<<"$r") |"
    done
}

# The gradient study end to end (GRADS_ARGS; before builds spell --cell as --cells).
grads() {
    local args=(${GRADS_ARGS:---depth 1..8 --epochs 3 --subset 5000})
    local side
    echo "| grads --cells ${GRADS_CELLS:-rnn} ${args[*]}, THREADS=$THREADS | wall s |"
    echo "|---|---:|"
    for side in ${GRADS_SIDES:-after before}; do
        local bin=$BIN extra=() t0 t1
        if [ "$side" = before ]; then
            if [ -n "$BIN_BEFORE" ]; then bin=$BIN_BEFORE; else extra=(--denormals keep); fi
        fi
        rm -rf "$OUT/runs/grads-$side"
        t0=$(date +%s.%N)
        threads_env "$bin" grads --cells "${GRADS_CELLS:-rnn}" "${args[@]}" "${extra[@]}" --imdb "$IMDB" --device cpu \
            --quiet --runs-dir "$OUT/runs" --name "grads-$side" >/dev/null
        t1=$(date +%s.%N)
        log "grads $side $(echo "$t1 - $t0" | bc)"
        echo "| $side | $(echo "$t1 - $t0" | bc | xargs printf '%.1f') |"
    done
}

micro() { "$PY" bench/subnormal.py 2>/dev/null; }

for what in "${@:-epochs}"; do
    "$what" | tee -a "$OUT/tables.md"
    echo | tee -a "$OUT/tables.md"
done
log "done, load $(cut -d' ' -f1-3 /proc/loadavg); tables in $OUT/tables.md"
