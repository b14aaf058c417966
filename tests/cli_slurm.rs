//! The Slurm scripts without Slurm: scripts/slurm-array.sbatch run by bash with the
//! variables a job array sets and a stub imdb-rnn that prints its arguments, and
//! scripts/slurm-submit.sh with stub sbatch, squeue and scancel that log their calls.
#![cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(name)
}

/// An executable shell script at `dir/name`.
fn write_stub(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// An imdb-rnn stand-in: prints its arguments, one a line; `fetch` fails unless
/// `fetched`, as the real one does offline without the data.
fn stub_imdb_rnn(dir: &Path, fetched: bool) -> PathBuf {
    let fetch = if fetched { "" } else { r#"[ "$1" = fetch ] && { echo "not in the cache" >&2; exit 1; }"# };
    write_stub(dir, "imdb-rnn-stub", &format!("{fetch}\nprintf '%s\\n' \"$@\""))
}

/// bash running the job script in `dir` with nothing from the caller's environment (no
/// SLURM_* or IMDB_RNN_* leaking in) and the stub as IMDB_RNN_BIN.
fn job(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new("bash");
    cmd.arg(script("slurm-array.sbatch")).current_dir(dir).env_clear().env("PATH", "/usr/bin:/bin").env("HOME", dir);
    cmd.env("IMDB_RNN_BIN", stub_imdb_rnn(dir, true));
    cmd
}

/// The variables Slurm sets in task `id` of an array with these tasks.
fn task(cmd: &mut assert_cmd::Command, id: u32, (min, max, count): (u32, u32, u32)) -> &mut assert_cmd::Command {
    cmd.env("SLURM_ARRAY_TASK_ID", id.to_string())
        .env("SLURM_ARRAY_TASK_MIN", min.to_string())
        .env("SLURM_ARRAY_TASK_MAX", max.to_string())
        .env("SLURM_ARRAY_TASK_COUNT", count.to_string())
        .env("SLURM_ARRAY_TASK_STEP", "1")
}

fn forwarded(cmd: &mut assert_cmd::Command) -> Vec<String> {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap().lines().map(String::from).collect()
}

/// The `--shard` value the task passed on, or None.
fn shard_of(cmd: &mut assert_cmd::Command) -> Option<String> {
    let args = forwarded(cmd);
    args.iter().position(|a| a == "--shard").map(|i| args[i + 1].clone())
}

fn refused(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.assert().code(1).get_output().clone();
    assert!(out.stdout.is_empty(), "imdb-rnn ran: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn an_array_task_forwards_every_argument_and_adds_its_shard_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = job(dir.path());
    task(&mut cmd, 3, (0, 7, 8)).env("SLURM_CPUS_PER_TASK", "4");
    cmd.args(["sweep", "--grid", "cell=rnn,gru seed=0,1", "--retry-failed", "--glove=vectors with space.gz"]);
    assert_eq!(
        forwarded(&mut cmd),
        ["sweep", "--grid", "cell=rnn,gru seed=0,1", "--retry-failed", "--glove=vectors with space.gz", "--shard", "3/8", "--threads", "4"]
    );
}

#[test]
fn threads_given_after_the_script_win_and_default_to_the_cpus_slurm_gave_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let mut given = job(dir.path());
    task(&mut given, 0, (0, 1, 2)).env("SLURM_CPUS_PER_TASK", "4").args(["course", "--threads", "2"]);
    assert_eq!(forwarded(&mut given), ["course", "--threads", "2", "--shard", "0/2"]);
    let mut on_node = job(dir.path());
    task(&mut on_node, 0, (0, 1, 2)).env("SLURM_CPUS_ON_NODE", "3").arg("course");
    assert_eq!(forwarded(&mut on_node)[3..], ["--threads", "3"]);
}

#[test]
fn a_whole_zero_based_array_gives_task_i_shard_i_of_the_task_count() {
    let dir = tempfile::tempdir().unwrap();
    for id in [0, 5, 7] {
        assert_eq!(shard_of(task(&mut job(dir.path()), id, (0, 7, 8)).arg("sweep")), Some(format!("{id}/8")));
    }
}

#[test]
fn a_one_based_array_gives_its_last_task_shard_zero() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(shard_of(task(&mut job(dir.path()), 1, (1, 8, 8)).arg("sweep")).as_deref(), Some("1/8"));
    assert_eq!(shard_of(task(&mut job(dir.path()), 8, (1, 8, 8)).arg("sweep")).as_deref(), Some("0/8"));
}

#[test]
fn one_task_resubmitted_with_shards_runs_that_shard_of_the_first_submission() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = job(dir.path());
    task(&mut cmd, 1, (1, 1, 1)).env("SHARDS", "8").arg("course");
    assert_eq!(shard_of(&mut cmd).as_deref(), Some("1/8"));
}

#[test]
fn a_stepped_array_with_shards_runs_the_shards_its_task_ids_name() {
    let dir = tempfile::tempdir().unwrap();
    for (id, shard) in [(0, "0/16"), (6, "6/16"), (14, "14/16")] {
        let mut cmd = job(dir.path());
        task(&mut cmd, id, (0, 14, 8)).env("SLURM_ARRAY_TASK_STEP", "2").env("SHARDS", "16").arg("sweep");
        assert_eq!(shard_of(&mut cmd).as_deref(), Some(shard));
    }
}

#[test]
fn a_partial_array_without_shards_is_refused_with_the_resubmission_to_type() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [(1, (1, 1, 1)), (3, (2, 4, 3)), (2, (0, 14, 8)), (3, (1, 5, 3))];
    for (id, (min, max, count)) in cases {
        let err = refused(task(&mut job(dir.path()), id, (min, max, count)).arg("sweep"));
        assert_eq!(
            err,
            format!("slurm-array: array tasks {min}-{max} ({count} of them) are not a whole array 0-(N-1) or 1-N: set SHARDS to the task count of the first submission, e.g. SHARDS=8 sbatch --array={id} ...\n")
        );
    }
}

#[test]
fn a_task_past_shards_or_a_shards_that_is_no_number_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(task(&mut job(dir.path()), 9, (0, 9, 10)).env("SHARDS", "8").arg("sweep"));
    assert_eq!(err, "slurm-array: array task 9 is past SHARDS=8: task IDs name shards 0..7 (or 1..8); fix --array or SHARDS\n");
    let err = refused(task(&mut job(dir.path()), 0, (0, 1, 2)).env("SHARDS", "eight").arg("sweep"));
    assert_eq!(err, "slurm-array: SHARDS=eight: expected a positive whole number, the task count of the first submission\n");
}

#[test]
fn without_an_array_it_says_to_submit_with_array_and_shards_one_runs_the_whole_command() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(job(dir.path()).arg("course"));
    assert_eq!(err, "slurm-array: no SLURM_ARRAY_TASK_ID: submit with sbatch --array=0-(N-1) (or set SHARDS=1 to run the whole command in one job)\n");
    assert_eq!(forwarded(job(dir.path()).env("SHARDS", "1").args(["course", "--scale", "quick"])), ["course", "--scale", "quick", "--threads", "1"]);
}

#[test]
fn a_missing_binary_says_to_build_it_or_set_imdb_rnn_bin() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = job(dir.path());
    task(&mut cmd, 0, (0, 1, 2)).env_remove("IMDB_RNN_BIN").env("SLURM_SUBMIT_DIR", dir.path()).arg("sweep");
    let err = refused(&mut cmd);
    assert_eq!(
        err,
        format!(
            "slurm-array: imdb-rnn not found (not on PATH, no target/release/imdb-rnn in {}): build it (cargo build --release) or set IMDB_RNN_BIN=/path/to/imdb-rnn\n",
            dir.path().display()
        )
    );
    let err = refused(task(&mut job(dir.path()), 0, (0, 1, 2)).env("IMDB_RNN_BIN", "/nowhere/imdb-rnn").arg("sweep"));
    assert_eq!(
        err,
        "slurm-array: IMDB_RNN_BIN=/nowhere/imdb-rnn is not an executable file: build it (cargo build --release in the checkout) or fix the variable\n"
    );
}

#[test]
fn an_unreadable_sweep_file_is_named_with_the_directory_it_was_looked_for_in() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(task(&mut job(dir.path()), 0, (0, 1, 2)).args(["sweep", "--config", "configs/sweep-course.toml"]));
    assert_eq!(
        err,
        format!(
            "slurm-array: cannot read sweep file configs/sweep-course.toml (from {}, where sbatch was run): give its absolute path or submit from the directory that holds it\n",
            dir.path().display()
        )
    );
}

#[test]
fn offline_nodes_without_the_data_get_the_fetch_command_for_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = job(dir.path());
    task(&mut cmd, 0, (0, 1, 2)).env("IMDB_RNN_BIN", stub_imdb_rnn(dir.path(), false)).env("IMDB_RNN_HOME", "/shared/imdb-data");
    let err = refused(cmd.args(["sweep", "--offline", "--glove", "glove-wiki-gigaword-50"]));
    assert_eq!(
        err,
        "slurm-array: imdb glove-wiki-gigaword-50 not in the data directory /shared/imdb-data and the nodes are offline: on the login node run IMDB_RNN_HOME=/shared/imdb-data imdb-rnn fetch imdb glove-wiki-gigaword-50\n"
    );
    // With the data fetched (or an archive given) the task runs.
    let mut fetched = job(dir.path());
    task(&mut fetched, 0, (0, 1, 2)).env("IMDB_RNN_OFFLINE", "1").arg("sweep");
    assert_eq!(shard_of(&mut fetched).as_deref(), Some("0/2"));
}

#[test]
fn a_shard_or_a_command_other_than_sweep_or_course_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(task(&mut job(dir.path()), 0, (0, 1, 2)).args(["sweep", "--shard", "0/2"]));
    assert_eq!(err, "slurm-array: --shard is set by this script from the array: choose the shards with sbatch --array and SHARDS\n");
    let err = refused(task(&mut job(dir.path()), 0, (0, 1, 2)).arg("train"));
    assert_eq!(
        err,
        "slurm-array: expected sweep or course and its options after the script (got 'train'), e.g. sbatch --array=0-7 scripts/slurm-array.sbatch sweep --config FILE.toml\n"
    );
}

/// slurm-submit.sh with stub sbatch (job IDs 41, 42, ...; each call's arguments and
/// logged), squeue (prints `reason`) and scancel (logged) first on PATH.
fn submit(dir: &Path, reason: &str) -> assert_cmd::Command {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("calls");
    write_stub(
        &bin,
        "sbatch",
        &format!(
            r#"n=$(($(cat {c} 2>/dev/null || echo 40) + 1)); echo $n > {c}; echo "sbatch $*" >> {l}; echo "$n;cluster""#,
            c = dir.join("count").display(),
            l = log.display()
        ),
    );
    write_stub(&bin, "squeue", &format!("echo '{reason}'"));
    write_stub(&bin, "scancel", &format!(r#"echo "scancel $*" >> {}"#, log.display()));
    let mut cmd = assert_cmd::Command::new("bash");
    cmd.arg(script("slurm-submit.sh")).current_dir(dir).env_clear().env("HOME", dir);
    cmd.env("PATH", format!("{}:/usr/bin:/bin", bin.display())).env("IMDB_RNN_BIN", stub_imdb_rnn(dir, true));
    cmd
}

fn calls(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("calls")).unwrap_or_default();
    let job_script = script("slurm-array.sbatch");
    text.lines().map(|l| l.replace(job_script.to_str().unwrap(), "JOB")).collect()
}

#[test]
fn submit_queues_the_array_then_a_report_job_that_waits_for_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = submit(dir.path(), "Priority").args(["4", "--gres=gpu:1", "--", "course", "--scale", "full"]).assert().success().get_output().stdout.clone();
    assert_eq!(String::from_utf8(out).unwrap(), "41 42\n");
    assert_eq!(
        calls(dir.path()),
        [
            "sbatch --parsable --array=0-3 --export=ALL,SHARDS=4 --gres=gpu:1 JOB course --scale full",
            "sbatch --parsable --dependency=afterok:41 --job-name=imdb-rnn-report --output=slurm-%j.out --export=ALL,SHARDS=1 --gres=gpu:1 JOB course --scale full",
        ]
    );
}

#[test]
fn submit_resubmits_one_task_with_the_shard_count_of_the_first_submission() {
    let dir = tempfile::tempdir().unwrap();
    submit(dir.path(), "Priority").args(["8", "--array=1", "--", "sweep", "--grid", "seed=0,1"]).assert().success();
    assert_eq!(calls(dir.path())[0], "sbatch --parsable --array=1 --export=ALL,SHARDS=8 JOB sweep --grid seed=0,1");
}

#[test]
fn submit_cancels_an_array_no_node_can_run_and_says_why_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = submit(dir.path(), "PartitionConfig").args(["2", "--cpus-per-task=64", "--", "sweep", "--grid", "seed=0"]).assert().code(1).get_output().clone();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "slurm-submit: array job 41 can never start (Reason=PartitionConfig: it asks more CPUs, memory, GPUs or time than the partition's nodes have, see scontrol show partition); cancelled it and job 42: submit with less\n"
    );
    assert_eq!(calls(dir.path()).last().unwrap(), "scancel 41 42");
}

#[test]
fn submit_queues_nothing_when_a_task_would_fail_its_checks() {
    let dir = tempfile::tempdir().unwrap();
    let out = submit(dir.path(), "Priority").args(["2", "--", "sweep", "--config", "missing.toml"]).assert().code(1).get_output().clone();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!("slurm-array: cannot read sweep file missing.toml (from {}, where sbatch was run): give its absolute path or submit from the directory that holds it\n", dir.path().display())
    );
    assert!(calls(dir.path()).is_empty(), "queued: {:?}", calls(dir.path()));
    let err = submit(dir.path(), "Priority").args(["2", "sweep"]).assert().code(1).get_output().stderr.clone();
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "slurm-submit: no -- before the imdb-rnn command; usage: scripts/slurm-submit.sh N [SBATCH_OPTION...] -- sweep|course [IMDB_RNN_OPTION...]\n"
    );
}
