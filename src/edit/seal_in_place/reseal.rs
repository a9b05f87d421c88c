//! `rune seal --reseal FILE…`: the sealed entries of a file, and the file with new armors in
//! them. Only the `sealed:` fields change (each becomes `sealed: |` and the new armor, or a
//! quoted scalar in flow style); every other byte stays, and [`super::Rewritten::verify`]
//! checks that the new text declares the same resources with exactly the new armors.

use crate::parse::node::Value;
use crate::resource::DataSource;
use crate::secrets::Place;

use super::file::File;
use super::{RewriteError, Rewritten};

/// One `sealed:` entry of a file: its place, its armor and the line of its value.
#[derive(Clone, Debug)]
pub struct SealedEntry {
    pub armor: String,
    pub line: u32,
    pub place: Place,
}

impl File<'_> {
    /// Every sealed entry of every secret of the file, in file order.
    pub fn sealed(&self) -> Vec<SealedEntry> {
        self.secrets()
            .iter()
            .flat_map(|secret| {
                secret
                    .data
                    .entries
                    .iter()
                    .filter_map(|entry| match &entry.source {
                        DataSource::Sealed(armor) => Some(SealedEntry {
                            armor: armor.clone(),
                            line: self.line(entry.value_span.start as usize),
                            place: secret.resource.place(&entry.key.value),
                        }),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The file with each place's sealed entry holding the given armor instead; a place
    /// without a sealed entry in this file is an error (nothing is added).
    pub fn reseal(&self, armors: &[(Place, String)]) -> Result<Rewritten, RewriteError> {
        let mut out = self.start();
        let mut edits = Vec::with_capacity(armors.len());
        let secrets = self.secrets();
        for (place, armor) in armors {
            let found = secrets.iter().find_map(|secret| {
                if secret.resource.namespace_name() != place.namespace
                    || secret.resource.name.value != place.name
                {
                    return None;
                }
                let entry = secret.data.entries.iter().find(|e| {
                    e.key.value == place.key && matches!(e.source, DataSource::Sealed(_))
                })?;
                match &secret.field?.1.value {
                    Value::Seq(items) => Some((items.as_slice(), entry)),
                    _ => None,
                }
            });
            let Some((items, entry)) = found else {
                return Err(RewriteError::NoSuchSecret {
                    file: self.name().to_owned(),
                    name: place.name.clone(),
                    namespace: place.namespace.clone(),
                });
            };
            let (item, key, node) = self.list_field(items, entry)?;
            edits.push(self.replace_field(item, key, node, armor)?);
            out.armors.push((place.clone(), armor.clone()));
        }
        Ok(self.finish(out, edits))
    }
}

#[cfg(test)]
mod tests {
    use crate::edit::seal_in_place::File;
    use crate::parse::load_texts;
    use crate::secrets::{Keys, seal};
    use crate::validate::{Options, validate};

    /// Block and flow entries, CRLF line breaks and comments: only the armors change, and the
    /// new ones are what the file then declares.
    #[test]
    fn only_the_armors_change() {
        let keys = Keys::generate();
        let old = |name: &str, key: &str| {
            let place = crate::secrets::Place::new("default", name, key);
            seal("v", &place, &keys.recipients()).unwrap()
        };
        let block = old("db", "pw")
            .trim()
            .lines()
            .fold(String::new(), |mut text, line| {
                text.push_str("        ");
                text.push_str(line);
                text.push_str("\r\n");
                text
            });
        let flow = serde_json::Value::String(old("api", "token")).to_string();
        let text = format!(
            "# db\r\nsecret:\r\n  name: db\r\n  data:\r\n    - key: pw  # kept\r\n      sealed: |\r\n{block}\
             \r\n---\r\nsecrets: [{{name: api, data: [{{key: token, sealed: {flow}}}]}}]\r\n"
        );
        let loaded = load_texts([("s.yaml".to_owned(), text.clone())]);
        let validated = validate(&loaded, &Options::default());
        assert!(
            !validated.diagnostics.has_errors(),
            "{:?}",
            validated.diagnostics
        );
        let file = File::new(&loaded, &validated, loaded.files[0].source);
        let sealed = file.sealed();
        assert_eq!(sealed.len(), 2);
        assert_eq!(sealed[0].line, 7);
        assert_eq!(sealed[1].line as usize, text.lines().count());
        let fresh: Vec<_> = sealed
            .iter()
            .map(|s| {
                let armor = seal("v", &s.place, &keys.recipients()).unwrap();
                (s.place.clone(), armor)
            })
            .collect();
        let out = file.reseal(&fresh).unwrap();
        out.verify(&Options::default())
            .expect("the safety net passes");
        assert!(
            !out.text
                .contains(sealed[0].armor.trim().lines().nth(1).unwrap())
        );
        let head = "# db\r\nsecret:\r\n  name: db\r\n  data:\r\n    - key: pw  # kept\r\n      sealed: |\r\n";
        assert!(out.text.starts_with(head), "{}", out.text);
        assert!(
            out.text
                .contains("\r\n---\r\nsecrets: [{name: api, data: [{key: token, sealed: \"")
        );
        assert!(out.text.ends_with("\\n\"}]}]\r\n"), "{}", out.text);
        assert_eq!(out.text.matches("-----BEGIN AGE").count(), 2);
    }
}
