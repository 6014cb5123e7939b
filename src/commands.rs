//! The application's commands, each an explicit definition (the article's
//! `CreateCompany < ROM::Commands::Create[:sql]` classes), registered in
//! one place by [`all`]:
//!
//! | command | relation | registered as | result | plugin |
//! |---|---|---|---|---|
//! | [`create_company`] | companies | create | one | timestamps: created_at, updated_at |
//! | [`delete_company`] | companies | delete | many | — |
//! | [`create_post`] | posts | create | one | timestamps: scrapped_at, created_at, updated_at |
//! | [`update_post`] | posts | update | many | timestamps: updated_at |
//! | [`delete_post`] | posts | delete | many | — |

use ferrom::command::{CommandDefinition, ResultKind, Timestamps};

use crate::{companies, posts};

/// CreateCompany: `companies.command("create")`; returns the company as
/// stored (its id, `state = "running"`, the timestamps).
pub fn create_company() -> CommandDefinition {
    CommandDefinition::create(companies::NAME, "create")
        .result(ResultKind::One)
        .plugin(Timestamps::new(["created_at", "updated_at"]))
}

/// DeleteCompany: `companies.command("delete")`; returns the deleted
/// companies.
pub fn delete_company() -> CommandDefinition {
    CommandDefinition::delete(companies::NAME, "delete").result(ResultKind::Many)
}

/// CreatePost: `posts.command("create")`; stamps `scrapped_at` too, as the
/// reference does, so a post created without it is "scrapped now".
pub fn create_post() -> CommandDefinition {
    CommandDefinition::create(posts::NAME, "create")
        .result(ResultKind::One)
        .plugin(Timestamps::new(["scrapped_at", "created_at", "updated_at"]))
}

/// UpdatePost: `posts.by_pk(id).command("update")`; stamps `updated_at`
/// only.
pub fn update_post() -> CommandDefinition {
    CommandDefinition::update(posts::NAME, "update")
        .result(ResultKind::Many)
        .plugin(Timestamps::new(["updated_at"]))
}

/// DeletePost: `posts.command("delete")`; returns the deleted posts.
pub fn delete_post() -> CommandDefinition {
    CommandDefinition::delete(posts::NAME, "delete").result(ResultKind::Many)
}

/// Every command of the application, in the order they are registered.
pub fn all() -> Vec<CommandDefinition> {
    vec![
        create_company(),
        delete_company(),
        create_post(),
        update_post(),
        delete_post(),
    ]
}
