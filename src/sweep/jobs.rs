//! `--jobs N`: a list of points trained by N worker processes at once, each on its share
//! of the cores, so that workers never oversubscribe them.
//!
//! Each worker is this same command line run again with `--job-worker I` (and
//! `--threads cores/N` unless the user chose the threads): it walks the whole list,
//! training the points nobody else holds (a run directory's lock keeps two workers off
//! one point, the sweep's rule), so the points are handed out as workers free up. Once
//! every worker has exited, the launching process goes on as without `--jobs`: it finds
//! the points finished and writes what the command writes (a report, a study's CSV).
//! Processes, not threads: libtorch's thread count and each worker's signals stay its own.
use crate::exit::Exit;
use crate::train::signal::StopFlags;
use anyhow::{Context, Result};
use std::process::{Child, Command, Stdio};

/// The hidden flag a worker process is started with (its value: the worker's index).
pub(crate) const WORKER_FLAG: &str = "--job-worker";

/// How a command's points are spread over processes: `--jobs`, and whether this process
/// is one of the workers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Jobs {
    /// Worker processes to start (1: train in this process).
    pub workers: usize,
    /// Set in a worker process: its index among the workers.
    pub worker: Option<usize>,
}

impl Jobs {
    /// `--jobs` as given (`0` is refused by clap's range) and `--job-worker`.
    pub(crate) fn new(jobs: usize, worker: Option<usize>) -> Jobs {
        Jobs { workers: jobs.max(1), worker }
    }

    /// Whether this process should start workers rather than train itself.
    pub(crate) fn launches(&self) -> bool {
        self.worker.is_none() && self.workers > 1
    }
}

/// What the workers came to.
#[derive(Debug, Default)]
pub(crate) struct WorkersOutcome {
    /// Set when a signal stopped a worker (or this process): the exit status to return.
    pub stopped: Option<Exit>,
    /// Workers that exited with an error (a status other than success or "some failed").
    pub errors: Vec<(usize, i32)>,
}

/// Starts `jobs.workers` copies of this process's command line as workers and waits for
/// all of them; a stop signal received here is passed on to them (a terminal's Ctrl-C
/// reaches them directly).
pub(crate) fn run_workers(jobs: Jobs, user_threads: Option<usize>, stop: &StopFlags) -> Result<WorkersOutcome> {
    let threads = user_threads.unwrap_or_else(|| crate::cpu::share_of_cores(jobs.workers));
    crate::errln!("imdb-rnn: {} worker processes, {threads} CPU thread(s) each", jobs.workers);
    let mut children = Vec::new();
    for i in 0..jobs.workers {
        children.push(spawn_worker(i, user_threads.is_none().then_some(threads))?);
    }
    wait_all(children, stop)
}

/// This process's command line again, as worker `index`.
fn spawn_worker(index: usize, threads: Option<usize>) -> Result<Child> {
    let exe = std::env::current_exe().context("cannot find this program to start its workers")?;
    let mut cmd = Command::new(exe);
    cmd.args(std::env::args_os().skip(1)).arg(WORKER_FLAG).arg(index.to_string());
    if let Some(n) = threads {
        cmd.arg("--threads").arg(n.to_string());
    }
    cmd.stdin(Stdio::null()).spawn().with_context(|| format!("cannot start job worker {index}"))
}

/// Waits for every worker, forwarding a stop signal once.
fn wait_all(mut children: Vec<Child>, stop: &StopFlags) -> Result<WorkersOutcome> {
    let mut outcome = WorkersOutcome::default();
    let mut statuses: Vec<Option<std::process::ExitStatus>> = vec![None; children.len()];
    let mut forwarded = false;
    while statuses.iter().any(Option::is_none) {
        for (i, child) in children.iter_mut().enumerate() {
            if statuses[i].is_none() {
                statuses[i] = child.try_wait().with_context(|| format!("cannot wait for job worker {i}"))?;
            }
        }
        if let (Some(signal), false) = (stop.requested(), forwarded) {
            forwarded = true;
            let sig = if signal.exit() == Exit::Interrupted { libc::SIGINT } else { libc::SIGTERM };
            for (i, child) in children.iter().enumerate() {
                if statuses[i].is_none() {
                    // SAFETY: kill(2) on the pid of a child not yet reaped.
                    unsafe { libc::kill(child.id() as libc::pid_t, sig) };
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for (i, status) in statuses.into_iter().enumerate() {
        let code = status.and_then(|s| s.code()).unwrap_or(1);
        match code {
            0 | 4 => {}
            130 => outcome.stopped = Some(Exit::Interrupted),
            143 => outcome.stopped = outcome.stopped.or(Some(Exit::Terminated)),
            _ => outcome.errors.push((i, code)),
        }
    }
    if let Some(signal) = stop.requested() {
        outcome.stopped = Some(signal.exit());
    }
    Ok(outcome)
}

/// What a command that trains many runs does first: with `--jobs N` (and not itself a
/// worker), starts the workers and waits for them. `Some(exit)`: a signal stopped them,
/// end with it; `None`: go on (every run the workers could train is finished).
pub(crate) fn launch_workers_if_asked(jobs: Jobs, user_threads: Option<usize>, label: &str, stop: &StopFlags) -> Result<Option<Exit>> {
    if !jobs.launches() {
        return Ok(None);
    }
    let outcome = run_workers(jobs, user_threads, stop)?;
    if let Some(code) = outcome.stopped {
        super::say_stopped(label);
        return Ok(Some(code));
    }
    if !outcome.errors.is_empty() {
        return Err(workers_failed(&outcome.errors));
    }
    Ok(None)
}

/// The error for workers that failed: their own messages are above it on stderr.
pub(crate) fn workers_failed(errors: &[(usize, i32)]) -> anyhow::Error {
    let list: Vec<String> = errors.iter().map(|(i, code)| format!("worker {i} exited with status {code}")).collect();
    anyhow::anyhow!("{}; its message is above; fix it and run the same command again (finished runs are kept)", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_never_launches_workers_of_its_own() {
        assert!(Jobs::new(2, None).launches());
        assert!(!Jobs::new(2, Some(0)).launches());
        assert!(!Jobs::new(1, None).launches());
    }

    #[test]
    fn each_worker_gets_its_share_of_the_cores_and_at_least_one() {
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(crate::cpu::share_of_cores(1), cores);
        assert_eq!(crate::cpu::share_of_cores(cores), 1);
        assert_eq!(crate::cpu::share_of_cores(cores * 4), 1);
    }
}
