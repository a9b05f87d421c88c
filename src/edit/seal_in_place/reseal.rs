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
