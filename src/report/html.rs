//! The HTML report: one self-contained file of a runs directory (summary table, figures
//! embedded as data URIs, each run's status and configuration).
use crate::report::plots;
use crate::report::summary::{find_runs, rows, FoundRun, Row, ACCURACY_HEADERS};
use anyhow::{bail, Context, Result};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Standard base64 (RFC 4648), for data URIs.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub(crate) fn img(path: &Path, alt: &str) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(format!("<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>", escape(alt), base64(&bytes), escape(alt)))
}

/// Readable from a phone (390 px) to a desktop: the page never scrolls sideways; wide
/// tables and commands scroll inside their own box.
pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
p,li{overflow-wrap:anywhere}.scroll{overflow-x:auto;margin:1.2em 0;max-width:100%}\
table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\
figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #ddd}\
figcaption{font-size:13px;color:#555}pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12.5px;max-width:100%}\
section{border-top:1px solid #ddd;margin-top:2em}code{background:#f3f3f3;padding:0 3px}\
nav.toc ol{columns:2 18em;padding-left:1.5em}.findings li{margin:0.2em 0}";

/// Whether a table cell holds a number (`0.5060`, `0.61 ± 0.02`, `1.42e-1`, `59.9%`,
/// `+3.1`, `12,000`), so its column is right-aligned.
pub(crate) fn is_number(cell: &str) -> bool {
    let value = cell.split(" ± ").next().unwrap_or("").trim().trim_end_matches('%').replace(',', "").replace('−', "-");
    !value.is_empty() && value.parse::<f64>().is_ok()
}

/// Which columns are numbers: every cell of the column is one (a `-` placeholder counts).
pub(crate) fn numeric_columns(width: usize, rows: &[Vec<String>]) -> Vec<bool> {
    (0..width)
        .map(|i| rows.iter().all(|r| r.get(i).is_none_or(|c| c == "-" || is_number(c))) && rows.iter().any(|r| r.get(i).is_some_and(|c| is_number(c))))
        .collect()
}

/// A table in a box that scrolls sideways on a narrow screen; number columns right-aligned.
pub(crate) fn table_html(h: &mut String, header: &[String], rows: &[Vec<String>], cell_html: impl Fn(&str) -> String) {
    let numeric = numeric_columns(header.len(), rows);
    let class = |i: usize| if numeric.get(i).copied().unwrap_or(false) { " class=\"num\"" } else { "" };
    h.push_str("<div class=\"scroll\"><table><tr>");
    for (i, c) in header.iter().enumerate() {
        let _ = write!(h, "<th{}>{}</th>", class(i), escape(c));
    }
    h.push_str("</tr>");
    for row in rows {
        h.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let _ = write!(h, "<td{}>{}</td>", class(i), cell_html(c));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></div>");
}

/// Writes the HTML report of the runs under `root` to `out` (atomically). The run
/// directories gain their PNG figures on the way, as `imdb-rnn plot` would write them;
/// returns those figures' paths.
pub(crate) fn write_report(root: &Path, out: &Path) -> Result<Vec<PathBuf>> {
    let (runs, _) = super::duplicates::distinct_runs(find_runs(root)?);
    if runs.is_empty() {
        bail!("no run directories under {} (looked for config.json written by imdb-rnn train)", root.display());
    }
    let rows = rows(&runs);
    let mut html = String::new();
    let title = format!("imdb-rnn report: {}", root.display());
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{0}</title><style>{STYLE}</style></head><body><h1>{0}</h1>",
        escape(&title)
    );
    let _ = write!(
        html,
        "<p>{} run directories, {} configurations. Accuracies are mean ± sample std over seeds; generated by imdb-rnn {}.</p>",
        runs.len(),
        rows.len(),
        env!("CARGO_PKG_VERSION")
    );
    summary_table(&mut html, &rows);
    study_figures(&mut html, &runs)?;
    overlay(&mut html, &runs)?;
    html.push_str("<h2>Runs</h2>");
    let mut figures = Vec::new();
    for r in &runs {
        figures.extend(run_section(&mut html, r)?);
    }
    html.push_str("</body></html>\n");
    crate::util::write_atomic(out, html.as_bytes())?;
    Ok(figures)
}

/// The summary table, the columns of `imdb-rnn summary`'s markdown and the embedding's
/// dimension (a random embedding and GloVe may differ in size as well as in vectors).
fn summary_table(html: &mut String, rows: &[Row]) {
    let [val, fin, best] = ACCURACY_HEADERS;
    let header: Vec<String> = [
        "cell",
        "layers",
        "hidden",
        "bi",
        "emb",
        "emb dim",
        "readout",
        "epochs",
        "subset",
        "seeds",
        val,
        fin,
        best,
        "best epoch",
        "s/epoch",
        "params",
        "failed",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.cell.clone(),
                r.layers.to_string(),
                r.hidden.to_string(),
                if r.bidirectional { "yes" } else { "no" }.into(),
                r.emb.clone(),
                r.emb_dim.to_string(),
                r.readout.clone(),
                r.epochs.to_string(),
                r.subset.clone(),
                r.seeds.clone(),
                r.at_best_val(),
                r.accuracy(r.final_acc, r.final_acc_std),
                r.accuracy(r.best_acc, r.best_acc_std),
                r.number(r.best_epoch),
                r.number(r.epoch_seconds),
                r.parameters.to_string(),
                r.failed.to_string(),
            ]
        })
        .collect();
    html.push_str("<h2>Summary</h2>");
    table_html(html, &header, &cells, escape);
    let dims: std::collections::BTreeSet<(String, i64)> = rows.iter().map(|r| (r.emb.clone(), r.emb_dim)).collect();
    let random: Vec<i64> = dims.iter().filter(|(e, _)| e == "random").map(|d| d.1).collect();
    let glove: Vec<i64> = dims.iter().filter(|(e, _)| e.starts_with("glove")).map(|d| d.1).collect();
    if random.iter().any(|r| !glove.is_empty() && !glove.contains(r)) {
        let _ = write!(
            html,
            "<p><strong>Two changes at once</strong>: the random embeddings here are {}-d and GloVe {}-d, so random against GloVe compares the vectors and the size together \
             (train the random ones with <code>--emb-dim</code> equal to GloVe's to compare one change).</p>",
            dims_text(&random),
            dims_text(&glove)
        );
    }
}

/// `100` or `50/100`.
fn dims_text(dims: &[i64]) -> String {
    dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("/")
}

/// Study-level figures (e.g. from `imdb-rnn grads`) anywhere under the root.
fn study_figures(html: &mut String, runs: &[FoundRun]) -> Result<()> {
    let mut study_figs = Vec::new();
    for name in ["grad_vs_depth.png", "grad_time.png", "grad_time_from_end.png"] {
        for r in runs {
            if let Some(parent) = r.dir.parent() {
                let p = parent.join(name);
                if p.is_file() && !study_figs.contains(&p) {
                    study_figs.push(p);
                }
            }
        }
    }
    if !study_figs.is_empty() {
        html.push_str("<h2>Gradient study</h2>");
        for p in &study_figs {
            html.push_str(&img(p, &p.display().to_string())?);
        }
    }
    Ok(())
}

/// Whether a run has finished an epoch: runs still in their first epoch (a sweep that is
/// running) have nothing to draw.
fn has_epochs(dir: &Path) -> bool {
    crate::train::run::read_metrics(dir).is_ok_and(|m| !m.is_empty())
}

/// Every run's test accuracy and loss in one figure, when there are several to compare.
fn overlay(html: &mut String, runs: &[FoundRun]) -> Result<()> {
    let dirs: Vec<PathBuf> = runs.iter().filter(|r| has_epochs(&r.dir)).map(|r| r.dir.clone()).collect();
    if dirs.len() > 1 {
        let overlay = std::env::temp_dir().join(format!("imdb-rnn-overlay-{}.png", std::process::id()));
        plots::learning_curves_overlay(&dirs, &overlay)?;
        html.push_str("<h2>Learning curves, all runs</h2>");
        html.push_str(&img(&overlay, "test accuracy and loss per epoch, every run")?);
        let _ = std::fs::remove_file(&overlay);
    }
    Ok(())
}

/// One run: its outcome, its figures (drawn into the run directory; their paths are
/// returned), its configuration.
fn run_section(html: &mut String, r: &FoundRun) -> Result<Vec<PathBuf>> {
    let _ = write!(html, "<section><h3>{}</h3>", escape(&r.dir.display().to_string()));
    match &r.summary {
        Some(s) if s.is_finished() => {
            let at_val = s.test_acc_at_best_val.map(|a| format!("test accuracy at the best validation epoch {a:.4}, ")).unwrap_or_default();
            let _ = write!(
                html,
                "<p>{at_val}final test accuracy {:.4}, best test accuracy (selected on test) {:.4} at epoch {}, {:.1} s/epoch, {} parameters</p>",
                s.final_test_acc, s.best_test_acc, s.best_epoch, s.mean_epoch_seconds, s.parameters
            );
        }
        Some(s) => {
            let _ = write!(html, "<p><strong>{}</strong>: {}</p>", escape(s.status.as_str()), escape(s.reason.as_deref().unwrap_or("")));
        }
        None if has_epochs(&r.dir) => html.push_str("<p>unfinished: running, or stopped (no summary.json)</p>"),
        None => html.push_str("<p>unfinished: no epoch completed yet</p>"),
    }
    let figures = if has_epochs(&r.dir) { plots::plot_run(&r.dir)? } else { Vec::new() };
    for p in &figures {
        html.push_str(&img(p, p.file_name().and_then(|n| n.to_str()).unwrap_or(""))?);
    }
    let config = serde_json::to_string_pretty(&r.record)?;
    let _ = write!(html, "<details><summary>configuration</summary><pre>{}</pre></details></section>", escape(&config));
    Ok(figures)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, out) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(super::base64(input.as_bytes()), out);
        }
    }

    use super::*;

    #[test]
    fn number_columns_are_right_aligned_and_text_columns_left_aligned() {
        for n in ["0.5060", "0.61 ± 0.02", "1.42e-1", "59.9%", "+3.1", "−0.4", "12,000"] {
            assert!(is_number(n), "{n}");
        }
        for t in ["RNN 1 layer", "`good`", "layer 0", "yes (bit for bit)", "[0.1, 0.2]", "-"] {
            assert!(!is_number(t), "{t}");
        }
        let rows = vec![vec!["RNN 1 layer".to_string(), "0.51 ± 0.01".to_string(), "-".to_string()], vec!["GRU".into(), "0.6".into(), "3".into()]];
        assert_eq!(numeric_columns(3, &rows), [false, true, true]);
    }
}
