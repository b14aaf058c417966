//! `imdb-rnn course` on a generated fixture, its scale cut to tiny sizes: every section
//! and figure present, every number the same as in the runs' files, `--only`, `--seeds`,
//! `--shard` and re-runs that train nothing.
mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The smoke scale cut down to the fixture, so the whole course trains in seconds.
const TINY: [&str; 13] = ["--scale", "smoke", "--subset", "40", "--epochs", "2", "--hidden", "4", "--emb-dim", "4", "--max-len", "30", "--quiet"];

struct Fixture {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    archive: PathBuf,
    glove: PathBuf,
    runs: PathBuf,
    out: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let archive = learnable_archive(tmp.path(), 30);
        let glove = write_glove_fixture(tmp.path());
        let (home, runs, out) = (tmp.path().join("home"), tmp.path().join("runs"), tmp.path().join("report/course.html"));
        Fixture { _tmp: tmp, home, archive, glove, runs, out }
    }

    fn course(&self, extra: &[&str]) -> assert_cmd::Command {
        self.course_at(&TINY, extra)
    }

    /// The course at `scale`'s settings instead of [`TINY`]'s.
    fn course_at(&self, scale: &[&str], extra: &[&str]) -> assert_cmd::Command {
        let mut cmd = imdb_rnn(&self.home);
        cmd.arg("course").args(scale).arg("--imdb").arg(&self.archive).arg("--glove").arg(&self.glove);
        cmd.arg("--runs-dir").arg(&self.runs).arg("--out").arg(&self.out).args(extra);
        cmd
    }

    fn root(&self) -> PathBuf {
        self.runs.join("course-smoke")
    }

    fn markdown(&self) -> String {
        std::fs::read_to_string(self.out.with_file_name("course.md")).unwrap()
    }

    fn html(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap()
    }

    /// `imdb-rnn data --json` on the same archive and encoding.
    fn data_report(&self) -> serde_json::Value {
        let out = imdb_rnn(&self.home)
            .args(["data", "--json", "--max-len", "30", "--quiet"])
            .arg("--imdb")
            .arg(&self.archive)
            .arg("--glove")
            .arg(&self.glove)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// stdout's `dir<TAB>status` lines, by status.
fn statuses(stdout: &[u8]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for line in String::from_utf8_lossy(stdout).lines().filter(|l| l.contains('\t')) {
        *out.entry(line.split('\t').nth(1).unwrap().to_string()).or_default() += 1;
    }
    out
}

fn run_dirs(root: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(root).unwrap().flatten().filter(|e| e.path().is_dir()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// How the report names a run's model, from its directory name `gru-l2-random-final-s0`.
fn label(run: &str) -> String {
    let parts: Vec<&str> = run.split('-').collect();
    let layers: i64 = parts[1][1..].parse().unwrap();
    let layers = if layers == 1 { "1 layer".to_string() } else { format!("{layers} layers") };
    let readout = if parts[3] == "final" { String::new() } else { format!(", readout {}", parts[3]) };
    format!("{} {layers}{readout}", parts[0].to_uppercase())
}

fn acc(v: &serde_json::Value) -> String {
    format!("{:.4}", v.as_f64().unwrap())
}

/// A markdown table row that starts with `first` and holds `cells` in this order.
fn has_row(md: &str, first: &str, cells: &[String]) -> bool {
    md.lines().any(|l| {
        let row: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
        row.first() == Some(&first) && {
            let mut at = 1;
            cells.iter().all(|c| match row[at..].iter().position(|x| x == c) {
                Some(i) => {
                    at += i + 1;
                    true
                }
                None => false,
            })
        }
    })
}

const SECTIONS: [&str; 9] = ["prep", "q1-q2", "q3", "q4-q5", "q6", "q7-q8", "q9-q11", "beyond", "reads"];

/// Every figure of the HTML is a non-empty PNG data URI, every figure of the Markdown a
/// PNG file next to it; returns how many each has.
fn assert_figures_drawn(f: &Fixture) -> usize {
    let html = f.html();
    let uris: Vec<&str> = html.split("src=\"data:image/png;base64,").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect();
    for uri in &uris {
        assert!(uri.starts_with("iVBORw0KGgo") && uri.len() > 2000, "a figure of the HTML is not a drawn PNG ({} bytes of base64)", uri.len());
    }
    let md = f.markdown();
    let files: Vec<&str> = md.split("](course_files/").skip(1).map(|s| &s[..s.find(')').unwrap()]).collect();
    for file in &files {
        let bytes = std::fs::read(f.out.with_file_name("course_files").join(file)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 1500, "{file} is not a drawn PNG");
    }
    assert_eq!(uris.len(), files.len(), "the HTML and the Markdown show the same figures");
    uris.len()
}

#[test]
fn the_smoke_course_writes_every_section_with_its_figures_and_the_runs_numbers_and_a_rerun_trains_nothing() {
    let f = Fixture::new();
    let first = f.course(&[]).assert().success();
    let trained = statuses(&first.get_output().stdout);
    let runs = run_dirs(&f.root());
    assert_eq!(trained.get("finished"), Some(&runs.len()), "every run trained once: {trained:?}");
    assert_eq!(runs.len(), 13, "{runs:?}");

    let (html, md) = (f.html(), f.markdown());
    for id in SECTIONS {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "HTML lacks section {id}");
        assert!(md.contains(&format!("--only {id} ")), "Markdown lacks the commands of section {id}");
    }
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(headings[..2], ["## Findings", "## Contents"]);
    assert_eq!(headings.len(), 2 + SECTIONS.len());
    // The summary at the top: one finding per section, each linked to its section.
    for id in SECTIONS {
        assert_eq!(md.lines().filter(|l| l.starts_with("- [") && l.contains(&format!("](#{id}): "))).count(), 1, "finding of {id}");
        assert!(html.contains(&format!("<li><a href=\"#{id}\">")), "HTML contents or findings lack {id}");
    }
    assert!(html.contains("<meta name=\"viewport\""));
    assert!(md.contains("one seed"), "one seed per model is labelled as such");
    assert!(!md.contains("could not be written"), "{md}");
    assert!(assert_figures_drawn(&f) >= 12);

    // Every run's accuracy in its tables, as its summary.json has it.
    for run in runs.iter().filter(|r| !r.contains("-glove-")) {
        let s = json(&f.root().join(run).join("summary.json"));
        assert!(has_row(&md, &label(run), &[acc(&s["final_test_acc"]), acc(&s["best_test_acc"])]), "no row for {run} with its accuracies");
    }
    for cell in ["rnn", "lstm", "gru"] {
        let random = json(&f.root().join(format!("{cell}-l1-random-final-s0/summary.json")));
        let glove = json(&f.root().join(format!("{cell}-l1-glove-final-s0/summary.json")));
        let row = [acc(&random["final_test_acc"]), acc(&glove["final_test_acc"]), "yes (bit for bit)".to_string()];
        assert!(has_row(&md, &label(&format!("{cell}-l1-random-final-s0")), &row), "Q7-Q8 row of {cell}");
    }
    // Q1-Q2's learning curve table is metrics.csv.
    let metrics = std::fs::read_to_string(f.root().join("rnn-l1-random-final-s0/metrics.csv")).unwrap();
    for line in metrics.lines().skip(1) {
        let v: Vec<&str> = line.split(',').collect();
        let num = |i: usize| format!("{:.4}", v[i].parse::<f64>().unwrap());
        assert!(has_row(&md, v[0], &[num(1), num(2), num(5), num(6)]), "epoch {} of the RNN", v[0]);
    }
    // Q9-Q11's depth table is layer 0's W_hh mean of grads_epoch.csv, averaged over epochs.
    for run in runs.iter().filter(|r| !r.contains("-glove-") && r.ends_with("-final-s0")) {
        let text = std::fs::read_to_string(f.root().join(run).join("grads_epoch.csv")).unwrap();
        let values: Vec<f64> = text
            .lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|r| r[1] == "0" && r[2] == "forward" && r[3] == "weight_hh" && r[4] == "all")
            .map(|r| r[5].parse().unwrap())
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let (cell, layers) = (run.split('-').next().unwrap().to_uppercase(), run.split('-').nth(1).unwrap()[1..].to_string());
        assert!(has_row(&md, &cell, &[layers.clone(), format!("{mean:.3e}")]), "depth table row {cell} {layers}: {mean:.3e}");
    }
    assert!(f.root().join("grads_by_depth.csv").is_file());
    // Preparation is what `imdb-rnn data` reports of the same archive.
    let data = f.data_report();
    for split in ["train", "test"] {
        let s = &data[split];
        let cells = [s["reviews"].to_string(), s["positive"].to_string(), format!("{:.1}", s["length_mean"].as_f64().unwrap()), s["length_p50"].to_string()];
        assert!(has_row(&md, split, &cells), "preparation row {split}");
        assert!(has_row(&md, split, &[format!("{:.1}%", 100.0 * s["truncated_share"].as_f64().unwrap())]));
    }
    for (i, pair) in data["top_words"].as_array().unwrap().iter().enumerate() {
        assert!(has_row(&md, &(i + 1).to_string(), &[pair[0].as_str().unwrap().to_string(), pair[1].to_string()]), "top word {i}");
    }
    let g = &data["glove"];
    assert!(md.contains(&format!("{} of the {} vocabulary words", g["found"], g["words"])), "GloVe coverage");

    // Again: nothing trains, the report is written again.
    let steps_before = std::fs::read(f.root().join("gru-l2-random-final-s0/steps.csv")).unwrap();
    std::fs::remove_file(&f.out).unwrap();
    let again = f.course(&[]).assert().success();
    let statuses = statuses(&again.get_output().stdout);
    assert_eq!(statuses.get("already finished"), Some(&13), "{statuses:?}");
    assert_eq!(statuses.get("finished"), None);
    assert_eq!(std::fs::read(f.root().join("gru-l2-random-final-s0/steps.csv")).unwrap(), steps_before);
    assert!(f.out.is_file());
}

#[test]
fn glove_of_another_size_than_the_random_embedding_adds_random_runs_of_its_size_and_q7_q8_compares_with_both() {
    let f = Fixture::new();
    // The fixture's GloVe is 4-d; a random embedding of 6 makes them differ.
    let mut six = TINY;
    six[TINY.iter().position(|a| *a == "--emb-dim").unwrap() + 1] = "6";
    f.course_at(&six, &["--only", "q7-q8"]).assert().success();
    let runs = run_dirs(&f.root());
    for cell in ["rnn", "lstm", "gru"] {
        for emb in ["random", "random4", "glove"] {
            assert!(runs.contains(&format!("{cell}-l1-{emb}-final-s0")), "{cell} {emb}: {runs:?}");
        }
    }
    assert_eq!(runs.len(), 9, "{runs:?}");
    let md = f.markdown();
    for cell in ["RNN", "LSTM", "GRU"] {
        let glove = json(&f.root().join(format!("{}-l1-glove-final-s0/summary.json", cell.to_lowercase())));
        for (label, dim, run) in [(format!("{cell} 1 layer"), "6", "random"), (format!("{cell} 1 layer, random 4-d"), "4", "random4")] {
            let random = json(&f.root().join(format!("{}-l1-{run}-final-s0/summary.json", cell.to_lowercase())));
            let row = [dim.to_string(), acc(&random["final_test_acc"]), "4".to_string(), acc(&glove["final_test_acc"])];
            assert!(has_row(&md, &label, &row), "Q7-Q8 row {label}: {row:?}\n{md}");
        }
    }
    assert!(md.contains("so the section also trains a random 4-d embedding"), "{md}");
    assert!(md.contains("frozen GloVe against a random embedding of its size:"), "the finding compares at one size");
    assert!(md.contains("the random embedding's size alone:"), "{md}");
}

#[test]
fn the_reading_section_explains_test_reviews_as_imdb_rnn_explain_does() {
    let f = Fixture::new();
    f.course(&["--only", "reads"]).assert().success();
    assert_eq!(run_dirs(&f.root()).len(), 4, "the course LSTM and beyond's three GRUs");
    let (md, html) = (f.markdown(), f.html());
    assert!(md.contains("| model | reviews | accuracy on them | mean \\|f(x) − f(baseline)\\| | first fifth |"), "{md}");
    // Each review shown is the one `explain --test-index` explains, with the same probability.
    let shown: Vec<&str> = md.lines().filter(|l| l.starts_with("### ") && l.contains(": test review ")).collect();
    assert!(!shown.is_empty(), "{md}");
    assert!(html.contains("<p class=\"review\"><span"), "the HTML tints the tokens");
    let command = md.lines().find(|l| l.starts_with("imdb-rnn explain --run ")).expect("the explain command");
    let words: Vec<&str> = command.split_whitespace().collect();
    let at = |flag: &str| words[words.iter().position(|w| *w == flag).unwrap() + 1];
    let (dir, index) = (at("--run"), at("--test-index"));
    let heading = shown.iter().find(|l| l.contains(&format!(": test review {index} ("))).expect("the command's review is shown");
    let out = imdb_rnn(&f.home).args(["explain", "--json", "--run", dir, "--test-index", index]).arg("--imdb").arg(&f.archive).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let explained: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = explained["probability_positive"].as_f64().unwrap();
    assert!(heading.contains(&format!("with P(positive) {p:.3}")), "{heading} against explain's {p}");
    // The table's completeness column counts reviews within 1%, of the reviews explained.
    let row = md.lines().find(|l| l.starts_with("| GRU 1 layer, readout ") || l.starts_with("| LSTM 1 layer |")).expect("a model row");
    let cells: Vec<&str> = row.split(" | ").collect();
    let (reviews, complete) = (cells[1], cells[cells.len() - 1].trim_end_matches(" |"));
    assert!(complete.ends_with(&format!(" of {reviews}")), "{row}");
    assert!(md.lines().any(|l| l.starts_with("- [What the model reads](#reads): where the attribution falls")), "the summary's line");
}

#[test]
fn only_writes_the_chosen_sections_runs_only_their_runs_and_shards_write_the_report_once_all_are_done() {
    let f = Fixture::new();
    let first = f.course(&["--only", "q3", "--seeds", "2", "--shard", "0/2"]).assert().success();
    assert_eq!(statuses(&first.get_output().stdout).get("finished"), Some(&4));
    assert!(!f.out.exists(), "no report while the other shard's runs are missing");
    assert!(String::from_utf8_lossy(&first.get_output().stderr).contains("4 of 8 runs are not finished yet"));
    let second = f.course(&["--only", "q3", "--seeds", "2", "--shard", "1/2"]).assert().success();
    assert_eq!(statuses(&second.get_output().stdout).get("finished"), Some(&4));
    let runs = run_dirs(&f.root());
    let mut expected: Vec<String> = (1..=4).flat_map(|l| (0..2).map(move |s| format!("rnn-l{l}-random-final-s{s}"))).collect();
    expected.sort();
    assert_eq!(runs, expected, "q3 runs the RNN depths only");
    let html = f.html();
    assert_eq!(html.matches("<section id=").count(), 2, "the findings and q3");
    assert!(html.contains("<section id=\"findings\"") && html.contains("<section id=\"q3\">"));
    assert!(assert_figures_drawn(&f) >= 2);
    // Tables show mean ± sample std over the seeds, from their summary.json.
    let md = f.markdown();
    for layers in 1..=4 {
        let accs: Vec<f64> =
            (0..2).map(|s| json(&f.root().join(format!("rnn-l{layers}-random-final-s{s}/summary.json")))["final_test_acc"].as_f64().unwrap()).collect();
        let mean = (accs[0] + accs[1]) / 2.0;
        let std = ((accs[0] - mean).powi(2) + (accs[1] - mean).powi(2)).sqrt();
        let run = format!("rnn-l{layers}-random-final-s0");
        assert!(has_row(&md, &label(&run), &["2".to_string(), format!("{mean:.4} ± {std:.4}")]), "mean ± std of {run}");
    }
    // The reading judges each depth against 1 layer by the rule: a finding only beyond
    // 2 standard errors of the difference, else "within seed noise (n = 2".
    let accs = |layers: usize| -> Vec<f64> {
        (0..2).map(|s| json(&f.root().join(format!("rnn-l{layers}-random-final-s{s}/summary.json")))["final_test_acc"].as_f64().unwrap()).collect()
    };
    let (one, four) = (accs(1), accs(4));
    let var = |v: &[f64]| {
        let m = (v[0] + v[1]) / 2.0;
        (v[0] - m).powi(2) + (v[1] - m).powi(2)
    };
    let diff = (four[0] + four[1] - one[0] - one[1]) / 2.0;
    // Welch's SE over the seeds, never below the binomial floor of the test reviews.
    let n_test = json(&f.root().join("rnn-l1-random-final-s0/config.json"))["test_reviews"].as_f64().unwrap();
    let p = |v: &[f64]| (v[0] + v[1]) / 2.0;
    let floor = (p(&one) * (1.0 - p(&one)) / n_test + p(&four) * (1.0 - p(&four)) / n_test).sqrt();
    let se = (var(&one) / 2.0 + var(&four) / 2.0).sqrt().max(floor);
    let verdict = if diff.abs() > 2.0 * se && diff != 0.0 { "**a finding** (beyond 2 SE" } else { "within seed noise (n = 2" };
    let expected = format!("RNN 4 layers − RNN 1 layer: {:+.1} points, {verdict}", 100.0 * diff);
    assert!(md.contains(&expected), "expected {expected:?} in the Q3 reading:\n{md}");
    assert!(!md.contains("The best final test accuracy"), "no ranking of noise");
    let third = f.course(&["--only", "q3", "--seeds", "2"]).assert().success();
    assert_eq!(statuses(&third.get_output().stdout).get("already finished"), Some(&8));
}

#[test]
fn jobs_train_the_runs_in_parallel_workers_with_the_results_of_a_sequential_course_and_write_the_report_once() {
    let f = Fixture::new();
    let parallel = f.course(&["--only", "q3", "--seeds", "2", "--jobs", "2", "--threads", "1", "--name", "parallel"]).assert().success();
    let sequential = f.course(&["--only", "q3", "--seeds", "2", "--threads", "1", "--name", "sequential"]).assert().success();
    let listed = statuses(&parallel.get_output().stdout);
    assert_eq!(listed.values().sum::<usize>(), 8, "each run listed once: {listed:?}");
    assert!(f.out.is_file());
    assert!(String::from_utf8_lossy(&parallel.get_output().stderr).contains("imdb-rnn: 2 worker processes, 1 CPU thread(s) each"));
    assert_eq!(statuses(&sequential.get_output().stdout).get("finished"), Some(&8));
    for run in run_dirs(&f.runs.join("sequential")) {
        let (seq, par) = (f.runs.join("sequential").join(&run), f.runs.join("parallel").join(&run));
        assert_eq!(metrics_without_timing(&seq), metrics_without_timing(&par), "{run}");
        assert_eq!(std::fs::read(seq.join("grads.csv")).unwrap(), std::fs::read(par.join("grads.csv")).unwrap(), "{run}");
    }
    assert_eq!(run_dirs(&f.runs.join("parallel")).len(), 8);
}

#[test]
fn a_bad_only_value_or_a_flag_the_course_varies_is_refused_in_one_line_before_any_work() {
    let f = Fixture::new();
    let out = f.course(&["--only", "q3,q12"]).assert().code(1).get_output().clone();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "imdb-rnn: --only \"q12\": not a section of the course report; valid sections: prep, q1-q2, q3, q4-q5, q6, q7-q8, q9-q11, beyond, reads (or questions such as q7 or q1-q5)\n"
    );
    let out = f.course(&["--layers", "2"]).assert().code(1).get_output().clone();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "imdb-rnn: course: --layers is what the course varies (each section chooses it); leave it out, or run `imdb-rnn train` for one model\n"
    );
    assert!(!f.runs.exists() && !f.out.exists(), "nothing written");
}

#[test]
fn a_course_that_finds_a_run_locked_by_another_process_says_so_without_speaking_of_shards() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.root()).unwrap();
    // Another process training Q1-Q2's one run: its lock is held.
    let lock = std::fs::File::create(f.root().join(".rnn-l1-random-final-s0.lock")).unwrap();
    lock.try_lock().unwrap();
    let out = f.course(&["--only", "q1-q2"]).assert().success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stderr),
        "imdb-rnn course: 1 of 1 runs are not finished yet (another process is training them); run the same command again once it ends, to write the report\n"
    );
    assert!(!f.out.exists(), "no report while a run is unfinished");
}

#[test]
fn course_help_does_not_offer_the_flags_the_course_varies_but_keeps_the_shared_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let out = imdb_rnn(tmp.path()).args(["course", "--help"]).assert().success().get_output().clone();
    let help = String::from_utf8_lossy(&out.stdout);
    for hidden in ["--cell <", "--layers <", "--emb <", "--readout <", "--batching <", "--seed <"] {
        assert!(!help.contains(hidden), "course --help offers {hidden}:\n{help}");
    }
    for shown in ["--epochs <", "--subset <", "--seeds <", "--emb-dim <"] {
        assert!(help.contains(shown), "course --help lacks {shown}");
    }
}

#[test]
fn a_course_without_glove_and_without_network_names_the_scales_50d_file_at_once() {
    let f = Fixture::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let a = imdb_rnn(&f.home)
        .arg("course")
        .args(TINY)
        .arg("--imdb")
        .arg(&f.archive)
        .arg("--runs-dir")
        .arg(&f.runs)
        .arg("--out")
        .arg(&f.out)
        .env("IMDB_RNN_MIRROR", format!("http://127.0.0.1:{port}"))
        .assert()
        .failure()
        .code(1);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    let line = stderr.lines().last().unwrap_or("");
    assert!(line.contains(&format!("cannot reach http://127.0.0.1:{port}/glove-wiki-gigaword-50.gz to download glove-wiki-gigaword-50.gz (")), "{line}");
    assert!(!stderr.contains("retrying"), "{stderr}");
    assert!(!f.out.exists(), "no report");
}
