//! `imdb-rnn plot` (PNG figures of runs, or a gradient study's figures) and `imdb-rnn
//! report` (the HTML report, written by [`crate::report::html`]).
use crate::cli::{PlotArgs, ReportArgs};
use crate::report::{html, plots};
use anyhow::Result;

pub fn plot(args: &PlotArgs) -> Result<()> {
    for dir in &args.runs {
        let figures = if super::grads::is_study(dir) { super::grads::redraw_study(dir)? } else { plots::plot_run(dir)? };
        for p in figures {
            crate::outln!("{}", p.display());
        }
    }
    if args.runs.len() > 1 {
        plots::learning_curves_overlay(&args.runs, &args.overlay)?;
        crate::outln!("{}", args.overlay.display());
    }
    Ok(())
}

pub fn report(args: &ReportArgs) -> Result<()> {
    html::write_report(&args.root, &args.out)?;
    crate::outln!("{}", args.out.display());
    Ok(())
}
