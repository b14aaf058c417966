//! `imdb-rnn sweep`: a grid of train options run one after another (or sharded over
//! machines), each in a directory named after its parameters, so a re-run skips what
//! is finished, resumes what was interrupted, and two workers never run the same point.
use super::train::train_prepared;
use super::DataCache;
use crate::cli::SweepArgs;
use crate::exit::Exit;
use crate::train::config::{TrainArgs, TrainConfig};
use crate::train::run::{RunPaths, Summary};
use crate::train::signal::StopFlags;
use crate::train::Outcome;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// `key=v1,v2 key2=v3` -> ordered keys with their values.
pub fn parse_grid(text: &str) -> Result<Vec<(String, Vec<String>)>> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for item in text.split_whitespace() {
        let Some((key, values)) = item.split_once('=') else {
            bail!("--grid item {item:?}: expected key=value1,value2 (keys are train flags without --, e.g. cell=rnn,lstm)");
        };
        let key = key.trim_start_matches("--").to_string();
        let values: Vec<String> = values.split(',').filter(|v| !v.is_empty()).map(String::from).collect();
        if values.is_empty() {
            bail!("--grid item {item:?}: no values");
        }
        if out.iter().any(|(k, _)| *k == key) {
            bail!("--grid: key {key} given twice");
        }
        out.push((key, values));
    }
    Ok(out)
}

/// Every combination, the first key varying slowest.
pub fn expand(grid: &[(String, Vec<String>)]) -> Vec<Vec<(String, String)>> {
    let mut points: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (key, values) in grid {
        points = points
            .into_iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((key.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    points
}

/// The directory name of a grid point: `cell=lstm,layers=2,seed=0` (characters a run
/// name may not hold become `_`).
pub fn point_name(point: &[(String, String)]) -> String {
    let raw = point.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    let name: String = raw.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.=,+".contains(c) { c } else { '_' }).collect();
    if name.is_empty() {
        "default".into()
    } else {
        name
    }
}

/// `I/N` -> (I, N) with 0 <= I < N.
pub fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let parsed = text.split_once('/').and_then(|(i, n)| Some((i.trim().parse::<usize>().ok()?, n.trim().parse::<usize>().ok()?)));
    match parsed {
        Some((i, n)) if n > 0 && i < n => Ok((i, n)),
        _ => bail!("--shard {text}: expected I/N with 0 <= I < N (e.g. --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-(N-1))"),
    }
}

/// What happened to one grid point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointStatus {
    Finished,
    AlreadyDone,
    Failed(String),
    Busy,
    Stopped(Exit),
}

/// Runs one configuration in `dir` with the sweep's rules: skip when finished (or
/// failed, unless `retry_failed`), skip when another worker holds its lock, resume
/// from a checkpoint, record a failure with its reason.
pub fn run_point(args: &TrainArgs, name: &str, dir: &Path, data: &mut DataCache, progress: bool, retry_failed: bool, stop: &StopFlags) -> Result<PointStatus> {
    let Some(_lock) = crate::train::run::try_lock_run(dir)? else {
        return Ok(PointStatus::Busy);
    };
    let paths = RunPaths::new(dir);
    if let Ok(bytes) = std::fs::read(paths.summary()) {
        if let Ok(s) = serde_json::from_slice::<Summary>(&bytes) {
            if s.status == "finished" || !retry_failed {
                return Ok(if s.status == "finished" { PointStatus::AlreadyDone } else { PointStatus::Failed(s.reason.unwrap_or_default()) });
            }
            let _ = std::fs::remove_file(paths.summary());
        }
    }
    let result = (|| -> Result<Outcome> {
        let first = TrainConfig::resolve(args, None)?;
        let loaded = data.load(first.encode, first.glove.as_deref())?;
        let cfg = TrainConfig::resolve(args, loaded.glove.map(|m| m.dim as i64))?;
        let resume = paths.config().exists();
        train_prepared(&cfg, name, dir, loaded.archive, loaded.data, loaded.glove, resume, progress, stop.clone())
    })();
    match result {
        Ok(Outcome::Finished(_)) => Ok(PointStatus::Finished),
        Ok(Outcome::Stopped(s)) => Ok(PointStatus::Stopped(s.exit())),
        Ok(Outcome::Diverged(msg)) => Ok(PointStatus::Failed(msg)),
        Err(e) => {
            let reason = format!("{e:#}");
            // Best effort: on a full disk the record cannot be written either, and the
            // sweep must still go on to its other points.
            let recorded = std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))
                .and_then(|()| Summary::failed(name, &reason, &[]).write(&paths.summary()));
            if let Err(e) = recorded {
                eprintln!("imdb-rnn: warning: could not record the failure of {}: {e:#}", dir.display());
            }
            Ok(PointStatus::Failed(reason))
        }
    }
}

/// A sweep file: train options at the top level, and a `[grid]` table of value lists.
/// (Unknown keys are caught when `base` is read as train options: serde cannot deny
/// them here because of the flatten.)
#[derive(serde::Deserialize, Default)]
struct SweepFile {
    #[serde(default)]
    grid: toml::Table,
    #[serde(flatten)]
    base: toml::Table,
}

pub fn run(args: &SweepArgs) -> Result<Exit> {
    let root = crate::train::config::run_dir(&args.runs_dir, &args.name)?;
    let mut base = TrainArgs::default();
    let mut grid = Vec::new();
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read sweep file {}", path.display()))?;
        let file: SweepFile = toml::from_str(&text).with_context(|| format!("{} is not a valid sweep file", path.display()))?;
        base = toml::Value::Table(file.base).try_into().with_context(|| format!("{} has an option that is not a train flag", path.display()))?;
        base.check_finite().with_context(|| format!("sweep file {}", path.display()))?;
        for (k, v) in file.grid {
            let values = match v {
                toml::Value::Array(a) => a.iter().map(toml_scalar).collect::<Result<Vec<_>>>()?,
                other => vec![toml_scalar(&other)?],
            };
            grid.push((k, values));
        }
    }
    args.train.check_finite()?;
    base = base.overlay(&args.train);
    if let Some(g) = &args.grid {
        for (k, v) in parse_grid(g)? {
            grid.retain(|(gk, _)| *gk != k);
            grid.push((k, v));
        }
    }
    let points = expand(&grid);
    let (shard, shards) = match &args.shard {
        Some(s) => parse_shard(s)?,
        None => (0, 1),
    };
    // Check every point's keys and values before running anything.
    let mut planned = Vec::new();
    for (i, point) in points.iter().enumerate() {
        let mut a = base.clone();
        for (k, v) in point {
            a.set(k, v)?;
        }
        if i % shards == shard {
            planned.push((point_name(point), a));
        }
    }
    for (name, a) in &planned {
        refuse_changed_options(&root.join(name), a)?;
    }
    if args.dry_run {
        for (name, _) in &planned {
            crate::outln!("{}", root.join(name).display());
        }
        return Ok(Exit::Success);
    }
    let stop = StopFlags::install();
    let mut data = DataCache::new(&args.source);
    let mut failed = 0;
    for (i, (name, a)) in planned.iter().enumerate() {
        let dir = root.join(name);
        if !args.source.quiet {
            eprintln!("imdb-rnn sweep [{}/{}] {}", i + 1, planned.len(), dir.display());
        }
        let status = run_point(a, name, &dir, &mut data, !args.source.quiet, args.retry_failed, &stop)?;
        let word = match &status {
            PointStatus::Finished => "finished".to_string(),
            PointStatus::AlreadyDone => "already finished".into(),
            PointStatus::Busy => "running elsewhere".into(),
            PointStatus::Failed(r) => {
                failed += 1;
                format!("failed: {r}")
            }
            PointStatus::Stopped(_) => "stopped".into(),
        };
        if args.output.json {
            crate::outln!("{}", serde_json::json!({"run": dir.display().to_string(), "status": word}));
        } else {
            crate::outln!("{}\t{word}", dir.display());
        }
        if let PointStatus::Stopped(code) = status {
            return report_outcome_stopped(code);
        }
    }
    Ok(if failed > 0 { Exit::SomeFailed } else { Exit::Success })
}

/// A point's directory holds the run of its whole configuration, not just its grid
/// values: rerunning a sweep with a changed shared option (say --epochs) must not
/// report the old runs as finished, so it is refused, naming the option.
fn refuse_changed_options(dir: &Path, args: &TrainArgs) -> Result<()> {
    let (Ok(record), Ok(now)) = (super::train::read_record(dir), TrainConfig::resolve(args, None)) else {
        // No run yet, or options the point itself will report as failed.
        return Ok(());
    };
    // The embedding rows come from the data, and a GloVe file sets the embedding size.
    let mut ignore = vec!["model.vocab_size"];
    if now.model.embedding.uses_glove() && args.emb_dim.is_none() {
        ignore.push("model.recurrent.input_size");
    }
    match crate::train::config::first_difference(&record.config, &now, &ignore) {
        Some(what) => {
            bail!("sweep point {} was run with other options ({what}); run the sweep with its original options, or give it another --name", dir.display())
        }
        None => Ok(()),
    }
}

fn report_outcome_stopped(code: Exit) -> Result<Exit> {
    eprintln!("imdb-rnn: sweep stopped by signal; run the same command again to resume");
    Ok(code)
}

fn toml_scalar(v: &toml::Value) -> Result<String> {
    Ok(match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => bail!("grid value {other} must be a string, number or boolean"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_expand_in_order_with_the_first_key_slowest() {
        let g = parse_grid("cell=rnn,lstm layers=1,2").unwrap();
        let names: Vec<String> = expand(&g).iter().map(|p| point_name(p)).collect();
        assert_eq!(names, ["cell=rnn,layers=1", "cell=rnn,layers=2", "cell=lstm,layers=1", "cell=lstm,layers=2"]);
    }

    #[test]
    fn shards_are_checked() {
        assert_eq!(parse_shard("2/4").unwrap(), (2, 4));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("x").is_err());
    }

    #[test]
    fn grid_values_set_train_options_with_their_types() {
        let mut a = TrainArgs::default();
        a.set("layers", "3").unwrap();
        a.set("lr", "0.01").unwrap();
        a.set("emb", "glove-frozen").unwrap();
        a.set("bidirectional", "true").unwrap();
        assert_eq!(a.layers, Some(3));
        assert_eq!(a.lr, Some(0.01));
        assert_eq!(a.emb, Some(crate::model::EmbeddingMode::GloveFrozen));
        assert_eq!(a.bidirectional, Some(true));
        assert!(a.set("colour", "red").is_err());
    }
}
