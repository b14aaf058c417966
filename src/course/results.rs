//! The course's runs read back: each model's finished seeds with their summary.json and
//! metrics.csv, and the mean ± std the report's tables show.
use super::plan::Model;
use crate::report::stats::Comparison;
pub(crate) use crate::report::stats::Stat;
use crate::train::run::{read_metrics, EpochMetrics, RunDir, Summary};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// One finished run.
pub(crate) struct Run {
    pub dir: PathBuf,
    pub summary: Summary,
    pub metrics: Vec<EpochMetrics>,
    /// How many test reviews its accuracies were measured on (config.json).
    pub test_reviews: usize,
    /// The embedding's dimension (config.json).
    pub emb_dim: i64,
}

/// A model's finished runs, seed 0 first.
pub(crate) struct ModelRuns {
    pub model: Model,
    pub runs: Vec<Run>,
}

impl ModelRuns {
    pub(crate) fn stat(&self, f: impl Fn(&Run) -> f64) -> Stat {
        Stat::of(&self.runs.iter().map(f).collect::<Vec<_>>())
    }
    pub(crate) fn final_acc(&self) -> Stat {
        self.stat(|r| r.summary.final_test_acc)
    }
    pub(crate) fn best_acc(&self) -> Stat {
        self.stat(|r| r.summary.best_test_acc)
    }
    /// Each seed's final test accuracy, seed 0 first.
    pub(crate) fn final_accs(&self) -> Vec<f64> {
        self.runs.iter().map(|r| r.summary.final_test_acc).collect()
    }
    /// The test reviews of its runs (the fewest, should they differ).
    pub(crate) fn test_reviews(&self) -> usize {
        self.runs.iter().map(|r| r.test_reviews).min().unwrap_or(0)
    }
    /// This model's final test accuracy against `other`'s, by the statistics rule.
    pub(crate) fn compare_final(&self, other: &ModelRuns) -> Comparison {
        Comparison::accuracies(&self.final_accs(), &other.final_accs(), self.test_reviews().min(other.test_reviews()))
    }
    pub(crate) fn epoch_seconds(&self) -> Stat {
        self.stat(|r| r.summary.mean_epoch_seconds)
    }
    /// Test accuracy and loss per epoch of each seed, for [`plots::seed_curves`](crate::report::plots::seed_curves).
    pub(crate) fn seed_curves(&self) -> crate::report::plots::SeedCurves {
        let seeds = self.runs.iter().map(|r| r.metrics.iter().map(|m| (m.epoch, m.test_acc, m.test_loss)).collect()).collect();
        crate::report::plots::SeedCurves { label: self.model.label(), seeds }
    }
    /// The run the figures show (the lowest seed).
    pub(crate) fn first(&self) -> &Run {
        &self.runs[0]
    }
    /// The row of an accuracy table: model, final and best test accuracy, s/epoch, parameters.
    pub(crate) fn accuracy_row(&self) -> Vec<String> {
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
pub(crate) const ACCURACY_HEADER: [&str; 6] = ["model", "seeds", "final test accuracy", "best test accuracy (selected on test)", "s/epoch", "parameters"];

/// Reads a model's finished runs for seeds `0..seeds` under `root`; a model with none is
/// an error naming the runs it looked for.
pub(crate) fn load(root: &Path, model: Model, seeds: u64) -> Result<ModelRuns> {
    let mut runs = Vec::new();
    for seed in 0..seeds {
        let dir = root.join(model.run_name(seed));
        if let Some(summary) = RunDir::new(&dir).read_summary().filter(|s| s.is_finished()) {
            let metrics = read_metrics(&dir)?;
            let record = RunDir::new(&dir).read_config()?;
            let (test_reviews, emb_dim) = (record.test_reviews, record.config.model.recurrent.input_size);
            runs.push(Run { dir, summary, metrics, test_reviews, emb_dim });
        }
    }
    if runs.is_empty() {
        bail!("no finished run of {} ({}) under {}", model.label(), model.run_name(0), root.display());
    }
    Ok(ModelRuns { model, runs })
}
