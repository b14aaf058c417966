# Sourced by the benchmarks that time cases side by side (readouts.sh, preset-epoch.sh):
# every case once per repeat, alternating, so all see the same machine load.
#
# The caller sets CASES ("label|binary|flags" each), REPEATS, OUT and a header line, and
# defines `epoch NAME BIN ARGS...`, which prints the seconds first (more fields may follow).
# `alternate` logs every run to $OUT/runs.txt and leaves the seconds of case c, space
# separated, in secs[c].

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

declare -A secs
alternate() {   # alternate HEADER
    echo "$(date -u '+%F %T UTC') $1 load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/runs.txt"
    local i c label bin flags r
    for i in $(seq "$REPEATS"); do
        for c in "${!CASES[@]}"; do
            IFS='|' read -r label bin flags <<< "${CASES[$c]}"
            # shellcheck disable=SC2086
            r=$(epoch "case$c-$i" "$bin" $flags)
            secs[$c]+="${r%% *} "
            echo "$i | $label | $r" | tee -a "$OUT/runs.txt"
        done
    done
    echo "end $(date -u '+%F %T UTC') load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/runs.txt"
}
