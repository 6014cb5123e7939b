//! Associations on the real server: combine (one statement per level),
//! node, wrap, assoc, belongs-to and many-to-many, typed nesting, and the
//! number of statements each issues.

use ferrom::relation::Mapped;
use ferrom::row::Nested;
use ferrom::{Association, Configuration, Container, Error, RelationDefinition, Row, Value, attr};
use post_analytics::{Company, Post};

use crate::support::{TestDb, reference_db};

/// Three companies; posts 1-5 on company 1, 6-7 on company 2, none on 3,
/// and post 8 on no company. Even posts are search-engine posts.
async fn seed(container: &Container) {
    let companies = container.relation("companies").unwrap();
    companies
        .read(
            "INSERT INTO companies (id, name, domain, state) VALUES
             (1, 'Acme', 'https://acme.test', 'running'),
             (2, 'Beta', 'https://beta.test', 'stopped'),
             (3, 'Gamma', 'https://gamma.test', 'running')",
            &[],
        )
        .await
        .unwrap();
    let posts = container.relation("posts").unwrap();
    for i in 1..=8 {
        let company: Value = match i {
            1..=5 => 1.into(),
            6 | 7 => 2.into(),
            _ => Value::Null,
        };
        posts
            .read(
                "INSERT INTO posts (id, url, se_post, scrapped_at, company_id) \
                 VALUES (?, ?, ?, '2019-03-10 10:00:00', ?)",
                &[
                    Value::Int(i),
                    format!("http://example.com/{i}").into(),
                    (i % 2 == 0).into(),
                    company,
                ],
            )
            .await
            .unwrap();
    }
}

fn id(row: &Row) -> i64 {
    row.get("id").unwrap().as_i64().unwrap()
}

fn ids(rows: &[Row]) -> Vec<i64> {
    rows.iter().map(id).collect()
}

/// How many statements `container`'s default gateway has run.
fn statements(container: &Container) -> u64 {
    container.gateway("default").unwrap().statements_run()
}

#[tokio::test]
async fn combine_nests_children_under_each_parent_in_two_statements() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let companies = container.relation("companies").unwrap();

    let before = statements(&container);
    let rows = companies.combine("posts").to_vec().await.unwrap();
    assert_eq!(
        statements(&container) - before,
        2,
        "parents, then one IN query"
    );
    assert_eq!(ids(&rows), [1, 2, 3]);
    assert_eq!(ids(rows[0].children("posts").unwrap()), [1, 2, 3, 4, 5]);
    assert_eq!(ids(rows[1].children("posts").unwrap()), [6, 7]);
    assert!(rows[2].children("posts").unwrap().is_empty());
    // Attributes read as before; the children are whole post rows.
    assert_eq!(rows[0].get("name").unwrap(), &Value::from("Acme"));
    assert_eq!(
        rows[1].children("posts").unwrap()[0].get("url").unwrap(),
        &Value::from("http://example.com/6")
    );
    assert_eq!(rows[0].names().len(), 6, "no hidden key columns in the row");

    // JSON nests them as an array (empty for none).
    let json = rows[2].to_json();
    assert_eq!(json["name"], "Gamma");
    assert_eq!(json["posts"], serde_json::json!([]));
    assert_eq!(rows[1].to_json()["posts"][1]["id"], 7);

    // Parent order is the parents' order, whatever it is.
    let reversed = companies.reverse().combine("posts").to_vec().await.unwrap();
    assert_eq!(ids(&reversed), [3, 2, 1]);
    assert_eq!(ids(reversed[1].children("posts").unwrap()), [6, 7]);

    // Reading what was not combined, or with the wrong accessor, is an error.
    let err = rows[0].children("tags").unwrap_err();
    assert!(matches!(err, Error::InvalidAssociation { .. }), "{err}");
    assert!(err.to_string().contains("loaded: posts"), "{err}");
    let err = rows[0].parent("posts").unwrap_err();
    assert!(err.to_string().contains("children"), "{err}");
    assert!(matches!(rows[0].nested("posts"), Some(Nested::Many(p)) if p.len() == 5));

    // Materializers load them too.
    let first = companies.combine("posts").first().await.unwrap().unwrap();
    assert_eq!(ids(first.children("posts").unwrap()), [1, 2, 3, 4, 5]);
    let gamma = companies.combine("posts").fetch_pk(3).await.unwrap();
    assert!(gamma.children("posts").unwrap().is_empty());
    // to_sql shows the parents' statement.
    assert!(
        companies
            .combine("posts")
            .to_sql()
            .unwrap()
            .starts_with("SELECT `companies`.`id`"),
    );
}

#[tokio::test]
async fn parent_keys_are_read_even_when_the_selection_leaves_them_out() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let rows = container
        .relation("companies")
        .unwrap()
        .select(["name"])
        .combine("posts")
        .node("posts", |posts| posts.select(["url"]))
        .to_vec()
        .await
        .unwrap();
    assert_eq!(rows[0].names(), ["name".to_string()]);
    let urls: Vec<&Value> = rows[1]
        .children("posts")
        .unwrap()
        .iter()
        .map(|p| p.get("url").unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            &Value::from("http://example.com/6"),
            &Value::from("http://example.com/7")
        ]
    );
    assert_eq!(rows[1].children("posts").unwrap()[0].len(), 1);
}

#[tokio::test]
async fn node_refines_the_child_relation() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let companies = container.relation("companies").unwrap();
    let before = statements(&container);
    let rows = companies
        .combine("posts")
        .node("posts", |posts| {
            posts.filter(("se_post", true)).order([attr("id").desc()])
        })
        .to_vec()
        .await
        .unwrap();
    assert_eq!(statements(&container) - before, 2);
    assert_eq!(ids(rows[0].children("posts").unwrap()), [4, 2]);
    assert_eq!(ids(rows[1].children("posts").unwrap()), [6]);
    assert!(rows[2].children("posts").unwrap().is_empty());

    // node comes after combine.
    let err = companies
        .node("posts", |p| p.filter(("se_post", true)))
        .to_vec()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery { .. }), "{err}");
    assert!(
        err.to_string().contains("combine(\"posts\") first"),
        "{err}"
    );
    // An unknown association, in combine or node, lists the known ones.
    for err in [
        companies.combine("postz").to_vec().await.unwrap_err(),
        companies
            .combine("posts")
            .node("postz", |p| p.clone())
            .to_vec()
            .await
            .unwrap_err(),
    ] {
        match &err {
            Error::UnknownAssociation {
                relation,
                association,
                known,
            } => {
                assert_eq!(
                    (relation.as_str(), association.as_str()),
                    ("companies", "postz")
                );
                assert_eq!(known, &["posts".to_string()]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // A node must stay a relation of its table; its own errors surface.
    let err = companies
        .combine("posts")
        .node("posts", |_| companies.clone())
        .to_vec()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("must return a relation of `posts`"),
        "{err}"
    );
    let err = companies
        .combine("posts")
        .node("posts", |p| p.filter(("nope", 1)))
        .to_vec()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownAttribute { .. }), "{err}");
}

#[tokio::test]
async fn belongs_to_combine_nests_one_parent_or_none() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();
    let before = statements(&container);
    let rows = posts.combine("company").to_vec().await.unwrap();
    assert_eq!(statements(&container) - before, 2);
    assert_eq!(ids(&rows), [1, 2, 3, 4, 5, 6, 7, 8]);
    for row in &rows[..5] {
        assert_eq!(id(row.parent("company").unwrap().unwrap()), 1);
    }
    let company = rows[6].parent("company").unwrap().unwrap();
    assert_eq!(company.get("name").unwrap(), &Value::from("Beta"));
    assert_eq!(rows[7].parent("company").unwrap(), None, "NULL company_id");
    assert_eq!(rows[7].to_json()["company"], serde_json::Value::Null);
    assert_eq!(rows[6].to_json()["company"]["name"], "Beta");
    assert!(rows[0].children("company").is_err());
}

#[tokio::test]
async fn wrap_joins_the_parent_into_the_same_statement() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();
    let before = statements(&container);
    let rows = posts.wrap("company").to_vec().await.unwrap();
    assert_eq!(statements(&container) - before, 1, "one JOIN statement");
    // Post 8 has no company: the inner join drops it, as ROM's wrap does.
    assert_eq!(ids(&rows), [1, 2, 3, 4, 5, 6, 7]);
    let company = rows[5].parent("company").unwrap().unwrap();
    assert_eq!(company.get("name").unwrap(), &Value::from("Beta"));
    assert_eq!(company.get("id").unwrap(), &Value::Int(2));
    assert_eq!(company.names().len(), 6);
    // The post's own columns are untouched (its `id` is the post's).
    assert_eq!(rows[5].names().len(), 10);
    assert_eq!(rows[5].get("id").unwrap(), &Value::Int(6));
    assert_eq!(rows[5].to_json()["company"]["domain"], "https://beta.test");

    // The joined attributes can be filtered on; count agrees.
    let stopped = posts.wrap("company").filter(("company.state", "stopped"));
    assert_eq!(ids(&stopped.to_vec().await.unwrap()), [6, 7]);
    assert_eq!(stopped.count().await.unwrap(), 2);
    assert_eq!(posts.wrap("company").count().await.unwrap(), 7);
    // Plucking ignores the wrap's columns but keeps its join.
    assert_eq!(posts.wrap("company").pluck("id").await.unwrap().len(), 7);

    // After a left join of the same association, unmatched rows stay.
    let left = posts
        .left_join("company")
        .wrap("company")
        .to_vec()
        .await
        .unwrap();
    assert_eq!(ids(&left), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(left[7].parent("company").unwrap(), None);
    // Streaming cannot nest: it says so rather than dropping the parents.
    let mut stream = posts.wrap("company").stream();
    let err = futures_util::StreamExt::next(&mut stream)
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("to_vec"), "{err}");

    // wrap is for to-one associations.
    let companies = container.relation("companies").unwrap();
    let err = companies.wrap("posts").to_vec().await.unwrap_err();
    assert!(err.to_string().contains("combine it instead"), "{err}");
    let err = posts.wrap("nope").to_vec().await.unwrap_err();
    assert!(matches!(err, Error::UnknownAssociation { .. }), "{err}");
    let err = posts
        .combine("company")
        .wrap("company")
        .to_vec()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not both"), "{err}");
}

#[tokio::test]
async fn assoc_is_a_relation_of_the_targets_of_given_parents() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let companies = container.relation("companies").unwrap();
    let posts = container.relation("posts").unwrap();

    let of_acme = companies.by_pk(1).assoc("posts").unwrap();
    assert_eq!(of_acme.name(), "posts");
    let before = statements(&container);
    assert_eq!(ids(&of_acme.to_vec().await.unwrap()), [1, 2, 3, 4, 5]);
    assert_eq!(
        statements(&container) - before,
        1,
        "one statement with a subquery"
    );
    // It chains like any relation.
    let se = of_acme.filter(("se_post", true)).order([attr("id").desc()]);
    assert_eq!(ids(&se.to_vec().await.unwrap()), [4, 2]);
    assert_eq!(se.count().await.unwrap(), 2);

    // Any restriction of the parents, limits included.
    let running = companies
        .filter(("state", "running"))
        .assoc("posts")
        .unwrap();
    assert_eq!(ids(&running.to_vec().await.unwrap()), [1, 2, 3, 4, 5]);
    let last_two = companies.reverse().limit(2).assoc("posts").unwrap();
    assert_eq!(ids(&last_two.to_vec().await.unwrap()), [6, 7]);

    // belongs_to: the companies of some posts, each once.
    let owners = posts.filter(attr("id").gt(4)).assoc("company").unwrap();
    assert_eq!(ids(&owners.to_vec().await.unwrap()), [1, 2]);
    // And it combines further.
    let rows = companies
        .by_pk(2)
        .assoc("posts")
        .unwrap()
        .combine("company")
        .to_vec()
        .await
        .unwrap();
    assert_eq!(id(rows[0].parent("company").unwrap().unwrap()), 2);

    let err = companies.assoc("nope").unwrap_err();
    assert!(matches!(err, Error::UnknownAssociation { .. }), "{err}");
    assert!(companies.filter(("nope", 1)).assoc("posts").is_err());
}

/// A comments table belonging to posts, in the test's database, and a
/// configuration with companies → posts → comments.
async fn with_comments(db: &TestDb) -> Container {
    let mut conn = db.connect().await;
    sqlx::raw_sql(
        "CREATE TABLE comments (
           id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
           body VARCHAR(255) NOT NULL,
           approved TINYINT(1) NOT NULL DEFAULT 1,
           post_id INT NULL,
           CONSTRAINT comments_post_id_fkey FOREIGN KEY (post_id) REFERENCES posts (id)
         );
         INSERT INTO comments (id, body, approved, post_id) VALUES
           (1, 'first on 1', 1, 1), (2, 'on 6', 1, 6), (3, 'second on 1', 0, 1),
           (4, 'on 2', 1, 2), (5, 'on nothing', 1, NULL)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let mut config = Configuration::new(&db.test_settings());
    config
        .register_relation(post_analytics::companies::relation())
        .register_relation(
            post_analytics::posts::relation().association(Association::has_many("comments")),
        )
        .register_relation(
            RelationDefinition::new("comments").association(Association::belongs_to("post")),
        );
    config.finalize().await.unwrap()
}

#[tokio::test]
async fn nested_combine_issues_one_statement_per_level() {
    let (db, reference) = reference_db().await;
    seed(&reference).await;
    let container = with_comments(&db).await;
    let companies = container.relation("companies").unwrap();

    let before = statements(&container);
    let rows = companies.combine("posts.comments").to_vec().await.unwrap();
    assert_eq!(
        statements(&container) - before,
        3,
        "companies, posts, comments"
    );
    let acme_posts = rows[0].children("posts").unwrap();
    assert_eq!(ids(acme_posts), [1, 2, 3, 4, 5]);
    assert_eq!(ids(acme_posts[0].children("comments").unwrap()), [1, 3]);
    assert_eq!(ids(acme_posts[1].children("comments").unwrap()), [4]);
    assert!(acme_posts[2].children("comments").unwrap().is_empty());
    let beta_posts = rows[1].children("posts").unwrap();
    assert_eq!(ids(beta_posts[0].children("comments").unwrap()), [2]);
    assert_eq!(
        rows[0].to_json()["posts"][0]["comments"][1]["body"],
        "second on 1"
    );

    // Several at once, and a deeper node.
    let rows = container
        .relation("posts")
        .unwrap()
        .combine_many(["company", "comments"])
        .node("comments", |c| c.filter(("approved", true)))
        .to_vec()
        .await
        .unwrap();
    assert_eq!(ids(rows[0].children("comments").unwrap()), [1]);
    assert_eq!(id(rows[0].parent("company").unwrap().unwrap()), 1);
    let rows = companies
        .combine("posts.comments")
        .node("posts.comments", |c| c.order([attr("id").desc()]))
        .to_vec()
        .await
        .unwrap();
    assert_eq!(
        ids(rows[0].children("posts").unwrap()[0]
            .children("comments")
            .unwrap()),
        [3, 1]
    );
    // A node can also combine the next level itself.
    let rows = companies
        .combine("posts")
        .node("posts", |p| p.filter(("id", 1)).combine("comments"))
        .to_vec()
        .await
        .unwrap();
    assert_eq!(
        ids(rows[0].children("posts").unwrap()[0]
            .children("comments")
            .unwrap()),
        [1, 3]
    );

    // Wrap and combine together, the key left out of the selection.
    let before = statements(&container);
    let rows = container
        .relation("posts")
        .unwrap()
        .select(["url"])
        .wrap("company")
        .combine("comments")
        .to_vec()
        .await
        .unwrap();
    assert_eq!(statements(&container) - before, 2);
    assert_eq!(rows.len(), 7, "post 8 has no company");
    assert_eq!(rows[0].names(), ["url".to_string()]);
    assert_eq!(
        rows[0]
            .parent("company")
            .unwrap()
            .unwrap()
            .get("name")
            .unwrap(),
        &Value::from("Acme")
    );
    assert_eq!(ids(rows[0].children("comments").unwrap()), [1, 3]);
    assert_eq!(ids(rows[5].children("comments").unwrap()), [2]);

    // No parents: no child statements at all.
    let before = statements(&container);
    let none = companies
        .filter(("id", 999))
        .combine("posts.comments")
        .to_vec()
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(statements(&container) - before, 1);
    // A parent without children: the level below is not asked for.
    let before = statements(&container);
    let gamma = companies
        .by_pk(3)
        .combine("posts.comments")
        .to_vec()
        .await
        .unwrap();
    assert!(gamma[0].children("posts").unwrap().is_empty());
    assert_eq!(statements(&container) - before, 2);
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
struct Comment {
    id: i32,
    body: String,
    post_id: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
struct PostWithComments {
    id: i32,
    company_id: Option<i32>,
    #[sqlx(skip)]
    comments: Vec<Comment>,
    #[sqlx(skip)]
    company: Option<Company>,
}

#[tokio::test]
async fn typed_rows_nest_their_children() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let companies = container.relation("companies").unwrap();

    let before = statements(&container);
    let typed: Vec<Company> = companies
        .map_to::<Company>()
        .nest("posts", |company: &mut Company, posts: Vec<Post>| {
            company.posts = posts;
        })
        .to_vec()
        .await
        .unwrap();
    assert_eq!(statements(&container) - before, 2);
    assert_eq!(typed.len(), 3);
    let post_ids = |c: &Company| c.posts.iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(post_ids(&typed[0]), [1, 2, 3, 4, 5]);
    assert_eq!(post_ids(&typed[1]), [6, 7]);
    assert!(typed[2].posts.is_empty());
    assert_eq!(typed[1].posts[0].url, "http://example.com/6");
    // Without nest the field stays empty.
    let plain = companies
        .map_to::<Company>()
        .first()
        .await
        .unwrap()
        .unwrap();
    assert!(plain.posts.is_empty());

    // The same through the relation's own node, refined, with first().
    let refined = companies
        .combine("posts")
        .node("posts", |p| {
            p.filter(("se_post", true)).order([attr("id").desc()])
        })
        .map_to::<Company>()
        .nest("posts", |c: &mut Company, posts: Vec<Post>| c.posts = posts)
        .first()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(post_ids(&refined), [4, 2]);

    // to-one into an Option; parents with a NULL key get None.
    let posts = container.relation("posts").unwrap();
    let with_company: Vec<PostWithComments> = posts
        .map_to::<PostWithComments>()
        .nest("company", |p: &mut PostWithComments, c: Option<Company>| {
            p.company = c
        })
        .to_vec()
        .await
        .unwrap();
    assert_eq!(with_company[0].company.as_ref().unwrap().name, "Acme");
    assert_eq!(with_company[6].company.as_ref().unwrap().id, 2);
    assert_eq!(with_company[7].company, None);

    // Mistakes are errors naming what to do.
    let err = posts
        .map_to::<PostWithComments>()
        .nest("company", |_: &mut PostWithComments, _: Vec<Company>| {})
        .to_vec()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Option<_>"), "{err}");
    let err = companies
        .combine("posts")
        .map_to::<Company>()
        .to_vec()
        .await
        .unwrap_err();
    assert!(err.to_string().contains(".nest(\"posts\""), "{err}");
    let err = posts
        .wrap("company")
        .map_to::<Post>()
        .to_vec()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("wrapped"), "{err}");
    let err = companies
        .map_to::<Company>()
        .nest("postz", |c: &mut Company, p: Vec<Post>| c.posts = p)
        .to_vec()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownAssociation { .. }), "{err}");
}

#[tokio::test]
async fn typed_nesting_goes_several_levels_deep() {
    let (db, reference) = reference_db().await;
    seed(&reference).await;
    let container = with_comments(&db).await;

    #[derive(Clone, Debug, sqlx::FromRow)]
    struct CompanyTree {
        id: i32,
        #[sqlx(skip)]
        posts: Vec<PostWithComments>,
    }

    let before = statements(&container);
    let tree: Vec<CompanyTree> = container
        .relation("companies")
        .unwrap()
        .map_to::<CompanyTree>()
        .nest_with(
            "posts",
            |posts| {
                posts
                    .map_to::<PostWithComments>()
                    .nest("comments", |p: &mut PostWithComments, c: Vec<Comment>| {
                        p.comments = c
                    })
            },
            |c: &mut CompanyTree, posts: Vec<PostWithComments>| c.posts = posts,
        )
        .to_vec()
        .await
        .unwrap();
    assert_eq!(statements(&container) - before, 3);
    assert_eq!(tree[0].id, 1);
    let first = &tree[0].posts[0];
    assert_eq!(
        first.comments.iter().map(|c| c.id).collect::<Vec<_>>(),
        [1, 3]
    );
    assert_eq!(first.comments[1].body, "second on 1");
    assert_eq!(tree[1].posts[0].comments[0].post_id, Some(6));
    assert!(tree[2].posts.is_empty());

    // A mapped child of the wrong table is refused.
    let comments = container.relation("comments").unwrap();
    let err = container
        .relation("companies")
        .unwrap()
        .map_to::<CompanyTree>()
        .nest_with(
            "posts",
            |_| comments.map_to::<PostWithComments>(),
            |c: &mut CompanyTree, posts: Vec<PostWithComments>| c.posts = posts,
        )
        .to_vec()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("must build a relation of `posts`"),
        "{err}"
    );
}

#[tokio::test]
async fn many_to_many_joins_through_the_join_relation() {
    let (db, reference) = reference_db().await;
    seed(&reference).await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(
        "CREATE TABLE tags (id INT NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL);
         CREATE TABLE posts_tags (
           post_id INT NOT NULL,
           tag_id INT NOT NULL,
           PRIMARY KEY (post_id, tag_id),
           CONSTRAINT posts_tags_post_fkey FOREIGN KEY (post_id) REFERENCES posts (id),
           CONSTRAINT posts_tags_tag_fkey FOREIGN KEY (tag_id) REFERENCES tags (id)
         );
         INSERT INTO tags VALUES (1, 'rust'), (2, 'sql'), (3, 'unused');
         INSERT INTO posts_tags VALUES (1, 2), (1, 1), (2, 1), (6, 2)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let mut config = Configuration::new(&db.test_settings());
    config
        .register_relation(post_analytics::companies::relation())
        .register_relation(
            post_analytics::posts::relation()
                .association(Association::many_to_many("tags", "posts_tags")),
        )
        .register_relation(
            RelationDefinition::new("tags")
                .association(Association::many_to_many("posts", "posts_tags")),
        )
        .register_relation(RelationDefinition::new("posts_tags"));
    let container = config.finalize().await.unwrap();
    let posts = container.relation("posts").unwrap();

    let before = statements(&container);
    let rows = posts.combine("tags").to_vec().await.unwrap();
    assert_eq!(statements(&container) - before, 2);
    let tag_names = |row: &Row| {
        row.children("tags")
            .unwrap()
            .iter()
            .map(|t| t.get("name").unwrap().as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    // Each post's tags in the tags' order (primary key), no join columns.
    assert_eq!(tag_names(&rows[0]), ["rust", "sql"]);
    assert_eq!(tag_names(&rows[1]), ["rust"]);
    assert!(tag_names(&rows[2]).is_empty());
    assert_eq!(tag_names(&rows[5]), ["sql"]);
    assert_eq!(rows[0].children("tags").unwrap()[0].names().len(), 2);

    // The other way round: a tag shared by posts goes to each.
    let tags = container.relation("tags").unwrap();
    let rows = tags.combine("posts").to_vec().await.unwrap();
    assert_eq!(ids(rows[0].children("posts").unwrap()), [1, 2]);
    assert_eq!(ids(rows[1].children("posts").unwrap()), [1, 6]);
    assert!(rows[2].children("posts").unwrap().is_empty());

    // assoc through the join relation.
    let of_post_1 = posts.by_pk(1).assoc("tags").unwrap();
    assert_eq!(ids(&of_post_1.to_vec().await.unwrap()), [1, 2]);
    let posts_of_sql = tags.filter(("name", "sql")).assoc("posts").unwrap();
    assert_eq!(ids(&posts_of_sql.to_vec().await.unwrap()), [1, 6]);
}

#[tokio::test]
async fn thousands_of_parents_load_in_one_statement_per_level() {
    let (_db, container) = reference_db().await;
    let companies = container.relation("companies").unwrap();
    const N: i64 = 3_000;
    let values: Vec<String> = (1..=N)
        .map(|i| format!("({i}, 'c{i}', 'https://c{i}.test')"))
        .collect();
    companies
        .read(
            &format!(
                "INSERT INTO companies (id, name, domain) VALUES {}",
                values.join(", ")
            ),
            &[],
        )
        .await
        .unwrap();
    // Company i has i % 3 posts.
    let posts: Vec<String> = (1..=N)
        .flat_map(|i| (0..i % 3).map(move |k| (i, k)))
        .map(|(i, k)| format!("('http://c{i}.test/{k}', '2019-03-10 10:00:00', {i})"))
        .collect();
    companies
        .read(
            &format!(
                "INSERT INTO posts (url, scrapped_at, company_id) VALUES {}",
                posts.join(", ")
            ),
            &[],
        )
        .await
        .unwrap();

    let before = statements(&container);
    let rows = companies.combine("posts").to_vec().await.unwrap();
    assert_eq!(statements(&container) - before, 2);
    assert_eq!(rows.len(), 3_000);
    for row in &rows {
        let company = id(row);
        let children = row.children("posts").unwrap();
        assert_eq!(
            i64::try_from(children.len()).unwrap(),
            company % 3,
            "company {company}"
        );
        for (k, post) in children.iter().enumerate() {
            assert_eq!(post.get("company_id").unwrap(), &Value::Int(company));
            assert_eq!(
                post.get("url").unwrap(),
                &Value::from(format!("http://c{company}.test/{k}"))
            );
        }
    }

    let before = statements(&container);
    let typed: Vec<Company> = companies
        .map_to::<Company>()
        .nest("posts", |c: &mut Company, p: Vec<Post>| c.posts = p)
        .to_vec()
        .await
        .unwrap();
    assert_eq!(statements(&container) - before, 2);
    for c in &typed {
        assert_eq!(c.posts.len(), usize::try_from(c.id % 3).unwrap());
        assert!(c.posts.iter().all(|p| p.company_id == Some(c.id)));
    }
}

/// `Mapped` stays a plain value: cloning and debugging it work whatever `T`.
#[tokio::test]
async fn mapped_with_nests_is_a_value() {
    let (_db, container) = reference_db().await;
    let mapped: Mapped<Company> = container
        .relation("companies")
        .unwrap()
        .map_to::<Company>()
        .nest("posts", |c: &mut Company, p: Vec<Post>| c.posts = p);
    let copy = mapped.clone();
    assert!(format!("{copy:?}").contains("posts"));
    assert!(copy.to_vec().await.unwrap().is_empty());
}

#[tokio::test]
async fn combine_in_a_transaction_reads_on_its_connection() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let (rows, typed) = container
        .transaction(|tx| async move {
            let posts = tx.relation("posts")?;
            // Uncommitted: only this transaction's connection sees it.
            posts
                .read(
                    "INSERT INTO posts (id, url, scrapped_at, company_id) \
                     VALUES (9, 'http://example.com/9', '2019-03-10 10:00:00', 3)",
                    &[],
                )
                .await?;
            let companies = tx.relation("companies")?;
            let rows = companies.by_pk(3).combine("posts").to_vec().await?;
            let typed = companies
                .by_pk(3)
                .map_to::<Company>()
                .nest("posts", |c: &mut Company, p: Vec<Post>| c.posts = p)
                .one_strict()
                .await?;
            tx.rollback_on_exit();
            Ok((rows, typed))
        })
        .await
        .unwrap();
    assert_eq!(ids(rows[0].children("posts").unwrap()), [9]);
    assert_eq!(typed.posts.iter().map(|p| p.id).collect::<Vec<_>>(), [9]);
}
