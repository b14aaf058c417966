//! `imdb-rnn train`: resolve the configuration, prepare data, train, report.
use crate::cli::TrainCmdArgs;
use crate::data::glove::GloveMatrix;
use crate::exit::Exit;
use crate::fetch;
use crate::train::config::{self, TrainArgs, TrainConfig};
use crate::train::run::RunDir;
use crate::train::signal::StopFlags;
use crate::train::{self, Outcome, RunOptions};
use anyhow::{bail, Context, Result};
use std::path::Path;

use crate::train::run::RunRecord;

/// Merges `--config` and flags, then validates.
pub fn resolve_args(args: &TrainCmdArgs) -> Result<TrainArgs> {
    let base = match &args.config {
        Some(p) => TrainArgs::from_toml_file(p)?,
        None => TrainArgs::default(),
    };
    args.train.check_finite()?;
    Ok(base.overlay(&args.train))
}

pub fn run(args: &TrainCmdArgs) -> Result<Exit> {
    let targs = resolve_args(args)?;
    // Validate everything that needs no data before any work (GloVe dim comes later);
    // this also settles which GloVe vectors the run uses.
    let checked = TrainConfig::resolve(&targs, None)?;
    if let Some(name) = &args.name {
        config::run_dir(&args.runs_dir, name)?;
    }
    let home = fetch::data_home();
    let glove_file = match &checked.glove {
        Some(value) => Some(super::glove_path(value, &args.source, &home)?),
        None => None,
    };
    let glove_dim = match &glove_file {
        Some(p) => Some(crate::data::glove::peek_dim(p)? as i64),
        None => None,
    };
    let cfg = TrainConfig::resolve(&targs, glove_dim)?;
    let name = args.name.clone().unwrap_or_else(|| cfg.default_name());
    let dir = config::run_dir(&args.runs_dir, &name)?;
    refuse_foreign_directory(&dir)?;
    warn_unused_glove(&targs);
    if cfg.model.recurrent.num_layers == 1 && cfg.model.recurrent.dropout > 0.0 {
        eprintln!(
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
    let mut cache = super::DataCache::new(&args.source);
    // The file resolved above, so a URL or name is not looked up twice.
    let glove_value = glove_file.as_ref().map(|p| p.to_string_lossy().into_owned());
    let loaded = cache.load(cfg.encode, glove_value.as_deref())?;
    let outcome = train_prepared(&cfg, &name, &dir, loaded.archive, loaded.data, loaded.glove, args.resume, !args.source.quiet, stop)?;
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
            eprintln!("imdb-rnn: warning: --glove {g} is ignored: the embedding is random; add --emb glove-frozen or --emb glove-tuned to use it");
        }
    }
}

/// Prints the end of a run and maps it to an exit status.
pub fn report_outcome(outcome: Outcome, dir: &Path, json: bool) -> Result<Exit> {
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
            eprintln!("imdb-rnn: stopped by signal; checkpoint saved in {}; continue with --resume", dir.display());
            Ok(stop.exit())
        }
        Outcome::Diverged(msg) => {
            eprintln!("imdb-rnn: {msg}");
            Ok(Exit::Diverged)
        }
    }
}

/// Trains on already prepared data.
#[allow(clippy::too_many_arguments)]
pub fn train_prepared(
    cfg: &TrainConfig,
    name: &str,
    dir: &Path,
    archive: &Path,
    data: &crate::data::prepare::Prepared,
    glove: Option<&GloveMatrix>,
    resume: bool,
    progress: bool,
    stop: StopFlags,
) -> Result<Outcome> {
    let cfg = &config_for_data(cfg, data);
    let run_dir = RunDir::new(dir);
    check_run_dir(&run_dir, cfg, resume)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create run directory {}", dir.display()))?;
    crate::util::remove_stale_temp_files(dir);
    let selected = train::select_data(cfg, data);
    let steps_per_epoch = selected.train.len().div_ceil(cfg.batch_size);
    if cfg.grad_every > steps_per_epoch {
        bail!(
            "--grad-every {} is more than the {steps_per_epoch} steps of an epoch ({} training reviews, batch size {}): some epochs would log no gradient; use at most {steps_per_epoch}",
            cfg.grad_every,
            selected.train.len(),
            cfg.batch_size
        );
    }
    if let Some(g) = glove {
        if progress {
            eprintln!("imdb-rnn: GloVe covers {} of {} vocabulary words ({:.1}%)", g.coverage.found, g.coverage.words, 100.0 * g.coverage.ratio());
        }
    }
    let cpu = crate::cpu::configure(cfg.denormals, cfg.threads);
    run_dir.write_config(&run_record(cfg, name, archive, &selected, cpu)?)?;
    crate::util::write_atomic(&run_dir.vocab(), serde_json::to_string(&data.vocab)?.as_bytes())?;
    let opts = RunOptions { resume, progress, stop, name: name.into() };
    let outcome = train::train(cfg, data, glove, &run_dir, &opts)?;
    if matches!(outcome, Outcome::Finished(_)) {
        // The run's figures (learning curves, gradient heatmap and profile), so a user
        // can look without another command. A figure that fails must not fail the run.
        if let Err(e) = crate::report::plots::plot_run(dir) {
            eprintln!("imdb-rnn: warning: could not draw the figures of {}: {e:#}", dir.display());
        }
    }
    Ok(outcome)
}

/// `cfg` as the data shapes it: the embedding has a row per id the data really has
/// (fewer than --vocab-size + 2 when the corpus has fewer distinct words), and a
/// `--subset` larger than the data is recorded as what is used, not what was asked for.
fn config_for_data(cfg: &TrainConfig, data: &crate::data::prepare::Prepared) -> TrainConfig {
    let mut cfg = cfg.clone();
    cfg.model.vocab_size = data.vocab.len() as i64;
    if let Some(n) = cfg.subset {
        let largest = data.train.len().max(data.test.len());
        if n > largest {
            eprintln!(
                "imdb-rnn: warning: --subset {n} is more than the data holds ({} train, {} test reviews); using all of them (config.json records {largest})",
                data.train.len(),
                data.test.len()
            );
            cfg.subset = Some(largest);
        }
    }
    cfg
}

/// `--resume` continues a run of the same options only; without it an existing run is
/// never overwritten.
fn check_run_dir(run_dir: &RunDir, cfg: &TrainConfig, resume: bool) -> Result<()> {
    let dir = &run_dir.dir;
    if resume {
        let record = run_dir.read_config_or(|| format!("--resume: {} has no config.json; start the run without --resume", dir.display()))?;
        if record.config != *cfg {
            let what = config::first_difference(&record.config, cfg, &[]).unwrap_or_else(|| "an option differs".into());
            bail!("--resume: {} was trained with other options ({what}); use the same options, or another --name", dir.display());
        }
    } else if run_dir.is_run() {
        bail!("run directory {} already exists; pass --resume to continue it, or choose another --name", dir.display());
    }
    Ok(())
}

/// config.json of a run about to train on `selected`.
fn run_record(cfg: &TrainConfig, name: &str, archive: &Path, selected: &train::RunData, cpu: crate::cpu::CpuRuntime) -> Result<RunRecord> {
    let info = super::info::Info::gather();
    Ok(RunRecord {
        name: name.into(),
        imdb_rnn: info.imdb_rnn.into(),
        git: info.git.into(),
        libtorch: info.libtorch.into(),
        cuda_available: info.cuda_available,
        cudnn_version: info.cudnn_version,
        device: format!("{:?}", cfg.device.device()?),
        archive: archive.display().to_string(),
        train_reviews: selected.train.len(),
        val_reviews: selected.val.as_ref().map_or(0, |v| v.len()),
        test_reviews: selected.test.len(),
        cpu: Some(cpu),
        config: cfg.clone(),
    })
}
