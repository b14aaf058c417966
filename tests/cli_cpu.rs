//! Process-wide CPU settings through the CLI: subnormal floats flushed by default on
//! every thread that trains, kept on request, and OpenMP's short spin before sleeping.
mod common;
use common::*;

fn json_stdout(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let out = cmd.assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn info_reports_subnormals_flushed_on_every_libtorch_thread_and_a_short_openmp_spin() {
    let tmp = tempfile::tempdir().unwrap();
    let info =
        json_stdout(imdb_rnn(tmp.path()).env_remove("OMP_WAIT_POLICY").env_remove("GOMP_SPINCOUNT").env("OMP_NUM_THREADS", "2").args(["info", "--json"]));
    assert_eq!(info["cpu"]["denormals"], "flush");
    assert_eq!(info["cpu"]["denormals_flushed"], true, "{info}");
    assert_eq!(info["cpu"]["threads"], 2);
    assert_eq!(info["cpu"]["gomp_spincount"], "1000");
    assert!(info["cpu"]["omp_wait_policy"].is_null(), "{info}");
}

#[test]
fn a_wait_policy_or_spin_count_the_user_chose_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let info = json_stdout(imdb_rnn(tmp.path()).env("OMP_WAIT_POLICY", "active").env_remove("GOMP_SPINCOUNT").args(["info", "--json"]));
    assert_eq!(info["cpu"]["omp_wait_policy"], "active");
    assert!(info["cpu"]["gomp_spincount"].is_null(), "{info}");
    let info = json_stdout(imdb_rnn(tmp.path()).env_remove("OMP_WAIT_POLICY").env("GOMP_SPINCOUNT", "50").args(["info", "--json"]));
    assert_eq!(info["cpu"]["gomp_spincount"], "50");
}

/// Trains a 4-layer LSTM whose loss sits after 200 positions of mostly padding (the
/// course's `final` readout), so the gradient reaching early tokens passes through the
/// subnormal range; returns config.json and the per-position gradient norms (at 120
/// positions the gradient at the first tokens is ~1e-22 in IEEE arithmetic).
fn deep_run(tmp: &std::path::Path, archive: &std::path::Path, denormals: &str) -> (serde_json::Value, Vec<f64>) {
    let runs = tmp.join("runs");
    imdb_rnn(&tmp.join("home"))
        .args(["train", "--cell", "lstm", "--layers", "4", "--hidden", "16", "--emb-dim", "8", "--epochs", "1", "--max-len", "120"])
        .args(["--grad-every", "1", "--threads", "2", "--quiet", "--name", denormals, "--denormals", denormals])
        .data_and_runs(archive, &runs)
        .assert()
        .success();
    let dir = runs.join(denormals);
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    let mut reader = csv::Reader::from_path(dir.join("grads_time.csv")).unwrap();
    let norms = reader.deserialize::<std::collections::HashMap<String, String>>().filter_map(|r| r.unwrap()["norm"].parse().ok()).collect();
    (config, norms)
}

#[test]
fn training_flushes_vanishing_gradients_to_zero_by_default_and_keeps_them_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let (flush_cfg, flushed) = deep_run(tmp.path(), &archive, "flush");
    let (keep_cfg, kept) = deep_run(tmp.path(), &archive, "keep");
    assert_eq!(flush_cfg["config"]["denormals"], "flush");
    assert_eq!(flush_cfg["cpu"]["denormals_flushed"], true);
    assert_eq!(flush_cfg["cpu"]["threads"], 2);
    assert_eq!(keep_cfg["config"]["denormals"], "keep");
    assert_eq!(keep_cfg["cpu"]["denormals_flushed"], false);
    // IEEE arithmetic carries the gradient through the subnormal range to tiny non-zero
    // norms; flushing turns those positions into exact zeros.
    // Same seed, same batches: position by position, every norm that IEEE arithmetic
    // brought below 1e-20 is an exact zero when flushing.
    assert_eq!(flushed.len(), kept.len());
    let tiny: Vec<usize> = (0..kept.len()).filter(|&i| kept[i] > 0.0 && kept[i] < 1e-20).collect();
    assert!(!tiny.is_empty(), "no gradient norm below 1e-20 without flushing: {kept:?}");
    for i in tiny {
        assert_eq!(flushed[i], 0.0, "position {i}: {} kept, {} flushed", kept[i], flushed[i]);
    }
}

#[test]
fn threads_must_be_at_least_one() {
    let tmp = tempfile::tempdir().unwrap();
    imdb_rnn(tmp.path()).args(["train", "--threads", "0"]).assert().code(1).stderr("imdb-rnn: --threads must be at least 1, got 0\n");
}
