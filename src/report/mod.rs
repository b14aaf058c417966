//! What a person looks at after training: figures (PNG), the summary table, evaluation
//! metrics, the HTML report, and the statistics rule the reports' readings follow.
pub(crate) mod duplicates;
pub(crate) mod eval;
pub(crate) mod html;
pub(crate) mod neighbours;
pub(crate) mod plots;
pub(crate) mod stats;
pub(crate) mod summary;
