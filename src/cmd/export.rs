//! `imdb-rnn export`: a run's weights for PyTorch (the work is in [`crate::infer::export`]).
use crate::cli::ExportArgs;
use crate::destination::check_output_file;
use crate::infer::export::{export, ExportFiles};
use crate::infer::load_run;
use anyhow::Result;

pub(crate) fn run(args: &ExportArgs) -> Result<()> {
    let files = ExportFiles::beside(&args.out);
    for path in files.all() {
        check_output_file("--out", path)?;
    }
    let run = load_run(&args.run, "cpu", args.best)?;
    export(&run, &args.run, &files)?;
    let [weights, vocab, config] = files.all().map(|p| p.display().to_string());
    crate::outln!("{weights}: {} parameters of {} ({}); {vocab}, {config} beside it", run.model.parameter_count(), args.run.display(), run.weights);
    Ok(())
}
