//! Sweeps: resumable after a signal, safe with concurrent workers, and summarised.
mod common;
use common::*;
use predicates::prelude::*;
use std::path::Path;
use std::process::{Command, Stdio};

const GRID: &str = "cell=rnn,gru layers=1,2";
const OPTS: [&str; 8] = ["--epochs", "2", "--hidden", "8", "--emb-dim", "8", "--lr", "0.01"];

fn sweep_command(home: &Path, archive: &Path, runs: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("imdb-rnn"));
    cmd.env("IMDB_RNN_HOME", home).args(["sweep", "--grid", GRID, "--quiet", "--name", "s"]).args(OPTS).args(extra);
    cmd.data_and_runs(archive, runs);
    cmd
}

/// Every point finished exactly once: one metrics row per epoch, steps without repeats.
fn assert_each_point_complete_once(runs: &Path) {
    for cell in ["rnn", "gru"] {
        for layers in [1, 2] {
            let dir = runs.join(format!("s/cell={cell},layers={layers}"));
            let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
            let epochs: Vec<&str> = metrics.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
            assert_eq!(epochs, ["1", "2"], "{}", dir.display());
            let steps = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
            let ids: Vec<&str> = steps.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
            let expected: Vec<String> = (1..=ids.len()).map(|i| i.to_string()).collect();
            assert_eq!(ids, expected, "{}: steps must be 1..N without repeats", dir.display());
            let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
            assert_eq!(summary["status"], "finished");
        }
    }
}

#[test]
fn a_sweep_stopped_by_sigterm_and_run_again_ends_every_run_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 150);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    let mut child = sweep_command(&home, &archive, &runs, &[]).stdout(Stdio::null()).spawn().unwrap();
    // Stop it while the second point is training.
    let second = runs.join("s/cell=rnn,layers=2/steps.csv");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::fs::read_to_string(&second).map(|s| s.lines().count()).unwrap_or(0) < 3 {
        assert!(std::time::Instant::now() < deadline, "sweep never reached its second point");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(143));
    assert!(!runs.join("s/cell=gru,layers=1").exists(), "the sweep stopped before the third point");
    let out = sweep_command(&home, &archive, &runs, &[]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("cell=rnn,layers=1\talready finished"), "{stdout}");
    assert!(stdout.contains("cell=rnn,layers=2\tfinished"), "{stdout}");
    assert_each_point_complete_once(&runs);
}

#[test]
fn two_workers_on_overlapping_shards_never_run_a_configuration_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 100);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    // Prepare the data cache first so both workers start training at once.
    imdb_rnn(&home).args(["data", "--quiet", "--imdb"]).arg(&archive).assert().success();
    let a = sweep_command(&home, &archive, &runs, &[]).stdout(Stdio::piped()).spawn().unwrap();
    let b = sweep_command(&home, &archive, &runs, &[]).stdout(Stdio::piped()).spawn().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    let all = format!("{}{}", String::from_utf8_lossy(&a.stdout), String::from_utf8_lossy(&b.stdout));
    for cell in ["rnn", "gru"] {
        for layers in [1, 2] {
            let point = format!("cell={cell},layers={layers}\tfinished");
            assert_eq!(all.matches(&point).count(), 1, "{point} must be trained by exactly one worker:\n{all}");
        }
    }
    assert_each_point_complete_once(&runs);
}

#[test]
fn shards_split_the_grid_deterministically_and_dry_run_lists_them() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let list = |shard: &str| {
        let out = imdb_rnn(&home).args(["sweep", "--grid", GRID, "--dry-run", "--runs-dir", "r", "--name", "s", "--shard", shard]).assert().success();
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    };
    assert_eq!(list("0/2"), "r/s/cell=rnn,layers=1\nr/s/cell=gru,layers=1\n");
    assert_eq!(list("1/2"), "r/s/cell=rnn,layers=2\nr/s/cell=gru,layers=2\n");
    imdb_rnn(&home)
        .args(["sweep", "--grid", GRID, "--dry-run", "--shard", "2/2"])
        .assert()
        .code(1)
        .stderr(predicates::str::starts_with("imdb-rnn: --shard 2/2: expected I/N with 0 <= I < N"));
    imdb_rnn(&home).args(["sweep", "--grid", "colour=red", "--dry-run"]).assert().code(1).stderr(predicates::str::contains("grid key colour=red"));
}

#[test]
fn a_grid_value_given_twice_is_refused_naming_the_key_and_the_value() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    imdb_rnn(&home)
        .args(["sweep", "--grid", "cell=lstm layers=1,2 seed=0,0", "--dry-run"])
        .assert()
        .code(1)
        .stderr("imdb-rnn: --grid item \"seed=0,0\": value 0 is given twice; give each value once\n");
    let file = tmp.path().join("s.toml");
    std::fs::write(&file, "[grid]\ncell = [\"gru\", \"rnn\", \"gru\"]\n").unwrap();
    imdb_rnn(&home)
        .args(["sweep", "--dry-run", "--config"])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(format!("imdb-rnn: sweep file {}: grid key cell has the value gru twice; give each value once\n", file.display()));
}

#[test]
fn a_failing_point_is_recorded_the_sweep_goes_on_and_summary_shows_it() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 60);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    let out =
        imdb_rnn(&home).args(["sweep", "--grid", "layers=0,1 seed=0,1", "--quiet", "--name", "f"]).args(OPTS).data_and_runs(&archive, &runs).assert().code(4);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("layers=0,seed=0\tfailed: --layers must be at least 1, got 0"), "{stdout}");
    assert!(stdout.contains("layers=1,seed=1\tfinished"), "{stdout}");
    let out = imdb_rnn(&home).arg("summary").arg(&runs).assert().success();
    let md = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(md.contains("| lstm | 1 | 8 | no | random | final | 2 | all | 0 1 |"), "{md}");
    assert!(md.contains("layers=0,seed=0`: --layers must be at least 1, got 0"), "{md}");
    let out = imdb_rnn(&home).args(["summary", "--format", "json"]).arg(&runs).assert().success();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let json = imdb_rnn(&home).args(["summary", "--json"]).arg(&runs).assert().success();
    assert_eq!(json.get_output().stdout, out.get_output().stdout, "--json is --format json");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["runs"], 2);
    // Mean and sample std over the two seeds, recomputed from the runs' own summaries.
    let acc = |seed: u32| -> f64 {
        let s: serde_json::Value = serde_json::from_slice(&std::fs::read(runs.join(format!("f/layers=1,seed={seed}/summary.json"))).unwrap()).unwrap();
        s["final_test_acc"].as_f64().unwrap()
    };
    let (a, b) = (acc(0), acc(1));
    assert!((rows[0]["final_acc"].as_f64().unwrap() - (a + b) / 2.0).abs() < 1e-9, "{}", rows[0]);
    assert!((rows[0]["final_acc_std"].as_f64().unwrap() - (a - b).abs() / 2f64.sqrt()).abs() < 1e-9, "{}", rows[0]);
}

#[test]
fn a_sweep_file_gives_base_options_and_a_grid_and_flags_override_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.toml");
    std::fs::write(&file, "epochs = 3\nhidden = 32\n\n[grid]\ncell = [\"rnn\", \"gru\"]\nseed = [0, 1]\n").unwrap();
    let out = imdb_rnn(&tmp.path().join("home"))
        .args(["sweep", "--dry-run", "--runs-dir", "r", "--name", "f", "--hidden", "8", "--config"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(String::from_utf8_lossy(&out.get_output().stdout), "r/f/cell=rnn,seed=0\nr/f/cell=rnn,seed=1\nr/f/cell=gru,seed=0\nr/f/cell=gru,seed=1\n");
    std::fs::write(&file, "epochz = 3\n[grid]\ncell = [\"rnn\"]\n").unwrap();
    imdb_rnn(&tmp.path().join("home"))
        .args(["sweep", "--dry-run", "--config"])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("has an option that is not a train flag").and(predicates::str::contains("epochz")));
    // The shipped course sweep file parses and has 24 points.
    let out = imdb_rnn(&tmp.path().join("home"))
        .args(["sweep", "--dry-run", "--config", concat!(env!("CARGO_MANIFEST_DIR"), "/configs/sweep-course.toml")])
        .assert()
        .success();
    assert_eq!(String::from_utf8_lossy(&out.get_output().stdout).lines().count(), 24);
}

#[test]
fn a_sweep_over_embeddings_gives_glove_points_the_files_dimension_and_random_points_their_own() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 60);
    let glove = write_glove_4d(tmp.path());
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    let out = Command::new(assert_cmd::cargo::cargo_bin("imdb-rnn"))
        .env("IMDB_RNN_HOME", &home)
        .args(["sweep", "--grid", "emb=random,glove-frozen,glove-tuned", "--quiet", "--name", "e", "--epochs", "1", "--hidden", "8", "--glove"])
        .arg(&glove)
        .data_and_runs(&archive, &runs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (emb, dim) in [("random", 100), ("glove-frozen", 4), ("glove-tuned", 4)] {
        let config: serde_json::Value = serde_json::from_slice(&std::fs::read(runs.join(format!("e/emb={emb}/config.json"))).unwrap()).unwrap();
        assert_eq!(config["config"]["model"]["recurrent"]["input_size"], dim, "emb={emb}: {config}");
        let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(runs.join(format!("e/emb={emb}/summary.json"))).unwrap()).unwrap();
        assert_eq!(summary["status"], "finished", "emb={emb}");
    }
}

#[test]
fn a_point_spelt_with_a_default_value_reuses_the_run_of_its_configuration_and_summary_counts_each_seed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 30);
    let glove = write_glove_4d(tmp.path());
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    // No --emb-dim: the GloVe points take the file's.
    const SHARED: [&str; 6] = ["--epochs", "1", "--hidden", "8", "--lr", "0.01"];
    // README's two sweeps into one --name: the grid, then the sweep file adding emb.
    imdb_rnn(&home)
        .args(["sweep", "--grid", "cell=lstm layers=2 seed=0,1", "--quiet", "--name", "c"])
        .args(SHARED)
        .data_and_runs(&archive, &runs)
        .assert()
        .success();
    let file = tmp.path().join("course.toml");
    std::fs::write(&file, "[grid]\ncell = [\"lstm\"]\nlayers = [2]\nemb = [\"random\", \"glove-frozen\"]\nseed = [0, 1]\n").unwrap();
    let out = imdb_rnn(&home)
        .args(["sweep", "--quiet", "--name", "c", "--config"])
        .arg(&file)
        .args(SHARED)
        .arg("--glove")
        .arg(&glove)
        .data_and_runs(&archive, &runs)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let sweep = runs.join("c");
    for seed in [0, 1] {
        let line = format!(
            "{}\tsame configuration as {}",
            sweep.join(format!("cell=lstm,emb=random,layers=2,seed={seed}")).display(),
            sweep.join(format!("cell=lstm,layers=2,seed={seed}")).display()
        );
        assert!(stdout.contains(&line), "{line:?} in {stdout}");
        assert!(!sweep.join(format!("cell=lstm,emb=random,layers=2,seed={seed}")).exists(), "not trained twice");
        assert!(stdout.contains(&format!("cell=lstm,emb=glove-frozen,layers=2,seed={seed}\tfinished")), "{stdout}");
    }
    let summary = |root: &Path| {
        let out = imdb_rnn(&home).arg("summary").arg(root).args(["--where", "emb=random", "--format", "csv"]).assert().success();
        let csv = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        let rows: Vec<Vec<String>> = csv.lines().map(|l| l.split(',').map(String::from).collect()).collect();
        let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
        assert_eq!(rows.len(), 2, "one configuration: {csv}");
        (rows[1][col("runs")].clone(), rows[1][col("seeds")].clone(), String::from_utf8_lossy(&out.get_output().stderr).into_owned())
    };
    assert_eq!(summary(&runs), ("2".into(), "0 1".into(), String::new()));
    // A copy of a run (as two spellings trained before points were identified by their
    // configuration) is counted once, with a note.
    let copy = sweep.join("cell=lstm,emb=random,layers=2,seed=0");
    std::fs::create_dir(&copy).unwrap();
    for f in ["config.json", "summary.json", "metrics.csv"] {
        std::fs::copy(sweep.join("cell=lstm,layers=2,seed=0").join(f), copy.join(f)).unwrap();
    }
    // The first in path order is kept.
    let note =
        format!("imdb-rnn: note: {} has the same configuration as {}; counted once\n", sweep.join("cell=lstm,layers=2,seed=0").display(), copy.display());
    assert_eq!(summary(&runs), ("2".into(), "0 1".into(), note));
}
