//! The summary table: run directories found under a root, aggregated into one row per
//! configuration (seeds pooled), filtered, sorted, and rendered as markdown, CSV or JSON.
use crate::train::run::{dirs_under, RunDir, RunRecord, RunStatus, Summary};
use anyhow::{bail, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A grid point that failed before it could write config.json (bad options): its
/// directory and reason.
pub(crate) fn find_failed_without_config(runs_root: &Path) -> Vec<(PathBuf, String)> {
    let mut out: Vec<(PathBuf, String)> = dirs_under(runs_root)
        .into_iter()
        .map(|dir| RunDir::new(&dir))
        .filter(|run| !run.is_run())
        .filter_map(|run| {
            let reason = run.read_summary()?.reason.unwrap_or_default();
            Some((run.dir, reason))
        })
        .collect();
    out.sort();
    out
}

/// A run directory found under the root.
pub(crate) struct FoundRun {
    pub dir: PathBuf,
    pub record: RunRecord,
    pub summary: Option<Summary>,
}

/// Every directory below `root` (itself included, at most 4 levels down) holding a
/// config.json of imdb-rnn, sorted by path.
pub(crate) fn find_runs(root: &Path) -> Result<Vec<FoundRun>> {
    if !root.is_dir() {
        bail!("{} is not a directory; pass the runs directory (e.g. runs/)", root.display());
    }
    let found = RunDir::discover(root).into_iter().filter_map(|run| {
        let record = run.read_config().ok()?;
        Some(FoundRun { summary: run.read_summary(), record, dir: run.dir })
    });
    Ok(found.collect())
}

/// One configuration, seeds pooled.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct Row {
    pub cell: String,
    pub layers: i64,
    pub hidden: i64,
    pub bidirectional: bool,
    pub emb: String,
    /// The embedding's dimension: random embeddings take `--emb-dim`, GloVe its file's.
    pub emb_dim: i64,
    pub readout: String,
    pub dropout: f64,
    pub lr: f64,
    pub epochs: usize,
    pub subset: String,
    pub runs: usize,
    pub finished: usize,
    pub failed: usize,
    /// Mean test accuracy at the epoch of best validation accuracy (model selection on
    /// validation, the headline); `None` unless every finished run had a validation split.
    pub test_acc_at_best_val: Option<f64>,
    pub test_acc_at_best_val_std: Option<f64>,
    pub final_acc: f64,
    pub final_acc_std: f64,
    /// The maximum over epochs of the *test* accuracy: selection on test, optimistic.
    pub best_acc: f64,
    pub best_acc_std: f64,
    pub best_epoch: f64,
    pub epoch_seconds: f64,
    pub parameters: i64,
    pub seeds: String,
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let s = crate::report::stats::Stat::of(v);
    (s.mean, s.std)
}

pub(crate) fn rows(runs: &[FoundRun]) -> Vec<Row> {
    let mut groups: BTreeMap<String, Vec<&FoundRun>> = BTreeMap::new();
    for r in runs {
        let mut key = serde_json::to_value(&r.record.config).unwrap_or_default();
        if let Some(o) = key.as_object_mut() {
            o.remove("seed");
        }
        groups.entry(key.to_string()).or_default().push(r);
    }
    let mut out = Vec::new();
    for members in groups.values() {
        let c = &members[0].record.config;
        let done: Vec<&Summary> = members.iter().filter_map(|m| m.summary.as_ref()).filter(|s| s.is_finished()).collect();
        let failed = members.iter().filter(|m| m.summary.as_ref().is_some_and(|s| s.status == RunStatus::Failed)).count();
        let (final_acc, final_acc_std) = mean_std(&done.iter().map(|s| s.final_test_acc).collect::<Vec<_>>());
        let (best_acc, best_acc_std) = mean_std(&done.iter().map(|s| s.best_test_acc).collect::<Vec<_>>());
        let at_best_val: Option<Vec<f64>> = done.iter().map(|s| s.test_acc_at_best_val).collect();
        let at_best_val = at_best_val.filter(|v| !v.is_empty()).map(|v| mean_std(&v));
        let r = &c.model.recurrent;
        let mut seeds: Vec<u64> = members.iter().map(|m| m.record.config.seed).collect();
        seeds.sort_unstable();
        out.push(Row {
            cell: r.cell.name().into(),
            layers: r.num_layers,
            hidden: r.hidden_size,
            bidirectional: r.bidirectional,
            emb: serde_json::to_value(c.model.embedding).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            emb_dim: r.input_size,
            readout: serde_json::to_value(c.model.readout).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            dropout: r.dropout,
            lr: c.lr,
            epochs: c.epochs,
            subset: c.subset.map(|n| n.to_string()).unwrap_or_else(|| "all".into()),
            runs: members.len(),
            finished: done.len(),
            failed,
            test_acc_at_best_val: at_best_val.map(|(m, _)| m),
            test_acc_at_best_val_std: at_best_val.map(|(_, s)| s),
            final_acc,
            final_acc_std,
            best_acc,
            best_acc_std,
            best_epoch: mean_std(&done.iter().map(|s| s.best_epoch as f64).collect::<Vec<_>>()).0,
            epoch_seconds: mean_std(&done.iter().map(|s| s.mean_epoch_seconds).collect::<Vec<_>>()).0,
            parameters: done.first().map(|s| s.parameters).unwrap_or(0),
            seeds: seeds.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" "),
        });
    }
    out.sort_by(|a, b| {
        (&a.cell, a.layers, a.hidden, a.bidirectional, &a.emb, &a.readout, a.epochs, &a.subset)
            .cmp(&(&b.cell, b.layers, b.hidden, b.bidirectional, &b.emb, &b.readout, b.epochs, &b.subset))
            .then(a.lr.total_cmp(&b.lr))
            .then(a.dropout.total_cmp(&b.dropout))
    });
    out
}

/// Applies `--where` filters and `--sort` to rows (through their JSON form, so any
/// column works).
pub(crate) fn select(rows: Vec<Row>, filters: &[String], sort: Option<&str>) -> Result<Vec<Row>> {
    let columns: Vec<String> = serde_json::to_value(Row::default_for_columns()).unwrap().as_object().unwrap().keys().cloned().collect();
    let mut kept = Vec::new();
    'rows: for row in rows {
        let v = serde_json::to_value(&row)?;
        for f in filters {
            let Some((k, want)) = f.split_once('=') else { bail!("--where {f}: expected COLUMN=VALUE") };
            let Some(have) = v.get(k) else { bail!("--where {f}: unknown column {k}; columns: {}", columns.join(", ")) };
            let have = match have {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if have != want {
                continue 'rows;
            }
        }
        kept.push(row);
    }
    if let Some(spec) = sort {
        let (desc, col) = match spec.strip_prefix('-') {
            Some(c) => (true, c),
            None => (false, spec),
        };
        if !columns.iter().any(|c| c == col) {
            bail!("--sort {spec}: unknown column {col}; columns: {}", columns.join(", "));
        }
        let key = |r: &Row| serde_json::to_value(r).unwrap()[col].clone();
        kept.sort_by(|a, b| {
            let (x, y) = (key(a), key(b));
            let ord = match (x.as_f64(), y.as_f64()) {
                (Some(p), Some(q)) => p.total_cmp(&q),
                _ => x.to_string().cmp(&y.to_string()),
            };
            if desc {
                ord.reverse()
            } else {
                ord
            }
        });
    }
    Ok(kept)
}

impl Row {
    /// "0.8123 ± 0.0040", or "unfinished" for a configuration none of whose runs has
    /// finished (still running, stopped, or failed): there is no accuracy to show.
    pub(crate) fn accuracy(&self, mean: f64, std: f64) -> String {
        if self.finished == 0 {
            "unfinished".into()
        } else {
            format!("{mean:.4} ± {std:.4}")
        }
    }

    /// A mean over finished runs with one decimal, or "-" when none has finished.
    pub(crate) fn number(&self, mean: f64) -> String {
        if self.finished == 0 {
            "-".into()
        } else {
            format!("{mean:.1}")
        }
    }

    fn default_for_columns() -> Row {
        Row {
            cell: String::new(),
            layers: 0,
            hidden: 0,
            bidirectional: false,
            emb: String::new(),
            emb_dim: 0,
            readout: String::new(),
            dropout: 0.0,
            lr: 0.0,
            epochs: 0,
            subset: String::new(),
            runs: 0,
            finished: 0,
            failed: 0,
            test_acc_at_best_val: None,
            test_acc_at_best_val_std: None,
            final_acc: 0.0,
            final_acc_std: 0.0,
            best_acc: 0.0,
            best_acc_std: 0.0,
            best_epoch: 0.0,
            epoch_seconds: 0.0,
            parameters: 0,
            seeds: String::new(),
        }
    }
}

/// The accuracy columns' headers, shared by the markdown and HTML tables: the test
/// accuracy at the best validation epoch first (model selection on validation), the
/// maximum over epochs of the test accuracy last, labelled as selection on test.
pub(crate) const ACCURACY_HEADERS: [&str; 3] = ["test acc at best val", "final test acc", "best test acc (selected on test)"];

impl Row {
    /// `mean ± std` of the test accuracy at the best validation epoch, `–` without a
    /// validation split.
    pub(crate) fn at_best_val(&self) -> String {
        match (self.test_acc_at_best_val, self.test_acc_at_best_val_std) {
            (Some(m), Some(s)) => format!("{m:.4} ± {s:.4}"),
            _ => "–".into(),
        }
    }
}

/// A markdown table of rows.
pub(crate) fn markdown(rows: &[Row]) -> String {
    let [val, fin, best] = ACCURACY_HEADERS;
    let mut s = format!(
        "| cell | layers | hidden | bi | emb | readout | epochs | subset | seeds | {val} | {fin} | {best} | best epoch | s/epoch | params | failed |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.cell,
            r.layers,
            r.hidden,
            if r.bidirectional { "yes" } else { "no" },
            r.emb,
            r.readout,
            r.epochs,
            r.subset,
            r.seeds,
            r.at_best_val(),
            r.accuracy(r.final_acc, r.final_acc_std),
            r.accuracy(r.best_acc, r.best_acc_std),
            r.number(r.best_epoch),
            r.number(r.epoch_seconds),
            r.parameters,
            r.failed
        ));
    }
    s
}

/// The table in `format`, as `imdb-rnn summary` prints it: markdown lists after the table
/// the grid points that failed before training (`failed`).
/// How `summary` prints its table (`--format`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SummaryFormat {
    Markdown,
    Csv,
    Json,
}

pub(crate) fn render(rows: &[Row], failed: &[(PathBuf, String)], format: SummaryFormat) -> Result<Vec<u8>> {
    Ok(match format {
        SummaryFormat::Markdown => {
            let mut s = markdown(rows);
            if !failed.is_empty() {
                s.push_str("\nFailed before training (bad options):\n\n");
                for (dir, reason) in failed {
                    s.push_str(&format!("- `{}`: {reason}\n", dir.display()));
                }
            }
            s.into_bytes()
        }
        SummaryFormat::Json => format!("{}\n", serde_json::to_string_pretty(rows)?).into_bytes(),
        SummaryFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            for r in rows {
                w.serialize(r)?;
            }
            w.into_inner()?
        }
    })
}
