//! Many trainings as one job: a sweep's grid ([`grid`]), its points run resumably on data
//! prepared once ([`point`]) by one process or several at once ([`jobs`]) and identified by their configuration ([`identity`]), and the vanishing-gradient study by cell and depth
//! ([`grads`]). `imdb-rnn sweep`, `grads` and `course` call these.
pub(crate) mod grads;
pub(crate) mod grid;
pub(crate) mod identity;
pub(crate) mod jobs;
pub(crate) mod point;

pub(crate) use point::{run_all, Point, RunAll, Tally};

/// The message a sweep, study or course prints when a signal stopped it.
pub(crate) fn say_stopped(what: &str) {
    crate::errln!("imdb-rnn: {what} stopped by signal; run the same command again to resume");
}
