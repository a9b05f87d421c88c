//! Where a sealed value belongs: `(namespace, name, key)`, and its one-line text form in a
//! payload's header (`<namespace>/<name>/<key>`).
//!
//! Names are DNS-1123 labels and keys `[-._a-zA-Z0-9]+`, so `/` and newlines cannot occur in a
//! place and the header parses unambiguously.

/// Where a sealed value belongs: a secret's namespace and name, and the key inside it.
#[derive(Clone, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Place {
    pub namespace: String,
    pub name: String,
    pub key: String,
}

impl Place {
    pub fn new(namespace: &str, name: &str, key: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            key: key.to_owned(),
        }
    }

    /// `<namespace>/<name>/<key>`, as a payload's header writes it.
    pub(super) fn to_header(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.name, self.key)
    }

    /// The inverse of [`Place::to_header`]; `None` unless all three parts are there.
    pub(super) fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let (Some(namespace), Some(name), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let place = Self::new(namespace, name, key);
        (!place.namespace.is_empty() && !place.name.is_empty() && !place.key.is_empty())
            .then_some(place)
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "secret `{}/{}` key `{}`",
            self.namespace, self.name, self.key
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Place;

    /// The header form parses back, and nothing with a missing or extra part does.
    #[test]
    fn headers_round_trip() {
        let place = Place::new("prod", "db", "password");
        assert_eq!(Place::parse(&place.to_header()), Some(place));
        for bad in ["prod/db", "prod/db/k/x", "/db/k", "prod//k", "prod/db/"] {
            assert_eq!(Place::parse(bad), None, "{bad}");
        }
    }
}
