//! The cost model: what one request may ask for, checked when its document is parsed, before any
//! resolver runs (an async-graphql [`Extension`]).
//!
//! A field costs 1, plus [`TEXT_SEARCH_COST`] when it searches text (`filter: { text }`,
//! `search:`), plus its children's cost **multiplied by the number of items it can return**:
//! `first` where the field takes it (its default when omitted), the page of its connection for
//! `edges`, the cap of a capped list ([`MATCH_CAP`] for `matching*`, `possibleDuplicates` and the
//! duplicate reports), and [`UNBOUNDED_LIST`] for any other list. A request's cost is the sum over
//! its operations, aliases included; for a batch, over all its operations together (a
//! [`RequestBudget`] shared by them). Above the limit the operation is refused with
//! `QUERY_TOO_COMPLEX` (`extensions.cost`, `extensions.maxCost`).
//!
//! `matchingAccounts`, `matchingContacts` and `matchingLeads` (a duplicate lookup each) may be
//! asked on one lead per request only (on `lead(id:)`, or a mutation payload's single `lead`),
//! never under a list and never inside another `matching*` list; elsewhere the request is refused
//! with `BAD_USER_INPUT` saying why.
//!
//! The model knows the schema's types from its own SDL ([`SchemaShape`]), so fragments, inline
//! fragments, aliases and variables are counted as the executor will run them.
//!
//! Depth ([`check_depth`]): the fields of the schema may nest at most
//! [`crate::graphql::schema::MAX_DEPTH`] levels. Introspection (`__schema`, `__type`) is measured
//! on its own terms, so that graphql-js's full introspection query (15 levels, its `TypeRef`
//! fragment follows `ofType` nine times) runs: it may nest [`MAX_INTROSPECTION_DEPTH`] levels,
//! lists of its types (`types`, `fields`, `args`, ...) at most [`MAX_INTROSPECTION_LISTS`] deep,
//! and below a type reference (`type`, `ofType`, `interfaces`, `possibleTypes`) only the
//! reference itself (`kind`, `name`, `ofType`, ...), never another list: what makes
//! `types { fields { type { fields { type { fields ... } } } } }` explode is refused, what every
//! tool sends is not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
    Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Positioned, ServerResult, Value, Variables};

use crate::error::AppError;
use crate::graphql::loaders::DEFAULT_NOTES_PAGE;
use crate::service::paging::DEFAULT_PAGE_SIZE;

/// Default highest cost of one request (see the README for how it was chosen).
pub const DEFAULT_MAX_COST: u64 = 20_000;
/// What a text search adds (a trigram index lookup and a count over its matches).
pub const TEXT_SEARCH_COST: u64 = 2_000;
/// Most candidates a `matching*` lookup returns (`service::duplicates`' cap).
pub const MATCH_CAP: u64 = 200;
/// What a list of records without `first` or a known cap counts as.
pub const UNBOUNDED_LIST: u64 = 100;
/// What any other list without `first` or a known cap counts as (fields of a rule, mapped
/// fields of a preview, stakeholders, ...).
pub const SMALL_LIST: u64 = 20;
/// Deepest selection nesting the model walks (the executor's own limit is lower).
const MAX_WALK_DEPTH: usize = 64;
/// Most aliased fields in one operation (aliases multiply the work of a single field).
pub const MAX_ALIASES: usize = 30;
/// Deepest nesting of an introspection selection (graphql-js's full query needs 15).
pub const MAX_INTROSPECTION_DEPTH: usize = 20;
/// Most lists nested in an introspection selection (`types { fields { args } }`).
pub const MAX_INTROSPECTION_LISTS: usize = 3;
/// The introspection fields that return lists.
const INTROSPECTION_LISTS: [&str; 8] = [
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
];
/// The introspection fields that return a type reference (a `__Type` reached from another one).
const INTROSPECTION_REFERENCES: [&str; 4] = ["type", "ofType", "interfaces", "possibleTypes"];

/// How deep one operation's selections go: the schema's own fields, and introspection.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Depths {
    fields: usize,
    introspection: usize,
}

/// Where a walk of [`check_depth`] is inside an introspection selection.
#[derive(Debug, Clone, Copy)]
struct InIntrospection {
    depth: usize,
    lists: usize,
    below_reference: bool,
}

/// Refuses an operation nested deeper than `max_depth` fields (introspection measured by its own
/// rules, see the module doc) with `GRAPHQL_VALIDATION_FAILED`.
pub fn check_depth(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    max_depth: usize,
) -> Result<(), async_graphql::ServerError> {
    let operations: Vec<&Positioned<OperationDefinition>> = match &document.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => match operation_name.and_then(|n| ops.get(n)) {
            Some(op) => vec![op],
            None => ops.values().collect(),
        },
    };
    for operation in operations {
        let mut depths = Depths::default();
        depth_of(
            document,
            &operation.node.selection_set.node,
            0,
            None,
            0,
            &mut depths,
        )?;
        if depths.fields > max_depth {
            return Err(validation_error(format!(
                "Query is nested too deep: {} levels of fields, at most {max_depth} are allowed",
                depths.fields
            )));
        }
    }
    Ok(())
}

/// Refuses an operation with more than [`MAX_ALIASES`] aliased fields, and introspection when it
/// is disabled (with an error, rather than the executor's silent null).
fn check_document(
    document: &ExecutableDocument,
    introspection: bool,
) -> Result<(), async_graphql::ServerError> {
    fn count(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    usize::from(field.node.alias.is_some()) + count(&field.node.selection_set.node)
                }
                Selection::InlineFragment(fragment) => count(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let operations: usize = document
        .operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node))
        .sum();
    let fragments: usize = document
        .fragments
        .values()
        .map(|f| count(&f.node.selection_set.node))
        .sum();
    if !introspection && introspects(document) {
        return Err(validation_error(
            "introspection is disabled on this server".to_owned(),
        ));
    }
    if operations + fragments > MAX_ALIASES {
        return Err(validation_error(format!(
            "an operation may use at most {MAX_ALIASES} aliases"
        )));
    }
    Ok(())
}

/// Whether any selection (in operations or fragments) asks for `__schema` or `__type`.
fn introspects(document: &ExecutableDocument) -> bool {
    fn asks(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                name == "__schema" || name == "__type" || asks(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => asks(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    document
        .operations
        .iter()
        .any(|(_, op)| asks(&op.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|f| asks(&f.node.selection_set.node))
}

fn validation_error(message: String) -> async_graphql::ServerError {
    let mut error = async_graphql::ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "GRAPHQL_VALIDATION_FAILED");
    error.extensions = Some(extensions);
    error
}

/// Walks `set` (fragments inlined, as the executor runs them) at field depth `depth`.
fn depth_of(
    document: &ExecutableDocument,
    set: &SelectionSet,
    depth: usize,
    introspection: Option<InIntrospection>,
    nesting: usize,
    depths: &mut Depths,
) -> Result<(), async_graphql::ServerError> {
    if nesting > MAX_WALK_DEPTH {
        return Err(validation_error(format!(
            "selections may be nested at most {MAX_WALK_DEPTH} deep (fragments included)"
        )));
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                let inner = match introspection {
                    Some(mut place) => {
                        if place.below_reference
                            && INTROSPECTION_LISTS.contains(&name)
                            && !INTROSPECTION_REFERENCES.contains(&name)
                        {
                            return Err(validation_error(format!(
                                "introspection: `{name}` cannot be asked of a type reference \
                                 (below `type`, `ofType`, `interfaces` or `possibleTypes` ask \
                                 only `kind`, `name` and `ofType`); ask __type(name:) instead"
                            )));
                        }
                        place.depth += 1;
                        if INTROSPECTION_LISTS.contains(&name) {
                            place.lists += 1;
                        }
                        if INTROSPECTION_REFERENCES.contains(&name) {
                            place.below_reference = true;
                        }
                        if place.lists > MAX_INTROSPECTION_LISTS {
                            return Err(validation_error(format!(
                                "introspection: lists may be nested at most \
                                 {MAX_INTROSPECTION_LISTS} deep (as in types {{ fields {{ args }} }})"
                            )));
                        }
                        if place.depth > MAX_INTROSPECTION_DEPTH {
                            return Err(validation_error(format!(
                                "introspection is nested too deep: at most \
                                 {MAX_INTROSPECTION_DEPTH} levels are allowed"
                            )));
                        }
                        depths.introspection = depths.introspection.max(place.depth);
                        Some(place)
                    }
                    None if name == "__schema" || name == "__type" => {
                        depths.fields = depths.fields.max(depth + 1);
                        depths.introspection = depths.introspection.max(1);
                        Some(InIntrospection {
                            depth: 1,
                            lists: 0,
                            below_reference: false,
                        })
                    }
                    None => {
                        depths.fields = depths.fields.max(depth + 1);
                        None
                    }
                };
                depth_of(
                    document,
                    &field.node.selection_set.node,
                    depth + 1,
                    inner,
                    nesting + 1,
                    depths,
                )?;
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    depth_of(
                        document,
                        &fragment.node.selection_set.node,
                        depth,
                        introspection,
                        nesting + 1,
                        depths,
                    )?;
                }
            }
            Selection::InlineFragment(fragment) => depth_of(
                document,
                &fragment.node.selection_set.node,
                depth,
                introspection,
                nesting + 1,
                depths,
            )?,
        }
    }
    Ok(())
}

/// The name of the operation a request runs (put in the request's data by the HTTP layer, so
/// that a document with several operations is costed by the one that runs).
#[derive(Debug, Clone, Default)]
pub struct SelectedOperation(pub Option<String>);

/// The name and type of the operation a request runs, as the extension found it when it parsed
/// the document (put in the request's data by the HTTP layer, read back for the request log and
/// the metrics: the document is parsed once, by the executor).
#[derive(Debug, Clone, Default)]
pub struct ParsedOperation(Arc<Mutex<Option<NameAndType>>>);

/// An operation's name (when it has one) and type.
pub type NameAndType = (Option<String>, &'static str);

impl ParsedOperation {
    /// The operation's name (when it has one) and type (`query`, `mutation`, `subscription`,
    /// `unknown`), once the document parsed.
    pub fn get(&self) -> Option<NameAndType> {
        self.0.lock().ok()?.clone()
    }

    fn set(&self, document: &ExecutableDocument, name: Option<&str>) {
        let (own_name, ty) = match &document.operations {
            DocumentOperations::Single(op) => (None, Some(op.node.ty)),
            DocumentOperations::Multiple(ops) => match name {
                Some(name) => (None, ops.get(name).map(|op| op.node.ty)),
                None if ops.len() == 1 => ops.iter().next().map_or((None, None), |(n, op)| {
                    (Some(n.to_string()), Some(op.node.ty))
                }),
                None => (None, None),
            },
        };
        let kind = match ty {
            Some(OperationType::Query) => "query",
            Some(OperationType::Mutation) => "mutation",
            Some(OperationType::Subscription) => "subscription",
            None => "unknown",
        };
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some((name.map(str::to_owned).or(own_name), kind));
        }
    }
}

/// What the operations of one HTTP request have used so far (shared by the operations of a
/// batch).
#[derive(Debug, Clone, Default)]
pub struct RequestBudget(Arc<Mutex<Spent>>);

#[derive(Debug, Default)]
struct Spent {
    cost: u64,
    matching_leads: u64,
}

impl RequestBudget {
    /// Adds one operation's measure; refuses it when the request would go over a limit.
    fn spend(&self, measured: &Measure, max_cost: u64) -> Result<(), AppError> {
        let mut spent = self
            .0
            .lock()
            .map_err(|_| AppError::internal("request budget poisoned"))?;
        let cost = spent.cost.saturating_add(measured.cost);
        if cost > max_cost {
            return Err(AppError::QueryTooComplex { cost, max_cost });
        }
        let leads = spent.matching_leads.saturating_add(measured.matching_leads);
        if leads > 1 {
            return Err(AppError::bad_input(
                "matchingLeads",
                "matchingAccounts, matchingContacts and matchingLeads may be asked on one lead \
                 per request; this request asks them on several (other operations of the batch \
                 included): ask for them on lead(id:) one lead at a time",
            ));
        }
        spent.cost = cost;
        spent.matching_leads = leads;
        Ok(())
    }
}

/// A field's declared type, as the model needs it.
#[derive(Debug, Clone)]
struct FieldShape {
    /// The named type at the bottom of lists and non-nulls.
    ty: String,
    list: bool,
    takes_first: bool,
}

/// The object and interface fields of the schema, read from its SDL.
#[derive(Debug, Default)]
pub struct SchemaShape {
    fields: HashMap<String, HashMap<String, FieldShape>>,
    query: String,
    mutation: String,
    subscription: String,
}

impl SchemaShape {
    /// Reads the fields from `sdl` (the schema's own, from `Schema::sdl`).
    pub fn from_sdl(sdl: &str) -> Result<Self, AppError> {
        let document = async_graphql::parser::parse_schema(sdl)
            .map_err(|e| AppError::internal(format!("cannot read the schema's SDL: {e}")))?;
        let mut shape = Self {
            query: "Query".to_owned(),
            mutation: "Mutation".to_owned(),
            subscription: "Subscription".to_owned(),
            ..Self::default()
        };
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    if let Some(q) = schema.query {
                        shape.query = q.node.to_string();
                    }
                    if let Some(m) = schema.mutation {
                        shape.mutation = m.node.to_string();
                    }
                    if let Some(s) = schema.subscription {
                        shape.subscription = s.node.to_string();
                    }
                }
                TypeSystemDefinition::Type(ty) => {
                    let ty = ty.node;
                    let fields = match ty.kind {
                        TypeKind::Object(object) => object.fields,
                        TypeKind::Interface(interface) => interface.fields,
                        _ => continue,
                    };
                    let fields = fields
                        .into_iter()
                        .map(|f| {
                            let f = f.node;
                            let takes_first =
                                f.arguments.iter().any(|a| a.node.name.node == "first");
                            let (named, list) = named_type(&f.ty.node);
                            (
                                f.name.node.to_string(),
                                FieldShape {
                                    ty: named,
                                    list,
                                    takes_first,
                                },
                            )
                        })
                        .collect();
                    shape.fields.insert(ty.name.node.to_string(), fields);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        Ok(shape)
    }

    fn field(&self, ty: &str, name: &str) -> Option<&FieldShape> {
        self.fields.get(ty).and_then(|fields| fields.get(name))
    }
}

fn named_type(ty: &Type) -> (String, bool) {
    match &ty.base {
        BaseType::Named(name) => (name.to_string(), false),
        BaseType::List(inner) => (named_type(inner).0, true),
    }
}

/// The measure of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measure {
    /// The cost, by the formula of this module.
    pub cost: u64,
    /// On how many leads `matching*` lookups may run.
    pub matching_leads: u64,
}

/// Measures the operation of `document` that a request with `operation_name` runs (all
/// operations when it cannot be told which); refuses `matching*` where it is not allowed.
pub fn measure(
    shape: &SchemaShape,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Result<Measure, AppError> {
    let operations: Vec<&Positioned<OperationDefinition>> = match &document.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => match operation_name.and_then(|n| ops.get(n)) {
            Some(op) => vec![op],
            None => ops.values().collect(),
        },
    };
    let mut total = Measure::default();
    for operation in operations {
        let operation = &operation.node;
        let mut variables = variables.clone();
        for definition in &operation.variable_definitions {
            let definition = &definition.node;
            if !variables.contains_key(&definition.name.node)
                && let Some(default) = &definition.default_value
            {
                variables.insert(definition.name.node.clone(), default.node.clone());
            }
        }
        let root = match operation.ty {
            OperationType::Query => &shape.query,
            OperationType::Mutation => &shape.mutation,
            OperationType::Subscription => &shape.subscription,
        };
        let mut walk = Walk {
            shape,
            document,
            variables: &variables,
            matching: HashMap::new(),
        };
        let cost = walk.selection_set(&operation.selection_set.node, root, &Place::root(), 0)?;
        total.cost = total.cost.saturating_add(cost);
        total.matching_leads = total
            .matching_leads
            .saturating_add(walk.matching.values().sum());
    }
    Ok(total)
}

/// Where in the response a selection set sits.
#[derive(Debug, Clone)]
struct Place {
    /// Response keys from the root.
    path: String,
    /// How many objects this selection set can run on (the product of the lists above it).
    objects: u64,
    /// The page size of the connection this selection set belongs to.
    page: u64,
    /// Inside a `matching*` list.
    in_matching: bool,
}

impl Place {
    fn root() -> Self {
        Self {
            path: String::new(),
            objects: 1,
            page: DEFAULT_PAGE_SIZE,
            in_matching: false,
        }
    }
}

struct Walk<'a> {
    shape: &'a SchemaShape,
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Parent path of each `matching*` selection → how many leads it can run on.
    matching: HashMap<String, u64>,
}

impl Walk<'_> {
    fn selection_set(
        &mut self,
        set: &SelectionSet,
        ty: &str,
        place: &Place,
        depth: usize,
    ) -> Result<u64, AppError> {
        if depth > MAX_WALK_DEPTH {
            return Err(AppError::bad_input(
                "query",
                format!("selections may be nested at most {MAX_WALK_DEPTH} deep"),
            ));
        }
        let mut cost: u64 = 0;
        for item in &set.items {
            let item_cost = match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let key = field.alias.as_ref().map_or(name, |a| a.node.as_str());
                    if name.starts_with("__") {
                        // Introspection: counted field by field, without multipliers.
                        1 + self.selection_set(&field.selection_set.node, "", place, depth + 1)?
                    } else {
                        self.field(field, name, key, ty, place, depth)?
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    match self.document.fragments.get(name) {
                        Some(fragment) => {
                            let on = fragment.node.type_condition.node.on.node.to_string();
                            self.selection_set(
                                &fragment.node.selection_set.node,
                                &on,
                                place,
                                depth + 1,
                            )?
                        }
                        None => 0, // the validator reports the unknown fragment
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or_else(|| ty.to_owned(), |c| c.node.on.node.to_string());
                    self.selection_set(&fragment.node.selection_set.node, &on, place, depth + 1)?
                }
            };
            cost = cost.saturating_add(item_cost);
        }
        Ok(cost)
    }

    fn field(
        &mut self,
        field: &async_graphql::parser::types::Field,
        name: &str,
        key: &str,
        ty: &str,
        place: &Place,
        depth: usize,
    ) -> Result<u64, AppError> {
        let Some(shape) = self.shape.field(ty, name).cloned() else {
            // Unknown here (a union's member through `__typename`, or a field the validator
            // will refuse): a leaf.
            return Ok(1);
        };
        let argument = |arg: &str| -> Option<Value> {
            field.get_argument(arg).map(|value| {
                value
                    .node
                    .clone()
                    .into_const_with(|var| {
                        Ok::<_, std::convert::Infallible>(
                            self.variables.get(&var).cloned().unwrap_or(Value::Null),
                        )
                    })
                    .unwrap_or(Value::Null)
            })
        };
        let first = || -> u64 {
            match argument("first") {
                Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
                _ if name == "notes" => DEFAULT_NOTES_PAGE,
                _ => DEFAULT_PAGE_SIZE,
            }
        };
        let mut extra = 0;
        let searches = match (argument("search"), argument("filter")) {
            (Some(Value::String(s)), _) => !s.trim().is_empty(),
            (_, Some(Value::Object(filter))) => {
                matches!(filter.get("text"), Some(Value::String(s)) if !s.trim().is_empty())
            }
            _ => false,
        };
        if searches {
            extra += TEXT_SEARCH_COST;
        }
        let multiplier = if !shape.list {
            1
        } else if shape.takes_first {
            first()
        } else if name == "edges" || name == "nodes" {
            place.page
        } else {
            list_cap(ty, name)
        };
        let matching = ty == "Lead" && name.starts_with("matching");
        if matching {
            if place.in_matching {
                return Err(AppError::bad_input(
                    name,
                    format!(
                        "{name} cannot be asked inside another matching list: each lookup \
                         returns up to {MATCH_CAP} records"
                    ),
                ));
            }
            if place.objects > 1 {
                return Err(AppError::bad_input(
                    name,
                    format!(
                        "{name} may be asked on one lead per request, not on a list of up to {} \
                         leads: ask for it on lead(id:)",
                        place.objects
                    ),
                ));
            }
            self.matching.insert(place.path.clone(), place.objects);
        }
        let child = Place {
            path: format!("{}.{key}", place.path),
            objects: place.objects.saturating_mul(multiplier),
            page: if shape.ty.ends_with("Connection") {
                first()
            } else {
                place.page
            },
            in_matching: place.in_matching || matching,
        };
        let children =
            self.selection_set(&field.selection_set.node, &shape.ty, &child, depth + 1)?;
        Ok(1u64
            .saturating_add(extra)
            .saturating_add(multiplier.saturating_mul(children)))
    }
}

/// The size of a list without `first`: its real bound where the rules give one (five published
/// duplicate rules per record type, five opportunities per qualification, three roles, ...),
/// else an assumption ([`UNBOUNDED_LIST`] for records, [`SMALL_LIST`] for the rest).
fn list_cap(ty: &str, name: &str) -> u64 {
    match (ty, name) {
        ("Lead", "matchingAccounts" | "matchingContacts" | "matchingLeads") => MATCH_CAP,
        ("CreateLeadPayload", "possibleDuplicates") => MATCH_CAP,
        ("DuplicateReport", "accounts" | "contacts") => MATCH_CAP,
        // One result per listed lead: bounded by LEADQ_MAX_BULK_LEADS and the response cap,
        // not by this model (a full 10,000-lead answer must go through).
        ("QualifyLeadsPayload", "results") => 1,
        ("Account", "contacts" | "opportunities") => UNBOUNDED_LIST,
        (_, "auditEvents" | "fieldMappings" | "duplicateRules") => UNBOUNDED_LIST,
        (_, "rules") => 5,
        (_, "opportunities" | "warnings" | "requiredChoices") => 10,
        (_, "roles" | "options") => 3,
        _ => SMALL_LIST,
    }
}

/// The cost-model extension: measures each operation when it is parsed and charges the request's
/// [`RequestBudget`].
pub struct CostLimit {
    shape: Arc<SchemaShape>,
    max_cost: u64,
    max_depth: usize,
    introspection: bool,
}

impl CostLimit {
    /// The extension for a schema of this `shape`, refusing requests above `max_cost`, nested
    /// deeper than `max_depth` ([`check_depth`]) or with more than [`MAX_ALIASES`] aliases, and
    /// introspection unless `introspection`.
    pub fn new(
        shape: Arc<SchemaShape>,
        max_cost: u64,
        max_depth: usize,
        introspection: bool,
    ) -> Self {
        Self {
            shape,
            max_cost,
            max_depth,
            introspection,
        }
    }
}

impl ExtensionFactory for CostLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostLimitExtension {
            shape: self.shape.clone(),
            max_cost: self.max_cost,
            max_depth: self.max_depth,
            introspection: self.introspection,
        })
    }
}

struct CostLimitExtension {
    shape: Arc<SchemaShape>,
    max_cost: u64,
    max_depth: usize,
    introspection: bool,
}

#[async_graphql::async_trait::async_trait]
impl Extension for CostLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let operation = ctx
            .data_opt::<SelectedOperation>()
            .and_then(|o| o.0.as_deref());
        if let Some(parsed) = ctx.data_opt::<ParsedOperation>() {
            parsed.set(&document, operation);
        }
        check_document(&document, self.introspection)?;
        let measured = measure(&self.shape, &document, operation, variables)
            .map_err(|e| e.to_server_error())?;
        check_depth(&document, operation, self.max_depth)?;
        let own;
        let budget = match ctx.data_opt::<RequestBudget>() {
            Some(budget) => budget,
            None => {
                own = RequestBudget::default();
                &own
            }
        };
        budget
            .spend(&measured, self.max_cost)
            .map_err(|e| e.to_server_error())?;
        Ok(document)
    }
}

/// The large text of one request's answer so far (note texts and subjects, descriptions),
/// counted while resolvers run so that an answer over the response cap stops growing long
/// before it is serialized.
#[derive(Debug, Clone)]
pub struct ResponseBytes(Arc<ResponseBytesInner>);

#[derive(Debug)]
struct ResponseBytesInner {
    used: std::sync::atomic::AtomicUsize,
    max: usize,
}

impl ResponseBytes {
    /// A counter for an answer of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self(Arc::new(ResponseBytesInner {
            used: std::sync::atomic::AtomicUsize::new(0),
            max,
        }))
    }

    /// Adds `bytes` to the answer; `RESPONSE_TOO_LARGE` once over the cap.
    pub fn charge(&self, bytes: usize) -> Result<(), AppError> {
        use std::sync::atomic::Ordering;
        let used = self.0.used.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if used > self.0.max {
            Err(AppError::ResponseTooLarge {
                max_bytes: self.0.max,
            })
        } else {
            Ok(())
        }
    }

    /// Whether the answer went over the cap.
    pub fn exceeded(&self) -> bool {
        self.0.used.load(std::sync::atomic::Ordering::Relaxed) > self.0.max
    }
}

/// What a byte of note text costs of the response budget: while an answer is built, a note's
/// text is held three times (the loaded page of each alias, the answer's value tree, the
/// serialized body), so the budget counts it thrice. Measured with the `abuse` benchmark: 30
/// aliases of ten 100 KB notes took the server from 41 to 176 MB counted once.
pub const NOTE_TEXT_WEIGHT: usize = 3;

/// Charges `text`'s length × `weight` to the request's [`ResponseBytes`] (when the request has
/// one) and returns it: the resolvers of large text fields go through this.
pub fn charged<'a>(
    ctx: &async_graphql::Context<'_>,
    text: Option<&'a str>,
    weight: usize,
) -> async_graphql::Result<Option<&'a str>> {
    if let (Some(text), Some(bytes)) = (text, ctx.data_opt::<ResponseBytes>()) {
        bytes.charge(text.len().saturating_mul(weight))?;
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> SchemaShape {
        SchemaShape::from_sdl(&crate::graphql::schema::sdl()).unwrap()
    }

    fn cost(query: &str) -> Result<Measure, AppError> {
        let document = async_graphql::parser::parse_query(query).unwrap();
        measure(&shape(), &document, None, &Variables::default())
    }

    #[test]
    fn lists_multiply_their_children() {
        assert_eq!(cost("{ me { id name } }").unwrap().cost, 3);
        // leads(1) + edges(1 + 10 × (node 1 + id 1 + topic 1))
        assert_eq!(
            cost("{ leads(first: 10) { edges { node { id topic } } } }")
                .unwrap()
                .cost,
            1 + 1 + 10 * 3
        );
        // Without `first`, the default page.
        assert_eq!(
            cost("{ leads { edges { node { id } } } }").unwrap().cost,
            1 + 1 + DEFAULT_PAGE_SIZE * 2
        );
        let one = cost("{ lead(id: \"x\") { matchingLeads { lead { id } } } }").unwrap();
        assert_eq!(one.cost, 1 + 1 + MATCH_CAP * 2);
        assert_eq!(one.matching_leads, 1);
        let search = cost("{ leads(first: 0, filter: { text: \"x\" }) { totalCount } }").unwrap();
        assert_eq!(search.cost, 1 + TEXT_SEARCH_COST + 1);
    }

    #[test]
    fn aliases_fragments_and_variables_count() {
        let aliased = cost("{ a: me { id } b: me { id } }").unwrap().cost;
        assert_eq!(aliased, 4);
        let fragment =
            cost("query { leads(first: 5) { ...page } } fragment page on LeadConnection { edges { node { id } } }")
                .unwrap()
                .cost;
        assert_eq!(fragment, 1 + 1 + 5 * 2);
        let document = async_graphql::parser::parse_query(
            "query($n: Int = 7) { leads(first: $n) { edges { node { id } } } }",
        )
        .unwrap();
        let by_default = measure(&shape(), &document, None, &Variables::default()).unwrap();
        assert_eq!(by_default.cost, 1 + 1 + 7 * 2);
        let given = Variables::from_json(serde_json::json!({ "n": 3 }));
        assert_eq!(
            measure(&shape(), &document, None, &given).unwrap().cost,
            1 + 1 + 3 * 2
        );
    }

    #[test]
    fn matching_is_refused_on_lists_and_nested() {
        let nested = cost(
            "{ lead(id: \"x\") { matchingLeads { lead { matchingLeads { lead { id } } } } } }",
        )
        .unwrap_err();
        assert_eq!(nested.code(), "BAD_USER_INPUT");
        let listed =
            cost("{ leads(first: 2) { edges { node { matchingAccounts { account { id } } } } } }")
                .unwrap_err();
        assert_eq!(listed.code(), "BAD_USER_INPUT");
        let two = cost(
            "{ a: lead(id: \"x\") { matchingLeads { lead { id } } } b: lead(id: \"y\") { matchingContacts { contact { id } } } }",
        )
        .unwrap();
        assert_eq!(two.matching_leads, 2);
        let budget = RequestBudget::default();
        assert_eq!(
            budget.spend(&two, DEFAULT_MAX_COST).unwrap_err().code(),
            "BAD_USER_INPUT"
        );
        let same_lead = cost(
            "{ lead(id: \"x\") { matchingLeads { lead { id } } matchingAccounts { account { id } } } }",
        )
        .unwrap();
        assert_eq!(same_lead.matching_leads, 1);
    }

    #[test]
    fn a_budget_is_shared_by_the_operations_of_a_batch() {
        let budget = RequestBudget::default();
        let op = Measure {
            cost: 600,
            matching_leads: 0,
        };
        assert!(budget.spend(&op, 1_000).is_ok());
        assert_eq!(
            budget.spend(&op, 1_000).unwrap_err().code(),
            "QUERY_TOO_COMPLEX"
        );
    }
}
