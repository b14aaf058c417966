//! The vanishing-gradient study: one training per (cell, depth) with gradient norms
//! logged, their per-epoch norms gathered into grads_by_depth.csv, and the study's
//! figures (first-layer norm against depth, ‖dL/dx_t‖ over time, learning curves).
use super::point::{is_finished, run_all, Point, PointStatus, RunAll};
use crate::data::source::DataCache;
use crate::exit::Exit;
use crate::model::recurrent::Cell;
use crate::report::plots;
use crate::train::config::TrainArgs;
use crate::train::rows::{header, GradEpochRow};
use crate::train::run::RunDir;
use crate::train::signal::StopFlags;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// `1..8`, `1..=8` (both inclusive) or `1,2,4,8`.
pub(crate) fn parse_depths(text: &str) -> Result<Vec<i64>> {
    let bad = || anyhow::anyhow!("--depth {text}: expected a range like 1..8 (inclusive) or a list like 1,2,4,8, depths >= 1");
    let depths: Vec<i64> = if let Some((a, b)) = text.split_once("..") {
        let a: i64 = a.trim().parse().map_err(|_| bad())?;
        let b: i64 = b.trim_start_matches('=').trim().parse().map_err(|_| bad())?;
        if b < a {
            return Err(bad());
        }
        (a..=b).collect()
    } else {
        text.split(',').map(|d| d.trim().parse::<i64>().map_err(|_| bad())).collect::<Result<_>>()?
    };
    if depths.is_empty() || depths.iter().any(|&d| d < 1) {
        return Err(bad());
    }
    if let Some(d) = crate::util::first_repeat(&depths) {
        bail!("--depth {text}: depth {d} is given twice; give each depth once");
    }
    Ok(depths)
}

/// The study's cells as `--cells` gave them (clap parsed the names), each at most once.
pub(crate) fn check_cells(cells: &[Cell]) -> Result<()> {
    if let Some(c) = crate::util::first_repeat(cells) {
        let text: Vec<&str> = cells.iter().map(|c| c.name()).collect();
        bail!("--cells {}: cell {} is given twice; give each cell once", text.join(","), c.name());
    }
    Ok(())
}

/// A finished run of a study: its cell, depth and directory.
pub(crate) type StudyRun = (Cell, i64, PathBuf);

/// The study's points: `base` with gradients logged every step (unless it says
/// otherwise), for each cell and depth, in `study/<cell>-l<depth>`.
pub(crate) fn study_points(study: &Path, base: &TrainArgs, cells: &[Cell], depths: &[i64]) -> Vec<(Cell, i64, Point)> {
    let mut base = base.clone();
    base.grad_every = base.grad_every.or(Some(1));
    let mut out = Vec::new();
    for &cell in cells {
        for &depth in depths {
            let mut args = base.clone();
            args.cell = Some(cell);
            args.layers = Some(depth);
            let name = format!("{}-l{depth}", cell.name());
            out.push((cell, depth, Point::new(name.clone(), study.join(&name), args)));
        }
    }
    out
}

/// What a study came to: its finished runs, how many failed, and the exit status of a
/// signal that stopped it.
pub(crate) struct StudyOutcome {
    pub finished: Vec<StudyRun>,
    pub failed: usize,
    pub stopped: Option<Exit>,
}

/// Runs the study's points (skipping finished ones, resuming interrupted ones).
pub(crate) fn run_study(points: &[(Cell, i64, Point)], data: &mut DataCache, progress: bool, worker: Option<usize>, stop: &StopFlags) -> Result<StudyOutcome> {
    let list: Vec<Point> = points.iter().map(|(_, _, p)| p.clone()).collect();
    let opts = RunAll { label: "grads", progress, retry_failed: false, worker };
    let tally = run_all(&list, data, &opts, stop, |p, status| {
        match status {
            PointStatus::Busy => crate::errln!("imdb-rnn grads: {} is running in another process; skipped", p.dir.display()),
            PointStatus::Failed(reason) => crate::errln!("imdb-rnn grads: {} failed: {reason}", p.dir.display()),
            _ => {}
        }
        Ok(())
    })?;
    let finished = points.iter().filter(|(_, _, p)| is_finished(&p.dir)).map(|(c, d, p)| (*c, *d, p.dir.clone())).collect();
    Ok(StudyOutcome { finished, failed: tally.failed, stopped: tally.stopped })
}

/// The columns grads_by_depth.csv puts before a run's grads_epoch.csv row.
#[derive(Default, Serialize)]
struct StudyKey<'a> {
    cell: &'a str,
    depth: i64,
}

/// Concatenates the runs' grads_epoch.csv rows of the recurrent layers, each after its
/// run's cell and depth.
pub(crate) fn write_grads_by_depth(study: &Path, runs: &[StudyRun]) -> Result<PathBuf> {
    let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    csv.write_record(header::<(StudyKey, GradEpochRow)>().split(','))?;
    for (cell, depth, dir) in runs {
        let key = StudyKey { cell: cell.name(), depth: *depth };
        for row in RunDir::new(dir).read_grads_epoch()?.into_iter().filter(|r| r.layer.is_some()) {
            csv.serialize((&key, row))?;
        }
    }
    let path = study.join("grads_by_depth.csv");
    crate::util::write_atomic(&path, &csv.into_inner()?)?;
    Ok(path)
}

/// A study directory (written by `imdb-rnn grads`: grads_by_depth.csv and one run
/// directory per cell and depth) has its figures redrawn by `imdb-rnn plot`.
pub(crate) fn is_study(dir: &Path) -> bool {
    dir.join("grads_by_depth.csv").is_file() && !RunDir::new(dir).config().exists()
}

/// Redraws a study's figures from its finished runs, cells and depths read from their
/// config.json.
pub(crate) fn redraw_study(study: &Path) -> Result<Vec<PathBuf>> {
    let mut runs: Vec<StudyRun> = Vec::new();
    for entry in std::fs::read_dir(study).with_context(|| format!("cannot read {}", study.display()))?.flatten() {
        let dir = entry.path();
        if let (true, Ok(record)) = (is_finished(&dir), RunDir::new(&dir).read_config()) {
            let r = &record.config.model.recurrent;
            runs.push((r.cell, r.num_layers, dir));
        }
    }
    if runs.is_empty() {
        bail!("{} is a gradient study with no finished run to draw", study.display());
    }
    runs.sort_by_key(|(c, d, _)| (c.name(), *d));
    let mut figures = study_figures(study, &runs)?;
    for (_, _, dir) in &runs {
        figures.extend(plots::plot_run(dir)?);
    }
    Ok(figures)
}

/// The study's figures: first-layer norm against depth, dL/dx_t against t, learning
/// curves overlaid, plus each run's own figures.
pub(crate) fn study_figures(study: &Path, runs: &[StudyRun]) -> Result<Vec<PathBuf>> {
    let mut figures = Vec::new();
    if runs.is_empty() {
        return Ok(figures);
    }
    for (_, _, dir) in runs {
        plots::plot_run(dir)?;
    }
    let p = study.join("grad_vs_depth.png");
    plots::grad_vs_depth(&depth_points(runs)?, &p)?;
    figures.push(p);
    for (from_end, file) in [(false, "grad_time.png"), (true, "grad_time_from_end.png")] {
        let p = study.join(file);
        plots::grad_over_time(&time_series(runs, from_end)?, &p, from_end)?;
        figures.push(p);
    }
    let p = study.join("learning_curves.png");
    plots::learning_curves_overlay(&runs.iter().map(|(_, _, d)| d.clone()).collect::<Vec<_>>(), &p)?;
    figures.push(p);
    Ok(figures)
}

/// Each run's first-layer recurrent gradient norm, by cell and depth.
pub(crate) fn depth_points(runs: &[StudyRun]) -> Result<Vec<plots::DepthPoint>> {
    runs.iter().map(|(c, d, dir)| Ok(plots::DepthPoint { cell: c.name().into(), depth: *d, first_layer_norm: plots::read_first_layer_norm(dir)? })).collect()
}

/// A labelled ‖dL/dx_t‖ profile: (position, mean norm) pairs.
pub(crate) type TimeSeries = (String, Vec<(i64, f64)>);

/// Each run's last-epoch ‖dL/dx_t‖ profile, labelled `<cell> depth <d>`.
pub(crate) fn time_series(runs: &[StudyRun], from_end: bool) -> Result<Vec<TimeSeries>> {
    runs.iter().map(|(c, d, dir)| Ok((format!("{} depth {d}", c.name()), plots::read_time_profile(dir, None, from_end)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grads_by_depth_puts_the_cell_and_depth_before_each_recurrent_row_of_grads_epoch() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("rnn-l2");
        std::fs::create_dir(&run).unwrap();
        let header = "epoch,layer,direction,parameter,gate,mean,median,max,last";
        let rows =
            ["1,,-,embedding.weight,all,0.5,0.5,1,1", "1,1,forward,weight_hh,all,0.30000000000000004,0.25,3.5,0.0000003", "2,0,reverse,bias_hh,z,NaN,1,2,2"];
        std::fs::write(run.join("grads_epoch.csv"), format!("{header}\n{}\n", rows.join("\n"))).unwrap();
        let path = write_grads_by_depth(tmp.path(), &[(Cell::Rnn, 2, run)]).unwrap();
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            format!("cell,depth,{header}\nrnn,2,{}\nrnn,2,{}\n", rows[1], rows[2]),
            "the rows as they were written, outside the recurrent stack left out"
        );
    }

    #[test]
    fn depth_ranges_and_lists_parse() {
        assert_eq!(parse_depths("1..4").unwrap(), [1, 2, 3, 4]);
        assert_eq!(parse_depths("1..=3").unwrap(), [1, 2, 3]);
        assert_eq!(parse_depths("1,2,4,8").unwrap(), [1, 2, 4, 8]);
        assert!(parse_depths("0..2").is_err());
        assert!(parse_depths("3..1").is_err());
        assert!(parse_depths("a").is_err());
    }
}
