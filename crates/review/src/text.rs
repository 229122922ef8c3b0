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
