//! Line charts in the figures' common style: lines, panels (axes and their titles), the
//! legend strip to the right of the panels, so a legend never hides data.
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figure::{font, Area, DrawResult};
use super::scale::{min_max, Scale};

/// Lines with at most this many points also get a marker on each point.
const MAX_MARKED_POINTS: usize = 40;

/// Tableau 10 (distinct, colour-blind-friendlier than plotters' defaults), then ten
/// darker colours of other hues, so 20 lines get 20 colours before any repeats dashed.
pub(super) const PALETTE: [RGBColor; 20] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(57, 59, 121),
    RGBColor(132, 60, 57),
    RGBColor(99, 121, 57),
    RGBColor(140, 109, 49),
    RGBColor(123, 65, 115),
    RGBColor(0, 128, 128),
    RGBColor(0, 0, 0),
    RGBColor(165, 81, 148),
    RGBColor(82, 84, 163),
    RGBColor(189, 158, 57),
];

/// One line of a line chart.
pub(super) struct Line {
    pub(super) label: String,
    pub(super) color: RGBColor,
    pub(super) dashed: bool,
    /// A thin, pale line (one seed beside its mean); an empty label keeps it out of the legend.
    pub(super) thin: bool,
    pub(super) points: Vec<(f64, f64)>,
}

impl Line {
    /// A full-width line in `color`.
    pub(super) fn new(label: impl Into<String>, color: RGBColor, dashed: bool, points: Vec<(f64, f64)>) -> Line {
        Line { label: label.into(), color, dashed, thin: false, points }
    }

    fn stroke(&self) -> ShapeStyle {
        if self.thin {
            let RGBColor(r, g, b) = self.color;
            let pale = |c: u8| ((c as u16 + 2 * 255) / 3) as u8;
            RGBColor(pale(r), pale(g), pale(b)).stroke_width(1)
        } else {
            self.color.stroke_width(2)
        }
    }
}

/// Lines coloured in palette order (dashed once the palette repeats).
pub(super) fn palette_lines(series: impl Iterator<Item = (String, Vec<(f64, f64)>)>) -> Vec<Line> {
    series.enumerate().map(|(i, (label, points))| Line::new(label, PALETTE[i % PALETTE.len()], i >= PALETTE.len(), points)).collect()
}

pub(super) fn drop_empty(lines: Vec<Line>) -> Vec<Line> {
    lines.into_iter().filter(|l| !l.points.is_empty()).collect()
}

pub(super) fn ys(lines: &[Line]) -> Vec<f64> {
    lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).collect()
}

/// The caption (empty for none), axis titles and scales of one line-chart panel.
pub(super) struct Panel {
    pub(super) caption: String,
    pub(super) x_desc: String,
    pub(super) y_desc: String,
    pub(super) x: Scale,
    pub(super) y: Scale,
}

/// Loss per epoch; log scale when the loss falls by decades, else linear from 0.
pub(super) fn loss_panel(caption: &str, lines: &[Line]) -> Panel {
    let y = match Scale::auto(&ys(lines)) {
        log if log.log => log,
        linear => Scale::linear_exact(0.0, linear.hi, f64::INFINITY),
    };
    Panel { caption: caption.into(), x_desc: "epoch".into(), y_desc: y.desc("binary cross-entropy (nats per review)"), x: epoch_scale(lines), y }
}

/// Accuracy in percent per epoch, from a round value below the lowest point up to 100 %.
pub(super) fn accuracy_panel(caption: &str, lines: &[Line]) -> Panel {
    let lowest = ys(lines).into_iter().fold(100.0, f64::min);
    let lo = ((lowest - 2.0) / 5.0).floor().max(0.0) * 5.0;
    Panel { caption: caption.into(), x_desc: "epoch".into(), y_desc: "accuracy (%)".into(), x: epoch_scale(lines), y: Scale::linear_exact(lo, 101.0, 100.0) }
}

fn epoch_scale(lines: &[Line]) -> Scale {
    let xs: Vec<f64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    let (lo, hi) = min_max(&xs).unwrap_or((1.0, 1.0));
    Scale::integers_for_points(lo, hi)
}

/// Grey for mesh lines.
const GRID: RGBColor = RGBColor(220, 220, 220);
const GRID_LIGHT: RGBColor = RGBColor(240, 240, 240);

/// A chart with caption, axes and grid in the figures' common style.
pub(super) fn chart<'a, 'b>(
    area: &'a Area<'b>,
    caption: &str,
    x: Scale,
    y: Scale,
    x_desc: &str,
    y_desc: &str,
) -> DrawResult<ChartContext<'a, BitMapBackend<'b>, Cartesian2d<Scale, Scale>>> {
    let mut builder = ChartBuilder::on(area);
    if !caption.is_empty() {
        builder.caption(caption, font(20.0));
    }
    let mut chart = builder.margin(12).x_label_area_size(52).y_label_area_size(92).build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(font(16.0))
        .label_style(font(14.0))
        .bold_line_style(GRID)
        .light_line_style(GRID_LIGHT)
        .draw()?;
    Ok(chart)
}

/// A line chart: each line with markers on its points when there are few of them.
pub(super) fn draw_lines(area: &Area, panel: &Panel, lines: &[Line]) -> DrawResult {
    let mut chart = chart(area, &panel.caption, panel.x.clone(), panel.y.clone(), &panel.x_desc, &panel.y_desc)?;
    for line in lines {
        let style = line.stroke();
        let points = line.points.iter().copied();
        if line.dashed {
            chart.draw_series(DashedLineSeries::new(points, 10, 6, style))?;
        } else {
            chart.draw_series(LineSeries::new(points, style))?;
        }
        if line.points.len() <= MAX_MARKED_POINTS {
            let (radius, fill) = if line.thin { (2, style.color.filled()) } else { (4, line.color.filled()) };
            chart.draw_series(line.points.iter().map(|&p| Circle::new(p, radius, fill)))?;
        }
    }
    Ok(())
}

/// Splits off a strip on the right wide enough for the legend of `lines`.
pub(super) fn split_legend<'a>(area: &Area<'a>, lines: &[Line]) -> DrawResult<(Area<'a>, Area<'a>)> {
    let style = font(15.0);
    let mut widest = 0;
    for line in lines.iter().filter(|l| !l.label.is_empty()) {
        widest = widest.max(area.estimate_text_size(&legend_label(&line.label), &style)?.0);
    }
    let (w, _) = area.dim_in_pixel();
    let strip = (widest + 70).clamp(120, w / 3);
    Ok(area.split_horizontally(w - strip))
}

/// Legend labels are cut at 40 characters so that a long run name leaves room for plots.
fn legend_label(label: &str) -> String {
    if label.chars().count() <= 40 {
        label.to_string()
    } else {
        label.chars().take(39).chain(['…']).collect()
    }
}

/// A boxed legend: a line sample (with marker) and the label of each line, top aligned
/// with the plots.
pub(super) fn draw_legend(area: &Area, title: Option<&str>, lines: &[Line]) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let (x0, mut y) = (6, 48);
    let lines: Vec<&Line> = lines.iter().filter(|l| !l.label.is_empty()).collect();
    let rows = lines.len() as i32 + title.is_some() as i32;
    // Rows shrink (to a point) rather than run off the bottom when there are many lines.
    let row = ((h as i32 - y - 10) / rows.max(1)).clamp(16, 26);
    area.draw(&Rectangle::new([(x0, y - 8), (w as i32 - 4, y + rows * row)], ShapeStyle::from(&GRID).stroke_width(1)))?;
    let left = Pos::new(HPos::Left, VPos::Center);
    if let Some(title) = title {
        area.draw_text(title, &font(15.0).color(&RGBColor(90, 90, 90)).pos(left), (x0 + 10, y + row / 2 - 2))?;
        y += row;
    }
    for line in lines {
        let mid = y + row / 2 - 2;
        let sample = [(x0 + 10, mid), (x0 + 46, mid)];
        let style = line.stroke();
        if line.dashed {
            area.draw(&PathElement::new(vec![sample[0], (x0 + 22, mid)], style))?;
            area.draw(&PathElement::new(vec![(x0 + 34, mid), sample[1]], style))?;
        } else {
            area.draw(&PathElement::new(sample.to_vec(), style))?;
        }
        area.draw(&Circle::new((x0 + 28, mid), 4, line.color.filled()))?;
        area.draw_text(&legend_label(&line.label), &font(15.0).pos(left), (x0 + 56, mid))?;
        y += row;
    }
    Ok(())
}
