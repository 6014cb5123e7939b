//! [`Json`]: a JSON column in a typed struct, read the same on MySQL (native
//! `JSON`) and MariaDB (`JSON` is a `LONGTEXT` alias with a `json_valid`
//! check, which sqlx's own `Json` type may refuse as text).

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::mysql::{MySql, MySqlTypeInfo, MySqlValueRef};
use sqlx::{Decode, Encode, Type};

/// A JSON document of type `T` in a struct read with
/// [`Relation::map_to`](crate::Relation::map_to):
///
/// ```
/// #[derive(sqlx::FromRow)]
/// struct Post {
///     id: i32,
///     stats: Option<ferrom::Json<serde_json::Value>>,
/// }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Type<MySql> for Json<T> {
    fn type_info() -> MySqlTypeInfo {
        <str as Type<MySql>>::type_info()
    }

    fn compatible(ty: &MySqlTypeInfo) -> bool {
        use sqlx::TypeInfo;
        ty.name() == "JSON"
            || <str as Type<MySql>>::compatible(ty)
            || <[u8] as Type<MySql>>::compatible(ty)
    }
}

impl<'r, T: DeserializeOwned> Decode<'r, MySql> for Json<T> {
    fn decode(value: MySqlValueRef<'r>) -> Result<Self, BoxDynError> {
        let bytes = <&[u8] as Decode<MySql>>::decode(value)?;
        Ok(Json(serde_json::from_slice(bytes)?))
    }
}

impl<T: Serialize> Encode<'_, MySql> for Json<T> {
    fn encode_by_ref(&self, buf: &mut Vec<u8>) -> Result<IsNull, BoxDynError> {
        let text = serde_json::to_string(&self.0)?;
        <String as Encode<MySql>>::encode_by_ref(&text, buf)
    }
}
