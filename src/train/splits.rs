//! The reviews a run uses: `--subset` and `--val-frac` applied to the prepared splits
//! ([`select_data`]), and each split uploaded once to the device ([`SplitTensors`]).
use super::batches::{Batch, BatchPlan};
use super::config::TrainConfig;
use crate::data::prepare::{EncodedSplit, Prepared};
use crate::util::Rng;
use tch::Device;

/// A split as device tensors.
pub(crate) struct SplitTensors {
    /// Every review of the split: `[N, max_len]` tokens, `[N]` labels and true lengths.
    pub rows: Batch,
    /// The same lengths on the host, for the batch sampler.
    pub host_lengths: Vec<u32>,
    pub max_len: usize,
    pub len: usize,
}

impl SplitTensors {
    pub(crate) fn new(split: &EncodedSplit, max_len: usize, device: Device) -> SplitTensors {
        let tokens: Vec<i64> = split.tokens.iter().map(|&t| t as i64).collect();
        let labels: Vec<f32> = split.labels.iter().map(|&l| l as f32).collect();
        let lengths: Vec<i64> = split.lengths.iter().map(|&l| l as i64).collect();
        SplitTensors { rows: Batch::upload(&tokens, max_len, &lengths, &labels, device), host_lengths: split.lengths.clone(), max_len, len: split.len() }
    }

    /// The rows and positions `plan` names, on this split's device.
    pub(crate) fn batch(&self, plan: &BatchPlan) -> Batch {
        self.rows.select(plan)
    }
}

/// The splits a run uses, after `--subset` and `--val-frac`.
pub(crate) struct RunData {
    pub train: EncodedSplit,
    pub val: Option<EncodedSplit>,
    pub test: EncodedSplit,
}

/// Applies `--subset` (seeded random N of each split), `--test-subset` (the first N of
/// the same seeded order of the test split, so a smaller test set is part of a larger
/// one) and `--val-frac` (seeded hold-out from train).
pub(crate) fn select_data(cfg: &TrainConfig, data: &Prepared) -> RunData {
    let max_len = cfg.encode.max_len;
    let pick = |split: &EncodedSplit, stream: u64, subset: Option<usize>| -> EncodedSplit {
        match subset {
            Some(n) if n < split.len() => {
                let mut keep: Vec<usize> = Rng::derive(cfg.seed, stream).permutation(split.len())[..n].to_vec();
                keep.sort_unstable();
                split.select(&keep, max_len)
            }
            _ => split.clone(),
        }
    };
    let train = pick(&data.train, 1, cfg.subset);
    let test = pick(&data.test, 2, cfg.test_subset.or(cfg.subset));
    if cfg.val_frac > 0.0 {
        let perm = Rng::derive(cfg.seed, 3).permutation(train.len());
        let n_val = ((cfg.val_frac * train.len() as f64).round() as usize).clamp(1, train.len().saturating_sub(1).max(1));
        let mut val_idx = perm[..n_val].to_vec();
        let mut train_idx = perm[n_val..].to_vec();
        val_idx.sort_unstable();
        train_idx.sort_unstable();
        RunData { val: Some(train.select(&val_idx, max_len)), train: train.select(&train_idx, max_len), test }
    } else {
        RunData { train, val: None, test }
    }
}

/// A run's splits on the device.
pub(crate) struct DeviceSplits {
    pub train: SplitTensors,
    pub val: Option<SplitTensors>,
    pub test: SplitTensors,
}

impl DeviceSplits {
    pub(crate) fn new(data: &RunData, max_len: usize, device: Device) -> DeviceSplits {
        DeviceSplits {
            train: SplitTensors::new(&data.train, max_len, device),
            val: data.val.as_ref().map(|v| SplitTensors::new(v, max_len, device)),
            test: SplitTensors::new(&data.test, max_len, device),
        }
    }
}
