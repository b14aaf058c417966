//! `imdb-rnn plot` (PNG figures of runs, or a gradient study's figures) and `imdb-rnn
//! report` (the HTML report, written by [`crate::report::html`]).
use crate::cli::{PlotArgs, ReportArgs};
use crate::destination::check_output_file;
use crate::report::{html, plots};
use anyhow::Result;
use std::path::{Path, PathBuf};

pub(crate) fn plot(args: &PlotArgs) -> Result<()> {
    if args.runs.len() > 1 {
        check_output_file("--overlay", &args.overlay)?;
    }
    let mut written = Vec::new();
    for dir in &args.runs {
        let figures = if super::grads::is_study(dir) { super::grads::redraw_study(dir)? } else { plots::plot_run(dir)? };
        print_unless_json(&figures, args.output.json)?;
        written.extend(figures);
    }
    if args.runs.len() > 1 {
        plots::learning_curves_overlay(&args.runs, &args.overlay)?;
        print_unless_json(std::slice::from_ref(&args.overlay), args.output.json)?;
        written.push(args.overlay.clone());
    }
    if args.output.json {
        crate::outln!("{}", serde_json::to_string_pretty(&serde_json::json!({ "figures": display_all(&written) }))?);
    }
    Ok(())
}

pub(crate) fn report(args: &ReportArgs) -> Result<()> {
    check_output_file("--out", &args.out)?;
    let figures = html::write_report(&args.root, &args.out)?;
    if args.output.json {
        let written = serde_json::json!({ "report": args.out.display().to_string(), "figures": display_all(&figures) });
        crate::outln!("{}", serde_json::to_string_pretty(&written)?);
    } else {
        crate::outln!("{}", args.out.display());
    }
    Ok(())
}

/// One path a line, as the text output lists what was written (as soon as it is).
fn print_unless_json(paths: &[PathBuf], json: bool) -> Result<()> {
    if !json {
        for p in paths {
            crate::outln!("{}", p.display());
        }
    }
    Ok(())
}

fn display_all(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| Path::display(p).to_string()).collect()
}
