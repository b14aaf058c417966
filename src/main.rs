//! The `imdb-rnn` binary: parse arguments, run the command, print errors once.
use imdb_rnn::{cli, cmd};
use clap::{CommandFactory, Parser};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Ask libtorch's CPU allocator for transparent huge pages before it allocates
    // anything: without it 20-27% of a CPU epoch went to page faults (BENCHMARKS.md).
    if std::env::var_os("THP_MEM_ALLOC_ENABLE").is_none() {
        std::env::set_var("THP_MEM_ALLOC_ENABLE", "1");
    }
    let cli = cli::Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`| head`): nothing more to say, nothing failed.
        Err(err) if err.downcast_ref::<imdb_rnn::util::StdoutClosed>().is_some() => ExitCode::SUCCESS,
        Err(err) => {
            // One line, with the whole context chain.
            eprintln!("imdb-rnn: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<u8> {
    use cli::Command::*;
    match cli.command {
        Info(a) => cmd::info::run(&a).map(|_| 0),
        Fetch(a) => cmd::data::fetch(&a).map(|_| 0),
        Data(a) => cmd::data::data(&a).map(|_| 0),
        Train(a) => cmd::train::run(&a),
        Eval(a) => cmd::predict::eval(&a).map(|_| 0),
        Predict(a) => cmd::predict::predict(&a).map(|_| 0),
        Grads(a) => cmd::grads::run(&a),
        Sweep(a) => cmd::sweep::run(&a),
        Summary(a) => cmd::summary::run(&a).map(|_| 0),
        Plot(a) => cmd::plot::plot(&a).map(|_| 0),
        Report(a) => cmd::plot::report(&a).map(|_| 0),
        Completions(a) => {
            let mut script = Vec::new();
            clap_complete::generate(a.shell, &mut cli::Cli::command(), "imdb-rnn", &mut script);
            imdb_rnn::util::write_stdout(&script).map(|_| 0)
        }
        Man(a) => cmd::man::run(&a).map(|_| 0),
    }
}
