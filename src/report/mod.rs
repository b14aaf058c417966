//! What a person looks at after training: figures (PNG), the summary table, evaluation
//! metrics and the HTML report.
pub mod duplicates;
pub mod eval;
pub mod html;
pub mod neighbours;
pub mod plots;
pub mod summary;
