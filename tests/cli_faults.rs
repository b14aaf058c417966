//! Runs that are interrupted, resumed, diverge or are misconfigured, and using a run.
mod common;
use common::*;
use std::path::Path;
use std::process::Command;

const SMALL: [&str; 10] = ["--hidden", "16", "--emb-dim", "8", "--lr", "0.01", "--readout", "last", "--layers", "2"];

fn train(home: &Path, archive: &Path, runs: &Path, name: &str, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = imdb_rnn(home);
    cmd.arg("train").args(SMALL).args(extra).data_and_runs(archive, runs).args(["--name", name, "--quiet"]);
    cmd
}

#[test]
fn the_same_seed_gives_identical_metrics_twice_in_a_row() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 60);
    let runs = tmp.path().join("runs");
    for name in ["a", "b"] {
        train(&tmp.path().join("home"), &archive, &runs, name, &["--dropout", "0.2", "--epochs", "3"]).assert().success();
    }
    assert_eq!(metrics_without_timing(&runs.join("a")), metrics_without_timing(&runs.join("b")));
    assert_eq!(std::fs::read(runs.join("a/model.ot")).unwrap(), std::fs::read(runs.join("b/model.ot")).unwrap());
    train(&tmp.path().join("home"), &archive, &runs, "c", &["--dropout", "0.2", "--epochs", "3", "--seed", "1"]).assert().success();
    assert_ne!(metrics_without_timing(&runs.join("a")), metrics_without_timing(&runs.join("c")));
}

#[test]
fn sigterm_mid_run_then_resume_ends_bit_identical_to_an_uninterrupted_run() {
    assert_resume_is_bit_identical(&["--dropout", "0.2", "--epochs", "4"], 12);
}

#[test]
fn resume_with_ema_is_bit_identical_the_checkpoint_carrying_the_moving_average() {
    // model.ot and best.ot hold the average: a resume that restarted it from the
    // checkpoint's weights would save other values.
    assert_resume_is_bit_identical(&["--ema", "0.9", "--dropout", "0.2", "--epochs", "3"], 12);
}

#[test]
fn resume_is_bit_identical_with_bucketing_a_bidirectional_stack_the_new_dropouts_adamw_and_a_plateau_schedule() {
    let extra = [
        "--bidirectional",
        "--emb-dropout",
        "0.2",
        "--fc-dropout",
        "0.2",
        "--weight-decay",
        "0.01",
        "--lr-schedule",
        "plateau",
        "--val-frac",
        "0.02",
        "--warmup-steps",
        "5",
        "--epochs",
        "4",
    ];
    // 12 validation reviews, soon all right, so the plateau halves the rate; 588 train
    // reviews, 10 batches an epoch: the 25th line of steps.csv is inside epoch 3, after
    // two epochs that could halve it.
    let runs = assert_resume_is_bit_identical(&extra, 25);
    let metrics = std::fs::read_to_string(runs.path().join("runs/whole/metrics.csv")).unwrap();
    let lrs: Vec<&str> = metrics.lines().skip(1).map(|l| l.split(',').nth(7).unwrap()).collect();
    // Halved by the end of epoch 2, so the checkpoint taken in epoch 3 had to carry it.
    assert_ne!(lrs[2], lrs[0], "the plateau had not halved the rate before the stop, so its state was not tested: {lrs:?}");
}

/// Trains `extra` once whole and once stopped by SIGTERM after `kill_after_steps` logged
/// steps and resumed; both must end with the same metrics, steps and weights. Returns
/// the temp dir (runs in `runs/whole` and `runs/cut`).
fn assert_resume_is_bit_identical(extra: &[&str], kill_after_steps: usize) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 300);
    let home = tmp.path().join("home");
    let runs = tmp.path().join("runs");
    train(&home, &archive, &runs, "whole", extra).assert().success();

    // Same run, stopped by SIGTERM once its first steps are logged.
    let bin = assert_cmd::cargo::cargo_bin("imdb-rnn");
    let mut child = Command::new(&bin)
        .env("IMDB_RNN_HOME", &home)
        .arg("train")
        .args(SMALL)
        .args(extra)
        .data_and_runs(&archive, &runs)
        .args(["--name", "cut", "--quiet"])
        .spawn()
        .unwrap();
    let steps = runs.join("cut/steps.csv");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_to_string(&steps).map(|s| s.lines().count()).unwrap_or(0) < kill_after_steps {
        assert!(std::time::Instant::now() < deadline, "training never started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "SIGTERM exits 143");
    assert!(!runs.join("cut/model.ot").exists(), "the run was really interrupted");
    assert!(runs.join("cut/checkpoint.ot").exists());

    train(&home, &archive, &runs, "cut", extra).arg("--resume").assert().success();
    assert_eq!(metrics_without_timing(&runs.join("whole")), metrics_without_timing(&runs.join("cut")));
    for weights in ["model.ot", "best.ot"] {
        let read = |d: &str| std::fs::read(runs.join(d).join(weights)).ok();
        assert_eq!(read("whole"), read("cut"), "{weights}");
    }
    // Every other CSV, row for row: steps.csv (one row per batch, none duplicated or
    // missing) and, with --grad-every, the gradient logs and their per-epoch summaries.
    for csv in ["steps.csv", "grads.csv", "grads_epoch.csv", "grads_time.csv"] {
        let rows = |d: &str| std::fs::read_to_string(runs.join(d).join(csv)).ok();
        assert_eq!(rows("whole"), rows("cut"), "{csv} differs after the resume");
    }
    tmp
}

#[test]
fn a_resumed_run_logging_every_steps_gradients_writes_the_same_gradient_summaries_as_an_uninterrupted_one() {
    // 600 train reviews, 10 batches an epoch: the 15th line of steps.csv is in epoch 2,
    // so epoch 2's summaries must combine steps from before and after the stop.
    let runs = assert_resume_is_bit_identical(&["--grad-every", "1", "--dropout", "0.2", "--epochs", "3"], 15);
    let epochs = std::fs::read_to_string(runs.path().join("runs/cut/grads_epoch.csv")).unwrap();
    assert!(epochs.lines().any(|l| l.starts_with("2,")), "epoch 2 summarised: {epochs}");
}

#[test]
fn an_injected_nan_stops_the_run_with_its_own_exit_code_keeping_the_last_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 60);
    let runs = tmp.path().join("runs");
    // 120 train reviews / 64 = 2 batches an epoch: step 3 is the first of epoch 2.
    let out = train(&tmp.path().join("home"), &archive, &runs, "nan", &["--epochs", "3"]).env("IMDB_RNN_INJECT_NAN_AT_STEP", "3").assert().code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("imdb-rnn: loss became NaN at epoch 2, step 3; lower --lr or add --clip"), "{err}");
    let metrics = std::fs::read_to_string(runs.join("nan/metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 2, "header + epoch 1 only: {metrics}");
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(runs.join("nan/checkpoint.json")).unwrap()).unwrap();
    assert_eq!(state["epoch"], 1);
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(runs.join("nan/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "failed");
}

#[test]
fn bad_flags_are_refused_before_any_work_naming_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    for (args, msg) in [
        (vec!["--layers", "0"], "imdb-rnn: --layers must be at least 1, got 0\n"),
        (vec!["--hidden", "0"], "imdb-rnn: --hidden must be at least 1, got 0\n"),
        (vec!["--max-len", "0"], "imdb-rnn: --max-len must be at least 1, got 0\n"),
        (vec!["--dropout", "1.5"], "imdb-rnn: --dropout must be in [0, 1), got 1.5\n"),
        (vec!["--patience", "2"], "imdb-rnn: --patience needs a validation split: add --val-frac (e.g. 0.1)\n"),
        (vec!["--device", "tpu"], "imdb-rnn: --device tpu: expected auto, cpu, cuda or cuda:N\n"),
        (vec!["--cell", "lstm", "--nonlinearity", "relu"], "imdb-rnn: --nonlinearity relu applies to --cell rnn only\n"),
        (vec!["--name", "../escape"], "imdb-rnn: --name \"../escape\": use letters, digits and - _ . = , + only (the run directory lives inside --runs-dir)\n"),
    ] {
        imdb_rnn(&home).arg("train").args(&args).args(["--imdb", "/nonexistent.tar.gz"]).assert().code(1).stderr(msg);
    }
    imdb_rnn(&home).args(["train", "--cell", "transformer"]).assert().code(2).stderr(predicates::str::contains("invalid value 'transformer' for '--cell"));
    if !tch::Cuda::is_available() {
        imdb_rnn(&home)
            .args(["train", "--device", "cuda"])
            .assert()
            .code(1)
            .stderr(predicates::str::contains("imdb-rnn: --device cuda: CUDA is not available"));
    }
    assert!(!home.exists(), "nothing was written");
}

#[test]
fn a_glove_dimension_that_contradicts_emb_dim_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    let glove = tmp.path().join("g.txt");
    std::fs::write(&glove, "the 1 2 3\nmovie 4 5 6\n").unwrap();
    imdb_rnn(&tmp.path().join("home"))
        .args(["train", "--emb", "glove-frozen", "--emb-dim", "50", "--glove"])
        .arg(&glove)
        .arg("--imdb")
        .arg(&archive)
        .assert()
        .code(1)
        .stderr("imdb-rnn: --emb-dim 50 does not match the GloVe file's dimension 3; drop --emb-dim or pass a 50-d GloVe file\n");
}

#[test]
fn frozen_glove_embeddings_are_bit_identical_after_training_and_tuned_ones_change() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 60);
    let glove = write_glove_4d(tmp.path());
    let runs = tmp.path().join("runs");
    for (name, mode) in [("frozen", "glove-frozen"), ("tuned", "glove-tuned")] {
        imdb_rnn(&tmp.path().join("home"))
            .args(["train", "--epochs", "2", "--hidden", "8", "--emb", mode, "--quiet", "--name", name, "--glove"])
            .arg(&glove)
            .data_and_runs(&archive, &runs)
            .assert()
            .success();
    }
    let vocab: serde_json::Value = serde_json::from_slice(&std::fs::read(runs.join("frozen/vocab.json")).unwrap()).unwrap();
    let words: Vec<String> = serde_json::from_value(vocab["words"].clone()).unwrap();
    let embedding = |run: &str| {
        let saved = tch::Tensor::load_multi(runs.join(run).join("model.ot")).unwrap();
        let (_, t) = saved.into_iter().find(|(n, _)| n == "embedding.weight").unwrap();
        t
    };
    let frozen = embedding("frozen");
    let row = |w: &str| Vec::<f32>::try_from(frozen.get(words.iter().position(|x| x == w).unwrap() as i64)).unwrap();
    assert_eq!(row("movie"), vec![-1.0, 0.5, 2.0, 0.25]);
    assert_eq!(row("great"), vec![1.0, 1.0, 1.0, 1.0]);
    assert_eq!(row("plot"), vec![0.0; 4], "words without a vector are zeros");
    assert!(!frozen.equal(&embedding("tuned")), "fine-tuned embeddings moved");
}

#[test]
fn predict_and_eval_work_on_a_saved_run_from_another_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 250);
    let runs = tmp.path().join("runs");
    imdb_rnn(&tmp.path().join("home"))
        .arg("train")
        .args(["--epochs", "10", "--hidden", "32", "--emb-dim", "16", "--lr", "0.01", "--readout", "last", "--cell", "gru", "--quiet", "--name", "g"])
        .data_and_runs(&archive, &runs)
        .assert()
        .success();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = imdb_rnn(&tmp.path().join("home"))
        .current_dir(elsewhere.path())
        .args(["predict", "--json", "--run"])
        .arg(runs.join("g"))
        .args(["the movie was superb and wonderful", "awful boring plot, the worst"])
        .assert()
        .success();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.get_output().stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["label"], "positive");
    assert_eq!(lines[1]["label"], "negative");
    assert!(lines[0]["probability_positive"].as_f64().unwrap() > 0.8);
    // stdin: one review per line.
    imdb_rnn(&tmp.path().join("home"))
        .current_dir(elsewhere.path())
        .args(["predict", "--run"])
        .arg(runs.join("g"))
        .write_stdin("a great film\nterrible\n")
        .assert()
        .success()
        .stdout(predicates::str::is_match("^0\\.\\d{4}\tpositive\ta great film\n0\\.\\d{4}\tnegative\tterrible\n$").unwrap());
    let out = imdb_rnn(&tmp.path().join("home")).current_dir(elsewhere.path()).args(["eval", "--json", "--run"]).arg(runs.join("g")).assert().success();
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["reviews"], 500);
    let c = &report["confusion"];
    let total: u64 = (0..2).flat_map(|i| (0..2).map(move |j| (i, j))).map(|(i, j)| c[i][j].as_u64().unwrap()).sum();
    assert_eq!(total, 500);
    assert!(report["accuracy"].as_f64().unwrap() >= 0.9);
}

#[test]
fn every_shipped_preset_in_configs_parses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("[grid]") {
            imdb_rnn(&tmp.path().join("home")).args(["sweep", "--dry-run", "--config"]).arg(&path).assert().success();
        } else {
            // A parsed file reaches validation: --layers 0 is refused by name.
            imdb_rnn(&tmp.path().join("home"))
                .args(["train", "--layers", "0", "--config"])
                .arg(&path)
                .assert()
                .code(1)
                .stderr("imdb-rnn: --layers must be at least 1, got 0\n");
        }
        checked += 1;
    }
    assert!(checked >= 6);
}
