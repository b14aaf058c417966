//! A sweep point is its resolved configuration, not the grid text that named it:
//! `cell=lstm,layers=2` and `cell=lstm,emb=random,layers=2` are one model (random is the
//! default embedding), trained once; the second spelling reuses the first's run.
use super::point::Point;
use crate::train::config::{first_difference, TrainArgs, TrainConfig};
use crate::train::run::RunDir;
use std::path::{Path, PathBuf};

/// What two records of one configuration may differ in: the embedding rows come from
/// the data, a GloVe file sets the embedding size when `--emb-dim` is not given, and the
/// threads say how fast, not what, a run computes (`--jobs` workers get a share).
pub(crate) fn data_shaped_fields(args: &TrainArgs, now: &TrainConfig) -> Vec<&'static str> {
    let mut ignore = vec!["model.vocab_size", "threads"];
    if now.model.embedding.uses_glove() && args.emb_dim.is_none() {
        ignore.push("model.recurrent.input_size");
    }
    ignore
}

/// A point whose configuration another run holds: its directory is never trained.
#[derive(Debug, Clone)]
pub(crate) struct SameAs {
    pub point: Point,
    /// The run directory (a finished run in the sweep, or an earlier point) it reuses.
    pub run: PathBuf,
}

/// Splits `points` into those to run and those whose configuration is already another
/// point's (earlier in the list) or a finished run's under `root` in another directory.
/// A point with options that do not resolve is kept: it fails on its own, with its reason.
pub(crate) fn distinct_points(root: &Path, points: Vec<Point>) -> (Vec<Point>, Vec<SameAs>) {
    let finished: Vec<(PathBuf, TrainConfig)> = RunDir::discover(root)
        .into_iter()
        .filter(|run| run.read_summary().is_some_and(|s| s.is_finished()))
        .filter_map(|run| Some((run.dir.clone(), run.read_config().ok()?.config)))
        .collect();
    let mut kept: Vec<(Point, Option<TrainConfig>)> = Vec::new();
    let mut same = Vec::new();
    for point in points {
        let Ok(now) = point.checked.clone() else {
            kept.push((point, None));
            continue;
        };
        let ignore = data_shaped_fields(&point.args, &now);
        let equal = |other: &TrainConfig| first_difference(other, &now, &ignore).is_none();
        let earlier = kept.iter().find(|(_, c)| c.as_ref().is_some_and(equal)).map(|(p, _)| p.dir.clone());
        let existing = || finished.iter().find(|(dir, c)| *dir != point.dir && equal(c)).map(|(dir, _)| dir.clone());
        match earlier.or_else(existing) {
            Some(run) if !RunDir::new(&point.dir).is_run() => same.push(SameAs { point, run }),
            _ => kept.push((point, Some(now))),
        }
    }
    (kept.into_iter().map(|(p, _)| p).collect(), same)
}
