//! [`FactoryError`]: what goes wrong defining factories or building rows
//! with them, wrapped in [`Error::Factory`](crate::Error::Factory).

use crate::error::Error;

/// Why a factory could not be defined, or could not build or create.
///
/// Each variant names the factory and what is at fault, and lists what
/// exists, so the message alone says what to fix. Errors of the relations
/// and commands a factory uses (a unique key, a NOT NULL column) come as
/// their own [`Error`] variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FactoryError {
    /// No factory of this name is defined.
    #[error("no factory `{name}`; factories: {}", list(known))]
    UnknownFactory {
        /// The name asked for.
        name: String,
        /// The defined factories.
        known: Vec<String>,
    },

    /// A factory of this name is defined already (as in rom-factory,
    /// redefining is an error rather than a silent replacement).
    #[error("factory `{name}` is defined already")]
    AlreadyDefined {
        /// The name.
        name: String,
    },

    /// The factory has no trait of this name.
    #[error("factory `{factory}` has no trait `{name}`; traits: {}", list(known))]
    UnknownTrait {
        /// The factory.
        factory: String,
        /// The trait asked for.
        name: String,
        /// The factory's traits.
        known: Vec<String>,
    },

    /// A definition names an attribute its relation does not have.
    #[error(
        "factory `{factory}`: relation `{relation}` has no attribute `{attribute}`; attributes: {}",
        list(known)
    )]
    UnknownAttribute {
        /// The factory.
        factory: String,
        /// Its relation.
        relation: String,
        /// The name in the definition.
        attribute: String,
        /// The relation's attributes.
        known: Vec<String>,
    },

    /// A definition names an association its relation does not have.
    #[error(
        "factory `{factory}`: relation `{relation}` has no association `{association}`; associations: {}",
        list(known)
    )]
    UnknownAssociation {
        /// The factory.
        factory: String,
        /// Its relation.
        relation: String,
        /// The name in the definition.
        association: String,
        /// The relation's associations.
        known: Vec<String>,
    },

    /// An override names neither an attribute nor an association. Nothing
    /// was built or written.
    #[error(
        "factory `{factory}` (relation `{relation}`) cannot override `{name}`: no such attribute or association; attributes: {}; associations: {}",
        list(attributes),
        list(associations)
    )]
    UnknownOverride {
        /// The factory.
        factory: String,
        /// Its relation.
        relation: String,
        /// The name given.
        name: String,
        /// The relation's attributes.
        attributes: Vec<String>,
        /// The associations that can be overridden.
        associations: Vec<String>,
    },

    /// An override of an association has a value that association cannot
    /// take (a list of rows for a belongs-to, text for a count).
    #[error("factory `{factory}`, association `{association}`: {reason}")]
    InvalidOverride {
        /// The factory.
        factory: String,
        /// The association.
        association: String,
        /// What it takes.
        reason: String,
    },

    /// An attribute's closure asked for an attribute that is not built
    /// (yet): attributes are built in the order they are defined, so define
    /// the one it depends on first.
    #[error(
        "factory `{factory}`, attribute `{attribute}` needs `{needs}`, which is not built before it; built so far: {}. Attributes are built in definition order (the parent's first, then the factory's own, then each trait's), overrides before all",
        list(built)
    )]
    MissingAttribute {
        /// The factory.
        factory: String,
        /// The attribute being built.
        attribute: String,
        /// The attribute it asked for.
        needs: String,
        /// The attributes built so far.
        built: Vec<String>,
    },

    /// A definition the factories cannot use (a trait cycle, a
    /// many-to-many association, a count on a belongs-to).
    #[error("factory `{factory}`: {reason}")]
    Invalid {
        /// The factory.
        factory: String,
        /// What is wrong.
        reason: String,
    },

    /// `FERROM_SEED` is set to something that is not a number.
    #[error(
        "FERROM_SEED must be an unsigned 64-bit number (the seed a failed test printed), not `{value}`"
    )]
    InvalidSeed {
        /// The value found.
        value: String,
    },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

impl From<FactoryError> for Error {
    fn from(e: FactoryError) -> Self {
        Error::Factory(Box::new(e))
    }
}

impl FactoryError {
    /// [`FactoryError::Invalid`] as an [`Error`].
    pub(crate) fn invalid(factory: &str, reason: impl Into<String>) -> Error {
        FactoryError::Invalid {
            factory: factory.to_string(),
            reason: reason.into(),
        }
        .into()
    }
}
