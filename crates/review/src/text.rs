//! The terminal summaries.

use std::fmt::Write as _;

use crate::replay::Report;

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The replay's summary: what changed, how the priority mix moved, SLA targets and projected
/// breaches, the rules that moved most.
pub fn replay(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "replay: {} tickets ({} skipped); candidate {} vs baseline {}",
        r.tickets, r.skipped, r.candidate, r.baseline
    );
    let c = &r.changed;
    if c.any == 0 {
        let _ = writeln!(s, "no change: every ticket is decided the same way");
    } else {
        let _ = writeln!(
            s,
            "changed: {} tickets ({} priority, {} queue, {} tier, {} category)",
            c.any, c.priority, c.queue, c.tier, c.category
        );
    }
    let _ = writeln!(s, "\npriority   before    after   change");
    for m in &r.mix {
        let d = m.after as i64 - m.before as i64;
        let _ = writeln!(s, "{:<8} {:>8} {:>8} {:>+8}", m.level, m.before, m.after, d);
    }
    if !r.moves.is_empty() {
        let moves: Vec<String> = r
            .moves
            .iter()
            .map(|m| format!("{}→{} {}", m.from, m.to, m.tickets))
            .collect();
        let _ = writeln!(s, "moves: {}", moves.join(", "));
    }
    let _ = writeln!(
        s,
        "\nSLA targets    tighter   looser  same   mean before → after"
    );
    for t in &r.targets {
        let _ = writeln!(
            s,
            "{:<14} {:>7} {:>8} {:>5}   {:.2} h → {:.2} h",
            t.clock, t.tightened, t.loosened, t.unchanged, t.mean_before_hours, t.mean_after_hours
        );
    }
    if let Some(sla) = &r.sla {
        let _ = writeln!(
            s,
            "\nprojected with lifecycle history ({} tickets): breach rate (breached / met+breached)",
            r.projected
        );
        let _ = writeln!(
            s,
            "{:<16}{:<12}{:>10}{:>10}{:>9}",
            "clock", "priority", "before", "after", "open"
        );
        for row in sla
            .iter()
            .filter(|x| x.dimension == "all" || x.dimension == "priority")
        {
            let _ = writeln!(
                s,
                "{:<16}{:<12}{:>10}{:>10}{:>9}",
                row.clock,
                row.key,
                pct(row.before.breach_rate()),
                pct(row.after.breach_rate()),
                row.after.open
            );
        }
    }
    if !r.rules.is_empty() {
        let _ = writeln!(
            s,
            "\nrules whose points changed most (fired before → after, points Δ):"
        );
        for rule in r.rules.iter().take(10) {
            let _ = writeln!(
                s,
                "  {:>+7}  {:>5} → {:<5} {}",
                rule.delta(),
                rule.fired_before,
                rule.fired_after,
                rule.rule
            );
        }
    }
    for n in &r.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

fn hours(h: Option<f64>) -> String {
    h.map_or("-".into(), |h| format!("{h:.1}h"))
}

/// The report's summary.
pub fn report(r: &crate::report::Report) -> String {
    let mut s = String::new();
    let span = match (r.first_ticket, r.last_ticket) {
        (Some(a), Some(b)) => format!("{a} … {b}"),
        _ => "no tickets".into(),
    };
    let _ = writeln!(
        s,
        "report: {} tickets ({} skipped, {} with lifecycle history), {span}; rules {}",
        r.tickets, r.skipped, r.with_history, r.rules_version
    );
    for dim in ["priority", "category", "segment", "channel"] {
        if let Some(v) = r.totals.get(dim) {
            let parts: Vec<String> = v
                .iter()
                .take(8)
                .map(|k| format!("{} {}", k.key, k.count))
                .collect();
            let _ = writeln!(s, "{dim:<9} {}", parts.join(", "));
        }
    }
    if !r.times.is_empty() {
        let _ = writeln!(
            s,
            "\ntimes (open time of the calendar)   stopped   p50    p90    p95  target  within"
        );
        for t in &r.times {
            let _ = writeln!(
                s,
                "{:<15} {:<10} {:>6}/{:<6} {:>6} {:>6} {:>6} {:>6} {:>6}",
                t.clock,
                t.priority,
                t.stopped,
                t.tickets,
                hours(t.p50_hours),
                hours(t.p90_hours),
                hours(t.p95_hours),
                hours(t.target_hours),
                if t.stopped == 0 {
                    "-".into()
                } else {
                    pct(t.within_target as f64 / t.stopped as f64)
                }
            );
        }
    }
    if !r.sla.is_empty() {
        let _ = writeln!(
            s,
            "\nSLA outcomes ({}):            met   warned  breached",
            r.sla_source
        );
        for x in r
            .sla
            .iter()
            .filter(|x| x.dimension == "all" || x.dimension == "priority")
        {
            let _ = writeln!(
                s,
                "{:<15} {:<10} {:>8} {:>8} {:>9}",
                x.clock, x.key, x.met, x.warned, x.breached
            );
        }
    }
    if let Some(all) = r.csat.iter().find(|c| c.dimension == "all") {
        let _ = writeln!(
            s,
            "\nCSAT: {} responses, mean {:.2}, satisfied (4–5) {}",
            all.responses,
            all.mean,
            pct(all.satisfied_share)
        );
    }
    if !r.phrases.is_empty() {
        let p: Vec<String> = r
            .phrases
            .iter()
            .take(10)
            .map(|k| format!("\"{}\" {}", k.key, k.count))
            .collect();
        let _ = writeln!(s, "top phrases: {}", p.join(", "));
    }
    let _ = writeln!(
        s,
        "repeat customers: {} of {} ({} tickets)",
        r.repeat.repeat_customers, r.repeat.customers, r.repeat.tickets_from_repeat_customers
    );
    let a = &r.agent_changes;
    let _ = writeln!(
        s,
        "agents changed the priority of {} tickets ({} raised, {} lowered) and the category of {}",
        a.priority_changed, a.priority_raised, a.priority_lowered, a.category_changed
    );
    if !r.rules.never_fired.is_empty() {
        let _ = writeln!(s, "never fired: {}", r.rules.never_fired.join("; "));
    }
    for n in &r.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}
