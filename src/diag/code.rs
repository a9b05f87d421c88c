//! The registry of diagnostic codes. Codes are API: tools filter on them and docs link to them,
//! so a code is never renamed or reused (a test pins the list).

use crate::diag::Severity;

macro_rules! codes {
    ($($variant:ident = $code:literal, $description:literal;)*) => {
        /// A stable diagnostic code; `E-` codes are errors, `W-` codes warnings.
        #[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
        pub enum Code {
            $(#[doc = $description] $variant,)*
        }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as printed: `E-NAME-DNS1123`.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// One sentence on what the rule checks (used for SARIF rules and docs).
            #[must_use]
            pub fn description(self) -> &'static str {
                match self {
                    $(Code::$variant => $description,)*
                }
            }
        }
    };
}

codes! {
    DataFileUnreadable = "E-DATA-FILE", "A `file:` data entry names a file that cannot be read.";
    DataFileOutside = "E-DATA-FILE-OUTSIDE", "A `file:` data entry leads outside the file root (the runefile's git work tree, else its directory, plus `--allow-file-root`).";
    DataKeyDuplicate = "E-DATA-KEY-DUPLICATE", "A data key appears twice in one secret or configmap.";
    DataKeyInvalid = "E-DATA-KEY-INVALID", "A data key is not `[-._a-zA-Z0-9]+` of at most 253 characters, or is `.` or `..`.";
    DataSealedForm = "E-DATA-SEALED-FORM", "A `sealed:` value is not an ASCII-armored age payload.";
    DataSealedInConfigmap = "E-DATA-SEALED-IN-CONFIGMAP", "Configmaps are plaintext; `sealed:` is only allowed in secrets.";
    DataSource = "E-DATA-SOURCE", "A list-form data entry needs exactly one of `value`, `sealed` or `file`.";
    DataValueType = "E-DATA-VALUE-TYPE", "A data value is not a string (quote numbers, booleans and null).";
    DocumentKindShape = "E-DOC-KIND-SHAPE", "A singular kind key holds a list, or a plural kind key holds a mapping.";
    DocumentMixed = "E-DOC-MIXED", "A document mixes server configuration with resources.";
    DocumentNotMapping = "E-DOC-NOT-MAPPING", "A document is not a mapping of kind keys.";
    DocumentUnknownKey = "E-DOC-UNKNOWN-KEY", "A top-level key names no resource kind.";
    EnvNameInvalid = "E-ENV-NAME-INVALID", "An `env` name is not a valid environment variable name.";
    FieldConflict = "E-FIELD-CONFLICT", "Fields that exclude each other are both set.";
    FieldRequired = "E-FIELD-REQUIRED", "A required field is missing.";
    FieldType = "E-FIELD-TYPE", "A field holds the wrong type of value.";
    FieldUnknown = "E-FIELD-UNKNOWN", "A field is not part of the resource kind.";
    FieldValue = "E-FIELD-VALUE", "A field's value is out of range or not one of the allowed values.";
    GitUnchecked = "E-GIT-UNCHECKED", "Git could not say whether it tracks a file holding plaintext secret values (`rune lint` only), so the plaintext guard could not run.";
    InputEncoding = "E-INPUT-ENCODING", "A runefile is not valid UTF-8.";
    LabelInvalid = "E-LABEL-INVALID", "A label key is not `[-._/a-zA-Z0-9]+` of at most 253 characters, or a label value is longer than 256 characters or holds a control character.";
    LimitKeys = "E-LIMIT-KEYS", "A secret or configmap has more keys than the limit allows.";
    LimitLabels = "E-LIMIT-LABELS", "A resource has more than 64 labels.";
    LimitValueSize = "E-LIMIT-VALUE-SIZE", "A value is larger than the limit allows.";
    MountNameDuplicate = "E-MOUNT-NAME-DUPLICATE", "Two mounts of one service share a name.";
    MountPathInvalid = "E-MOUNT-PATH-INVALID", "A mount path is not absolute and normalised.";
    MountPathOverlap = "E-MOUNT-PATH-OVERLAP", "Two mount paths of one service are equal or nested.";
    NameDns1123 = "E-NAME-DNS1123", "A name is not a DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, 1-63 characters).";
    ParseBudget = "E-PARSE-BUDGET", "The runefiles of one run are over the parse budget: input bytes or documents in all, a document's nesting or aliases, or the nodes and text built through aliases (docs/parse-budget.md).";
    RefKeyMissing = "E-REF-KEY-MISSING", "A secret reference names a key the secret does not have.";
    RefShorthandClusterScoped = "E-REF-SHORTHAND-CLUSTER", "A cluster-scoped resource uses the shorthand `secret:<name>/<key>`, which has no namespace to resolve in.";
    RefSyntax = "E-REF-SYNTAX", "A string secret reference is malformed.";
    ResourceDuplicate = "E-RESOURCE-DUPLICATE", "The same kind, namespace and name is declared twice.";
    SealedEmpty = "E-SEALED-EMPTY", "A sealed value opens (with the local key file) to an empty string.";
    SealedPlace = "E-SEALED-PLACE", "A sealed value was sealed for another namespace, secret or key than the entry that holds it.";
    SealedUnbound = "E-SEALED-UNBOUND", "A sealed value opens but names no place: it was not written by `rune seal`.";
    SecretPlaintext = "E-SECRET-PLAINTEXT", "A secret holds a plaintext value in a file that git tracks or has staged (`rune lint` only).";
    ServerRejected = "E-SERVER-REJECTED", "The server rejected an object at plan or apply time for a reason lint has no code for (its message says why).";
    YamlKeyDuplicate = "E-YAML-KEY-DUPLICATE", "A mapping repeats a key.";
    YamlSyntax = "E-YAML-SYNTAX", "A document is not valid YAML.";
    EnvKeyInvalid = "W-ENV-KEY-INVALID", "An `envFrom` key is not a valid environment variable name; the runtime skips it.";
    NamespaceMismatch = "W-NAMESPACE-MISMATCH", "A document names a namespace other than the one `-n` (or `RUNE_NAMESPACE`) gives; the document's wins.";
    NamespaceUndeclared = "W-NAMESPACE-UNDECLARED", "A resource uses a namespace that these files do not declare.";
    RefUnresolved = "W-REF-UNRESOLVED", "A reference names a resource these files do not declare; it must exist on the server.";
    SealedUnopened = "W-SEALED-UNOPENED", "The local key file cannot open a sealed value, so its size, emptiness and place were not checked offline.";
}

impl Code {
    /// `E-` codes are errors, `W-` codes warnings.
    #[must_use]
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with("W-") {
            Severity::Warning
        } else {
            Severity::Error
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    /// Codes are API: each is unique and follows the `E-`/`W-` upper-kebab pattern.
    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "duplicate code {text}");
            assert!(
                (text.starts_with("E-") || text.starts_with("W-"))
                    && text
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'),
                "malformed code {text}"
            );
            assert!(code.description().ends_with('.'));
        }
    }
}
