//! The `imdb-rnn` binary: parse arguments, run the command, print errors once.
use clap::{CommandFactory, Parser};
use imdb_rnn::exit::Exit;
use imdb_rnn::{cli, cmd};
use std::process::ExitCode;

/// Runs before every shared library's initialiser, libgomp's and libtorch's included:
/// flushes subnormal floats on the main thread, which threads inherit (`imdb_rnn::cpu`).
#[used]
#[link_section = ".preinit_array"]
static PREINIT: extern "C" fn(i32, *const *const std::ffi::c_char, *const *const std::ffi::c_char) = preinit;

extern "C" fn preinit(_argc: i32, _argv: *const *const std::ffi::c_char, _envp: *const *const std::ffi::c_char) {
    // SAFETY: the loader calls this once, before any other thread exists.
    unsafe { imdb_rnn::cpu::at_process_start() }
}

fn main() -> ExitCode {
    imdb_rnn::util::reopen_closed_stdio();
    // Ask libtorch's CPU allocator for transparent huge pages before it allocates
    // anything: without it 20-27% of a CPU epoch went to page faults (BENCHMARKS.md).
    if std::env::var_os("THP_MEM_ALLOC_ENABLE").is_none() {
        std::env::set_var("THP_MEM_ALLOC_ENABLE", "1");
    }
    let cli = cli::Cli::parse();
    match run(cli) {
        Ok(exit) => exit.into(),
        // The reader went away (`| head`): nothing more to say, nothing failed.
        Err(err) if err.downcast_ref::<imdb_rnn::util::StdoutClosed>().is_some() => Exit::Success.into(),
        Err(err) => {
            // One line, with the whole context chain; a stderr that cannot take it
            // (`2>/dev/full`) changes nothing about the exit status.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "imdb-rnn: {err:#}");
            Exit::Error.into()
        }
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<Exit> {
    use cli::Command::*;
    match cli.command {
        Info(a) => cmd::info::run(&a).map(|()| Exit::Success),
        Fetch(a) => cmd::data::fetch(&a).map(|()| Exit::Success),
        Data(a) => cmd::data::data(&a).map(|()| Exit::Success),
        Train(a) => cmd::train::run(&a),
        Eval(a) => cmd::predict::eval(&a).map(|()| Exit::Success),
        Predict(a) => cmd::predict::predict(&a).map(|()| Exit::Success),
        Export(a) => cmd::export::run(&a).map(|()| Exit::Success),
        Explain(a) => cmd::explain::run(&a).map(|()| Exit::Success),
        Embed(a) => cmd::embed::run(&a).map(|()| Exit::Success),
        Grads(a) => cmd::grads::run(&a),
        Sweep(a) => cmd::sweep::run(&a),
        Course(a) => cmd::course::run(&a),
        Summary(a) => cmd::summary::run(&a).map(|()| Exit::Success),
        Plot(a) => cmd::plot::plot(&a).map(|()| Exit::Success),
        Report(a) => cmd::plot::report(&a).map(|()| Exit::Success),
        Completions(a) => {
            let mut script = Vec::new();
            clap_complete::generate(a.shell, &mut cli::Cli::command(), "imdb-rnn", &mut script);
            imdb_rnn::util::write_stdout(&script).map(|()| Exit::Success)
        }
        Man(a) => cmd::man::run(&a).map(|()| Exit::Success),
    }
}
