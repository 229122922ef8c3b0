//! Decoding: walking a read plan over a datum.

use super::*;

#[derive(Debug)]
pub(super) enum Fail {
    Decode(String),
    Schema(String),
}

impl Fail {
    pub(super) fn into_error(self) -> DecodeError {
        match self {
            Fail::Decode(d) => DecodeError::new(
                DlqReason::DecodeError,
                format!("Avro datum does not decode: {d}"),
            ),
            Fail::Schema(d) => DecodeError::new(DlqReason::SchemaError, d),
        }
    }
}

pub(super) fn truncated() -> Fail {
    Fail::Decode("datum is truncated".into())
}

pub(super) struct Cur<'a> {
    pub(super) b: &'a [u8],
    pub(super) p: usize,
    /// Array and map items read so far (bounded by [`MAX_ITEMS`]).
    pub(super) items: usize,
}

impl<'a> Cur<'a> {
    pub(super) fn new(b: &'a [u8]) -> Cur<'a> {
        Cur { b, p: 0, items: 0 }
    }

    #[inline]
    pub(super) fn remaining(&self) -> usize {
        self.b.len() - self.p
    }

    #[inline]
    pub(super) fn long(&mut self) -> Result<i64, Fail> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = self.b.get(self.p) else {
                return Err(truncated());
            };
            self.p += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return Err(Fail::Decode("variable-length integer is too long".into()));
            }
        }
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    #[inline]
    pub(super) fn int(&mut self) -> Result<i32, Fail> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| Fail::Decode(format!("int out of range: {v}")))
    }

    #[inline]
    pub(super) fn bytes(&mut self) -> Result<&'a [u8], Fail> {
        let len = self.long()?;
        if len < 0 {
            return Err(Fail::Decode(format!("negative length {len}")));
        }
        let len = len as u64;
        if len > self.remaining() as u64 {
            return Err(truncated());
        }
        let s = &self.b[self.p..self.p + len as usize];
        self.p += len as usize;
        Ok(s)
    }

    #[inline]
    pub(super) fn str(&mut self, field: &str) -> Result<&'a str, Fail> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| Fail::Decode(format!("`{field}` is not valid UTF-8")))
    }

    #[inline]
    pub(super) fn fixed(&mut self, n: usize) -> Result<&'a [u8], Fail> {
        if n > self.remaining() {
            return Err(truncated());
        }
        let s = &self.b[self.p..self.p + n];
        self.p += n;
        Ok(s)
    }

    #[inline]
    pub(super) fn bool(&mut self) -> Result<bool, Fail> {
        match self.fixed(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            x => Err(Fail::Decode(format!("invalid boolean byte {x}"))),
        }
    }

    pub(super) fn float(&mut self) -> Result<f32, Fail> {
        let b = self.fixed(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn double(&mut self) -> Result<f64, Fail> {
        let b = self.fixed(8)?;
        Ok(f64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    #[inline]
    pub(super) fn branch(&mut self, n: usize) -> Result<usize, Fail> {
        let i = self.long()?;
        if i < 0 || i as u64 >= n as u64 {
            return Err(Fail::Decode(format!(
                "union branch {i} out of range (the union has {n})"
            )));
        }
        Ok(i as usize)
    }

    /// The item count of the next array/map block (0 = end).
    #[inline]
    pub(super) fn block(&mut self, zero_sized_items: bool) -> Result<usize, Fail> {
        let n = self.long()?;
        let n = if n < 0 {
            let _size = self.long()?;
            n.checked_neg()
                .ok_or_else(|| Fail::Decode("block count overflows".into()))?
        } else {
            n
        };
        let limit = if zero_sized_items {
            1 << 16
        } else {
            self.remaining() as i64
        };
        if n > limit {
            return Err(Fail::Decode(format!(
                "block of {n} items does not fit in the datum"
            )));
        }
        // n <= limit, which fits a usize.
        self.items = self.items.saturating_add(n as usize);
        if self.items > MAX_ITEMS {
            return Err(Fail::Decode(format!(
                "more than {MAX_ITEMS} array or map items in one datum"
            )));
        }
        Ok(n as usize)
    }

    pub(super) fn skip(&mut self, g: &Graph, node: NodeId, depth: u32) -> Result<(), Fail> {
        if depth > MAX_DEPTH {
            return Err(Fail::Decode("value nested too deeply".into()));
        }
        match &g.nodes[node as usize] {
            Node::Null | Node::Pending => {}
            Node::Bool => {
                self.bool()?;
            }
            Node::Int => {
                self.int()?;
            }
            Node::Long => {
                self.long()?;
            }
            Node::Float => {
                self.fixed(4)?;
            }
            Node::Double => {
                self.fixed(8)?;
            }
            Node::Bytes | Node::Str => {
                self.bytes()?;
            }
            Node::Fixed(n) => {
                self.fixed(*n)?;
            }
            Node::Enum(symbols) => {
                self.symbol(symbols)?;
            }
            Node::Array(item) => loop {
                let zero = g.zero[*item as usize];
                let n = self.block(zero)?;
                if n == 0 {
                    break;
                }
                for _ in 0..n {
                    self.skip(g, *item, depth + 1)?;
                }
            },
            Node::Map(v) => loop {
                let n = self.block(false)?;
                if n == 0 {
                    break;
                }
                for _ in 0..n {
                    self.bytes()?;
                    self.skip(g, *v, depth + 1)?;
                }
            },
            Node::Union(branches) => {
                let i = self.branch(branches.len())?;
                self.skip(g, branches[i], depth + 1)?;
            }
            Node::Record(fields) => {
                for (_, f) in fields.iter() {
                    self.skip(g, *f, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn symbol<'s>(&mut self, symbols: &'s [Box<str>]) -> Result<&'s str, Fail> {
        let i = self.int()?;
        symbols
            .get(usize::try_from(i).unwrap_or(usize::MAX))
            .map(|s| &**s)
            .ok_or_else(|| {
                Fail::Decode(format!(
                    "enum index {i} out of range ({} symbols)",
                    symbols.len()
                ))
            })
    }

    /// Reads a value and writes it as plain JSON.
    pub(super) fn render(
        &mut self,
        g: &Graph,
        node: NodeId,
        out: &mut String,
        depth: u32,
    ) -> Result<(), Fail> {
        if depth > MAX_DEPTH {
            return Err(Fail::Decode("value nested too deeply".into()));
        }
        if out.len() > MAX_RENDERED_BYTES {
            return Err(Fail::Decode(format!(
                "extra fields render to more than {MAX_RENDERED_BYTES} bytes"
            )));
        }
        match &g.nodes[node as usize] {
            Node::Null | Node::Pending => out.push_str("null"),
            Node::Bool => out.push_str(if self.bool()? { "true" } else { "false" }),
            Node::Int => {
                let _ = write!(out, "{}", self.int()?);
            }
            Node::Long => {
                let _ = write!(out, "{}", self.long()?);
            }
            Node::Float => {
                let f = self.float()?;
                if f.is_finite() {
                    out.push_str(&serde_json::to_string(&f).expect("finite"));
                } else {
                    json_str(out, &f64::from(f).to_string());
                }
            }
            Node::Double => {
                let f = self.double()?;
                if f.is_finite() {
                    out.push_str(&serde_json::to_string(&f).expect("finite"));
                } else {
                    json_str(out, &f.to_string());
                }
            }
            Node::Str => {
                let s = self.str("extra field")?;
                json_str(out, s);
            }
            Node::Bytes => {
                let b = self.bytes()?;
                json_latin1(out, b);
            }
            Node::Fixed(n) => {
                let b = self.fixed(*n)?;
                json_latin1(out, b);
            }
            Node::Enum(symbols) => {
                let s = self.symbol(symbols)?;
                json_str(out, s);
            }
            Node::Array(item) => {
                out.push('[');
                let mut first = true;
                loop {
                    let n = self.block(g.zero[*item as usize])?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        if !first {
                            out.push(',');
                        }
                        first = false;
                        self.render(g, *item, out, depth + 1)?;
                    }
                }
                out.push(']');
            }
            Node::Map(v) => {
                out.push('{');
                let mut first = true;
                loop {
                    let n = self.block(false)?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        if !first {
                            out.push(',');
                        }
                        first = false;
                        let k = self.str("map key")?;
                        json_str(out, k);
                        out.push(':');
                        self.render(g, *v, out, depth + 1)?;
                    }
                }
                out.push('}');
            }
            Node::Union(branches) => {
                let i = self.branch(branches.len())?;
                self.render(g, branches[i], out, depth + 1)?;
            }
            Node::Record(fields) => {
                out.push('{');
                for (i, (name, f)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_str(out, name);
                    out.push(':');
                    self.render(g, *f, out, depth + 1)?;
                }
                out.push('}');
            }
        }
        Ok(())
    }
}

pub(super) fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Bytes as a JSON string of code points 0–255 (Avro's JSON encoding).
pub(super) fn json_latin1(out: &mut String, b: &[u8]) {
    let s: String = b.iter().map(|&x| char::from(x)).collect();
    json_str(out, &s);
}

/// A scalar read through an `Rd`.
pub(super) enum Val<'a> {
    Null,
    Str(&'a str),
    Long(i64),
    Double(f64),
    Bool(bool),
}

#[inline]
pub(super) fn read_val<'a: 'v, 'r: 'v, 'v>(
    cur: &mut Cur<'a>,
    rd: &'r Rd,
    field: &str,
) -> Result<Val<'v>, Fail> {
    Ok(match rd {
        Rd::Null => Val::Null,
        Rd::Str => Val::Str(cur.str(field)?),
        Rd::Enum(symbols) => Val::Str(cur.symbol(symbols)?),
        Rd::Int => Val::Long(i64::from(cur.int()?)),
        Rd::Long => Val::Long(cur.long()?),
        Rd::Float => Val::Double(f64::from(cur.float()?)),
        Rd::Double => Val::Double(cur.double()?),
        Rd::Bool => Val::Bool(cur.bool()?),
        Rd::Union(branches) => {
            let i = cur.branch(branches.len())?;
            return read_val(cur, &branches[i], field);
        }
        Rd::Bad(why) => {
            return Err(Fail::Schema(format!("field `{field}`: {why}")));
        }
        Rd::Array(_) | Rd::Map(_) | Rd::Record(_) => {
            unreachable!("compiled only for list, map and requester fields")
        }
    })
}

#[inline]
pub(super) fn read_opt_str(
    cur: &mut Cur<'_>,
    rd: &Rd,
    field: &str,
    p: &mut Parts,
) -> Result<Option<Span>, Fail> {
    match read_val(cur, rd, field)? {
        Val::Null => Ok(None),
        Val::Str(s) => Ok(Some(p.push(s))),
        _ => unreachable!("compiled as a string"),
    }
}

#[inline]
pub(super) fn read_req_str(
    cur: &mut Cur<'_>,
    rd: &Rd,
    field: &str,
    p: &mut Parts,
) -> Result<Span, Fail> {
    read_opt_str(cur, rd, field, p)?
        .ok_or_else(|| Fail::Schema(format!("required field `{field}` is null")))
}

/// Unwraps a union around an array/map/record: `None` for the null branch.
pub(super) fn unwrap_union<'r>(
    cur: &mut Cur<'_>,
    rd: &'r Rd,
    field: &str,
) -> Result<Option<&'r Rd>, Fail> {
    match rd {
        Rd::Union(branches) => {
            let i = cur.branch(branches.len())?;
            match &branches[i] {
                Rd::Null => Ok(None),
                Rd::Bad(why) => Err(Fail::Schema(format!("field `{field}`: {why}"))),
                other => Ok(Some(other)),
            }
        }
        Rd::Null => Ok(None),
        other => Ok(Some(other)),
    }
}

pub(super) fn read_ticket(g: &Graph, plan: &Plan<TicketSlot>, datum: &[u8]) -> Result<Parts, Fail> {
    let mut cur = Cur::new(datum);
    let mut p = Parts {
        text: String::with_capacity(datum.len()),
        ..Parts::default()
    };
    for step in plan.steps.iter() {
        match step {
            Step::Field { slot, name, rd } => match slot {
                TicketSlot::TicketId => {
                    p.ticket_id = Some(read_req_str(&mut cur, rd, name, &mut p)?)
                }
                TicketSlot::CustomerId => {
                    p.customer_id = Some(read_req_str(&mut cur, rd, name, &mut p)?)
                }
                TicketSlot::CreatedAt => {
                    p.created_at = Some(read_req_str(&mut cur, rd, name, &mut p)?)
                }
                TicketSlot::Subject => p.subject = Some(read_req_str(&mut cur, rd, name, &mut p)?),
                TicketSlot::Body => p.body = read_opt_str(&mut cur, rd, name, &mut p)?,
                TicketSlot::Channel => p.channel = read_opt_str(&mut cur, rd, name, &mut p)?,
                TicketSlot::ReportedPriority => {
                    p.reported_priority = read_opt_str(&mut cur, rd, name, &mut p)?
                }
                TicketSlot::AffectedUsers => {
                    p.affected_users = match read_val(&mut cur, rd, name)? {
                        Val::Null => None,
                        Val::Long(n) => Some(n),
                        _ => unreachable!("compiled as a long"),
                    }
                }
                TicketSlot::Requester => {
                    p.requester = match unwrap_union(&mut cur, rd, name)? {
                        None => None,
                        Some(Rd::Record(plan)) => Some(read_requester(&mut cur, g, plan, &mut p)?),
                        Some(_) => unreachable!("compiled as a record"),
                    }
                }
                TicketSlot::Tags => {
                    if let Some(Rd::Array(item)) = unwrap_union(&mut cur, rd, name)? {
                        let zero = matches!(**item, Rd::Null);
                        loop {
                            let n = cur.block(zero)?;
                            if n == 0 {
                                break;
                            }
                            p.tags.reserve(n);
                            for _ in 0..n {
                                let s = read_req_str(&mut cur, item, "tags[]", &mut p)?;
                                p.tags.push(s);
                            }
                        }
                    }
                }
                TicketSlot::CustomFields => {
                    if let Some(Rd::Map(v)) = unwrap_union(&mut cur, rd, name)? {
                        loop {
                            let n = cur.block(false)?;
                            if n == 0 {
                                break;
                            }
                            p.custom_fields.reserve(n);
                            for _ in 0..n {
                                let k = cur.str("custom_fields key")?;
                                let k = p.push(k);
                                let v = match read_val(&mut cur, v, "custom_fields")? {
                                    Val::Null => {
                                        return Err(Fail::Schema(
                                            "field `custom_fields`: a value is null".into(),
                                        ))
                                    }
                                    Val::Str(s) => Custom::Str(p.push(s)),
                                    Val::Long(n) => Custom::Long(n),
                                    Val::Double(d) => Custom::Double(d),
                                    Val::Bool(b) => Custom::Bool(b),
                                };
                                p.custom_fields.push((k, v));
                            }
                        }
                    }
                }
            },
            Step::Skip(node) | Step::Drop(node) => cur.skip(g, *node, 0)?,
            Step::Extra { node, name, schema } => {
                let start = cur.p;
                let json_start = p.text.len() as u32;
                cur.render(g, *node, &mut p.text, 0)?;
                let json = Span {
                    start: json_start,
                    end: p.text.len() as u32,
                };
                let raw_start = p.raw.len() as u32;
                p.raw.extend_from_slice(&datum[start..cur.p]);
                let raw = Span {
                    start: raw_start,
                    end: p.raw.len() as u32,
                };
                p.extras.push(Extra {
                    name: name.clone(),
                    json,
                    avro: Some((schema.clone(), raw)),
                });
            }
        }
    }
    if cur.remaining() > 0 {
        return Err(Fail::Decode(format!(
            "{} bytes follow the datum (wrong schema id?)",
            cur.remaining()
        )));
    }
    Ok(p)
}

pub(super) fn read_requester(
    cur: &mut Cur<'_>,
    g: &Graph,
    plan: &Plan<RequesterSlot>,
    p: &mut Parts,
) -> Result<(Option<Span>, Option<Span>), Fail> {
    let (mut email, mut name) = (None, None);
    for step in plan.steps.iter() {
        match step {
            Step::Field { slot, rd, .. } => match slot {
                RequesterSlot::Email => email = read_opt_str(cur, rd, "requester.email", p)?,
                RequesterSlot::Name => name = read_opt_str(cur, rd, "requester.name", p)?,
            },
            Step::Skip(node) | Step::Drop(node) | Step::Extra { node, .. } => {
                cur.skip(g, *node, 1)?
            }
        }
    }
    Ok((email, name))
}

pub(super) fn read_customer(
    g: &Graph,
    plan: &Plan<CustomerSlot>,
    datum: &[u8],
) -> Result<Customer, Fail> {
    let mut cur = Cur::new(datum);
    let mut c = Customer::default();
    let mut id = None;
    for step in plan.steps.iter() {
        match step {
            Step::Field { slot, name, rd } => {
                let v = read_val(&mut cur, rd, name)?;
                let s = |v: Val<'_>| match v {
                    Val::Str(s) => Some(s.to_owned()),
                    _ => None,
                };
                match slot {
                    CustomerSlot::CustomerId => {
                        id = Some(s(v).ok_or_else(|| {
                            Fail::Schema("required field `customer_id` is null".into())
                        })?)
                    }
                    CustomerSlot::Name => c.name = s(v),
                    CustomerSlot::AccountType => c.account_type = s(v),
                    CustomerSlot::SupportPlan => c.support_plan = s(v),
                    CustomerSlot::Vip => c.vip = matches!(v, Val::Bool(true)),
                    CustomerSlot::Persona => c.persona = s(v),
                    CustomerSlot::Lifecycle => c.lifecycle = s(v),
                    CustomerSlot::Arr => {
                        c.arr = match v {
                            Val::Long(n) => Some(n as f64),
                            Val::Double(d) => Some(d),
                            _ => None,
                        }
                    }
                    CustomerSlot::SlaPolicy => c.sla_policy = s(v),
                    CustomerSlot::Timezone => c.timezone = s(v),
                    CustomerSlot::Language => c.language = s(v),
                }
            }
            Step::Skip(node) | Step::Drop(node) | Step::Extra { node, .. } => {
                cur.skip(g, *node, 0)?
            }
        }
    }
    if cur.remaining() > 0 {
        return Err(Fail::Decode(format!(
            "{} bytes follow the datum (wrong schema id?)",
            cur.remaining()
        )));
    }
    c.customer_id =
        id.ok_or_else(|| Fail::Schema("required field `customer_id` is missing".into()))?;
    Ok(c)
}
