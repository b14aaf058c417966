//! Issue 12: nothing aborts, nothing is silently wrong, nothing escapes. One test (or
//! more) per item of the issue; the full-disk ones need root to mount a tmpfs.
mod common;
use common::*;
use std::path::Path;

/// `imdb-rnn` run in `dir` with its data home and runs root inside it.
fn cmd(dir: &Path) -> assert_cmd::Command {
    let mut c = imdb_rnn(&dir.join("home"));
    c.env("IMDB_RNN_RUNS", dir.join("runs"));
    c
}

#[test]
fn non_finite_floats_are_refused_naming_the_flag_the_value_and_the_range() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, msg) in [
        (vec!["--lr", "nan"], "imdb-rnn: --lr NaN: not a finite number; --lr must be a positive finite number\n"),
        (vec!["--lr", "inf"], "imdb-rnn: --lr inf: not a finite number; --lr must be a positive finite number\n"),
        (vec!["--lr", "1e400"], "imdb-rnn: --lr inf: not a finite number; --lr must be a positive finite number\n"),
        (vec!["--clip", "nan"], "imdb-rnn: --clip NaN: not a finite number; --clip must be a positive finite number\n"),
        (vec!["--clip", "inf"], "imdb-rnn: --clip inf: not a finite number; --clip must be a positive finite number\n"),
        (vec!["--dropout", "nan"], "imdb-rnn: --dropout NaN: not a finite number; --dropout must be in [0, 1)\n"),
        (vec!["--val-frac", "nan"], "imdb-rnn: --val-frac NaN: not a finite number; --val-frac must be in [0, 1)\n"),
        (vec!["--lr=-1"], "imdb-rnn: --lr must be a positive finite number, got -1\n"),
    ] {
        cmd(tmp.path()).arg("train").args(&args).args(["--imdb", "/nonexistent.tar.gz"]).assert().code(1).stderr(msg);
    }
    let toml = tmp.path().join("nan.toml");
    std::fs::write(&toml, "lr = nan\n").unwrap();
    cmd(tmp.path())
        .args(["train", "--imdb", "/nonexistent.tar.gz", "--config"])
        .arg(&toml)
        .assert()
        .code(1)
        .stderr(format!("imdb-rnn: config {}: --lr NaN: not a finite number; --lr must be a positive finite number\n", toml.display()));
    for (grid, msg) in [
        ("lr=nan", "imdb-rnn: --grid lr=nan: not a finite number; lr must be a positive finite number\n"),
        ("lr=0.01,1e400", "imdb-rnn: --grid lr=1e400: not a finite number; lr must be a positive finite number\n"),
        ("dropout=inf", "imdb-rnn: --grid dropout=inf: not a finite number; dropout must be in [0, 1)\n"),
    ] {
        cmd(tmp.path()).args(["sweep", "--imdb", "/nonexistent.tar.gz", "--grid", grid]).assert().code(1).stderr(msg);
    }
    std::fs::write(&toml, "lr = inf\n[grid]\nseed = [0]\n").unwrap();
    cmd(tmp.path())
        .args(["sweep", "--imdb", "/nonexistent.tar.gz", "--config"])
        .arg(&toml)
        .assert()
        .code(1)
        .stderr(format!("imdb-rnn: sweep file {}: --lr inf: not a finite number; --lr must be a positive finite number\n", toml.display()));
    assert!(!tmp.path().join("runs").exists() && !tmp.path().join("home").exists(), "nothing was written");
}

#[test]
fn a_sweep_name_outside_the_runs_root_is_refused_like_a_train_name() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["../esc", "/abs", "..", "", "a/b"] {
        cmd(tmp.path())
            .args(["sweep", "--imdb", "/nonexistent.tar.gz", "--grid", "seed=0", "--name", name])
            .assert()
            .code(1)
            .stderr(format!("imdb-rnn: --name {name:?}: use letters, digits and - _ . = , + only (the run directory lives inside --runs-dir)\n"));
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "nothing was created beside or inside the runs root");
}
