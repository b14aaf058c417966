//! The one rule by which a report calls a difference a finding: means over seeds with
//! their sample std and standard error, and a comparison of two groups that is a finding
//! only when |difference| > 2 standard errors of the difference (Welch), the standard
//! error of accuracies never taken below the binomial floor of the test reviews they were
//! measured on; with one seed that floor is the only noise known.

/// How many standard errors of the difference a finding must exceed.
pub(crate) const SE_MULTIPLE: f64 = 2.0;

/// A mean over seeds, with the sample standard deviation when there are several.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Stat {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Stat {
    pub(crate) fn of(values: &[f64]) -> Stat {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n.max(1) as f64;
        let std = if n < 2 { 0.0 } else { (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() };
        Stat { mean, std, n }
    }

    /// The standard error of the mean, std/√n (0 for one value: it has no estimate).
    pub(crate) fn se(self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            self.std / (self.n as f64).sqrt()
        }
    }

    /// `0.6120`, or `0.6120 ± 0.0150` over several seeds.
    pub(crate) fn acc(self) -> String {
        self.show(4)
    }

    pub(crate) fn show(self, decimals: usize) -> String {
        if self.n > 1 {
            format!("{:.*} ± {:.*}", decimals, self.mean, decimals, self.std)
        } else {
            format!("{:.*}", decimals, self.mean)
        }
    }
}

/// The binomial standard error of an accuracy `p` measured on `n_test` reviews,
/// √(p(1−p)/n): the noise of one seed's test accuracy from the finite test set alone.
pub(crate) fn binomial_se(p: f64, n_test: usize) -> f64 {
    (p.clamp(0.0, 1.0) * (1.0 - p.clamp(0.0, 1.0)) / n_test.max(1) as f64).sqrt()
}

/// Where the noise of a comparison came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Noise {
    /// Several seeds in each group: Welch's √(s₁²/n₁ + s₂²/n₂) (for accuracies, at least
    /// the binomial floor: two or three seeds can agree closely by chance). `n` is the
    /// smaller group.
    Seeds { n: usize },
    /// A single seed in a group: the binomial floor of accuracies on `n_test` test reviews
    /// (a lower bound: seed-to-seed spread is often larger).
    OneSeedAccuracy { n_test: usize },
    /// A single seed of a quantity with no sampling model (a gradient norm): no estimate,
    /// so nothing is called a finding.
    OneSeedUnknown,
}

/// The difference `a − b` of two groups of per-seed values, judged by the rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Comparison {
    pub(crate) a: Stat,
    pub(crate) b: Stat,
    pub(crate) diff: f64,
    /// The standard error of the difference (0 when it has no estimate).
    pub(crate) se: f64,
    pub(crate) noise: Noise,
}

impl Comparison {
    /// Two groups of accuracies (fractions), measured on `n_test` test reviews each.
    pub(crate) fn accuracies(a: &[f64], b: &[f64], n_test: usize) -> Comparison {
        let (sa, sb) = (Stat::of(a), Stat::of(b));
        let floor = (binomial_se(sa.mean, n_test).powi(2) + binomial_se(sb.mean, n_test).powi(2)).sqrt();
        if sa.n < 2 || sb.n < 2 {
            return Comparison { a: sa, b: sb, diff: sa.mean - sb.mean, se: floor, noise: Noise::OneSeedAccuracy { n_test } };
        }
        let welch = Comparison::welch(sa, sb);
        Comparison { se: welch.se.max(floor), ..welch }
    }

    /// Accuracies against a fixed value (chance, 0.5): the second group has no noise.
    pub(crate) fn accuracy_against(a: &[f64], value: f64, n_test: usize) -> Comparison {
        let sa = Stat::of(a);
        let b = Stat { mean: value, std: 0.0, n: usize::MAX };
        if sa.n < 2 {
            return Comparison { a: sa, b, diff: sa.mean - value, se: binomial_se(sa.mean, n_test), noise: Noise::OneSeedAccuracy { n_test } };
        }
        Comparison { a: sa, b, diff: sa.mean - value, se: sa.se().max(binomial_se(sa.mean, n_test)), noise: Noise::Seeds { n: sa.n } }
    }

    /// Two groups of any per-seed quantity (no binomial floor when a group has one seed).
    pub(crate) fn values(a: &[f64], b: &[f64]) -> Comparison {
        let (sa, sb) = (Stat::of(a), Stat::of(b));
        if sa.n < 2 || sb.n < 2 {
            return Comparison { a: sa, b: sb, diff: sa.mean - sb.mean, se: 0.0, noise: Noise::OneSeedUnknown };
        }
        Comparison::welch(sa, sb)
    }

    fn welch(a: Stat, b: Stat) -> Comparison {
        let se = (a.std.powi(2) / a.n as f64 + b.std.powi(2) / b.n as f64).sqrt();
        Comparison { a, b, diff: a.mean - b.mean, se, noise: Noise::Seeds { n: a.n.min(b.n) } }
    }

    /// Whether the difference exceeds its noise: |a − b| > 2 SE. Without a noise estimate
    /// nothing is a finding; with seeds that agree exactly, any difference is.
    pub(crate) fn is_finding(&self) -> bool {
        match self.noise {
            Noise::OneSeedUnknown => false,
            _ => self.diff.abs() > SE_MULTIPLE * self.se && self.diff != 0.0,
        }
    }

    /// What the rule says, after the difference is stated: `a finding (|+3.1| > 2 SE =
    /// 1.4 points, n = 3)`, `within seed noise (n = 3; 2 SE = 1.9 points)`, or the one-seed
    /// labels. `unit` scales the SE as the difference was shown (100 for points), and
    /// `decimals` is how it was shown.
    pub(crate) fn verdict(&self, unit: f64, decimals: usize, unit_name: &str) -> String {
        let band = format!("{:.*}", decimals, SE_MULTIPLE * self.se * unit);
        match (self.noise, self.is_finding()) {
            (Noise::Seeds { n }, true) => format!("**a finding** (beyond 2 SE = {band} {unit_name}, n = {n})"),
            (Noise::Seeds { n }, false) => format!("within seed noise (n = {n}; 2 SE = {band} {unit_name})"),
            (Noise::OneSeedAccuracy { n_test }, true) => {
                format!("one seed, **beyond the floor** of {n_test} test reviews (2 binomial SE = {band} {unit_name}; seed-to-seed spread is not measured)")
            }
            (Noise::OneSeedAccuracy { n_test }, false) => {
                format!("one seed, within the noise floor of {n_test} test reviews (2 binomial SE = {band} {unit_name})")
            }
            (Noise::OneSeedUnknown, _) => "one seed: no noise estimate, so not called a finding (run --seeds 3)".into(),
        }
    }

    /// `+2.3 points, a finding (...)`: the difference in points of accuracy and the verdict.
    pub(crate) fn points(&self) -> String {
        format!("{:+.1} points, {}", 100.0 * self.diff, self.verdict(100.0, 1, "points"))
    }
}

/// The sentence every report states once, naming the rule its readings follow.
pub(crate) fn rule_text(seeds: u64, n_test: usize) -> String {
    let floor = 100.0 * binomial_se(0.5, n_test);
    let seeds_part = if seeds > 1 {
        format!(
            "With {seeds} seeds, a difference between two models is called a finding only when it exceeds 2 standard errors of the difference \
             (Welch: √(s₁²/n₁ + s₂²/n₂) over the seeds, for accuracies never below the test set's binomial floor); otherwise the reading says \"within seed noise\".{}",
            if seeds < 3 { " Two seeds give a rough standard error: 3 or more are better." } else { "" }
        )
    } else {
        "With one seed, seed-to-seed spread is not measured: a difference is called beyond the noise only when it exceeds 2 standard errors of the difference of two binomial accuracies, and is still labelled \"one seed\".".into()
    };
    format!(
        "{seeds_part} The floor under any one accuracy is the test set's own: on {n_test} test reviews, √(p(1−p)/n) = {floor:.1} points at p = 0.5 \
         (a lower bound: each seed adds its own spread)."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_shows_its_value_and_several_show_mean_and_sample_std() {
        assert_eq!(Stat::of(&[0.61204]).acc(), "0.6120");
        assert_eq!(Stat::of(&[0.5, 0.7]).acc(), "0.6000 ± 0.1414");
        assert!((Stat::of(&[0.5, 0.7]).se() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn a_difference_inside_the_seed_noise_is_never_called_a_finding() {
        // Means 0.52 and 0.51, stds 0.02: SE of the difference 0.0163, 2 SE 3.3 points.
        let c = Comparison::accuracies(&[0.50, 0.52, 0.54], &[0.49, 0.51, 0.53], 2000);
        assert!(!c.is_finding());
        assert_eq!(c.points(), "+1.0 points, within seed noise (n = 3; 2 SE = 3.3 points)");
        // Equal means, any spread: never a finding.
        assert!(!Comparison::accuracies(&[0.5, 0.6], &[0.6, 0.5], 25000).is_finding());
    }

    #[test]
    fn a_difference_outside_the_seed_noise_is_a_finding() {
        let c = Comparison::accuracies(&[0.80, 0.81, 0.82], &[0.50, 0.51, 0.52], 2000);
        assert!(c.is_finding());
        // Welch's SE (0.8 points) is below the binomial floor of 2,000 reviews (1.4): the floor counts.
        assert_eq!(c.points(), "+30.0 points, **a finding** (beyond 2 SE = 2.8 points, n = 3)");
        let close_seeds = Comparison::accuracies(&[0.502, 0.501], &[0.465, 0.466], 300);
        assert!(!close_seeds.is_finding(), "two seeds that agree closely by chance do not beat the test set's floor");
        let chance = Comparison::accuracy_against(&[0.80, 0.81, 0.82], 0.5, 2000);
        assert!(chance.is_finding());
    }

    #[test]
    fn one_seed_is_labelled_and_judged_against_the_binomial_floor_of_the_test_set() {
        // At 2,000 reviews and p = 0.5 one SE is 1.1 points; the difference's is 1.6.
        assert!((binomial_se(0.5, 2000) - 0.01118).abs() < 1e-4);
        let near = Comparison::accuracies(&[0.506], &[0.495], 2000);
        assert!(!near.is_finding());
        assert_eq!(near.points(), "+1.1 points, one seed, within the noise floor of 2000 test reviews (2 binomial SE = 3.2 points)");
        let far = Comparison::accuracies(&[0.60], &[0.50], 2000);
        assert!(far.is_finding());
        assert!(far.points().starts_with("+10.0 points, one seed, **beyond the floor**"), "{}", far.points());
        let grads = Comparison::values(&[1.0], &[0.001]);
        assert!(!grads.is_finding(), "one seed of a gradient norm has no noise estimate");
        assert!(grads.verdict(1.0, 2, "decades").starts_with("one seed"));
    }

    #[test]
    fn the_rule_is_stated_with_its_numbers() {
        assert!(rule_text(3, 2000).contains("2 standard errors of the difference"));
        assert!(rule_text(1, 2000).contains("1.1 points"));
    }
}
