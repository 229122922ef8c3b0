//! JSON → ticket parts: a JSON ticket written as Avro.

use super::*;

/// A JSON object's members in input order, values as raw text.
pub(super) struct RawObject<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for RawObject<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawObject<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((k, raw)) = m.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    v.push((k, raw));
                }
                Ok(RawObject(v))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JsonRequester<'a> {
    #[serde(borrow, default)]
    pub(super) email: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) name: Option<Cow<'a, str>>,
}

/// Reads a JSON ticket into `Parts`. `strict`: every member must fit the
/// ticket schema (encoding input); otherwise misfits and unknown members go
/// to the extras (encoding output) and `triage` is dropped.
pub(super) fn parts_from_json(json: &[u8], strict: bool) -> Result<Parts, String> {
    let obj: RawObject<'_> =
        serde_json::from_slice(json).map_err(|e| format!("not a JSON object: {e}"))?;
    let mut p = Parts {
        text: String::with_capacity(json.len()),
        ..Parts::default()
    };
    for (key, raw) in &obj.0 {
        let text = raw.get();
        let fitted: Result<(), String> = (|| {
            let s_opt =
                || serde_json::from_str::<Option<Cow<'_, str>>>(text).map_err(|e| e.to_string());
            let s_req = || serde_json::from_str::<Cow<'_, str>>(text).map_err(|e| e.to_string());
            match &**key {
                "ticket_id" => p.ticket_id = Some(p.push(&s_req()?)),
                "customer_id" => p.customer_id = Some(p.push(&s_req()?)),
                "created_at" => p.created_at = Some(p.push(&s_req()?)),
                "subject" => p.subject = Some(p.push(&s_req()?)),
                "body" => p.body = s_opt()?.map(|s| p.push(&s)),
                "channel" => p.channel = s_opt()?.map(|s| p.push(&s)),
                "reported_priority" => p.reported_priority = s_opt()?.map(|s| p.push(&s)),
                "requester" => {
                    let r: Option<JsonRequester<'_>> =
                        serde_json::from_str(text).map_err(|e| e.to_string())?;
                    p.requester =
                        r.map(|r| (r.email.map(|s| p.push(&s)), r.name.map(|s| p.push(&s))));
                }
                "affected_users" => {
                    p.affected_users =
                        serde_json::from_str::<Option<i64>>(text).map_err(|e| e.to_string())?;
                }
                "tags" => {
                    let tags: Option<Vec<Cow<'_, str>>> =
                        serde_json::from_str(text).map_err(|e| e.to_string())?;
                    p.tags = tags.unwrap_or_default().iter().map(|t| p.push(t)).collect();
                }
                "custom_fields" => {
                    let m: Option<RawObject<'_>> =
                        serde_json::from_str(text).map_err(|e| e.to_string())?;
                    let mut fields = Vec::new();
                    for (k, v) in m.map(|m| m.0).unwrap_or_default() {
                        let v: serde_json::Value =
                            serde_json::from_str(v.get()).map_err(|e| e.to_string())?;
                        let v = match v {
                            serde_json::Value::String(s) => Custom::Str(p.push(&s)),
                            serde_json::Value::Bool(b) => Custom::Bool(b),
                            serde_json::Value::Number(n) => match n.as_i64() {
                                Some(i) => Custom::Long(i),
                                None => Custom::Double(n.as_f64().ok_or("not a number")?),
                            },
                            other => {
                                return Err(format!(
                                    "custom field `{k}` must be a string, number or boolean, got {other}"
                                ))
                            }
                        };
                        let k = p.push(&k);
                        fields.push((k, v));
                    }
                    p.custom_fields = fields;
                }
                _ => return Err("not a field of the ticket schema".into()),
            }
            Ok(())
        })();
        if let Err(why) = fitted {
            if strict {
                return Err(format!("`{key}`: {why}"));
            }
            if key == "triage" {
                continue;
            }
            let json = p.push(text);
            p.extras.push(Extra {
                name: Arc::from(&**key),
                json,
                avro: None,
            });
        }
    }
    for (f, v) in [
        ("ticket_id", p.ticket_id),
        ("customer_id", p.customer_id),
        ("created_at", p.created_at),
        ("subject", p.subject),
    ] {
        if v.is_none() {
            return Err(format!("required field `{f}` is missing"));
        }
    }
    Ok(p)
}
