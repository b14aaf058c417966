//! PNG figures of runs: learning curves, gradient heatmaps, depth and time profiles.
//!
//! The figures share one layout: a title and subtitle, the panels, and a legend strip (or
//! colour bar) to the right of the panels, so a legend never hides data. Axis titles say
//! what is shown and in which unit; values spanning decades get a log scale. One file per
//! idea: the canvas ([`figure`]), line charts ([`chart`]), axes ([`scale`]), heatmaps
//! ([`heatmap`]), the run files read ([`run_files`]), and the figures themselves
//! ([`curves`], [`gradients`]).
use crate::train::run::RunDir;
use anyhow::Result;
use std::path::{Path, PathBuf};

mod chart;
mod course;
mod curves;
mod figure;
mod gradients;
mod heatmap;
mod run_files;
mod scale;

pub(crate) use course::{accuracy_vs_depth, length_distribution, seed_curves, SeedCurves};
pub(crate) use curves::{learning_curves, learning_curves_overlay};
pub(crate) use gradients::{grad_heatmap, grad_over_time, grad_vs_depth, DepthPoint, ZeroCut};
use run_files::{distinct_epochs, read_time_rows, spread, time_profile};
pub(crate) use run_files::{read_first_layer_norm, read_layer_epoch_norms, read_time_profile};

/// A finished run's figures, so a user can look without another command: a figure that
/// fails is a warning on stderr, never a failed run.
pub(crate) fn plot_finished_run(run_dir: &Path) {
    if let Err(e) = plot_run(run_dir) {
        crate::errln!("imdb-rnn: warning: could not draw the figures of {}: {e:#}", run_dir.display());
    }
}

/// Writes learning_curves.png, and grad_heatmap.png and grad_time.png when the run logged
/// gradients, into the run directory; returns the paths written. grad_time.png shows
/// ‖dL/dx_t‖ back from the last real token for up to six epochs spread over the run.
pub(crate) fn plot_run(run_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let out = run_dir.join("learning_curves.png");
    learning_curves(run_dir, &out)?;
    written.push(out);
    let run = RunDir::new(run_dir);
    if run.grads_epoch().exists() {
        let out = run_dir.join("grad_heatmap.png");
        grad_heatmap(run_dir, &out)?;
        written.push(out);
    }
    if run.grads_time().exists() {
        let rows = read_time_rows(run_dir)?;
        let epochs: Vec<usize> = spread(&distinct_epochs(&rows), 6);
        let series: Vec<(String, Vec<(i64, f64)>)> = epochs.iter().map(|&e| (format!("epoch {e}"), time_profile(&rows, e, true))).collect();
        let out = run_dir.join("grad_time.png");
        grad_over_time(&series, &out, true)?;
        written.push(out);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::fixtures::fake_run;
    use super::*;
    use std::fs;

    #[test]
    fn plot_run_writes_what_the_run_has() {
        let tmp = tempfile::tempdir().unwrap();
        let full = tmp.path().join("full");
        fake_run(&full, "full", true, true);
        let names: Vec<String> = plot_run(&full).unwrap().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["learning_curves.png", "grad_heatmap.png", "grad_time.png"]);
        for name in &names {
            assert!(full.join(name).is_file());
        }
        let bare = tmp.path().join("bare");
        fake_run(&bare, "bare", false, false);
        assert_eq!(plot_run(&bare).unwrap(), vec![bare.join("learning_curves.png")]);
    }

    #[test]
    fn missing_or_bad_files_give_one_line_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let empty = tmp.path().join("not-a-run");
        fs::create_dir_all(&empty).unwrap();
        let out = tmp.path().join("x.png");
        let err = learning_curves(&empty, &out).unwrap_err().to_string();
        assert_eq!(err, format!("{} has no metrics.csv; is it a run directory of imdb-rnn train?", empty.display()));
        assert!(plot_run(&empty).unwrap_err().to_string().contains("has no metrics.csv"));

        let run = tmp.path().join("run");
        fake_run(&run, "r", false, false);
        for err in [grad_heatmap(&run, &out).unwrap_err(), read_first_layer_norm(&run).unwrap_err(), read_time_profile(&run, None, false).unwrap_err()] {
            let err = format!("{err:#}");
            assert!(err.contains("has no grads_") && err.contains("--grad-every") && !err.contains('\n'), "{err}");
        }

        fs::write(run.join("metrics.csv"), "epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,lr,epoch_seconds,tokens_per_s\n").unwrap();
        assert!(learning_curves(&run, &out).unwrap_err().to_string().contains("has no rows yet"));
        fs::write(run.join("grads_epoch.csv"), "epoch,layer,direction,parameter,gate,mean,median,max,last\n1,0,forward,weight_hh,all,abc,1,1,1\n").unwrap();
        let err = format!("{:#}", grad_heatmap(&run, &out).unwrap_err());
        assert!(err.contains("grads_epoch.csv is malformed") && !err.contains('\n'), "{err}");
    }
}

/// Small run directories and a check that a PNG shows a drawing, for the figures' tests.
#[cfg(test)]
mod fixtures {
    use std::fs;
    use std::path::Path;

    /// A run directory like `imdb-rnn train --layers 3 --grad-every 1` writes, small.
    pub(super) fn fake_run(dir: &Path, name: &str, with_val: bool, with_grads: bool) {
        fs::create_dir_all(dir).unwrap();
        let args = crate::train::config::TrainArgs { layers: Some(3), hidden: Some(32), ..Default::default() };
        let record = crate::train::run::RunRecord {
            name: name.into(),
            imdb_rnn: String::new(),
            git: String::new(),
            libtorch: String::new(),
            cuda_available: false,
            cudnn_version: None,
            device: "Cpu".into(),
            archive: String::new(),
            train_reviews: 0,
            val_reviews: 0,
            test_reviews: 0,
            cpu: None,
            config: crate::train::config::TrainConfig::resolve(&args, None).unwrap(),
            data_files: Vec::new(),
        };
        crate::train::run::RunDir::new(dir).write_config(&record).unwrap();
        let mut metrics = String::from("epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,lr,epoch_seconds,tokens_per_s\n");
        for e in 1..=5 {
            let loss = 0.7 / (e * e) as f64;
            let (vl, va) = if with_val { (format!("{}", loss * 1.2), format!("{}", 0.5 + 0.09 * e as f64)) } else { (String::new(), String::new()) };
            metrics += &format!("{e},{loss},{},{vl},{va},{},{},0.01,1.5,10000\n", 0.5 + 0.1 * e as f64, loss * 1.3, 0.5 + 0.08 * e as f64);
        }
        fs::write(dir.join("metrics.csv"), metrics).unwrap();
        if !with_grads {
            return;
        }
        let mut epoch = String::from("epoch,layer,direction,parameter,gate,mean,median,max,last\n");
        for e in 1..=5 {
            epoch += &format!("{e},,-,embedding.weight,all,0.01,0.01,0.02,0.01\n");
            for layer in 0..3 {
                for param in ["weight_ih", "weight_hh", "bias_ih"] {
                    for gate in ["all", "i", "f", "g", "o"] {
                        let v = 0.1 * 10f64.powi(layer - 3) * e as f64 * if param == "weight_ih" { 3.0 } else { 1.0 };
                        epoch += &format!("{e},{layer},forward,{param},{gate},{v},{v},{v},{v}\n");
                    }
                }
            }
            epoch += &format!("{e},,-,total_pre_clip,all,1.0,1.0,1.0,1.0\n");
        }
        fs::write(dir.join("grads_epoch.csv"), epoch).unwrap();
        let mut time = String::from("epoch,t,norm,count,t_from_end,norm_from_end,count_from_end\n");
        for e in 1..=3 {
            for t in 0..40 {
                // f32, as a run writes them.
                let (norm, count) = if t < 30 { (format!("{}", (1e-3 * 0.85f64.powi(30 - t) * e as f64) as f32), 100) } else { (String::new(), 0) };
                let norm_end = if t < 30 { format!("{}", (1e-3 * 0.85f64.powi(t) * e as f64) as f32) } else { String::new() };
                time += &format!("{e},{t},{norm},{count},{t},{norm_end},{count}\n");
            }
        }
        fs::write(dir.join("grads_time.csv"), time).unwrap();
    }

    /// The PNG decodes, has the size asked for, and shows more than a blank canvas: many
    /// distinct colours (anti-aliased text, lines, colour maps).
    pub(super) fn assert_drawn(path: &Path, size: (u32, u32)) {
        let image = image::open(path).unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display())).to_rgb8();
        assert_eq!(image.dimensions(), size, "{}", path.display());
        let colours: std::collections::HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 40, "{} has only {} colours", path.display(), colours.len());
        let non_white = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(non_white > image.pixels().len() / 50, "{} is nearly blank", path.display());
    }
}
