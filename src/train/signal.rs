//! SIGINT / SIGTERM: the first asks the training loop to stop after the current batch
//! (it then checkpoints and exits 130 / 143); a second one exits at once.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Clone)]
pub struct StopFlags {
    int: Arc<AtomicBool>,
    term: Arc<AtomicBool>,
}

/// Which signal asked us to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Interrupt,
    Terminate,
}

impl Stop {
    pub fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => 130,
            Stop::Terminate => 143,
        }
    }
}

impl StopFlags {
    /// Installs the handlers (once per process is enough; later calls share them).
    pub fn install() -> StopFlags {
        static FLAGS: std::sync::OnceLock<StopFlags> = std::sync::OnceLock::new();
        FLAGS
            .get_or_init(|| {
                let flags = StopFlags { int: Arc::default(), term: Arc::default() };
                use signal_hook::consts::{SIGINT, SIGTERM};
                // Order matters: the conditional shutdown must see the flag set by the
                // first signal, so it is registered before the flag itself.
                for (sig, flag, code) in [(SIGINT, &flags.int, 130), (SIGTERM, &flags.term, 143)] {
                    let _ = signal_hook::flag::register_conditional_shutdown(sig, code, flag.clone());
                    let _ = signal_hook::flag::register(sig, flag.clone());
                }
                flags
            })
            .clone()
    }

    /// A set of flags no signal reaches (tests, library use).
    pub fn never() -> StopFlags {
        StopFlags { int: Arc::default(), term: Arc::default() }
    }

    pub fn requested(&self) -> Option<Stop> {
        if self.term.load(Ordering::Relaxed) {
            Some(Stop::Terminate)
        } else if self.int.load(Ordering::Relaxed) {
            Some(Stop::Interrupt)
        } else {
            None
        }
    }
}
