//! Data limits (SPEC §2.3, §4.1): offline checks use the defaults; a server applies its own.

/// Limits on one kind of data resource.
#[derive(Clone, Copy, Debug, Eq, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataLimits {
    pub max_keys: usize,
    pub max_value_size: usize,
}

impl Default for DataLimits {
    fn default() -> Self {
        Self {
            max_keys: 64,
            max_value_size: 65_536,
        }
    }
}

/// The limits for secrets and configmaps.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub configmap: DataLimits,
    pub secret: DataLimits,
}
