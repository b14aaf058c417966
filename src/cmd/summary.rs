//! `imdb-rnn summary`: one row per configuration of the runs under a root (the table
//! itself is built in [`crate::report::summary`]).
use crate::cli::SummaryArgs;
use crate::report::duplicates::distinct_runs;
use crate::report::summary::SummaryFormat;
use crate::report::summary::{find_failed_without_config, find_runs, render, rows, select};
use anyhow::{bail, Result};

pub(crate) fn run(args: &SummaryArgs) -> Result<()> {
    let (runs, same) = distinct_runs(find_runs(&args.root)?);
    for (dir, kept) in &same {
        crate::errln!("imdb-rnn: note: {} has the same configuration as {}; counted once", dir.display(), kept.display());
    }
    let failed = find_failed_without_config(&args.root);
    if runs.is_empty() && failed.is_empty() {
        bail!("no run directories under {} (looked for config.json written by imdb-rnn train)", args.root.display());
    }
    let rows = select(rows(&runs), &args.filters, args.sort.as_deref())?;
    let format = if args.output.json { SummaryFormat::Json } else { args.format };
    crate::util::write_stdout(&render(&rows, &failed, format)?)
}
