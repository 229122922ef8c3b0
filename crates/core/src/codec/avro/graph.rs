//! The writer schema graph, compiled once per schema, and the datum check of extra fields.

use super::*;

pub(super) type NodeId = u32;

#[derive(Debug, Clone)]
pub(super) enum Node {
    Null,
    Bool,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    Str,
    Fixed(usize),
    Enum(Arc<[Box<str>]>),
    Array(NodeId),
    Map(NodeId),
    Union(Box<[NodeId]>),
    Record(Box<[(Box<str>, NodeId)]>),
    /// Placeholder while a named type is being built.
    Pending,
}

impl Node {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool => "boolean",
            Node::Int => "int",
            Node::Long => "long",
            Node::Float => "float",
            Node::Double => "double",
            Node::Bytes => "bytes",
            Node::Str => "string",
            Node::Fixed(_) => "fixed",
            Node::Enum(_) => "enum",
            Node::Array(_) => "array",
            Node::Map(_) => "map",
            Node::Union(_) => "union",
            Node::Record(_) => "record",
            Node::Pending => "unresolved reference",
        }
    }
}

/// The writer schema as a graph of nodes (named references resolved to
/// indices, logical types reduced to their encoding).
#[derive(Debug, Default)]
pub(super) struct Graph {
    pub(super) nodes: Vec<Node>,
    /// Items of this node may take zero bytes (array/map block guard).
    pub(super) zero: Vec<bool>,
    pub(super) root: NodeId,
}

pub(super) struct GraphBuilder<'s> {
    pub(super) nodes: Vec<Node>,
    pub(super) names: HashMap<String, NodeId>,
    pub(super) schemas: HashMap<String, &'s Schema>,
}

impl<'s> GraphBuilder<'s> {
    pub(super) fn add(&mut self, n: Node) -> NodeId {
        self.nodes.push(n);
        (self.nodes.len() - 1) as NodeId
    }

    pub(super) fn named(
        &mut self,
        name: &Name,
        ns: &Namespace,
        s: &'s Schema,
    ) -> (String, NodeId, Namespace) {
        let fq = name.fully_qualified_name(ns);
        let full = fq.fullname(None);
        let id = self.add(Node::Pending);
        self.names.insert(full.clone(), id);
        self.schemas.insert(full.clone(), s);
        (full, id, fq.namespace)
    }

    pub(super) fn build(&mut self, s: &'s Schema, ns: &Namespace) -> Result<NodeId, String> {
        Ok(match s {
            Schema::Null => self.add(Node::Null),
            Schema::Boolean => self.add(Node::Bool),
            Schema::Int | Schema::Date | Schema::TimeMillis => self.add(Node::Int),
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => self.add(Node::Long),
            Schema::Float => self.add(Node::Float),
            Schema::Double => self.add(Node::Double),
            Schema::Bytes | Schema::BigDecimal => self.add(Node::Bytes),
            Schema::String | Schema::Uuid => self.add(Node::Str),
            Schema::Duration => self.add(Node::Fixed(12)),
            Schema::Decimal(d) => self.build(&d.inner, ns)?,
            Schema::Fixed(f) => {
                let (_, id, _) = self.named(&f.name, ns, s);
                self.nodes[id as usize] = Node::Fixed(f.size);
                id
            }
            Schema::Enum(e) => {
                let (_, id, _) = self.named(&e.name, ns, s);
                let symbols: Arc<[Box<str>]> =
                    e.symbols.iter().map(|x| x.as_str().into()).collect();
                self.nodes[id as usize] = Node::Enum(symbols);
                id
            }
            Schema::Record(r) => {
                let (_, id, inner_ns) = self.named(&r.name, ns, s);
                let mut fields = Vec::with_capacity(r.fields.len());
                for f in &r.fields {
                    let child = self.build(&f.schema, &inner_ns)?;
                    fields.push((f.name.as_str().into(), child));
                }
                self.nodes[id as usize] = Node::Record(fields.into_boxed_slice());
                id
            }
            Schema::Array(a) => {
                let item = self.build(&a.items, ns)?;
                self.add(Node::Array(item))
            }
            Schema::Map(m) => {
                let v = self.build(&m.types, ns)?;
                self.add(Node::Map(v))
            }
            Schema::Union(u) => {
                let mut branches = Vec::with_capacity(u.variants().len());
                for b in u.variants() {
                    branches.push(self.build(b, ns)?);
                }
                self.add(Node::Union(branches.into_boxed_slice()))
            }
            Schema::Ref { name } => {
                let full = name.fully_qualified_name(ns).fullname(None);
                *self
                    .names
                    .get(&full)
                    .ok_or_else(|| format!("unknown type name `{full}`"))?
            }
        })
    }

    pub(super) fn finish(self, root: NodeId) -> (Graph, HashMap<String, &'s Schema>) {
        // Minimum encoded size, to a fixed point (records may be recursive).
        let n = self.nodes.len();
        let mut min = vec![u64::MAX / 4; n];
        for _ in 0..=n.min(64) {
            let mut changed = false;
            for (i, node) in self.nodes.iter().enumerate() {
                let m = match node {
                    Node::Null => 0,
                    Node::Fixed(s) => *s as u64,
                    Node::Float => 4,
                    Node::Double => 8,
                    Node::Record(fields) => fields
                        .iter()
                        .map(|(_, c)| min[*c as usize])
                        .fold(0u64, |a, b| a.saturating_add(b)),
                    _ => 1,
                };
                if m < min[i] {
                    min[i] = m;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let zero = min.iter().map(|m| *m == 0).collect();
        (
            Graph {
                nodes: self.nodes,
                zero,
                root,
            },
            self.schemas,
        )
    }
}

/// A schema compiled for [`DatumCheck::check`]: reads a datum through with
/// this codec's bounds (block counts within the datum's bytes, at most
/// [`MAX_ITEMS`] items, nesting at most 64) without building values.
///
/// For callers that decode with apache-avro afterwards: its decoder
/// reserves room for an array block's count before reading the items, so a
/// 45-byte frame can ask for gigabytes (found by the `lifecycle` fuzz
/// target). A datum that passes here cannot.
#[derive(Debug)]
pub struct DatumCheck {
    pub(super) graph: Graph,
}

impl DatumCheck {
    pub fn new(schema: &Schema) -> Result<DatumCheck, String> {
        let mut b = GraphBuilder {
            nodes: Vec::new(),
            names: HashMap::new(),
            schemas: HashMap::new(),
        };
        let root = b.build(schema, &None)?;
        let (graph, _) = b.finish(root);
        Ok(DatumCheck { graph })
    }

    /// `Ok` when `datum` is exactly one value of the schema within the
    /// bounds; the error names the problem (never the content).
    pub fn check(&self, datum: &[u8]) -> Result<(), String> {
        let mut cur = Cur::new(datum);
        let g = &self.graph;
        cur.skip(g, g.root, 0).map_err(|f| match f {
            Fail::Decode(d) | Fail::Schema(d) => d,
        })?;
        if cur.remaining() > 0 {
            return Err(format!("{} bytes follow the datum", cur.remaining()));
        }
        Ok(())
    }
}

/// The writer schema of one field as a self-contained JSON schema: named
/// types it uses are defined inline at first use.
pub(super) fn field_schema_json(
    s: &Schema,
    ns: &Namespace,
    schemas: &HashMap<String, &Schema>,
    defined: &mut HashSet<String>,
) -> serde_json::Value {
    use serde_json::{json, Value};
    let named = |v: Value, full: &str| {
        let mut v = v;
        if let Value::Object(m) = &mut v {
            m.remove("namespace");
            m.insert("name".into(), Value::String(full.into()));
        }
        v
    };
    match s {
        Schema::Ref { name } => {
            let full = name.fully_qualified_name(ns).fullname(None);
            match schemas.get(&full) {
                Some(def) if !defined.contains(&full) => {
                    let def_ns = name.fully_qualified_name(ns).namespace;
                    field_schema_json(def, &def_ns, schemas, defined)
                }
                _ => Value::String(full),
            }
        }
        Schema::Record(r) => {
            let fq = r.name.fully_qualified_name(ns);
            let full = fq.fullname(None);
            if !defined.insert(full.clone()) {
                return Value::String(full);
            }
            let fields: Vec<Value> = r
                .fields
                .iter()
                .map(|f| {
                    let mut o = serde_json::Map::new();
                    o.insert("name".into(), Value::String(f.name.clone()));
                    o.insert(
                        "type".into(),
                        field_schema_json(&f.schema, &fq.namespace, schemas, defined),
                    );
                    if let Some(d) = &f.default {
                        o.insert("default".into(), d.clone());
                    }
                    Value::Object(o)
                })
                .collect();
            json!({"type": "record", "name": full, "fields": fields})
        }
        Schema::Enum(e) => {
            let full = e.name.fully_qualified_name(ns).fullname(None);
            if !defined.insert(full.clone()) {
                return Value::String(full);
            }
            named(serde_json::to_value(s).unwrap_or(Value::Null), &full)
        }
        Schema::Fixed(f) => {
            let full = f.name.fully_qualified_name(ns).fullname(None);
            if !defined.insert(full.clone()) {
                return Value::String(full);
            }
            named(serde_json::to_value(s).unwrap_or(Value::Null), &full)
        }
        Schema::Decimal(d) => match &*d.inner {
            Schema::Fixed(f) => {
                let full = f.name.fully_qualified_name(ns).fullname(None);
                defined.insert(full.clone());
                named(serde_json::to_value(s).unwrap_or(Value::Null), &full)
            }
            _ => serde_json::to_value(s).unwrap_or(Value::Null),
        },
        Schema::Array(a) => {
            json!({"type": "array", "items": field_schema_json(&a.items, ns, schemas, defined)})
        }
        Schema::Map(m) => {
            json!({"type": "map", "values": field_schema_json(&m.types, ns, schemas, defined)})
        }
        Schema::Union(u) => Value::Array(
            u.variants()
                .iter()
                .map(|b| field_schema_json(b, ns, schemas, defined))
                .collect(),
        ),
        other => serde_json::to_value(other).unwrap_or(Value::Null),
    }
}
