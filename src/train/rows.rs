//! The rows of a run directory's CSV files as typed serde records: what [`super::log::RunLog`]
//! appends and [`super::run`] reads back. Numbers are written as Rust prints them
//! (`{}`), not as the csv crate would, so the files stay byte-for-byte what they were.
use super::grads::NormEntry;
use serde::{Deserialize, Serialize, Serializer};
use std::fmt::Display;

pub const METRICS_HEADER: &str = "epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,lr,epoch_seconds,tokens_per_s";
pub const STEPS_HEADER: &str = "epoch,step,batch,loss";
pub const GRADS_HEADER: &str = "epoch,step,layer,direction,parameter,gate,norm";
pub const GRADS_EPOCH_HEADER: &str = "epoch,layer,direction,parameter,gate,mean,median,max,last";
pub const GRADS_TIME_HEADER: &str = "epoch,t,norm,count,t_from_end,norm_from_end,count_from_end";

/// One row of metrics.csv.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EpochMetrics {
    pub epoch: usize,
    #[serde(serialize_with = "text")]
    pub train_loss: f64,
    #[serde(serialize_with = "text")]
    pub train_acc: f64,
    #[serde(serialize_with = "optional_text")]
    pub val_loss: Option<f64>,
    #[serde(serialize_with = "optional_text")]
    pub val_acc: Option<f64>,
    #[serde(serialize_with = "text")]
    pub test_loss: f64,
    #[serde(serialize_with = "text")]
    pub test_acc: f64,
    #[serde(serialize_with = "text")]
    pub lr: f64,
    /// Milliseconds are all a wall-clock time is worth.
    #[serde(serialize_with = "three_decimals")]
    pub epoch_seconds: f64,
    #[serde(serialize_with = "whole")]
    pub tokens_per_s: f64,
}

/// One row of steps.csv: the training loss of one batch.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StepRow {
    pub epoch: usize,
    pub step: u64,
    /// The batch's index within its epoch.
    pub batch: usize,
    #[serde(serialize_with = "text")]
    pub loss: f64,
}

/// One row of grads.csv: one norm at one logged step.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GradRow<'a> {
    pub epoch: usize,
    pub step: u64,
    /// Empty outside the recurrent stack.
    pub layer: Option<i64>,
    pub direction: &'a str,
    pub parameter: &'a str,
    pub gate: &'a str,
    #[serde(serialize_with = "text")]
    pub norm: f32,
}

impl<'a> GradRow<'a> {
    pub fn new(epoch: usize, step: u64, of: &'a NormEntry, norm: f32) -> GradRow<'a> {
        GradRow { epoch, step, layer: of.layer, direction: of.direction, parameter: &of.parameter, gate: of.gate, norm }
    }
}

/// One row of grads_epoch.csv: one norm's statistics over an epoch's logged steps.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GradEpochRow<'a> {
    pub epoch: usize,
    pub layer: Option<i64>,
    pub direction: &'a str,
    pub parameter: &'a str,
    pub gate: &'a str,
    #[serde(serialize_with = "text")]
    pub mean: f64,
    #[serde(serialize_with = "text")]
    pub median: f64,
    #[serde(serialize_with = "text")]
    pub max: f32,
    #[serde(serialize_with = "text")]
    pub last: f32,
}

impl<'a> GradEpochRow<'a> {
    /// The statistics of `norms`, the values one norm took at an epoch's logged steps
    /// (at least one).
    pub fn new(epoch: usize, of: &'a NormEntry, mut norms: Vec<f32>) -> GradEpochRow<'a> {
        let last = *norms.last().expect("an epoch logs at least one step");
        let mean = norms.iter().map(|&x| x as f64).sum::<f64>() / norms.len() as f64;
        norms.sort_by(|a, b| a.total_cmp(b));
        let n = norms.len();
        let median = if n % 2 == 1 { norms[n / 2] as f64 } else { (norms[n / 2 - 1] as f64 + norms[n / 2] as f64) / 2.0 };
        let max = norms[n - 1];
        GradEpochRow { epoch, layer: of.layer, direction: of.direction, parameter: &of.parameter, gate: of.gate, mean, median, max, last }
    }
}

/// One row of grads_time.csv: mean ||dL/dx_t|| over an epoch at position `t` from the
/// start and `t` back from the last real token (empty where no review reaches).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GradTimeRow {
    pub epoch: usize,
    pub t: usize,
    #[serde(serialize_with = "optional_text")]
    pub norm: Option<f32>,
    #[serde(serialize_with = "text")]
    pub count: f32,
    pub t_from_end: usize,
    #[serde(serialize_with = "optional_text")]
    pub norm_from_end: Option<f32>,
    #[serde(serialize_with = "text")]
    pub count_from_end: f32,
}

/// A number as `{}` prints it (shortest round trip, no exponent): `1` not `1.0`.
fn text<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// [`text`], or an empty field.
fn optional_text<T: Display, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_str(""),
    }
}

fn three_decimals<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:.3}"))
}

fn whole<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:.0}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row as csv writes it, header first.
    fn written<R: Serialize>(row: R) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(row).unwrap();
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn each_rows_fields_are_its_files_header() {
        let key = NormEntry { layer: Some(1), direction: "reverse", parameter: "weight_hh".into(), gate: "z" };
        let metrics = EpochMetrics {
            epoch: 1,
            train_loss: 0.5,
            train_acc: 1.0,
            val_loss: None,
            val_acc: None,
            test_loss: 0.25,
            test_acc: 0.75,
            lr: 1e-5,
            epoch_seconds: 1.23456,
            tokens_per_s: 1234.5,
        };
        let header = |s: String| s.lines().next().unwrap().to_string();
        assert_eq!(header(written(&metrics)), METRICS_HEADER);
        assert_eq!(header(written(StepRow { epoch: 1, step: 2, batch: 1, loss: 0.5 })), STEPS_HEADER);
        assert_eq!(header(written(GradRow::new(1, 2, &key, 0.5))), GRADS_HEADER);
        assert_eq!(header(written(GradEpochRow::new(1, &key, vec![0.5]))), GRADS_EPOCH_HEADER);
        let time_row = GradTimeRow { epoch: 1, t: 0, norm: None, count: 0.0, t_from_end: 0, norm_from_end: Some(0.5), count_from_end: 2.0 };
        assert_eq!(header(written(time_row)), GRADS_TIME_HEADER);
    }

    #[test]
    fn numbers_are_written_as_rust_prints_them_not_as_csv_would() {
        let metrics = EpochMetrics {
            epoch: 3,
            train_loss: 0.1 + 0.2,
            train_acc: 1.0,
            val_loss: None,
            val_acc: Some(0.5),
            test_loss: f64::NAN,
            test_acc: 0.75,
            lr: 1e-5,
            epoch_seconds: 1.23456,
            tokens_per_s: 1234.5,
        };
        assert_eq!(written(&metrics).lines().nth(1).unwrap(), "3,0.30000000000000004,1,,0.5,NaN,0.75,0.00001,1.235,1234");
        let key = NormEntry { layer: None, direction: "-", parameter: "embedding.weight".into(), gate: "all" };
        assert_eq!(written(GradRow::new(1, 7, &key, 3e-7)).lines().nth(1).unwrap(), "1,7,,-,embedding.weight,all,0.0000003");
        let time_row = GradTimeRow { epoch: 2, t: 4, norm: None, count: 0.0, t_from_end: 4, norm_from_end: Some(0.25), count_from_end: 3.0 };
        assert_eq!(written(time_row).lines().nth(1).unwrap(), "2,4,,0,4,0.25,3");
    }

    #[test]
    fn epoch_statistics_are_the_mean_median_max_and_last_of_the_logged_norms() {
        let key = NormEntry { layer: Some(0), direction: "forward", parameter: "weight_ih".into(), gate: "all" };
        let odd = GradEpochRow::new(2, &key, vec![3.0, 1.0, 2.0]);
        assert_eq!((odd.mean, odd.median, odd.max, odd.last), (2.0, 2.0, 3.0, 2.0));
        let even = GradEpochRow::new(2, &key, vec![4.0, 1.0, 2.0, 3.0]);
        assert_eq!((even.mean, even.median, even.max, even.last), (2.5, 2.5, 4.0, 3.0));
        assert_eq!(written(even).lines().nth(1).unwrap(), "2,0,forward,weight_ih,all,2.5,2.5,4,3");
    }
}
