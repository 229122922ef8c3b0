//! The hand-written JSON writer of the `triage` object writes exactly what
//! serde would, on 2,000 generated tickets and on odd values and escapes.

use triage_core::codec::json::{decode_ticket, write_triage};
use triage_core::model::Triage;

fn assert_same(t: &Triage) {
    let want = serde_json::to_vec(t).unwrap();
    let mut got = Vec::new();
    write_triage(t, &mut got);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
}

#[test]
fn writer_matches_serde() {
    use triage_core::engine::triage;
    use triage_core::model::{ModelVerdict, Profile};
    let rules = triage_core::rules::load(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/rules.toml"
        )),
        &|p| std::fs::read(p),
    )
    .map_err(|d| format!("{d:?}"))
    .unwrap()
    .rules;
    let base: jiff::Timestamp = "2026-11-02T12:00:00Z".parse().unwrap();
    let spec = triage_lab::gen::TicketSpec::new(3, 500, base);
    let now: jiff::Timestamp = "2026-11-02T13:00:00.123456789Z".parse().unwrap();
    let mut buf = Vec::new();
    for i in 0..2000 {
        buf.clear();
        triage_lab::gen::ticket_json(&spec, i, &mut buf);
        let d = decode_ticket(&buf).unwrap();
        let c = triage_lab::gen::customer(3, i % 600);
        let p = Profile::from_customer(&c);
        let known = i % 7 != 0;
        let mut t = triage(&rules, &d.ticket, known.then_some(&p), now);
        assert_same(&t);
        if i % 100 == 0 {
            // Everything optional present, odd values and escapes.
            t.models.push(ModelVerdict {
                field: "category",
                label: "bug".into(),
                confidence: 0.876,
                applied: i % 200 == 0,
                alternatives: vec![("bug".into(), 0.5), ("how \"to\"".into(), f32::NAN)],
            });
            t.segment.sla_policy = Some("gold\u{1}\\".into());
            t.segment.timezone = Some("Europe/Zürich".into());
            t.segment.language = Some("de\n".into());
            t.segment.arr = 1e21;
            t.score = -(i as i64);
            t.sentiment.score = f32::INFINITY;
            t.reasons[0].detail = "tab\t, cr\r, bs\u{8}, ff\u{c}, del\u{7f}, é, \u{1f}".into();
            t.triaged_at = jiff::Timestamp::MIN;
            assert_same(&t);
        }
    }
}
