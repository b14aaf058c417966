//! Heatmap primitives: a log-normalised viridis colour scale, a (layer, epoch) grid of
//! coloured cells and the colour bar that reads it.
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

use super::chart::chart;
use super::figure::{font, Area, DrawResult};
use super::scale::{fmt_sci, min_max, Scale};

/// Width of the strip to the right of the panels that holds a colour bar.
pub(super) const COLOUR_BAR_WIDTH: u32 = 150;

/// Log-normalised viridis colours over `lo..=hi`.
pub(super) struct ColourScale {
    lo: f64,
    hi: f64,
}

impl ColourScale {
    pub(super) fn new(lo: f64, hi: f64) -> ColourScale {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo / 2.0, hi * 2.0) };
        ColourScale { lo, hi }
    }
    /// Position of `v` on the scale, 0 at `lo` and 1 at `hi`.
    fn fraction(&self, v: f64) -> f64 {
        ((v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())).clamp(0.0, 1.0)
    }
    fn colour(&self, v: f64) -> RGBColor {
        ViridisRGB::get_color(self.fraction(v))
    }
}

/// One heatmap panel: a cell per (layer, epoch), coloured by its value and labelled with
/// it where the cell is big enough.
pub(super) fn draw_grid(area: &Area, caption: &str, grid: &BTreeMap<(i64, usize), f64>, layers: i64, colours: &ColourScale) -> DrawResult {
    let epochs: Vec<f64> = grid.keys().map(|(_, e)| *e as f64).collect();
    let (e_lo, e_hi) = min_max(&epochs).unwrap_or((1.0, 1.0));
    let x = Scale::integers(e_lo, e_hi, 0.5);
    let y = Scale::integers(0.0, (layers - 1) as f64, 0.5);
    let mut chart = chart(area, caption, x, y, "epoch", "layer (0 = input side)")?;
    let (plot_w, plot_h) = chart.plotting_area().dim_in_pixel();
    let cell_w = plot_w as f64 / (e_hi - e_lo + 1.0);
    let cell_h = plot_h as f64 / layers as f64;
    chart.draw_series(grid.iter().map(|(&(layer, epoch), &v)| {
        let (x, y) = (epoch as f64, layer as f64);
        let fill = if v > 0.0 && v.is_finite() { colours.colour(v) } else { RGBColor(200, 200, 200) };
        Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], fill.filled())
    }))?;
    let label_size = 13.0;
    let widest = area.estimate_text_size("0.00e-00", &font(label_size))?.0 as f64;
    if cell_w >= widest + 6.0 && cell_h >= label_size + 6.0 {
        let centred = Pos::new(HPos::Center, VPos::Center);
        chart.draw_series(grid.iter().map(|(&(layer, epoch), &v)| {
            let light = v > 0.0 && colours.fraction(v) < 0.6;
            let ink: &'static RGBColor = if light { &WHITE } else { &BLACK };
            Text::new(fmt_sci(v), (epoch as f64, layer as f64), font(label_size).color(ink).pos(centred))
        }))?;
    }
    Ok(())
}

/// A vertical colour bar for `colours`, labelled on its left with a log axis.
pub(super) fn draw_colour_bar(area: &Area, colours: &ColourScale, desc: &str) -> DrawResult {
    let (_, h) = area.dim_in_pixel();
    let vertical_margin = (h as i32 / 2 - 180).max(30) as u32;
    let bar_area = area.margin(vertical_margin, vertical_margin, 0, 0);
    let y = Scale::log_exact(colours.lo, colours.hi);
    let mut bar = ChartBuilder::on(&bar_area).margin(8).y_label_area_size(80).build_cartesian_2d(Scale::linear_exact(0.0, 1.0, 1.0).without_ticks(), y)?;
    bar.configure_mesh().disable_mesh().y_desc(desc).axis_desc_style(font(15.0)).label_style(font(13.0)).draw()?;
    const STEPS: usize = 200;
    let (lo, hi) = (colours.lo.ln(), colours.hi.ln());
    bar.draw_series((0..STEPS).map(|i| {
        let at = |k: usize| (lo + (hi - lo) * k as f64 / STEPS as f64).exp();
        let (a, b) = (at(i), at(i + 1));
        Rectangle::new([(0.0, a), (1.0, b)], colours.colour((a * b).sqrt()).filled())
    }))?;
    Ok(())
}
