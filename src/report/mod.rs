//! What a person looks at after training: figures (PNG), the summary table, evaluation
//! metrics, the HTML report, and the statistics rule the reports' readings follow.
pub mod duplicates;
pub mod eval;
pub mod html;
pub mod neighbours;
pub mod plots;
pub mod stats;
pub mod summary;
