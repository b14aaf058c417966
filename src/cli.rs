//! Command-line arguments as parsed (stage one); each command validates them into its
//! own configuration before doing any work (stage two).
pub(crate) use crate::data::source::DataSource;
use crate::report::summary::SummaryFormat;
use crate::train::config::TrainArgs;
use crate::train::defaults;
use clap::{Args, Parser, Subcommand};
use std::ops::Deref;
use std::path::{Path, PathBuf};

/// Recurrent-network sentiment experiments on IMDB (RNN, LSTM, GRU, GloVe, vanishing
/// gradients) through libtorch, on CPU or CUDA.
#[derive(Parser, Debug)]
#[command(name = "imdb-rnn", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Versions, devices (CUDA, cuDNN), threads, and what the data directory holds.
    Info(InfoArgs),
    /// Download datasets into the data directory (verified, resumable).
    Fetch(FetchArgs),
    /// Dataset report: reviews, tokens, vocabulary, lengths, truncation, GloVe coverage.
    Data(DataArgs),
    /// Train and evaluate one model, writing a run directory.
    Train(TrainCmdArgs),
    /// Evaluate a trained run on the test split: accuracy, confusion matrix, by length.
    Eval(EvalArgs),
    /// Classify reviews with a trained run (arguments, or one review per stdin line).
    Predict(PredictArgs),
    /// Write a run's weights as a safetensors file under PyTorch's parameter names, with
    /// its vocabulary and configuration beside it.
    Export(ExportArgs),
    /// Which words moved a trained run's prediction: each token's attribution
    /// (integrated gradients, or occlusion), coloured in a terminal, as JSON, or a page.
    Explain(ExplainArgs),
    /// The embedding as a dictionary: a word's vector in a run's learned embedding and in
    /// GloVe, and its nearest vocabulary words by cosine in each.
    Embed(EmbedArgs),
    /// Vanishing-gradient study: one training per depth (and cell), gradient norms
    /// logged, combined grads_by_depth.csv and plots.
    Grads(GradsArgs),
    /// Run a grid of train options (resumable, shardable over machines).
    Sweep(SweepArgs),
    /// The whole course answered: run its experiments (resumable, shardable) and write one
    /// report by question, HTML with figures embedded plus a Markdown twin.
    Course(CourseArgs),
    /// One row per configuration: mean ± std over seeds of accuracies and times.
    Summary(SummaryArgs),
    /// Write the PNG figures of run directories (learning curves, gradient heatmaps).
    Plot(PlotArgs),
    /// One self-contained HTML report of a runs directory (images embedded).
    Report(ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Write man pages: imdb-rnn.1 and one imdb-rnn-<command>.1 per command.
    Man(ManArgs),
}

/// The study takes a list of cells, so train's one-cell `--cell` gives its name to
/// `--cells` here (both spellings take one cell or a comma list).
#[derive(Args, Debug)]
#[command(mut_arg("cell", |a| a.long("one-cell").hide(true)))]
#[command(mut_arg("json", |a| a.help("Print the study's results as JSON on stdout")))]
pub(crate) struct GradsArgs {
    /// Cells to compare, comma-separated: rnn, lstm, gru (`--cell` is the same option).
    #[arg(long, visible_alias = "cell", value_enum, value_delimiter = ',', default_value = "rnn", value_name = "CELL[,CELL...]")]
    pub cells: Vec<crate::model::recurrent::Cell>,
    /// Depths: a range `1..8` (inclusive, as is `1..=8`) or a list `1,2,4,8`.
    #[arg(long, default_value = "1..4", value_name = "RANGE|LIST")]
    pub depth: String,
    #[command(flatten)]
    pub train: TrainArgs,
    #[command(flatten)]
    pub jobs: JobsArgs,
    /// Study directory name inside --runs-dir [default: grads-<cells>-d<depths>].
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub runs_dir: RunsDirArgs,
    #[command(flatten)]
    pub output: JsonArgs,
    #[command(flatten)]
    pub source: DataSource,
}

#[derive(Args, Debug)]
#[command(mut_arg("json", |a| a.help("One JSON object per run on stdout")))]
pub(crate) struct SweepArgs {
    /// The grid, inline: `cell=rnn,lstm layers=1,2 seed=0,1` (keys are train flags).
    #[arg(long)]
    pub grid: Option<String>,
    /// A sweep file (TOML): train options at the top level and a [grid] table of lists.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Options shared by every point (a grid key overrides them).
    #[command(flatten)]
    pub train: TrainArgs,
    /// Take share I of N of the grid (points i with i % N == I), for job arrays.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// List the run directories this worker would run, and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Run again the points recorded as failed.
    #[arg(long)]
    pub retry_failed: bool,
    #[command(flatten)]
    pub jobs: JobsArgs,
    /// Sweep directory name inside --runs-dir.
    #[arg(long, default_value = "sweep")]
    pub name: String,
    #[command(flatten)]
    pub runs_dir: RunsDirArgs,
    #[command(flatten)]
    pub output: JsonArgs,
    #[command(flatten)]
    pub source: DataSource,
}

/// The train options the course varies run by run (`course::plan::VARIED`) are hidden
/// from its --help; given anyway, they are refused with a line that says why.
#[derive(Args, Debug)]
#[command(mut_arg("cell", |a| a.hide(true)))]
#[command(mut_arg("layers", |a| a.hide(true)))]
#[command(mut_arg("emb", |a| a.hide(true)))]
#[command(mut_arg("readout", |a| a.hide(true)))]
#[command(mut_arg("batching", |a| a.hide(true)))]
#[command(mut_arg("seed", |a| a.hide(true)))]
pub(crate) struct CourseArgs {
    /// How much to train: the course's settings, or smaller ones that show its findings
    /// on a CPU (the report names every departure from the course).
    #[arg(long, value_enum, default_value = "cpu")]
    pub scale: crate::course::plan::Scale,
    /// Seeds per model (0..N-1); with more than one, tables show mean ± std and the
    /// readings tell findings from seed noise [default: 3 at the cpu scale, else 1].
    #[arg(long)]
    pub seeds: Option<u64>,
    /// Sections to write (and runs to run), comma-separated: prep, q1-q2, q3, q4-q5, q6,
    /// q7-q8, q9-q11, beyond, reads, or questions such as q7 or q9-q11 [default: all].
    #[arg(long, value_name = "SECTION[,SECTION...]")]
    pub only: Option<String>,
    /// The report (HTML, figures embedded); its Markdown twin and the figures' PNG files
    /// go next to it (course.md, course_files/).
    #[arg(long, default_value = "course.html")]
    pub out: PathBuf,
    /// Options every run shares, over the scale's (e.g. --epochs 1 --subset 500, --glove,
    /// --threads, --device); the cell, layers, embedding, readout and seed are the course's.
    /// Without --glove: glove-wiki-gigaword-50 at the cpu and smoke scales (their random
    /// embedding's size), the course's glove-wiki-gigaword-100 at full.
    #[command(flatten)]
    pub train: TrainArgs,
    /// Take share I of N of the runs (runs i with i % N == I), for job arrays; the report
    /// is written by the invocation that finds every run finished.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Run again the runs recorded as failed.
    #[arg(long)]
    pub retry_failed: bool,
    #[command(flatten)]
    pub jobs: JobsArgs,
    /// Course directory name inside --runs-dir [default: course-<scale>].
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub runs_dir: RunsDirArgs,
    #[command(flatten)]
    pub source: DataSource,
}

#[derive(Args, Debug)]
#[command(mut_arg("json", |a| a.help("Print JSON (the same as --format json, the spelling every other command uses)").conflicts_with("format")))]
pub(crate) struct SummaryArgs {
    /// Directory holding run directories (searched recursively).
    pub root: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: SummaryFormat,
    #[command(flatten)]
    pub output: JsonArgs,
    /// Sort by this column (prefix with - for descending), e.g. -final_acc.
    #[arg(long, allow_hyphen_values = true)]
    pub sort: Option<String>,
    /// Keep rows whose column equals the value, e.g. --where cell=lstm (repeatable).
    #[arg(long = "where", value_name = "COLUMN=VALUE")]
    pub filters: Vec<String>,
}

#[derive(Args, Debug)]
#[command(mut_arg("json", |a| a.help("Print the figures written as JSON on stdout: {\"figures\": [PATH, ...]}")))]
pub(crate) struct PlotArgs {
    /// Run directories; with several, an overlay of their learning curves is written too.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Where the overlay goes (with several runs).
    #[arg(long, default_value = "learning_curves_overlay.png")]
    pub overlay: PathBuf,
    #[command(flatten)]
    pub output: JsonArgs,
}

#[derive(Args, Debug)]
#[command(mut_arg("json", |a| a.help("Print what was written as JSON on stdout: {\"report\": PATH, \"figures\": [PATH, ...]}")))]
pub(crate) struct ReportArgs {
    /// Directory holding run directories (searched recursively).
    pub root: PathBuf,
    /// Output HTML file.
    #[arg(long, default_value = "report.html")]
    pub out: PathBuf,
    #[command(flatten)]
    pub output: JsonArgs,
}

/// `--jobs`, shared by the commands that train many runs (sweep, grads, course).
#[derive(Args, Debug, Clone, Copy, Default)]
pub(crate) struct JobsArgs {
    /// Train N runs at once, in N worker processes with cores / N CPU threads each (unless
    /// --threads says otherwise); the results are those of a sequential run with the same
    /// --threads.
    #[arg(long, short = 'j', default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Set on the worker processes that --jobs starts: the worker's index.
    #[arg(long, hide = true, value_name = "I")]
    pub job_worker: Option<usize>,
}

impl JobsArgs {
    pub(crate) fn jobs(&self) -> crate::sweep::jobs::Jobs {
        crate::sweep::jobs::Jobs::new(self.jobs as usize, self.job_worker)
    }
}

/// `--runs-dir`, the root of the run directories; shared by the commands that write
/// them. Reads as the path itself.
#[derive(Args, Debug, Clone)]
pub(crate) struct RunsDirArgs {
    /// Root directory of run directories.
    #[arg(long, env = "IMDB_RNN_RUNS", default_value = "runs")]
    pub runs_dir: PathBuf,
}

impl Deref for RunsDirArgs {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.runs_dir
    }
}

/// `--json`, the one spelling of "machine-readable output on stdout" (`summary --format
/// json` is its alias). A command says what its JSON holds with `mut_arg("json", ..)`.
#[derive(Args, Debug, Clone, Copy, Default)]
pub(crate) struct JsonArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct InfoArgs {
    #[command(flatten)]
    pub output: JsonArgs,
}

#[derive(Args, Debug)]
pub(crate) struct FetchArgs {
    /// What to fetch: imdb, glove-wiki-gigaword-50, -100, -200 or -300 [default: imdb].
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub source: DataSource,
}

#[derive(Args, Debug)]
pub(crate) struct DataArgs {
    #[command(flatten)]
    pub source: DataSource,
    /// GloVe vectors to report coverage for: a path, a URL or a gensim name.
    #[arg(long, value_name = "PATH|URL|NAME")]
    pub glove: Option<String>,
    /// Vocabulary size, specials not counted.
    #[arg(long, default_value_t = defaults::VOCAB_SIZE)]
    pub vocab_size: usize,
    /// Tokens kept per review.
    #[arg(long, default_value_t = defaults::MAX_LEN)]
    pub max_len: usize,
    /// How many of the most frequent words to list.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    #[command(flatten)]
    pub output: JsonArgs,
}

#[derive(Args, Debug)]
#[command(mut_arg("json", |a| a.help("Print summary.json on stdout at the end (for scripts)")))]
pub(crate) struct TrainCmdArgs {
    #[command(flatten)]
    pub train: TrainArgs,
    /// Read options from a TOML file (keys are these flags' names); flags win.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Run directory name [default: derived from the options, e.g. lstm-l1-h128-random-final-s0].
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub runs_dir: RunsDirArgs,
    /// Continue the run from its last checkpoint instead of starting over.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub output: JsonArgs,
    #[command(flatten)]
    pub source: DataSource,
}

#[derive(Args, Debug)]
pub(crate) struct EvalArgs {
    /// Run directory written by `imdb-rnn train`. Repeated (`--run A --run B ...`), the
    /// runs are scored as one ensemble (their P(positive) averaged) on the first run's
    /// test split, each run also alone on the same reviews; they must share one
    /// vocabulary, --max-len and --truncate.
    #[arg(long, required = true, value_name = "RUN")]
    pub run: Vec<PathBuf>,
    /// Use best.ot (best validation epoch) instead of the final weights.
    #[arg(long)]
    pub best: bool,
    /// Device: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = defaults::DEVICE)]
    pub device: String,
    #[command(flatten)]
    pub output: JsonArgs,
    #[command(flatten)]
    pub source: DataSource,
}

#[derive(Args, Debug)]
#[command(mut_arg("json", |a| a.help("Print JSON lines instead of text")))]
pub(crate) struct PredictArgs {
    /// Run directory written by `imdb-rnn train`. Repeated (`--run A --run B ...`), the
    /// runs classify as one ensemble: P(positive) is the mean of theirs (and --json
    /// gives no logit); they must share one vocabulary, --max-len and --truncate.
    #[arg(long, required = true, value_name = "RUN")]
    pub run: Vec<PathBuf>,
    /// Reviews to classify; without any, one review per line is read from stdin.
    pub texts: Vec<String>,
    /// Device: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = defaults::DEVICE)]
    pub device: String,
    #[command(flatten)]
    pub output: JsonArgs,
}

#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    /// Run directory written by `imdb-rnn train`.
    pub run: PathBuf,
    /// The safetensors file to write (`embedding.weight`, `rnn.weight_ih_l0`, ...,
    /// `fc.weight`, `fc.bias`, as torch.nn names them); the vocabulary and configuration
    /// go beside it as STEM.vocab.json and STEM.config.json.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Export best.ot (best validation epoch) instead of the final weights.
    #[arg(long)]
    pub best: bool,
}

#[derive(Args, Debug)]
#[command(mut_arg("json", |a| a.help("Print one JSON object per review: the prediction, the method, the completeness check and every token's attribution")))]
pub(crate) struct ExplainArgs {
    /// Run directory written by `imdb-rnn train`.
    #[arg(long)]
    pub run: PathBuf,
    /// Reviews to explain; without any (and without --test-index), one review per line is
    /// read from stdin.
    pub texts: Vec<String>,
    /// Explain review N (0-based) of the run's test split (its own --subset), read from
    /// the archive the run recorded or --imdb.
    #[arg(long, value_name = "N", conflicts_with = "texts")]
    pub test_index: Option<usize>,
    /// integrated-gradients: attributions that add up to f(x) - f(baseline), f the logit
    /// of the predicted class; occlusion: each token replaced by <pad> in turn (a
    /// cross-check).
    #[arg(long, value_enum, default_value = "integrated-gradients")]
    pub method: crate::infer::explain::Method,
    /// Integrated-gradients steps (midpoint rule) [default: 32, doubled until the
    /// attributions add up to f(x) - f(baseline) within 1%, at most 1024]. The
    /// completeness error is printed, and warned about above 1%.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub steps: Option<u32>,
    /// What integrated gradients start from at every position.
    #[arg(long, value_enum, default_value = "auto")]
    pub baseline: crate::infer::explain::Baseline,
    /// Also write a standalone HTML page of the explained reviews to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Device: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = defaults::DEVICE)]
    pub device: String,
    #[command(flatten)]
    pub output: JsonArgs,
    #[command(flatten)]
    pub source: DataSource,
}

#[derive(Args, Debug)]
pub(crate) struct EmbedArgs {
    /// Words to look up (read as the course's tokenizer reads them: lowercase, letters and digits).
    #[arg(required = true, value_name = "WORD")]
    pub words: Vec<String>,
    /// A run directory: its learned embedding and vocabulary.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// GloVe vectors: a path, a URL or a gensim name [default: the run's, when it trained on GloVe].
    #[arg(long, env = "IMDB_RNN_GLOVE", value_name = "PATH|URL|NAME")]
    pub glove: Option<String>,
    /// Nearest vocabulary words to list for each word and embedding.
    #[arg(long, short = 'k', default_value_t = 10)]
    pub neighbours: usize,
    /// Vocabulary size without --run (the IMDB vocabulary, specials not counted).
    #[arg(long, default_value_t = defaults::VOCAB_SIZE)]
    pub vocab_size: usize,
    #[command(flatten)]
    pub output: JsonArgs,
    #[command(flatten)]
    pub source: DataSource,
}

#[derive(Args, Debug)]
pub(crate) struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub(crate) struct ManArgs {
    /// Directory for the pages (created if missing); without it, imdb-rnn.1 goes to stdout.
    /// Read one with `man -l DIR/imdb-rnn-train.1`, or install DIR under a MANPATH's man1/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, ValueEnum};

    fn name<T: ValueEnum>(v: T) -> String {
        v.to_possible_value().expect("a value").get_name().to_string()
    }

    #[test]
    fn the_names_the_code_writes_are_the_names_the_flags_take() {
        use crate::model::{recurrent::Cell, EmbeddingMode, Readout};
        for v in Cell::value_variants() {
            assert_eq!(v.name(), name(*v));
        }
        assert_eq!(Cell::ALL.to_vec(), Cell::value_variants().to_vec());
        for v in Readout::value_variants() {
            assert_eq!(v.name(), name(*v));
        }
        for v in EmbeddingMode::value_variants() {
            assert_eq!(v.name(), name(*v));
        }
    }

    /// `train --help` states each default in words (the flags stay unset so a --config
    /// file can fill them): the words must be the constants `resolve` uses.
    #[test]
    fn train_help_states_the_defaults_resolve_uses() {
        let expected: Vec<(&str, String)> = vec![
            ("cell", name(defaults::CELL)),
            ("nonlinearity", name(defaults::NONLINEARITY)),
            ("layers", defaults::LAYERS.to_string()),
            ("hidden", defaults::HIDDEN.to_string()),
            ("emb_dim", format!("{}, or the GloVe file's dimension", defaults::EMB_DIM)),
            ("emb", name(defaults::EMB)),
            ("dropout", defaults::DROPOUT.to_string()),
            ("readout", name(defaults::READOUT)),
            ("batching", format!("bucket for last/mean/max/meanmax, {} for final", name(defaults::BATCHING))),
            ("emb_dropout", defaults::EMB_DROPOUT.to_string()),
            ("fc_dropout", defaults::FC_DROPOUT.to_string()),
            ("weight_decay", format!("{}, plain Adam", defaults::WEIGHT_DECAY)),
            ("ema", format!("{}, off", defaults::EMA)),
            ("lr_schedule", name(defaults::LR_SCHEDULE)),
            ("warmup_steps", defaults::WARMUP_STEPS.to_string()),
            ("truncate", name(defaults::TRUNCATE)),
            ("epochs", defaults::EPOCHS.to_string()),
            ("batch_size", defaults::BATCH_SIZE.to_string()),
            ("lr", defaults::LR.to_string()),
            ("seed", defaults::SEED.to_string()),
            ("val_frac", defaults::VAL_FRAC.to_string()),
            ("vocab_size", defaults::VOCAB_SIZE.to_string()),
            ("max_len", defaults::MAX_LEN.to_string()),
            ("grad_every", defaults::GRAD_EVERY.to_string()),
            ("device", defaults::DEVICE.to_string()),
            ("glove", format!("{} when --emb uses GloVe", defaults::GLOVE)),
            ("denormals", name(defaults::DENORMALS)),
        ];
        let cli = Cli::command();
        let train = cli.find_subcommand("train").expect("train");
        for (id, want) in expected {
            let arg = train.get_arguments().find(|a| a.get_id() == id).unwrap_or_else(|| panic!("no --{id}"));
            let help = arg.get_long_help().or(arg.get_help()).map(|h| h.to_string()).unwrap_or_default().replace('\n', " ");
            assert!(help.contains(&format!("[default: {want}]")), "--{id}: {help:?} should say [default: {want}]");
        }
    }
}
