//! A posted console form: its fields, a field repeated only where the form has several inputs
//! of that name (check boxes). Its CSRF token is checked by `SignedIn::posting`.

use tollbooth_oauth::error::OAuthError;
use tollbooth_oauth::request::FormBody;

use crate::error::ConsoleError;

pub struct Form(Vec<(String, String)>);

impl Form {
    /// The form of a request body (at most 64 KiB, as every form of ours).
    pub fn of(body: Result<FormBody, OAuthError>) -> Result<Form, ConsoleError> {
        let FormBody(bytes) = body.map_err(|_| ConsoleError::BadRequest("The form is not valid."))?;
        Ok(Form(
            url::form_urlencoded::parse(&bytes).map(|(name, value)| (name.into_owned(), value.into_owned())).collect(),
        ))
    }

    /// A form holding `pairs`: an object's stored values, shown in its edit form.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Form {
        Form(pairs.into_iter().map(|(name, value)| (name.to_owned(), value)).collect())
    }

    /// Whether a check box of this name and value was checked.
    pub fn checked(&self, name: &str, value: &str) -> bool {
        self.all(name).any(|checked| checked == value)
    }

    /// The value of a field given once; `None` when absent or repeated.
    pub fn one<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        let mut values = self.all(name);
        match (values.next(), values.next()) {
            (Some(value), None) => Some(value),
            _ => None,
        }
    }

    /// The value of a text field, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.one(name).unwrap_or_default().trim().to_owned()
    }

    /// A text field that may be left empty: `None` when it is.
    pub fn optional(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|value| !value.is_empty())
    }

    /// A list typed as words separated by spaces or line breaks.
    pub fn words(&self, name: &str) -> Vec<String> {
        self.one(name).unwrap_or_default().split_whitespace().map(str::to_owned).collect()
    }

    /// A password as typed (spaces may be part of it); `None` when left empty.
    pub fn password(&self, name: &str) -> Option<String> {
        self.one(name).filter(|password| !password.is_empty()).map(str::to_owned)
    }

    /// The grace period a rotation form chose, as the API takes it (the API checks its range).
    pub fn grace_period(&self) -> Result<i64, ConsoleError> {
        match self.one("grace_period_seconds").map(str::parse::<i64>) {
            Some(Ok(seconds)) => Ok(seconds),
            _ => Err(ConsoleError::BadRequest("Choose how long the old secret keeps working.")),
        }
    }

    /// Every value of a repeated field (the checked boxes of one name).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(field, _)| field == name).map(|(_, value)| value.as_str())
    }
}
