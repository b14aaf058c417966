//! `imdb-rnn sweep`: parses the grid (inline or from a sweep file) and the shard, and runs
//! the points with the sweep machinery (`crate::sweep`).
use super::DataCache;
use crate::cli::SweepArgs;
use crate::exit::Exit;
use crate::sweep::grid::{expand, parse_grid, parse_shard, point_name, read_sweep_file, take_shard};
use crate::sweep::identity::{distinct_points, SameAs};
use crate::sweep::jobs::launch_workers_if_asked;
use crate::sweep::point::refuse_changed_options;
use crate::sweep::{run_all, Point, RunAll};
use crate::train::config::TrainArgs;
use crate::train::signal::StopFlags;
use anyhow::Result;

pub(crate) fn run(args: &SweepArgs) -> Result<Exit> {
    let root = crate::train::config::run_dir(&args.runs_dir, &args.name)?;
    let (mut base, mut grid) = match &args.config {
        Some(path) => read_sweep_file(path)?,
        None => (TrainArgs::default(), Vec::new()),
    };
    args.train.check_finite()?;
    base = base.overlay(&args.train);
    if let Some(g) = &args.grid {
        for (k, v) in parse_grid(g)? {
            grid.retain(|(gk, _)| *gk != k);
            grid.push((k, v));
        }
    }
    let shard = match &args.shard {
        Some(s) => parse_shard(s)?,
        None => (0, 1),
    };
    // Check every point's keys and values before running anything.
    let mut points = Vec::new();
    for point in expand(&grid) {
        let mut a = base.clone();
        for (k, v) in &point {
            a.set(k, v)?;
        }
        let name = point_name(&point);
        points.push(Point::new(name.clone(), root.join(&name), a));
    }
    let (points, same) = distinct_points(&root, points);
    let planned = take_shard(points, shard);
    for p in &planned {
        refuse_changed_options(p)?;
    }
    // Each invocation of a sharded sweep sees the same duplicates; the first says so.
    let same = if shard.0 == 0 { same } else { Vec::new() };
    if args.dry_run {
        for p in &planned {
            crate::outln!("{}", p.dir.display());
        }
        print_same(&same, false)?;
        return Ok(Exit::Success);
    }
    print_same(&same, args.output.json)?;
    let stop = StopFlags::install();
    let jobs = args.jobs.jobs();
    if let Some(code) = launch_workers_if_asked(jobs, args.train.threads, "sweep", &stop)? {
        return Ok(code);
    }
    let mut data = DataCache::new(&args.source);
    let opts = RunAll { label: "sweep", progress: !args.source.quiet, retry_failed: args.retry_failed, worker: jobs.worker };
    let tally = run_all(&planned, &mut data, &opts, &stop, |p, status| {
        let word = status.describe();
        if args.output.json {
            crate::outln!("{}", serde_json::json!({"run": p.dir.display().to_string(), "status": word}));
        } else {
            crate::outln!("{}\t{word}", p.dir.display());
        }
        Ok(())
    })?;
    if let Some(code) = tally.stopped {
        crate::sweep::say_stopped("sweep");
        return Ok(code);
    }
    Ok(if tally.failed > 0 { Exit::SomeFailed } else { Exit::Success })
}

/// The points not trained because another run holds their configuration, listed as the
/// trained ones are.
fn print_same(same: &[SameAs], json: bool) -> Result<()> {
    for s in same {
        let word = format!("same configuration as {}", s.run.display());
        if json {
            crate::outln!("{}", serde_json::json!({"run": s.point.dir.display().to_string(), "status": word}));
        } else {
            crate::outln!("{}\t{word}", s.point.dir.display());
        }
    }
    Ok(())
}
