//! The `imdb-rnn` binary: parse arguments, run the command, print errors once.
use clap::Parser;
use imdb_rnn::{Cli, Exit, StdoutClosed};
use std::process::ExitCode;

/// Runs before every shared library's initialiser, libgomp's and libtorch's included:
/// flushes subnormal floats on the main thread, which threads inherit (`cpu::at_process_start`).
#[used]
#[link_section = ".preinit_array"]
static PREINIT: extern "C" fn(i32, *const *const std::ffi::c_char, *const *const std::ffi::c_char) = preinit;

extern "C" fn preinit(_argc: i32, _argv: *const *const std::ffi::c_char, _envp: *const *const std::ffi::c_char) {
    // SAFETY: the loader calls this once, before any other thread exists.
    unsafe { imdb_rnn::at_process_start() }
}

fn main() -> ExitCode {
    imdb_rnn::reopen_closed_stdio();
    // Ask libtorch's CPU allocator for transparent huge pages before it allocates
    // anything: without it 20-27% of a CPU epoch went to page faults (BENCHMARKS.md).
    if std::env::var_os("THP_MEM_ALLOC_ENABLE").is_none() {
        std::env::set_var("THP_MEM_ALLOC_ENABLE", "1");
    }
    match imdb_rnn::run(Cli::parse()) {
        Ok(exit) => exit.into(),
        // The reader went away (`| head`): nothing more to say, nothing failed.
        Err(err) if err.downcast_ref::<StdoutClosed>().is_some() => Exit::Success.into(),
        Err(err) => {
            // One line, with the whole context chain; a stderr that cannot take it
            // (`2>/dev/full`) changes nothing about the exit status.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "imdb-rnn: {err:#}");
            Exit::Error.into()
        }
    }
}
