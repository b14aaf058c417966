//! The run directory, the one typed home of its files: config.json ([`RunRecord`]),
//! summary.json ([`Summary`], its [`RunStatus`]), the CSV logs read back as their typed
//! rows ([`super::rows`]: metrics.csv, grads.csv, grads_epoch.csv, grads_time.csv), the
//! path of every file ([`RunDir`]), and the lock two processes take before training one
//! directory. [`super::log::RunLog`] appends the rows.
use super::config::TrainConfig;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

pub(crate) use super::rows::EpochMetrics;
use super::rows::{GradEpochRow, GradRow, GradTimeRow};
use serde::de::DeserializeOwned;

/// config.json: the resolved configuration plus everything needed to trust and reuse it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct RunRecord {
    pub name: String,
    pub imdb_rnn: String,
    pub git: String,
    pub libtorch: String,
    pub cuda_available: bool,
    pub cudnn_version: Option<i64>,
    pub device: String,
    pub archive: String,
    pub train_reviews: usize,
    pub val_reviews: usize,
    pub test_reviews: usize,
    /// How the CPU computed (denormals, threads); absent in runs written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<crate::cpu::CpuRuntime>,
    pub config: TrainConfig,
    /// The files the run read (the archive, GloVe) and what identifies them; absent in
    /// runs written before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_files: Vec<DataFile>,
}

/// A data file a run read, as config.json records it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct DataFile {
    /// `imdb` or `glove`.
    pub role: String,
    /// Absolute.
    pub path: String,
    /// Its size (absent for an aclImdb directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Its official name (`imdb`, `glove-wiki-gigaword-50`...), when it is an official file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official: Option<String>,
}

impl DataFile {
    /// What identifies the file at `path`; `None` when it cannot be read.
    pub(crate) fn identify(role: &str, path: &Path) -> Option<DataFile> {
        let meta = std::fs::metadata(path).ok()?;
        let bytes = meta.is_file().then_some(meta.len());
        let official = bytes.and_then(|b| crate::fetch::official_name(path, b));
        Some(DataFile { role: role.into(), path: path.display().to_string(), bytes, official })
    }
}

impl RunRecord {
    /// The recorded file of `role`, if config.json holds one.
    pub(crate) fn data_file(&self, role: &str) -> Option<&DataFile> {
        self.data_files.iter().find(|f| f.role == role)
    }
}

/// How a run that wrote its summary.json ended (a run without one is unfinished:
/// running, or stopped to be resumed).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RunStatus {
    Finished,
    /// Diverged, or refused before training (a sweep point with bad options).
    Failed,
}

impl RunStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// summary.json.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Summary {
    pub name: String,
    pub status: RunStatus,
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
    pub(crate) fn failed(name: &str, reason: &str, history: &[EpochMetrics]) -> Summary {
        let last = history.last();
        Summary {
            name: name.into(),
            status: RunStatus::Failed,
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

    pub(crate) fn is_finished(&self) -> bool {
        self.status == RunStatus::Finished
    }
}

/// JSON has no NaN: serde_json writes it as null; read null back as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Reads `dir`'s metrics.csv back (see [`RunDir::read_metrics`]).
pub(crate) fn read_metrics(dir: &Path) -> Result<Vec<EpochMetrics>> {
    RunDir::new(dir).read_metrics()
}

/// Every row of the CSV file at `path`, by the names in its header; a one-line error
/// naming the file when it cannot be read or a row does not fit.
fn read_rows<R: DeserializeOwned>(path: &Path) -> Result<Vec<R>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    reader.deserialize().map(|row| row.map_err(|e| anyhow::anyhow!("{} is malformed: {e}", path.display()))).collect()
}

/// `root` and every directory below it, at most 4 levels down (links are not followed).
pub(crate) fn dirs_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        if depth < 4 {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    stack.push((e.path(), depth + 1));
                }
            }
        }
        out.push(dir);
    }
    out
}

/// A run directory: where each of its files is, and how each is read and written.
#[derive(Clone, Debug)]
pub(crate) struct RunDir {
    pub dir: PathBuf,
}

impl RunDir {
    pub(crate) fn new(dir: &Path) -> RunDir {
        RunDir { dir: dir.to_path_buf() }
    }

    /// The run directories below `root` (itself included, at most 4 levels down: a
    /// sweep or study nests them two levels deep; links are not followed), sorted.
    pub(crate) fn discover(root: &Path) -> Vec<RunDir> {
        let mut out: Vec<RunDir> = dirs_under(root).into_iter().map(|d| RunDir::new(&d)).filter(RunDir::is_run).collect();
        out.sort_by(|a, b| a.dir.cmp(&b.dir));
        out
    }

    /// A directory is a run when it holds a config.json.
    pub(crate) fn is_run(&self) -> bool {
        self.config().is_file()
    }

    /// config.json, naming the directory when it has none.
    pub(crate) fn read_config(&self) -> Result<RunRecord> {
        self.read_config_or(|| format!("{} is not a run directory (no config.json); pass a directory written by imdb-rnn train", self.dir.display()))
    }

    /// config.json, with `missing` as the error when the file cannot be read.
    pub(crate) fn read_config_or(&self, missing: impl FnOnce() -> String) -> Result<RunRecord> {
        let path = self.config();
        let bytes = std::fs::read(&path).with_context(missing)?;
        let mut record: RunRecord = serde_json::from_slice(&bytes).with_context(|| format!("{} is not a config.json of imdb-rnn", path.display()))?;
        // Runs recorded before paths were made absolute hold --glove as typed: read from
        // where they were trained, it names the same file a rerun's absolute path does.
        record.config.glove = record.config.glove.map(|g| crate::fetch::absolute_value(&g));
        Ok(record)
    }

    /// Writes config.json atomically.
    pub(crate) fn write_config(&self, record: &RunRecord) -> Result<()> {
        crate::util::write_atomic(&self.config(), serde_json::to_string_pretty(record)?.as_bytes())
    }

    /// summary.json; `None` when the run has not written one (or it cannot be read).
    pub(crate) fn read_summary(&self) -> Option<Summary> {
        std::fs::read(self.summary()).ok().and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// Writes summary.json atomically.
    pub(crate) fn write_summary(&self, summary: &Summary) -> Result<()> {
        crate::util::write_atomic(&self.summary(), serde_json::to_string_pretty(summary)?.as_bytes())
    }

    /// metrics.csv, one row per completed epoch.
    pub(crate) fn read_metrics(&self) -> Result<Vec<EpochMetrics>> {
        read_rows(&self.metrics())
    }

    /// grads.csv, one row per norm and logged step.
    pub(crate) fn read_grads(&self) -> Result<Vec<GradRow<'static>>> {
        read_rows(&self.grads())
    }

    /// grads_epoch.csv, one row per norm and epoch.
    pub(crate) fn read_grads_epoch(&self) -> Result<Vec<GradEpochRow<'static>>> {
        read_rows(&self.grads_epoch())
    }

    /// grads_time.csv, one row per epoch and position.
    pub(crate) fn read_grads_time(&self) -> Result<Vec<GradTimeRow>> {
        read_rows(&self.grads_time())
    }

    /// Takes the exclusive lock of the run directory (the file `.NAME.lock` beside
    /// it, so it can be taken before the directory exists). `None` when another process
    /// holds it; the lock lasts as long as the returned file is open.
    pub(crate) fn try_lock(&self) -> Result<Option<File>> {
        let parent = self.dir.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        let name = self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let lock_path = parent.join(format!(".{name}.lock"));
        let lock = File::create(&lock_path).with_context(|| format!("cannot create {}", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => Ok(Some(lock)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {}", lock_path.display())),
        }
    }

    pub(crate) fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    pub(crate) fn metrics(&self) -> PathBuf {
        self.dir.join("metrics.csv")
    }
    pub(crate) fn steps(&self) -> PathBuf {
        self.dir.join("steps.csv")
    }
    pub(crate) fn grads(&self) -> PathBuf {
        self.dir.join("grads.csv")
    }
    pub(crate) fn grads_epoch(&self) -> PathBuf {
        self.dir.join("grads_epoch.csv")
    }
    pub(crate) fn grads_time(&self) -> PathBuf {
        self.dir.join("grads_time.csv")
    }
    pub(crate) fn vocab(&self) -> PathBuf {
        self.dir.join("vocab.json")
    }
    pub(crate) fn checkpoint(&self) -> PathBuf {
        self.dir.join("checkpoint.ot")
    }
    pub(crate) fn checkpoint_state(&self) -> PathBuf {
        self.dir.join("checkpoint.json")
    }
    pub(crate) fn best(&self) -> PathBuf {
        self.dir.join("best.ot")
    }
    pub(crate) fn model(&self) -> PathBuf {
        self.dir.join("model.ot")
    }
    pub(crate) fn summary(&self) -> PathBuf {
        self.dir.join("summary.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summarys_status_round_trips_through_the_json_words_it_always_had() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunDir::new(tmp.path());
        assert_eq!(run.read_summary(), None, "no summary.json: unfinished");
        let failed = Summary::failed("r", "loss became NaN", &[]);
        run.write_summary(&failed).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(run.summary()).unwrap()).unwrap();
        assert_eq!(json["status"], "failed");
        assert_eq!(json["final_test_acc"], serde_json::Value::Null, "NaN is written as null");
        let back = run.read_summary().unwrap();
        assert_eq!(back.status, RunStatus::Failed);
        assert!(back.final_test_acc.is_nan() && !back.is_finished());
        let finished = serde_json::to_string(&Summary { status: RunStatus::Finished, final_test_acc: 0.5, ..failed }).unwrap();
        assert!(finished.contains(r#""status":"finished""#), "{finished}");
        std::fs::write(run.summary(), finished.replace(r#""finished""#, r#""running""#)).unwrap();
        assert_eq!(run.read_summary(), None, "an unknown status is not a summary");
    }

    #[test]
    fn a_missing_or_malformed_log_is_one_line_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunDir::new(tmp.path());
        let err = format!("{:#}", run.read_grads().unwrap_err());
        assert!(err.starts_with(&format!("cannot read {}: ", run.grads().display())), "{err}");
        std::fs::write(run.grads_time(), "epoch,t,norm,count,t_from_end,norm_from_end,count_from_end\n1,0,abc,1,0,,0\n").unwrap();
        let err = format!("{:#}", run.read_grads_time().unwrap_err());
        assert!(err.starts_with(&format!("{} is malformed: ", run.grads_time().display())) && !err.contains('\n'), "{err}");
        std::fs::write(run.grads_time(), "epoch,t,norm,count,t_from_end,norm_from_end,count_from_end\n1,0,,0,0,0.5,2\n").unwrap();
        let rows = run.read_grads_time().unwrap();
        assert_eq!((rows[0].norm, rows[0].norm_from_end, rows[0].count_from_end), (None, Some(0.5), 2.0));
    }

    #[test]
    fn a_directory_without_config_json_is_not_a_run_and_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunDir::new(tmp.path());
        assert!(!run.is_run());
        let err = format!("{:#}", run.read_config().unwrap_err());
        assert!(
            err.starts_with(&format!("{} is not a run directory (no config.json); pass a directory written by imdb-rnn train: ", tmp.path().display())),
            "{err}"
        );
        std::fs::write(run.config(), "{}").unwrap();
        assert!(run.is_run());
        let err = format!("{:#}", run.read_config().unwrap_err());
        assert!(err.starts_with(&format!("{} is not a config.json of imdb-rnn: ", run.config().display())), "{err}");
    }
}
