#!/usr/bin/env bash
# The Slurm job-array scripts on a real single-node Slurm (not CI). As root, on Debian or
# Ubuntu: installs slurm-wlm and munge if missing (apt-get), starts munged, slurmctld and
# slurmd by hand (no systemd) with a slurm.conf for this machine in a fresh directory,
# then, submitting from a directory outside the checkout with scripts/slurm-submit.sh:
#   (a) a request no node can meet (--cpus-per-task above the node's CPUs) is refused
#       with one line instead of pending forever;
#   (b) a tiny sweep array (4 points, 2 shards) and its final job;
#   (c) a tiny course array (2 shards) whose task 1 is cancelled (scancel) while it
#       runs, its report job left waiting (DependencyNeverSatisfied) and cancelled,
#       then task 1 resubmitted alone (--array=1) with a new report job;
# and checks that every point ran exactly once (one finished run directory per planned
# point, one metrics row per epoch, no step logged twice) and that the course report
# exists. Stops the daemons it started, prints PASS or FAIL with the times.
#
#   sudo bash bench/slurm.sh        # after: source scripts/env.sh && cargo build --release
#
# IMDB (a local aclImdb archive; the nodes run offline), KEEP=1 (keep the work directory).
set -uo pipefail
checkout="$(cd "$(dirname "$0")/.." && pwd)"
IMDB="${IMDB:-$checkout/../shared/data/aclImdb_labeled.tar.gz}"
IMDB="$(readlink -f "$IMDB")"
BIN="$checkout/target/release/imdb-rnn"
[ "$(id -u)" = 0 ] || { echo "bench/slurm.sh: run as root (it installs and starts Slurm)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "bench/slurm.sh: no $BIN: source scripts/env.sh && cargo build --release" >&2; exit 1; }
[ -r "$IMDB" ] || { echo "bench/slurm.sh: cannot read IMDB=$IMDB" >&2; exit 1; }

failures=0
check() { # description, then a command that must succeed
    local what="$1"
    shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what"; failures=$((failures + 1)); fi
}
seconds() { echo $(($(date +%s) - $1)); }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge || exit 1
fi
work="$(mktemp -d /tmp/imdb-rnn-slurm.XXXXXX)"
chmod 755 "$work"
host="$(hostname -s)"
cpus="$(nproc)"
memory_mb="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
mkdir -p "$work"/{state,spool,munge}
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=bench
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
KillWait=10
NodeName=$host CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=bench Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
chown munge: "$work/munge"
started=()
stop_daemons() {
    for pidfile in "${started[@]}"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
    done
    sleep 1
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap stop_daemons EXIT
runuser -u munge -- munged --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" \
    --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" && started+=("$work/munge/munged.pid")
slurmctld -f "$SLURM_CONF" && started+=("$work/slurmctld.pid")
nice -n 10 slurmd -f "$SLURM_CONF" && started+=("$work/slurmd.pid")
for _ in $(seq 30); do
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
    sleep 1
done
check "slurm $(sinfo -V | cut -d' ' -f2): node $host ($cpus CPUs) idle" test "$(sinfo -h -o %T)" = idle

node_info() { srun -t 1 "$BIN" info >"$work/info.txt" 2>&1; }
check "srun imdb-rnn info runs on the node" node_info

# The jobs: submitted from a directory that is not the checkout, offline, on the given
# archive, the data directory and runs in the submit directory.
submit_dir="$work/submit"
mkdir -p "$submit_dir"
cd "$submit_dir" || exit 1
export IMDB_RNN_OFFLINE=1 IMDB_RNN_HOME="$submit_dir/data"
submit() { "$checkout/scripts/slurm-submit.sh" "$@"; }
wait_for_jobs() { # until none of the given jobs is in the queue
    while [ -n "$(squeue -h -j "$(
        IFS=,
        echo "$*"
    )" 2>/dev/null)" ]; do sleep 1; done
}
state_of() { squeue -h -j "$1" -o %T 2>/dev/null; }

# Every run directory under $1 is finished, with one metrics row per epoch ($2) and no
# (epoch, step) logged twice; prints the run count.
check_runs() {
    local root="$1" epochs="$2" count=0 bad=0 dir
    for dir in "$root"/*/; do
        count=$((count + 1))
        grep -q '"status": *"finished"' "$dir/summary.json" 2>/dev/null || { echo "  not finished: $dir" >&2; bad=1; }
        [ "$(tail -n +2 "$dir/metrics.csv" | cut -d, -f1 | sort | uniq | wc -l)" = "$epochs" ] \
            && [ "$(tail -n +2 "$dir/metrics.csv" | wc -l)" = "$epochs" ] || { echo "  metrics rows != $epochs epochs: $dir" >&2; bad=1; }
        [ -z "$(tail -n +2 "$dir/steps.csv" | cut -d, -f1,2 | sort | uniq -d)" ] || { echo "  a step logged twice: $dir" >&2; bad=1; }
    done
    echo "$count"
    return "$bad"
}

tiny=(--subset 100 --epochs 1 --hidden 8 --imdb "$IMDB")

# (a) More CPUs per task than the node has.
t=$(date +%s)
message="$(submit 1 --cpus-per-task=$((cpus * 2)) -- sweep --grid "seed=0" "${tiny[@]}" --name never 2>&1 >/dev/null)"
echo "  $message"
check "(a) --cpus-per-task=$((cpus * 2)) refused in one line ($(seconds "$t") s)" grep -qE "sbatch: error|can never start" <<<"$message"
check "(a) nothing left in the queue" test -z "$(squeue -h)"

# (a') Offline nodes and data not fetched into the data directory: refused at submission.
message="$(submit 2 -- sweep --grid "seed=0" --subset 100 --name never 2>&1 >/dev/null)"
echo "  $message"
check "(a') offline without the data: the fetch command in one line" grep -q "on the login node run IMDB_RNN_HOME=$IMDB_RNN_HOME imdb-rnn fetch imdb" <<<"$message"

# (b) A sweep: 4 points over 2 shards, 1 CPU each.
t=$(date +%s)
read -r sweep_array sweep_report < <(submit 2 -- sweep --grid "cell=rnn,gru seed=0,1" "${tiny[@]}" --name tiny --retry-failed)
wait_for_jobs "$sweep_array" "$sweep_report"
sweep_seconds=$(seconds "$t")
runs="$(check_runs runs/tiny 1)"
check "(b) sweep: $runs runs, 4 planned, each finished once ($sweep_seconds s)" test "$runs" = 4
check "(b) the forwarded --retry-failed and --threads 1 reached imdb-rnn" grep -q -- "--retry-failed --shard 1/2 --threads 1" "slurm-${sweep_array}_1.out"
check "(b) the final job saw every point finished" test "$(grep -c $'^runs/tiny/.*\talready finished$' "slurm-$sweep_report.out")" = 4

# (c) A course: cancel task 1 while it runs, resubmit it alone.
t=$(date +%s)
course=(course --scale quick --only q1-q2,q3 --subset 200 --epochs 2 --hidden 8 --imdb "$IMDB" --out report/course.html)
read -r course_array course_report < <(submit 2 -- "${course[@]}")
# Cancel once both tasks are inside a run (a steps.csv but no summary.json yet), or after 2 minutes.
runs_in_progress() {
    local n=0 dir
    for dir in runs/course-quick/*/; do [ -f "$dir/steps.csv" ] && ! [ -f "$dir/summary.json" ] && n=$((n + 1)); done
    echo "$n"
}
for _ in $(seq 600); do
    [ "$(state_of "${course_array}_1")" = RUNNING ] && [ "$(runs_in_progress)" -ge 2 ] && break
    sleep 0.2
done
scancel "${course_array}_1"
while [ -n "$(state_of "${course_array}_1")" ]; do sleep 0.5; done
stopped_run="$(grep $'\tstopped$' "slurm-${course_array}_1.out" | cut -f1)"
interrupted="no"
[ -n "$stopped_run" ] && interrupted="$(basename "$stopped_run")$([ -f "$stopped_run/checkpoint.json" ] && echo ", checkpointed")"
echo "  task 1 cancelled after $(seconds "$t") s; its log:"
sed 's/^/    /' "slurm-${course_array}_1.out"
wait_for_jobs "${course_array}_0"
# slurmctld marks the dependency on its next pass.
for _ in $(seq 60); do
    [ "$(squeue -h -j "$course_report" -o %r)" = DependencyNeverSatisfied ] && break
    sleep 0.5
done
check "(c) the report job waits forever after the cancel" test "$(squeue -h -j "$course_report" -o %r)" = DependencyNeverSatisfied
scancel "$course_report"
read -r again_array again_report < <(submit 2 --array=1 -- "${course[@]}")
wait_for_jobs "$again_array" "$again_report"
course_seconds=$(seconds "$t")
runs="$(check_runs runs/course-quick 2)"
planned="$(grep -c $'^runs/course-quick/.*\t' "slurm-$again_report.out")"
check "(c) course: $runs runs, $planned planned, each finished once ($course_seconds s; stopped mid-run: $interrupted)" test "$runs" = "$planned" -a "$planned" -gt 0
check "(c) the resubmitted task ran shard 1/2" grep -q -- "--shard 1/2" "slurm-${again_array}_1.out"
check "(c) the report exists" test -s report/course.html -a -s report/course.md

echo "sweep ${sweep_seconds} s, course with a cancel and a resubmission ${course_seconds} s"
if [ "$failures" = 0 ]; then echo PASS; else
    echo "FAIL ($failures checks)"
    KEEP=1
fi
exit "$failures"
