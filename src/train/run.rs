//! A run directory: config.json, metrics.csv, steps.csv, grads*.csv, checkpoints,
//! summary.json. CSV rows are appended and flushed as they are produced, so a crash
//! keeps everything up to the last completed row.
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

pub use super::rows::EpochMetrics;

/// summary.json.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub name: String,
    pub status: String,
    pub epochs_run: usize,
    #[serde(deserialize_with = "nan_if_null")]
    pub final_test_acc: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub final_test_loss: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub best_test_acc: f64,
    pub best_epoch: usize,
    /// Test accuracy at the epoch with the best validation accuracy (when there is a
    /// validation split): the honest number for model selection.
    pub test_acc_at_best_val: Option<f64>,
    pub best_val_acc: Option<f64>,
    pub mean_epoch_seconds: f64,
    pub total_seconds: f64,
    pub parameters: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Summary {
    /// The summary of a run that failed (diverged, or was refused before training), with
    /// what it completed of `history`.
    pub fn failed(name: &str, reason: &str, history: &[EpochMetrics]) -> Summary {
        let last = history.last();
        Summary {
            name: name.into(),
            status: "failed".into(),
            epochs_run: history.len(),
            final_test_acc: last.map(|m| m.test_acc).unwrap_or(f64::NAN),
            final_test_loss: last.map(|m| m.test_loss).unwrap_or(f64::NAN),
            best_test_acc: history.iter().map(|m| m.test_acc).fold(f64::NAN, f64::max),
            best_epoch: 0,
            test_acc_at_best_val: None,
            best_val_acc: None,
            mean_epoch_seconds: 0.0,
            total_seconds: 0.0,
            parameters: 0,
            reason: Some(reason.into()),
        }
    }

    /// Writes summary.json atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::util::write_atomic(path, serde_json::to_string_pretty(self)?.as_bytes())
    }
}

/// JSON has no NaN: serde_json writes it as null; read null back as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Reads metrics.csv back.
pub fn read_metrics(dir: &Path) -> Result<Vec<EpochMetrics>> {
    let path = dir.join("metrics.csv");
    let mut reader = csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for row in reader.deserialize() {
        out.push(row.with_context(|| format!("{} has a malformed row", path.display()))?);
    }
    Ok(out)
}

/// Takes the exclusive lock of the run directory `dir` (the file `.NAME.lock` beside
/// it, so it can be taken before the directory exists). `None` when another process
/// holds it; the lock lasts as long as the returned file is open.
pub fn try_lock_run(dir: &Path) -> Result<Option<File>> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let lock_path = parent.join(format!(".{name}.lock"));
    let lock = File::create(&lock_path).with_context(|| format!("cannot create {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => Ok(Some(lock)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {}", lock_path.display())),
    }
}

/// The standard files of a run directory.
pub struct RunPaths {
    pub dir: PathBuf,
}

impl RunPaths {
    pub fn new(dir: &Path) -> RunPaths {
        RunPaths { dir: dir.to_path_buf() }
    }
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    pub fn metrics(&self) -> PathBuf {
        self.dir.join("metrics.csv")
    }
    pub fn steps(&self) -> PathBuf {
        self.dir.join("steps.csv")
    }
    pub fn grads(&self) -> PathBuf {
        self.dir.join("grads.csv")
    }
    pub fn grads_epoch(&self) -> PathBuf {
        self.dir.join("grads_epoch.csv")
    }
    pub fn grads_time(&self) -> PathBuf {
        self.dir.join("grads_time.csv")
    }
    pub fn vocab(&self) -> PathBuf {
        self.dir.join("vocab.json")
    }
    pub fn checkpoint(&self) -> PathBuf {
        self.dir.join("checkpoint.ot")
    }
    pub fn checkpoint_state(&self) -> PathBuf {
        self.dir.join("checkpoint.json")
    }
    pub fn best(&self) -> PathBuf {
        self.dir.join("best.ot")
    }
    pub fn model(&self) -> PathBuf {
        self.dir.join("model.ot")
    }
    pub fn summary(&self) -> PathBuf {
        self.dir.join("summary.json")
    }
}
