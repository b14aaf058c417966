//! `imdb-rnn course`: the course answered in one command. It plans the runs the chosen
//! sections need ([`plan`]), runs them on the sweep machinery (resumable, shardable, data
//! prepared once), reads them back ([`results`]) and writes one report by question
//! ([`chapters`]) as self-contained HTML and a Markdown twin ([`doc`]).
pub(crate) mod chapters;
pub(crate) mod doc;
pub(crate) mod plan;
pub(crate) mod results;
pub(crate) mod sections;

use crate::data::source::{DataCache, DataSource};
use crate::exit::Exit;
use crate::sweep::grid::take_shard;
use crate::sweep::jobs::{launch_workers_if_asked, Jobs};
use crate::sweep::point::{is_finished, refuse_changed_options};
use crate::sweep::{run_all, say_stopped, RunAll};
use crate::train::config::{TrainArgs, TrainConfig};
use crate::train::run::RunDir;
use crate::train::signal::StopFlags;
use anyhow::{Context, Result};
use plan::Scale;
use sections::Section;
use std::path::{Path, PathBuf};

/// A course as asked for, validated (`cmd::course` builds it from the flags).
pub(crate) struct CourseRequest {
    pub scale: Scale,
    /// Seeds per model, at least 1.
    pub seeds: u64,
    /// The sections to write, in report order.
    pub sections: Vec<Section>,
    /// The HTML report; its Markdown twin and figures go next to it ([`companions`]).
    pub out: PathBuf,
    /// The train options the user gave, over the scale's.
    pub train: TrainArgs,
    /// This invocation's share `(I, N)` of the runs, when `--shard I/N` was given.
    pub shard: Option<(usize, usize)>,
    pub retry_failed: bool,
    pub jobs: Jobs,
    /// The course directory that holds one run directory per model and seed.
    pub root: PathBuf,
    pub source: DataSource,
}

/// Where the Markdown twin and the figures go: `course.html` -> `course.md`, `course_files/`.
pub(crate) fn companions(out: &Path) -> Result<(PathBuf, PathBuf)> {
    let stem = out.file_stem().filter(|s| !s.is_empty()).with_context(|| format!("--out {}: expected a file name such as course.html", out.display()))?;
    let stem = stem.to_string_lossy();
    Ok((out.with_file_name(format!("{stem}.md")), out.with_file_name(format!("{stem}_files"))))
}

pub(crate) fn run(args: &CourseRequest) -> Result<Exit> {
    let (sections, seeds, root) = (&args.sections, args.seeds, &args.root);
    let (markdown, figures) = companions(&args.out)?;
    crate::destination::check_report_files(&args.out, &markdown, &figures)?;
    let shard = args.shard.unwrap_or((0, 1));
    let shared = args.scale.base().overlay(&args.train);
    let glove_value = args.train.glove.clone().unwrap_or_else(|| args.scale.default_glove().into());
    let glove = plan::needs_glove(sections).then_some(glove_value.as_str());
    // Every run shares one encoding; the report reads the whole archive through it.
    let encode = TrainConfig::resolve(&shared, None)?.encode;
    let mut data = DataCache::new(&args.source);
    let glove_apart = plan::glove_apart(&shared, glove_dim(glove, &mut data)?);
    let models = plan::all_models(sections, args.scale, glove_apart);
    let all_points = plan::points(root, &models, seeds, &shared, glove);
    for p in &all_points {
        p.checked.as_ref().map_err(|e| anyhow::anyhow!("course run {}: {e}", p.name))?;
        refuse_changed_options(p)?;
    }
    let mine = take_shard(all_points.clone(), shard);
    let stop = StopFlags::install();
    let jobs = args.jobs;
    let mut unfinished_before = 0;
    if jobs.launches() {
        // Prepared once here, so the workers find the encoded cache instead of each
        // preparing it.
        data.load(encode, glove)?;
        unfinished_before = mine.iter().filter(|p| !is_finished(&p.dir)).count();
    }
    if let Some(code) = launch_workers_if_asked(jobs, args.train.threads, "course", &stop)? {
        return Ok(code);
    }
    let opts = RunAll { label: "course", progress: !args.source.quiet, retry_failed: args.retry_failed, worker: jobs.worker };
    let mut tally = run_all(&mine, &mut data, &opts, &stop, |p, status| {
        crate::outln!("{}\t{}", p.dir.display(), status.describe());
        Ok(())
    })?;
    if let Some(code) = tally.stopped {
        say_stopped("course");
        return Ok(code);
    }
    if jobs.worker.is_some() {
        return Ok(if tally.failed > 0 { Exit::SomeFailed } else { Exit::Success });
    }
    if jobs.launches() {
        // The workers trained them; this process found them finished.
        let trained = unfinished_before - mine.iter().filter(|p| !is_finished(&p.dir)).count();
        tally.trained += trained;
        tally.skipped -= trained.min(tally.skipped);
    }
    let unfinished = all_points.iter().filter(|p| !is_finished(&p.dir)).count();
    if unfinished > 0 && (args.shard.is_some() || tally.busy > 0) {
        crate::errln!("imdb-rnn course: {unfinished} of {} runs are not finished yet ({}", all_points.len(), waiting_for(args.shard.is_some()));
        return Ok(if tally.failed > 0 { Exit::SomeFailed } else { Exit::Success });
    }
    let loaded = data.load(encode, glove)?;
    if let Some(n) = shared.threads {
        // The report's own tensor work (the explanations of "reads") on the threads the
        // runs were given: more than the cores free makes libtorch's threads spin.
        tch::set_num_threads(n as i32);
    }
    std::fs::create_dir_all(&figures).with_context(|| format!("cannot create {}", figures.display()))?;
    let ctx = chapters::Ctx {
        scale: args.scale,
        glove_apart,
        sections,
        seeds,
        root,
        figures: &figures,
        data: loaded.data,
        glove: loaded.glove,
        shared: &shared,
        data_flags: data_flags(args, glove),
        glove_value: glove,
        course_flags: course_flags(args, seeds),
    };
    let parts: Vec<doc::Part> = sections.iter().map(|&s| chapters::write(s, &ctx)).collect();
    let doc =
        doc::Doc { title: format!("The RNN course on IMDB, answered ({} scale)", args.scale.name()), intro: intro(args, seeds, &shared, root, &tally), parts };
    let link = figures.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    crate::util::write_atomic(&markdown, doc.markdown(&link).as_bytes())?;
    crate::util::write_atomic(&args.out, doc.html(&figures)?.as_bytes())?;
    crate::outln!("{}", args.out.display());
    crate::outln!("{}", markdown.display());
    Ok(if tally.failed > 0 { Exit::SomeFailed } else { Exit::Success })
}

/// The dimension of the GloVe file the course reads, if it reads one (found, or fetched,
/// before any run: the plan depends on it).
/// The file is looked up through `data`, so loading the vectors later finds it again.
fn glove_dim(glove: Option<&str>, data: &mut DataCache) -> Result<Option<i64>> {
    let Some(value) = glove else { return Ok(None) };
    let path = data.glove_file(value)?;
    Ok(Some(crate::data::glove::peek_dim(&path)? as i64))
}

fn data_flags(args: &CourseRequest, glove: Option<&str>) -> String {
    let mut f = String::new();
    if let Some(imdb) = &args.source.imdb {
        f.push_str(&format!(" --imdb {imdb}"));
    }
    if let Some(g) = glove {
        f.push_str(&format!(" --glove {g}"));
    }
    f
}

/// The flags that give this course again: scale, seeds and the overrides (GloVe is with
/// the data flags).
fn course_flags(args: &CourseRequest, seeds: u64) -> String {
    let mut over = args.train.clone();
    over.glove = None;
    let mut f = format!("--scale {} --seeds {seeds}", args.scale.name());
    let extra = chapters::train_flags(&over);
    if !extra.is_empty() {
        f.push(' ');
        f.push_str(&extra);
    }
    f
}

/// How many test reviews the course's runs measured their accuracies on (from the first
/// run's config.json found under `root`), for the statement of the statistics rule.
fn test_reviews(root: &Path) -> Option<usize> {
    let mut runs: Vec<RunDir> = std::fs::read_dir(root).ok()?.flatten().map(|e| RunDir::new(&e.path())).filter(RunDir::is_run).collect();
    runs.sort_by(|a, b| a.dir.cmp(&b.dir));
    runs.iter().find_map(|r| r.read_config().ok()).map(|r| r.test_reviews)
}

fn intro(args: &CourseRequest, seeds: u64, shared: &crate::train::config::TrainArgs, root: &Path, tally: &crate::sweep::Tally) -> Vec<String> {
    let rule = test_reviews(root).map(|n| crate::report::stats::rule_text(seeds, n));
    let departures = args.scale.departures(shared);
    let settings = if departures.is_empty() {
        "the course's own settings (25,000 train and 25,000 test reviews, 5 epochs, 200 tokens, hidden 128, 100-d embeddings, Adam at 0.001, batch 64)"
            .to_string()
    } else {
        let list: Vec<String> = departures.iter().map(|(what, course, here)| format!("{what} {here} (course: {course})")).collect();
        format!("the course's settings except: {}", list.join(", "))
    };
    let mut lines = vec![
        format!(
            "Every number, table and figure below is read from the run directories under `{}` when this report was written; the readings are templates filled with those numbers. \
             Scale `{}`, {} seed(s) per model{}.",
            root.display(),
            args.scale.name(),
            seeds,
            if seeds > 1 { " (tables show mean ± sample std)" } else { "" }
        ),
        format!("Settings: {settings}."),
        format!("This invocation trained {} run(s) and found {} already finished; generated by imdb-rnn {}.", tally.trained, tally.skipped, env!("CARGO_PKG_VERSION")),
    ];
    lines.extend(rule);
    lines
}

/// Why the report is not written yet: other shards still run (with `--shard`), or
/// another process holds some runs' locks (without).
fn waiting_for(sharded: bool) -> &'static str {
    if sharded {
        "other shards); run the same command without --shard once they are, to write the report"
    } else {
        "another process is training them); run the same command again once it ends, to write the report"
    }
}
