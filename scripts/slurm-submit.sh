#!/usr/bin/env bash
# Submits an imdb-rnn sweep or course as a Slurm job array of N shards
# (scripts/slurm-array.sbatch), then one job that starts once every task of the array has
# succeeded (--dependency=afterok) and runs the same command unsharded: for a course it
# writes the report; for a sweep it lists every point's status.
#
#   scripts/slurm-submit.sh N [SBATCH_OPTION...] -- sweep|course [IMDB_RNN_OPTION...]
#   scripts/slurm-submit.sh 8 --cpus-per-task=4 --gres=gpu:1 --time=04:00:00 -- course --scale full
#   scripts/slurm-submit.sh 8 --array=1 -- course --scale full   # task 1 of those 8 again, and a new report job
#
# Run it from the directory the jobs work in (on the shared filesystem): runs/, ./data and
# relative paths are read there. It checks the command here first (binary, sweep file,
# offline data), prints "ARRAY_JOB_ID REPORT_JOB_ID" on stdout, and fails when the array
# can never start (it asks more than the partition's nodes have), cancelling it.
set -euo pipefail

die() {
    echo "slurm-submit: $*" >&2
    exit 1
}

usage="usage: scripts/slurm-submit.sh N [SBATCH_OPTION...] -- sweep|course [IMDB_RNN_OPTION...]"
[[ "${1:-}" =~ ^[1-9][0-9]*$ ]] || die "expected the number of shards first (got '${1:-}'); $usage"
shards="$1"
shift
array="0-$((shards - 1))"
sbatch_options=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    case "$1" in
        --array=*) array="${1#*=}" ;;
        --array | -a) die "write the array as --array=SPEC (e.g. --array=1 to run task 1 again)" ;;
        --dependency* | --export*) die "$1 is set by this script" ;;
        *) sbatch_options+=("$1") ;;
    esac
    shift
done
[ "${1:-}" = -- ] || die "no -- before the imdb-rnn command; $usage"
shift
command -v sbatch >/dev/null || die "sbatch not found: run this on a Slurm login node"

job_script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/slurm-array.sbatch"
# The jobs find the binary through IMDB_RNN_BIN (exported with the environment); default
# to this checkout's build when none is on PATH.
checkout_binary="$(dirname "$(dirname "$job_script")")/target/release/imdb-rnn"
if [ -z "${IMDB_RNN_BIN:-}" ] && ! command -v imdb-rnn >/dev/null && [ -x "$checkout_binary" ]; then
    export IMDB_RNN_BIN="$checkout_binary"
fi

# Every check the tasks make, made once here before anything is queued.
SHARDS="$shards" SLURM_ARRAY_TASK_ID=0 IMDB_RNN_SLURM_CHECK=1 bash "$job_script" "$@"

array_job="$(sbatch --parsable --array="$array" --export="ALL,SHARDS=$shards" "${sbatch_options[@]}" "$job_script" "$@")"
array_job="${array_job%%;*}"
report_job="$(sbatch --parsable --dependency="afterok:$array_job" --job-name=imdb-rnn-report --output=slurm-%j.out \
    --export="ALL,SHARDS=1" "${sbatch_options[@]}" "$job_script" "$@")"
report_job="${report_job%%;*}"

# A request no node can meet leaves the array pending forever, without a message.
for _ in 1 2 3 4 5; do
    reason="$(squeue -h -j "$array_job" -t PENDING -o %r 2>/dev/null | sort -u | head -1)"
    case "$reason" in
        PartitionConfig | PartitionNodeLimit | PartitionTimeLimit | BadConstraints | ReqNodeNotAvail*)
            scancel "$array_job" "$report_job"
            die "array job $array_job can never start (Reason=$reason: it asks more CPUs, memory, GPUs or time than the partition's nodes have, see scontrol show partition); cancelled it and job $report_job: submit with less"
            ;;
        "" | None) sleep 1 ;;
        *) break ;;
    esac
done
echo "slurm-submit: array job $array_job (tasks $array of $shards shards), then report job $report_job; if a task fails or is cancelled, the report job waits forever (DependencyNeverSatisfied): scancel $report_job and run the task again with scripts/slurm-submit.sh $shards --array=TASK ..." >&2
echo "$array_job $report_job"
