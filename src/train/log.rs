//! The CSV logs a run appends to (metrics.csv, steps.csv, grads.csv, grads_epoch.csv,
//! grads_time.csv): typed rows ([`super::rows`]) written and flushed as they are
//! produced, so a crash keeps everything up to the last flushed row, and cut back to
//! the checkpoint when a run resumes.
use super::grads::{NormEntry, TimeGrads};
use super::rows::{self, EpochMetrics, GradEpochRow, GradRow, GradTimeRow, StepRow};
use super::run::RunDir;
use anyhow::{Context, Result};
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use tch::{Device, Tensor};

/// Where a checkpoint was taken: the rows a resumed run keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LogPosition {
    /// Completed epochs.
    pub epoch: usize,
    /// Training steps taken.
    pub step: u64,
}

/// The open logs of a run.
pub(crate) struct RunLog {
    run_dir: RunDir,
    metrics: CsvFile,
    steps: CsvFile,
    /// Only when gradients are logged (`--grad-every`).
    grads: Option<CsvFile>,
}

impl RunLog {
    /// Opens the logs: a fresh run (`resume_at` `None`) starts them anew; a resumed one
    /// keeps the rows up to its checkpoint and drops those a crash wrote after it.
    pub(crate) fn open(run_dir: &RunDir, resume_at: Option<LogPosition>, log_grads: bool) -> Result<RunLog> {
        match resume_at {
            Some(at) => truncate_after(run_dir, at)?,
            None => {
                for p in [run_dir.metrics(), run_dir.steps(), run_dir.grads(), run_dir.grads_epoch(), run_dir.grads_time()] {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
        Ok(RunLog {
            run_dir: run_dir.clone(),
            metrics: CsvFile::open(&run_dir.metrics(), &rows::header::<EpochMetrics>())?,
            steps: CsvFile::open(&run_dir.steps(), &rows::header::<StepRow>())?,
            grads: if log_grads { Some(CsvFile::open(&run_dir.grads(), &rows::header::<GradRow>())?) } else { None },
        })
    }

    pub(crate) fn epoch(&mut self, row: &EpochMetrics) -> Result<()> {
        self.metrics.append([row])
    }

    pub(crate) fn steps(&mut self, rows: &[StepRow]) -> Result<()> {
        self.steps.append(rows)
    }

    /// Appends grads.csv rows (nothing when gradients are not logged).
    pub(crate) fn grads<'a>(&mut self, rows: impl IntoIterator<Item = GradRow<'a>>) -> Result<()> {
        match self.grads.as_mut() {
            Some(csv) => csv.append(rows),
            None => Ok(()),
        }
    }

    /// The epoch's statistics of each norm in `layout`; `norms` holds one row of values
    /// (in `layout` order) per logged step. Nothing when no step was logged.
    pub(crate) fn grads_epoch(&self, epoch: usize, layout: &[NormEntry], norms: &[Vec<f32>]) -> Result<()> {
        if norms.is_empty() {
            return Ok(());
        }
        let rows = layout.iter().enumerate().map(|(i, e)| GradEpochRow::new(epoch, e, norms.iter().map(|row| row[i]).collect()));
        CsvFile::open(&self.run_dir.grads_epoch(), &rows::header::<GradEpochRow>())?.append(rows)
    }

    /// The epoch's mean input-gradient norm per position.
    pub(crate) fn grads_time(&self, epoch: usize, time: &TimeGrads) -> Result<()> {
        let path = self.run_dir.grads_time();
        let get = |t: &Tensor| {
            Vec::<f32>::try_from(t.to_device(Device::Cpu))
                .with_context(|| format!("cannot write {}: the input-gradient sums are not a vector of floats", path.display()))
        };
        let (s, cs, e, ce) = (get(&time.from_start)?, get(&time.count_start)?, get(&time.from_end)?, get(&time.count_end)?);
        let mean = |sum: f32, count: f32| (count > 0.0).then(|| sum / count);
        let rows = (0..s.len()).map(|t| GradTimeRow {
            epoch,
            t,
            norm: mean(s[t], cs[t]),
            count: cs[t],
            t_from_end: t,
            norm_from_end: mean(e[t], ce[t]),
            count_from_end: ce[t],
        });
        CsvFile::open(&path, &rows::header::<GradTimeRow>())?.append(rows)
    }
}

/// Drops the rows written after `at` (a crash between a row and the checkpoint).
fn truncate_after(run_dir: &RunDir, at: LogPosition) -> Result<()> {
    let (epoch, step) = (at.epoch as u64, at.step);
    truncate_rows(&run_dir.metrics(), |l| field(l, 0).is_some_and(|e| e <= epoch))?;
    truncate_rows(&run_dir.steps(), |l| field(l, 1).is_some_and(|s| s <= step))?;
    truncate_rows(&run_dir.grads(), |l| field(l, 1).is_some_and(|s| s <= step))?;
    truncate_rows(&run_dir.grads_epoch(), |l| field(l, 0).is_some_and(|e| e <= epoch))?;
    truncate_rows(&run_dir.grads_time(), |l| field(l, 0).is_some_and(|e| e <= epoch))
}

/// Rewrites `path` keeping the header and the rows `keep` accepts. Atomic.
fn truncate_rows(path: &Path, keep: impl Fn(&str) -> bool) -> Result<()> {
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

/// Field `index` of a CSV line as a number.
fn field(line: &str, index: usize) -> Option<u64> {
    line.split(',').nth(index)?.parse().ok()
}

/// A CSV file appended to: the header first when the file is new, then rows, flushed
/// after each [`CsvFile::append`].
struct CsvFile {
    writer: csv::Writer<File>,
    path: PathBuf,
}

impl CsvFile {
    fn open(path: &Path, header: &str) -> Result<CsvFile> {
        let new = !path.exists() || std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len() == 0;
        let file = OpenOptions::new().create(true).append(true).open(path).with_context(|| format!("cannot write {}", path.display()))?;
        let mut csv = CsvFile { writer: csv::WriterBuilder::new().has_headers(false).from_writer(file), path: path.to_path_buf() };
        if new {
            csv.writer.write_record(header.split(',')).with_context(|| csv.error())?;
            csv.flush()?;
        }
        Ok(csv)
    }

    fn append<R: Serialize>(&mut self, rows: impl IntoIterator<Item = R>) -> Result<()> {
        for row in rows {
            self.writer.serialize(row).with_context(|| self.error())?;
        }
        self.flush()
    }

    fn flush(&mut self) -> Result<()> {
        self.writer.flush().with_context(|| self.error())
    }

    fn error(&self) -> String {
        format!("cannot write {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(epoch: usize, step: u64) -> StepRow {
        StepRow { epoch, step, batch: step as usize - 1, loss: 0.5 }
    }

    fn metrics(epoch: usize) -> EpochMetrics {
        EpochMetrics {
            epoch,
            train_loss: 0.5,
            train_acc: 0.5,
            val_loss: None,
            val_acc: None,
            test_loss: 0.5,
            test_acc: 0.5,
            lr: 0.001,
            epoch_seconds: 1.0,
            tokens_per_s: 10.0,
        }
    }

    #[test]
    fn a_fresh_log_starts_every_file_anew_with_its_header() {
        let tmp = tempfile::tempdir().unwrap();
        let run_dir = RunDir::new(tmp.path());
        std::fs::write(run_dir.steps(), "old\n").unwrap();
        std::fs::write(run_dir.grads_epoch(), "old\n").unwrap();
        let mut log = RunLog::open(&run_dir, None, false).unwrap();
        log.steps(&[step(1, 1)]).unwrap();
        assert_eq!(std::fs::read_to_string(run_dir.steps()).unwrap(), "epoch,step,batch,loss\n1,1,0,0.5\n");
        assert_eq!(std::fs::read_to_string(run_dir.metrics()).unwrap(), format!("{}\n", rows::header::<EpochMetrics>()));
        assert!(!run_dir.grads().exists(), "no grads.csv without gradient logging");
        assert!(!run_dir.grads_epoch().exists(), "an old file is removed");
    }

    #[test]
    fn resuming_drops_the_rows_written_after_the_checkpoint_and_appends_after_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let run_dir = RunDir::new(tmp.path());
        let mut log = RunLog::open(&run_dir, None, true).unwrap();
        log.steps(&(1..=5).map(|s| step(1 + (s as usize - 1) / 2, s)).collect::<Vec<_>>()).unwrap();
        log.epoch(&metrics(1)).unwrap();
        log.epoch(&metrics(2)).unwrap();
        let layout = [NormEntry { layer: None, direction: "-", parameter: "fc.bias".into(), gate: "all" }];
        log.grads((1..=5).map(|s| GradRow::new(1, s, &layout[0], 1.0))).unwrap();
        log.grads_epoch(1, &layout, &[vec![1.0]]).unwrap();
        log.grads_epoch(2, &layout, &[vec![2.0]]).unwrap();
        drop(log);
        // The checkpoint was taken after epoch 1 and step 3 (mid-epoch 2).
        let mut log = RunLog::open(&run_dir, Some(LogPosition { epoch: 1, step: 3 }), true).unwrap();
        let lines = |p: PathBuf| std::fs::read_to_string(p).unwrap().lines().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(lines(run_dir.steps()), ["epoch,step,batch,loss", "1,1,0,0.5", "1,2,1,0.5", "2,3,2,0.5"]);
        assert_eq!(lines(run_dir.metrics()).len(), 2, "metrics.csv keeps epoch 1 only");
        assert_eq!(lines(run_dir.grads()).len(), 4, "grads.csv keeps steps 1-3");
        assert_eq!(lines(run_dir.grads_epoch()), ["epoch,layer,direction,parameter,gate,mean,median,max,last", "1,,-,fc.bias,all,1,1,1,1"]);
        log.steps(&[step(2, 4)]).unwrap();
        assert_eq!(lines(run_dir.steps()).last().unwrap(), "2,4,3,0.5", "appended after the kept rows, no second header");
        assert_eq!(lines(run_dir.steps()).len(), 5);
    }
}
