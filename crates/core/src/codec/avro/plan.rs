//! Read plans: a writer schema resolved against a reader schema.

use super::*;

/// What the reader wants for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// A required string.
    Str,
    /// `["null","string"]`, default null.
    OptStr,
    /// `["null","long"]`, default null.
    OptLong,
    /// `["null","double"]`, default null.
    OptDouble,
    /// `boolean`, default false.
    Bool,
    /// `array<string>`, default [].
    StrList,
    /// `map<[string,long,double,boolean]>`, default {}.
    CustomMap,
    /// A custom-field value.
    Custom,
    /// `["null", Requester]`, default null.
    Requester,
}

impl Want {
    pub(super) fn nullable(self) -> bool {
        !matches!(self, Want::Str | Want::Bool | Want::Custom)
    }
    pub(super) fn has_default(self) -> bool {
        self != Want::Str && self != Want::Custom
    }
    pub(super) fn describe(self) -> &'static str {
        match self {
            Want::Str => "a string",
            Want::OptStr => "an optional string",
            Want::OptLong => "an optional long",
            Want::OptDouble => "an optional double",
            Want::Bool => "a boolean",
            Want::StrList => "an array of strings",
            Want::CustomMap => "a map of string, number or boolean",
            Want::Custom => "a string, number or boolean",
            Want::Requester => "a requester record",
        }
    }
}

/// How to read one writer value into what the reader wants.
#[derive(Debug, Clone)]
pub(super) enum Rd {
    Null,
    Str,
    Enum(Arc<[Box<str>]>),
    Int,
    Long,
    Float,
    Double,
    Bool,
    Array(Box<Rd>),
    Map(Box<Rd>),
    Record(Box<Plan<RequesterSlot>>),
    Union(Box<[Rd]>),
    /// A union branch the reader cannot take: a schema_error if used.
    Bad(Arc<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TicketSlot {
    TicketId,
    CustomerId,
    CreatedAt,
    Subject,
    Body,
    Channel,
    Requester,
    ReportedPriority,
    AffectedUsers,
    Tags,
    CustomFields,
}

pub(super) const TICKET_SPEC: &[(&str, Want, TicketSlot)] = &[
    ("ticket_id", Want::Str, TicketSlot::TicketId),
    ("customer_id", Want::Str, TicketSlot::CustomerId),
    ("created_at", Want::Str, TicketSlot::CreatedAt),
    ("subject", Want::Str, TicketSlot::Subject),
    ("body", Want::OptStr, TicketSlot::Body),
    ("channel", Want::OptStr, TicketSlot::Channel),
    ("requester", Want::Requester, TicketSlot::Requester),
    (
        "reported_priority",
        Want::OptStr,
        TicketSlot::ReportedPriority,
    ),
    ("affected_users", Want::OptLong, TicketSlot::AffectedUsers),
    ("tags", Want::StrList, TicketSlot::Tags),
    ("custom_fields", Want::CustomMap, TicketSlot::CustomFields),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CustomerSlot {
    CustomerId,
    Name,
    AccountType,
    SupportPlan,
    Vip,
    Persona,
    Lifecycle,
    Arr,
    SlaPolicy,
    Timezone,
    Language,
}

pub(super) const CUSTOMER_SPEC: &[(&str, Want, CustomerSlot)] = &[
    ("customer_id", Want::Str, CustomerSlot::CustomerId),
    ("name", Want::OptStr, CustomerSlot::Name),
    ("account_type", Want::OptStr, CustomerSlot::AccountType),
    ("support_plan", Want::OptStr, CustomerSlot::SupportPlan),
    ("vip", Want::Bool, CustomerSlot::Vip),
    ("persona", Want::OptStr, CustomerSlot::Persona),
    ("lifecycle", Want::OptStr, CustomerSlot::Lifecycle),
    ("arr", Want::OptDouble, CustomerSlot::Arr),
    ("sla_policy", Want::OptStr, CustomerSlot::SlaPolicy),
    ("timezone", Want::OptStr, CustomerSlot::Timezone),
    ("language", Want::OptStr, CustomerSlot::Language),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RequesterSlot {
    Email,
    Name,
}

pub(super) const REQUESTER_SPEC: &[(&str, Want, RequesterSlot)] = &[
    ("email", Want::OptStr, RequesterSlot::Email),
    ("name", Want::OptStr, RequesterSlot::Name),
];

#[derive(Debug, Clone)]
pub(super) enum Step<S> {
    /// Read into a reader field.
    Field { slot: S, name: &'static str, rd: Rd },
    /// A writer field the reader does not know: skip it.
    Skip(NodeId),
    /// A writer field the reader does not know: carry it through.
    Extra {
        node: NodeId,
        name: Arc<str>,
        schema: Arc<str>,
    },
    /// A writer field named `triage`: dropped (the verdict replaces it).
    Drop(NodeId),
}

#[derive(Debug, Clone)]
pub(super) struct Plan<S> {
    pub(super) steps: Box<[Step<S>]>,
}

/// What to do with writer fields the reader does not know.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Unknown {
    Skip,
    /// Top level of a ticket: carry through, except `triage`.
    Carry,
}

impl ResolvedWriter {
    pub(super) fn broken(why: String) -> ResolvedWriter {
        ResolvedWriter {
            graph: Graph::default(),
            ticket: Err(why.clone()),
            customer: Err(why),
        }
    }

    pub(super) fn compile(schema: &Schema) -> ResolvedWriter {
        let mut b = GraphBuilder {
            nodes: Vec::new(),
            names: HashMap::new(),
            schemas: HashMap::new(),
        };
        let root = match b.build(schema, &None) {
            Ok(r) => r,
            Err(e) => return ResolvedWriter::broken(format!("writer schema is invalid: {e}")),
        };
        let (graph, schemas) = b.finish(root);
        let root_ns = match schema {
            Schema::Record(r) => r.name.fully_qualified_name(&None).namespace,
            _ => None,
        };
        let extra_schema = |field: &str| -> Arc<str> {
            let Schema::Record(r) = schema else {
                return Arc::from("null");
            };
            let f = r
                .fields
                .iter()
                .find(|f| f.name == field)
                .expect("field exists");
            let mut defined = HashSet::new();
            let v = field_schema_json(&f.schema, &root_ns, &schemas, &mut defined);
            Arc::from(v.to_string())
        };
        let ticket = compile_record(
            &graph,
            graph.root,
            TICKET_SPEC,
            Unknown::Carry,
            &extra_schema,
        );
        let customer = compile_record(
            &graph,
            graph.root,
            CUSTOMER_SPEC,
            Unknown::Skip,
            &extra_schema,
        );
        ResolvedWriter {
            graph,
            ticket,
            customer,
        }
    }
}

pub(super) fn compile_record<S: Copy>(
    g: &Graph,
    node: NodeId,
    spec: &'static [(&'static str, Want, S)],
    unknown: Unknown,
    extra_schema: &dyn Fn(&str) -> Arc<str>,
) -> Result<Plan<S>, String> {
    let Node::Record(fields) = &g.nodes[node as usize] else {
        return Err(format!(
            "the writer schema is a {}, not a record",
            g.nodes[node as usize].kind()
        ));
    };
    let mut steps = Vec::with_capacity(fields.len());
    for (name, child) in fields.iter() {
        match spec.iter().find(|(n, _, _)| **n == **name) {
            Some(&(rname, want, slot)) => {
                let rd = compile_value(g, *child, want, false)
                    .map_err(|e| format!("field `{rname}`: {e}"))?;
                steps.push(Step::Field {
                    slot,
                    name: rname,
                    rd,
                });
            }
            None => match unknown {
                Unknown::Carry if &**name == "triage" => steps.push(Step::Drop(*child)),
                Unknown::Carry => steps.push(Step::Extra {
                    node: *child,
                    name: Arc::from(&**name),
                    schema: extra_schema(name),
                }),
                Unknown::Skip => steps.push(Step::Skip(*child)),
            },
        }
    }
    for &(rname, want, _) in spec {
        if !want.has_default() && !fields.iter().any(|(n, _)| &**n == rname) {
            return Err(format!(
                "required field `{rname}` is missing from the writer schema and has no default"
            ));
        }
    }
    Ok(Plan {
        steps: steps.into_boxed_slice(),
    })
}

pub(super) fn compile_value(
    g: &Graph,
    node: NodeId,
    want: Want,
    in_union: bool,
) -> Result<Rd, String> {
    let n = &g.nodes[node as usize];
    let mismatch = || format!("a {} cannot be read as {}", n.kind(), want.describe());
    Ok(match (n, want) {
        (Node::Union(branches), _) if !in_union => {
            let rds: Vec<Rd> = branches
                .iter()
                .map(|b| compile_value(g, *b, want, true).unwrap_or_else(|e| Rd::Bad(e.into())))
                .collect();
            if rds.iter().all(|r| matches!(r, Rd::Bad(_))) {
                let first = match rds.first() {
                    Some(Rd::Bad(e)) => e.to_string(),
                    _ => "the union is empty".into(),
                };
                return Err(format!("no branch of the union can be read: {first}"));
            }
            Rd::Union(rds.into_boxed_slice())
        }
        (Node::Null, w) if w.nullable() => Rd::Null,
        (Node::Null, _) => return Err(format!("a null cannot be read as {}", want.describe())),
        (Node::Str | Node::Bytes, Want::Str | Want::OptStr | Want::Custom) => Rd::Str,
        (Node::Enum(symbols), Want::Str | Want::OptStr | Want::Custom) => Rd::Enum(symbols.clone()),
        (Node::Int, Want::OptLong | Want::OptDouble | Want::Custom) => Rd::Int,
        (Node::Long, Want::OptLong | Want::OptDouble | Want::Custom) => Rd::Long,
        (Node::Float, Want::OptDouble | Want::Custom) => Rd::Float,
        (Node::Double, Want::OptDouble | Want::Custom) => Rd::Double,
        (Node::Bool, Want::Bool | Want::Custom) => Rd::Bool,
        (Node::Array(item), Want::StrList) => Rd::Array(Box::new(
            compile_value(g, *item, Want::Str, false).map_err(|e| format!("array items: {e}"))?,
        )),
        (Node::Map(values), Want::CustomMap) => Rd::Map(Box::new(
            compile_value(g, *values, Want::Custom, false)
                .map_err(|e| format!("map values: {e}"))?,
        )),
        (Node::Record(_), Want::Requester) => Rd::Record(Box::new(compile_record(
            g,
            node,
            REQUESTER_SPEC,
            Unknown::Skip,
            &|_: &str| Arc::<str>::from("null"),
        )?)),
        _ => return Err(mismatch()),
    })
}
