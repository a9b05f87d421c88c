//! Stage 2: YAML documents → validated resources, with every finding of SPEC §2.3.
//!
//! In: a [`Loaded`] set of documents and the [`Options`] in force. Out: a [`Validated`] set of
//! [`Resource`]s plus diagnostics. Documents decode in parallel (each on its own); the checks
//! across documents (uniqueness, references) run once over the whole set, in linear time.
//! Documents [`crate::parse::read`] left unparsed are parsed here, each tree dropped once
//! decoded: only the resources outlive validation.
//! Must not happen here: network access, or a secret value in any message.

mod context;
pub mod data;
pub mod document;
pub mod fields;
pub mod names;
pub mod options;
pub mod plaintext;
pub mod previous_keks;
pub mod rules;
pub mod sealed;
pub mod server_config;
pub mod service;
pub mod set;
pub mod storage;

use crate::diag::Diagnostics;
use crate::fs::confine::FileRoots;
use crate::parse::Loaded;
use crate::resource::Resource;
use crate::server_config::ServerConfig;
use crate::source::Span;

pub use document::Skipped;
pub use options::Options;

/// The outcome of validation: what was declared and what is wrong with it.
#[derive(Debug, Default)]
pub struct Validated {
    pub diagnostics: Diagnostics,
    /// Spans of secret values, masked wherever source text is shown.
    pub redactions: Vec<Span>,
    pub resources: Vec<Resource>,
    pub server_configs: Vec<(Span, ServerConfig)>,
    pub skipped: Vec<Skipped>,
}

/// How many pending documents are parsed and decoded between two merges of their results.
const CHUNK: usize = 8192;

/// One document's resources, skipped parts and server configuration, findings and redactions.
type Decoded = (document::Decoded, Vec<crate::diag::Diagnostic>, Vec<Span>);

/// Validates every document, then the set as a whole. Findings are sorted by position.
#[must_use]
pub fn validate(loaded: &Loaded, options: &Options) -> Validated {
    let base_dirs: Vec<Option<&std::path::Path>> = {
        let mut dirs = vec![None; loaded.sources.len()];
        for file in &loaded.files {
            dirs[file.source.0 as usize] = file.base_dir();
        }
        dirs
    };
    // Each directory's roots are found once, before the documents decode in parallel.
    let mut unique: Vec<FileRoots> = Vec::new();
    let mut seen: std::collections::HashMap<Option<&std::path::Path>, usize> =
        std::collections::HashMap::new();
    let root_of: Vec<usize> = base_dirs
        .iter()
        .map(|dir| {
            *seen.entry(*dir).or_insert_with(|| {
                unique.push(FileRoots::of(*dir, &options.allow_file_roots));
                unique.len() - 1
            })
        })
        .collect();
    let decode = |document: &crate::parse::Document| {
        let mut ctx = context::DocContext {
            base_dir: base_dirs[document.source.0 as usize],
            file_roots: &unique[root_of[document.source.0 as usize]],
            diagnostics: Vec::new(),
            document: document.index,
            options,
            redactions: Vec::new(),
            source: document.source,
            text: loaded.sources.get(document.source).text(),
        };
        let decoded = document::decode(&mut ctx, &document.root);
        (decoded, ctx.diagnostics, ctx.redactions)
    };
    let mut validated = Validated::default();
    validated
        .diagnostics
        .extend(loaded.diagnostics.iter().cloned());
    validated.resources.reserve(loaded.document_count);
    let mut keep = |(decoded, diagnostics, redactions): Decoded| {
        validated.resources.extend(decoded.resources);
        validated.skipped.extend(decoded.skipped);
        validated.server_configs.extend(decoded.server_config);
        validated.diagnostics.extend(diagnostics);
        validated.redactions.extend(redactions);
    };
    crate::par::map(&loaded.documents, decode)
        .into_iter()
        .for_each(&mut keep);
    // Documents left unparsed are parsed here, each dropped as soon as it is decoded, a chunk
    // at a time: what a chunk decoded is kept before the next starts, so that at most one
    // chunk's results are held twice.
    let mut syntax = Vec::new();
    for chunk in loaded.pending.chunks(CHUNK) {
        let fused = crate::par::map(chunk, |pending| {
            crate::parse::parse_pending(&loaded.sources, &loaded.budget, pending)
                .map(|document| document.map(|document| decode(&document)))
        });
        for result in fused {
            match result {
                Ok(document) => document.into_iter().for_each(&mut keep),
                Err(finding) => syntax.push(finding),
            }
        }
    }
    validated.diagnostics.extend(syntax);
    validated
        .diagnostics
        .extend(set::check(&validated.resources));
    validated.diagnostics.sort();
    validated
}
