//! The evaluator: console expressions to values, against a container.
//!
//! [`Evaluator::eval`] walks an [`Expr`] and calls the toolkit: names
//! resolve to local variables, then to what the console knows
//! (`MAIN_CONTAINER`, `container` and `rom` for the container, bare
//! relation names, `factories`, `Time`), and method calls map ROM's
//! spellings to ferrom's through one table, [`RELATION_METHODS`]:
//!
//! | console (ROM) | ferrom | returns |
//! |---|---|---|
//! | `where(a: 1, b: [1, 2], c: nil)`, `filter(...)` | [`Relation::filter`] (`=`, `IN`, `IS NULL`; `company: {name: 'x'}` is `company.name` after a join) | relation |
//! | `exclude(...)` | [`Relation::exclude`] | relation |
//! | `order(:id, created_at: :desc, Sequel.desc(:url), :name.desc)` | [`Relation::order`] | relation |
//! | `reverse`, `unordered`, `limit(n)`, `offset(n)`, `distinct`, `page(n)`, `per_page(n)` | the same names | relation |
//! | `select(:a, :b)`, `project(...)`, `select_append(...)`, `group(...)` | the same names | relation |
//! | `join(:company)`, `inner_join(...)`, `left_join(...)` | [`Relation::join`], [`Relation::left_join`] | relation |
//! | `lock`, `lock(mode: :share, skip_locked: true)` | [`Relation::lock`] | relation |
//! | `by_pk(1)`, `by_pk([1, 2])` | [`Relation::by_pk`] | relation |
//! | `combine(:posts)`, `combine(posts: :comments)`, `wrap(:company)`, `assoc(:posts)` | [`Relation::combine`], [`Relation::wrap`], [`Relation::assoc`] | relation |
//! | a view's name: `by_url('http://example.com/a')` | [`Relation::view`] | relation |
//! | `to_a` | [`Relation::to_vec`] | rows |
//! | `first`, `last`, `one` | the same names | a row or `nil` |
//! | `one!` | [`Relation::one_strict`] | a row |
//! | `fetch(1)` | [`Relation::fetch_pk`] | a row |
//! | `count`, `exist?` | [`Relation::count`], [`Relation::exists`] | a value |
//! | `pluck(:url)`, `pluck(:id, :url)` | [`Relation::pluck`], [`Relation::pluck_many`] | a list |
//! | `sum(:a)`, `min`, `max`, `avg` | the same names | a value |
//! | `to_sql` | [`Relation::to_sql`] | a string |
//! | `read('SELECT ...', binds...)` | [`Relation::read`] | rows |
//! | `command(:create)` | [`Relation::command`] | a command |
//!
//! A command is called with `call(name: 'x', ...)` (one tuple),
//! `call([{...}, {...}])` (several) or `call()` (a delete), and `by_pk(1)`
//! restricts it. The container answers `relations[:name]`,
//! `commands[:rel][:name]`, `gateways[:default].connection.schema(:table)`;
//! `factories[:name, :trait, attr: value]` creates a row and
//! `factories.structs[:name]` builds one in memory.
//!
//! A relation is a value: it runs only when it is read, or when it is the
//! result of a statement and the console prints its rows. In a sandbox
//! every relation (and so every command and factory) is bound to the
//! session's transaction. In production, an update or delete of more than
//! one row, or of a whole relation, asks first (see [`Confirm`]).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use chrono::{NaiveDateTime, Utc};

use crate::command::{Command, CommandKind, CommandOutput, Input, Tuple};
use crate::container::{Configuration, Container};
use crate::error::Error;
use crate::factory::Factories;
use crate::relation::{LockMode, LockWait, OrderKey, Relation, attr};
use crate::row::{Nested, Row};
use crate::settings::Settings;
use crate::transaction::Transaction;
use crate::value::Value;
use crate::{Condition, Result as FerromResult};

use super::ast::Expr;
use super::print::ConsoleValue;

/// Builds the application's configuration from the settings (the
/// reference application's `post_analytics::configuration`).
pub type ConfigureFn = fn(&Settings) -> Configuration;

/// Defines the application's factories in a registry (the reference
/// application's `post_analytics::factories::define`).
pub type DefineFactoriesFn = fn(&mut Factories) -> FerromResult<()>;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an expression evaluates to.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Val {
    /// A scalar: `nil`, booleans, numbers, strings, times, JSON, database
    /// values.
    Value(Value),
    /// A symbol (`:posts`).
    Symbol(String),
    /// An array.
    Array(Vec<Val>),
    /// A hash, its pairs in order.
    Hash(Vec<(Val, Val)>),
    /// One row.
    Row(Row),
    /// Rows.
    Rows(Vec<Row>),
    /// A relation (not read yet).
    Relation(Relation),
    /// A command.
    Command(Command),
    /// The container (`MAIN_CONTAINER`).
    Container,
    /// `container.relations`.
    Relations,
    /// `container.commands`.
    Commands,
    /// `container.commands[:relation]`.
    CommandsOf(String),
    /// `container.gateways`.
    Gateways,
    /// `container.gateways[:name]`.
    Gateway(String),
    /// `gateways[:name].connection`.
    Connection(String),
    /// `factories`.
    Factories,
    /// `factories.structs`.
    FactoryStructs,
    /// The `Time` class.
    TimeClass,
    /// The `Sequel` module (`Sequel.desc(:id)`).
    SequelClass,
    /// An order key: `Sequel.desc(:id)`, `:id.desc`.
    Order {
        /// The attribute.
        attribute: String,
        /// Descending.
        descending: bool,
    },
}

impl Val {
    /// `nil`.
    pub const NIL: Val = Val::Value(Value::Null);

    fn int(i: i64) -> Val {
        Val::Value(Value::Int(i))
    }

    fn string(s: impl Into<String>) -> Val {
        Val::Value(Value::String(s.into()))
    }

    fn bool(b: bool) -> Val {
        Val::Value(Value::Bool(b))
    }

    fn symbols<I: IntoIterator<Item = S>, S: Into<String>>(names: I) -> Val {
        Val::Array(names.into_iter().map(|n| Val::Symbol(n.into())).collect())
    }

    /// What kind of thing it is, for completion and messages.
    pub fn kind(&self) -> Kind {
        match self {
            Val::Value(Value::DateTime(_)) => Kind::Time,
            Val::Value(_) => Kind::Scalar,
            Val::Symbol(_) => Kind::Symbol,
            Val::Array(_) => Kind::Array,
            Val::Hash(_) => Kind::Hash,
            Val::Row(r) => Kind::Row(r.columns().relation().to_string()),
            Val::Rows(rows) => Kind::Rows(
                rows.first()
                    .map(|r| r.columns().relation().to_string())
                    .unwrap_or_default(),
            ),
            Val::Relation(r) => Kind::Relation(r.name().to_string()),
            Val::Command(c) => Kind::Command(c.relation().name().to_string()),
            Val::Container => Kind::Container,
            Val::Relations => Kind::Relations,
            Val::Commands => Kind::Commands,
            Val::CommandsOf(r) => Kind::CommandsOf(r.clone()),
            Val::Gateways => Kind::Gateways,
            Val::Gateway(_) => Kind::Gateway,
            Val::Connection(_) => Kind::Connection,
            Val::Factories => Kind::Factories,
            Val::FactoryStructs => Kind::FactoryStructs,
            Val::TimeClass => Kind::TimeClass,
            Val::SequelClass => Kind::SequelClass,
            Val::Order { .. } => Kind::Order,
        }
    }

    /// How the value is named in messages: `relation posts`, `integer 1`.
    pub fn describe(&self) -> String {
        match self {
            Val::Value(v) => format!("{} {}", v.kind(), ConsoleValue::Value(v.clone()).inspect()),
            Val::Symbol(s) => format!("symbol {}", ConsoleValue::Symbol(s.clone()).inspect()),
            Val::Array(_) => "an array".into(),
            Val::Hash(_) => "a hash".into(),
            Val::Row(r) => format!("a row of {}", r.columns().relation()),
            Val::Rows(_) => "a list of rows".into(),
            Val::Relation(r) => format!("relation {}", r.name()),
            Val::Command(c) => format!("command {}.{}", c.relation().name(), c.name()),
            Val::Container => "the container".into(),
            Val::Relations => "the relation registry".into(),
            Val::Commands => "the command registry".into(),
            Val::CommandsOf(r) => format!("the commands of {r}"),
            Val::Gateways => "the gateway registry".into(),
            Val::Gateway(g) => format!("gateway {g}"),
            Val::Connection(g) => format!("the connection of gateway {g}"),
            Val::Factories => "factories".into(),
            Val::FactoryStructs => "factories.structs".into(),
            Val::TimeClass => "Time".into(),
            Val::SequelClass => "Sequel".into(),
            Val::Order { .. } => "an order key".into(),
        }
    }

    /// The value for printing. A relation inside a list or hash prints as
    /// an object; [`Evaluator::present`] prints a relation's rows.
    pub fn to_console(&self) -> ConsoleValue {
        match self {
            Val::Value(v) => ConsoleValue::Value(v.clone()),
            Val::Symbol(s) => ConsoleValue::Symbol(s.clone()),
            Val::Array(items) => ConsoleValue::List(items.iter().map(Val::to_console).collect()),
            Val::Hash(pairs) => ConsoleValue::Hash(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_console(), v.to_console()))
                    .collect(),
            ),
            Val::Row(r) => ConsoleValue::Row(r.clone()),
            Val::Rows(rows) => ConsoleValue::Rows(rows.clone()),
            Val::Relation(r) => ConsoleValue::object("ferrom::Relation", r.name()),
            Val::Command(c) => ConsoleValue::object(
                "ferrom::Command",
                &format!("{}.{} ({})", c.relation().name(), c.name(), c.kind()),
            ),
            Val::Container => ConsoleValue::object("ferrom::Container", ""),
            Val::Relations => ConsoleValue::object("ferrom::Container relations", ""),
            Val::Commands => ConsoleValue::object("ferrom::Container commands", ""),
            Val::CommandsOf(r) => ConsoleValue::object("ferrom::Container commands", r),
            Val::Gateways => ConsoleValue::object("ferrom::Container gateways", ""),
            Val::Gateway(g) => ConsoleValue::object("ferrom::Gateway", g),
            Val::Connection(g) => ConsoleValue::object("ferrom::Gateway connection", g),
            Val::Factories => ConsoleValue::object("ferrom::Factories", ""),
            Val::FactoryStructs => ConsoleValue::object("ferrom::Factories structs", ""),
            Val::TimeClass => ConsoleValue::Other("Time".into()),
            Val::SequelClass => ConsoleValue::Other("Sequel".into()),
            Val::Order {
                attribute,
                descending,
            } => ConsoleValue::object(
                "order",
                &format!("{attribute} {}", if *descending { "desc" } else { "asc" }),
            ),
        }
    }
}

/// What kind of thing an expression gives, known without running it:
/// what completion offers after a `.` and what messages name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// The container.
    Container,
    /// `relations`.
    Relations,
    /// `commands`.
    Commands,
    /// `commands[:rel]`.
    CommandsOf(String),
    /// `gateways`.
    Gateways,
    /// A gateway.
    Gateway,
    /// A gateway's connection.
    Connection,
    /// A relation of this name (empty when not known).
    Relation(String),
    /// A command of this relation.
    Command(String),
    /// A row of this relation.
    Row(String),
    /// Rows of this relation.
    Rows(String),
    /// `factories`.
    Factories,
    /// `factories.structs`.
    FactoryStructs,
    /// `Time`.
    TimeClass,
    /// A time.
    Time,
    /// `Sequel`.
    SequelClass,
    /// An order key.
    Order,
    /// A symbol.
    Symbol,
    /// An array.
    Array,
    /// A hash.
    Hash,
    /// Any other scalar.
    Scalar,
    /// Not known.
    Unknown,
}

/// What a relation method returns, for completion after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// Another relation (a builder method).
    Relation,
    /// Rows.
    Rows,
    /// A row (or `nil`).
    Row,
    /// A command.
    Command,
    /// Anything else.
    Value,
}

/// One relation method as the console knows it: its ROM spelling, the
/// ferrom method it maps to, its arguments and what it does. One table,
/// [`RELATION_METHODS`], drives evaluation, completion, suggestions and
/// `help`.
#[derive(Clone, Copy, Debug)]
pub struct Method {
    /// What is typed at the console (ROM's name).
    pub name: &'static str,
    /// The ferrom method it maps to.
    pub rust: &'static str,
    /// The arguments, as typed.
    pub args: &'static str,
    /// What it does.
    pub doc: &'static str,
    /// What it returns.
    pub returns: Returns,
}

const fn m(
    name: &'static str,
    rust: &'static str,
    args: &'static str,
    returns: Returns,
    doc: &'static str,
) -> Method {
    Method {
        name,
        rust,
        args,
        doc,
        returns,
    }
}

/// Every relation method the console knows, ROM's spelling first (see the
/// module docs).
pub const RELATION_METHODS: &[Method] = &[
    m(
        "where",
        "filter",
        "(attr: value, ...)",
        Returns::Relation,
        "rows where each attribute equals its value (an array: IN, nil: IS NULL)",
    ),
    m(
        "filter",
        "filter",
        "(attr: value, ...)",
        Returns::Relation,
        "same as where",
    ),
    m(
        "exclude",
        "exclude",
        "(attr: value, ...)",
        Returns::Relation,
        "rows not matching",
    ),
    m(
        "order",
        "order",
        "(:a, b: :desc, Sequel.desc(:c))",
        Returns::Relation,
        "order by these attributes (replaces the order)",
    ),
    m(
        "reverse",
        "reverse",
        "",
        Returns::Relation,
        "the order reversed",
    ),
    m(
        "unordered",
        "unordered",
        "",
        Returns::Relation,
        "no ORDER BY",
    ),
    m("limit", "limit", "(n)", Returns::Relation, "at most n rows"),
    m(
        "offset",
        "offset",
        "(n)",
        Returns::Relation,
        "skip the first n rows",
    ),
    m(
        "select",
        "select",
        "(:a, :b)",
        Returns::Relation,
        "only these attributes",
    ),
    m(
        "project",
        "project",
        "(:a, :b)",
        Returns::Relation,
        "same as select",
    ),
    m(
        "select_append",
        "select_append",
        "(:\"company.name\")",
        Returns::Relation,
        "add attributes (of a joined association too)",
    ),
    m(
        "distinct",
        "distinct",
        "",
        Returns::Relation,
        "distinct rows",
    ),
    m(
        "group",
        "group",
        "(:a)",
        Returns::Relation,
        "group by these attributes",
    ),
    m(
        "join",
        "join",
        "(:association)",
        Returns::Relation,
        "inner join through an association",
    ),
    m(
        "inner_join",
        "join",
        "(:association)",
        Returns::Relation,
        "same as join",
    ),
    m(
        "left_join",
        "left_join",
        "(:association)",
        Returns::Relation,
        "left join through an association",
    ),
    m(
        "lock",
        "lock",
        "(mode: :update|:share, nowait: true, skip_locked: true)",
        Returns::Relation,
        "lock the rows read (in a transaction)",
    ),
    m(
        "page",
        "page",
        "(n)",
        Returns::Relation,
        "page n (1-based) of per_page rows",
    ),
    m(
        "per_page",
        "per_page",
        "(n)",
        Returns::Relation,
        "rows per page",
    ),
    m(
        "by_pk",
        "by_pk",
        "(key)",
        Returns::Relation,
        "the row with this primary key",
    ),
    m(
        "combine",
        "combine",
        "(:posts, posts: :comments)",
        Returns::Relation,
        "eager-load associations, nested under each row",
    ),
    m(
        "wrap",
        "wrap",
        "(:company)",
        Returns::Relation,
        "embed a to-one association through a join",
    ),
    m(
        "assoc",
        "assoc",
        "(:posts)",
        Returns::Relation,
        "the associated rows, as a relation",
    ),
    m(
        "unfiltered",
        "unfiltered",
        "",
        Returns::Relation,
        "the relation as registered",
    ),
    m("to_a", "to_vec", "", Returns::Rows, "every row"),
    m("to_vec", "to_vec", "", Returns::Rows, "same as to_a"),
    m("first", "first", "", Returns::Row, "the first row, or nil"),
    m("last", "last", "", Returns::Row, "the last row, or nil"),
    m(
        "one",
        "one",
        "",
        Returns::Row,
        "the one row, or nil (an error when there are several)",
    ),
    m(
        "one!",
        "one_strict",
        "",
        Returns::Row,
        "exactly one row (an error otherwise)",
    ),
    m(
        "fetch",
        "fetch_pk",
        "(key)",
        Returns::Row,
        "the row with this primary key (an error when there is none)",
    ),
    m("count", "count", "", Returns::Value, "how many rows"),
    m(
        "exist?",
        "exists",
        "",
        Returns::Value,
        "whether there is any row",
    ),
    m("exists?", "exists", "", Returns::Value, "same as exist?"),
    m(
        "pluck",
        "pluck / pluck_many",
        "(:a) or (:a, :b)",
        Returns::Value,
        "one attribute of every row (several: a list per row)",
    ),
    m("sum", "sum", "(:a)", Returns::Value, "SUM(a)"),
    m("min", "min", "(:a)", Returns::Value, "MIN(a)"),
    m("max", "max", "(:a)", Returns::Value, "MAX(a)"),
    m("avg", "avg", "(:a)", Returns::Value, "AVG(a)"),
    m(
        "to_sql",
        "to_sql",
        "",
        Returns::Value,
        "the SQL it runs (? for bound values)",
    ),
    m(
        "read",
        "read",
        "('SELECT ...', binds...)",
        Returns::Rows,
        "run raw SQL on the relation's gateway",
    ),
    m(
        "command",
        "command",
        "(:create)",
        Returns::Command,
        "a registered command, acting on this relation",
    ),
    m(
        "commands",
        "command_names",
        "",
        Returns::Value,
        "the registered commands' names",
    ),
    m("name", "name", "", Returns::Value, "the relation's name"),
    m(
        "attributes",
        "schema().attribute_names",
        "",
        Returns::Value,
        "the attributes' names",
    ),
    m(
        "schema",
        "schema",
        "",
        Returns::Value,
        "the attributes with their types",
    ),
    m(
        "views",
        "view_names",
        "",
        Returns::Value,
        "the views' names",
    ),
    m(
        "associations",
        "schema().associations",
        "",
        Returns::Value,
        "the associations' names",
    ),
];

/// Methods of a command.
pub const COMMAND_METHODS: &[&str] = &["call", "by_pk", "name", "kind", "relation"];
/// Methods of the container.
pub const CONTAINER_METHODS: &[&str] = &[
    "relations",
    "commands",
    "gateways",
    "relation",
    "command",
    "gateway",
];
/// Methods of a gateway.
pub const GATEWAY_METHODS: &[&str] = &["connection", "database", "server", "url"];
/// Methods of a gateway's connection.
pub const CONNECTION_METHODS: &[&str] = &["schema", "tables", "fetch"];
/// Methods of `factories`.
pub const FACTORIES_METHODS: &[&str] = &["structs", "create", "build", "names", "traits", "seed"];
/// Methods of a row.
pub const ROW_METHODS: &[&str] = &["to_h", "keys", "values", "fetch"];
/// Methods of a list (rows, arrays).
pub const LIST_METHODS: &[&str] = &["first", "last", "count", "size", "length", "empty?", "to_a"];
/// Methods of a hash.
pub const HASH_METHODS: &[&str] = &["keys", "values", "size", "count", "fetch", "to_h"];
/// Methods every value has.
pub const COMMON_METHODS: &[&str] = &["inspect", "nil?"];

/// The relation method typed as `name`, if the console knows it.
pub fn relation_method(name: &str) -> Option<&'static Method> {
    RELATION_METHODS.iter().find(|m| m.name == name)
}

/// What the console knows about the container, for completion and help.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Every relation, by name.
    pub relations: BTreeMap<String, RelationInfo>,
    /// The factories' names.
    pub factories: Vec<String>,
    /// The relation each factory writes to.
    pub factory_relations: BTreeMap<String, String>,
    /// The gateways' names.
    pub gateways: Vec<String>,
    /// The local variables and what they hold.
    pub vars: BTreeMap<String, Kind>,
}

/// One relation's names: attributes, views, associations, commands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelationInfo {
    /// Attribute names, in order.
    pub attributes: Vec<String>,
    /// View names with their number of arguments.
    pub views: Vec<String>,
    /// Associations: name and target relation.
    pub associations: Vec<(String, String)>,
    /// Registered command names.
    pub commands: Vec<String>,
}

impl Catalog {
    /// The catalog of a container (and its factories).
    pub fn of(container: &Container, factories: Option<&Factories>) -> Catalog {
        let relations = container
            .relations()
            .iter()
            .map(|(name, r)| {
                let info = RelationInfo {
                    attributes: r
                        .schema()
                        .attribute_names()
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                    views: r.view_names().into_iter().map(str::to_string).collect(),
                    associations: r
                        .schema()
                        .associations()
                        .iter()
                        .map(|a| (a.name.clone(), a.target.clone()))
                        .collect(),
                    commands: r.command_names(),
                };
                (name.clone(), info)
            })
            .collect();
        Catalog {
            relations,
            factories: factories
                .map(|f| f.names().into_iter().map(str::to_string).collect())
                .unwrap_or_default(),
            factory_relations: factories
                .map(|f| {
                    f.names()
                        .into_iter()
                        .filter_map(|n| Some((n.to_string(), f.relation_of(n).ok()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            gateways: container.gateways().keys().cloned().collect(),
            vars: BTreeMap::new(),
        }
    }

    /// The names a bare word can be: variables, relations, the container's
    /// names and methods, `factories`.
    pub fn top_level_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.vars.keys().cloned().collect();
        names.extend(self.relations.keys().cloned());
        names.extend(
            [
                "container",
                "rom",
                "factories",
                "relations",
                "commands",
                "gateways",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        names
    }

    /// The methods a value of `kind` answers.
    pub fn methods(&self, kind: &Kind) -> Vec<String> {
        let own: Vec<String> = match kind {
            Kind::Container => strings(CONTAINER_METHODS),
            Kind::Relations => self.relations.keys().cloned().collect(),
            Kind::Commands => self.relations.keys().cloned().collect(),
            Kind::CommandsOf(r) => self
                .relations
                .get(r)
                .map(|i| i.commands.clone())
                .unwrap_or_default(),
            Kind::Gateways => self.gateways.clone(),
            Kind::Gateway => strings(GATEWAY_METHODS),
            Kind::Connection => strings(CONNECTION_METHODS),
            Kind::Relation(name) => {
                let mut v: Vec<String> = RELATION_METHODS
                    .iter()
                    .map(|m| m.name.to_string())
                    .collect();
                if let Some(info) = self.relations.get(name) {
                    v.extend(info.views.iter().cloned());
                }
                v
            }
            Kind::Command(_) => strings(COMMAND_METHODS),
            Kind::Row(rel) => {
                let mut v = strings(ROW_METHODS);
                if let Some(info) = self.relations.get(rel) {
                    v.extend(info.attributes.iter().cloned());
                    v.extend(info.associations.iter().map(|(a, _)| a.clone()));
                }
                v
            }
            Kind::Rows(_) | Kind::Array => strings(LIST_METHODS),
            Kind::Hash => strings(HASH_METHODS),
            Kind::Factories => strings(FACTORIES_METHODS),
            Kind::FactoryStructs => Vec::new(),
            Kind::TimeClass => vec!["now".into()],
            Kind::Time => vec!["utc".into(), "to_s".into(), "iso8601".into()],
            Kind::SequelClass => vec!["desc".into(), "asc".into()],
            Kind::Symbol => vec!["desc".into(), "asc".into(), "to_s".into()],
            Kind::Order | Kind::Scalar => vec!["to_s".into()],
            Kind::Unknown => Vec::new(),
        };
        let mut all = own;
        all.extend(strings(COMMON_METHODS));
        all
    }

    /// The kind a call of `method` on a value of `kind` returns (what
    /// completion offers next).
    pub fn call_kind(&self, kind: &Kind, method: &str) -> Kind {
        match kind {
            Kind::Container => match method {
                "relations" => Kind::Relations,
                "commands" => Kind::Commands,
                "gateways" => Kind::Gateways,
                _ => Kind::Unknown,
            },
            Kind::Relations if self.relations.contains_key(method) => {
                Kind::Relation(method.to_string())
            }
            Kind::Commands if self.relations.contains_key(method) => {
                Kind::CommandsOf(method.to_string())
            }
            Kind::CommandsOf(r) => Kind::Command(r.clone()),
            Kind::Gateways => Kind::Gateway,
            Kind::Gateway if method == "connection" => Kind::Connection,
            Kind::Relation(name) => {
                if method == "assoc" {
                    return Kind::Relation(String::new());
                }
                let is_view = self
                    .relations
                    .get(name)
                    .is_some_and(|i| i.views.iter().any(|v| v == method));
                if is_view {
                    return Kind::Relation(name.clone());
                }
                match relation_method(method).map(|m| m.returns) {
                    Some(Returns::Relation) => Kind::Relation(name.clone()),
                    Some(Returns::Rows) => Kind::Rows(name.clone()),
                    Some(Returns::Row) => Kind::Row(name.clone()),
                    Some(Returns::Command) => Kind::Command(name.clone()),
                    _ => Kind::Unknown,
                }
            }
            Kind::Command(r) if method == "by_pk" => Kind::Command(r.clone()),
            Kind::Command(r) if method == "call" => Kind::Row(r.clone()),
            Kind::Rows(r) if matches!(method, "first" | "last") => Kind::Row(r.clone()),
            Kind::Factories if method == "structs" => Kind::FactoryStructs,
            Kind::TimeClass if method == "now" => Kind::Time,
            Kind::SequelClass | Kind::Symbol if matches!(method, "desc" | "asc") => Kind::Order,
            _ => Kind::Unknown,
        }
    }

    /// The kind `receiver[:key]` returns.
    pub fn index_kind(&self, kind: &Kind, key: Option<&str>) -> Kind {
        match (kind, key) {
            (Kind::Relations, Some(k)) => Kind::Relation(k.to_string()),
            (Kind::Commands, Some(k)) => Kind::CommandsOf(k.to_string()),
            (Kind::CommandsOf(r), _) => Kind::Command(r.clone()),
            (Kind::Gateways, _) => Kind::Gateway,
            (Kind::Rows(r), _) => Kind::Row(r.clone()),
            (Kind::Factories | Kind::FactoryStructs, Some(f)) => {
                let relation = self.factory_relation(f);
                Kind::Row(relation)
            }
            _ => Kind::Unknown,
        }
    }

    fn factory_relation(&self, factory: &str) -> String {
        self.factory_relations
            .get(factory)
            .cloned()
            .unwrap_or_default()
    }

    /// The kind of an expression, without running it.
    pub fn infer(&self, expr: &Expr) -> Kind {
        match expr {
            Expr::Ident(name) => {
                if let Some(k) = self.vars.get(name) {
                    return k.clone();
                }
                if self.relations.contains_key(name) {
                    return Kind::Relation(name.clone());
                }
                match name.as_str() {
                    "container" | "rom" => Kind::Container,
                    "factories" => Kind::Factories,
                    other => self.call_kind(&Kind::Container, other),
                }
            }
            Expr::Const(name) => match name.as_str() {
                "MAIN_CONTAINER" => Kind::Container,
                "Time" => Kind::TimeClass,
                "Sequel" => Kind::SequelClass,
                _ => Kind::Unknown,
            },
            Expr::Symbol(_) => Kind::Symbol,
            Expr::Array(_) => Kind::Array,
            Expr::Hash(_) => Kind::Hash,
            Expr::Call {
                receiver: Some(r),
                method,
                ..
            } => self.call_kind(&self.infer(r), method),
            Expr::Call {
                receiver: None,
                method,
                ..
            } => self.call_kind(&Kind::Container, method),
            Expr::Index { receiver, args } => {
                let key = match args.first() {
                    Some(Expr::Symbol(s) | Expr::Str(s)) => Some(s.as_str()),
                    _ => None,
                };
                self.index_kind(&self.infer(receiver), key)
            }
            Expr::Assign { value, .. } => self.infer(value),
            _ => Kind::Scalar,
        }
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// An error at the console: one line, and a kind for JSON output
/// (`syntax`, `unknown_method`, `argument`, or the toolkit error's kind
/// such as `unknown_attribute`, `not_null`, `unique`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    /// A short, stable name for what went wrong.
    pub kind: String,
    /// The message, one line.
    pub message: String,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

impl EvalError {
    /// An error of this kind.
    pub fn new(kind: &str, message: impl Into<String>) -> EvalError {
        EvalError {
            kind: kind.to_string(),
            message: message.into(),
        }
    }

    fn argument(message: impl Into<String>) -> EvalError {
        EvalError::new("argument", message)
    }

    /// An unknown method, with the closest known names.
    pub fn unknown_method(method: &str, receiver: &Val, known: &[String]) -> EvalError {
        let mut message = format!("undefined method `{method}` for {}", receiver.describe());
        message.push_str(&suggestion(method, known));
        EvalError::new("unknown_method", message)
    }
}

impl From<Error> for EvalError {
    fn from(e: Error) -> Self {
        let message = one_line(&super::super::cli::render_error(&e));
        let message = message
            .strip_prefix("error: ")
            .unwrap_or(&message)
            .to_string();
        EvalError {
            kind: error_kind(&e),
            message,
        }
    }
}

/// A message on one line (causes joined with `: `).
fn one_line(text: &str) -> String {
    text.lines()
        .map(|l| l.trim().trim_start_matches("caused by: "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

/// The error variant's name in snake case (`UnknownAttribute` is
/// `unknown_attribute`).
pub fn error_kind(e: &Error) -> String {
    let debug = format!("{e:?}");
    let name: String = debug
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    if out.is_empty() { "error".into() } else { out }
}

/// `; did you mean `x`?` for the known names closest to `typed`, or
/// `; known: a, b, c` when none is close (nothing when there are none).
pub fn suggestion(typed: &str, known: &[String]) -> String {
    let close = closest(typed, known);
    if !close.is_empty() {
        let list: Vec<String> = close.iter().map(|c| format!("`{c}`")).collect();
        return format!("; did you mean {}?", list.join(" or "));
    }
    if known.is_empty() || known.len() > 40 {
        return String::new();
    }
    let mut sorted: Vec<&String> = known.iter().collect();
    sorted.sort();
    sorted.dedup();
    format!(
        "; known: {}",
        sorted
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The known names within a small edit distance of `typed` (at most
/// three, closest first), or those it is a prefix of.
pub fn closest(typed: &str, known: &[String]) -> Vec<String> {
    let limit = match typed.chars().count() {
        0..=2 => 1,
        3..=5 => 2,
        _ => 3,
    };
    let mut scored: Vec<(usize, &String)> = known
        .iter()
        .filter_map(|k| {
            let d = edit_distance(typed, k);
            if d <= limit || (typed.len() >= 3 && k.starts_with(typed)) {
                Some((d, k))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, k)| k.clone()).collect()
}

/// Levenshtein distance, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// How a destructive call in production is confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// Ask on the terminal (y/N).
    Ask,
    /// Refuse with an error (non-interactive).
    Refuse,
    /// Go ahead (tests, or not production).
    Yes,
}

/// What a presented value is: what the REPL or a script prints.
#[derive(Clone, Debug, PartialEq)]
pub enum Shown {
    /// A value.
    Value(ConsoleValue),
    /// Rows, `total` being how many there are (more than `rows` when the
    /// row limit cut them).
    Rows {
        /// The rows shown.
        rows: Vec<Row>,
        /// How many there are.
        total: usize,
    },
    /// Text printed as is (help, listings).
    Text(String),
}

/// The evaluator: the container, the session's transaction in a sandbox,
/// the factories and the local variables.
pub struct Evaluator {
    settings: Settings,
    container: Container,
    sandbox: Option<Transaction>,
    factories: Option<Factories>,
    factories_error: Option<String>,
    vars: BTreeMap<String, Val>,
    confirm: Confirm,
    define_factories: Option<DefineFactoriesFn>,
}

impl fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evaluator")
            .field("env", &self.settings.env)
            .field("sandbox", &self.sandbox.is_some())
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Evaluator {
    /// An evaluator over a finalized container. With `sandbox`, every
    /// relation is bound to that transaction. `define_factories` fills the
    /// `factories` registry (without it, `factories` is an error that says
    /// so).
    pub fn new(
        settings: Settings,
        container: Container,
        sandbox: Option<Transaction>,
        define_factories: Option<DefineFactoriesFn>,
        confirm: Confirm,
    ) -> Evaluator {
        let mut evaluator = Evaluator {
            settings,
            container,
            sandbox,
            factories: None,
            factories_error: None,
            vars: BTreeMap::new(),
            confirm,
            define_factories,
        };
        evaluator.load_factories();
        evaluator
    }

    fn load_factories(&mut self) {
        self.factories = None;
        self.factories_error = None;
        let Some(define) = self.define_factories else {
            self.factories_error =
                Some("no factories are defined for this project (Project::with_factories)".into());
            return;
        };
        match Factories::new(&self.container).and_then(|mut f| define(&mut f).map(|()| f)) {
            Ok(f) => self.factories = Some(f),
            Err(e) => self.factories_error = Some(EvalError::from(e).message),
        }
    }

    /// The container.
    pub fn container(&self) -> &Container {
        &self.container
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The factories, if they could be defined.
    pub fn factories(&self) -> Option<&Factories> {
        self.factories.as_ref()
    }

    /// Why there are no factories, if there are none.
    pub fn factories_error(&self) -> Option<&str> {
        self.factories_error.as_deref()
    }

    /// The sandbox transaction, if the session runs in one.
    pub fn sandbox(&self) -> Option<&Transaction> {
        self.sandbox.as_ref()
    }

    /// Takes the sandbox transaction out (to roll it back on exit).
    pub fn take_sandbox(&mut self) -> Option<Transaction> {
        self.sandbox.take()
    }

    /// Replaces the container (after `reload!`); variables stay, and so
    /// does the sandbox transaction.
    pub fn replace_container(&mut self, container: Container) {
        self.container = container;
        self.load_factories();
    }

    /// The local variables and their kinds.
    pub fn var_kinds(&self) -> BTreeMap<String, Kind> {
        self.vars
            .iter()
            .map(|(k, v)| (k.clone(), v.kind()))
            .collect()
    }

    /// The catalog of the current container, factories and variables.
    pub fn catalog(&self) -> Catalog {
        let mut catalog = Catalog::of(&self.container, self.factories.as_ref());
        catalog.vars = self.var_kinds();
        catalog
    }

    /// The relation `name`, bound to the sandbox when there is one.
    ///
    /// # Errors
    ///
    /// An unknown relation, with suggestions.
    pub fn relation(&self, name: &str) -> Result<Relation, EvalError> {
        let relation = self.container.relation(name).map_err(|_| {
            let known: Vec<String> = self.container.relations().keys().cloned().collect();
            EvalError::new(
                "unknown_relation",
                format!("unknown relation `{name}`{}", suggestion(name, &known)),
            )
        })?;
        match &self.sandbox {
            Some(tx) => Ok(tx.bind(&relation)?),
            None => Ok(relation),
        }
    }

    /// Evaluates an expression.
    ///
    /// # Errors
    ///
    /// Any error, as one line with its kind.
    pub fn eval<'a>(&'a mut self, expr: &'a Expr) -> BoxFuture<'a, Result<Val, EvalError>> {
        Box::pin(async move {
            match expr {
                Expr::Nil => Ok(Val::NIL),
                Expr::Bool(b) => Ok(Val::bool(*b)),
                Expr::Int(i) => Ok(Val::int(*i)),
                Expr::Float(x) => Ok(Val::Value(Value::Float(*x))),
                Expr::Str(s) => Ok(Val::string(s.clone())),
                Expr::Symbol(s) => Ok(Val::Symbol(s.clone())),
                Expr::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.eval(item).await?);
                    }
                    Ok(Val::Array(out))
                }
                Expr::Hash(pairs) => {
                    let mut out = Vec::with_capacity(pairs.len());
                    for (k, v) in pairs {
                        let k = self.eval(k).await?;
                        let v = self.eval(v).await?;
                        out.push((k, v));
                    }
                    Ok(Val::Hash(out))
                }
                Expr::Ident(name) => self.name(name).await,
                Expr::Const(name) => self.constant(name),
                Expr::Call {
                    receiver,
                    method,
                    args,
                } => {
                    let receiver = match receiver {
                        Some(r) => self.eval(r).await?,
                        None => Val::Container,
                    };
                    let mut values = Vec::with_capacity(args.len());
                    for a in args {
                        values.push(self.eval(a).await?);
                    }
                    self.call(receiver, method, values).await
                }
                Expr::Index { receiver, args } => {
                    let receiver = self.eval(receiver).await?;
                    let mut values = Vec::with_capacity(args.len());
                    for a in args {
                        values.push(self.eval(a).await?);
                    }
                    self.index(receiver, values).await
                }
                Expr::Assign { name, value } => {
                    let v = self.eval(value).await?;
                    self.vars.insert(name.clone(), v.clone());
                    Ok(v)
                }
            }
        })
    }

    async fn name(&mut self, name: &str) -> Result<Val, EvalError> {
        if let Some(v) = self.vars.get(name) {
            return Ok(v.clone());
        }
        if self.container.relations().contains_key(name) {
            return Ok(Val::Relation(self.relation(name)?));
        }
        match name {
            "container" | "rom" => Ok(Val::Container),
            "factories" => Ok(Val::Factories),
            "relations" | "commands" | "gateways" => {
                self.call(Val::Container, name, Vec::new()).await
            }
            _ => {
                let catalog = self.catalog();
                let known = catalog.top_level_names();
                Err(EvalError::new(
                    "unknown_name",
                    format!(
                        "undefined local variable or relation `{name}`{}",
                        suggestion(name, &known)
                    ),
                ))
            }
        }
    }

    fn constant(&self, name: &str) -> Result<Val, EvalError> {
        match name {
            "MAIN_CONTAINER" => Ok(Val::Container),
            "Time" => Ok(Val::TimeClass),
            "Sequel" => Ok(Val::SequelClass),
            _ => {
                let known = strings(&["MAIN_CONTAINER", "Time", "Sequel"]);
                Err(EvalError::new(
                    "unknown_name",
                    format!("uninitialized constant {name}{}", suggestion(name, &known)),
                ))
            }
        }
    }

    fn unknown(&self, method: &str, receiver: &Val) -> EvalError {
        let known = self.catalog().methods(&receiver.kind());
        EvalError::unknown_method(method, receiver, &known)
    }

    /// Calls `method` on `receiver` with evaluated arguments.
    ///
    /// # Errors
    ///
    /// An unknown method (with suggestions), wrong arguments, or the
    /// toolkit's error.
    pub fn call<'a>(
        &'a mut self,
        receiver: Val,
        method: &'a str,
        args: Vec<Val>,
    ) -> BoxFuture<'a, Result<Val, EvalError>> {
        Box::pin(async move {
            match method {
                "inspect" if args.is_empty() => {
                    return Ok(Val::string(receiver.to_console().inspect()));
                }
                "nil?" if args.is_empty() => {
                    return Ok(Val::bool(matches!(receiver, Val::Value(Value::Null))));
                }
                _ => {}
            }
            match receiver {
                Val::Container => self.container_call(method, args).await,
                Val::Relations => {
                    no_args(method, &args)?;
                    if self.container.relations().contains_key(method) {
                        return Ok(Val::Relation(self.relation(method)?));
                    }
                    match method {
                        "keys" | "names" | "to_a" => {
                            Ok(Val::symbols(self.container.relations().keys().cloned()))
                        }
                        _ => Err(self.unknown(method, &Val::Relations)),
                    }
                }
                Val::Commands => {
                    no_args(method, &args)?;
                    if self.container.relations().contains_key(method) {
                        return Ok(Val::CommandsOf(method.to_string()));
                    }
                    match method {
                        "keys" | "names" | "to_a" => {
                            Ok(Val::symbols(self.container.relations().keys().cloned()))
                        }
                        _ => Err(self.unknown(method, &Val::Commands)),
                    }
                }
                Val::CommandsOf(rel) => {
                    no_args(method, &args)?;
                    let relation = self.relation(&rel)?;
                    if relation.command_names().iter().any(|c| c == method) {
                        return Ok(Val::Command(relation.command(method)?));
                    }
                    match method {
                        "keys" | "names" | "to_a" => Ok(Val::symbols(relation.command_names())),
                        _ => Err(self.unknown(method, &Val::CommandsOf(rel))),
                    }
                }
                Val::Gateways => {
                    no_args(method, &args)?;
                    if self.container.gateways().contains_key(method) {
                        return Ok(Val::Gateway(method.to_string()));
                    }
                    match method {
                        "keys" | "names" | "to_a" => {
                            Ok(Val::symbols(self.container.gateways().keys().cloned()))
                        }
                        _ => Err(self.unknown(method, &Val::Gateways)),
                    }
                }
                Val::Gateway(name) => self.gateway_call(&name, method, args),
                Val::Connection(name) => self.connection_call(&name, method, args).await,
                Val::Relation(relation) => self.relation_call(relation, method, args).await,
                Val::Command(command) => self.command_call(command, method, args).await,
                Val::Factories => self.factories_call(method, args).await,
                Val::Row(row) => self.row_call(row, method, args),
                other => self.plain_call(other, method, args),
            }
        })
    }

    async fn container_call(&mut self, method: &str, args: Vec<Val>) -> Result<Val, EvalError> {
        match method {
            "relations" | "commands" | "gateways" => {
                no_args(method, &args)?;
                Ok(match method {
                    "relations" => Val::Relations,
                    "commands" => Val::Commands,
                    _ => Val::Gateways,
                })
            }
            "relation" => {
                let [name] = exact::<1>(method, args)?;
                Ok(Val::Relation(self.relation(&name_of(&name, method)?)?))
            }
            "command" => {
                let [rel, name] = exact::<2>(method, args)?;
                let relation = self.relation(&name_of(&rel, method)?)?;
                Ok(Val::Command(relation.command(&name_of(&name, method)?)?))
            }
            "gateway" => {
                let [name] = exact::<1>(method, args)?;
                self.index(Val::Gateways, vec![name]).await
            }
            _ => Err(self.unknown(method, &Val::Container)),
        }
    }

    fn gateway_call(&self, name: &str, method: &str, args: Vec<Val>) -> Result<Val, EvalError> {
        no_args(method, &args)?;
        let gateway = self.container.gateway(name)?;
        match method {
            "connection" => Ok(Val::Connection(name.to_string())),
            "database" => Ok(Val::string(gateway.database())),
            "server" => Ok(Val::string(gateway.server().to_string())),
            "url" => Ok(Val::string(gateway.url().to_string())),
            _ => Err(self.unknown(method, &Val::Gateway(name.to_string()))),
        }
    }

    async fn connection_call(
        &self,
        name: &str,
        method: &str,
        args: Vec<Val>,
    ) -> Result<Val, EvalError> {
        match method {
            "schema" => {
                let [table] = exact::<1>(method, args)?;
                let table = name_of(&table, method)?;
                let tables = self.introspect(name).await?;
                let info = tables.get(&table).ok_or_else(|| {
                    let known: Vec<String> = tables.keys().cloned().collect();
                    EvalError::new(
                        "missing_table",
                        format!(
                            "no table `{table}` in database {}{}",
                            self.container
                                .gateway(name)
                                .map(|g| g.database().to_string())
                                .unwrap_or_default(),
                            suggestion(&table, &known)
                        ),
                    )
                })?;
                Ok(sequel_schema(info))
            }
            "tables" => {
                no_args(method, &args)?;
                let tables = self.introspect(name).await?;
                Ok(Val::symbols(tables.keys().cloned()))
            }
            "fetch" => {
                let (sql, binds) = sql_and_binds(method, args)?;
                let relation = self
                    .container
                    .relations()
                    .iter()
                    .find(|(_, r)| {
                        self.container
                            .gateway(name)
                            .is_ok_and(|g| g.url() == r.gateway().url())
                    })
                    .map(|(n, _)| n.clone())
                    .ok_or_else(|| {
                        EvalError::argument(format!(
                            "fetch needs a relation registered on gateway `{name}`; none is"
                        ))
                    })?;
                let relation = self.relation(&relation)?;
                Ok(Val::Rows(relation.read(&sql, &binds).await?))
            }
            _ => Err(self.unknown(method, &Val::Connection(name.to_string()))),
        }
    }

    /// Every table of a gateway's database, as introspection reads them.
    ///
    /// # Errors
    ///
    /// An unknown gateway; the server's error.
    pub async fn introspect(
        &self,
        gateway: &str,
    ) -> Result<BTreeMap<String, crate::gateway::TableInfo>, EvalError> {
        let gateway = self.container.gateway(gateway)?;
        let mut conn = gateway.acquire().await?;
        Ok(crate::gateway::introspect(&mut conn, gateway.server()).await?)
    }

    async fn relation_call(
        &mut self,
        relation: Relation,
        method: &str,
        args: Vec<Val>,
    ) -> Result<Val, EvalError> {
        if relation.view_names().contains(&method) {
            let values = args.iter().map(to_value).collect::<Result<Vec<_>, _>>()?;
            return Ok(Val::Relation(relation.view(method, &values)?));
        }
        let Some(spec) = relation_method(method) else {
            let mut known: Vec<String> = RELATION_METHODS
                .iter()
                .map(|m| m.name.to_string())
                .collect();
            known.extend(relation.view_names().into_iter().map(str::to_string));
            let mut message = format!(
                "undefined method `{method}` for relation {}",
                relation.name()
            );
            message.push_str(&suggestion(method, &known));
            if relation.schema().attribute(method).is_some() {
                message.push_str(&format!(
                    " (`{method}` is an attribute: read it from a row, e.g. `{}.first.{method}`, or `pluck(:{method})`)",
                    relation.name()
                ));
            }
            return Err(EvalError::new("unknown_method", message));
        };
        let r = &relation;
        let rel = |x: Relation| -> Result<Val, EvalError> { Ok(Val::Relation(x)) };
        match spec.rust {
            "filter" | "exclude" => {
                let condition = condition_of(method, &args)?;
                if spec.rust == "filter" {
                    rel(r.filter(condition))
                } else {
                    rel(r.exclude(condition))
                }
            }
            "order" => {
                let keys = order_keys(method, &args)?;
                if keys.is_empty() {
                    return Err(EvalError::argument(
                        "order takes attributes: order(:id), order(created_at: :desc), order(Sequel.desc(:id))",
                    ));
                }
                rel(r.order(keys))
            }
            "reverse" => no_args(method, &args).and_then(|()| rel(r.reverse())),
            "unordered" => no_args(method, &args).and_then(|()| rel(r.unordered())),
            "distinct" => no_args(method, &args).and_then(|()| rel(r.distinct())),
            "unfiltered" => no_args(method, &args).and_then(|()| rel(r.unfiltered())),
            "limit" | "offset" | "page" | "per_page" => {
                let [n] = exact::<1>(method, args)?;
                let n = to_u64(&n, method)?;
                rel(match spec.rust {
                    "limit" => r.limit(n),
                    "offset" => r.offset(n),
                    "page" => r.page(n),
                    _ => r.per_page(n),
                })
            }
            "select" | "project" | "select_append" | "group" => {
                let names = names_of(method, &args)?;
                if names.is_empty() {
                    return Err(EvalError::argument(format!(
                        "{method} takes attribute names: {method}(:id, :name)"
                    )));
                }
                rel(match spec.rust {
                    "select" | "project" => r.select(&names),
                    "select_append" => r.select_append(&names),
                    _ => r.group(&names),
                })
            }
            "join" | "left_join" | "wrap" => {
                let names = names_of(method, &args)?;
                if names.is_empty() {
                    return Err(EvalError::argument(format!(
                        "{method} takes an association: {method}(:{})",
                        r.schema()
                            .associations()
                            .first()
                            .map_or("association", |a| a.name.as_str())
                    )));
                }
                let mut out = r.clone();
                for n in &names {
                    out = match spec.rust {
                        "join" => out.join(n),
                        "left_join" => out.left_join(n),
                        _ => out.wrap(n),
                    };
                }
                rel(out)
            }
            "combine" => {
                let mut paths = Vec::new();
                for a in &args {
                    combine_paths(a, "", &mut paths)?;
                }
                if paths.is_empty() {
                    return Err(EvalError::argument(
                        "combine takes associations: combine(:posts), combine(posts: :comments)",
                    ));
                }
                rel(r.combine_many(paths))
            }
            "assoc" => {
                let [name] = exact::<1>(method, args)?;
                rel(r.assoc(&name_of(&name, method)?)?)
            }
            "lock" => {
                let (mode, wait) = lock_of(&args)?;
                rel(r.lock(mode, wait))
            }
            "by_pk" => {
                let [key] = exact::<1>(method, args)?;
                rel(r.by_pk(to_value(&key)?))
            }
            "to_vec" => {
                no_args(method, &args)?;
                Ok(Val::Rows(r.to_vec().await?))
            }
            "first" | "last" | "one" => {
                no_args(method, &args)?;
                let row = match spec.rust {
                    "first" => r.first().await?,
                    "last" => r.last().await?,
                    _ => r.one().await?,
                };
                Ok(row.map_or(Val::NIL, Val::Row))
            }
            "one_strict" => {
                no_args(method, &args)?;
                Ok(Val::Row(r.one_strict().await?))
            }
            "fetch_pk" => {
                let [key] = exact::<1>(method, args)?;
                Ok(Val::Row(r.fetch_pk(to_value(&key)?).await?))
            }
            "count" => {
                no_args(method, &args)?;
                let n = r.count().await?;
                Ok(Val::Value(
                    i64::try_from(n).map_or(Value::UInt(n), Value::Int),
                ))
            }
            "exists" => {
                no_args(method, &args)?;
                Ok(Val::bool(r.exists().await?))
            }
            "pluck / pluck_many" => {
                let names = names_of(method, &args)?;
                match names.as_slice() {
                    [] => Err(EvalError::argument(
                        "pluck takes attribute names: pluck(:url)",
                    )),
                    [one] => Ok(Val::Array(
                        r.pluck(one).await?.into_iter().map(Val::Value).collect(),
                    )),
                    _ => Ok(Val::Array(
                        r.pluck_many(&names)
                            .await?
                            .into_iter()
                            .map(|vs| Val::Array(vs.into_iter().map(Val::Value).collect()))
                            .collect(),
                    )),
                }
            }
            "sum" | "min" | "max" | "avg" => {
                let [name] = exact::<1>(method, args)?;
                let name = name_of(&name, method)?;
                let v = match spec.rust {
                    "sum" => r.sum(&name).await?,
                    "min" => r.min(&name).await?,
                    "max" => r.max(&name).await?,
                    _ => r.avg(&name).await?,
                };
                Ok(Val::Value(v))
            }
            "to_sql" => {
                no_args(method, &args)?;
                Ok(Val::string(r.to_sql()?))
            }
            "read" => {
                let (sql, binds) = sql_and_binds(method, args)?;
                Ok(Val::Rows(r.read(&sql, &binds).await?))
            }
            "command" => {
                let [name] = exact::<1>(method, args)?;
                Ok(Val::Command(r.command(&name_of(&name, method)?)?))
            }
            "command_names" => {
                no_args(method, &args)?;
                Ok(Val::symbols(r.command_names()))
            }
            "name" => {
                no_args(method, &args)?;
                Ok(Val::Symbol(r.name().to_string()))
            }
            "schema().attribute_names" => {
                no_args(method, &args)?;
                Ok(Val::symbols(
                    r.schema().attribute_names().into_iter().map(str::to_string),
                ))
            }
            "schema" => {
                no_args(method, &args)?;
                Ok(Val::Hash(
                    r.schema()
                        .attributes()
                        .iter()
                        .map(|a| (Val::Symbol(a.name.clone()), Val::Symbol(a.ty.name().into())))
                        .collect(),
                ))
            }
            "view_names" => {
                no_args(method, &args)?;
                Ok(Val::symbols(r.view_names().into_iter().map(str::to_string)))
            }
            "schema().associations" => {
                no_args(method, &args)?;
                Ok(Val::symbols(
                    r.schema().associations().iter().map(|a| a.name.clone()),
                ))
            }
            _ => Err(EvalError::new(
                "unknown_method",
                format!("`{method}` is not available at the console"),
            )),
        }
    }

    async fn command_call(
        &mut self,
        command: Command,
        method: &str,
        args: Vec<Val>,
    ) -> Result<Val, EvalError> {
        match method {
            "call" => {
                let input = input_of(&args)?;
                self.confirm_write(&command).await?;
                Ok(output_val(command.call(input).await?))
            }
            "by_pk" => {
                let [key] = exact::<1>(method, args)?;
                Ok(Val::Command(command.by_pk(to_value(&key)?)))
            }
            "name" => Ok(Val::Symbol(command.name().to_string())),
            "kind" => Ok(Val::Symbol(command.kind().name().to_string())),
            "relation" => Ok(Val::Relation(command.relation().clone())),
            _ => Err(self.unknown(method, &Val::Command(command))),
        }
    }

    /// In production, an update or delete of several rows or of a whole
    /// relation is confirmed first.
    async fn confirm_write(&self, command: &Command) -> Result<(), EvalError> {
        if !self.settings.is_production()
            || !matches!(command.kind(), CommandKind::Update | CommandKind::Delete)
            || self.confirm == Confirm::Yes
        {
            return Ok(());
        }
        let relation = command.relation();
        let whole = relation.to_sql().ok() == relation.unfiltered().to_sql().ok();
        let n = relation.count().await?;
        if !whole && n <= 1 {
            return Ok(());
        }
        let what = format!(
            "{} {n} row{} of {}{}",
            command.kind(),
            if n == 1 { "" } else { "s" },
            relation.name(),
            if whole { " (the whole relation)" } else { "" }
        );
        match self.confirm {
            Confirm::Yes => Ok(()),
            Confirm::Refuse => Err(EvalError::new(
                "refused",
                format!(
                    "refusing to {what} in production without confirmation (not a terminal); restrict it with by_pk or where, or run it at the interactive console"
                ),
            )),
            Confirm::Ask => {
                let question = format!("{what} in production? [y/N] ");
                let answer = tokio::task::spawn_blocking(move || {
                    use std::io::Write as _;
                    eprint!("{question}");
                    let _ = std::io::stderr().flush();
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).map(|_| line)
                })
                .await;
                match answer {
                    Ok(Ok(line)) if matches!(line.trim(), "y" | "Y" | "yes" | "YES") => Ok(()),
                    _ => Err(EvalError::new(
                        "refused",
                        format!("not confirmed: did not {what}"),
                    )),
                }
            }
        }
    }

    fn factories_ref(&self) -> Result<&Factories, EvalError> {
        self.factories.as_ref().ok_or_else(|| {
            EvalError::new(
                "factory",
                format!(
                    "factories are not available: {}",
                    self.factories_error.as_deref().unwrap_or("not defined")
                ),
            )
        })
    }

    async fn factories_call(&mut self, method: &str, args: Vec<Val>) -> Result<Val, EvalError> {
        match method {
            "structs" => {
                no_args(method, &args)?;
                self.factories_ref()?;
                Ok(Val::FactoryStructs)
            }
            "create" => self.index(Val::Factories, args).await,
            "build" => self.index(Val::FactoryStructs, args).await,
            "names" | "keys" => Ok(Val::symbols(
                self.factories_ref()?
                    .names()
                    .into_iter()
                    .map(str::to_string),
            )),
            "traits" => {
                let [name] = exact::<1>(method, args)?;
                let name = name_of(&name, method)?;
                let traits = self.factories_ref()?.traits(&name)?;
                Ok(Val::symbols(traits.into_iter().map(str::to_string)))
            }
            "seed" => Ok(Val::Value(Value::UInt(self.factories_ref()?.seed()))),
            _ => Err(self.unknown(method, &Val::Factories)),
        }
    }

    async fn factory(&self, create: bool, args: Vec<Val>) -> Result<Val, EvalError> {
        let factories = self.factories_ref()?;
        let mut args = args.into_iter();
        let name = match args.next() {
            Some(v) => name_of(&v, "factories[...]")?,
            None => {
                return Err(EvalError::argument(format!(
                    "factories[:name] takes a factory name; factories: {}",
                    factories.names().join(", ")
                )));
            }
        };
        let mut request = factories.request(&name);
        let mut traits = Vec::new();
        for arg in args {
            match arg {
                Val::Symbol(t) | Val::Value(Value::String(t)) => traits.push(t),
                Val::Hash(pairs) => {
                    for (k, v) in pairs {
                        let key = name_of(&k, "factories[...]")?;
                        request = match v {
                            Val::Row(row) => request.row(&key, row),
                            other => request.set(&key, to_value(&other)?),
                        };
                    }
                }
                other => {
                    return Err(EvalError::argument(format!(
                        "factories[:{name}, ...] takes traits (symbols) and attribute: value pairs, not {}",
                        other.describe()
                    )));
                }
            }
        }
        request = request.traits(traits);
        if let Some(tx) = &self.sandbox {
            request = request.in_transaction(tx);
        }
        let row = if create {
            request.create().await?
        } else {
            request.build()?
        };
        Ok(Val::Row(row))
    }

    fn row_call(&self, row: Row, method: &str, args: Vec<Val>) -> Result<Val, EvalError> {
        if args.is_empty() {
            if let Ok(v) = row.get(method) {
                return Ok(Val::Value(v.clone()));
            }
            if let Some(n) = row.nested(method) {
                return Ok(nested_val(n));
            }
        }
        match method {
            "to_h" => Ok(row_hash(&row)),
            "keys" => Ok(Val::symbols(row.names().iter().cloned())),
            "values" => Ok(Val::Array(
                row.values().iter().cloned().map(Val::Value).collect(),
            )),
            "fetch" => {
                let [key] = exact::<1>(method, args)?;
                row_index(&row, &key)
            }
            _ => Err(self.unknown(method, &Val::Row(row))),
        }
    }

    fn plain_call(&self, receiver: Val, method: &str, args: Vec<Val>) -> Result<Val, EvalError> {
        match (&receiver, method) {
            (Val::TimeClass, "now") => {
                no_args(method, &args)?;
                Ok(Val::Value(Value::DateTime(now())))
            }
            (Val::Value(Value::DateTime(_)), "utc") => Ok(receiver),
            (Val::Value(Value::DateTime(t)), "iso8601") => Ok(Val::string(
                t.and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            )),
            (Val::SequelClass, "desc" | "asc") => {
                let [name] = exact::<1>(method, args)?;
                Ok(Val::Order {
                    attribute: name_of(&name, method)?,
                    descending: method == "desc",
                })
            }
            (Val::Symbol(s), "desc" | "asc") => Ok(Val::Order {
                attribute: s.clone(),
                descending: method == "desc",
            }),
            (Val::Symbol(s), "to_s") => Ok(Val::string(s.clone())),
            (Val::Value(Value::String(s)), "to_s") => Ok(Val::string(s.clone())),
            (Val::Value(v), "to_s") => Ok(Val::string(super::print::inspect(v))),
            (Val::Value(Value::String(s)), "to_sym") => Ok(Val::Symbol(s.clone())),
            (Val::Rows(rows), _) => {
                list_call(rows.iter().cloned().map(Val::Row).collect(), method, args)
                    .unwrap_or_else(|| Err(self.unknown(method, &receiver)))
            }
            (Val::Array(items), _) => list_call(items.clone(), method, args)
                .unwrap_or_else(|| Err(self.unknown(method, &receiver))),
            (Val::Hash(pairs), "keys") => {
                Ok(Val::Array(pairs.iter().map(|(k, _)| k.clone()).collect()))
            }
            (Val::Hash(pairs), "values") => {
                Ok(Val::Array(pairs.iter().map(|(_, v)| v.clone()).collect()))
            }
            (Val::Hash(pairs), "size" | "count" | "length") => Ok(count_val(pairs.len())),
            (Val::Hash(_), "to_h") => Ok(receiver),
            (Val::Hash(pairs), "fetch") => {
                let [key] = exact::<1>(method, args)?;
                hash_get(pairs, &key).ok_or_else(|| {
                    EvalError::new(
                        "key_error",
                        format!("key not found: {}", key.to_console().inspect()),
                    )
                })
            }
            _ => Err(self.unknown(method, &receiver)),
        }
    }

    /// `receiver[args]`.
    ///
    /// # Errors
    ///
    /// An unknown key, or a receiver that cannot be indexed.
    pub fn index<'a>(
        &'a mut self,
        receiver: Val,
        args: Vec<Val>,
    ) -> BoxFuture<'a, Result<Val, EvalError>> {
        Box::pin(async move {
            match receiver {
                Val::Factories => return self.factory(true, args).await,
                Val::FactoryStructs => return self.factory(false, args).await,
                _ => {}
            }
            let key = match args.as_slice() {
                [key] => key.clone(),
                _ => {
                    return Err(EvalError::argument(format!(
                        "{}[...] takes one key, got {}",
                        receiver.describe(),
                        args.len()
                    )));
                }
            };
            match receiver {
                Val::Relations => Ok(Val::Relation(
                    self.relation(&name_of(&key, "relations[...]")?)?,
                )),
                Val::Commands => {
                    let name = name_of(&key, "commands[...]")?;
                    self.relation(&name)?;
                    Ok(Val::CommandsOf(name))
                }
                Val::CommandsOf(rel) => {
                    let name = name_of(&key, "commands[...]")?;
                    Ok(Val::Command(self.relation(&rel)?.command(&name)?))
                }
                Val::Gateways => {
                    let name = name_of(&key, "gateways[...]")?;
                    self.container.gateway(&name)?;
                    Ok(Val::Gateway(name))
                }
                Val::Row(row) => row_index(&row, &key),
                Val::Rows(rows) => Ok(list_index(rows.into_iter().map(Val::Row).collect(), &key)?),
                Val::Array(items) => list_index(items, &key),
                Val::Hash(pairs) => Ok(hash_get(&pairs, &key).unwrap_or(Val::NIL)),
                Val::Relation(r) => Err(EvalError::argument(format!(
                    "relation {}[...] is not supported; use where({}: ...) or pluck({})",
                    r.name(),
                    key.to_console().inspect().trim_start_matches(':'),
                    key.to_console().inspect()
                ))),
                other => Err(EvalError::new(
                    "unknown_method",
                    format!("{} cannot be indexed with [...]", other.describe()),
                )),
            }
        })
    }

    /// The value as it is printed: a relation's rows (at most `limit`
    /// of them, with the real total from `count` when they are cut), rows
    /// as rows, anything else as its console value.
    ///
    /// # Errors
    ///
    /// The relation's error when it is read.
    pub async fn present(&self, value: &Val, limit: Option<usize>) -> Result<Shown, EvalError> {
        match value {
            Val::Relation(r) => {
                let total = usize::try_from(r.count().await?).unwrap_or(usize::MAX);
                let rows = match limit {
                    Some(l) if total > l => {
                        r.limit(u64::try_from(l).unwrap_or(u64::MAX))
                            .to_vec()
                            .await?
                    }
                    _ => r.to_vec().await?,
                };
                let total = total.max(rows.len());
                Ok(Shown::Rows { rows, total })
            }
            Val::Rows(rows) => Ok(Shown::Rows {
                rows: rows.clone(),
                total: rows.len(),
            }),
            other => Ok(Shown::Value(other.to_console())),
        }
    }
}

/// The current time in UTC, to the microsecond (what MySQL keeps).
fn now() -> NaiveDateTime {
    let t = Utc::now().naive_utc();
    chrono::Timelike::with_nanosecond(&t, t.and_utc().timestamp_subsec_micros() * 1000).unwrap_or(t)
}

fn no_args(method: &str, args: &[Val]) -> Result<(), EvalError> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(EvalError::argument(format!(
            "`{method}` takes no arguments, got {}",
            args.len()
        )))
    }
}

fn exact<const N: usize>(method: &str, args: Vec<Val>) -> Result<[Val; N], EvalError> {
    let n = args.len();
    args.try_into().map_err(|_| {
        EvalError::argument(format!(
            "`{method}` takes {N} argument{}, got {n}",
            if N == 1 { "" } else { "s" }
        ))
    })
}

/// A name given as a symbol or a string.
fn name_of(v: &Val, method: &str) -> Result<String, EvalError> {
    match v {
        Val::Symbol(s) | Val::Value(Value::String(s)) => Ok(s.clone()),
        other => Err(EvalError::argument(format!(
            "`{method}` takes a name (a symbol such as :posts), not {}",
            other.describe()
        ))),
    }
}

/// Names given as symbols, strings or arrays of them.
fn names_of(method: &str, args: &[Val]) -> Result<Vec<String>, EvalError> {
    let mut out = Vec::new();
    for a in args {
        match a {
            Val::Array(items) => out.extend(names_of(method, items)?),
            other => out.push(name_of(other, method)?),
        }
    }
    Ok(out)
}

fn to_u64(v: &Val, method: &str) -> Result<u64, EvalError> {
    match v {
        Val::Value(Value::Int(i)) => u64::try_from(*i).map_err(|_| {
            EvalError::argument(format!("`{method}` takes a number of 0 or more, got {i}"))
        }),
        Val::Value(Value::UInt(u)) => Ok(*u),
        other => Err(EvalError::argument(format!(
            "`{method}` takes a number, not {}",
            other.describe()
        ))),
    }
}

/// A console value as a database value: symbols as strings, arrays as
/// lists, hashes and rows as JSON.
///
/// # Errors
///
/// For relations, commands and other objects.
pub fn to_value(v: &Val) -> Result<Value, EvalError> {
    Ok(match v {
        Val::Value(v) => v.clone(),
        Val::Symbol(s) => Value::String(s.clone()),
        Val::Array(items) => Value::List(items.iter().map(to_value).collect::<Result<_, _>>()?),
        Val::Hash(_) | Val::Row(_) | Val::Rows(_) => Value::Json(to_json(v)?),
        other => {
            return Err(EvalError::argument(format!(
                "{} cannot be used as a value",
                other.describe()
            )));
        }
    })
}

fn to_json(v: &Val) -> Result<serde_json::Value, EvalError> {
    Ok(match v {
        Val::Hash(pairs) => {
            let mut map = serde_json::Map::new();
            for (k, v) in pairs {
                let key = match k {
                    Val::Symbol(s) | Val::Value(Value::String(s)) => s.clone(),
                    other => other.to_console().inspect(),
                };
                map.insert(key, to_json(v)?);
            }
            serde_json::Value::Object(map)
        }
        Val::Array(items) => {
            serde_json::Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Val::Row(r) => r.to_json(),
        Val::Rows(rows) => serde_json::Value::Array(rows.iter().map(Row::to_json).collect()),
        other => to_value(other)?.to_json(),
    })
}

/// `where(a: 1, company: {name: 'x'})`: equality on every pair (IN for an
/// array, IS NULL for nil); a hash value qualifies its keys
/// (`company.name`).
fn condition_of(method: &str, args: &[Val]) -> Result<Condition, EvalError> {
    let mut items = Vec::new();
    for a in args {
        match a {
            Val::Hash(pairs) => pairs_condition(method, pairs, None, &mut items)?,
            other => {
                return Err(EvalError::argument(format!(
                    "`{method}` takes attribute: value pairs (where(id: 1), where(company_id: [1, 2]), where(error: nil)), not {}",
                    other.describe()
                )));
            }
        }
    }
    if items.is_empty() {
        return Err(EvalError::argument(format!(
            "`{method}` takes attribute: value pairs: {method}(id: 1)"
        )));
    }
    Ok(Condition::All(items))
}

fn pairs_condition(
    method: &str,
    pairs: &[(Val, Val)],
    prefix: Option<&str>,
    out: &mut Vec<Condition>,
) -> Result<(), EvalError> {
    for (k, v) in pairs {
        let key = name_of(k, method)?;
        let full = match prefix {
            Some(p) => format!("{p}.{key}"),
            None => key,
        };
        match v {
            Val::Hash(inner) if prefix.is_none() => {
                pairs_condition(method, inner, Some(&full), out)?
            }
            other => out.push(Condition::from((full.as_str(), to_value(other)?))),
        }
    }
    Ok(())
}

fn order_keys(method: &str, args: &[Val]) -> Result<Vec<OrderKey>, EvalError> {
    let mut out = Vec::new();
    for a in args {
        match a {
            Val::Symbol(s) | Val::Value(Value::String(s)) => out.push(OrderKey::from(s.as_str())),
            Val::Order {
                attribute,
                descending,
            } => out.push(if *descending {
                attr(attribute).desc()
            } else {
                attr(attribute).asc()
            }),
            Val::Array(items) => out.extend(order_keys(method, items)?),
            Val::Hash(pairs) => {
                for (k, dir) in pairs {
                    let name = name_of(k, method)?;
                    let descending = match dir {
                        Val::Symbol(d) | Val::Value(Value::String(d)) => {
                            match d.to_ascii_lowercase().as_str() {
                                "desc" => true,
                                "asc" => false,
                                _ => {
                                    return Err(EvalError::argument(format!(
                                        "order direction must be :asc or :desc, got :{d}"
                                    )));
                                }
                            }
                        }
                        other => {
                            return Err(EvalError::argument(format!(
                                "order direction must be :asc or :desc, not {}",
                                other.describe()
                            )));
                        }
                    };
                    out.push(if descending {
                        attr(&name).desc()
                    } else {
                        attr(&name).asc()
                    });
                }
            }
            other => {
                return Err(EvalError::argument(format!(
                    "`{method}` takes attributes (:id, created_at: :desc, Sequel.desc(:id)), not {}",
                    other.describe()
                )));
            }
        }
    }
    Ok(out)
}

fn combine_paths(v: &Val, prefix: &str, out: &mut Vec<String>) -> Result<(), EvalError> {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    match v {
        Val::Symbol(s) | Val::Value(Value::String(s)) => out.push(join(s)),
        Val::Array(items) => {
            for i in items {
                combine_paths(i, prefix, out)?;
            }
        }
        Val::Hash(pairs) => {
            for (k, inner) in pairs {
                let head = join(&name_of(k, "combine")?);
                out.push(head.clone());
                combine_paths(inner, &head, out)?;
            }
        }
        other => {
            return Err(EvalError::argument(format!(
                "combine takes associations (:posts, posts: :comments), not {}",
                other.describe()
            )));
        }
    }
    Ok(())
}

fn lock_of(args: &[Val]) -> Result<(LockMode, LockWait), EvalError> {
    let mut mode = LockMode::Update;
    let mut wait = LockWait::Wait;
    for a in args {
        let Val::Hash(pairs) = a else {
            return Err(EvalError::argument(
                "lock takes options: lock, lock(mode: :share), lock(skip_locked: true), lock(nowait: true)",
            ));
        };
        for (k, v) in pairs {
            let key = name_of(k, "lock")?;
            let on = matches!(v, Val::Value(Value::Bool(true)));
            match (key.as_str(), v) {
                ("mode", Val::Symbol(m)) if m == "update" => mode = LockMode::Update,
                ("mode", Val::Symbol(m)) if m == "share" => mode = LockMode::Share,
                ("skip_locked", _) if on => wait = LockWait::SkipLocked,
                ("nowait", _) if on => wait = LockWait::NoWait,
                ("skip_locked" | "nowait", _) => {}
                _ => {
                    return Err(EvalError::argument(format!(
                        "lock: unknown option `{key}`; options: mode: :update|:share, nowait: true, skip_locked: true"
                    )));
                }
            }
        }
    }
    Ok((mode, wait))
}

fn sql_and_binds(method: &str, args: Vec<Val>) -> Result<(String, Vec<Value>), EvalError> {
    let mut args = args.into_iter();
    let sql = match args.next() {
        Some(Val::Value(Value::String(s))) => s,
        _ => {
            return Err(EvalError::argument(format!(
                "`{method}` takes SQL text and values for its `?`: {method}('SELECT * FROM posts WHERE id = ?', 1)"
            )));
        }
    };
    let binds = args.map(|a| to_value(&a)).collect::<Result<Vec<_>, _>>()?;
    Ok((sql, binds))
}

fn tuple_of(pairs: &[(Val, Val)]) -> Result<Tuple, EvalError> {
    let mut tuple = Tuple::new();
    for (k, v) in pairs {
        tuple.set(&name_of(k, "call")?, to_value(v)?);
    }
    Ok(tuple)
}

/// A command's input: `call()`, `call(a: 1)`, `call([{...}, {...}])`, or
/// a row.
fn input_of(args: &[Val]) -> Result<Input, EvalError> {
    match args {
        [] => Ok(Input::empty()),
        [Val::Hash(pairs)] => Ok(Input::one(tuple_of(pairs)?)),
        [Val::Row(row)] => Ok(Input::from(row)),
        [Val::Array(items)] => {
            let mut tuples = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Val::Hash(pairs) => tuples.push(tuple_of(pairs)?),
                    Val::Row(row) => tuples.push(Tuple::from(row)),
                    other => {
                        return Err(EvalError::argument(format!(
                            "call takes hashes of attributes, not {}",
                            other.describe()
                        )));
                    }
                }
            }
            Ok(Input::many(tuples))
        }
        _ => Err(EvalError::argument(
            "call takes attribute: value pairs (call(name: 'Acme')), a list of hashes, or nothing (a delete)",
        )),
    }
}

fn output_val(output: CommandOutput) -> Val {
    match output {
        CommandOutput::One(row) => row.map_or(Val::NIL, Val::Row),
        CommandOutput::Many(rows) => Val::Rows(rows),
        CommandOutput::Count(n) => Val::Value(Value::from(n)),
    }
}

fn nested_val(n: &Nested) -> Val {
    match n {
        Nested::Many(rows) => Val::Rows(rows.clone()),
        Nested::One(row) => row.clone().map_or(Val::NIL, Val::Row),
    }
}

fn row_hash(row: &Row) -> Val {
    let mut pairs: Vec<(Val, Val)> = row
        .iter()
        .map(|(n, v)| (Val::Symbol(n.to_string()), Val::Value(v.clone())))
        .collect();
    for (n, nested) in row.nested_iter() {
        pairs.push((Val::Symbol(n.to_string()), nested_val(nested)));
    }
    Val::Hash(pairs)
}

fn row_index(row: &Row, key: &Val) -> Result<Val, EvalError> {
    let name = name_of(key, "row[...]")?;
    if let Ok(v) = row.get(&name) {
        return Ok(Val::Value(v.clone()));
    }
    if let Some(n) = row.nested(&name) {
        return Ok(nested_val(n));
    }
    let mut known: Vec<String> = row.names().to_vec();
    known.extend(row.nested_iter().map(|(n, _)| n.to_string()));
    Err(EvalError::new(
        "unknown_attribute",
        format!(
            "a row of {} has no attribute `{name}`{}",
            row.columns().relation(),
            suggestion(&name, &known)
        ),
    ))
}

fn count_val(n: usize) -> Val {
    Val::int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn list_call(items: Vec<Val>, method: &str, args: Vec<Val>) -> Option<Result<Val, EvalError>> {
    let result = match method {
        "first" | "last" => {
            if let Err(e) = no_args(method, &args) {
                return Some(Err(e));
            }
            let item = if method == "first" {
                items.into_iter().next()
            } else {
                items.into_iter().last()
            };
            Ok(item.unwrap_or(Val::NIL))
        }
        "count" | "size" | "length" => Ok(count_val(items.len())),
        "empty?" => Ok(Val::bool(items.is_empty())),
        "to_a" => Ok(Val::Array(items)),
        _ => return None,
    };
    Some(result)
}

fn list_index(items: Vec<Val>, key: &Val) -> Result<Val, EvalError> {
    let Val::Value(Value::Int(i)) = key else {
        return Err(EvalError::argument(format!(
            "a list is indexed by a number, not {}",
            key.describe()
        )));
    };
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let at = if *i < 0 { len + i } else { *i };
    Ok(usize::try_from(at)
        .ok()
        .and_then(|at| items.into_iter().nth(at))
        .unwrap_or(Val::NIL))
}

fn hash_get(pairs: &[(Val, Val)], key: &Val) -> Option<Val> {
    let wanted = key.to_console();
    pairs
        .iter()
        .find(|(k, _)| k.to_console() == wanted)
        .map(|(_, v)| v.clone())
}

/// A table's columns as Sequel's `connection.schema(:table)` gives them:
/// `[[:id, {:primary_key=>true, :auto_increment=>true, ...}], ...]`.
fn sequel_schema(table: &crate::gateway::TableInfo) -> Val {
    Val::Array(
        table
            .columns
            .iter()
            .map(|c| {
                let default = c.default.clone().map_or(Val::NIL, Val::string);
                let ruby_default = match (c.kind(), c.default.as_deref()) {
                    (_, None) => Val::NIL,
                    ("integer", Some(d)) => d.parse::<i64>().map_or(Val::NIL, Val::int),
                    ("boolean", Some(d)) => Val::bool(d != "0"),
                    ("string" | "enum", Some(d)) => Val::string(d),
                    _ => Val::NIL,
                };
                let sym = |s: &str| Val::Symbol(s.to_string());
                Val::Array(vec![
                    sym(&c.name),
                    Val::Hash(vec![
                        (sym("primary_key"), Val::bool(c.primary_key)),
                        (sym("auto_increment"), Val::bool(c.auto_increment)),
                        (sym("generated"), Val::bool(c.generated)),
                        (sym("allow_null"), Val::bool(c.nullable)),
                        (sym("default"), default),
                        (sym("db_type"), Val::string(c.column_type.clone())),
                        (sym("type"), sym(c.kind())),
                        (sym("ruby_default"), ruby_default),
                    ]),
                ])
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::parse_expr;

    fn sym(s: &str) -> Val {
        Val::Symbol(s.into())
    }

    fn hash(pairs: Vec<(Val, Val)>) -> Val {
        Val::Hash(pairs)
    }

    #[test]
    fn where_pairs_become_conditions() {
        let c = condition_of(
            "where",
            &[hash(vec![
                (
                    sym("company_id"),
                    Val::Array(vec![Val::int(1), Val::int(2)]),
                ),
                (sym("error"), Val::NIL),
                (Val::string("url"), Val::string("u")),
                (
                    sym("company"),
                    hash(vec![(sym("name"), Val::string("Acme"))]),
                ),
            ])],
        )
        .unwrap();
        assert_eq!(
            c,
            Condition::All(vec![
                attr("company_id").in_list([1, 2]),
                attr("error").is_null(),
                attr("url").eq("u"),
                attr("company.name").eq("Acme"),
            ])
        );
        assert_eq!(condition_of("where", &[]).unwrap_err().kind, "argument");
        assert_eq!(
            condition_of("where", &[Val::int(1)]).unwrap_err().kind,
            "argument"
        );
    }

    #[test]
    fn order_takes_names_hashes_and_keys() {
        let keys = order_keys(
            "order",
            &[
                sym("id"),
                hash(vec![(sym("created_at"), sym("desc"))]),
                Val::Order {
                    attribute: "url".into(),
                    descending: true,
                },
            ],
        )
        .unwrap();
        assert_eq!(
            keys,
            vec![
                attr("id").asc(),
                attr("created_at").desc(),
                attr("url").desc()
            ]
        );
        assert!(order_keys("order", &[hash(vec![(sym("id"), sym("up"))])]).is_err());
    }

    #[test]
    fn combine_paths_follow_rom() {
        let mut paths = Vec::new();
        combine_paths(&sym("posts"), "", &mut paths).unwrap();
        combine_paths(
            &hash(vec![(sym("posts"), Val::Array(vec![sym("a"), sym("b")]))]),
            "",
            &mut paths,
        )
        .unwrap();
        assert_eq!(paths, vec!["posts", "posts", "posts.a", "posts.b"]);
    }

    #[test]
    fn command_input() {
        assert_eq!(input_of(&[]).unwrap().tuples().len(), 0);
        let one = input_of(&[hash(vec![(sym("name"), Val::string("x"))])]).unwrap();
        assert_eq!(one.tuples()[0].get("name"), Some(&Value::from("x")));
        let many = input_of(&[Val::Array(vec![hash(vec![]), hash(vec![])])]).unwrap();
        assert_eq!(many.tuples().len(), 2);
        assert!(input_of(&[Val::int(1)]).is_err());
    }

    #[test]
    fn lock_options() {
        assert_eq!(lock_of(&[]).unwrap(), (LockMode::Update, LockWait::Wait));
        assert_eq!(
            lock_of(&[hash(vec![
                (sym("mode"), sym("share")),
                (sym("skip_locked"), Val::bool(true))
            ])])
            .unwrap(),
            (LockMode::Share, LockWait::SkipLocked)
        );
        assert!(lock_of(&[hash(vec![(sym("wait"), Val::bool(true))])]).is_err());
    }

    #[test]
    fn values_for_the_database() {
        assert_eq!(to_value(&sym("a")).unwrap(), Value::from("a"));
        assert_eq!(
            to_value(&Val::Array(vec![Val::int(1), Val::NIL])).unwrap(),
            Value::List(vec![Value::Int(1), Value::Null])
        );
        assert_eq!(
            to_value(&hash(vec![(sym("views"), Val::int(3))])).unwrap(),
            Value::Json(serde_json::json!({"views": 3}))
        );
        assert!(to_value(&Val::Container).is_err());
    }

    #[test]
    fn suggestions_by_edit_distance() {
        let known = strings(&["where", "exclude", "order", "one!", "one"]);
        assert_eq!(edit_distance("wher", "where"), 1);
        assert_eq!(suggestion("wher", &known), "; did you mean `where`?");
        assert_eq!(closest("ordr", &known), vec!["order"]);
        assert!(suggestion("zzzzzzzz", &known).starts_with("; known: exclude"));
        assert_eq!(suggestion("x", &[]), "");
    }

    #[test]
    fn error_kinds_are_snake_case() {
        let e = Error::UnknownRelation {
            name: "x".into(),
            known: vec![],
        };
        assert_eq!(error_kind(&e), "unknown_relation");
        assert_eq!(error_kind(&Error::Refused("no".into())), "refused");
        let e = EvalError::from(e);
        assert_eq!(e.kind, "unknown_relation");
        assert!(!e.message.contains('\n'));
    }

    #[test]
    fn kinds_are_inferred_for_completion() {
        let mut c = Catalog::default();
        c.relations.insert(
            "posts".into(),
            RelationInfo {
                views: vec!["by_url".into()],
                commands: vec!["update".into()],
                ..RelationInfo::default()
            },
        );
        let infer = |s: &str| c.infer(&parse_expr(s).unwrap());
        assert_eq!(infer("MAIN_CONTAINER"), Kind::Container);
        assert_eq!(infer("rom.relations"), Kind::Relations);
        assert_eq!(infer("relations[:posts]"), Kind::Relation("posts".into()));
        assert_eq!(
            infer("posts.where(id: 1).by_url('x').order(:id)"),
            Kind::Relation("posts".into())
        );
        assert_eq!(infer("posts.to_a"), Kind::Rows("posts".into()));
        assert_eq!(infer("posts.first"), Kind::Row("posts".into()));
        assert_eq!(
            infer("posts.by_pk(1).command(:update)"),
            Kind::Command("posts".into())
        );
        assert_eq!(
            infer("container.commands[:posts][:update]"),
            Kind::Command("posts".into())
        );
        assert_eq!(infer("gateways[:default].connection"), Kind::Connection);
        assert_eq!(infer("Time.now"), Kind::Time);
        assert_eq!(infer("x"), Kind::Unknown);
    }

    #[test]
    fn every_mapped_method_is_dispatched() {
        // The table and the dispatch in `relation_call` name the same
        // ferrom methods.
        let dispatched = [
            "filter",
            "exclude",
            "order",
            "reverse",
            "unordered",
            "distinct",
            "unfiltered",
            "limit",
            "offset",
            "page",
            "per_page",
            "select",
            "project",
            "select_append",
            "group",
            "join",
            "left_join",
            "wrap",
            "combine",
            "assoc",
            "lock",
            "by_pk",
            "to_vec",
            "first",
            "last",
            "one",
            "one_strict",
            "fetch_pk",
            "count",
            "exists",
            "pluck / pluck_many",
            "sum",
            "min",
            "max",
            "avg",
            "to_sql",
            "read",
            "command",
            "command_names",
            "name",
            "schema().attribute_names",
            "schema",
            "view_names",
            "schema().associations",
        ];
        for m in RELATION_METHODS {
            assert!(dispatched.contains(&m.rust), "{} -> {}", m.name, m.rust);
        }
    }
}
