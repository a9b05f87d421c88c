//! The local key file (SPEC §6): read by offline checks only — `rune lint` and `rune cast
//! --offline`. An online cast never calls into this module: the server opens sealed values.

use std::path::Path;

use crate::cli::error::CliError;
use crate::diag::Diagnostic;
use crate::limits::DataLimits;
use crate::resource::Resource;
use crate::secrets::KeyFileLocation;
use crate::validate::sealed;

/// Opens the sealed values of `resources` with the key file, if there is one. Returns the
/// findings and, when some values could not be opened for want of a key file, a note saying
/// what was not checked.
pub fn check_sealed(
    flag: Option<&Path>,
    resources: &[Resource],
    limits: DataLimits,
) -> Result<(Vec<Diagnostic>, Option<String>), CliError> {
    let location = KeyFileLocation::resolve(flag);
    let keys = location.as_ref().map_or(Ok(None), KeyFileLocation::load)?;
    let report = sealed::check(resources, keys.as_ref(), limits);
    let note = (keys.is_none() && report.unopened > 0).then(|| {
        let looked = location.as_ref().map_or_else(
            || "no --key-file, RUNE_KEY_FILE or HOME".to_owned(),
            |l| format!("none at {}", l.path().display()),
        );
        format!(
            "note: {} sealed value{} checked for form only: no key file to open {} ({looked}), so size, emptiness and place binding were not checked offline",
            report.unopened,
            if report.unopened == 1 { " was" } else { "s were" },
            if report.unopened == 1 { "it" } else { "them" },
        )
    });
    Ok((report.diagnostics, note))
}
