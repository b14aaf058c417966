//! SIGINT / SIGTERM: the first asks the training loop to stop after the current batch
//! (it then checkpoints and exits 130 / 143); a second one exits at once.
//!
//! The handlers never run on a thread that computes: a handler's frame is pushed onto
//! the interrupted thread's stack, and one landing inside oneDNN's LSTM kernels
//! corrupted the heap ("double free or corruption", exit 134; issue 12). So the signals
//! are blocked in the installing thread, which every libtorch worker thread inherits,
//! and left open only on one idle thread that exists to receive them.
use crate::exit::Exit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Clone)]
pub(crate) struct StopFlags {
    int: Arc<AtomicBool>,
    term: Arc<AtomicBool>,
}

/// Which signal asked us to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    Interrupt,
    Terminate,
}

impl Stop {
    /// The exit status of a run stopped by this signal.
    pub(crate) fn exit(self) -> Exit {
        match self {
            Stop::Interrupt => Exit::Interrupted,
            Stop::Terminate => Exit::Terminated,
        }
    }
}

/// Test hook: a signal (by number) that gets a handler doing nothing, routed like
/// SIGINT / SIGTERM, so a test can deliver thousands of signals to a training run.
const NOOP_SIGNAL_ENV: &str = "IMDB_RNN_TEST_NOOP_SIGNAL";

impl StopFlags {
    /// Installs the handlers (once per process is enough; later calls share them).
    /// Call it before libtorch starts its worker threads (before any tensor work), so
    /// they inherit the blocked signals.
    pub(crate) fn install() -> StopFlags {
        static FLAGS: std::sync::OnceLock<StopFlags> = std::sync::OnceLock::new();
        FLAGS
            .get_or_init(|| {
                let flags = StopFlags { int: Arc::default(), term: Arc::default() };
                use signal_hook::consts::{SIGINT, SIGTERM};
                // Order matters: the conditional shutdown must see the flag set by the
                // first signal, so it is registered before the flag itself.
                for (sig, flag, stop) in [(SIGINT, &flags.int, Stop::Interrupt), (SIGTERM, &flags.term, Stop::Terminate)] {
                    let _ = signal_hook::flag::register_conditional_shutdown(sig, stop.exit().code().into(), flag.clone());
                    let _ = signal_hook::flag::register(sig, flag.clone());
                }
                let mut routed = vec![SIGINT, SIGTERM];
                if let Some(sig) = std::env::var(NOOP_SIGNAL_ENV).ok().and_then(|s| s.parse().ok()) {
                    let _ = signal_hook::flag::register(sig, Arc::new(AtomicBool::new(false)));
                    routed.push(sig);
                }
                route_to_a_receiver_thread(&routed);
                flags
            })
            .clone()
    }

    pub(crate) fn requested(&self) -> Option<Stop> {
        if self.term.load(Ordering::Relaxed) {
            Some(Stop::Terminate)
        } else if self.int.load(Ordering::Relaxed) {
            Some(Stop::Interrupt)
        } else {
            None
        }
    }
}

/// Starts a thread that only waits (the kernel delivers `signals` to it, the one
/// thread not blocking them), then blocks `signals` in the calling thread and so in
/// every thread it starts from now on (libtorch's OpenMP and oneDNN workers).
fn route_to_a_receiver_thread(signals: &[libc::c_int]) {
    let spawned = std::thread::Builder::new().name("imdb-rnn-signals".into()).spawn(|| loop {
        std::thread::park();
    });
    if spawned.is_err() {
        // No receiver: leave the signals open here rather than lose Ctrl-C.
        return;
    }
    // SAFETY: a zeroed sigset_t is valid storage for sigemptyset, and the set
    // outlives the calls that read it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &sig in signals {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}
