//! Charts as inline SVG strings: deterministic, no script, no network. Every chart is a
//! `<figure class="chart">` whose marks (bars, cells, lines) carry `class="mark"`, so a page can
//! be checked for drawn charts.

use std::fmt::Write as _;

/// Colours: before, after, up (more urgent), down.
pub const BEFORE: &str = "#9aa5b1";
pub const AFTER: &str = "#2f6fdf";
pub const UP: &str = "#d9480f";
pub const DOWN: &str = "#2b8a3e";
/// Further series colours (lines).
pub const PALETTE: [&str; 8] = [
    "#2f6fdf", "#d9480f", "#2b8a3e", "#ae3ec9", "#f08c00", "#0c8599", "#c2255c", "#5c940d",
];

/// Escapes text for HTML and SVG.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A number for a label: integers plainly, others with one decimal.
pub fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

fn figure(id: &str, title: &str, w: u32, h: u32, body: &str, legend: &[(&str, &str)]) -> String {
    let mut s = format!(
        "<figure class=\"chart\" data-chart=\"{}\"><figcaption>{}</figcaption>",
        esc(id),
        esc(title)
    );
    if !legend.is_empty() {
        s.push_str("<div class=\"legend\">");
        for (name, color) in legend {
            let _ = write!(
                s,
                "<span><i style=\"background:{color}\"></i>{}</span>",
                esc(name)
            );
        }
        s.push_str("</div>");
    }
    let _ = write!(
        s,
        "<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">{body}</svg></figure>",
        esc(title)
    );
    s
}

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

/// A rounded-up maximum of `values` for an axis (1 when there is none above 0).
fn max_of(values: impl Iterator<Item = f64>) -> f64 {
    nice_max(values.fold(0.0, f64::max))
}

/// Five horizontal grid lines from 0 to `max` across `x` = (left, right), in the plot area
/// `y` = (top, height), each labelled with `fmt`.
fn y_grid(b: &mut String, x: (f64, f64), y: (f64, f64), max: f64, fmt: &dyn Fn(f64) -> String) {
    let (left, right) = x;
    let (top, plot_h) = y;
    for i in 0..=4 {
        let v = max * i as f64 / 4.0;
        let y = top + plot_h - plot_h * i as f64 / 4.0;
        let _ = write!(
            b,
            "<line x1=\"{left}\" x2=\"{right:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e7ec\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"tick\">{}</text>",
            left - 6.0,
            y + 4.0,
            esc(&fmt(v))
        );
    }
}

/// One data series: name, colour, a value per category.
pub struct Series<'a> {
    pub name: &'a str,
    pub color: &'a str,
    pub values: Vec<f64>,
}

/// Vertical grouped bars: one group per category, one bar per series. `fmt` labels values.
pub fn grouped_bars(
    id: &str,
    title: &str,
    categories: &[String],
    series: &[Series<'_>],
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let (w, h, left, bottom, top) = (720u32, 300u32, 48.0, 40.0, 12.0);
    let plot_w = w as f64 - left - 12.0;
    let plot_h = h as f64 - bottom - top;
    let max = max_of(series.iter().flat_map(|s| s.values.iter().copied()));
    let mut b = String::new();
    y_grid(&mut b, (left, left + plot_w), (top, plot_h), max, fmt);
    let n = categories.len().max(1) as f64;
    let group = plot_w / n;
    let bar = (group * 0.8 / series.len().max(1) as f64).min(48.0);
    for (ci, cat) in categories.iter().enumerate() {
        let gx = left + group * ci as f64 + (group - bar * series.len() as f64) / 2.0;
        for (si, s) in series.iter().enumerate() {
            let v = s.values.get(ci).copied().unwrap_or(0.0);
            let bh = plot_h * v / max;
            let x = gx + bar * si as f64;
            let y = top + plot_h - bh;
            let _ = write!(
                b,
                "<rect class=\"mark\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{}: {} {}</title></rect>",
                (bar - 2.0).max(1.0),
                s.color,
                esc(cat),
                esc(s.name),
                esc(&fmt(v))
            );
            if v > 0.0 {
                let _ = write!(
                    b,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"val\">{}</text>",
                    x + bar / 2.0 - 1.0,
                    y - 3.0,
                    esc(&fmt(v))
                );
            }
        }
        let _ = write!(
            b,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"cat\">{}</text>",
            left + group * ci as f64 + group / 2.0,
            h as f64 - bottom + 16.0,
            esc(&clip(cat, (group / 7.0) as usize))
        );
    }
    let legend: Vec<(&str, &str)> = series.iter().map(|s| (s.name, s.color)).collect();
    figure(id, title, w, h, &b, &legend)
}

fn clip(s: &str, max: usize) -> String {
    let max = max.max(4);
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut o: String = s.chars().take(max - 1).collect();
        o.push('…');
        o
    }
}

/// Horizontal stacked bars, one row per label (values per series, stacked left to right).
pub fn stacked_rows(
    id: &str,
    title: &str,
    rows: &[(String, Vec<f64>)],
    series: &[(&str, &str)],
) -> String {
    let row_h = 22.0;
    let (w, left, top) = (720u32, 180.0, 6.0);
    let h = (top * 2.0 + row_h * rows.len().max(1) as f64) as u32;
    let plot_w = w as f64 - left - 60.0;
    let max = max_of(rows.iter().map(|(_, v)| v.iter().sum::<f64>()));
    let mut b = String::new();
    for (ri, (label, values)) in rows.iter().enumerate() {
        let y = top + row_h * ri as f64;
        let _ = write!(
            b,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"cat\">{}</text>",
            left - 6.0,
            y + 15.0,
            esc(&clip(label, 26))
        );
        let mut x = left;
        for (si, v) in values.iter().enumerate() {
            let bw = plot_w * v / max;
            let (name, color) = series.get(si).copied().unwrap_or(("", "#888"));
            let _ = write!(
                b,
                "<rect class=\"mark\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{}: {} {}</title></rect>",
                y + 3.0,
                row_h - 6.0,
                esc(label),
                num(*v),
                esc(name)
            );
            x += bw;
        }
        let _ = write!(
            b,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"val\">{}</text>",
            x + 4.0,
            y + 15.0,
            num(values.iter().sum())
        );
    }
    figure(id, title, w, h, &b, series)
}

/// A heat map of counts: `matrix[i][j]` for row label `i` (before) and column label `j` (after).
pub fn heatmap(
    id: &str,
    title: &str,
    labels: &[String],
    matrix: &[Vec<u64>],
    axes: (&str, &str),
) -> String {
    let n = labels.len().max(1);
    let cell = (360.0 / n as f64).clamp(28.0, 64.0);
    let (left, top) = (90.0, 40.0);
    let w = (left + cell * n as f64 + 12.0) as u32;
    let h = (top + cell * n as f64 + 12.0) as u32;
    let max = matrix.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut b = format!(
        "<text x=\"{:.1}\" y=\"12\" text-anchor=\"middle\" class=\"axis\">{} →</text><text x=\"8\" y=\"{:.1}\" class=\"axis\">{} ↓</text>",
        left + cell * n as f64 / 2.0,
        esc(axes.1),
        top - 4.0,
        esc(axes.0)
    );
    for (j, l) in labels.iter().enumerate() {
        let _ = write!(
            b,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"cat\">{}</text>",
            left + cell * (j as f64 + 0.5),
            top - 8.0,
            esc(l)
        );
    }
    for (i, row) in matrix.iter().enumerate() {
        let y = top + cell * i as f64;
        let _ = write!(
            b,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"cat\">{}</text>",
            left - 6.0,
            y + cell / 2.0 + 4.0,
            esc(labels.get(i).map_or("", |s| s.as_str()))
        );
        for (j, &v) in row.iter().enumerate() {
            let x = left + cell * j as f64;
            let t = if v == 0 {
                0.0
            } else {
                0.15 + 0.85 * v as f64 / max
            };
            let fill = if i == j {
                format!("rgba(154,165,177,{t:.3})")
            } else if j < i {
                format!("rgba(217,72,15,{t:.3})")
            } else {
                format!("rgba(43,138,62,{t:.3})")
            };
            let _ = write!(
                b,
                "<rect class=\"mark\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\" stroke=\"#d0d5db\"><title>{} → {}: {v}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"val\">{}</text>",
                cell - 1.0,
                cell - 1.0,
                esc(labels.get(i).map_or("", |s| s.as_str())),
                esc(labels.get(j).map_or("", |s| s.as_str())),
                x + cell / 2.0,
                y + cell / 2.0 + 4.0,
                if v == 0 { String::new() } else { v.to_string() }
            );
        }
    }
    figure(id, title, w, h, &b, &[])
}

/// One line: name, colour, dashed, a value per x.
pub struct Line<'a> {
    pub name: String,
    pub color: &'a str,
    pub dashed: bool,
    pub values: Vec<f64>,
}

/// Lines over the x labels (days). Each point is a small circle (a mark).
pub fn lines(id: &str, title: &str, xs: &[String], lines: &[Line<'_>]) -> String {
    let (w, h, left, bottom, top) = (720u32, 280u32, 48.0, 36.0, 12.0);
    let plot_w = w as f64 - left - 150.0;
    let plot_h = h as f64 - bottom - top;
    let max = max_of(lines.iter().flat_map(|l| l.values.iter().copied()));
    let step = if xs.len() > 1 {
        plot_w / (xs.len() - 1) as f64
    } else {
        0.0
    };
    let px = |i: usize| left + step * i as f64 + if xs.len() == 1 { plot_w / 2.0 } else { 0.0 };
    let py = |v: f64| top + plot_h - plot_h * v / max;
    let mut b = String::new();
    y_grid(&mut b, (left, left + plot_w), (top, plot_h), max, &num);
    let every = (xs.len() / 8).max(1);
    for (i, x) in xs.iter().enumerate() {
        if i % every == 0 {
            let _ = write!(
                b,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"cat\">{}</text>",
                px(i),
                h as f64 - bottom + 16.0,
                esc(x.get(5..).unwrap_or(x))
            );
        }
    }
    for (li, l) in lines.iter().enumerate() {
        let pts: Vec<String> = l
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", px(i), py(*v)))
            .collect();
        let _ = write!(
            b,
            "<polyline class=\"mark\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"><title>{}</title></polyline>",
            l.color,
            if l.dashed { " stroke-dasharray=\"5 4\"" } else { "" },
            pts.join(" "),
            esc(&l.name)
        );
        for (i, v) in l.values.iter().enumerate() {
            let _ = write!(
                b,
                "<circle class=\"mark\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{}\"><title>{} {}: {}</title></circle>",
                px(i),
                py(*v),
                l.color,
                esc(&l.name),
                esc(&xs[i]),
                num(*v)
            );
        }
        let ly = top + 14.0 * li as f64 + 6.0;
        let _ = write!(
            b,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{}\" stroke-width=\"2\"{}/><text x=\"{:.1}\" y=\"{:.1}\" class=\"cat\">{}</text>",
            left + plot_w + 10.0,
            left + plot_w + 28.0,
            l.color,
            if l.dashed { " stroke-dasharray=\"5 4\"" } else { "" },
            left + plot_w + 32.0,
            ly + 4.0,
            esc(&clip(&l.name, 18))
        );
    }
    figure(id, title, w, h, &b, &[])
}

/// Diverging horizontal bars around zero (negative left, positive right).
pub fn diverging(id: &str, title: &str, rows: &[(String, f64)]) -> String {
    let row_h = 22.0;
    let (w, label_w, top) = (720u32, 300.0, 6.0);
    let h = (top * 2.0 + row_h * rows.len().max(1) as f64) as u32;
    let half = (w as f64 - label_w - 20.0) / 2.0;
    let mid = label_w + half;
    let max = max_of(rows.iter().map(|(_, v)| v.abs()));
    let mut b =
        format!("<line x1=\"{mid:.1}\" x2=\"{mid:.1}\" y1=\"0\" y2=\"{h}\" stroke=\"#9aa5b1\"/>");
    for (ri, (label, v)) in rows.iter().enumerate() {
        let y = top + row_h * ri as f64;
        let bw = half * v.abs() / max;
        let x = if *v < 0.0 { mid - bw } else { mid };
        let color = if *v < 0.0 { DOWN } else { UP };
        let _ = write!(
            b,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"cat\">{}</text><rect class=\"mark\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{}\" class=\"val\">{}{}</text>",
            label_w - 6.0,
            y + 15.0,
            esc(&clip(label, 44)),
            y + 3.0,
            row_h - 6.0,
            esc(label),
            num(*v),
            if *v < 0.0 { x - 4.0 } else { x + bw + 4.0 },
            y + 15.0,
            if *v < 0.0 { "end" } else { "start" },
            if *v > 0.0 { "+" } else { "" },
            num(*v)
        );
    }
    figure(id, title, w, h, &b, &[])
}
