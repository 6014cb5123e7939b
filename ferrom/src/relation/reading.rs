//! Reading a relation: materializers, aggregates and streams.

use std::sync::Arc;

use futures_core::stream::BoxStream;
use futures_util::StreamExt;
use sqlx::mysql::MySqlRow;

use crate::exec::Statement;

use super::query::{Aggregate, ColumnRef, Rendered, SelectItem};
use super::{Found, Relation, sql};
use crate::error::{Error, Result};
use crate::row::{Columns, Row, decode_row};
use crate::value::Value;

impl Relation {
    /// Runs a rendered statement and decodes every row with `columns`.
    async fn fetch(
        &self,
        rendered: Rendered,
        columns: &std::sync::Arc<Columns>,
    ) -> Result<Vec<Row>> {
        self.exec
            .fetch_map(self.gateway(), self.statement(&rendered), |r| {
                decode_row(columns, r)
            })
            .await
    }

    pub(crate) async fn fetch_raw(&self, rendered: Rendered) -> Result<Vec<MySqlRow>> {
        self.exec
            .fetch_all(self.gateway(), self.statement(&rendered))
            .await
    }

    /// Every row (ROM's `to_a`), with the associations combined or wrapped
    /// into it nested under each row (one more statement per combined
    /// association and level; see [`Relation::combine`]).
    ///
    /// # Errors
    ///
    /// A builder error kept by the relation, or the server's error,
    /// classified (see [`Error`]).
    pub async fn to_vec(&self) -> Result<Vec<Row>> {
        if self.graph.is_some() {
            // Combined and wrapped associations: see `combine.rs`.
            let (rows, _) = self.read_graph((*self.query).clone(), None).await?;
            return Ok(rows);
        }
        let rendered = self.render()?;
        self.fetch(rendered, &self.columns).await
    }

    /// Same as [`Relation::to_vec`], ROM's name.
    ///
    /// # Errors
    ///
    /// As [`Relation::to_vec`].
    pub async fn to_a(&self) -> Result<Vec<Row>> {
        self.to_vec().await
    }

    /// The rows one at a time as the server sends them, without loading them
    /// all (ROM's `each`). A relation that combines or wraps associations
    /// yields one [`Error::InvalidQuery`] instead: read it with
    /// [`Relation::to_vec`].
    pub fn stream(&self) -> BoxStream<'static, Result<Row>> {
        if self.graph.is_some() {
            let e = Error::InvalidQuery {
                relation: self.name().to_string(),
                reason: "stream reads rows one at a time and cannot nest combined or wrapped \
                         associations; read them with to_vec (page by page for large tables)"
                    .into(),
            };
            return futures_util::stream::once(async move { Err(e) }).boxed();
        }
        let rendered = match self.render() {
            Ok(r) => r,
            Err(e) => return futures_util::stream::once(async move { Err(e) }).boxed(),
        };
        let columns = self.columns.clone();
        self.exec
            .stream(
                self.gateway(),
                rendered.sql.into_string(),
                rendered.binds,
                Some(self.name().to_string()),
            )
            .map(move |row| row.and_then(|row| decode_row(&columns, &row)))
            .boxed()
    }

    /// The first row in the relation's order, if any.
    ///
    /// # Errors
    ///
    /// As [`Relation::to_vec`].
    pub async fn first(&self) -> Result<Option<Row>> {
        Ok(self.limit(1).to_vec().await?.into_iter().next())
    }

    /// The last row in the relation's order (the order reversed), if any.
    ///
    /// # Errors
    ///
    /// As [`Relation::to_vec`].
    pub async fn last(&self) -> Result<Option<Row>> {
        Ok(self.reverse().limit(1).to_vec().await?.into_iter().next())
    }

    /// The one row, or none.
    ///
    /// # Errors
    ///
    /// [`Error::TupleCountMismatch`] when there is more than one row; as
    /// [`Relation::to_vec`].
    pub async fn one(&self) -> Result<Option<Row>> {
        self.found().await?.at_most_one(self.name())
    }

    /// Exactly one row (ROM's `one!`).
    ///
    /// # Errors
    ///
    /// [`Error::TupleCountMismatch`] when there are none or several; as
    /// [`Relation::to_vec`].
    pub async fn one_strict(&self) -> Result<Row> {
        self.found().await?.exactly_one(self.name())
    }

    /// The row of `one` and `one_strict`: a relation pinned to one key
    /// reads its row as it arrives, any other up to two rows.
    async fn found(&self) -> Result<Found<Row>> {
        match self.read_single_row().await? {
            Some(Some(row)) => Ok(Found::One(decode_row(&self.columns, &row)?)),
            Some(None) => Ok(Found::None),
            None => Ok(Found::of(self.at_most_two().to_vec().await?)),
        }
    }

    /// For `one`: the row of a relation pinned to one key, read as it
    /// arrives (`Some(None)` when there is none); `None` for any other
    /// relation, which reads up to two rows instead.
    pub(crate) async fn read_single_row(&self) -> Result<Option<Option<MySqlRow>>> {
        let Some(rendered) = self.single_row_read() else {
            return Ok(None);
        };
        self.exec
            .fetch_optional(self.gateway(), self.statement(&rendered))
            .await
            .map(Some)
    }

    /// The row with this primary key (ROM's `fetch`: `by_pk(pk).one!`).
    ///
    /// # Errors
    ///
    /// [`Error::TupleCountMismatch`] when there is no such row; as
    /// [`Relation::to_vec`].
    pub async fn fetch_pk(&self, key: impl Into<Value>) -> Result<Row> {
        self.by_pk(key).one_strict().await
    }

    /// How many rows the relation has (ignoring its order).
    ///
    /// # Errors
    ///
    /// As [`Relation::to_vec`].
    pub async fn count(&self) -> Result<u64> {
        self.check()?;
        let rendered = sql::render_count(&self.query, self.gateway().capabilities())
            .map_err(|e| e.into_error(self.name()))?;
        let rows = self.fetch_raw(rendered).await?;
        let value = rows
            .first()
            .map(|r| crate::row::decode_scalar(r, 0))
            .transpose()?
            .unwrap_or(Value::Int(0));
        Ok(value
            .as_i64()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0))
    }

    /// Whether the relation has any row (ROM's `exist?`).
    ///
    /// # Errors
    ///
    /// As [`Relation::to_vec`].
    pub async fn exists(&self) -> Result<bool> {
        self.check()?;
        let rendered = sql::render_exists(&self.query, self.gateway().capabilities())
            .map_err(|e| e.into_error(self.name()))?;
        Ok(!self.fetch_raw(rendered).await?.is_empty())
    }

    /// One attribute of every row.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAttribute`]; as [`Relation::to_vec`].
    pub async fn pluck(&self, name: &str) -> Result<Vec<Value>> {
        let rows = self.without_graph().select([name]).to_vec().await?;
        Ok(rows
            .into_iter()
            .map(|r| r.into_values().into_iter().next().unwrap_or(Value::Null))
            .collect())
    }

    /// Several attributes of every row, as lists in the order asked.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAttribute`]; as [`Relation::to_vec`].
    pub async fn pluck_many<I, S>(&self, names: I) -> Result<Vec<Vec<Value>>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let rows = self.without_graph().select(names).to_vec().await?;
        Ok(rows.into_iter().map(Row::into_values).collect())
    }

    async fn aggregate(&self, function: Aggregate, name: &str) -> Result<Value> {
        self.check()?;
        let mut query = (*self.query).clone();
        let (column, _) = self.column(&query, name)?;
        query.select = Arc::new(vec![SelectItem::Aggregate(
            function,
            Some(column),
            "value".into(),
        )]);
        query.order = Arc::default();
        query.distinct = false;
        let rendered = sql::render(&query, self.gateway().capabilities())
            .map_err(|e| e.into_error(self.name()))?;
        let rows = self.fetch_raw(rendered).await?;
        match rows.first() {
            Some(r) => crate::row::decode_scalar(r, 0),
            None => Ok(Value::Null),
        }
    }

    /// `SUM(attribute)` (NULL when there are no rows; exact for decimals).
    ///
    /// # Errors
    ///
    /// As [`Relation::pluck`].
    pub async fn sum(&self, name: &str) -> Result<Value> {
        self.aggregate(Aggregate::Sum, name).await
    }

    /// `MIN(attribute)`.
    ///
    /// # Errors
    ///
    /// As [`Relation::pluck`].
    pub async fn min(&self, name: &str) -> Result<Value> {
        self.aggregate(Aggregate::Min, name).await
    }

    /// `MAX(attribute)`.
    ///
    /// # Errors
    ///
    /// As [`Relation::pluck`].
    pub async fn max(&self, name: &str) -> Result<Value> {
        self.aggregate(Aggregate::Max, name).await
    }

    /// `AVG(attribute)`.
    ///
    /// # Errors
    ///
    /// As [`Relation::pluck`].
    pub async fn avg(&self, name: &str) -> Result<Value> {
        self.aggregate(Aggregate::Avg, name).await
    }

    /// Runs raw SQL with bound values on the relation's gateway and returns
    /// dynamic rows (ROM's `read`).
    ///
    /// # Errors
    ///
    /// The server's error, classified.
    pub async fn read(&self, sql: &str, binds: &[Value]) -> Result<Vec<Row>> {
        let rows = self
            .exec
            .fetch_all(
                self.gateway(),
                Statement {
                    sql: sql.into(),
                    binds,
                    relation: Some(self.name()),
                },
            )
            .await?;
        crate::row::decode_raw_rows(self.name(), Some(self.schema()), &rows)
    }

    /// The query's primary-key columns, for commands restricted by it.
    #[allow(dead_code)]
    pub(crate) fn pk_columns(&self) -> Vec<ColumnRef> {
        self.schema()
            .primary_key_names()
            .into_iter()
            .map(|c| ColumnRef::new(None, c))
            .collect()
    }
}
