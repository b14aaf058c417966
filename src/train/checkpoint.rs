//! Checkpoints: checkpoint.ot (model weights and Adam's moments) and checkpoint.json
//! (where in the run it was taken), written so that a full disk or a kill leaves the
//! previous pair whole, and read back for a bit-identical resume.
use super::adam::Adam;
use super::average::WeightAverage;
use super::grads::TimeGrads;
use super::run::RunDir;
use crate::model::Classifier;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tch::Tensor;

/// Training-set accumulators of the current epoch (kept in checkpoints so a run
/// resumed mid-epoch reports the same epoch metrics).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Accum {
    pub loss_sum: f64,
    pub correct: i64,
    pub seen: i64,
    pub seconds: f64,
}

/// The best epochs so far, and what early stopping and the plateau schedule track.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Best {
    pub test_acc: f64,
    pub epoch: usize,
    pub val_acc: Option<f64>,
    pub test_at_best_val: Option<f64>,
    pub bad_epochs: usize,
    /// What `--lr-schedule plateau` has multiplied the learning rate by so far.
    #[serde(default = "one")]
    pub lr_scale: f64,
}

impl Default for Best {
    fn default() -> Best {
        Best { test_acc: 0.0, epoch: 0, val_acc: None, test_at_best_val: None, bad_epochs: 0, lr_scale: 1.0 }
    }
}

fn one() -> f64 {
    1.0
}

/// checkpoint.json: where in the run the checkpoint.ot next to it was taken.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct CheckpointState {
    /// Completed epochs.
    pub epoch: usize,
    /// Next batch of epoch `epoch + 1` (0 at an epoch boundary).
    pub next_batch: usize,
    pub global_step: u64,
    pub adam_step: i64,
    pub accum: Accum,
    pub best: Best,
    pub total_seconds: f64,
}

/// The gradient statistics of the epoch in progress (with `--grad-every`): a checkpoint
/// taken mid-epoch carries them, so the resumed epoch's grads_epoch.csv and
/// grads_time.csv cover the steps before the stop too.
#[derive(Default)]
pub(crate) struct EpochGrads {
    /// One row of norms (in the layout's order) per logged step.
    pub norms: Vec<Vec<f32>>,
    pub time: Option<TimeGrads>,
}

impl EpochGrads {
    const NORMS: &'static str = "epoch.norms";
    const TIME: [&'static str; 4] = ["epoch.time.from_start", "epoch.time.count_start", "epoch.time.from_end", "epoch.time.count_end"];

    fn named(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        if let Some(width) = self.norms.first().map(Vec::len) {
            let flat: Vec<f32> = self.norms.concat();
            out.push((Self::NORMS.to_string(), Tensor::from_slice(&flat).reshape([self.norms.len() as i64, width as i64])));
        }
        if let Some(t) = &self.time {
            for (key, tensor) in Self::TIME.iter().zip([&t.from_start, &t.count_start, &t.from_end, &t.count_end]) {
                out.push((key.to_string(), tensor.shallow_clone()));
            }
        }
        out
    }

    /// What a checkpoint saved; empty for one taken at an epoch's end (or before
    /// checkpoints carried them).
    fn from_saved(saved: &HashMap<String, Tensor>) -> Result<EpochGrads> {
        let norms = match saved.get(Self::NORMS) {
            Some(t) => Vec::<Vec<f32>>::try_from(t.to_device(tch::Device::Cpu))?,
            None => Vec::new(),
        };
        let time = match Self::TIME.map(|k| saved.get(k)) {
            [Some(s), Some(cs), Some(e), Some(ce)] => {
                Some(TimeGrads { from_start: s.shallow_clone(), count_start: cs.shallow_clone(), from_end: e.shallow_clone(), count_end: ce.shallow_clone() })
            }
            _ => None,
        };
        Ok(EpochGrads { norms, time })
    }
}

/// What a checkpoint holds besides its position in the run: the model, Adam's moments
/// and, with `--ema`, the weights' moving average (both in the order of `names`, the
/// trainable parameters' names).
pub(crate) struct Trained<'a> {
    pub model: &'a Classifier,
    pub adam: &'a Adam,
    pub average: Option<&'a WeightAverage>,
    pub names: &'a [String],
}

/// Writes checkpoint.ot and checkpoint.json; `epoch_grads` is what the epoch in
/// progress has logged so far.
pub(crate) fn save(run_dir: &RunDir, trained: Trained, state: &CheckpointState, epoch_grads: &EpochGrads) -> Result<()> {
    let Trained { model, adam, average, names } = trained;
    let mut named: Vec<(String, Tensor)> = model.named_parameters().into_iter().map(|(n, t)| (format!("model.{n}"), t.shallow_clone())).collect();
    for (i, n) in names.iter().enumerate() {
        named.push((format!("adam.m.{n}"), adam.m[i].shallow_clone()));
        named.push((format!("adam.v.{n}"), adam.v[i].shallow_clone()));
        if let Some(avg) = average {
            named.push((format!("ema.{n}"), avg.averages[i].shallow_clone()));
        }
    }
    named.push(("meta.adam_step".into(), Tensor::from(adam.step)));
    named.extend(epoch_grads.named());
    // Both files are written before either replaces its old version: a full disk
    // leaves the previous checkpoint whole and consistent.
    let weights = crate::util::stage_tensors(&named, &run_dir.checkpoint())?;
    let state = crate::util::stage(&run_dir.checkpoint_state(), serde_json::to_string_pretty(state)?.as_bytes(), true)?;
    weights.commit()?;
    state.commit()
}

/// Loads the checkpoint into `model`, `adam` and, with `--ema`, `average`, refusing a
/// pair that disagrees; returns where it was taken and the gradient statistics of the
/// epoch it interrupted.
pub(crate) fn load(
    run_dir: &RunDir,
    model: &mut Classifier,
    adam: &mut Adam,
    average: Option<&mut WeightAverage>,
    names: &[String],
) -> Result<(CheckpointState, EpochGrads)> {
    let state: CheckpointState = serde_json::from_slice(&std::fs::read(run_dir.checkpoint_state())?)
        .with_context(|| format!("{} is corrupt; delete the run directory to start over", run_dir.checkpoint_state().display()))?;
    let saved: HashMap<String, Tensor> = Tensor::load_multi_with_device(run_dir.checkpoint(), model.device)
        .map_err(|e| crate::util::torch_error(e, &run_dir.checkpoint()))?
        .into_iter()
        .collect();
    let step = saved.get("meta.adam_step").map(|t| t.int64_value(&[])).unwrap_or(-1);
    if step != state.adam_step {
        bail!(
            "{} and {} disagree (step {step} vs {}); the run was killed while checkpointing: delete the run directory to start over",
            run_dir.checkpoint().display(),
            run_dir.checkpoint_state().display(),
            state.adam_step
        );
    }
    model.copy_from(&saved, "model.", &run_dir.checkpoint())?;
    let _guard = tch::no_grad_guard();
    let lacks = |key: &str| format!("{} lacks {key}", run_dir.checkpoint().display());
    for (i, n) in names.iter().enumerate() {
        for (which, dst) in [("m", &mut adam.m[i]), ("v", &mut adam.v[i])] {
            let key = format!("adam.{which}.{n}");
            dst.copy_(saved.get(&key).with_context(|| lacks(&key))?);
        }
    }
    if let Some(avg) = average {
        for (n, dst) in names.iter().zip(avg.averages.iter_mut()) {
            let key = format!("ema.{n}");
            dst.copy_(saved.get(&key).with_context(|| lacks(&key))?);
        }
    }
    adam.step = state.adam_step;
    let epoch_grads =
        EpochGrads::from_saved(&saved).with_context(|| format!("{} is corrupt; delete the run directory to start over", run_dir.checkpoint().display()))?;
    Ok((state, epoch_grads))
}
