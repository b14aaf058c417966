//! The report's sections written from the runs: each chapter reads what it needs,
//! draws its figures, fills its tables and words its reading from the numbers (no
//! result is written in advance), and lists the commands that reproduce it.
mod beyond;
mod dictionary;
mod gradients;
mod models;
mod preparation;
mod reading;

use super::doc::Part;
use super::plan::{self, Model, Scale};
use super::results::{self, ModelRuns};
use super::sections::Section;
use crate::data::glove::GloveMatrix;
use crate::data::prepare::Prepared;
use crate::train::config::TrainArgs;
use anyhow::Result;
use std::path::{Path, PathBuf};

/// What every chapter reads from.
pub(crate) struct Ctx<'a> {
    pub scale: Scale,
    /// GloVe's dimension when it differs from the random embedding's ([`plan::glove_apart`]).
    pub glove_apart: Option<i64>,
    /// The sections this report writes.
    pub sections: &'a [Section],
    pub seeds: u64,
    /// The course's run directories.
    pub root: &'a Path,
    /// Where figures are written (next to the report).
    pub figures: &'a Path,
    /// The whole archive, encoded once (the runs take their subsets from it).
    pub data: &'a Prepared,
    pub glove: Option<&'a GloveMatrix>,
    /// The options every run shares (scale, then the user's overrides).
    pub shared: &'a TrainArgs,
    /// `--imdb`/`--glove` as given, for the commands that reproduce a section.
    pub data_flags: String,
    /// `--glove` as given (a path, URL or name).
    pub glove_value: Option<&'a str>,
    /// The flags that reproduce this course (scale, seeds, overrides).
    pub course_flags: String,
}

impl Ctx<'_> {
    /// The models `section` reads in this course.
    pub(crate) fn models(&self, section: Section) -> Vec<Model> {
        plan::models(section, self.scale, self.glove_apart)
    }

    pub(crate) fn runs(&self, model: Model) -> Result<ModelRuns> {
        results::load(self.root, model, self.seeds)
    }

    pub(crate) fn figure(&self, name: &str) -> PathBuf {
        self.figures.join(name)
    }

    /// The commands that reproduce `section`: the course limited to it, then each run.
    pub(crate) fn reproduce(&self, section: Section) -> Vec<String> {
        let mut lines = vec![format!("imdb-rnn course {} --only {}{}", self.course_flags, section.id(), self.data_flags)];
        for model in self.models(section) {
            for seed in 0..self.seeds {
                let args = plan::model_args(model, seed, self.shared, self.glove_value);
                lines.push(format!(
                    "imdb-rnn train {} --runs-dir {} --name {}{}",
                    train_flags(&args),
                    self.root.display(),
                    model.run_name(seed),
                    imdb_flag(&self.data_flags)
                ));
            }
        }
        lines
    }
}

/// Only the `--imdb ...` part of the data flags (train takes GloVe in its own flags).
fn imdb_flag(data_flags: &str) -> String {
    match data_flags.find(" --glove") {
        Some(i) => data_flags[..i].to_string(),
        None => data_flags.to_string(),
    }
}

/// Train options as command-line flags, alphabetically.
pub(crate) fn train_flags(args: &TrainArgs) -> String {
    let value = serde_json::to_value(args).unwrap_or_default();
    let mut out = Vec::new();
    if let Some(map) = value.as_object() {
        for (key, v) in map {
            match v {
                serde_json::Value::Bool(true) => out.push(format!("--{key}")),
                serde_json::Value::Bool(false) => out.push(format!("--{key} false")),
                serde_json::Value::String(s) => out.push(format!("--{key} {s}")),
                other => out.push(format!("--{key} {other}")),
            }
        }
    }
    out.join(" ")
}

/// Writes one section; a section whose runs are missing or failed says so instead.
pub(crate) fn write(section: Section, ctx: &Ctx) -> Part {
    let mut part = Part::new(section.id(), section.title());
    let written = match section {
        Section::Preparation => preparation::write(ctx, &mut part),
        Section::Rnn => models::rnn(ctx, &mut part),
        Section::Depth => models::depth(ctx, &mut part),
        Section::Cells => models::cells(ctx, &mut part),
        Section::Dictionary => dictionary::write(ctx, &mut part),
        Section::Glove => models::glove(ctx, &mut part),
        Section::Gradients => gradients::write(ctx, &mut part),
        Section::Beyond => beyond::write(ctx, &mut part),
        Section::Reading => reading::write(ctx, &mut part),
    };
    if let Err(e) = written {
        part.say(format!("**This section could not be written**: {e:#}."));
    }
    part.commands(ctx.reproduce(section));
    part
}
