//! The commands, one module each: each parses its options and calls the work below `cmd/`.
pub(crate) mod course;
pub(crate) mod data;
pub(crate) mod embed;
pub(crate) mod explain;
pub(crate) mod export;
pub(crate) mod grads;
pub(crate) mod info;
pub(crate) mod man;
pub(crate) mod plot;
pub(crate) mod predict;
pub(crate) mod summary;
pub(crate) mod sweep;
pub(crate) mod train;

pub(crate) use crate::data::source::{fetch_options, glove_path, load_data, DataCache};

use crate::cli::{Cli, Command};
use crate::exit::Exit;
use clap::CommandFactory;

/// Runs the command `cli` names; the exit status it ends with, or the error that stopped it.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    use Command::*;
    match cli.command {
        Info(a) => info::run(&a).map(|()| Exit::Success),
        Fetch(a) => data::fetch(&a).map(|()| Exit::Success),
        Data(a) => data::data(&a).map(|()| Exit::Success),
        Train(a) => train::run(&a),
        Eval(a) => predict::eval(&a).map(|()| Exit::Success),
        Predict(a) => predict::predict(&a).map(|()| Exit::Success),
        Export(a) => export::run(&a).map(|()| Exit::Success),
        Explain(a) => explain::run(&a).map(|()| Exit::Success),
        Embed(a) => embed::run(&a).map(|()| Exit::Success),
        Grads(a) => grads::run(&a),
        Sweep(a) => sweep::run(&a),
        Course(a) => course::run(&a),
        Summary(a) => summary::run(&a).map(|()| Exit::Success),
        Plot(a) => plot::plot(&a).map(|()| Exit::Success),
        Report(a) => plot::report(&a).map(|()| Exit::Success),
        Completions(a) => {
            let mut script = Vec::new();
            clap_complete::generate(a.shell, &mut Cli::command(), "imdb-rnn", &mut script);
            crate::util::write_stdout(&script).map(|()| Exit::Success)
        }
        Man(a) => man::run(&a).map(|()| Exit::Success),
    }
}
