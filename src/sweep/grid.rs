//! A sweep's grid: parsed from `key=v1,v2` text or a sweep file, expanded into points
//! (the first key varying slowest), named, and cut into shards.
use crate::train::config::TrainArgs;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Ordered keys (train flags without `--`) with their values.
pub(crate) type Grid = Vec<(String, Vec<String>)>;

/// `key=v1,v2 key2=v3` -> ordered keys with their values.
pub(crate) fn parse_grid(text: &str) -> Result<Grid> {
    let mut out: Grid = Vec::new();
    for item in text.split_whitespace() {
        let Some((key, values)) = item.split_once('=') else {
            bail!("--grid item {item:?}: expected key=value1,value2 (keys are train flags without --, e.g. cell=rnn,lstm)");
        };
        let key = key.trim_start_matches("--").to_string();
        let values: Vec<String> = values.split(',').filter(|v| !v.is_empty()).map(String::from).collect();
        if values.is_empty() {
            bail!("--grid item {item:?}: no values");
        }
        if let Some(v) = crate::util::first_repeat(&values) {
            bail!("--grid item {item:?}: value {v} is given twice; give each value once");
        }
        if out.iter().any(|(k, _)| *k == key) {
            bail!("--grid: key {key} given twice");
        }
        out.push((key, values));
    }
    Ok(out)
}

/// Every combination, the first key varying slowest.
pub(crate) fn expand(grid: &[(String, Vec<String>)]) -> Vec<Vec<(String, String)>> {
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
pub(crate) fn point_name(point: &[(String, String)]) -> String {
    let raw = point.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    let name: String = raw.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.=,+".contains(c) { c } else { '_' }).collect();
    if name.is_empty() {
        "default".into()
    } else {
        name
    }
}

/// `I/N` -> (I, N) with 0 <= I < N.
pub(crate) fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let parsed = text.split_once('/').and_then(|(i, n)| Some((i.trim().parse::<usize>().ok()?, n.trim().parse::<usize>().ok()?)));
    match parsed {
        Some((i, n)) if n > 0 && i < n => Ok((i, n)),
        _ => bail!("--shard {text}: expected I/N with 0 <= I < N (e.g. --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-(N-1))"),
    }
}

/// The items of `all` this worker takes: those at positions `i` with `i % n == shard`.
pub(crate) fn take_shard<T>(all: Vec<T>, (shard, shards): (usize, usize)) -> Vec<T> {
    all.into_iter().enumerate().filter(|(i, _)| i % shards == shard).map(|(_, t)| t).collect()
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

/// Reads a sweep file into its shared options and its grid.
pub(crate) fn read_sweep_file(path: &Path) -> Result<(TrainArgs, Grid)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read sweep file {}", path.display()))?;
    let file: SweepFile = toml::from_str(&text).with_context(|| format!("{} is not a valid sweep file", path.display()))?;
    let base: TrainArgs = toml::Value::Table(file.base).try_into().with_context(|| format!("{} has an option that is not a train flag", path.display()))?;
    base.check_finite().with_context(|| format!("sweep file {}", path.display()))?;
    let mut grid = Vec::new();
    for (k, v) in file.grid {
        let values = match v {
            toml::Value::Array(a) => a.iter().map(toml_scalar).collect::<Result<Vec<_>>>()?,
            other => vec![toml_scalar(&other)?],
        };
        if let Some(v) = crate::util::first_repeat(&values) {
            bail!("sweep file {}: grid key {k} has the value {v} twice; give each value once", path.display());
        }
        grid.push((k, values));
    }
    Ok((base, grid))
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
    fn shards_are_checked_and_take_every_nth_item() {
        assert_eq!(parse_shard("2/4").unwrap(), (2, 4));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("x").is_err());
        assert_eq!(take_shard((0..7).collect(), (1, 3)), [1, 4]);
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
