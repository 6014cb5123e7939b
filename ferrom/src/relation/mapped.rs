//! Typed reading: a relation mapped to structs.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::TryStreamExt;
use sqlx::FromRow;
use sqlx::mysql::MySqlRow;

use super::combine::{Children, TypedNest, TypedNode};
use super::pager::Pager;
use super::{Found, Relation};
use crate::error::{Error, Result};

/// A relation whose rows are read as `T` (ROM's `map_to`), straight from the
/// driver's rows with `T`'s [`FromRow`] (derive it with
/// `#[derive(sqlx::FromRow)]`): no dynamic row in between.
///
/// Associations nest into `T` with [`Mapped::nest`]: a `Company` with
/// `posts: Vec<Post>` (mark such a field `#[sqlx(skip)]`).
pub struct Mapped<T> {
    relation: Relation,
    /// Associations loaded with the rows, each handed to its setter.
    pub(super) nodes: Vec<Arc<dyn TypedNode<T>>>,
    _to: PhantomData<fn() -> T>,
}

impl<T> Clone for Mapped<T> {
    fn clone(&self) -> Self {
        Mapped {
            relation: self.relation.clone(),
            nodes: self.nodes.clone(),
            _to: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Mapped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapped")
            .field("relation", &self.relation)
            .field(
                "nested",
                &self.nodes.iter().map(|n| n.name()).collect::<Vec<_>>(),
            )
            .field("to", &std::any::type_name::<T>())
            .finish()
    }
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
            nodes: Vec::new(),
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
        if !self.nodes.is_empty() || relation.graph.is_some() {
            // Boxed: the nested read's future is large, and the plain read
            // is the hot path.
            let (rows, _) =
                Box::pin(self.read_typed(relation, (*relation.query).clone(), None)).await?;
            return Ok(rows);
        }
        let rendered = relation.render()?;
        relation
            .exec
            .fetch_all_as(relation.gateway(), relation.statement(&rendered))
            .await
    }

    /// Every row as `T`, with the nested associations ([`Mapped::nest`]):
    /// one statement for the rows, one more per nested association and
    /// level.
    ///
    /// # Errors
    ///
    /// As [`Relation::to_vec`], plus a decode error naming the column when a
    /// column does not fit `T`; [`Error::InvalidQuery`] when the relation
    /// combines an association that is not nested into `T`, or wraps one.
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
        self.found().await?.at_most_one(self.relation.name())
    }

    /// Exactly one row as `T`.
    ///
    /// # Errors
    ///
    /// [`Error::TupleCountMismatch`] unless there is exactly one row.
    pub async fn one_strict(&self) -> Result<T> {
        self.found().await?.exactly_one(self.relation.name())
    }

    /// The row of `one` and `one_strict`: a relation pinned to one key
    /// reads its row as it arrives, any other up to two rows.
    async fn found(&self) -> Result<Found<T>> {
        let relation = &self.relation;
        let single = if self.nodes.is_empty() {
            relation.read_single_row().await?
        } else {
            None
        };
        match single {
            Some(Some(row)) => T::from_row(&row)
                .map(Found::One)
                .map_err(|e| Error::classify(Some(relation.name()), &relation.gateway().url(), e)),
            Some(None) => Ok(Found::None),
            None => Ok(Found::of(self.fetch(&relation.at_most_two()).await?)),
        }
    }

    /// Calls `each` with every row as `T`, streaming them from the server
    /// (memory stays bounded whatever the table's size).
    ///
    /// # Errors
    ///
    /// As [`Mapped::to_vec`]; the first error `each` returns stops the scan.
    pub async fn for_each(&self, mut each: impl FnMut(T) -> Result<()> + Send) -> Result<()> {
        if !self.nodes.is_empty() || self.relation.graph.is_some() {
            return Err(Error::InvalidQuery {
                relation: self.relation.name().to_string(),
                reason: "for_each streams rows one at a time and cannot nest associations; \
                         read them with to_vec (page by page for large tables)"
                    .into(),
            });
        }
        let rendered = self.relation.render()?;
        let mut rows = self.relation.exec.stream(
            self.relation.gateway(),
            rendered.sql.into_string(),
            rendered.binds,
            Some(self.relation.name().to_string()),
        );
        while let Some(row) = rows.try_next().await? {
            let item = T::from_row(&row).map_err(|e| {
                Error::classify(
                    Some(self.relation.name()),
                    &self.relation.gateway().url(),
                    e,
                )
            })?;
            each(item)?;
        }
        Ok(())
    }
}

impl<T> Mapped<T>
where
    T: for<'r> FromRow<'r, MySqlRow> + Send + Unpin + 'static,
{
    /// Loads an association with the rows and hands each row its own
    /// (ROM's `combine` for structs): `set` gets the row and a `Vec<C>` of
    /// its children for a has-many or many-to-many association, an
    /// `Option<C>` for a belongs-to or has-one. One more statement
    /// (`WHERE key IN (...)`), the keys read from the same driver rows `T`
    /// is decoded from.
    ///
    /// ```no_run
    /// # #[derive(sqlx::FromRow, Clone)] struct Post { id: i32 }
    /// # #[derive(sqlx::FromRow)] struct Company { id: i32, #[sqlx(skip)] posts: Vec<Post> }
    /// # async fn demo(companies: ferrom::Relation) -> ferrom::Result<()> {
    /// let companies: Vec<Company> = companies
    ///     .map_to::<Company>()
    ///     .nest("posts", |company: &mut Company, posts: Vec<Post>| company.posts = posts)
    ///     .to_vec()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// The children are read from the relation's combined node when it has
    /// one (`combine("posts").node("posts", ...)` refines them), else from
    /// the target relation as registered.
    ///
    /// When read: [`Error::UnknownAssociation`]; [`Error::InvalidQuery`]
    /// when a `Vec` is asked of a to-one association or an `Option` of a
    /// to-many one.
    #[must_use]
    pub fn nest<K, F>(self, association: &str, set: F) -> Mapped<T>
    where
        K: Children,
        K::Item: for<'r> FromRow<'r, MySqlRow> + Clone + Send + Unpin + 'static,
        F: Fn(&mut T, K) + Send + Sync + 'static,
    {
        self.nest_with(association, Relation::map_to::<K::Item>, set)
    }

    /// [`Mapped::nest`], the children read as `build` says: it gets the
    /// child relation and returns it mapped, refined or with nests of its
    /// own (the next level):
    ///
    /// ```no_run
    /// # #[derive(sqlx::FromRow, Clone)] struct Comment { id: i32 }
    /// # #[derive(sqlx::FromRow, Clone)] struct Post { id: i32, #[sqlx(skip)] comments: Vec<Comment> }
    /// # #[derive(sqlx::FromRow)] struct Company { id: i32, #[sqlx(skip)] posts: Vec<Post> }
    /// # async fn demo(companies: ferrom::Relation) -> ferrom::Result<()> {
    /// let companies: Vec<Company> = companies
    ///     .map_to::<Company>()
    ///     .nest_with(
    ///         "posts",
    ///         |posts| {
    ///             posts
    ///                 .filter(("se_post", true))
    ///                 .map_to::<Post>()
    ///                 .nest("comments", |p: &mut Post, c: Vec<Comment>| p.comments = c)
    ///         },
    ///         |company: &mut Company, posts: Vec<Post>| company.posts = posts,
    ///     )
    ///     .to_vec()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// When read: as [`Mapped::nest`]; [`Error::InvalidQuery`] when `build`
    /// returns a relation of another table.
    #[must_use]
    pub fn nest_with<K, B, F>(self, association: &str, build: B, set: F) -> Mapped<T>
    where
        K: Children,
        K::Item: for<'r> FromRow<'r, MySqlRow> + Clone + Send + Unpin + 'static,
        B: FnOnce(&Relation) -> Mapped<K::Item>,
        F: Fn(&mut T, K) + Send + Sync + 'static,
    {
        let mut next = self;
        let (association, child) = match next.relation.nest_target(association, K::MANY) {
            Ok(found) => found,
            Err(e) => {
                next.relation = next.relation.with(|_, _| Err(e));
                return next;
            }
        };
        let children = build(&child);
        if children.relation.name() != child.name() {
            let reason = format!(
                "nest_with(\"{}\") must build a relation of `{}`, got `{}`",
                association.name,
                child.name(),
                children.relation.name()
            );
            next.relation = next.relation.with(|r, _| {
                Err(Error::InvalidQuery {
                    relation: r.name().to_string(),
                    reason,
                })
            });
            return next;
        }
        next.nodes.retain(|n| n.name() != association.name);
        next.nodes.push(Arc::new(TypedNest::<T, K, F> {
            association,
            children,
            set,
            parent: PhantomData,
        }));
        next
    }
}
