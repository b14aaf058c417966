//! A run directory: config.json, metrics.csv, steps.csv, grads*.csv, checkpoints,
//! summary.json. CSV rows are appended and flushed as they are produced, so a crash
//! keeps everything up to the last completed row.
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

pub const METRICS_HEADER: &str = "epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,lr,epoch_seconds,tokens_per_s";
pub const STEPS_HEADER: &str = "epoch,step,batch,loss";
pub const GRADS_HEADER: &str = "epoch,step,layer,direction,parameter,gate,norm";
pub const GRADS_EPOCH_HEADER: &str = "epoch,layer,direction,parameter,gate,mean,median,max,last";
pub const GRADS_TIME_HEADER: &str = "epoch,t,norm,count,t_from_end,norm_from_end,count_from_end";

/// One row of metrics.csv.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_acc: f64,
    pub val_loss: Option<f64>,
    pub val_acc: Option<f64>,
    pub test_loss: f64,
    pub test_acc: f64,
    pub lr: f64,
    pub epoch_seconds: f64,
    pub tokens_per_s: f64,
}

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

/// Appends CSV lines to a file, writing the header first when the file is new, and
/// flushing every line.
pub struct CsvAppender {
    file: File,
    path: PathBuf,
}

impl CsvAppender {
    pub fn open(path: &Path, header: &str) -> Result<CsvAppender> {
        let new = !path.exists() || std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len() == 0;
        let file = OpenOptions::new().create(true).append(true).open(path).with_context(|| format!("cannot write {}", path.display()))?;
        let mut csv = CsvAppender { file, path: path.to_path_buf() };
        if new {
            csv.line(header)?;
        }
        Ok(csv)
    }
    pub fn line(&mut self, line: &str) -> Result<()> {
        writeln!(self.file, "{line}").with_context(|| format!("cannot write {}", self.path.display()))
    }
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().with_context(|| format!("cannot write {}", self.path.display()))
    }
}

/// Rewrites `path` keeping the header and the rows `keep` accepts (resume: drop rows
/// written after the checkpoint we resume from). Atomic.
pub fn truncate_rows(path: &Path, keep: impl Fn(&str) -> bool) -> Result<()> {
    let Ok(file) = File::open(path) else { return Ok(()) };
    let mut out = String::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if i == 0 || keep(&line) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    crate::util::write_atomic(path, out.as_bytes())
}

/// First comma-separated field of a CSV line as a number.
pub fn field(line: &str, index: usize) -> Option<u64> {
    line.split(',').nth(index)?.parse().ok()
}

pub fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

impl EpochMetrics {
    pub fn csv(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{},{:.3},{:.0}",
            self.epoch,
            self.train_loss,
            self.train_acc,
            opt(self.val_loss),
            opt(self.val_acc),
            self.test_loss,
            self.test_acc,
            self.lr,
            self.epoch_seconds,
            self.tokens_per_s
        )
    }
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
