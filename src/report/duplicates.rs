//! Run directories that hold one configuration twice (a sweep point spelt two ways, say
//! `emb=random` given or left to its default): tables count it once.
use super::summary::FoundRun;
use std::path::PathBuf;

/// `runs` with each configuration once (the first finished run of it, else the first),
/// and each left-out directory with the one kept in its place.
pub(crate) fn distinct_runs(runs: Vec<FoundRun>) -> (Vec<FoundRun>, Vec<(PathBuf, PathBuf)>) {
    let finished = |r: &FoundRun| r.summary.as_ref().is_some_and(|s| s.is_finished());
    let (mut kept, mut left_out): (Vec<FoundRun>, Vec<(PathBuf, PathBuf)>) = (Vec::new(), Vec::new());
    // Finished runs first, so a finished run is the one kept; then back to path order.
    let (done, rest): (Vec<FoundRun>, Vec<FoundRun>) = runs.into_iter().partition(finished);
    for run in done.into_iter().chain(rest) {
        match kept.iter().find(|k| k.record.config == run.record.config) {
            Some(k) => left_out.push((run.dir, k.dir.clone())),
            None => kept.push(run),
        }
    }
    kept.sort_by(|a, b| a.dir.cmp(&b.dir));
    left_out.sort();
    (kept, left_out)
}
