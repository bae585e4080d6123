//! Settings from the environment. A bad value is reported with the name of
//! the variable, before anything binds or connects.

use std::str::FromStr;

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct SettingError {
    pub name: String,
    pub problem: String,
}

impl SettingError {
    pub fn new(name: &str, problem: impl Into<String>) -> Self {
        SettingError {
            name: name.to_string(),
            problem: problem.into(),
        }
    }
}

/// Where settings come from: the process environment, or a map in tests.
pub trait Lookup {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Lookup for ProcessEnv {
    /// Unset or empty is absent. A value that is not UTF-8 is not taken for
    /// absent (its default would be used without a word): its invalid bytes
    /// become U+FFFD, so the setting's check, or its use, fails naming it.
    fn get(&self, name: &str) -> Option<String> {
        std::env::var_os(name)
            .map(|v| v.to_string_lossy().into_owned())
            .filter(|v| !v.is_empty())
    }
}

/// Settings given as name and value pairs (tests, tools); an empty value is
/// absent, as in the environment.
#[derive(Debug, Clone, Default)]
pub struct Pairs(std::collections::HashMap<String, String>);

impl Pairs {
    pub fn new(pairs: &[(&str, &str)]) -> Pairs {
        Pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

impl Lookup for Pairs {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// A text setting with a default.
pub fn text(env: &impl Lookup, name: &str, default: &str) -> String {
    env.get(name).unwrap_or_else(|| default.to_string())
}

/// `SCIMBUS_BUS_PREFIX`: the prefix of stream and subject names (empty by
/// default), checked.
pub fn bus_prefix(env: &impl Lookup) -> Result<String, SettingError> {
    let prefix = text(env, "SCIMBUS_BUS_PREFIX", "");
    scimbus_events::Subjects::new(&prefix)
        .map_err(|err| SettingError::new("SCIMBUS_BUS_PREFIX", err.to_string()))?;
    Ok(prefix)
}

/// A required text setting; `example` shows its form in the error.
pub fn required(env: &impl Lookup, name: &str, example: &str) -> Result<String, SettingError> {
    env.get(name)
        .ok_or_else(|| SettingError::new(name, format!("is not set (for example {example})")))
}

/// A number in `range`, with a default.
pub fn number<T>(
    env: &impl Lookup,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, SettingError>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = env.get(name) else {
        return Ok(default);
    };
    match raw.trim().parse::<T>() {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => Err(SettingError::new(
            name,
            format!(
                "\"{raw}\" is not a number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// A socket address to listen on.
pub fn addr(
    env: &impl Lookup,
    name: &str,
    default: &str,
) -> Result<std::net::SocketAddr, SettingError> {
    let raw = text(env, name, default);
    raw.parse()
        .map_err(|_| SettingError::new(name, format!("\"{raw}\" is not a host:port address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_variable() {
        let env = |k: &str| (k == "N").then(|| "x".to_string());
        assert_eq!(
            number(&env, "N", 1u32, 1..=5).unwrap_err().to_string(),
            "N: \"x\" is not a number from 1 to 5"
        );
        assert_eq!(number(&env, "M", 3u32, 1..=5).unwrap(), 3);
        assert!(
            required(&env, "M", "y")
                .unwrap_err()
                .to_string()
                .starts_with("M: is not set")
        );
        assert_eq!(
            addr(&env, "N", "").unwrap_err().to_string(),
            "N: \"x\" is not a host:port address"
        );
        assert_eq!(addr(&env, "A", "127.0.0.1:8080").unwrap().port(), 8080);
    }
}
