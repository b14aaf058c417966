//! The course's runs read back: each model's finished seeds with their summary.json and
//! metrics.csv, and the mean ± std the report's tables show.
use super::plan::Model;
use crate::train::run::{read_metrics, EpochMetrics, RunDir, Summary};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// One finished run.
pub struct Run {
    pub dir: PathBuf,
    pub summary: Summary,
    pub metrics: Vec<EpochMetrics>,
}

/// A mean over seeds, with the sample standard deviation when there are several.
#[derive(Clone, Copy, Debug)]
pub struct Stat {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Stat {
    pub fn of(values: &[f64]) -> Stat {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n.max(1) as f64;
        let std = if n < 2 { 0.0 } else { (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() };
        Stat { mean, std, n }
    }

    /// `0.6120`, or `0.6120 ± 0.0150` over several seeds.
    pub fn acc(self) -> String {
        self.show(4)
    }

    pub fn show(self, decimals: usize) -> String {
        if self.n > 1 {
            format!("{:.*} ± {:.*}", decimals, self.mean, decimals, self.std)
        } else {
            format!("{:.*}", decimals, self.mean)
        }
    }
}

/// Percentage points between two accuracies, signed: `+3.1` or `-0.4`.
pub fn points(a: f64, b: f64) -> String {
    format!("{:+.1}", 100.0 * (a - b))
}

/// A model's finished runs, seed 0 first.
pub struct ModelRuns {
    pub model: Model,
    pub runs: Vec<Run>,
}

impl ModelRuns {
    pub fn stat(&self, f: impl Fn(&Run) -> f64) -> Stat {
        Stat::of(&self.runs.iter().map(f).collect::<Vec<_>>())
    }
    pub fn final_acc(&self) -> Stat {
        self.stat(|r| r.summary.final_test_acc)
    }
    pub fn best_acc(&self) -> Stat {
        self.stat(|r| r.summary.best_test_acc)
    }
    pub fn epoch_seconds(&self) -> Stat {
        self.stat(|r| r.summary.mean_epoch_seconds)
    }
    /// The run the figures show (the lowest seed).
    pub fn first(&self) -> &Run {
        &self.runs[0]
    }
    /// The row of an accuracy table: model, final and best test accuracy, s/epoch, parameters.
    pub fn accuracy_row(&self) -> Vec<String> {
        vec![
            self.model.label(),
            self.runs.len().to_string(),
            self.final_acc().acc(),
            self.best_acc().acc(),
            self.epoch_seconds().show(1),
            self.first().summary.parameters.to_string(),
        ]
    }
}

/// The header of [`ModelRuns::accuracy_row`].
pub const ACCURACY_HEADER: [&str; 6] = ["model", "seeds", "final test accuracy", "best test accuracy (selected on test)", "s/epoch", "parameters"];

/// Reads a model's finished runs for seeds `0..seeds` under `root`; a model with none is
/// an error naming the runs it looked for.
pub fn load(root: &Path, model: Model, seeds: u64) -> Result<ModelRuns> {
    let mut runs = Vec::new();
    for seed in 0..seeds {
        let dir = root.join(model.run_name(seed));
        if let Some(summary) = RunDir::new(&dir).read_summary().filter(|s| s.is_finished()) {
            let metrics = read_metrics(&dir)?;
            runs.push(Run { dir, summary, metrics });
        }
    }
    if runs.is_empty() {
        bail!("no finished run of {} ({}) under {}", model.label(), model.run_name(0), root.display());
    }
    Ok(ModelRuns { model, runs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_shows_its_value_and_several_show_mean_and_sample_std() {
        assert_eq!(Stat::of(&[0.61204]).acc(), "0.6120");
        assert_eq!(Stat::of(&[0.5, 0.7]).acc(), "0.6000 ± 0.1414");
        assert_eq!(points(0.62, 0.5), "+12.0");
        assert_eq!(points(0.5, 0.504), "-0.4");
    }
}
