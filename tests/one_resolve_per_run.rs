//! A run's configuration is resolved once: `train` resolves it once, and a sweep once
//! per point (compared with the others, then trained). The commands run in this test's
//! own process, its only test, so no other test's resolving is counted.
mod common;

use clap::Parser;
use imdb_rnn::{resolve_calls, Cli, Exit};
use std::path::Path;

/// Runs `imdb-rnn ARGS` in this process.
fn imdb_rnn(args: &[&str]) -> Exit {
    let cli = Cli::try_parse_from(std::iter::once("imdb-rnn").chain(args.iter().copied())).unwrap();
    imdb_rnn::run(cli).unwrap()
}

fn text(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn train_resolves_its_configuration_once_and_a_sweep_once_per_point() {
    let tmp = tempfile::tempdir().unwrap();
    std::env::set_var("IMDB_RNN_HOME", tmp.path().join("home"));
    let archive = common::learnable_archive(tmp.path(), 12);
    let glove = common::write_glove_4d(tmp.path());
    let runs = tmp.path().join("runs");
    let shared = ["--imdb", text(&archive), "--runs-dir", text(&runs), "--glove", text(&glove), "--offline", "-q"];
    let small = ["--emb", "glove-tuned", "--hidden", "4", "--epochs", "1", "--max-len", "16", "--threads", "1"];
    let before = resolve_calls();

    // No --name: the run's name comes from its configuration too.
    assert_eq!(imdb_rnn(&[&["train"][..], &shared, &small].concat()), Exit::Success);
    assert_eq!(resolve_calls() - before, 1, "one train run");

    let grid = ["--name", "sw", "--grid", "cell=rnn,gru"];
    assert_eq!(imdb_rnn(&[&["sweep"][..], &shared, &small, &grid].concat()), Exit::Success);
    assert_eq!(resolve_calls() - before, 3, "one train run and a sweep of two points");
    for point in ["cell=rnn", "cell=gru"] {
        assert!(runs.join("sw").join(point).join("model.ot").exists(), "{point} trained");
    }
}
