//! Typed reading: a relation mapped to structs.

use std::marker::PhantomData;

use futures_util::TryStreamExt;
use sqlx::FromRow;
use sqlx::mysql::MySqlRow;

use super::Relation;
use super::pager::Pager;
use crate::bind::arguments;
use crate::error::{Error, Result};

/// A relation whose rows are read as `T` (ROM's `map_to`), straight from the
/// driver's rows with `T`'s [`FromRow`] (derive it with
/// `#[derive(sqlx::FromRow)]`): no dynamic row in between.
#[derive(Clone, Debug)]
pub struct Mapped<T> {
    relation: Relation,
    _to: PhantomData<fn() -> T>,
}

impl Relation {
    /// Reads rows as `T` through its [`FromRow`] implementation, matching
    /// columns by name.
    pub fn map_to<T>(&self) -> Mapped<T>
    where
        T: for<'r> FromRow<'r, MySqlRow> + Send + Unpin,
    {
        Mapped {
            relation: self.clone(),
            _to: PhantomData,
        }
    }

    /// The pager of a paginated relation: total rows and pages.
    ///
    /// # Errors
    ///
    /// As [`Relation::count`].
    pub async fn pager(&self) -> Result<Pager> {
        let (current_page, per_page) = self.page.unwrap_or((1, super::DEFAULT_PER_PAGE));
        let mut all = self.clone();
        all.page = None;
        let total = all
            .with(|_, q| {
                q.limit = None;
                q.offset = None;
                Ok(())
            })
            .count()
            .await?;
        Ok(Pager {
            total,
            per_page,
            current_page,
        })
    }
}

impl<T> Mapped<T>
where
    T: for<'r> FromRow<'r, MySqlRow> + Send + Unpin,
{
    /// The relation being read.
    pub fn relation(&self) -> &Relation {
        &self.relation
    }

    async fn fetch(&self, relation: &Relation) -> Result<Vec<T>> {
        let rendered = relation.render()?;
        let args = arguments(&rendered.binds)?;
        relation.gateway().note_statement();
        sqlx::query_as_with::<_, T, _>(sqlx::AssertSqlSafe(rendered.sql.as_str()), args)
            .fetch_all(relation.gateway().pool())
            .await
            .map_err(|e| Error::classify(Some(relation.name()), &relation.gateway().url(), e))
    }

    /// Every row as `T`.
    ///
    /// # Errors
    ///
    /// As [`Relation::to_vec`], plus a decode error naming the column when a
    /// column does not fit `T`.
    pub async fn to_vec(&self) -> Result<Vec<T>> {
        self.fetch(&self.relation).await
    }

    /// The first row as `T`, if any.
    ///
    /// # Errors
    ///
    /// As [`Mapped::to_vec`].
    pub async fn first(&self) -> Result<Option<T>> {
        Ok(self
            .fetch(&self.relation.limit(1))
            .await?
            .into_iter()
            .next())
    }

    /// The one row as `T`, or none.
    ///
    /// # Errors
    ///
    /// [`Error::TupleCountMismatch`] when there are several rows; as
    /// [`Mapped::to_vec`].
    pub async fn one(&self) -> Result<Option<T>> {
        let mut rows = self.fetch(&self.relation.limit(2)).await?;
        if rows.len() > 1 {
            return Err(Error::TupleCountMismatch {
                relation: self.relation.name().to_string(),
                expected: "at most one row".into(),
                found: "more than one".into(),
            });
        }
        Ok(rows.pop())
    }

    /// Exactly one row as `T`.
    ///
    /// # Errors
    ///
    /// [`Error::TupleCountMismatch`] unless there is exactly one row.
    pub async fn one_strict(&self) -> Result<T> {
        let mut rows = self.fetch(&self.relation.limit(2)).await?;
        match rows.len() {
            1 => Ok(rows.remove(0)),
            n => Err(Error::TupleCountMismatch {
                relation: self.relation.name().to_string(),
                expected: "exactly one row".into(),
                found: if n == 0 {
                    "0".into()
                } else {
                    "more than one".into()
                },
            }),
        }
    }

    /// Calls `each` with every row as `T`, streaming them from the server
    /// (memory stays bounded whatever the table's size).
    ///
    /// # Errors
    ///
    /// As [`Mapped::to_vec`]; the first error `each` returns stops the scan.
    pub async fn for_each(&self, mut each: impl FnMut(T) -> Result<()> + Send) -> Result<()> {
        let rendered = self.relation.render()?;
        let args = arguments(&rendered.binds)?;
        let relation = &self.relation;
        relation.gateway().note_statement();
        let mut conn =
            relation.gateway().pool().acquire().await.map_err(|e| {
                Error::classify(Some(relation.name()), &relation.gateway().url(), e)
            })?;
        let mut rows =
            sqlx::query_as_with::<_, T, _>(sqlx::AssertSqlSafe(rendered.sql.as_str()), args)
                .fetch(&mut *conn);
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(|e| Error::classify(Some(relation.name()), &relation.gateway().url(), e))?
        {
            each(row)?;
        }
        Ok(())
    }
}
