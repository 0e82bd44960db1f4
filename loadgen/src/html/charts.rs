//! The charts of the HTML report, drawn by plotters' SVG backend.
//!
//! Each function draws [`Line`]s into one `<svg>` element, returned as a
//! string to embed in the page. plotters escapes every text it writes
//! (legend names are mix paths, which users choose). It is built without a
//! font library: text boxes are estimated (0.7 em a character), which is
//! all an SVG needs, since the browser lays out and draws the text itself.

use std::io;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis;

/// Size of every chart, in CSS pixels (the page scales it to its width).
const SIZE: (u32, u32) = (960, 400);

/// Colours of the lines, in order (Tableau 10, readable on white).
const COLOURS: [RGBColor; 10] = [
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
];

/// One named series of points of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The legend's text.
    pub name: String,
    /// (x, y) in the chart's units, x increasing.
    pub points: Vec<(f64, f64)>,
    /// Drawn wider and in black: the total, among its parts.
    pub bold: bool,
}

/// The latency spectrum: x the percentile on the number-of-nines axis
/// (0 to `span` nines), y the latency in ms on a log scale.
pub fn spectrum(lines: &[Line], span: u32) -> io::Result<String> {
    let (lo, hi) = positive_bounds(lines);
    let (x, y) = (axis::NinesAxis::new(span), axis::LatencyAxis::new(lo, hi));
    draw(lines, x, y, ("percentile", "latency (ms)"), &|x| {
        axis::label(*x)
    })
}

/// Counts over the seconds of the run: x seconds from the start, y from 0
/// (`y_desc` names the unit).
pub fn counts_over_time(lines: &[Line], y_desc: &str) -> io::Result<String> {
    let top = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let x = 0.0..last_second(lines);
    draw(
        lines,
        x,
        0.0..top,
        ("seconds from the start", y_desc),
        &|t| format!("{t}"),
    )
}

/// Latencies over the seconds of the run, in ms on a log scale.
pub fn latency_over_time(lines: &[Line]) -> io::Result<String> {
    let (lo, hi) = positive_bounds(lines);
    let (x, y) = (0.0..last_second(lines), axis::LatencyAxis::new(lo, hi));
    draw(
        lines,
        x,
        y,
        ("seconds from the start", "latency (ms)"),
        &|t| format!("{t}"),
    )
}

/// The x of the last point of `lines`, at least 1.
fn last_second(lines: &[Line]) -> f64 {
    lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(1.0, f64::max)
}

/// Draws `lines` on axes `x` and `y`, their legend on the right, into an
/// SVG string.
fn draw<X, Y>(
    lines: &[Line],
    x: X,
    y: Y,
    descs: (&str, &str),
    x_label: &dyn Fn(&f64) -> String,
) -> io::Result<String>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let styles = styles(lines);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(io::Error::other)?;
        let (plot_area, legend_area) = root.split_horizontally(SIZE.0 - legend_width(lines));
        plot(&plot_area, lines, &styles, (x, y), descs, x_label).map_err(io::Error::other)?;
        legend(&legend_area, lines, &styles).map_err(io::Error::other)?;
        root.present().map_err(io::Error::other)?;
    }
    Ok(svg)
}

/// Each line's stroke: the bold one black and wider, the others in turn.
fn styles(lines: &[Line]) -> Vec<ShapeStyle> {
    let mut colours = COLOURS.iter().cycle();
    lines
        .iter()
        .map(|line| match line.bold {
            true => BLACK.stroke_width(3),
            false => colours.next().expect("the colours cycle").stroke_width(2),
        })
        .collect()
}

fn plot<X, Y>(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    lines: &[Line],
    styles: &[ShapeStyle],
    (x, y): (X, Y),
    (x_desc, y_desc): (&str, &str),
    x_label: &dyn Fn(&f64) -> String,
) -> Result<(), DrawingAreaErrorKind<io::Error>>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(20)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_label_formatter(x_label)
        .y_label_formatter(&|v| axis::short(*v))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;
    for (line, style) in lines.iter().zip(styles) {
        chart.draw_series(LineSeries::new(line.points.iter().copied(), *style))?;
    }
    Ok(())
}

/// One row per line: a stroke of its style and its name.
fn legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    lines: &[Line],
    styles: &[ShapeStyle],
) -> Result<(), DrawingAreaErrorKind<io::Error>> {
    let font = ("sans-serif", LEGEND_FONT)
        .into_font()
        .into_text_style(area)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (row, (line, style)) in lines.iter().zip(styles).enumerate() {
        let y = 24 + 22 * row as i32;
        area.draw(&PathElement::new([(4, y), (28, y)], *style))?;
        area.draw(&Text::new(line.name.as_str(), (36, y), font.clone()))?;
    }
    Ok(())
}

/// Size of the legend's text, in pixels.
const LEGEND_FONT: u32 = 14;

/// Width of the legend: its longest name at the width plotters' estimate
/// gives a character (0.7 em), within 120..=360 pixels.
fn legend_width(lines: &[Line]) -> u32 {
    let longest = lines
        .iter()
        .map(|l| l.name.chars().count())
        .max()
        .unwrap_or(0);
    let text = (longest as f64 * 0.7 * f64::from(LEGEND_FONT) / 1.24).ceil() as u32;
    (text + 48).clamp(120, 360)
}

/// The lowest and highest positive y of `lines`, widened a little for a
/// log axis (0.1 to 10 ms when there is none).
fn positive_bounds(lines: &[Line]) -> (f64, f64) {
    let ys = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .filter(|y| *y > 0.0);
    let (lo, hi) = ys.fold((f64::INFINITY, 0.0f64), |(lo, hi), y| {
        (lo.min(y), hi.max(y))
    });
    if hi == 0.0 {
        (0.1, 10.0)
    } else {
        (lo / 1.5, hi * 1.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, points: &[(f64, f64)]) -> Line {
        Line {
            name: name.to_owned(),
            points: points.to_vec(),
            bold: false,
        }
    }

    #[test]
    fn a_chart_is_one_svg_with_its_legend_escaped() {
        let lines = [
            line("GET /a<b>&c", &[(0.0, 1.0), (1.0, 2.0), (2.0, 9.0)]),
            line("all", &[(0.0, 0.5), (2.0, 20.0)]),
        ];
        let svg = spectrum(&lines, 2).unwrap();
        assert_eq!(svg.matches("<svg").count(), 1, "{svg}");
        assert!(svg.contains("GET /a&lt;b&gt;&amp;c"), "{svg}");
        assert!(!svg.contains("/a<b>"));
        for tick in ["0%", "90%", "99%"] {
            assert!(
                svg.contains(&format!(">\n{tick}\n<")) || svg.contains(tick),
                "{tick}"
            );
        }
        let time = counts_over_time(&lines, "requests per second").unwrap();
        assert!(time.contains("seconds from the start"));
        assert!(
            time.contains("<polyline") || time.contains("<path"),
            "{time}"
        );
    }

    #[test]
    fn charts_without_data_still_draw_their_axes() {
        let svg = spectrum(&[], 2).unwrap();
        assert!(svg.contains("latency (ms)"));
        let svg = counts_over_time(&[line("sent", &[])], "requests per second").unwrap();
        assert!(svg.contains("requests per second"));
        let svg = latency_over_time(&[line("p50", &[])]).unwrap();
        assert!(svg.contains("latency (ms)"));
    }
}
