//! `imdb-rnn course`: the flags checked and turned into a [`CourseRequest`] (sections,
//! seeds, shard, course directory) before the course plans or trains anything.
use crate::cli::CourseArgs;
use crate::course::{plan, sections, CourseRequest};
use crate::exit::Exit;
use crate::sweep::grid::parse_shard;
use crate::train::config::run_dir;
use anyhow::{bail, Result};

pub(crate) fn run(args: &CourseArgs) -> Result<Exit> {
    crate::course::run(&request(args)?)
}

fn request(args: &CourseArgs) -> Result<CourseRequest> {
    let sections = sections::parse_only(args.only.as_deref())?;
    args.train.check_finite()?;
    plan::refuse_varied(&args.train)?;
    let seeds = args.seeds.unwrap_or(args.scale.default_seeds());
    if seeds == 0 {
        bail!("--seeds 0: give at least 1 (seeds 0..N-1 are run)");
    }
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let name = args.name.clone().unwrap_or_else(|| format!("course-{}", args.scale.name()));
    Ok(CourseRequest {
        scale: args.scale,
        seeds,
        sections,
        out: args.out.clone(),
        train: args.train.clone(),
        shard,
        retry_failed: args.retry_failed,
        jobs: args.jobs.jobs(),
        root: run_dir(&args.runs_dir, &name)?,
        source: args.source.clone(),
    })
}
