//! The gradient study through the CLI: logs, clipping, no effect on training, figures.
mod common;
use common::*;
use std::path::Path;

const SMALL: [&str; 10] = ["--epochs", "2", "--hidden", "8", "--emb-dim", "8", "--lr", "0.01", "--readout", "last"];

fn train(home: &Path, archive: &Path, runs: &Path, name: &str, extra: &[&str]) {
    imdb_rnn(home).arg("train").args(SMALL).args(extra).data_and_runs(archive, runs).args(["--name", name, "--quiet"]).assert().success();
}

#[test]
fn gradient_logging_does_not_change_training() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 60);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    train(&home, &archive, &runs, "plain", &["--cell", "lstm", "--layers", "2", "--dropout", "0.3"]);
    train(&home, &archive, &runs, "logged", &["--cell", "lstm", "--layers", "2", "--dropout", "0.3", "--grad-every", "1"]);
    assert_eq!(metrics_without_timing(&runs.join("plain")), metrics_without_timing(&runs.join("logged")));
    assert_eq!(std::fs::read(runs.join("plain/model.ot")).unwrap(), std::fs::read(runs.join("logged/model.ot")).unwrap());
    assert!(!runs.join("plain/grads.csv").exists());
}

#[test]
fn grads_csv_has_every_layer_gate_and_total_and_clipping_caps_the_post_clip_total() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 60);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    train(&home, &archive, &runs, "g", &["--cell", "gru", "--layers", "2", "--bidirectional", "--grad-every", "1", "--clip", "0.05"]);
    let csv = std::fs::read_to_string(runs.join("g/grads.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), "epoch,step,layer,direction,parameter,gate,norm");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let step1: Vec<&Vec<&str>> = rows.iter().filter(|r| r[1] == "1").collect();
    // 2 layers x 2 directions x 4 tensors x (all + 3 gates) + embedding + fc.weight + fc.bias + 2 totals.
    assert_eq!(step1.len(), 2 * 2 * 4 * 4 + 3 + 2);
    for want in ["1,1,1,reverse,weight_hh,z", "1,1,0,forward,bias_ih,n", "1,1,,-,embedding.weight,all", "1,1,,-,total_post_clip,all"] {
        assert!(csv.lines().any(|l| l.starts_with(want)), "missing {want}");
    }
    let total = |name: &str, step: &str| -> f64 { rows.iter().find(|r| r[1] == step && r[4] == name).unwrap()[6].parse().unwrap() };
    let steps: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[1]).collect();
    let mut clipped = 0;
    for s in steps {
        let (pre, post) = (total("total_pre_clip", s), total("total_post_clip", s));
        if pre > 0.05 {
            assert!((post - 0.05).abs() < 1e-4, "step {s}: post-clip total {post}");
            clipped += 1;
        } else {
            assert!((post - pre).abs() < 1e-7);
        }
    }
    assert!(clipped > 0, "the threshold was low enough to clip");
    let epochs = std::fs::read_to_string(runs.join("g/grads_epoch.csv")).unwrap();
    assert!(epochs.starts_with("epoch,layer,direction,parameter,gate,mean,median,max,last\n"));
    let time = std::fs::read_to_string(runs.join("g/grads_time.csv")).unwrap();
    let first: Vec<&str> = time.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first[..2], ["1", "0"]);
    assert!(first[2].parse::<f64>().unwrap() > 0.0, "dL/dx_0 is logged");
}

#[test]
fn the_depth_study_trains_each_cell_and_depth_once_and_draws_its_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 40);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    // The design card's spelling (`--cell`) first, then `--cells`: the same option.
    let study = |cells_flag: &str| {
        let mut c = imdb_rnn(&home);
        c.args(["grads", cells_flag, "rnn,gru", "--depth", "1..=2", "--quiet", "--name", "st"]).args(SMALL).data_and_runs(&archive, &runs);
        c
    };
    study("--cell").assert().success();
    let dir = runs.join("st");
    let combined = std::fs::read_to_string(dir.join("grads_by_depth.csv")).unwrap();
    for (cell, depth) in [("rnn", 1), ("rnn", 2), ("gru", 1), ("gru", 2)] {
        assert!(combined.lines().any(|l| l.starts_with(&format!("{cell},{depth},2,{},forward,weight_hh,all,", depth - 1))), "{cell} depth {depth}");
        assert!(dir.join(format!("{cell}-l{depth}/grad_heatmap.png")).is_file());
    }
    for f in ["grad_vs_depth.png", "grad_time.png", "grad_time_from_end.png", "learning_curves.png"] {
        let bytes = std::fs::read(dir.join(f)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000, "{f}");
    }
    // Again: everything is already there, nothing is retrained.
    let before = std::fs::metadata(dir.join("rnn-l1/model.ot")).unwrap().modified().unwrap();
    study("--cells").assert().success();
    assert_eq!(before, std::fs::metadata(dir.join("rnn-l1/model.ot")).unwrap().modified().unwrap());
    imdb_rnn(&home).args(["grads", "--depth", "0..2"]).assert().code(1).stderr(predicates::str::starts_with("imdb-rnn: --depth 0..2: expected a range"));
}

#[test]
fn a_study_rerun_with_changed_options_is_refused_naming_the_option_before_any_training() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 40);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    let study = |epochs: &str| {
        let mut c = imdb_rnn(&home);
        c.args(["grads", "--cell", "rnn", "--depth", "1,2", "--hidden", "8", "--emb-dim", "8", "--lr", "0.01", "--readout", "last"]);
        c.args(["--quiet", "--name", "g", "--epochs", epochs]);
        c.data_and_runs(&archive, &runs);
        c
    };
    study("2").assert().success();
    let steps = std::fs::read(runs.join("g/rnn-l1/steps.csv")).unwrap();
    let out = study("3").assert().code(1).get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("imdb-rnn: sweep point ") && err.contains("g/rnn-l1 was run with other options (--epochs is 2 there, 3 now)"), "{err}");
    assert_eq!(std::fs::read(runs.join("g/rnn-l1/steps.csv")).unwrap(), steps, "the 2-epoch run is left as it was");
}

#[test]
fn a_depth_or_cell_given_twice_is_refused_before_any_training_naming_the_flag_and_the_value() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    for (args, msg) in [
        (["--depth", "2,2", "--cells", "rnn"], "imdb-rnn: --depth 2,2: depth 2 is given twice; give each depth once\n"),
        (["--depth", "1,2,1", "--cells", "rnn"], "imdb-rnn: --depth 1,2,1: depth 1 is given twice; give each depth once\n"),
        (["--depth", "1", "--cells", "lstm,gru,lstm"], "imdb-rnn: --cells lstm,gru,lstm: cell lstm is given twice; give each cell once\n"),
    ] {
        imdb_rnn(&home).arg("grads").args(args).args(["--offline", "--runs-dir"]).arg(tmp.path().join("runs")).assert().code(1).stderr(msg);
    }
    assert!(!tmp.path().join("runs").exists(), "nothing was trained or written");
}

/// A tempdir with two runs trained on the learnable fixture under `runs/`: `a` logging
/// gradients every 2 steps, `b` with another seed. Returns (tempdir, data home, runs root).
fn two_trained_runs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 40);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    train(&home, &archive, &runs, "a", &["--grad-every", "2"]);
    train(&home, &archive, &runs, "b", &["--seed", "1"]);
    (tmp, home, runs)
}

#[test]
fn plot_and_report_turn_run_directories_into_figures_and_one_html_file() {
    let (tmp, home, runs) = two_trained_runs();
    let overlay = tmp.path().join("overlay.png");
    imdb_rnn(&home).arg("plot").arg(runs.join("a")).arg(runs.join("b")).arg("--overlay").arg(&overlay).assert().success();
    for f in [runs.join("a/learning_curves.png"), runs.join("a/grad_heatmap.png"), runs.join("b/learning_curves.png"), overlay] {
        assert!(std::fs::read(&f).unwrap().starts_with(b"\x89PNG"), "{}", f.display());
    }
    let html = tmp.path().join("report.html");
    imdb_rnn(&home).arg("report").arg(&runs).arg("--out").arg(&html).assert().success();
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.starts_with("<!doctype html>"));
    assert!(text.matches("data:image/png;base64,").count() >= 4);
    assert!(!text.contains("src=\"/") && !text.contains("src=\"http"), "self-contained");
    assert!(text.contains("<details><summary>configuration</summary>"));
    imdb_rnn(&home)
        .arg("plot")
        .arg(tmp.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("has no metrics.csv; is it a run directory of imdb-rnn train?"));
}

/// `--json`'s list of paths, as strings.
fn json_paths(value: &serde_json::Value) -> Vec<String> {
    value.as_array().unwrap_or_else(|| panic!("not a list: {value}")).iter().map(|p| p.as_str().unwrap().to_string()).collect()
}

#[test]
fn plot_and_report_with_json_list_every_file_they_wrote() {
    let (tmp, home, runs) = two_trained_runs();
    let overlay = tmp.path().join("overlay.png");
    let plot = |json: bool| {
        let mut cmd = imdb_rnn(&home);
        cmd.arg("plot").arg(runs.join("a")).arg(runs.join("b")).arg("--overlay").arg(&overlay);
        if json {
            cmd.arg("--json");
        }
        String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
    };
    let text: Vec<String> = plot(false).lines().map(String::from).collect();
    let listed: serde_json::Value = serde_json::from_str(&plot(true)).unwrap();
    let figures = json_paths(&listed["figures"]);
    assert_eq!(figures, text, "--json lists the paths the text output prints");
    assert_eq!(figures.first().map(String::as_str), Some(runs.join("a/learning_curves.png").to_str().unwrap()));
    assert!(figures.contains(&runs.join("a/grad_heatmap.png").display().to_string()), "{figures:?}");
    assert_eq!(figures.last().map(String::as_str), Some(overlay.to_str().unwrap()));

    let html = tmp.path().join("report.html");
    let out = imdb_rnn(&home).arg("report").arg(&runs).arg("--out").arg(&html).arg("--json").assert().success();
    let written: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(written["report"], html.display().to_string());
    let figures = json_paths(&written["figures"]);
    for want in ["a/learning_curves.png", "a/grad_heatmap.png", "b/learning_curves.png"] {
        assert!(figures.contains(&runs.join(want).display().to_string()), "no {want} in {figures:?}");
    }
    assert!(!figures.contains(&runs.join("b/grad_heatmap.png").display().to_string()), "b logged no gradients: {figures:?}");
    for f in figures.iter().chain([&html.display().to_string()]) {
        assert!(Path::new(f).is_file(), "{f} is listed but not written");
    }
}
