//! Axes: ranges (linear or log, chosen from the data), labelled and minor ticks, and the
//! number formats of tick and cell labels.
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use std::ops::Range;

/// Values whose max/min ratio exceeds this are drawn on a log axis by [`Scale::auto`].
const LOG_SPAN: f64 = 30.0;

/// One axis: its range, linear or logarithmic, its labelled ticks and the unlabelled
/// minor grid lines. Implements plotters' `Ranged` so every chart uses one coordinate
/// type whatever the scale.
#[derive(Clone, Debug)]
pub(super) struct Scale {
    lo: f64,
    pub(super) hi: f64,
    pub(super) log: bool,
    /// Whether tick labels use scientific notation (1e-4) rather than decimals.
    sci: bool,
    ticks: Vec<f64>,
    minor: Vec<f64>,
}

impl Scale {
    /// Linear over `lo..=hi` padded by 4 % of the span, round ticks.
    fn linear(lo: f64, hi: f64) -> Scale {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5 * lo.abs().max(1.0), hi + 0.5 * hi.abs().max(1.0)) };
        let pad = 0.04 * (hi - lo);
        Scale::linear_exact(lo - pad, hi + pad, f64::INFINITY)
    }

    /// Linear over exactly `lo..=hi`, round ticks no higher than `tick_max`.
    pub(super) fn linear_exact(lo: f64, hi: f64, tick_max: f64) -> Scale {
        let step = nice_step(hi - lo, 8);
        let ticks = (((lo / step).ceil() as i64)..=((hi.min(tick_max) / step).floor() as i64)).map(|k| k as f64 * step).collect();
        Scale { lo, hi, log: false, sci: hi.abs().max(lo.abs()) >= 1e5, ticks, minor: Vec::new() }
    }

    /// Linear over whole numbers (epochs, layers, depths) `lo..=hi`, widened by `pad` on
    /// both sides so that markers or cells at the ends are not cut; integer ticks.
    pub(super) fn integers(lo: f64, hi: f64, pad: f64) -> Scale {
        let step = nice_step(hi - lo, 10).max(1.0).round();
        let ticks = (((lo / step).ceil() as i64)..=((hi / step).floor() as i64)).map(|k| k as f64 * step).collect();
        Scale { lo: lo - pad, hi: hi + pad, log: false, sci: false, ticks, minor: Vec::new() }
    }

    /// Padding for an integer axis of markers: 3 % of the span, at least 0.3.
    pub(super) fn integers_for_points(lo: f64, hi: f64) -> Scale {
        Scale::integers(lo, hi, (0.03 * (hi - lo)).max(0.3))
    }

    pub(super) fn without_ticks(self) -> Scale {
        Scale { ticks: Vec::new(), minor: Vec::new(), ..self }
    }

    /// Log over the positive `values`, padded by 8 % of the span in log space.
    pub(super) fn log_of(values: &[f64]) -> Scale {
        let positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0 && v.is_finite()).collect();
        let (lo, hi) = min_max(&positive).unwrap_or((0.1, 10.0));
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo / 2.0, hi * 2.0) };
        let pad = ((hi / lo).ln() * 0.08).exp();
        Scale::log_exact(lo / pad, hi * pad)
    }

    /// Log over exactly `lo..=hi` (both positive).
    pub(super) fn log_exact(lo: f64, hi: f64) -> Scale {
        let (ticks, minor) = log_ticks(lo, hi);
        Scale { lo, hi, log: true, sci: lo < 1e-3 || hi >= 1e5, ticks, minor }
    }

    /// Log when the values are positive and span more than [`LOG_SPAN`]x, linear otherwise.
    pub(super) fn auto(values: &[f64]) -> Scale {
        match min_max(values) {
            Some((lo, hi)) if lo > 0.0 && hi / lo > LOG_SPAN => Scale::log_of(values),
            Some((lo, hi)) => Scale::linear(lo, hi),
            None => Scale::linear(0.0, 1.0),
        }
    }

    /// Axis title: `what`, marked when the scale is logarithmic.
    pub(super) fn desc(&self, what: &str) -> String {
        if self.log {
            format!("{what} (log scale)")
        } else {
            what.to_string()
        }
    }

    /// Position of `v` along the axis, 0 at `lo` and 1 at `hi`.
    fn fraction(&self, v: f64) -> f64 {
        if self.log {
            (v.max(f64::MIN_POSITIVE).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

impl Ranged for Scale {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        limit.0 + (self.fraction(*value) * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Scale {
    fn format_ext(&self, value: &f64) -> String {
        if self.sci {
            fmt_sci(*value)
        } else {
            fmt_num(*value)
        }
    }
}

/// A step of 1, 2 or 5 times a power of ten giving at most about `max_ticks` ticks.
fn nice_step(span: f64, max_ticks: usize) -> f64 {
    let raw = (span / max_ticks as f64).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= raw * (1.0 - 1e-9)).unwrap_or(10.0 * magnitude)
}

/// Labelled and minor ticks of a log axis: 1-2-5 multiples of powers of ten when that
/// gives 4 to 10 ticks, else powers of ten (every few when they are many), else every
/// multiple 1..9 when that gives at most 6, else 1-2-3-5 multiples, else linear round
/// ticks (a range too narrow for any of those).
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let inside = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let multiples = |ms: &[f64]| -> Vec<f64> { (first..=last).flat_map(|k| ms.iter().map(move |m| m * 10f64.powi(k))).filter(inside).collect() };
    let decades = multiples(&[1.0]);
    let one_two_five = multiples(&[1.0, 2.0, 5.0]);
    let all = multiples(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    if (4..=10).contains(&one_two_five.len()) {
        return (one_two_five, all);
    }
    if decades.len() >= 3 {
        let stride = decades.len().div_ceil(8);
        let ticks: Vec<f64> = decades.iter().copied().step_by(stride).collect();
        let minor = if stride == 1 { all } else { decades };
        return (ticks, minor);
    }
    if (3..=6).contains(&all.len()) {
        return (all, Vec::new());
    }
    let one_two_three_five = multiples(&[1.0, 2.0, 3.0, 5.0]);
    if one_two_three_five.len() >= 3 {
        return (one_two_three_five, all);
    }
    let linear = Scale::linear_exact(lo, hi, hi);
    (linear.ticks, Vec::new())
}

pub(super) fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    finite.fold(None, |acc, v| Some(acc.map_or((v, v), |(lo, hi): (f64, f64)| (lo.min(v), hi.max(v)))))
}

/// At most four significant digits, trailing zeros dropped: 0.0025, 12.5, 3.
fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a < 1e-12 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&a) {
        return fmt_sci(v);
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    trim_zeros(format!("{v:.decimals$}"))
}

/// Scientific notation with up to three significant digits: 1e-4, 2.5e-3.
pub(super) fn fmt_sci(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = format!("{v:.2e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => format!("{}e{exp}", trim_zeros(mantissa.to_string())),
        None => s,
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_number_formats() {
        assert_eq!(fmt_num(0.0025), "0.0025");
        assert_eq!(fmt_num(12.5), "12.5");
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(0.30000000000000004), "0.3");
        assert_eq!(fmt_sci(1e-5), "1e-5");
        assert_eq!(fmt_sci(2.5e-3), "2.5e-3");
        // Several decades: powers of ten.
        assert_eq!(log_ticks(2e-6, 0.5).0, vec![1e-5, 1e-4, 1e-3, 1e-2, 1e-1]);
        // Less than a decade still gets labelled ticks.
        assert!(log_ticks(0.02, 0.08).0.len() >= 3);
        assert!(log_ticks(0.031, 0.034).0.len() >= 2);
        let epochs = Scale::integers_for_points(1.0, 6.0);
        assert_eq!(epochs.ticks, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(Scale::integers_for_points(1.0, 100.0).ticks.len(), 10);
    }
}
