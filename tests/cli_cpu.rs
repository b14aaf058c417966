//! Process-wide CPU settings through the CLI: subnormal floats flushed by default on
//! every thread that trains, kept on request; libgomp's own spin for a training alone,
//! and a share of the cores for each worker the project starts.
mod common;
use common::*;

fn json_stdout(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let out = cmd.assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn info_reports_subnormals_flushed_on_every_libtorch_thread_and_libgomps_own_spin() {
    let tmp = tempfile::tempdir().unwrap();
    let info =
        json_stdout(imdb_rnn(tmp.path()).env_remove("OMP_WAIT_POLICY").env_remove("GOMP_SPINCOUNT").env("OMP_NUM_THREADS", "2").args(["info", "--json"]));
    assert_eq!(info["cpu"]["denormals"], "flush");
    assert_eq!(info["cpu"]["denormals_flushed"], true, "{info}");
    assert_eq!(info["cpu"]["threads"], 2);
    assert!(info["cpu"]["gomp_spincount"].is_null(), "{info}");
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

fn cores() -> usize {
    std::thread::available_parallelism().unwrap().get()
}

fn config_of(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap()
}

#[test]
fn a_training_alone_runs_on_every_core_with_libgomps_default_spin() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 6);
    let runs = tmp.path().join("runs");
    imdb_rnn(tmp.path())
        .env_remove("OMP_WAIT_POLICY")
        .env_remove("GOMP_SPINCOUNT")
        .env_remove("OMP_NUM_THREADS")
        .args(["train", "--epochs", "1", "--hidden", "8", "--emb-dim", "4", "--quiet", "--name", "alone"])
        .data_and_runs(&archive, &runs)
        .assert()
        .success();
    let cpu = &config_of(&runs.join("alone"))["cpu"];
    assert!(cpu["gomp_spincount"].is_null(), "{cpu}");
    assert_eq!(cpu["threads"], cores() as u64, "{cpu}");
}

#[test]
fn sweep_jobs_give_each_worker_its_share_of_the_cores_and_the_results_of_a_sequential_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 8);
    let runs = tmp.path().join("runs");
    let share = (cores() / 2).max(1).to_string();
    let sweep = |name: &str, extra: &[&str]| {
        imdb_rnn(tmp.path())
            .args(["sweep", "--grid", "cell=rnn,gru seed=0,1", "--epochs", "2", "--hidden", "8", "--emb-dim", "4", "--quiet", "--name", name])
            .args(extra)
            .data_and_runs(&archive, &runs)
            .assert()
            .success()
    };
    sweep("sequential", &["--threads", &share]);
    let parallel = sweep("parallel", &["--jobs", "2"]);
    let listing = String::from_utf8_lossy(&parallel.get_output().stdout).into_owned();
    for point in ["cell=rnn,seed=0", "cell=rnn,seed=1", "cell=gru,seed=0", "cell=gru,seed=1"] {
        let (seq, par) = (runs.join("sequential").join(point), runs.join("parallel").join(point));
        assert_eq!(config_of(&par)["cpu"]["threads"].as_u64(), Some(share.parse().unwrap()), "{point}");
        assert_eq!(metrics_without_timing(&seq), metrics_without_timing(&par), "{point}");
        assert_eq!(std::fs::read(seq.join("model.ot")).unwrap(), std::fs::read(par.join("model.ot")).unwrap(), "{point}");
        assert_eq!(listing.matches(point).count(), 1, "{point} listed once: {listing}");
    }
}

#[test]
fn a_training_started_while_another_holds_its_run_lock_notes_how_to_share_the_cores() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 6);
    let runs = tmp.path().join("runs");
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("imdb-rnn"));
    first.env("IMDB_RNN_HOME", tmp.path()).args(["train", "--epochs", "500", "--hidden", "8", "--emb-dim", "4", "--quiet", "--name", "long"]);
    let mut first = first.data_and_runs(&archive, &runs).stderr(std::process::Stdio::null()).spawn().unwrap();
    // The lock is taken before config.json is written.
    let started = std::time::Instant::now();
    while !runs.join("long").join("config.json").exists() && started.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let second = |extra: &[&str]| {
        let out = imdb_rnn(tmp.path())
            .env_remove("IMDB_RNN_TEST_NO_SHARE_NOTE")
            .env_remove("OMP_WAIT_POLICY")
            .env_remove("GOMP_SPINCOUNT")
            .env_remove("OMP_NUM_THREADS")
            .args(["train", "--epochs", "1", "--hidden", "8", "--emb-dim", "4", "--quiet"])
            .args(extra)
            .data_and_runs(&archive, &runs)
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stderr).into_owned()
    };
    let default_threads = second(&["--name", "second"]);
    let with_threads = second(&["--name", "third", "--threads", "1"]);
    first.kill().unwrap();
    first.wait().unwrap();
    // At least the first training; the suite's other tests may train beside it at the
    // same moment, and the note counts them too.
    let others: usize = default_threads
        .split("imdb-rnn: note: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no note: {default_threads}"));
    assert!(others >= 1, "{default_threads}");
    let share = (cores() / (others + 1)).max(1);
    assert!(
        default_threads.contains(&format!(
            "imdb-rnn: note: {others} other imdb-rnn training(s) run on this machine, each on all {} cores; give each --threads {share}",
            cores()
        )),
        "{default_threads}"
    );
    assert!(!with_threads.contains("note:"), "{with_threads}");
}
