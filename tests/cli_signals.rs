//! Signals delivered while a deep LSTM trains: none may corrupt the process (issue 12,
//! item 1: a handler running on a thread inside oneDNN's kernels corrupted the heap).
mod common;
use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A deep LSTM at batch size 1: almost all its time is spent inside oneDNN's RNN
/// kernels, where a stray signal frame did the damage.
fn deep_lstm(home: &Path, archive: &Path, runs: &Path, name: &str, noop_signal: libc::c_int) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("imdb-rnn"))
        .env("IMDB_RNN_HOME", home)
        .env("IMDB_RNN_TEST_NOOP_SIGNAL", noop_signal.to_string())
        .args(["train", "--cell", "lstm", "--layers", "8", "--batch-size", "1", "--hidden", "64", "--epochs", "50"])
        .data_and_runs(archive, runs)
        .args(["--name", name, "--quiet"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for_steps(runs: &Path, name: &str, rows: usize) {
    let steps = runs.join(name).join("steps.csv");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&steps).map(|s| s.lines().count()).unwrap_or(0) < rows {
        assert!(Instant::now() < deadline, "training never started");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn deep_lstm_runs_hit_by_thousands_of_signals_still_stop_cleanly_on_sigint() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 100);
    let home = tmp.path().join("home");
    let runs = tmp.path().join("runs");
    for run in 0..3 {
        let name = format!("storm{run}");
        let child = deep_lstm(&home, &archive, &runs, &name, libc::SIGUSR1);
        wait_for_steps(&runs, &name, 5);
        let pid = child.id() as libc::pid_t;
        // Before the fix about one storm in five ended in glibc's heap-corruption abort.
        let storm_end = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < storm_end {
            // SAFETY: kill(2) on our own child, which has not been reaped yet.
            unsafe { libc::kill(pid, libc::SIGUSR1) };
            std::thread::sleep(Duration::from_micros(50));
        }
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGINT) };
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "run {run}: SIGINT must exit 130 after a checkpoint, got {:?}: {stderr}", out.status);
        assert!(stderr.contains("stopped by signal; checkpoint saved"), "run {run}: {stderr}");
    }
}
