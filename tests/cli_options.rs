//! The options beyond the course (issue 11): batching, dropout placements, AdamW,
//! learning-rate schedules, truncation, meanmax, and selection on validation; each as it
//! reaches config.json, metrics.csv, summary.json and `summary`.
mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

const SMALL: [&str; 6] = ["--hidden", "8", "--emb-dim", "8", "--quiet", "--json"];

fn train(home: &Path, archive: &Path, runs: &Path, name: &str, extra: &[&str]) -> Value {
    let out = imdb_rnn(home).arg("train").args(SMALL).args(extra).data_and_runs(archive, runs).args(["--name", name]).assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn config_json(runs: &Path, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(runs.join(name).join("config.json")).unwrap()).unwrap()
}

/// The `lr` column of metrics.csv, per epoch.
fn epoch_lrs(runs: &Path, name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(runs.join(name).join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "lr").unwrap();
    lines.map(|l| l.split(',').nth(col).unwrap().parse().unwrap()).collect()
}

#[test]
fn new_options_with_bad_values_are_refused_naming_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    for (args, msg) in [
        (
            vec!["--batching", "bucket"],
            "imdb-rnn: --batching bucket needs a length-aware --readout (last, mean, max, meanmax): the final readout runs over all --max-len positions, so its batches keep them; drop --batching or change --readout\n",
        ),
        (vec!["--emb-dropout", "1"], "imdb-rnn: --emb-dropout must be in [0, 1), got 1\n"),
        (vec!["--fc-dropout=-0.1"], "imdb-rnn: --fc-dropout must be in [0, 1), got -0.1\n"),
        (vec!["--weight-decay=-1"], "imdb-rnn: --weight-decay must be a number >= 0, got -1\n"),
        (vec!["--ema", "1"], "imdb-rnn: --ema must be in [0, 1), got 1\n"),
        (vec!["--ema", "NaN"], "imdb-rnn: --ema NaN: not a finite number; --ema must be in [0, 1)\n"),
        (vec!["--lr-schedule", "plateau"], "imdb-rnn: --lr-schedule plateau needs a validation split: add --val-frac (e.g. 0.1)\n"),
    ] {
        imdb_rnn(&home).arg("train").args(&args).args(["--imdb", "/nonexistent.tar.gz"]).assert().code(1).stderr(msg);
    }
    imdb_rnn(&home).args(["train", "--truncate", "middle"]).assert().code(2).stderr(predicates::str::contains("invalid value 'middle' for '--truncate"));
    assert!(!home.exists(), "nothing was written");
}

#[test]
fn length_aware_readouts_default_to_bucketed_batches_and_final_to_random_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    train(&home, &archive, &runs, "last", &["--readout", "last", "--epochs", "1"]);
    train(&home, &archive, &runs, "final", &["--epochs", "1"]);
    train(&home, &archive, &runs, "mean-random", &["--readout", "mean", "--batching", "random", "--epochs", "1"]);
    assert_eq!(config_json(&runs, "last")["config"]["batching"], "bucket");
    assert_eq!(config_json(&runs, "final")["config"]["batching"], "random");
    assert_eq!(config_json(&runs, "mean-random")["config"]["batching"], "random");
}

#[test]
fn every_new_option_is_recorded_in_config_json_and_the_run_learns() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 60);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    let summary = train(
        &home,
        &archive,
        &runs,
        "all",
        &[
            "--readout",
            "meanmax",
            "--bidirectional",
            "--emb-dropout",
            "0.2",
            "--fc-dropout",
            "0.3",
            "--weight-decay",
            "0.01",
            "--lr-schedule",
            "cosine",
            "--warmup-steps",
            "3",
            "--truncate",
            "tail",
            "--max-len",
            "12",
            "--val-frac",
            "0.2",
            "--epochs",
            "6",
            "--lr",
            "0.05",
        ],
    );
    let c = &config_json(&runs, "all")["config"];
    assert_eq!(c["model"]["readout"], "meanmax");
    assert_eq!(c["model"]["emb_dropout"], 0.2);
    assert_eq!(c["model"]["fc_dropout"], 0.3);
    assert_eq!(c["weight_decay"], 0.01);
    assert_eq!(c["lr_schedule"], "cosine");
    assert_eq!(c["warmup_steps"], 3);
    assert_eq!(c["encode"]["truncate"], "tail");
    // 2 batches an epoch: epoch 1 ends inside the 3-step warm-up (2/3 of the cosine
    // value), then cosine makes the learning rate fall from epoch to epoch, below --lr.
    let lrs = epoch_lrs(&runs, "all");
    assert_eq!(lrs.len(), 6);
    let cosine = |step: f64| 0.05 * 0.5 * (1.0 + (std::f64::consts::PI * (step - 1.0) / 12.0).cos());
    assert!((lrs[0] - cosine(2.0) * 2.0 / 3.0).abs() < 1e-12, "{lrs:?}");
    assert!((lrs[5] - cosine(12.0)).abs() < 1e-12, "{lrs:?}");
    assert!(lrs[1..].windows(2).all(|w| w[1] < w[0]) && lrs[1] < 0.05, "{lrs:?}");
    // Selection on validation is reported, and the run learned: well above chance (0.5),
    // though keeping only 12 tokens of 5-25 drops some reviews' sentiment words.
    let at_val = summary["test_acc_at_best_val"].as_f64().unwrap();
    assert!(at_val >= 0.65, "{summary}");
}

#[test]
fn the_default_head_truncation_keeps_its_config_json_and_cache_and_tail_gets_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    train(&home, &archive, &runs, "head", &["--max-len", "8", "--epochs", "1"]);
    let caches = || std::fs::read_dir(home.join("cache")).map(|d| d.count()).unwrap_or(0);
    let after_head = caches();
    train(&home, &archive, &runs, "tail", &["--max-len", "8", "--epochs", "1", "--truncate", "tail"]);
    assert_eq!(caches(), after_head + 1, "tail encodes differently, so it is cached under another key");
    // head is not written at all: runs and caches from before --truncate still match.
    assert!(config_json(&runs, "head")["config"]["encode"].get("truncate").is_none());
    // And the two encodings really differ: different first-epoch results.
    let loss = |name: &str| std::fs::read_to_string(runs.join(name).join("steps.csv")).unwrap();
    assert_ne!(loss("head"), loss("tail"));
}

#[test]
fn weight_decay_changes_the_trained_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    train(&home, &archive, &runs, "adam", &["--epochs", "1"]);
    train(&home, &archive, &runs, "adamw", &["--epochs", "1", "--weight-decay", "0.5"]);
    assert_ne!(std::fs::read(runs.join("adam/model.ot")).unwrap(), std::fs::read(runs.join("adamw/model.ot")).unwrap());
}

/// The named tensors of a saved `.ot` file.
fn tensors(path: &Path) -> std::collections::HashMap<String, tch::Tensor> {
    tch::Tensor::load_multi(path).unwrap().into_iter().collect()
}

#[test]
fn with_ema_the_saved_model_is_the_moving_average_the_checkpoint_carries_not_the_trained_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 40);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    train(&home, &archive, &runs, "ema", &["--epochs", "2", "--lr", "0.01", "--ema", "0.9"]);
    assert_eq!(config_json(&runs, "ema")["config"]["ema"], 0.9);
    let (model, checkpoint) = (tensors(&runs.join("ema/model.ot")), tensors(&runs.join("ema/checkpoint.ot")));
    assert!(!model.is_empty());
    for (name, saved) in &model {
        let average = &checkpoint[&format!("ema.{name}")];
        let trained = &checkpoint[&format!("model.{name}")];
        assert!(saved.equal(average), "model.ot's {name} is the moving average");
        assert!(!saved.equal(trained), "{name}: the average differs from the trained weights");
    }
    // Without --ema, nothing of the kind: model.ot holds the trained weights, config.json
    // has no ema (runs from before the option read the same).
    train(&home, &archive, &runs, "plain", &["--epochs", "2", "--lr", "0.01"]);
    assert!(config_json(&runs, "plain")["config"].get("ema").is_none());
    let (model, checkpoint) = (tensors(&runs.join("plain/model.ot")), tensors(&runs.join("plain/checkpoint.ot")));
    assert!(checkpoint.keys().all(|k| !k.starts_with("ema.")));
    for (name, saved) in &model {
        assert!(saved.equal(&checkpoint[&format!("model.{name}")]), "{name}");
    }
}

#[test]
fn a_learnable_fixture_is_learned_with_ema_and_its_metrics_are_the_averaged_model_s() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 250);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    let extra = ["--cell", "gru", "--readout", "last", "--epochs", "10", "--lr", "0.01", "--ema", "0.9"];
    let summary = train(&home, &archive, &runs, "ema", &extra);
    let (acc, loss) = (summary["final_test_acc"].as_f64().unwrap(), summary["final_test_loss"].as_f64().unwrap());
    assert!(acc > 0.9, "test accuracy {acc}");
    // `eval` scores model.ot, the averaged weights: the last epoch's logged test metrics
    // are theirs (the trained weights' loss would differ).
    let out = imdb_rnn(&home).args(["eval", "--json", "--run"]).arg(runs.join("ema")).assert().success();
    let eval: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(eval["accuracy"].as_f64(), Some(acc), "{eval}");
    assert!((eval["loss"].as_f64().unwrap() - loss).abs() < 1e-5, "eval loss {} against the logged {loss}", eval["loss"]);
}

#[test]
fn plateau_halves_the_learning_rate_after_each_epoch_without_a_better_validation_accuracy() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    // A learning rate so small that validation accuracy cannot improve after epoch 1.
    let lr = "1e-9";
    let out = imdb_rnn(&home)
        .args([
            "train",
            "--hidden",
            "8",
            "--emb-dim",
            "8",
            "--quiet",
            "--lr",
            lr,
            "--lr-schedule",
            "plateau",
            "--val-frac",
            "0.25",
            "--epochs",
            "4",
            "--name",
            "p",
        ])
        .data_and_runs(&archive, &runs)
        .assert();
    out.success();
    assert_eq!(epoch_lrs(&runs, "p"), vec![1e-9, 1e-9, 5e-10, 2.5e-10]);
}

#[test]
fn summary_leads_with_the_test_accuracy_at_the_best_validation_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    let with_val = train(&home, &archive, &runs, "val", &["--readout", "last", "--val-frac", "0.25", "--epochs", "2"]);
    train(&home, &archive, &runs, "noval", &["--epochs", "2"]);
    let out = imdb_rnn(&home).arg("summary").arg(&runs).assert().success();
    let table = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let header = table.lines().next().unwrap();
    assert!(header.contains("| seeds | test acc at best val | final test acc | best test acc (selected on test) |"), "{header}");
    let at_val = with_val["test_acc_at_best_val"].as_f64().unwrap();
    let row = table.lines().find(|l| l.contains("| last |")).unwrap();
    assert!(row.contains(&format!("| {at_val:.4} ± 0.0000 |")), "{row}");
    let row = table.lines().find(|l| l.contains("| final |")).unwrap();
    assert!(row.contains("| 0 | – |"), "{row}");
}

#[test]
fn gradient_logging_works_on_bucketed_batches_cut_short_of_max_len() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    train(&home, &archive, &runs, "g", &["--readout", "last", "--grad-every", "1", "--max-len", "40", "--epochs", "1"]);
    let rows = std::fs::read_to_string(runs.join("g/grads_time.csv")).unwrap();
    // One row per position up to --max-len; positions past the longest review (25
    // tokens) were never reached and have no mean.
    assert_eq!(rows.lines().count(), 1 + 40);
    let at = |t: usize| rows.lines().nth(1 + t).unwrap().split(',').nth(2).unwrap().to_string();
    assert!(!at(0).is_empty() && at(39).is_empty(), "{} / {}", at(0), at(39));
}
