//! The charts of the HTML report, drawn by plotters' SVG backend.
//!
//! Each function draws [`Line`]s into one `<svg>` element, returned as a
//! string to embed in the page. plotters escapes every text it writes
//! (legend names are mix paths, which users choose). It is built without a
//! font library: text boxes are estimated (0.7 em a character), which is
//! all an SVG needs, since the browser lays out and draws the text itself.

use std::io;
use std::ops::Range;

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
    let axes = Axes {
        x_desc: "percentile",
        y_desc: "latency (ms)",
        x_label: &|x| axis::label(*x),
        end: None,
    };
    draw(lines, x, y, axes)
}

/// Counts over the seconds of the run: x seconds from the start, y from 0
/// (`y_desc` names the unit), a dashed line where sending ended (`end` s).
pub fn counts_over_time(lines: &[Line], y_desc: &str, end: f64) -> io::Result<String> {
    let top = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let x = 0.0..last_second(lines, end);
    draw(lines, x, 0.0..top, Axes::time(y_desc, end))
}

/// Latencies over the seconds of the run, in ms on a log scale, a dashed
/// line where sending ended (`end` s).
pub fn latency_over_time(lines: &[Line], end: f64) -> io::Result<String> {
    let (lo, hi) = positive_bounds(lines);
    let (x, y) = (0.0..last_second(lines, end), axis::LatencyAxis::new(lo, hi));
    draw(lines, x, y, Axes::time("latency (ms)", end))
}

/// The x of the last point of `lines`, at least `end` and 1.
fn last_second(lines: &[Line], end: f64) -> f64 {
    lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(end.max(1.0), f64::max)
}

/// What a chart writes on its axes, and where sending ended (time only).
struct Axes<'a> {
    x_desc: &'a str,
    y_desc: &'a str,
    x_label: &'a dyn Fn(&f64) -> String,
    end: Option<f64>,
}

impl<'a> Axes<'a> {
    fn time(y_desc: &'a str, end: f64) -> Self {
        Axes {
            x_desc: "seconds from the start",
            y_desc,
            x_label: &|t| axis::short(*t),
            end: Some(end),
        }
    }
}

/// The colour of the end-of-sending line.
const END_COLOUR: RGBColor = RGBColor(110, 110, 110);
/// Its name in the legend.
const END_LABEL: &str = "end of sending";

/// Draws `lines` on axes `x` and `y`, their legend on the right, into an
/// SVG string.
fn draw<X, Y>(lines: &[Line], x: X, y: Y, axes: Axes<'_>) -> io::Result<String>
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
        let names = lines.iter().map(|l| l.name.as_str());
        let names = names.chain(axes.end.map(|_| END_LABEL));
        let (plot_area, legend_area) = root.split_horizontally(SIZE.0 - legend_width(names));
        plot(&plot_area, lines, &styles, (x, y), &axes).map_err(io::Error::other)?;
        legend(&legend_area, lines, &styles, axes.end.is_some()).map_err(io::Error::other)?;
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
    axes: &Axes<'_>,
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
        .x_label_formatter(axes.x_label)
        .y_label_formatter(&|v| axis::short(*v))
        .x_desc(axes.x_desc)
        .y_desc(axes.y_desc)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;
    for (line, style) in lines.iter().zip(styles) {
        // Over time, a second without data breaks the line.
        let gap = if axes.end.is_some() {
            1.0
        } else {
            f64::INFINITY
        };
        for run in line.points.chunk_by(|a, b| b.0 - a.0 <= gap) {
            chart.draw_series(LineSeries::new(run.iter().copied(), *style))?;
            // A line needs two points: a lone second shows as a dot.
            if let [point] = run {
                chart.draw_series([Circle::new(*point, 3, style.filled())])?;
            }
        }
    }
    if lines.iter().all(|line| line.points.is_empty()) {
        let (width, height) = area.dim_in_pixel();
        let font = ("sans-serif", 18)
            .into_font()
            .color(&END_COLOUR)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let middle = (width as i32 / 2, height as i32 / 2);
        area.draw(&Text::new("nothing to show", middle, font))?;
    }
    if let Some(end) = axes.end {
        let Range { start, end: top } = chart.y_range();
        let style = END_COLOUR.stroke_width(1);
        chart.draw_series(DashedLineSeries::new(
            [(end, start), (end, top)],
            6,
            4,
            style,
        ))?;
    }
    Ok(())
}

/// One row per line: a stroke of its style and its name; then the
/// end-of-sending line's, if `end`.
fn legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    lines: &[Line],
    styles: &[ShapeStyle],
    end: bool,
) -> Result<(), DrawingAreaErrorKind<io::Error>> {
    let font = ("sans-serif", LEGEND_FONT)
        .into_font()
        .into_text_style(area)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let end_row = end.then_some((END_LABEL, END_COLOUR.stroke_width(1)));
    let rows = lines
        .iter()
        .map(|l| l.name.as_str())
        .zip(styles.iter().copied());
    for (row, (name, style)) in rows.chain(end_row).enumerate() {
        let y = 24 + 22 * row as i32;
        area.draw(&PathElement::new([(4, y), (28, y)], style))?;
        area.draw(&Text::new(name, (36, y), font.clone()))?;
    }
    Ok(())
}

/// Size of the legend's text, in pixels.
const LEGEND_FONT: u32 = 14;

/// Width of the legend: its longest name at the width plotters' estimate
/// gives a character (0.7 em), within 120..=360 pixels.
fn legend_width<'a>(names: impl Iterator<Item = &'a str>) -> u32 {
    let longest = names.map(|name| name.chars().count()).max().unwrap_or(0);
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
        let time = counts_over_time(&lines, "requests per second", 2.0).unwrap();
        assert!(time.contains("seconds from the start"));
        assert!(time.contains("end of sending"));
        assert!(
            time.contains("<polyline") || time.contains("<path"),
            "{time}"
        );
    }

    #[test]
    fn charts_without_data_still_draw_their_axes() {
        let svg = spectrum(&[], 2).unwrap();
        assert!(svg.contains("latency (ms)"));
        assert!(svg.contains("nothing to show"));
        let svg = counts_over_time(&[line("sent", &[(0.0, 20.0)])], "req/s", 0.4).unwrap();
        assert!(svg.contains("<circle"), "one second shows as a dot: {svg}");
        assert!(
            !svg.contains("0.30000"),
            "ticks read as short numbers: {svg}"
        );
        let svg = counts_over_time(&[line("sent", &[])], "requests per second", 0.0).unwrap();
        assert!(svg.contains("requests per second"));
        let svg = latency_over_time(&[line("p50", &[])], 0.0).unwrap();
        assert!(svg.contains("latency (ms)"));
    }
}
