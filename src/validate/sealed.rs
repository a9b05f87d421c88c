//! Offline checks of `sealed:` values with the local key file (SPEC §6): open each value and
//! check what the server would — its size, that it is not empty, and that it was sealed for
//! this very place (a value copied from another secret is caught here, naming the secret it
//! belongs to).
//!
//! In: validated resources and the identities of the key file, if any. Out: diagnostics and the
//! number of values that could not be opened. Runs only for `rune lint` and `rune cast
//! --offline`; an online cast leaves all of this to the server and never reads the key file.
//! Must not happen here: a value, its length or a digest of it in a message.

use crate::diag::{Code, Diagnostic};
use crate::limits::DataLimits;
use crate::resource::{DataEntry, DataSource, Resource, Spec};
use crate::secrets::{Keys, Place, UnsealError};

/// What the offline checks of sealed values found.
#[derive(Debug, Default)]
pub struct SealedReport {
    pub diagnostics: Vec<Diagnostic>,
    /// Sealed values seen.
    pub sealed: usize,
    /// Sealed values not opened: no key file, or one that is not among their recipients.
    pub unopened: usize,
}

/// One sealed entry and the secret that declares it.
struct Sealed<'a> {
    resource: &'a Resource,
    entry: &'a DataEntry,
    armor: &'a str,
}

/// Opens every sealed value with `keys` (in parallel: each opening is an X25519 agreement) and
/// checks it; without keys, only counts them.
pub fn check(resources: &[Resource], keys: Option<&Keys>, limits: DataLimits) -> SealedReport {
    let sealed: Vec<Sealed<'_>> = resources.iter().flat_map(sealed_entries).collect();
    let Some(keys) = keys else {
        return SealedReport {
            diagnostics: Vec::new(),
            sealed: sealed.len(),
            unopened: sealed.len(),
        };
    };
    let outcomes = crate::par::map(&sealed, |s| open(s, keys, resources, limits));
    let mut report = SealedReport {
        sealed: sealed.len(),
        ..SealedReport::default()
    };
    for (diagnostic, opened) in outcomes {
        report.unopened += usize::from(!opened);
        report.diagnostics.extend(diagnostic);
    }
    report
}

fn sealed_entries(resource: &Resource) -> impl Iterator<Item = Sealed<'_>> {
    let entries = match &resource.spec {
        Spec::Secret(data) => data.entries.as_slice(),
        _ => &[],
    };
    entries.iter().filter_map(move |entry| match &entry.source {
        DataSource::Sealed(armor) => Some(Sealed {
            resource,
            entry,
            armor,
        }),
        _ => None,
    })
}

/// The finding for one value, if any, and whether it was opened.
fn open(
    sealed: &Sealed<'_>,
    keys: &Keys,
    resources: &[Resource],
    limits: DataLimits,
) -> (Option<Diagnostic>, bool) {
    let place = sealed.resource.place(&sealed.entry.key.value);
    match keys.unseal_for(sealed.armor, &place) {
        Ok(value) if value.expose().is_empty() => (Some(empty(sealed)), true),
        Ok(value) if value.expose().len() > limits.max_value_size => {
            (Some(too_large(sealed, limits)), true)
        }
        Ok(_) => (None, true),
        Err(UnsealError::NotRecipient) => (Some(unopened(sealed)), false),
        Err(error) => (Some(unusable(sealed, &error, resources)), true),
    }
}

fn empty(sealed: &Sealed<'_>) -> Diagnostic {
    Diagnostic::new(
        Code::SealedEmpty,
        sealed.entry.value_span,
        format!("the sealed value of `{}` is empty", sealed.entry.key.value),
    )
    .label("opens to an empty string")
    .help("seal the value again from its source (`rune seal` refuses empty input)")
}

fn too_large(sealed: &Sealed<'_>, limits: DataLimits) -> Diagnostic {
    Diagnostic::new(
        Code::LimitValueSize,
        sealed.entry.key.span,
        format!(
            "the sealed value of `{}` is larger than the limit; the limit is {} bytes (`max-value-size`)",
            sealed.entry.key.value, limits.max_value_size
        ),
    )
    .label("value too large")
    .help("store large payloads elsewhere, or raise the server's `max-value-size`")
}

fn unopened(sealed: &Sealed<'_>) -> Diagnostic {
    Diagnostic::new(
        Code::SealedUnopened,
        sealed.entry.value_span,
        format!(
            "the key file cannot open the sealed value of `{}`: its size, emptiness and place were not checked",
            sealed.entry.key.value
        ),
    )
    .label("not sealed for the key file's identity")
    .help("list the key file's public key in `.rune/recipients` and seal the value again with `rune seal`")
}

/// A value that opens but cannot be used: sealed for another place, bound to none, or broken.
fn unusable(sealed: &Sealed<'_>, error: &UnsealError, resources: &[Resource]) -> Diagnostic {
    let key = &sealed.entry.key.value;
    let resource = sealed.resource.display_name();
    let Some(elsewhere) = error.sealed_for() else {
        return match error {
            UnsealError::NoPlace => Diagnostic::new(
                Code::SealedUnbound,
                sealed.entry.value_span,
                format!(
                    "the sealed value of `{key}` names no place: it was not sealed by `rune seal`"
                ),
            )
            .label("not bound to a secret and key")
            .help(
                "seal it with `rune seal`, which binds the value to its namespace, secret and key",
            ),
            _ => Diagnostic::new(
                Code::DataSealedForm,
                sealed.entry.value_span,
                format!("the sealed value of `{key}` cannot be opened: {error}"),
            )
            .label("not a usable age payload")
            .help("seal the value again with `rune seal`"),
        };
    };
    let mut diagnostic = Diagnostic::new(
        Code::SealedPlace,
        sealed.entry.value_span,
        format!("the value of `{key}` in {resource} was sealed for {elsewhere}"),
    )
    .label(format!("sealed for {elsewhere}"))
    .help(format!(
        "a sealed value opens only where it was sealed for: seal it for this place with `rune seal {} {key} -n {}`",
        sealed.resource.name.value,
        sealed.resource.namespace_name()
    ));
    if let Some((span, label)) = declaration_of(elsewhere, resources) {
        diagnostic = diagnostic.also(span, label);
    }
    diagnostic
}

/// Where these files declare the place a value was sealed for: its key, else its secret.
fn declaration_of(place: &Place, resources: &[Resource]) -> Option<(crate::source::Span, String)> {
    let owner = resources.iter().find(|r| {
        matches!(r.spec, Spec::Secret(_))
            && r.name.value == place.name
            && r.namespace_name() == place.namespace
    })?;
    let Spec::Secret(data) = &owner.spec else {
        return None;
    };
    Some(
        match data.entries.iter().find(|e| e.key.value == place.key) {
            Some(entry) => (
                entry.key.span,
                format!("the value belongs to `{}` here", place.key),
            ),
            None => (
                owner.name.span,
                format!("it was sealed for {}", owner.display_name()),
            ),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use crate::secrets::seal;
    use crate::validate::{Options, validate};

    fn runefile(name: &str, armor: &str) -> String {
        let armor: Vec<String> = armor.lines().map(|l| format!("        {l}")).collect();
        format!(
            "secret:\n  name: {name}\n  data:\n    - key: password\n      sealed: |\n{}\n",
            armor.join("\n")
        )
    }

    fn codes(text: String, keys: Option<&Keys>, max_value_size: usize) -> (Vec<Code>, usize) {
        let loaded = crate::parse::load_texts(vec![("s.yaml".to_owned(), text)]);
        let validated = validate(&loaded, &Options::default());
        assert!(
            validated.diagnostics.is_empty(),
            "{:?}",
            validated.diagnostics
        );
        let limits = DataLimits {
            max_keys: 64,
            max_value_size,
        };
        let report = check(&validated.resources, keys, limits);
        (
            report.diagnostics.iter().map(|d| d.code).collect(),
            report.unopened,
        )
    }

    #[test]
    fn the_size_limit_applies_to_the_opened_value() {
        let keys = Keys::generate();
        let place = Place::new("default", "db", "password");
        let armor = seal("0123456789", &place, &keys.recipients()).expect("seals");
        assert_eq!(codes(runefile("db", &armor), Some(&keys), 10), (vec![], 0));
        assert_eq!(
            codes(runefile("db", &armor), Some(&keys), 9),
            (vec![Code::LimitValueSize], 0)
        );
    }

    #[test]
    fn without_keys_nothing_is_opened_and_nothing_is_reported() {
        let keys = Keys::generate();
        let armor = seal(
            "v",
            &Place::new("default", "api", "password"),
            &keys.recipients(),
        )
        .expect("seals");
        assert_eq!(codes(runefile("db", &armor), None, 10), (vec![], 1));
        assert_eq!(
            codes(runefile("db", &armor), Some(&keys), 10),
            (vec![Code::SealedPlace], 0)
        );
    }
}
