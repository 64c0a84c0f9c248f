//! Why a plugin could not be evaluated: one variant per way it fails, from
//! resolving its component to checking what it returned. Every report
//! carries it; the gate fails closed (exit 2) on any of them.

/// A plugin's failure. `Display` is the one-line reason shown to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginFailure {
    /// Its component could not be found or read, or does not match its pin.
    #[error("{0}")]
    Resolve(String),
    /// The engine rejected the component (not a component, wrong contract
    /// version, missing exports) or the sandbox could not be set up.
    #[error("failed to load: {0}")]
    Load(String),
    /// Past its `timeout-ms` deadline.
    #[error("timed out after {0} ms")]
    Timeout(u128),
    /// Past its `memory-mb` cap.
    #[error("exceeded its memory limit of {0} MiB")]
    Memory(usize),
    /// It asked for more memory than a 32-bit plugin can address, whatever
    /// its cap (a collection past 2 GiB: Rust's "capacity overflow").
    #[error("ran out of memory: it asked for more than a plugin can hold ({0})")]
    TooLarge(String),
    #[error("panicked: {0}")]
    Panic(String),
    #[error("trapped: {0}")]
    Trap(String),
    /// The plugin itself returned an error (bad config, unreadable input).
    #[error("returned an error: {0}")]
    Plugin(String),
    /// Its output broke the contract (undeclared rule, bad path).
    #[error("returned malformed data: {0}")]
    Malformed(String),
    /// Its output was well formed but more than the host takes (findings,
    /// bytes, rules); the message says which limit.
    #[error("{0}")]
    OverLimit(String),
    /// Evidence it reads could not be collected.
    #[error("{0}")]
    Evidence(String),
}

impl PluginFailure {
    /// Why a plugin's output was refused: over a limit or malformed. A cap's
    /// message starts with the host's own words ("returned N findings, over
    /// the limit of …", "declares N rules, …"); nothing a plugin chose
    /// (a rule id, a path) comes before them, so a plugin cannot dress a
    /// malformed output up as an over-limit one.
    pub fn refused_output(message: String) -> PluginFailure {
        let host_words = ["returned ", "declares "]
            .iter()
            .any(|w| message.starts_with(w));
        if host_words && message.contains(", over the limit of ") {
            PluginFailure::OverLimit(message)
        } else {
            PluginFailure::Malformed(message)
        }
    }

    /// A stable kebab-case word for machine-readable reports.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginFailure::Resolve(_) => "resolve",
            PluginFailure::Load(_) => "load",
            PluginFailure::Timeout(_) => "timeout",
            PluginFailure::Memory(_) | PluginFailure::TooLarge(_) => "memory",
            PluginFailure::Panic(_) => "panic",
            PluginFailure::Trap(_) => "trap",
            PluginFailure::Plugin(_) => "plugin-error",
            PluginFailure::Malformed(_) => "malformed-output",
            PluginFailure::OverLimit(_) => "over-limit",
            PluginFailure::Evidence(_) => "evidence",
        }
    }
}
