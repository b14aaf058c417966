//! Process-wide CPU settings that must hold on every thread libtorch computes on:
//! flushing subnormal floats to zero, and how OpenMP's idle threads wait.
//!
//! Why: while a model sits at chance, its backward pass is full of subnormal floats
//! (vanishing gradients, literally) and x86 cores compute on them many times slower;
//! flushing them made the vanishing-gradient phase 8-10x faster with identical losses
//! (BENCHMARKS.md). And libgomp's spin-waiting turns two processes that each use every
//! core into a crawl (each team spins for a descheduled teammate).
//!
//! Threads inherit the floating-point control register from the thread that creates
//! them, so the binary sets the default mode before libtorch exists (a `.preinit_array`
//! hook in `main.rs` calls [`at_process_start`]); a run that asks for another mode gets it
//! on the calling thread and on each thread of libtorch's OpenMP team ([`set_denormals`]).
//! How idle OpenMP threads wait is libgomp's default (fastest for a training alone);
//! trainings that share the cores get a share of the threads instead.
use serde::{Deserialize, Serialize};

/// What the CPU does with subnormal floats (|x| < 1.2e-38 in f32).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Denormals {
    /// Flush them to zero, inputs and results (x86 MXCSR FTZ+DAZ, aarch64 FPCR.FZ): fast.
    #[default]
    Flush,
    /// IEEE arithmetic: keep them, at many times the cost per operation.
    Keep,
}

impl Denormals {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Denormals::Flush => "flush",
            Denormals::Keep => "keep",
        }
    }
}

/// Runs before any shared library's initialiser (so before libtorch starts a thread):
/// flushes subnormals on the main thread, which every thread created later inherits.
///
/// How idle OpenMP threads wait is left to libgomp (it spins up to 300,000 iterations
/// before sleeping, unless `GOMP_SPINCOUNT` or `OMP_WAIT_POLICY` say otherwise): a
/// training alone runs fastest that way, 1.75-1.8x faster for RNN and GRU than with a
/// short spin on an Intel Xeon (BENCHMARKS.md, "CPU throughput"). Spinning only hurts
/// when more threads than cores compute at once; the project's own parallel launchers
/// avoid that by giving each worker its share of the cores (`sweep::jobs`), and
/// `note_other_trainings` tells a user who starts trainings side by side by hand.
///
/// # Safety
/// Call only from the `.preinit_array` hook.
pub unsafe fn at_process_start() {
    set_this_thread(Denormals::Flush);
}

/// What a run computed with, recorded in its config.json.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct CpuRuntime {
    pub denormals: Denormals,
    /// [`probe_flushes`] after the settings: every libtorch CPU thread flushes (true),
    /// none does (false); absent when the threads disagree.
    pub denormals_flushed: Option<bool>,
    /// libtorch's intra-op threads.
    pub threads: i32,
    /// `OMP_WAIT_POLICY` as libgomp read it at start-up.
    pub omp_wait_policy: Option<String>,
    /// `GOMP_SPINCOUNT` as libgomp read it at start-up.
    #[serde(default)]
    pub gomp_spincount: Option<String>,
}

/// Puts the calling thread and its libtorch thread team in `denormals` mode with
/// `threads` threads (libtorch's default when `None`), checks with [`probe_flushes`], and
/// warns on stderr when the threads do not compute as asked.
pub(crate) fn configure(denormals: Denormals, threads: Option<usize>) -> CpuRuntime {
    match threads {
        Some(n) => tch::set_num_threads(n as i32),
        None => note_other_trainings(),
    }
    set_denormals(denormals);
    let state = CpuRuntime::now(denormals);
    if state.denormals_flushed != Some(denormals == Denormals::Flush) {
        crate::errln!(
            "imdb-rnn: warning: asked to {} subnormal floats, but libtorch's CPU threads {} (this CPU or OpenMP runtime is not supported)",
            denormals.name(),
            match state.denormals_flushed {
                Some(true) => "flush them",
                Some(false) => "keep them",
                None => "disagree",
            }
        );
    }
    state
}

/// Test hook: set, no note about other trainings (the test suite runs many trainings at
/// once, and tests pin what a training prints).
const NO_SHARE_NOTE_ENV: &str = "IMDB_RNN_TEST_NO_SHARE_NOTE";

/// Says once, in one line, when other imdb-rnn trainings run on this machine while this
/// one takes libtorch's default of one thread per core: together they oversubscribe the
/// cores, and OpenMP's spin-waiting makes that several times slower than sharing them.
fn note_other_trainings() {
    static SAID: std::sync::Once = std::sync::Once::new();
    let chosen = ["GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "OMP_NUM_THREADS", NO_SHARE_NOTE_ENV];
    if chosen.iter().any(|v| std::env::var_os(v).is_some()) {
        return;
    }
    let others = other_trainings();
    if others == 0 {
        return;
    }
    SAID.call_once(|| {
        let (cores, share) = (cores(), share_of_cores(others + 1));
        crate::errln!(
            "imdb-rnn: note: {others} other imdb-rnn training(s) run on this machine, each on all {cores} cores; give each --threads {share} (cores / trainings) so they do not slow each other down (README, \"Trainings side by side\")"
        );
    });
}

/// The cores this process may use (its affinity and cgroup quota), at least one.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The CPU threads each of `processes` processes sharing the cores gets, at least one.
pub(crate) fn share_of_cores(processes: usize) -> usize {
    (cores() / processes.max(1)).max(1)
}

/// How many other imdb-rnn processes hold a lock on this machine (a run directory's,
/// taken for as long as it trains): read from /proc/locks, 0 where there is none.
pub(crate) fn other_trainings() -> usize {
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else { return 0 };
    let is_imdb_rnn = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end() == "imdb-rnn");
    flock_holders(&locks, std::process::id()).into_iter().filter(|&pid| is_imdb_rnn(pid)).count()
}

/// The processes other than `me` holding a `flock` lock, from /proc/locks' text
/// (`1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF`; waiters' lines have `->`).
fn flock_holders(locks: &str, me: u32) -> std::collections::BTreeSet<u32> {
    locks
        .lines()
        .filter(|line| !line.contains("->"))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(1) == Some(&"FLOCK")).then(|| fields.get(4)?.parse::<u32>().ok()).flatten()
        })
        .filter(|&pid| pid != me)
        .collect()
}

impl CpuRuntime {
    /// The settings in force on the calling thread, `denormals` being what was asked.
    pub(crate) fn now(denormals: Denormals) -> CpuRuntime {
        CpuRuntime {
            denormals,
            denormals_flushed: probe_flushes(),
            threads: tch::get_num_threads(),
            omp_wait_policy: std::env::var("OMP_WAIT_POLICY").ok(),
            gomp_spincount: std::env::var("GOMP_SPINCOUNT").ok(),
        }
    }
}

/// Sets `mode` on the calling thread and on every thread of its libtorch OpenMP team.
/// Returns how many threads were set (1 when no OpenMP runtime is reachable).
pub(crate) fn set_denormals(mode: Denormals) -> usize {
    set_this_thread(mode);
    match gomp_parallel() {
        Some(parallel) => {
            let threads = tch::get_num_threads().max(1) as u32;
            let done = std::sync::atomic::AtomicUsize::new(0);
            let job = Job { mode, done: &done };
            // SAFETY: `run_job` reads `job` only during the call, which returns after every
            // team member ran it (GOMP_parallel ends with the team's barrier).
            unsafe { parallel(run_job, &job as *const Job as *mut libc::c_void, threads, 0) };
            done.load(std::sync::atomic::Ordering::SeqCst)
        }
        None => 1,
    }
}

/// The mode the calling thread computes in now, read from its control register.
pub(crate) fn current() -> Denormals {
    if flush_bits_set() {
        Denormals::Flush
    } else {
        Denormals::Keep
    }
}

/// Whether libtorch's CPU kernels flush subnormals on every thread they use: multiplies
/// 2^20 floats, enough for libtorch to split the work over its whole OpenMP team, into
/// the subnormal range. `true`: every result is 0; `false`: every result is subnormal;
/// a mix (some threads flushing) is `None`.
pub(crate) fn probe_flushes() -> Option<bool> {
    let _guard = tch::no_grad_guard();
    // 1e-20 * 1e-20 = 1e-40: subnormal in f32.
    let x = tch::Tensor::full([1 << 20], 1e-20, (tch::Kind::Float, tch::Device::Cpu));
    let product = &x * 1e-20;
    let nonzero = product.ne(0.0).sum(tch::Kind::Int64).int64_value(&[]);
    match nonzero {
        0 => Some(true),
        n if n == 1 << 20 => Some(false),
        _ => None,
    }
}

struct Job<'a> {
    mode: Denormals,
    done: &'a std::sync::atomic::AtomicUsize,
}

extern "C" fn run_job(data: *mut libc::c_void) {
    // SAFETY: `data` is the `Job` that `set_denormals` keeps alive across the call.
    let job = unsafe { &*(data as *const Job) };
    set_this_thread(job.mode);
    job.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

type GompParallel = unsafe extern "C" fn(extern "C" fn(*mut libc::c_void), *mut libc::c_void, u32, u32);

/// libgomp's `GOMP_parallel` (what `#pragma omp parallel` compiles to), found in the
/// process: libtorch's wheel ships libgomp under a hashed name, so it cannot be linked
/// by name, but it is loaded with libtorch and exports the symbol.
fn gomp_parallel() -> Option<GompParallel> {
    // SAFETY: dlsym with a NUL-terminated name; the symbol, when present, has this type.
    let sym = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"GOMP_parallel".as_ptr()) };
    (!sym.is_null()).then(|| unsafe { std::mem::transmute::<*mut libc::c_void, GompParallel>(sym) })
}

#[cfg(target_arch = "x86_64")]
mod reg {
    /// MXCSR bits: FTZ (flush results to zero) and DAZ (read subnormal inputs as zero).
    pub(super) const FLUSH: u32 = (1 << 15) | (1 << 6);

    pub(super) fn get() -> u32 {
        let mut v: u32 = 0;
        // SAFETY: stmxcsr stores the 32-bit MXCSR to the given address.
        unsafe { core::arch::asm!("stmxcsr [{}]", in(reg) &mut v, options(nostack)) };
        v
    }

    pub(super) fn set(v: u32) {
        // SAFETY: ldmxcsr loads MXCSR; only the FTZ/DAZ bits are changed by callers.
        unsafe { core::arch::asm!("ldmxcsr [{}]", in(reg) &v, options(nostack)) };
    }
}

#[cfg(target_arch = "aarch64")]
mod reg {
    /// FPCR.FZ: flush subnormal inputs and results to zero.
    pub(super) const FLUSH: u64 = 1 << 24;

    pub(super) fn get() -> u64 {
        let v: u64;
        // SAFETY: reading FPCR has no side effect.
        unsafe { core::arch::asm!("mrs {}, fpcr", out(reg) v, options(nomem, nostack)) };
        v
    }

    pub(super) fn set(v: u64) {
        // SAFETY: writing FPCR; callers change only the FZ bit.
        unsafe { core::arch::asm!("msr fpcr, {}", in(reg) v, options(nomem, nostack)) };
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn set_this_thread(mode: Denormals) {
    let v = reg::get();
    reg::set(match mode {
        Denormals::Flush => v | reg::FLUSH,
        Denormals::Keep => v & !reg::FLUSH,
    });
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn flush_bits_set() -> bool {
    reg::get() & reg::FLUSH == reg::FLUSH
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn set_this_thread(_mode: Denormals) {}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn flush_bits_set() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_holders_are_read_from_proc_locks_without_waiters_or_this_process() {
        let locks = "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF\n\
                     1: -> FLOCK  ADVISORY  WRITE 5151 08:01:1234 0 EOF\n\
                     2: POSIX  ADVISORY  WRITE 6161 08:01:99 0 EOF\n\
                     3: FLOCK  ADVISORY  WRITE 77 08:01:555 0 EOF\n\
                     4: FLOCK  ADVISORY  WRITE 4242 08:01:556 0 EOF\n";
        assert_eq!(flock_holders(locks, 77).into_iter().collect::<Vec<_>>(), [4242]);
        assert!(flock_holders("", 1).is_empty());
    }

    #[test]
    fn a_mode_set_reaches_every_thread_of_the_libtorch_team() {
        // Two threads, so a mode set on the calling thread alone shows as a mix.
        tch::set_num_threads(2);
        set_denormals(Denormals::Keep);
        assert_eq!(probe_flushes(), Some(false));
        assert_eq!(current(), Denormals::Keep);
        set_denormals(Denormals::Flush);
        assert_eq!(probe_flushes(), Some(true));
        assert_eq!(current(), Denormals::Flush);
    }
}
