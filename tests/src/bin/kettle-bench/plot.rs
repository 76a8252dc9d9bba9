//! SVG plots (plotters, SVG backend only): latency and throughput against concurrency, the
//! kettle's resident set over time, block-build time against bundle count.

use std::path::Path;

use eyre::{ensure, eyre, WrapErr};
use plotters::{
    coord::{
        ranged1d::{AsRangedCoord, ValueFormatter},
        types::RangedCoordf64,
    },
    prelude::*,
};
use serde::{Deserialize, Serialize};

use crate::stats::{Level, RssSample, Workload};

/// One line of a chart.
struct Series {
    label: String,
    color: RGBColor,
    /// Thin and dashed (a tail percentile), else thick and solid.
    thin: bool,
    points: Vec<(f64, f64)>,
}

/// Colour of a workload's lines.
fn color(workload: Workload) -> RGBColor {
    match workload {
        Workload::EthCall => RGBColor(31, 119, 180),
        Workload::ConfidentialRequest => RGBColor(214, 39, 40),
        Workload::ConfidentialCall => RGBColor(44, 160, 44),
        Workload::Transfer => RGBColor(148, 103, 189),
    }
}

/// `lo..hi` widened so that a single value or a flat line still has a visible range.
fn padded(lo: f64, hi: f64, log: bool) -> (f64, f64) {
    if log {
        let (lo, hi) = (lo.max(1e-6), hi.max(1e-6));
        (lo / 1.5, hi * 1.5)
    } else if hi > lo {
        let pad = (hi - lo) * 0.05;
        ((lo - pad).max(0.0), hi + pad)
    } else {
        ((lo * 0.9).max(0.0), hi * 1.1 + 1.0)
    }
}

fn bounds(series: &[Series], axis: fn(&(f64, f64)) -> f64) -> (f64, f64) {
    series
        .iter()
        .flat_map(|s| s.points.iter().map(axis))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// Draws `series` on a chart with axes `x` and `y` into the SVG `path`.
fn draw<X, Y>(
    path: &Path,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    x: X,
    y: Y,
    series: &[Series],
) -> eyre::Result<()>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    }
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    let err = |e: DrawingAreaErrorKind<std::io::Error>| eyre!("drawing {}: {e}", path.display());
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(12)
        .y_labels(10)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    for s in series {
        let style = if s.thin {
            s.color.stroke_width(1)
        } else {
            s.color.stroke_width(2)
        };
        let color = s.color;
        if s.thin {
            chart
                .draw_series(DashedLineSeries::new(s.points.iter().copied(), 6, 4, style))
                .map_err(err)?
        } else {
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), style))
                .map_err(err)?
        }
        .label(&s.label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        chart
            .draw_series(
                s.points.iter().map(|&p| {
                    Circle::new(p, 3, if s.thin { color.into() } else { color.filled() })
                }),
            )
            .map_err(err)?;
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// A tick label without needless decimals (`1`, `250`, `2.5`, `0.25`).
fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 || (a - a.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Chart of `series` on a log x axis and a log (`y_log`) or linear (from 0) y axis, with room
/// above the data for the legend.
fn draw_log_x(
    path: &Path,
    title: &str,
    descs: (&str, &str),
    y_log: bool,
    series: &[Series],
) -> eyre::Result<()> {
    ensure!(
        series.iter().any(|s| !s.points.is_empty()),
        "nothing to plot into {}",
        path.display()
    );
    let (x0, x1) = padded_x(series);
    let (y0, y1) = bounds(series, |p| p.1);
    // The data keeps the lower part of the height; the legend (upper left) goes above it.
    let share = if series.len() > 1 {
        (0.75 - 0.03 * series.len() as f64).max(0.5)
    } else {
        0.9
    };
    let x = (x0..x1).log_scale();
    if y_log {
        let (y0, y1) = padded(y0, y1, true);
        let y1 = (y0.ln() + (y1.ln() - y0.ln()) / share).exp();
        draw(path, title, descs, x, (y0..y1).log_scale(), series)
    } else {
        let y: RangedCoordf64 = (0.0..y1.max(1e-9) / share).into();
        draw(path, title, descs, x, y, series)
    }
}

/// The x range of `series` on a log axis: a little room either side.
fn padded_x(series: &[Series]) -> (f64, f64) {
    let (lo, hi) = bounds(series, |p| p.0);
    let (lo, hi) = (lo.max(1e-6), hi.max(1e-6));
    (lo / 1.25, hi * 1.25)
}

/// `latency.svg`-style chart: p50 and p99 per workload against concurrency.
pub fn latency(levels: &[Level], path: &Path) -> eyre::Result<()> {
    let mut series = Vec::new();
    for workload in workloads(levels) {
        for (name, thin, pick) in [
            (
                "p50",
                false,
                (|w| w.p50_ms) as fn(&crate::stats::WorkloadStats) -> f64,
            ),
            ("p99", true, |w| w.p99_ms),
        ] {
            series.push(Series {
                label: format!("{} {name}", workload.label()),
                color: color(workload),
                thin,
                points: levels
                    .iter()
                    .filter_map(|l| l.get(workload).map(|w| (l.concurrency as f64, pick(w))))
                    .filter(|p| p.1 > 0.0)
                    .collect(),
            });
        }
    }
    draw_log_x(
        path,
        "Request latency against concurrency (KeccakLoop)",
        ("concurrent clients", "latency, ms"),
        true,
        &series,
    )
}

/// Requests per second per workload against concurrency.
pub fn throughput(levels: &[Level], path: &Path) -> eyre::Result<()> {
    let series: Vec<Series> = workloads(levels)
        .into_iter()
        .map(|workload| Series {
            label: workload.label().to_owned(),
            color: color(workload),
            thin: false,
            points: levels
                .iter()
                .filter_map(|l| {
                    l.get(workload)
                        .map(|w| (l.concurrency as f64, w.req_per_sec))
                })
                .filter(|p| p.1 > 0.0)
                .collect(),
        })
        .collect();
    draw_log_x(
        path,
        "Throughput against concurrency (KeccakLoop)",
        ("concurrent clients", "requests per second"),
        false,
        &series,
    )
}

/// The kettle's sampled `VmRSS` (MiB) over time.
pub fn rss(samples: &[RssSample], title: &str, path: &Path) -> eyre::Result<()> {
    ensure!(!samples.is_empty(), "no RSS samples to plot");
    let series = [Series {
        label: "kettle VmRSS".into(),
        color: RGBColor(148, 103, 189),
        thin: false,
        points: samples
            .iter()
            .map(|s| (s.t_secs, s.rss_kib as f64 / 1024.0))
            .collect(),
    }];
    let (x0, x1) = bounds(&series, |p| p.0);
    let (y0, y1) = bounds(&series, |p| p.1);
    let (y0, y1) = padded(y0, y1, false);
    let x: RangedCoordf64 = (x0..x1.max(x0 + 1.0)).into();
    let y: RangedCoordf64 = (0.0f64.min(y0)..y1).into();
    draw(path, title, ("seconds", "resident set, MiB"), x, y, &series)
}

/// The JSON the `build` bench writes when `BUILD_BENCH_JSON` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildResults {
    /// Warm builds per bundle count (the median is reported).
    pub rounds: usize,
    /// One point per bundle count.
    pub points: Vec<BuildPoint>,
}

/// Build times of one bundle count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildPoint {
    /// Bundles (of one transfer each) in the block.
    pub bundles: u64,
    /// Median warm build, ms.
    pub warm_ms: f64,
    /// First (cold-cache) build, ms.
    pub cold_ms: f64,
}

/// Block-build time (warm and cold) against bundle count.
pub fn build(points: &[BuildPoint], path: &Path) -> eyre::Result<()> {
    let line = |label: &str, color, thin, pick: fn(&BuildPoint) -> f64| Series {
        label: label.to_owned(),
        color,
        thin,
        points: points
            .iter()
            .map(|p| (p.bundles as f64, pick(p)))
            .filter(|p| p.0 > 0.0 && p.1 > 0.0)
            .collect(),
    };
    let series = [
        line("warm (median)", RGBColor(31, 119, 180), false, |p| {
            p.warm_ms
        }),
        line("cold (first build)", RGBColor(255, 127, 14), true, |p| {
            p.cold_ms
        }),
    ];
    draw_log_x(
        path,
        "Block build time against bundle count (hardhat L1)",
        ("bundles (one transfer each)", "build time, ms"),
        true,
        &series,
    )
}

/// Reads a `BUILD_BENCH_JSON` file and plots it into `svg`.
pub fn build_from_json(json: &Path, svg: &Path) -> eyre::Result<()> {
    let text =
        std::fs::read_to_string(json).wrap_err_with(|| format!("reading {}", json.display()))?;
    let results: BuildResults = serde_json::from_str(&text)
        .wrap_err_with(|| format!("{} is not build-bench JSON", json.display()))?;
    build(&results.points, svg)
}

/// The workloads that ran in any level, in the order of the first level.
fn workloads(levels: &[Level]) -> Vec<Workload> {
    let mut out = Vec::new();
    for w in levels.iter().flat_map(|l| &l.workloads) {
        if !out.contains(&w.workload) {
            out.push(w.workload);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::stats::WorkloadStats;

    fn level(concurrency: usize) -> Level {
        let stats = |workload, ms: u64| {
            WorkloadStats::new(
                workload,
                vec![Duration::from_millis(ms); 10],
                Duration::from_secs(1),
                0,
                None,
            )
        };
        Level {
            concurrency,
            workloads: vec![
                stats(Workload::EthCall, concurrency as u64),
                stats(Workload::ConfidentialRequest, 2 * concurrency as u64),
            ],
        }
    }

    #[test]
    fn writes_svgs() {
        let dir = tempfile::tempdir().unwrap();
        let levels = [level(1), level(8), level(64)];
        let svg = |name: &str| {
            let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert!(text.starts_with("<svg"), "{name}: {}", &text[..40]);
            text
        };
        latency(&levels, &dir.path().join("latency.svg")).unwrap();
        assert!(svg("latency.svg").contains("confidential request p99"));
        throughput(&levels[..1], &dir.path().join("throughput.svg")).unwrap();
        svg("throughput.svg");
        let samples: Vec<RssSample> = (0..5)
            .map(|t| RssSample {
                t_secs: t as f64,
                rss_kib: 50_000,
            })
            .collect();
        rss(&samples, "RSS", &dir.path().join("sub/rss.svg")).unwrap();
        svg("sub/rss.svg");

        let json = dir.path().join("build.json");
        let results = BuildResults {
            rounds: 5,
            points: [10, 100, 1000]
                .map(|n| BuildPoint {
                    bundles: n,
                    warm_ms: n as f64 * 0.5,
                    cold_ms: n as f64,
                })
                .to_vec(),
        };
        std::fs::write(&json, serde_json::to_string(&results).unwrap()).unwrap();
        build_from_json(&json, &dir.path().join("build.svg")).unwrap();
        assert!(svg("build.svg").contains("warm (median)"));
        assert!(latency(&[], &dir.path().join("empty.svg")).is_err());
    }
}
