//! One point of a sweep (or of a study, or of the course) run with the sweep's rules:
//! skip it when finished, resume it when interrupted, record its failure, never let two
//! processes train it; and a list of points run one after another on shared data.
use crate::data::source::DataCache;
use crate::exit::Exit;
use crate::train::config::{first_difference, TrainArgs, TrainConfig};
use crate::train::launch::{fit_to_glove, launch};
use crate::train::run::{RunDir, Summary};
use crate::train::signal::StopFlags;
use crate::train::{Outcome, RunOptions};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// What happened to one point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PointStatus {
    Finished,
    AlreadyDone,
    Failed(String),
    Busy,
    Stopped(Exit),
}

impl PointStatus {
    /// How a sweep's listing says it.
    pub(crate) fn describe(&self) -> String {
        match self {
            PointStatus::Finished => "finished".into(),
            PointStatus::AlreadyDone => "already finished".into(),
            PointStatus::Busy => "running elsewhere".into(),
            PointStatus::Failed(r) => format!("failed: {r}"),
            PointStatus::Stopped(_) => "stopped".into(),
        }
    }
}

/// A point to run: its run name, directory and options.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub name: String,
    pub dir: PathBuf,
    pub args: TrainArgs,
    /// `args` resolved, once for the point's whole life (compared with other points and
    /// recorded runs, then trained), before its GloVe file is looked at; or why they do
    /// not resolve, which the point reports as its failure.
    pub checked: Result<TrainConfig, String>,
}

impl Point {
    /// The point `name` in `dir`, its options resolved now.
    pub(crate) fn new(name: String, dir: PathBuf, args: TrainArgs) -> Point {
        let checked = TrainConfig::resolve(&args, None).map_err(|e| format!("{e:#}"));
        Point { name, dir, args, checked }
    }
}

/// Runs `point` in its directory with the sweep's rules: skip when finished (or
/// failed, unless `retry_failed`), skip when another worker holds its lock, resume
/// from a checkpoint, record a failure with its reason.
pub(crate) fn run_point(point: &Point, data: &mut DataCache, progress: bool, retry_failed: bool, stop: &StopFlags) -> Result<PointStatus> {
    let (name, dir) = (&point.name, &point.dir);
    let run_dir = RunDir::new(dir);
    let Some(_lock) = run_dir.try_lock()? else {
        return Ok(PointStatus::Busy);
    };
    if let Some(s) = run_dir.read_summary() {
        if s.is_finished() || !retry_failed {
            return Ok(if s.is_finished() { PointStatus::AlreadyDone } else { PointStatus::Failed(s.reason.unwrap_or_default()) });
        }
        let _ = std::fs::remove_file(run_dir.summary());
    }
    let result = (|| -> Result<Outcome> {
        let checked = point.checked.clone().map_err(anyhow::Error::msg)?;
        let cfg = fit_to_glove(checked, point.args.emb_dim, data)?;
        let opts = RunOptions { resume: run_dir.config().exists(), progress, stop: stop.clone(), name: name.clone() };
        launch(&cfg, dir, data, opts)
    })();
    match result {
        Ok(Outcome::Finished(_)) => {
            crate::report::plots::plot_finished_run(dir);
            Ok(PointStatus::Finished)
        }
        Ok(Outcome::Stopped(s)) => Ok(PointStatus::Stopped(s.exit())),
        Ok(Outcome::Diverged(msg)) => Ok(PointStatus::Failed(msg)),
        Err(e) => {
            let reason = format!("{e:#}");
            // Best effort: on a full disk the record cannot be written either, and the
            // sweep must still go on to its other points.
            let recorded = std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))
                .and_then(|()| run_dir.write_summary(&Summary::failed(name, &reason, &[])));
            if let Err(e) = recorded {
                crate::errln!("imdb-rnn: warning: could not record the failure of {}: {e:#}", dir.display());
            }
            Ok(PointStatus::Failed(reason))
        }
    }
}

/// A point's directory holds the run of its whole configuration, not just its grid
/// values: rerunning a sweep with a changed shared option (say --epochs) must not
/// report the old runs as finished, so it is refused, naming the option.
pub(crate) fn refuse_changed_options(point: &Point) -> Result<()> {
    let dir = &point.dir;
    let (Ok(record), Ok(now)) = (RunDir::new(dir).read_config(), &point.checked) else {
        // No run yet, or options the point itself will report as failed.
        return Ok(());
    };
    match first_difference(&record.config, now, &super::identity::data_shaped_fields(&point.args, now)) {
        Some(what) => {
            bail!("sweep point {} was run with other options ({what}); run the sweep with its original options, or give it another --name", dir.display())
        }
        None => Ok(()),
    }
}

/// How to run a list of points.
pub(crate) struct RunAll<'a> {
    /// The command's name for progress lines (`sweep`, `grads`, `course`).
    pub label: &'a str,
    pub progress: bool,
    pub retry_failed: bool,
    /// Set in a `--jobs` worker: its index. A worker says only what it trains, on
    /// stderr, and leaves the listing to the process that started it.
    pub worker: Option<usize>,
}

/// What a list of points came to.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Points trained now.
    pub trained: usize,
    /// Points already finished before (skipped).
    pub skipped: usize,
    pub failed: usize,
    pub busy: usize,
    /// Set when a signal stopped the list: the exit status to return.
    pub stopped: Option<Exit>,
}

/// Runs `points` one after another on data prepared once, calling `report` after each;
/// stops at the first point a signal stopped.
pub(crate) fn run_all(
    points: &[Point],
    data: &mut DataCache,
    opts: &RunAll,
    stop: &StopFlags,
    mut report: impl FnMut(&Point, &PointStatus) -> Result<()>,
) -> Result<Tally> {
    let mut tally = Tally::default();
    for (i, p) in points.iter().enumerate() {
        if opts.progress && opts.worker.is_none() {
            crate::errln!("imdb-rnn {} [{}/{}] {}", opts.label, i + 1, points.len(), p.dir.display());
        }
        let bars = opts.progress && opts.worker.is_none();
        let started = std::time::Instant::now();
        let status = run_point(p, data, bars, opts.retry_failed, stop)?;
        match &status {
            PointStatus::Finished => tally.trained += 1,
            PointStatus::AlreadyDone => tally.skipped += 1,
            PointStatus::Failed(_) => tally.failed += 1,
            PointStatus::Busy => tally.busy += 1,
            PointStatus::Stopped(code) => tally.stopped = Some(*code),
        }
        match opts.worker {
            None => report(p, &status)?,
            Some(w) if !matches!(status, PointStatus::Busy | PointStatus::AlreadyDone) && opts.progress => {
                crate::errln!("imdb-rnn {} [job {w}] {}: {} ({:.0} s)", opts.label, p.dir.display(), status.describe(), started.elapsed().as_secs_f64());
            }
            Some(_) => {}
        }
        if tally.stopped.is_some() {
            break;
        }
    }
    Ok(tally)
}

/// Whether `dir` holds a run whose summary.json says it finished.
pub(crate) fn is_finished(dir: &Path) -> bool {
    RunDir::new(dir).read_summary().is_some_and(|s| s.is_finished())
}
