//! The rows of a run directory's CSV files as typed serde records: what [`super::log::RunLog`]
//! appends and [`super::run::RunDir`] reads back. Numbers are written as Rust prints them
//! (`{}`), not as the csv crate would, so the files stay byte-for-byte what they were;
//! read back into the same types, they are the numbers that were written.
use super::grads::NormEntry;
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt::Display;

/// One row of metrics.csv.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct EpochMetrics {
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
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct StepRow {
    pub epoch: usize,
    pub step: u64,
    /// The batch's index within its epoch.
    pub batch: usize,
    #[serde(serialize_with = "text")]
    pub loss: f64,
}

/// One row of grads.csv: one norm at one logged step. Written, its names borrow the
/// [`NormEntry`]; read back, they are owned (`GradRow<'static>`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct GradRow<'a> {
    pub epoch: usize,
    pub step: u64,
    /// Empty outside the recurrent stack.
    pub layer: Option<i64>,
    pub direction: Cow<'a, str>,
    pub parameter: Cow<'a, str>,
    pub gate: Cow<'a, str>,
    #[serde(serialize_with = "text")]
    pub norm: f32,
}

impl<'a> GradRow<'a> {
    pub(crate) fn new(epoch: usize, step: u64, of: &'a NormEntry, norm: f32) -> GradRow<'a> {
        GradRow { epoch, step, layer: of.layer, direction: of.direction.into(), parameter: of.parameter.as_str().into(), gate: of.gate.into(), norm }
    }
}

/// One row of grads_epoch.csv: one norm's statistics over an epoch's logged steps
/// (names borrowed or owned as in [`GradRow`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct GradEpochRow<'a> {
    pub epoch: usize,
    pub layer: Option<i64>,
    pub direction: Cow<'a, str>,
    pub parameter: Cow<'a, str>,
    pub gate: Cow<'a, str>,
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
    pub(crate) fn new(epoch: usize, of: &'a NormEntry, mut norms: Vec<f32>) -> GradEpochRow<'a> {
        let last = *norms.last().expect("an epoch logs at least one step");
        let mean = norms.iter().map(|&x| x as f64).sum::<f64>() / norms.len() as f64;
        norms.sort_by(|a, b| a.total_cmp(b));
        let n = norms.len();
        let median = if n % 2 == 1 { norms[n / 2] as f64 } else { (norms[n / 2 - 1] as f64 + norms[n / 2] as f64) / 2.0 };
        let max = norms[n - 1];
        GradEpochRow {
            epoch,
            layer: of.layer,
            direction: of.direction.into(),
            parameter: of.parameter.as_str().into(),
            gate: of.gate.into(),
            mean,
            median,
            max,
            last,
        }
    }
}

/// One row of grads_time.csv: mean ||dL/dx_t|| over an epoch at position `t` from the
/// start and `t` back from the last real token (empty where no review reaches).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct GradTimeRow {
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

/// The header line of a file of `R` rows: the names of its fields (a tuple of row
/// structs has their fields one after the other).
pub(crate) fn header<R: Serialize + Default>() -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(R::default()).expect("a row serializes");
    let text = String::from_utf8(w.into_inner().expect("a Vec takes the row")).expect("a header is UTF-8");
    text.lines().next().unwrap_or_default().to_string()
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
        assert_eq!(header::<EpochMetrics>(), "epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,lr,epoch_seconds,tokens_per_s");
        assert_eq!(header::<StepRow>(), "epoch,step,batch,loss");
        assert_eq!(header::<GradRow>(), "epoch,step,layer,direction,parameter,gate,norm");
        assert_eq!(header::<GradEpochRow>(), "epoch,layer,direction,parameter,gate,mean,median,max,last");
        assert_eq!(header::<GradTimeRow>(), "epoch,t,norm,count,t_from_end,norm_from_end,count_from_end");
    }

    #[test]
    fn rows_read_back_are_the_rows_written_and_write_the_same_text() {
        let key = NormEntry { layer: Some(1), direction: "reverse", parameter: "weight_hh".into(), gate: "z" };
        let written_rows = [GradEpochRow::new(2, &key, vec![0.1, 0.3, 1e-30]), GradEpochRow::new(3, &key, vec![f32::NAN, 2.5])];
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in &written_rows {
            w.serialize(row).unwrap();
        }
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let read: Vec<GradEpochRow<'static>> = csv::Reader::from_reader(text.as_bytes()).deserialize().collect::<Result<_, _>>().unwrap();
        assert_eq!(read[0], written_rows[0]);
        assert_eq!((read[1].mean.is_nan(), read[1].last), (true, 2.5));
        let mut again = csv::Writer::from_writer(Vec::new());
        for row in &read {
            again.serialize(row).unwrap();
        }
        assert_eq!(String::from_utf8(again.into_inner().unwrap()).unwrap(), text);
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
