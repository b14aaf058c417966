//! `imdb-rnn train`: resolve the configuration, check the run's name and directory, and
//! run it through `train::launch`; report how it ended.
use crate::cli::TrainCmdArgs;
use crate::exit::Exit;
use crate::train::config::{self, TrainArgs, TrainConfig};
use crate::train::launch;
use crate::train::run::RunDir;
use crate::train::signal::StopFlags;
use crate::train::{Outcome, RunOptions};
use anyhow::{bail, Result};
use std::path::Path;

/// Merges `--config` and flags, then validates.
pub(crate) fn resolve_args(args: &TrainCmdArgs) -> Result<TrainArgs> {
    let base = match &args.config {
        Some(p) => TrainArgs::from_toml_file(p)?,
        None => TrainArgs::default(),
    };
    args.train.check_finite()?;
    Ok(base.overlay(&args.train))
}

pub(crate) fn run(args: &TrainCmdArgs) -> Result<Exit> {
    let targs = resolve_args(args)?;
    // Everything that needs no data is checked before any work; the GloVe file, found
    // next, only sets the embedding size.
    let checked = TrainConfig::resolve(&targs, None)?;
    if let Some(name) = &args.name {
        config::run_dir(&args.runs_dir, name)?;
    }
    let mut data = super::DataCache::new(&args.source);
    let cfg = launch::fit_to_glove(checked, targs.emb_dim, &mut data)?;
    let name = args.name.clone().unwrap_or_else(|| cfg.default_name());
    let dir = config::run_dir(&args.runs_dir, &name)?;
    refuse_foreign_directory(&dir)?;
    warn_unused_glove(&targs);
    if cfg.model.recurrent.num_layers == 1 && cfg.model.recurrent.dropout > 0.0 {
        crate::errln!(
            "imdb-rnn: warning: --dropout {} has no effect with one layer (it applies between recurrent layers); add --layers 2 or more",
            cfg.model.recurrent.dropout
        );
    }
    // The lock a sweep takes for its points: two processes never train one directory.
    let Some(_lock) = RunDir::new(&dir).try_lock()? else {
        bail!("run directory {} is being trained by another process right now; wait for it to end, or choose another --name", dir.display());
    };
    // Before any tensor work, so libtorch's threads inherit the blocked signals.
    let stop = StopFlags::install();
    let opts = RunOptions { resume: args.resume, progress: !args.source.quiet, stop, name };
    let outcome = launch::launch(&cfg, &dir, &mut data, opts)?;
    if matches!(outcome, Outcome::Finished(_)) {
        crate::report::plots::plot_finished_run(&dir);
    }
    report_outcome(outcome, &dir, args.output.json)
}

/// `--name` must not write into a folder of something else: a directory that exists,
/// holds files (other than temp files of a run killed early) and has no config.json is
/// not a run directory.
fn refuse_foreign_directory(dir: &Path) -> Result<()> {
    let occupied =
        std::fs::read_dir(dir).is_ok_and(|entries| entries.flatten().any(|e| crate::util::temp_file_pid(&e.file_name().to_string_lossy()).is_none()));
    if occupied && !RunDir::new(dir).config().exists() {
        bail!("{} exists and is not a run directory (no config.json); choose another --name or --runs-dir", dir.display());
    }
    Ok(())
}

/// `--glove` only matters with `--emb glove-frozen|glove-tuned`; say so rather than
/// ignore it (a value from IMDB_RNN_GLOVE, set for every run, is not worth a warning).
fn warn_unused_glove(args: &TrainArgs) {
    let from_env = std::env::var("IMDB_RNN_GLOVE").ok();
    if let Some(g) = args.glove.as_ref().filter(|g| Some(*g) != from_env.as_ref()) {
        if !args.emb.is_some_and(|e| e.uses_glove()) {
            crate::errln!("imdb-rnn: warning: --glove {g} is ignored: the embedding is random; add --emb glove-frozen or --emb glove-tuned to use it");
        }
    }
}

/// Prints the end of a run and maps it to an exit status.
pub(crate) fn report_outcome(outcome: Outcome, dir: &Path, json: bool) -> Result<Exit> {
    match outcome {
        Outcome::Finished(summary) => {
            if json {
                crate::outln!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                let at_val = summary.test_acc_at_best_val.map(|a| format!("test accuracy at the best validation epoch {a:.4}, ")).unwrap_or_default();
                crate::outln!(
                    "{}: {at_val}final test accuracy {:.4} (best on test {:.4} at epoch {}), {:.1} s/epoch -> {}",
                    summary.name,
                    summary.final_test_acc,
                    summary.best_test_acc,
                    summary.best_epoch,
                    summary.mean_epoch_seconds,
                    dir.display()
                );
            }
            Ok(Exit::Success)
        }
        Outcome::Stopped(stop) => {
            crate::errln!("imdb-rnn: stopped by signal; checkpoint saved in {}; continue with --resume", dir.display());
            Ok(stop.exit())
        }
        Outcome::Diverged(msg) => {
            crate::errln!("imdb-rnn: {msg}");
            Ok(Exit::Diverged)
        }
    }
}
