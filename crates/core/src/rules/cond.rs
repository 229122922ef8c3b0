//! Compiled `when` conditions and the facts they are checked against.

use std::sync::Arc;

use crate::model::{CustomValue, ReportedPriority, Segment, SentimentLabel, Ticket};

use super::config::{CustomMatch, OneOrMany, RangeMatch, Scalar, When};

/// What a condition can look at, for one ticket.
pub struct Facts<'a> {
    pub ticket: &'a Ticket<'a>,
    pub segment: &'a Segment,
    pub customer_known: bool,
    pub category: u16,
    pub severity: u16,
    pub sentiment: SentimentLabel,
    /// For each `phrases_any` phrase (by index): found in the text.
    pub phrase_found: &'a [bool],
    /// The language the text reads as (ISO 639-1), when it can be told.
    pub text_language: Option<&'static str>,
    /// Whether that language is one the rules read (`[language].covered`);
    /// `true` when it cannot be told.
    pub language_covered: bool,
    /// Mail no person wrote (`[automatic]`).
    pub automatic: bool,
    /// The category's confidence, 0–1.
    pub category_confidence: f32,
    pub age_hours: f64,
    /// Known in overrides and routing.
    pub score: Option<i64>,
    /// Known in routing.
    pub priority: Option<u16>,
}

/// A compiled condition; every constraint present must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cond {
    pub category: Option<Vec<u16>>,
    pub severity: Option<Vec<u16>>,
    pub sentiment: Option<Vec<SentimentLabel>>,
    pub channel: Option<Vec<Arc<str>>>,
    pub reported_priority: Option<Vec<ReportedPriority>>,
    pub account_type: Option<Vec<Arc<str>>>,
    pub support_plan: Option<Vec<Arc<str>>>,
    pub persona: Option<Vec<Arc<str>>>,
    pub lifecycle: Option<Vec<Arc<str>>>,
    pub language: Option<Vec<Arc<str>>>,
    pub text_language: Option<Vec<Arc<str>>>,
    pub language_covered: Option<bool>,
    pub automatic: Option<bool>,
    pub min_category_confidence: Option<f32>,
    pub sla_policy: Option<Vec<Arc<str>>>,
    pub priority: Option<Vec<u16>>,
    pub vip: Option<bool>,
    pub customer_known: Option<bool>,
    pub tags_any: Option<Vec<Arc<str>>>,
    pub phrases_any: Option<Vec<u16>>,
    pub min_arr: Option<f64>,
    pub max_arr: Option<f64>,
    pub min_affected_users: Option<u64>,
    pub min_age_hours: Option<f64>,
    pub min_score: Option<i64>,
    pub max_score: Option<i64>,
    pub custom_fields: Vec<(Arc<str>, CustomMatch)>,
}

/// Name lookups a condition needs while compiling.
pub struct Names<'r> {
    pub categories: &'r [Arc<str>],
    pub severities: &'r [Arc<str>],
    pub levels: &'r [Arc<str>],
}

/// Where a condition is used decides which keys it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Condition,
    Override,
    Routing,
}

impl Cond {
    /// Compiles `when`; problems are reported as (field, message) relative to
    /// the `when` table. `phrase` registers a phrase and returns its index.
    pub fn compile(
        when: &When,
        names: &Names<'_>,
        scope: Scope,
        phrase: &mut dyn FnMut(&str) -> u16,
        errors: &mut Vec<(String, String)>,
    ) -> Cond {
        let strings = |v: &Option<OneOrMany>| -> Option<Vec<Arc<str>>> {
            v.as_ref()
                .map(|v| v.to_vec().into_iter().map(Arc::from).collect())
        };
        let mut lookup =
            |field: &str, v: &Option<OneOrMany>, known: &[Arc<str>]| -> Option<Vec<u16>> {
                let v = v.as_ref()?;
                let mut out = vec![];
                for name in v.to_vec() {
                    match known.iter().position(|k| **k == *name) {
                        Some(i) => out.push(i as u16),
                        None => errors.push((
                            field.to_string(),
                            format!(
                                "unknown {field} {name:?}; known: {}",
                                known
                                    .iter()
                                    .map(|k| k.as_ref())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )),
                    }
                }
                Some(out)
            };
        let category = lookup("category", &when.category, names.categories);
        let severity = lookup("severity", &when.severity, names.severities);
        let priority = lookup("priority", &when.priority, names.levels);
        let mut cond = Cond {
            category,
            severity,
            priority,
            channel: strings(&when.channel),
            account_type: strings(&when.account_type),
            support_plan: strings(&when.support_plan),
            persona: strings(&when.persona),
            lifecycle: strings(&when.lifecycle),
            language: strings(&when.language),
            text_language: strings(&when.text_language),
            language_covered: when.language_covered,
            automatic: when.automatic,
            min_category_confidence: when.min_category_confidence,
            sla_policy: strings(&when.sla_policy),
            vip: when.vip,
            customer_known: when.customer_known,
            tags_any: when
                .tags_any
                .as_ref()
                .map(|v| v.iter().map(|s| Arc::from(s.as_str())).collect()),
            min_arr: when.min_arr,
            max_arr: when.max_arr,
            min_affected_users: when.min_affected_users,
            min_age_hours: when.min_age_hours,
            min_score: when.min_score,
            max_score: when.max_score,
            ..Cond::default()
        };
        if let Some(v) = &when.sentiment {
            let mut out = vec![];
            for s in v.to_vec() {
                match SentimentLabel::parse(&s) {
                    Some(l) => out.push(l),
                    None => errors.push((
                        "sentiment".into(),
                        format!("unknown sentiment {s:?}; known: negative, neutral, positive"),
                    )),
                }
            }
            cond.sentiment = Some(out);
        }
        if let Some(v) = &when.reported_priority {
            let mut out = vec![];
            for s in v.to_vec() {
                match ReportedPriority::parse(&s) {
                    Some(p) => out.push(p),
                    None => errors.push((
                        "reported_priority".into(),
                        format!(
                            "unknown reported priority {s:?}; known: low, normal, high, urgent"
                        ),
                    )),
                }
            }
            cond.reported_priority = Some(out);
        }
        if let Some(v) = &when.phrases_any {
            cond.phrases_any = Some(v.iter().map(|p| phrase(p)).collect());
        }
        if let Some(m) = &when.custom_fields {
            cond.custom_fields = m
                .iter()
                .map(|(k, v)| (Arc::from(k.as_str()), v.clone()))
                .collect();
        }
        if scope == Scope::Condition && (when.min_score.is_some() || when.max_score.is_some()) {
            errors.push((
                "min_score".into(),
                "a condition adds to the score, so it cannot depend on it; use an override".into(),
            ));
        }
        if scope != Scope::Routing && when.priority.is_some() {
            errors.push((
                "priority".into(),
                "the level is not known yet here; use min_score/max_score".into(),
            ));
        }
        if *when == When::default() {
            errors.push((
                String::new(),
                "empty condition: it would always hold; give at least one key".into(),
            ));
        }
        cond
    }

    /// Does the condition hold for these facts?
    pub fn holds(&self, f: &Facts<'_>) -> bool {
        fn any_str(want: &Option<Vec<Arc<str>>>, have: Option<&str>) -> bool {
            match want {
                None => true,
                Some(w) => have.is_some_and(|h| w.iter().any(|x| **x == *h)),
            }
        }
        fn any_eq<T: PartialEq + Copy>(want: &Option<Vec<T>>, have: Option<T>) -> bool {
            match want {
                None => true,
                Some(w) => have.is_some_and(|h| w.contains(&h)),
            }
        }
        let t = f.ticket;
        let s = f.segment;
        any_eq(&self.category, Some(f.category))
            && any_eq(&self.severity, Some(f.severity))
            && any_eq(&self.sentiment, Some(f.sentiment))
            && any_eq(&self.priority, f.priority)
            && any_str(&self.channel, t.channel.as_deref())
            && any_eq(&self.reported_priority, t.reported_priority)
            && any_str(&self.account_type, Some(&s.account_type))
            && any_str(&self.support_plan, Some(&s.support_plan))
            && any_str(&self.persona, Some(&s.persona))
            && any_str(&self.lifecycle, Some(&s.lifecycle))
            && any_str(&self.language, s.language.as_deref())
            && any_str(&self.text_language, f.text_language)
            && self
                .language_covered
                .is_none_or(|v| v == f.language_covered)
            && self.automatic.is_none_or(|v| v == f.automatic)
            && any_str(&self.sla_policy, s.sla_policy.as_deref())
            && self.vip.is_none_or(|v| v == s.vip)
            && self.customer_known.is_none_or(|v| v == f.customer_known)
            && self
                .tags_any
                .as_ref()
                .is_none_or(|w| t.tags.iter().any(|tag| w.iter().any(|x| **x == **tag)))
            && self
                .phrases_any
                .as_ref()
                .is_none_or(|w| w.iter().any(|&i| f.phrase_found[i as usize]))
            && self
                .min_category_confidence
                .is_none_or(|m| f.category_confidence >= m)
            && self.min_arr.is_none_or(|m| s.arr >= m)
            && self.max_arr.is_none_or(|m| s.arr <= m)
            && self
                .min_affected_users
                .is_none_or(|m| t.affected_users.is_some_and(|a| a >= m))
            && self.min_age_hours.is_none_or(|m| f.age_hours >= m)
            && self
                .min_score
                .is_none_or(|m| f.score.is_some_and(|s| s >= m))
            && self
                .max_score
                .is_none_or(|m| f.score.is_some_and(|s| s <= m))
            && self.custom_fields.iter().all(|(name, m)| {
                t.custom_fields
                    .get(name.as_ref())
                    .is_some_and(|v| custom_matches(m, v))
            })
    }

    /// True when every ticket that satisfies `other` satisfies `self` too
    /// (`self` is at least as general). Conservative: `false` when unsure.
    pub fn covers(&self, other: &Cond) -> bool {
        fn subset<T: PartialEq>(general: &Option<Vec<T>>, specific: &Option<Vec<T>>) -> bool {
            match (general, specific) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(g), Some(s)) => s.iter().all(|x| g.contains(x)),
            }
        }
        fn same<T: PartialEq>(general: &Option<T>, specific: &Option<T>) -> bool {
            general.is_none() || general == specific
        }
        fn min_ok<T: PartialOrd>(general: &Option<T>, specific: &Option<T>) -> bool {
            match (general, specific) {
                (None, _) => true,
                (Some(g), Some(s)) => s >= g,
                _ => false,
            }
        }
        fn max_ok<T: PartialOrd>(general: &Option<T>, specific: &Option<T>) -> bool {
            match (general, specific) {
                (None, _) => true,
                (Some(g), Some(s)) => s <= g,
                _ => false,
            }
        }
        subset(&self.category, &other.category)
            && subset(&self.severity, &other.severity)
            && subset(&self.sentiment, &other.sentiment)
            && subset(&self.channel, &other.channel)
            && subset(&self.reported_priority, &other.reported_priority)
            && subset(&self.account_type, &other.account_type)
            && subset(&self.support_plan, &other.support_plan)
            && subset(&self.persona, &other.persona)
            && subset(&self.lifecycle, &other.lifecycle)
            && subset(&self.language, &other.language)
            && subset(&self.text_language, &other.text_language)
            && same(&self.language_covered, &other.language_covered)
            && same(&self.automatic, &other.automatic)
            && subset(&self.sla_policy, &other.sla_policy)
            && subset(&self.priority, &other.priority)
            && subset(&self.tags_any, &other.tags_any)
            && subset(&self.phrases_any, &other.phrases_any)
            && same(&self.vip, &other.vip)
            && same(&self.customer_known, &other.customer_known)
            && min_ok(
                &self.min_category_confidence,
                &other.min_category_confidence,
            )
            && min_ok(&self.min_arr, &other.min_arr)
            && max_ok(&self.max_arr, &other.max_arr)
            && min_ok(&self.min_affected_users, &other.min_affected_users)
            && min_ok(&self.min_age_hours, &other.min_age_hours)
            && min_ok(&self.min_score, &other.min_score)
            && max_ok(&self.max_score, &other.max_score)
            && self
                .custom_fields
                .iter()
                .all(|c| other.custom_fields.contains(c))
    }
}

fn scalar_eq(s: &Scalar, v: &CustomValue<'_>) -> bool {
    match (s, v) {
        (Scalar::Bool(a), CustomValue::Bool(b)) => a == b,
        (Scalar::Number(a), CustomValue::Number(b)) => a == b,
        (Scalar::String(a), CustomValue::String(b)) => a == b,
        _ => false,
    }
}

fn custom_matches(m: &CustomMatch, v: &CustomValue<'_>) -> bool {
    match m {
        CustomMatch::Bool(b) => scalar_eq(&Scalar::Bool(*b), v),
        CustomMatch::Number(n) => scalar_eq(&Scalar::Number(*n), v),
        CustomMatch::String(s) => matches!(v, CustomValue::String(x) if x == s),
        CustomMatch::List(list) => list.iter().any(|s| scalar_eq(s, v)),
        CustomMatch::Range(RangeMatch { min, max }) => match v {
            CustomValue::Number(n) => min.is_none_or(|m| *n >= m) && max.is_none_or(|m| *n <= m),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(when: When) -> Cond {
        let cats: Vec<Arc<str>> = vec!["outage".into(), "security".into(), "billing".into()];
        let names = Names {
            categories: &cats,
            severities: &[],
            levels: &[],
        };
        let mut errs = vec![];
        let mut n = 0u16;
        let c = Cond::compile(
            &when,
            &names,
            Scope::Override,
            &mut |_| {
                n += 1;
                n - 1
            },
            &mut errs,
        );
        assert!(errs.is_empty(), "{errs:?}");
        c
    }

    #[test]
    fn covers_is_subset_of_constraints() {
        let general = compile(When {
            category: Some(OneOrMany::Many(vec!["outage".into(), "security".into()])),
            ..When::default()
        });
        let specific = compile(When {
            category: Some(OneOrMany::One("security".into())),
            vip: Some(true),
            ..When::default()
        });
        assert!(general.covers(&specific));
        assert!(!specific.covers(&general));
        let billing = compile(When {
            category: Some(OneOrMany::One("billing".into())),
            ..When::default()
        });
        assert!(!general.covers(&billing));
        let rich = compile(When {
            min_arr: Some(100.0),
            ..When::default()
        });
        let richer = compile(When {
            min_arr: Some(1000.0),
            category: Some(OneOrMany::One("billing".into())),
            ..When::default()
        });
        assert!(rich.covers(&richer));
        assert!(!richer.covers(&rich));
    }

    #[test]
    fn custom_field_matching() {
        use std::borrow::Cow;
        assert!(custom_matches(
            &CustomMatch::String("eu".into()),
            &CustomValue::String(Cow::Borrowed("eu"))
        ));
        assert!(custom_matches(
            &CustomMatch::Range(RangeMatch {
                min: Some(2.0),
                max: None
            }),
            &CustomValue::Number(3.0)
        ));
        assert!(!custom_matches(
            &CustomMatch::Range(RangeMatch {
                min: Some(2.0),
                max: None
            }),
            &CustomValue::String(Cow::Borrowed("3"))
        ));
        assert!(custom_matches(
            &CustomMatch::List(vec![Scalar::Bool(true), Scalar::String("x".into())]),
            &CustomValue::Bool(true)
        ));
    }
}
