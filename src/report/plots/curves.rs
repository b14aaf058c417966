//! Learning-curve figures: one run's loss and accuracy per epoch, and several runs'
//! test accuracy and loss overlaid.
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

use super::chart::{accuracy_panel, draw_legend, draw_lines, drop_empty, loss_panel, split_legend, Line, PALETTE};
use super::figure::Figure;
use super::run_files::{read_run_metrics, RunInfo};
use crate::train::run::EpochMetrics;

/// Loss (left) and accuracy (right) per epoch of one run: train, validation when the run
/// has a validation split, and test.
pub(crate) fn learning_curves(run_dir: &Path, out: &Path) -> Result<()> {
    let metrics = read_run_metrics(run_dir)?;
    let info = RunInfo::read(run_dir);
    let pick = |f: fn(&EpochMetrics) -> Option<f64>| -> Vec<(f64, f64)> { metrics.iter().filter_map(|m| Some((m.epoch as f64, f(m)?))).collect() };
    let line = |label: &str, color: usize, dashed: bool, points: Vec<(f64, f64)>| Line::new(label, PALETTE[color], dashed, points);
    let loss = vec![
        line("train", 0, false, pick(|m| Some(m.train_loss))),
        line("validation", 1, true, pick(|m| m.val_loss)),
        line("test", 2, false, pick(|m| Some(m.test_loss))),
    ];
    let acc = vec![
        line("train", 0, false, pick(|m| Some(100.0 * m.train_acc))),
        line("validation", 1, true, pick(|m| m.val_acc.map(|a| 100.0 * a))),
        line("test", 2, false, pick(|m| Some(100.0 * m.test_acc))),
    ];
    let (loss, acc) = (drop_empty(loss), drop_empty(acc));
    let figure = Figure { title: format!("Learning curves: {}", info.name), subtitle: info.describe(), size: (1400, 620) };
    figure.render(out, |body| {
        let (panels, legend) = split_legend(body, &loss)?;
        let panels = panels.split_evenly((1, 2));
        draw_lines(&panels[0], &loss_panel("Loss", &loss), &loss)?;
        draw_lines(&panels[1], &accuracy_panel("Accuracy", &acc), &acc)?;
        draw_legend(&legend, Some("split"), &loss)
    })
}

/// Sweep run names `cell=gru,emb=random,seed=0` that all name the same keys in the same
/// order, as (those keys, each run's values): a legend titled by the keys and labelled by
/// the values fits where the full names would be cut.
fn common_keys(names: &[String]) -> Option<(String, Vec<String>)> {
    let split = |n: &str| -> Option<(Vec<String>, Vec<String>)> {
        n.split(',').map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()))).collect::<Option<Vec<_>>>().map(|p| p.into_iter().unzip())
    };
    let parsed: Vec<(Vec<String>, Vec<String>)> = names.iter().map(|n| split(n)).collect::<Option<_>>()?;
    let keys = &parsed.first()?.0;
    if parsed.iter().any(|(k, _)| k != keys) {
        return None;
    }
    Some((keys.join(", "), parsed.iter().map(|(_, v)| v.join(", ")).collect()))
}

/// Test accuracy (left) and test loss (right) per epoch of several runs, one line per
/// run, named by config.json's `name` (or the directory name); sweep names that share their
/// keys are shortened to their values under a legend titled by the keys.
pub(crate) fn learning_curves_overlay(run_dirs: &[PathBuf], out: &Path) -> Result<()> {
    if run_dirs.is_empty() {
        bail!("no run directories to compare");
    }
    let names: Vec<String> = run_dirs.iter().map(|d| RunInfo::read(d).name).collect();
    let (title, labels) = common_keys(&names).unwrap_or_else(|| ("run".into(), names.clone()));
    let mut acc = Vec::new();
    let mut loss = Vec::new();
    for (i, (dir, name)) in run_dirs.iter().zip(labels).enumerate() {
        let metrics = read_run_metrics(dir)?;
        let (color, dashed) = (PALETTE[i % PALETTE.len()], i >= PALETTE.len());
        let series = |f: fn(&EpochMetrics) -> f64| metrics.iter().map(|m| (m.epoch as f64, f(m))).collect();
        acc.push(Line::new(name.clone(), color, dashed, series(|m| 100.0 * m.test_acc)));
        loss.push(Line::new(name, color, dashed, series(|m| m.test_loss)));
    }
    let figure = Figure {
        title: "Test accuracy and loss per epoch".into(),
        subtitle: format!("{} runs", run_dirs.len()),
        // Taller when the legend needs it: a row of 22 px per run below the header.
        size: (1400, 620.max(190 + 22 * run_dirs.len() as u32)),
    };
    figure.render(out, |body| {
        let (panels, legend) = split_legend(body, &acc)?;
        let panels = panels.split_evenly((1, 2));
        draw_lines(&panels[0], &accuracy_panel("Test accuracy", &acc), &acc)?;
        draw_lines(&panels[1], &loss_panel("Test loss", &loss), &loss)?;
        draw_legend(&legend, Some(&title), &acc)
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{assert_drawn, fake_run};
    use super::*;
    use std::fs;

    #[test]
    fn learning_curves_with_and_without_validation() {
        let tmp = tempfile::tempdir().unwrap();
        for with_val in [true, false] {
            let run = tmp.path().join(format!("run-{with_val}"));
            fake_run(&run, "lstm-l3", with_val, false);
            let out = tmp.path().join(format!("lc-{with_val}.png"));
            learning_curves(&run, &out).unwrap();
            assert_drawn(&out, (1400, 620));
        }
    }

    #[test]
    fn overlay_names_runs_by_config_or_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b-dir"));
        fake_run(&a, "lstm-l1", true, false);
        fake_run(&b, "ignored", false, false);
        fs::remove_file(b.join("config.json")).unwrap();
        assert_eq!(RunInfo::read(&a).name, "lstm-l1");
        assert_eq!(RunInfo::read(&b).name, "b-dir");
        let out = tmp.path().join("figs/overlay.png");
        learning_curves_overlay(&[a, b], &out).unwrap();
        assert_drawn(&out, (1400, 620));
        assert!(learning_curves_overlay(&[], &out).is_err());
    }

    #[test]
    fn sweep_names_with_the_same_keys_are_shortened_to_their_values_under_the_keys() {
        let names = ["cell=gru,emb=glove-frozen,seed=0".to_string(), "cell=rnn,emb=random,seed=1".to_string()];
        let (title, labels) = common_keys(&names).unwrap();
        assert_eq!(title, "cell, emb, seed");
        assert_eq!(labels, ["gru, glove-frozen, 0", "rnn, random, 1"]);
        assert_eq!(common_keys(&["cell=gru,seed=0".to_string(), "cell=gru,layers=2".to_string()]), None, "different keys");
        assert_eq!(common_keys(&["lstm-l1".to_string()]), None, "not a sweep name");
    }
}
