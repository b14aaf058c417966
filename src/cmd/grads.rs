//! `imdb-rnn grads`: the vanishing-gradient study. One training per (cell, depth) with
//! gradient norms logged, then grads_by_depth.csv and the study's figures.
use super::sweep::{run_point, PointStatus};
use super::DataCache;
use crate::cli::GradsArgs;
use crate::exit::Exit;
use crate::model::recurrent::Cell;
use crate::report::plots;
use crate::train::config::run_dir;
use crate::train::run::RunDir;
use crate::train::signal::StopFlags;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// `1..8`, `1..=8` (both inclusive) or `1,2,4,8`.
pub fn parse_depths(text: &str) -> Result<Vec<i64>> {
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
    Ok(depths)
}

pub fn parse_cells(text: &str) -> Result<Vec<Cell>> {
    text.split(',')
        .map(|c| match c.trim() {
            "rnn" => Ok(Cell::Rnn),
            "lstm" => Ok(Cell::Lstm),
            "gru" => Ok(Cell::Gru),
            other => bail!("--cells: unknown cell {other:?}; expected rnn, lstm or gru (comma-separated)"),
        })
        .collect()
}

pub const GRADS_BY_DEPTH_HEADER: &str = "cell,depth,epoch,layer,direction,parameter,gate,mean,median,max,last";

pub fn run(args: &GradsArgs) -> Result<Exit> {
    let cells = parse_cells(&args.cells)?;
    let depths = parse_depths(&args.depth)?;
    args.train.check_finite()?;
    if args.train.layers.is_some() {
        bail!("grads: --layers is what the study varies; give the depths with --depth (e.g. --depth 1..8)");
    }
    let name = args.name.clone().unwrap_or_else(|| {
        let cells: Vec<&str> = cells.iter().map(|c| c.name()).collect();
        format!("grads-{}-d{}", cells.join("-"), args.depth.replace("..=", "-").replace("..", "-").replace(',', "_"))
    });
    let study = run_dir(&args.runs_dir, &name)?;
    let mut base = args.train.clone();
    if base.grad_every.is_none() {
        base.grad_every = Some(1);
    }
    let stop = StopFlags::install();
    let mut data = DataCache::new(&args.source);
    let mut finished: Vec<(Cell, i64, PathBuf)> = Vec::new();
    let mut failed = 0;
    for &cell in &cells {
        for &depth in &depths {
            let mut a = base.clone();
            a.cell = Some(cell);
            a.layers = Some(depth);
            let run_name = format!("{}-l{depth}", cell.name());
            let dir = study.join(&run_name);
            if !args.source.quiet {
                eprintln!("imdb-rnn grads: {} depth {depth} -> {}", cell.name(), dir.display());
            }
            match run_point(&a, &run_name, &dir, &mut data, !args.source.quiet, false, &stop)? {
                PointStatus::Finished | PointStatus::AlreadyDone => finished.push((cell, depth, dir)),
                PointStatus::Busy => eprintln!("imdb-rnn grads: {} is running in another process; skipped", dir.display()),
                PointStatus::Failed(reason) => {
                    failed += 1;
                    eprintln!("imdb-rnn grads: {} failed: {reason}", dir.display());
                }
                PointStatus::Stopped(code) => {
                    eprintln!("imdb-rnn: stopped by signal; run the same command again to resume");
                    return Ok(code);
                }
            }
        }
    }
    let combined = write_grads_by_depth(&study, &finished)?;
    let figures = study_figures(&study, &finished)?;
    if args.output.json {
        let runs: Vec<_> = finished.iter().map(|(c, d, p)| serde_json::json!({"cell": c.name(), "depth": d, "run": p.display().to_string()})).collect();
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"study": study.display().to_string(), "grads_by_depth": combined.display().to_string(), "figures": figures.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(), "runs": runs})
            )?
        );
    } else {
        crate::outln!("{}", combined.display());
        for f in figures {
            crate::outln!("{}", f.display());
        }
    }
    Ok(if failed > 0 { Exit::SomeFailed } else { Exit::Success })
}

/// Concatenates the runs' grads_epoch.csv (recurrent parameters) with cell and depth.
fn write_grads_by_depth(study: &Path, runs: &[(Cell, i64, PathBuf)]) -> Result<PathBuf> {
    let mut out = String::from(GRADS_BY_DEPTH_HEADER);
    out.push('\n');
    for (cell, depth, dir) in runs {
        let path = dir.join("grads_epoch.csv");
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        for line in text.lines().skip(1) {
            // epoch,layer,... : keep the recurrent layers' rows.
            if line.split(',').nth(1).is_some_and(|l| !l.is_empty()) {
                out.push_str(&format!("{},{depth},{line}\n", cell.name()));
            }
        }
    }
    let path = study.join("grads_by_depth.csv");
    crate::util::write_atomic(&path, out.as_bytes())?;
    Ok(path)
}

/// A study directory (written by `imdb-rnn grads`: grads_by_depth.csv and one run
/// directory per cell and depth) has its figures redrawn by `imdb-rnn plot`.
pub fn is_study(dir: &Path) -> bool {
    dir.join("grads_by_depth.csv").is_file() && !dir.join("config.json").exists()
}

/// Redraws a study's figures from its finished runs, cells and depths read from their
/// config.json.
pub fn redraw_study(study: &Path) -> Result<Vec<PathBuf>> {
    let mut runs: Vec<(Cell, i64, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(study).with_context(|| format!("cannot read {}", study.display()))?.flatten() {
        let dir = entry.path();
        let run = RunDir::new(&dir);
        let finished = run.read_summary().is_some_and(|s| s.is_finished());
        if let (true, Ok(record)) = (finished, run.read_config()) {
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
fn study_figures(study: &Path, runs: &[(Cell, i64, PathBuf)]) -> Result<Vec<PathBuf>> {
    let mut figures = Vec::new();
    if runs.is_empty() {
        return Ok(figures);
    }
    for (_, _, dir) in runs {
        plots::plot_run(dir)?;
    }
    let points: Vec<plots::DepthPoint> = runs
        .iter()
        .map(|(c, d, dir)| Ok(plots::DepthPoint { cell: c.name().into(), depth: *d, first_layer_norm: plots::read_first_layer_norm(dir)? }))
        .collect::<Result<_>>()?;
    let p = study.join("grad_vs_depth.png");
    plots::grad_vs_depth(&points, &p)?;
    figures.push(p);
    for (from_end, file) in [(false, "grad_time.png"), (true, "grad_time_from_end.png")] {
        let series: Vec<(String, Vec<(i64, f64)>)> =
            runs.iter().map(|(c, d, dir)| Ok((format!("{} depth {d}", c.name()), plots::read_time_profile(dir, None, from_end)?))).collect::<Result<_>>()?;
        let p = study.join(file);
        plots::grad_over_time(&series, &p, from_end)?;
        figures.push(p);
    }
    let p = study.join("learning_curves.png");
    plots::learning_curves_overlay(&runs.iter().map(|(_, _, d)| d.clone()).collect::<Vec<_>>(), &p)?;
    figures.push(p);
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

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
