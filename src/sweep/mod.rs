//! Many trainings as one job: a sweep's grid ([`grid`]), its points run resumably on data
//! prepared once ([`point`]) by one process or several at once ([`jobs`]) and identified by their configuration ([`identity`]), and the vanishing-gradient study by cell and depth
//! ([`grads`]). `imdb-rnn sweep`, `grads` and `course` call these.
pub mod grads;
pub mod grid;
pub mod identity;
pub mod jobs;
pub mod point;

pub use point::{run_all, run_point, Point, PointStatus, RunAll, Tally};

/// The message a sweep, study or course prints when a signal stopped it.
pub fn say_stopped(what: &str) {
    crate::errln!("imdb-rnn: {what} stopped by signal; run the same command again to resume");
}
