//! `predict` and `eval` with several `--run`s: one classifier whose P(positive) is the
//! mean of its runs', refused in one line when the runs read reviews differently.
mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Trains `name` on the fixture with `extra` options (--max-len 16 unless they say);
/// returns its run directory.
fn train(tmp: &Path, archive: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let runs = tmp.join("runs");
    let mut cmd = imdb_rnn(tmp);
    cmd.args(["train", "--epochs", "2", "--hidden", "8", "--emb-dim", "6", "--lr", "0.01", "--name", name, "--quiet"]).args(extra);
    if !extra.contains(&"--max-len") {
        cmd.args(["--max-len", "16"]);
    }
    cmd.data_and_runs(archive, &runs).assert().success();
    runs.join(name)
}

/// Three runs of one configuration, seeds 1 to 3.
fn three_seeds(tmp: &Path, archive: &Path) -> Vec<PathBuf> {
    (1..=3).map(|s| train(tmp, archive, &format!("s{s}"), &["--seed", &s.to_string()])).collect()
}

fn with_runs(cmd: &mut assert_cmd::Command, runs: &[PathBuf]) {
    for run in runs {
        cmd.arg("--run").arg(run);
    }
}

/// `predict --json` of `runs` (one run, or an ensemble) on `texts`: one object per text.
fn predict(tmp: &Path, runs: &[PathBuf], texts: &[String]) -> Vec<Value> {
    let mut cmd = imdb_rnn(tmp);
    cmd.args(["predict", "--json"]);
    with_runs(&mut cmd, runs);
    let out = cmd.args(texts).assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn eval_json(tmp: &Path, runs: &[PathBuf]) -> Value {
    let mut cmd = imdb_rnn(tmp);
    cmd.args(["eval", "--json"]);
    with_runs(&mut cmd, runs);
    serde_json::from_slice(&cmd.assert().success().get_output().stdout).unwrap()
}

fn probability(p: &Value) -> f64 {
    p["probability_positive"].as_f64().unwrap()
}

#[test]
fn an_ensemble_predicts_the_mean_of_its_runs_probabilities() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let runs = three_seeds(tmp.path(), &archive);
    let texts: Vec<String> = ["great wonderful film", "awful boring plot", "the movie", ""].map(String::from).to_vec();
    let members: Vec<Vec<Value>> = runs.iter().map(|r| predict(tmp.path(), std::slice::from_ref(r), &texts)).collect();
    let ensemble = predict(tmp.path(), &runs, &texts);
    assert_eq!(ensemble.len(), texts.len());
    let mut spread = 0f64;
    for (i, p) in ensemble.iter().enumerate() {
        let each: Vec<f64> = members.iter().map(|m| probability(&m[i])).collect();
        let mean = each.iter().sum::<f64>() / 3.0;
        assert!((probability(p) - mean).abs() < 1e-12, "text {i}: ensemble {} but the runs give {each:?}", probability(p));
        assert_eq!(p["label"], if mean > 0.5 { "positive" } else { "negative" });
        assert_eq!(p["tokens"], members[0][i]["tokens"]);
        assert!(p.get("logit").is_none(), "an ensemble has no logit: {p}");
        spread = spread.max(each.iter().map(|q| (q - mean).abs()).fold(0.0, f64::max));
    }
    assert!(spread > 1e-4, "the runs agree to {spread}: the mean would prove nothing");
}

#[test]
fn an_ensemble_eval_scores_the_mean_probability_and_each_run_on_the_same_reviews() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let runs = three_seeds(tmp.path(), &archive);
    let report = eval_json(tmp.path(), &runs);
    // Without --subset every run's test split is the whole fixture test split.
    let test: Vec<Review> = learnable_reviews(20, 7).into_iter().filter(|r| r.split == "test").collect();
    let texts: Vec<String> = test.iter().map(|r| String::from_utf8(r.text.clone()).unwrap()).collect();
    let ensemble = predict(tmp.path(), &runs, &texts);
    let correct = ensemble.iter().zip(&test).filter(|(p, r)| (probability(p) > 0.5) == (r.label == "pos")).count();
    assert_eq!(report["reviews"], test.len());
    assert_eq!(report["accuracy"].as_f64().unwrap(), correct as f64 / test.len() as f64, "{report}");
    let loss = ensemble.iter().zip(&test).map(|(p, r)| -if r.label == "pos" { probability(p).ln() } else { (1.0 - probability(p)).ln() }).sum::<f64>()
        / test.len() as f64;
    assert!((report["loss"].as_f64().unwrap() - loss).abs() < 1e-5, "loss {} against {loss}", report["loss"]);
    let members = report["members"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    for (member, run) in members.iter().zip(&runs) {
        let alone = eval_json(tmp.path(), std::slice::from_ref(run));
        assert_eq!(member["run"], run.display().to_string());
        assert_eq!(member["accuracy"], alone["accuracy"], "{member} against {alone}");
        assert!(alone.get("members").is_none(), "one run lists no members: {alone}");
    }
}

#[test]
fn runs_with_different_vocabularies_or_max_len_are_refused_naming_both_and_the_difference() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let small = train(tmp.path(), &archive, "v10", &["--vocab-size", "10"]);
    let large = train(tmp.path(), &archive, "v20", &["--vocab-size", "20"]);
    let long = train(tmp.path(), &archive, "len24", &["--vocab-size", "10", "--max-len", "24"]);
    let (s, l, g) = (small.display().to_string(), large.display().to_string(), long.display().to_string());
    let mut cmd = imdb_rnn(tmp.path());
    cmd.arg("predict");
    with_runs(&mut cmd, &[small.clone(), large]);
    cmd.arg("good")
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!("imdb-rnn: runs {s} and {l} have different vocabularies: 12 words in {s}, 22 in {l}; an ensemble takes runs of one vocabulary\n"));
    let mut cmd = imdb_rnn(tmp.path());
    cmd.args(["eval"]);
    with_runs(&mut cmd, &[small, long]);
    cmd.assert()
        .code(1)
        .stdout("")
        .stderr(format!("imdb-rnn: runs {s} and {g} read reviews differently: --max-len 16 in {s}, 24 in {g}; an ensemble takes runs of one encoding\n"));
}
