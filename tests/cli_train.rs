//! Training end to end through the CLI on a learnable synthetic archive.
mod common;
use common::*;

fn train_json(home: &std::path::Path, archive: &std::path::Path, runs: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let out = imdb_rnn(home)
        .args(["train", "--epochs", "15", "--hidden", "32", "--emb-dim", "16", "--lr", "0.01", "--json", "--quiet"])
        .args(extra)
        .data_and_runs(archive, runs)
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn each_cell_learns_the_synthetic_fixture_to_high_accuracy() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 250);
    for cell in ["rnn", "lstm", "gru"] {
        for readout in ["last", "mean"] {
            let s = train_json(&tmp.path().join("home"), &archive, &tmp.path().join("runs"), &["--cell", cell, "--readout", readout]);
            let acc = s["final_test_acc"].as_f64().unwrap();
            assert!(acc >= 0.9, "{cell}/{readout}: test accuracy {acc}");
        }
    }
}

#[test]
fn the_course_final_state_learns_when_reviews_are_not_mostly_padding() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 250);
    let s =
        train_json(&tmp.path().join("home"), &archive, &tmp.path().join("runs"), &["--cell", "gru", "--readout", "final", "--max-len", "25", "--name", "g"]);
    let acc = s["final_test_acc"].as_f64().unwrap();
    assert!(acc >= 0.95, "gru/final: test accuracy {acc}");
    // The run draws its learning curves by itself.
    let png = std::fs::read(tmp.path().join("runs/g/learning_curves.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
}
