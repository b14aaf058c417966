//! Training: the loop over epochs and batches ([`train`]), with the pieces it is made
//! of: batches planned by `batches`, a `trainer` that takes the steps, Adam(W) on a
//! learning-rate `schedule`, the weights' moving `average`, per-epoch `evaluate`, the run's CSV `log`, atomic
//! `checkpoint`s for a bit-identical resume, `signal` handling, gradient logging.
pub(crate) mod adam;
pub(crate) mod average;
pub(crate) mod batches;
pub(crate) mod checkpoint;
pub(crate) mod config;
pub(crate) mod defaults;
pub(crate) mod device;
pub(crate) mod evaluate;
pub mod grads;
pub(crate) mod launch;
pub(crate) mod log;
pub(crate) mod rows;
pub(crate) mod run;
pub(crate) mod schedule;
pub(crate) mod signal;
pub(crate) mod splits;
pub(crate) mod trainer;

pub(crate) use evaluate::{evaluate, Evaluation};
pub(crate) use splits::{select_data, RunData, SplitTensors};

use crate::data::glove::GloveMatrix;
use anyhow::Result;
use config::TrainConfig;
use run::{RunDir, Summary};
use signal::{Stop, StopFlags};
use trainer::{EpochEnd, Trainer};

/// How a run ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Finished(Summary),
    /// A signal stopped it after a checkpoint.
    Stopped(Stop),
    /// The loss went NaN or infinite; the last good checkpoint is kept.
    Diverged(String),
}

/// Run-time switches that are not part of the experiment.
pub(crate) struct RunOptions {
    pub resume: bool,
    pub progress: bool,
    pub stop: StopFlags,
    pub name: String,
}

/// Trains `cfg` on `data` (the splits `select_data` chose), writing into `run_dir`.
/// Resumes from the checkpoint when asked.
pub(crate) fn train(cfg: &TrainConfig, data: &RunData, glove: Option<&GloveMatrix>, run_dir: &RunDir, opts: &RunOptions) -> Result<Outcome> {
    let mut trainer = Trainer::new(cfg, data, glove, run_dir, opts)?;
    while let Some(mut epoch) = trainer.begin_epoch() {
        while !epoch.done() {
            if let Some(end) = trainer.step(&mut epoch)? {
                return Ok(end);
            }
        }
        match trainer.end_epoch(epoch)? {
            EpochEnd::Next => {}
            EpochEnd::EarlyStop => break,
            EpochEnd::Stopped(stop) => return Ok(Outcome::Stopped(stop)),
        }
    }
    trainer.finish()
}
