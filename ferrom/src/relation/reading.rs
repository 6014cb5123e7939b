//! Reading a relation: materializers, aggregates and streams.

use futures_core::stream::BoxStream;
use futures_util::StreamExt;
use sqlx::mysql::MySqlRow;

use super::query::{Aggregate, ColumnRef, Rendered, SelectItem};
use super::{Relation, sql};
use crate::bind::arguments;
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
        let rows = self.fetch_raw(rendered).await?;
        rows.iter().map(|r| decode_row(columns, r)).collect()
    }

    pub(crate) async fn fetch_raw(&self, rendered: Rendered) -> Result<Vec<MySqlRow>> {
        let args = arguments(&rendered.binds)?;
        self.gateway().note_statement();
        let started = std::time::Instant::now();
        let result = sqlx::query_with(sqlx::AssertSqlSafe(rendered.sql.as_str()), args)
            .fetch_all(self.gateway().pool())
            .await;
        tracing::debug!(relation = %self.name(), sql = %rendered.sql, elapsed_us = started.elapsed().as_micros(), "query");
        result.map_err(|e| Error::classify(Some(self.name()), &self.gateway().url(), e))
    }

    /// Every row (ROM's `to_a`).
    ///
    /// # Errors
    ///
    /// A builder error kept by the relation, or the server's error,
    /// classified (see [`Error`]).
    pub async fn to_vec(&self) -> Result<Vec<Row>> {
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
    /// all (ROM's `each`).
    pub fn stream(&self) -> BoxStream<'_, Result<Row>> {
        let rendered = match self.render() {
            Ok(r) => r,
            Err(e) => return futures_util::stream::once(async move { Err(e) }).boxed(),
        };
        let args = match arguments(&rendered.binds) {
            Ok(a) => a,
            Err(e) => return futures_util::stream::once(async move { Err(e) }).boxed(),
        };
        let columns = self.columns.clone();
        let name = self.name().to_string();
        let url = self.gateway().url();
        let pool = self.gateway().pool().clone();
        self.gateway().note_statement();
        let stream = async_stream_rows(pool, rendered.sql, args);
        stream
            .map(move |row| match row {
                Ok(row) => decode_row(&columns, &row),
                Err(e) => Err(Error::classify(Some(&name), &url, e)),
            })
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
        let mut rows = self.limit(2).to_vec().await?;
        if rows.len() > 1 {
            return Err(Error::TupleCountMismatch {
                relation: self.name().to_string(),
                expected: "at most one row".into(),
                found: "more than one".into(),
            });
        }
        Ok(rows.pop())
    }

    /// Exactly one row (ROM's `one!`).
    ///
    /// # Errors
    ///
    /// [`Error::TupleCountMismatch`] when there are none or several; as
    /// [`Relation::to_vec`].
    pub async fn one_strict(&self) -> Result<Row> {
        let mut rows = self.limit(2).to_vec().await?;
        match rows.len() {
            1 => Ok(rows.remove(0)),
            n => Err(Error::TupleCountMismatch {
                relation: self.name().to_string(),
                expected: "exactly one row".into(),
                found: if n == 0 {
                    "0".into()
                } else {
                    "more than one".into()
                },
            }),
        }
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
        let rows = self.select([name]).to_vec().await?;
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
        let rows = self.select(names).to_vec().await?;
        Ok(rows.into_iter().map(Row::into_values).collect())
    }

    async fn aggregate(&self, function: Aggregate, name: &str) -> Result<Value> {
        self.check()?;
        let mut query = (*self.query).clone();
        let (column, _) = self.column(&query, name)?;
        query.select = vec![SelectItem::Aggregate(
            function,
            Some(column),
            "value".into(),
        )];
        query.order.clear();
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
        self.gateway().note_statement();
        crate::row::read_pool(
            self.gateway().pool(),
            Some(self.name()),
            &self.gateway().url(),
            sql,
            binds,
        )
        .await
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

/// Streams rows from the pool; the connection is held until the stream ends.
fn async_stream_rows(
    pool: sqlx::MySqlPool,
    sql: String,
    args: sqlx::mysql::MySqlArguments,
) -> BoxStream<'static, std::result::Result<MySqlRow, sqlx::Error>> {
    futures_util::stream::once(async move { pool.acquire().await })
        .flat_map(move |conn| match conn {
            Err(e) => futures_util::stream::once(async move { Err(e) }).boxed(),
            Ok(mut conn) => {
                let sql = sql.clone();
                let args = args.clone();
                async_stream_owned(move |tx| async move {
                    let mut rows =
                        sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), args).fetch(&mut *conn);
                    while let Some(row) = rows.next().await {
                        if tx.send(row).await.is_err() {
                            break;
                        }
                    }
                })
            }
        })
        .boxed()
}

/// A stream fed by a task through a small channel: the producer holds the
/// connection and borrows it for the query, the consumer pulls rows one at a
/// time (back-pressure keeps memory bounded).
fn async_stream_owned<F, Fut>(
    producer: F,
) -> BoxStream<'static, std::result::Result<MySqlRow, sqlx::Error>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<std::result::Result<MySqlRow, sqlx::Error>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(producer(tx));
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
}
