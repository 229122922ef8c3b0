//! Self-contained HTML pages: inline CSS and SVG, no network, one small inline script that
//! records on the root element how many charts were drawn once the page loaded and how many
//! script errors (uncaught or `console.error`) happened (`data-charts`, `data-drawn`,
//! `data-errors`), which the tests read in headless Chromium.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::replay::{FateRow, Report, Sample};
use crate::svg::{self, esc, Line, Series, AFTER, BEFORE, DOWN, PALETTE, UP};

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}\
main{max-width:1180px;margin:0 auto;padding:24px}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d5db;padding-bottom:4px}\
.sub{color:#52606d;margin:0 0 16px}.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid #d0d5db;border-radius:6px;padding:10px 14px;min-width:120px}\
.card b{display:block;font-size:20px}.grid{display:flex;flex-wrap:wrap;gap:16px}figure.chart{background:#fff;border:1px solid #d0d5db;border-radius:6px;margin:0;padding:10px;max-width:100%;overflow-x:auto}\
figcaption{font-weight:600;margin-bottom:6px}.legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}\
svg text{font-size:11px;fill:#3e4c59}svg .val{font-size:10px}svg .axis{font-weight:600}table{border-collapse:collapse;background:#fff;margin:6px 0}\
td,th{border:1px solid #d0d5db;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.reasons td{text-align:left;vertical-align:top}\
.sample{background:#fff;border:1px solid #d0d5db;border-radius:6px;padding:8px 12px;margin:8px 0}.pair{display:flex;gap:16px;flex-wrap:wrap}.pair>div{flex:1;min-width:320px}\
.up{color:#d9480f}.down{color:#2b8a3e}.muted{color:#7b8794}";

const CHECK: &str = "(function(){var d=document.documentElement;d.dataset.errors='0';\
function bump(){d.dataset.errors=String(Number(d.dataset.errors)+1);}\
window.addEventListener('error',bump);var ce=console.error;console.error=function(){bump();return ce.apply(console,arguments);};\
window.addEventListener('load',function(){var figs=document.querySelectorAll('figure.chart'),drawn=0;\
for(var i=0;i<figs.length;i++){var s=figs[i].querySelector('svg');if(!s)continue;var b=s.getBoundingClientRect();\
var m=s.querySelectorAll('.mark');var ok=b.width>0&&b.height>0&&m.length>0;\
for(var j=0;j<m.length&&ok;j++){var r=m[j].getBBox();if(!(r.width>=0&&r.height>=0))ok=false;}if(ok)drawn++;}\
d.dataset.charts=String(figs.length);d.dataset.drawn=String(drawn);});})();";

/// A page around `body`.
pub fn page(title: &str, subtitle: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{t}</title><style>{STYLE}</style><script>{CHECK}</script></head>\n<body><main><h1>{t}</h1><p class=\"sub\">{s}</p>\n{body}\n</main></body></html>\n",
        t = esc(title),
        s = esc(subtitle)
    )
}

fn card(label: &str, value: &str) -> String {
    format!(
        "<div class=\"card\">{}<b>{}</b></div>",
        esc(label),
        esc(value)
    )
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A count per day and key: `[before, after]` (a report's single count is both).
trait Daily {
    fn day(&self) -> &str;
    fn key(&self) -> &str;
    fn counts(&self) -> [u64; 2];
}

impl Daily for crate::replay::LoadRow {
    fn day(&self) -> &str {
        &self.day
    }
    fn key(&self) -> &str {
        &self.key
    }
    fn counts(&self) -> [u64; 2] {
        [self.before, self.after]
    }
}

impl Daily for crate::report::VolumeRow {
    fn day(&self) -> &str {
        &self.day
    }
    fn key(&self) -> &str {
        &self.key
    }
    fn counts(&self) -> [u64; 2] {
        [self.tickets, self.tickets]
    }
}

/// Per key, its `[before, after]` count per day.
type DaySeries = Vec<(String, Vec<[f64; 2]>)>;

/// Days and the top `k` keys by total, for a per-day line chart.
fn per_day<R: Daily>(rows: &[R], k: usize) -> (Vec<String>, DaySeries) {
    let mut days: Vec<String> = rows.iter().map(|r| r.day().to_string()).collect();
    days.sort();
    days.dedup();
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for r in rows {
        let [before, after] = r.counts();
        *totals.entry(r.key()).or_default() += before.max(after);
    }
    let mut keys: Vec<(&str, u64)> = totals.into_iter().collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    keys.truncate(k);
    let out = keys
        .iter()
        .map(|(key, _)| {
            let mut v = vec![[0.0; 2]; days.len()];
            for r in rows.iter().filter(|r| r.key() == *key) {
                // `days` holds every row's day (collected above), so the search finds it.
                let i = days
                    .binary_search_by(|d| d.as_str().cmp(r.day()))
                    .expect("listed");
                let [before, after] = r.counts();
                v[i] = [before as f64, after as f64];
            }
            (key.to_string(), v)
        })
        .collect();
    (days, out)
}

fn fate_cells(f: &FateRow) -> String {
    format!(
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        f.met,
        f.breached,
        f.open,
        pct(f.breach_rate())
    )
}

fn reasons_table(d: &crate::view::Decided) -> String {
    let mut s = format!(
        "<b>{}</b> · score {} · {} · queue {} / {} · first response {} h<table class=\"reasons\">",
        esc(&d.priority),
        d.score,
        esc(&d.category),
        esc(&d.queue),
        esc(&d.tier),
        svg::num((d.sla.first_response_target_seconds as f64 / 360.0).round() / 10.0)
    );
    for r in &d.reasons {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{:+}</td><td>{}</td></tr>",
            esc(&r.factor),
            r.points,
            esc(&r.detail)
        );
    }
    s.push_str("</table>");
    s
}

fn sample(s: &Sample, labels: (&str, &str)) -> String {
    format!(
        "<div class=\"sample\"><b>{}</b> <span class=\"muted\">{}</span> — {}<div class=\"pair\"><div><p class=\"muted\">{}</p>{}</div><div><p class=\"muted\">{}</p>{}</div></div></div>",
        esc(&s.ticket_id),
        s.created_at,
        esc(&s.subject),
        esc(labels.0),
        reasons_table(&s.before),
        esc(labels.1),
        reasons_table(&s.after)
    )
}

/// The replay page.
pub fn replay(r: &Report) -> String {
    let mut b = String::new();
    let c = &r.changed;
    b.push_str("<div class=\"cards\">");
    b.push_str(&card("tickets replayed", &r.tickets.to_string()));
    b.push_str(&card("decisions changed", &c.any.to_string()));
    b.push_str(&card("priority changed", &c.priority.to_string()));
    b.push_str(&card("queue changed", &c.queue.to_string()));
    b.push_str(&card("category changed", &c.category.to_string()));
    if r.skipped > 0 {
        b.push_str(&card("skipped records", &r.skipped.to_string()));
    }
    b.push_str("</div>");

    b.push_str("<h2>Priority mix</h2><div class=\"grid\">");
    b.push_str(&svg::grouped_bars(
        "mix",
        "Tickets per priority, before and after",
        &r.levels,
        &[
            Series {
                name: "before",
                color: BEFORE,
                values: r.mix.iter().map(|m| m.before as f64).collect(),
            },
            Series {
                name: "after",
                color: AFTER,
                values: r.mix.iter().map(|m| m.after as f64).collect(),
            },
        ],
        &svg::num,
    ));
    b.push_str(&svg::heatmap(
        "matrix",
        "Old × new priority (red: more urgent now, green: less)",
        &r.levels,
        &r.matrix,
        ("before", "after"),
    ));
    b.push_str("</div>");

    b.push_str("<h2>Tickets moved</h2><div class=\"grid\">");
    for (dim, title) in [
        ("category", "By category (the candidate's)"),
        ("segment", "By segment (account type)"),
        ("plan", "By support plan"),
    ] {
        let rows: Vec<(String, Vec<f64>)> = r
            .moved_by
            .get(dim)
            .map(|v| {
                v.iter()
                    .take(15)
                    .map(|m| (m.key.clone(), vec![m.up as f64, m.down as f64]))
                    .collect()
            })
            .unwrap_or_default();
        b.push_str(&svg::stacked_rows(
            &format!("moved-{dim}"),
            title,
            &rows,
            &[("moved up (more urgent)", UP), ("moved down", DOWN)],
        ));
    }
    b.push_str("</div>");

    b.push_str("<h2>Load per day</h2><div class=\"grid\">");
    for (dim, title) in [
        ("queue", "Tickets per queue per day (dashed: before)"),
        ("tier", "Tickets per tier per day (dashed: before)"),
    ] {
        let rows = r.load.get(dim).map(|v| v.as_slice()).unwrap_or(&[]);
        let (days, series) = per_day(rows, 6);
        let mut ls = Vec::new();
        for (i, (key, v)) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            ls.push(Line {
                name: format!("{key} (before)"),
                color,
                dashed: true,
                values: v.iter().map(|x| x[0]).collect(),
            });
            ls.push(Line {
                name: key.clone(),
                color,
                dashed: false,
                values: v.iter().map(|x| x[1]).collect(),
            });
        }
        b.push_str(&svg::lines(&format!("load-{dim}"), title, &days, &ls));
    }
    b.push_str("</div>");

    b.push_str("<h2>SLA targets</h2><div class=\"grid\">");
    let clocks: Vec<String> = r.targets.iter().map(|t| t.clock.clone()).collect();
    b.push_str(&svg::grouped_bars(
        "targets",
        "Tickets whose SLA target got tighter or looser",
        &clocks,
        &[
            Series {
                name: "tighter",
                color: UP,
                values: r.targets.iter().map(|t| t.tightened as f64).collect(),
            },
            Series {
                name: "looser",
                color: DOWN,
                values: r.targets.iter().map(|t| t.loosened as f64).collect(),
            },
        ],
        &svg::num,
    ));
    b.push_str("<table><tr><th>clock</th><th>tighter</th><th>looser</th><th>same</th><th>mean target before</th><th>after</th></tr>");
    for t in &r.targets {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2} h</td><td>{:.2} h</td></tr>",
            esc(&t.clock),
            t.tightened,
            t.loosened,
            t.unchanged,
            t.mean_before_hours,
            t.mean_after_hours
        );
    }
    b.push_str("</table></div>");

    b.push_str("<h2>Projected SLA outcomes</h2>");
    match &r.sla {
        None => b.push_str(
            "<p class=\"muted\">No lifecycle history was given: breaches cannot be projected.</p>",
        ),
        Some(rows) => {
            let _ = write!(
                b,
                "<p class=\"sub\">{} tickets' recorded lifecycle replayed through the SLA clocks under each policy. Breach rate = breached / (met + breached); open = not yet decided at the end of the history.</p><div class=\"grid\">",
                r.projected
            );
            for clock in ["first_response", "resolution"] {
                let by: Vec<_> = rows
                    .iter()
                    .filter(|x| x.clock == clock && x.dimension == "priority")
                    .collect();
                let cats: Vec<String> = by.iter().map(|x| x.key.clone()).collect();
                b.push_str(&svg::grouped_bars(
                    &format!("breach-{clock}"),
                    &format!("{clock}: breach rate by priority"),
                    &cats,
                    &[
                        Series {
                            name: "before",
                            color: BEFORE,
                            values: by.iter().map(|x| x.before.breach_rate() * 100.0).collect(),
                        },
                        Series {
                            name: "after",
                            color: AFTER,
                            values: by.iter().map(|x| x.after.breach_rate() * 100.0).collect(),
                        },
                    ],
                    &|v| format!("{v:.0}%"),
                ));
            }
            b.push_str("</div><table><tr><th>clock</th><th>by</th><th>key</th><th>met</th><th>breached</th><th>open</th><th>rate before</th><th>met</th><th>breached</th><th>open</th><th>rate after</th></tr>");
            for x in rows {
                let _ = write!(
                    b,
                    "<tr><td>{}</td><td>{}</td><td>{}</td>{}{}</tr>",
                    esc(&x.clock),
                    esc(&x.dimension),
                    esc(&x.key),
                    fate_cells(&x.before),
                    fate_cells(&x.after)
                );
            }
            b.push_str("</table>");
        }
    }

    b.push_str("<h2>Rules whose points changed most</h2>");
    if r.rules.is_empty() {
        b.push_str("<p class=\"muted\">No rule's points changed.</p>");
    } else {
        let rows: Vec<(String, f64)> = r
            .rules
            .iter()
            .map(|x| (x.rule.clone(), x.delta() as f64))
            .collect();
        b.push_str(&svg::diverging(
            "rules",
            "Points summed over all tickets, after minus before",
            &rows,
        ));
        b.push_str("<table><tr><th>rule</th><th>fired before</th><th>after</th><th>points before</th><th>after</th></tr>");
        for x in &r.rules {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&x.rule),
                x.fired_before,
                x.fired_after,
                x.points_before,
                x.points_after
            );
        }
        b.push_str("</table>");
    }

    b.push_str("<h2>Sample tickets per move</h2>");
    if r.samples.is_empty() {
        b.push_str("<p class=\"muted\">No ticket changed priority or queue.</p>");
    }
    for g in &r.samples {
        let _ = write!(b, "<h3>{} → {}</h3>", esc(&g.from), esc(&g.to));
        for s in &g.tickets {
            b.push_str(&sample(s, ("before", "after")));
        }
    }
    if !r.notes.is_empty() {
        b.push_str("<h2>Notes</h2><ul>");
        for n in &r.notes {
            let _ = write!(b, "<li>{}</li>", esc(n));
        }
        b.push_str("</ul>");
    }
    page(
        "What-if replay",
        &format!("candidate {} vs baseline {}", r.candidate, r.baseline),
        &b,
    )
}

fn count_table(title: &str, rows: &[crate::report::KeyCount], head: (&str, &str)) -> String {
    let mut s = format!(
        "<table><caption>{}</caption><tr><th>{}</th><th>{}</th></tr>",
        esc(title),
        esc(head.0),
        esc(head.1)
    );
    for k in rows {
        let _ = write!(s, "<tr><td>{}</td><td>{}</td></tr>", esc(&k.key), k.count);
    }
    s.push_str("</table>");
    s
}

/// The report page.
pub fn report(r: &crate::report::Report) -> String {
    let mut b = String::new();
    b.push_str("<div class=\"cards\">");
    b.push_str(&card("tickets", &r.tickets.to_string()));
    b.push_str(&card("with lifecycle", &r.with_history.to_string()));
    if let Some(all) = r.csat.iter().find(|c| c.dimension == "all") {
        b.push_str(&card("CSAT satisfied", &pct(all.satisfied_share)));
    }
    for clock in ["first_response", "resolution"] {
        if let Some(x) = r
            .sla
            .iter()
            .find(|x| x.clock == clock && x.dimension == "all")
        {
            let decided = x.met + x.breached;
            let rate = if decided == 0 {
                0.0
            } else {
                x.breached as f64 / decided as f64
            };
            b.push_str(&card(&format!("{clock} breached"), &pct(rate)));
        }
    }
    b.push_str(&card(
        "agent priority changes",
        &r.agent_changes.priority_changed.to_string(),
    ));
    b.push_str("</div>");

    b.push_str("<h2>Volume</h2><div class=\"grid\">");
    for dim in ["priority", "category", "segment", "channel"] {
        let rows = r.volume.get(dim).map(|v| v.as_slice()).unwrap_or(&[]);
        let (days, series) = per_day(rows, 8);
        let ls: Vec<Line<'_>> = series
            .iter()
            .enumerate()
            .map(|(i, (key, v))| Line {
                name: key.clone(),
                color: PALETTE[i % PALETTE.len()],
                dashed: false,
                values: v.iter().map(|x| x[1]).collect(),
            })
            .collect();
        b.push_str(&svg::lines(
            &format!("volume-{dim}"),
            &format!("Tickets per day by {dim}"),
            &days,
            &ls,
        ));
    }
    b.push_str("</div>");

    b.push_str("<h2>Response and resolution times against target</h2>");
    if r.times.is_empty() {
        b.push_str("<p class=\"muted\">No lifecycle history was given.</p>");
    } else {
        b.push_str("<p class=\"sub\">Open time of the ticket's SLA calendar (business hours on a business calendar) from creation until the clock stopped, for clocks that stopped.</p><div class=\"grid\">");
        for clock in ["first_response", "resolution"] {
            let rows: Vec<_> = r.times.iter().filter(|t| t.clock == clock).collect();
            let cats: Vec<String> = rows.iter().map(|t| t.priority.clone()).collect();
            let v = |f: &dyn Fn(&crate::report::TimeRow) -> Option<f64>| {
                rows.iter()
                    .map(|t| f(t).unwrap_or(0.0))
                    .collect::<Vec<f64>>()
            };
            b.push_str(&svg::grouped_bars(
                &format!("times-{clock}"),
                &format!("{clock}: hours by priority (p50, p90, target)"),
                &cats,
                &[
                    Series {
                        name: "p50",
                        color: AFTER,
                        values: v(&|t| t.p50_hours),
                    },
                    Series {
                        name: "p90",
                        color: UP,
                        values: v(&|t| t.p90_hours),
                    },
                    Series {
                        name: "target",
                        color: BEFORE,
                        values: v(&|t| t.target_hours),
                    },
                ],
                &|x| format!("{x:.1}"),
            ));
        }
        b.push_str("</div><table><tr><th>clock</th><th>priority</th><th>tickets</th><th>stopped</th><th>p50 h</th><th>p90 h</th><th>p95 h</th><th>target h</th><th>within target</th></tr>");
        let h = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.2}"));
        for t in &r.times {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.clock),
                esc(&t.priority),
                t.tickets,
                t.stopped,
                h(t.p50_hours),
                h(t.p90_hours),
                h(t.p95_hours),
                h(t.target_hours),
                t.within_target
            );
        }
        b.push_str("</table>");
    }

    let _ = write!(
        b,
        "<h2>Warnings, breaches and met</h2><p class=\"sub\">Source: {}.</p>",
        match r.sla_source.as_str() {
            "signals" => "the SLA watcher's signals",
            "lifecycle" => "projected from the lifecycle history through the SLA clocks",
            _ => "none (give lifecycle history or signals)",
        }
    );
    if !r.sla.is_empty() {
        b.push_str("<div class=\"grid\">");
        for clock in ["first_response", "resolution"] {
            let rows: Vec<_> = r
                .sla
                .iter()
                .filter(|x| x.clock == clock && x.dimension == "priority")
                .collect();
            let cats: Vec<String> = rows.iter().map(|x| x.key.clone()).collect();
            b.push_str(&svg::grouped_bars(
                &format!("sla-{clock}"),
                &format!("{clock}: tickets met, warned and breached by priority"),
                &cats,
                &[
                    Series {
                        name: "met",
                        color: DOWN,
                        values: rows.iter().map(|x| x.met as f64).collect(),
                    },
                    Series {
                        name: "warned",
                        color: "#f08c00",
                        values: rows.iter().map(|x| x.warned as f64).collect(),
                    },
                    Series {
                        name: "breached",
                        color: UP,
                        values: rows.iter().map(|x| x.breached as f64).collect(),
                    },
                ],
                &svg::num,
            ));
        }
        b.push_str("</div><table><tr><th>clock</th><th>by</th><th>key</th><th>met</th><th>warned</th><th>breached</th><th>open</th></tr>");
        for x in &r.sla {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&x.clock),
                esc(&x.dimension),
                esc(&x.key),
                x.met,
                x.warned,
                x.breached,
                x.open.map_or("-".to_string(), |o| o.to_string())
            );
        }
        b.push_str("</table>");
    }

    b.push_str("<h2>Customer satisfaction</h2>");
    if r.csat.is_empty() {
        b.push_str("<p class=\"muted\">No satisfaction scores in the history.</p>");
    } else {
        b.push_str("<div class=\"grid\">");
        for dim in ["priority", "category"] {
            let rows: Vec<_> = r.csat.iter().filter(|c| c.dimension == dim).collect();
            b.push_str(&svg::grouped_bars(
                &format!("csat-{dim}"),
                &format!("Satisfied (4–5) by {dim}, %"),
                &rows.iter().map(|c| c.key.clone()).collect::<Vec<_>>(),
                &[Series {
                    name: "satisfied",
                    color: AFTER,
                    values: rows.iter().map(|c| c.satisfied_share * 100.0).collect(),
                }],
                &|x| format!("{x:.0}%"),
            ));
        }
        b.push_str("</div><table><tr><th>by</th><th>key</th><th>responses</th><th>mean</th><th>satisfied</th></tr>");
        for c in &r.csat {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
                esc(&c.dimension),
                esc(&c.key),
                c.responses,
                c.mean,
                pct(c.satisfied_share)
            );
        }
        b.push_str("</table>");
    }

    b.push_str("<h2>Most common requests</h2><div class=\"grid\">");
    let cats = r.totals.get("category").cloned().unwrap_or_default();
    b.push_str(&svg::stacked_rows(
        "requests-category",
        "Tickets by category",
        &cats
            .iter()
            .map(|k| (k.key.clone(), vec![k.count as f64]))
            .collect::<Vec<_>>(),
        &[("tickets", AFTER)],
    ));
    b.push_str(&svg::stacked_rows(
        "requests-phrases",
        "Phrases that decided the category or severity",
        &r.phrases
            .iter()
            .map(|k| (k.key.clone(), vec![k.count as f64]))
            .collect::<Vec<_>>(),
        &[("tickets", AFTER)],
    ));
    b.push_str("</div>");
    let _ = write!(
        b,
        "<h2>Repeat customers</h2><p>{} of {} customers opened two tickets or more ({} tickets).</p>",
        r.repeat.repeat_customers, r.repeat.customers, r.repeat.tickets_from_repeat_customers
    );
    b.push_str(&count_table(
        "Most tickets",
        &r.repeat.top,
        ("customer", "tickets"),
    ));

    b.push_str("<h2>Rules that fire most and least</h2><div class=\"grid\">");
    b.push_str(&svg::stacked_rows(
        "rules-most",
        "Fired most",
        &r.rules
            .most
            .iter()
            .map(|k| (k.key.clone(), vec![k.count as f64]))
            .collect::<Vec<_>>(),
        &[("tickets", AFTER)],
    ));
    b.push_str("</div>");
    b.push_str(&count_table(
        "Fired least",
        &r.rules.least,
        ("rule", "tickets"),
    ));
    if !r.rules.never_fired.is_empty() {
        b.push_str("<p>Never fired:</p><ul>");
        for n in &r.rules.never_fired {
            let _ = write!(b, "<li>{}</li>", esc(n));
        }
        b.push_str("</ul>");
    }

    let a = &r.agent_changes;
    let _ = write!(
        b,
        "<h2>Agents' corrections</h2><p>Agents changed the priority of {} tickets ({} raised, {} lowered) and the category of {} after triage.</p>",
        a.priority_changed, a.priority_raised, a.priority_lowered, a.category_changed
    );
    let n = r.levels.len();
    let mut matrix = vec![vec![0u64; n]; n];
    for m in &a.priority_moves {
        if let (Some(i), Some(j)) = (
            r.levels.iter().position(|l| *l == m.from),
            r.levels.iter().position(|l| *l == m.to),
        ) {
            matrix[i][j] += m.tickets;
        }
    }
    b.push_str("<div class=\"grid\">");
    b.push_str(&svg::heatmap(
        "agent-priority",
        "Triage's priority × the agent's",
        &r.levels,
        &matrix,
        ("triage", "agent"),
    ));
    b.push_str("</div>");
    let moves: Vec<crate::report::KeyCount> = a
        .category_moves
        .iter()
        .map(|m| crate::report::KeyCount {
            key: format!("{} → {}", m.from, m.to),
            count: m.tickets,
        })
        .collect();
    b.push_str(&count_table(
        "Category corrections",
        &moves,
        ("triage → agent", "tickets"),
    ));
    if !r.notes.is_empty() {
        b.push_str("<h2>Notes</h2><ul>");
        for n in &r.notes {
            let _ = write!(b, "<li>{}</li>", esc(n));
        }
        b.push_str("</ul>");
    }
    let span = match (r.first_ticket, r.last_ticket) {
        (Some(a), Some(b)) => format!("tickets created {a} … {b}"),
        _ => "no tickets".into(),
    };
    page(
        "Triage review",
        &format!("{span}; rules {}", r.rules_version),
        &b,
    )
}
