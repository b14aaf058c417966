//! What the figures read from a run directory: metrics.csv, grads_epoch.csv,
//! grads_time.csv and the names in config.json, all through [`RunDir`] and its typed
//! rows, with one-line errors naming the file.
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::recurrent::RecurrentConfig;
use crate::train::rows::{GradEpochRow, GradTimeRow};
use crate::train::run::{EpochMetrics, RunDir};

/// Mean ‖dL/dx_t‖ per position of one epoch of grads_time.csv (the last one by default),
/// positions from the start or, with `from_end`, back from the last real token. Positions
/// no review reached (count 0, empty norm) are left out.
pub(crate) fn read_time_profile(run_dir: &Path, epoch: Option<usize>, from_end: bool) -> Result<Vec<(i64, f64)>> {
    let rows = read_time_rows(run_dir)?;
    let epochs = distinct_epochs(&rows);
    let path = RunDir::new(run_dir).grads_time();
    let Some(&last) = epochs.last() else { bail!("{} has no rows yet", path.display()) };
    let epoch = epoch.unwrap_or(last);
    if !epochs.contains(&epoch) {
        bail!("{} has no rows for epoch {epoch} (it has epochs {}..={last})", path.display(), epochs[0]);
    }
    Ok(time_profile(&rows, epoch, from_end))
}

/// Mean over epochs of grads_epoch.csv's `mean` for layer 0, `weight_hh`, gate `all`,
/// forward direction: one number per run for [`grad_vs_depth`](super::grad_vs_depth).
pub(crate) fn read_first_layer_norm(run_dir: &Path) -> Result<f64> {
    let rows = read_grads_epoch(run_dir)?;
    let values: Vec<f64> = layer_epoch_grid(&rows, "weight_hh").into_iter().filter(|((layer, _), _)| *layer == 0).map(|(_, v)| v).collect();
    if values.is_empty() {
        bail!("{} has no rows for layer 0 weight_hh (gate all, forward direction)", RunDir::new(run_dir).grads_epoch().display());
    }
    Ok(values.iter().sum::<f64>() / values.len() as f64)
}

/// Mean ‖∂L/∂W‖ of `parameter` (gate `all`, forward direction) by (layer, epoch), from
/// grads_epoch.csv: the numbers of [`grad_heatmap`](super::grad_heatmap).
pub(crate) fn read_layer_epoch_norms(run_dir: &Path, parameter: &str) -> Result<BTreeMap<(i64, usize), f64>> {
    Ok(layer_epoch_grid(&read_grads_epoch(run_dir)?, parameter))
}

/// What config.json says about a run, for titles and legends. A missing or unreadable
/// config.json leaves them empty: a figure is still worth drawing without them.
#[derive(Debug, Default)]
pub(super) struct RunInfo {
    pub(super) name: String,
    recurrent: Option<RecurrentConfig>,
}

impl RunInfo {
    pub(super) fn read(run_dir: &Path) -> RunInfo {
        let dir_name = run_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| run_dir.display().to_string());
        match RunDir::new(run_dir).read_config() {
            Ok(record) => RunInfo { name: Some(record.name).filter(|n| !n.is_empty()).unwrap_or(dir_name), recurrent: Some(record.config.model.recurrent) },
            Err(_) => RunInfo { name: dir_name, recurrent: None },
        }
    }

    /// "LSTM, 3 layers, hidden 32", or "" when config.json said nothing.
    pub(super) fn describe(&self) -> String {
        let Some(r) = &self.recurrent else { return String::new() };
        let l = r.num_layers;
        let mut parts = vec![r.cell.name().to_uppercase(), format!("{l} layer{}", if l == 1 { "" } else { "s" }), format!("hidden {}", r.hidden_size)];
        if r.bidirectional {
            parts.push("bidirectional".into());
        }
        parts.join(", ")
    }
}

/// `path`, a file of the run directory `dir`, or an error naming the directory and
/// what is missing.
fn require(dir: &Path, path: PathBuf) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path);
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    if path == RunDir::new(dir).metrics() {
        bail!("{} has no {name}; is it a run directory of imdb-rnn train?", dir.display());
    }
    bail!("{} has no {name}; gradients are logged only by imdb-rnn train --grad-every N with N > 0", dir.display())
}

/// metrics.csv of a run, with at least one row.
pub(super) fn read_run_metrics(run_dir: &Path) -> Result<Vec<EpochMetrics>> {
    let run = RunDir::new(run_dir);
    let path = require(run_dir, run.metrics())?;
    let metrics = run.read_metrics()?;
    if metrics.is_empty() {
        bail!("{} has no rows yet (no epoch has finished)", path.display());
    }
    Ok(metrics)
}

/// grads_epoch.csv of a run, which must have logged gradients.
pub(super) fn read_grads_epoch(run_dir: &Path) -> Result<Vec<GradEpochRow<'static>>> {
    let run = RunDir::new(run_dir);
    require(run_dir, run.grads_epoch())?;
    run.read_grads_epoch()
}

/// grads_time.csv of a run, which must have logged gradients.
pub(super) fn read_time_rows(run_dir: &Path) -> Result<Vec<GradTimeRow>> {
    let run = RunDir::new(run_dir);
    require(run_dir, run.grads_time())?;
    run.read_grads_time()
}

/// Sorted epochs present in grads_time.csv rows.
pub(super) fn distinct_epochs(rows: &[GradTimeRow]) -> Vec<usize> {
    let mut epochs: Vec<usize> = rows.iter().map(|r| r.epoch).collect();
    epochs.sort_unstable();
    epochs.dedup();
    epochs
}

/// (t, mean norm) of one epoch, leaving out positions no review reached.
pub(super) fn time_profile(rows: &[GradTimeRow], epoch: usize, from_end: bool) -> Vec<(i64, f64)> {
    let mut out: Vec<(i64, f64)> = rows
        .iter()
        .filter(|r| r.epoch == epoch)
        .filter_map(|r| {
            let (t, norm, count) = if from_end { (r.t_from_end, r.norm_from_end, r.count_from_end) } else { (r.t, r.norm, r.count) };
            Some((t as i64, f64::from(norm.filter(|_| count > 0.0)?)))
        })
        .collect();
    out.sort_by_key(|p| p.0);
    out
}

/// (layer, epoch) -> mean norm of `parameter`, gate `all`, forward direction.
pub(super) fn layer_epoch_grid(rows: &[GradEpochRow<'_>], parameter: &str) -> BTreeMap<(i64, usize), f64> {
    rows.iter()
        .filter(|r| r.parameter == parameter && r.gate == "all" && r.direction == "forward")
        .filter_map(|r| Some(((r.layer?, r.epoch), r.mean)))
        .collect()
}

/// At most `n` (at least 1) of `items`, evenly spread, keeping the first and the last.
pub(super) fn spread<T: Copy>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n || n < 2 {
        return items.iter().copied().take(n.max(1)).collect();
    }
    let mut idx: Vec<usize> = (0..n).map(|i| (i * (items.len() - 1) + (n - 1) / 2) / (n - 1)).collect();
    idx.dedup();
    idx.into_iter().map(|i| items[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_keeps_the_first_and_the_last() {
        assert_eq!(spread(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4), vec![1, 4, 7, 10]);
        assert_eq!(spread(&[1, 2], 6), vec![1, 2]);
    }
}
