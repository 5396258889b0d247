//! `Json<T>`: a value stored as JSON text, the one JSON shape both backends share.
//! Fields use it with `#[diesel(deserialize_as = String, serialize_as = String)]`.

use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> TryFrom<String> for Json<T> {
    type Error = serde_json::Error;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&text).map(Json)
    }
}

impl<T: Serialize> From<Json<T>> for String {
    fn from(value: Json<T>) -> String {
        // Lists of strings and JSON maps always serialize.
        serde_json::to_string(&value.0).unwrap_or_else(|_| "null".to_owned())
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}
