//! The learning rate over a run (`--lr-schedule`, `--warmup-steps`) as a factor on
//! `--lr`, a pure function of the step so a resumed run continues the same curve.
use super::config::LrSchedule;

/// What `plateau` multiplies the learning rate by after an epoch without a better
/// validation accuracy.
pub(crate) const PLATEAU_FACTOR: f64 = 0.5;

/// The factor for update `step` (1-based) of `total`: a linear warm-up over the first
/// `warmup` steps (`step / warmup`), times, for `cosine`, `(1 + cos(pi (step-1) / total)) / 2`
/// (1 at the first update, falling towards 0 at the last). `constant` and `plateau` are
/// 1 here; plateau's halvings are applied by the training loop, per epoch.
pub(crate) fn factor(schedule: LrSchedule, warmup: u64, step: u64, total: u64) -> f64 {
    let warm = if warmup > 0 && step < warmup { step as f64 / warmup as f64 } else { 1.0 };
    let shape = match schedule {
        LrSchedule::Cosine => {
            let progress = step.saturating_sub(1) as f64 / total.max(1) as f64;
            0.5 * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos())
        }
        LrSchedule::Constant | LrSchedule::Plateau => 1.0,
    };
    warm * shape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_is_one_at_every_step() {
        assert!((1..=100).all(|s| factor(LrSchedule::Constant, 0, s, 100) == 1.0));
    }

    #[test]
    fn cosine_starts_at_one_halves_midway_and_ends_near_zero() {
        assert_eq!(factor(LrSchedule::Cosine, 0, 1, 100), 1.0);
        assert!((factor(LrSchedule::Cosine, 0, 51, 100) - 0.5).abs() < 1e-12);
        let last = factor(LrSchedule::Cosine, 0, 100, 100);
        assert!(last > 0.0 && last < 1e-3, "{last}");
        assert!((1..100).all(|s| factor(LrSchedule::Cosine, 0, s + 1, 100) < factor(LrSchedule::Cosine, 0, s, 100)));
    }

    #[test]
    fn warm_up_rises_linearly_then_hands_over_to_the_schedule() {
        assert_eq!(factor(LrSchedule::Constant, 10, 1, 100), 0.1);
        assert_eq!(factor(LrSchedule::Constant, 10, 5, 100), 0.5);
        assert_eq!(factor(LrSchedule::Constant, 10, 10, 100), 1.0);
        assert_eq!(factor(LrSchedule::Cosine, 10, 5, 100), 0.5 * factor(LrSchedule::Cosine, 0, 5, 100));
    }
}
