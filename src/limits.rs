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

/// The most instances one service may ask for (`scale`), checked offline and by runed alike: an
/// unbounded count would let one request start billions of processes.
pub const MAX_SCALE: u32 = 1000;

/// The most labels one resource may carry.
pub const MAX_LABELS: usize = 64;

/// The longest label key, in bytes (a DNS-style prefix and a name).
pub const MAX_LABEL_KEY: usize = 253;

/// The longest label value, in characters.
pub const MAX_LABEL_VALUE: usize = 256;

/// The most mounts (`secretMounts` and `configMounts` together) of one service: their paths are
/// compared pairwise.
pub const MAX_MOUNTS: usize = 256;
