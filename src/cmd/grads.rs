//! `imdb-rnn grads`: parses the study's options and runs it (`crate::sweep::grads`).
use super::DataCache;
use crate::cli::GradsArgs;
use crate::exit::Exit;
use crate::sweep::grads::{check_cells, parse_depths, run_study, study_figures, study_points, write_grads_by_depth};
pub(crate) use crate::sweep::grads::{is_study, redraw_study};
use crate::sweep::jobs::launch_workers_if_asked;
use crate::sweep::point::refuse_changed_options;
use crate::train::config::run_dir;
use crate::train::signal::StopFlags;
use anyhow::{bail, Result};

pub(crate) fn run(args: &GradsArgs) -> Result<Exit> {
    check_cells(&args.cells)?;
    let cells = args.cells.clone();
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
    let points = study_points(&study, &args.train, &cells, &depths);
    for (_, _, p) in &points {
        refuse_changed_options(p)?;
    }
    let stop = StopFlags::install();
    let jobs = args.jobs.jobs();
    if let Some(code) = launch_workers_if_asked(jobs, args.train.threads, "grads", &stop)? {
        return Ok(code);
    }
    let mut data = DataCache::new(&args.source);
    let outcome = run_study(&points, &mut data, !args.source.quiet, jobs.worker, &stop)?;
    if jobs.worker.is_some() {
        return Ok(if outcome.failed > 0 { Exit::SomeFailed } else { Exit::Success });
    }
    if let Some(code) = outcome.stopped {
        crate::errln!("imdb-rnn: stopped by signal; run the same command again to resume");
        return Ok(code);
    }
    let combined = write_grads_by_depth(&study, &outcome.finished)?;
    let figures = study_figures(&study, &outcome.finished)?;
    if args.output.json {
        let runs: Vec<_> = outcome.finished.iter().map(|(c, d, p)| serde_json::json!({"cell": c.name(), "depth": d, "run": p.display().to_string()})).collect();
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
    Ok(if outcome.failed > 0 { Exit::SomeFailed } else { Exit::Success })
}
