//! One run from its checked configuration to its trained directory, the same for `train`
//! and every point of a sweep, gradient study or course: the configuration fitted to its
//! GloVe file ([`fit_to_glove`]), then ([`launch`]) the data loaded through the command's
//! `DataCache`, the directory checked (never overwritten, resumed only with the same
//! options), config.json and the vocabulary written, and the run trained. Its callers take
//! the run's lock before and draw its figures after (`report` sits above `train`).
use super::config::{self, TrainConfig};
use super::run::{DataFile, RunDir, RunRecord};
use super::{Outcome, RunOptions};
use crate::data::source::DataCache;
use crate::train;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// `checked` (resolved before its GloVe file was looked at) with that file found through
/// `data`, fetched if need be, and its dimension as the embedding size: the run's one
/// resolved configuration.
pub(crate) fn fit_to_glove(checked: TrainConfig, emb_dim: Option<i64>, data: &mut DataCache) -> Result<TrainConfig> {
    let Some(value) = &checked.glove else { return Ok(checked) };
    let dim = crate::data::glove::peek_dim(&data.glove_file(value)?)?;
    checked.with_glove_dim(emb_dim, dim as i64)
}

/// Trains `cfg` (fitted by [`fit_to_glove`]) into `dir` on the data it names, loaded
/// through `data`.
pub(crate) fn launch(cfg: &TrainConfig, dir: &Path, data: &mut DataCache, opts: RunOptions) -> Result<Outcome> {
    let loaded = data.load(cfg.encode, cfg.glove.as_deref())?;
    let (archive, data, glove) = (loaded.archive, loaded.data, loaded.glove);
    let cfg = &config_for_data(cfg, data);
    let run_dir = RunDir::new(dir);
    check_run_dir(&run_dir, cfg, opts.resume)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create run directory {}", dir.display()))?;
    crate::util::remove_stale_temp_files(dir);
    let selected = train::select_data(cfg, data);
    let steps_per_epoch = selected.train.len().div_ceil(cfg.batch_size);
    if cfg.grad_every > steps_per_epoch {
        // Every epoch must log a gradient (its summaries need one): the interval is
        // clamped to the epoch, as the trainer does it, and config.json keeps what was asked.
        crate::errln!(
            "imdb-rnn: warning: --grad-every {} is more than the {steps_per_epoch} steps of an epoch ({} training reviews, batch size {}); logging every {steps_per_epoch} steps",
            cfg.grad_every,
            selected.train.len(),
            cfg.batch_size
        );
    }
    warn_about_the_train_split(&selected.train);
    if let Some(g) = glove {
        if opts.progress {
            crate::errln!("imdb-rnn: GloVe covers {} of {} vocabulary words ({:.1}%)", g.coverage.found, g.coverage.words, 100.0 * g.coverage.ratio());
        }
    }
    let cpu = crate::cpu::configure(cfg.denormals, cfg.threads);
    run_dir.write_config(&run_record(cfg, &opts.name, archive, &selected, cpu)?)?;
    crate::util::write_atomic(&run_dir.vocab(), serde_json::to_string(&data.vocab)?.as_bytes())?;
    train::train(cfg, &selected, glove, &run_dir, &opts)
}

/// A train split a model cannot learn the task from (one class, or a handful of reviews
/// after `--val-frac`/`--subset`) still trains, as asked, but not silently.
fn warn_about_the_train_split(train: &crate::data::prepare::EncodedSplit) {
    let positives = train.positives();
    if !train.is_empty() && (positives == 0 || positives == train.len()) {
        let class = if positives == 0 { "negative" } else { "positive" };
        crate::errln!("imdb-rnn: warning: every one of the {} training reviews is {class}; the model can only learn to say {class}", train.len());
    } else if (1..10).contains(&train.len()) {
        crate::errln!("imdb-rnn: warning: only {} training reviews (after --subset and --val-frac); lower --val-frac or raise --subset", train.len());
    }
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
            crate::errln!(
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
    let info = crate::runtime::Info::gather();
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
        data_files: data_files(archive, cfg.glove.as_deref()),
    })
}

/// The archive and the GloVe file a run reads, identified for config.json.
fn data_files(archive: &Path, glove: Option<&str>) -> Vec<DataFile> {
    let glove = glove.map(|g| crate::fetch::local_path(&crate::fetch::Source::parse(g), &crate::fetch::data_home()));
    let glove = glove.map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    [DataFile::identify("imdb", archive), glove.and_then(|g| DataFile::identify("glove", &g))].into_iter().flatten().collect()
}
