//! Training: the loop over epochs and batches ([`train`]), with the pieces it is made
//! of: batches planned by `batches`, a `trainer` that takes the steps, Adam(W) on a
//! learning-rate `schedule`, per-epoch `evaluate`, the run's CSV `log`, atomic
//! `checkpoint`s for a bit-identical resume, `signal` handling, gradient logging.
pub mod adam;
pub mod batches;
pub mod checkpoint;
pub mod config;
pub mod defaults;
pub mod device;
pub mod evaluate;
pub mod grads;
pub mod launch;
pub mod log;
pub mod rows;
pub mod run;
pub mod schedule;
pub mod signal;
pub mod splits;
pub mod trainer;

pub use evaluate::{evaluate, Evaluation};
pub use splits::{select_data, RunData, SplitTensors};

use crate::data::glove::GloveMatrix;
use anyhow::Result;
use config::TrainConfig;
use run::{RunDir, Summary};
use signal::{Stop, StopFlags};
use trainer::{EpochEnd, Trainer};

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    Finished(Summary),
    /// A signal stopped it after a checkpoint.
    Stopped(Stop),
    /// The loss went NaN or infinite; the last good checkpoint is kept.
    Diverged(String),
}

/// Run-time switches that are not part of the experiment.
pub struct RunOptions {
    pub resume: bool,
    pub progress: bool,
    pub stop: StopFlags,
    pub name: String,
}

/// Trains `cfg` on `data` (the splits `select_data` chose), writing into `run_dir`.
/// Resumes from the checkpoint when asked.
pub fn train(cfg: &TrainConfig, data: &RunData, glove: Option<&GloveMatrix>, run_dir: &RunDir, opts: &RunOptions) -> Result<Outcome> {
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
