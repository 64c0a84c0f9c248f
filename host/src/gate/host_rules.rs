//! The host's own rules, reported under the `portcullis/` prefix: each
//! declared once here, by name, and found by name, never by position.

use crate::diag::Level;
use crate::finding::RuleInfo;

/// One of the host's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRule {
    WaiverExpired,
    WaiverExpiring,
    WaiverUnused,
}

struct Decl {
    id: &'static str,
    name: &'static str,
    level: Level,
    short: &'static str,
    help: &'static str,
}

impl HostRule {
    /// Every host rule, in the order the host's run lists them.
    pub const ALL: [HostRule; 3] = [
        HostRule::WaiverExpired,
        HostRule::WaiverExpiring,
        HostRule::WaiverUnused,
    ];

    fn decl(self) -> Decl {
        match self {
            HostRule::WaiverExpired => Decl {
                id: "waiver-expired",
                name: "WaiverExpired",
                level: Level::Warning,
                short: "A waiver has expired; the findings it covered count again.",
                help: "Fix the findings, or renew the waiver with a new `expires` date and the owner's agreement.",
            },
            HostRule::WaiverExpiring => Decl {
                id: "waiver-expiring",
                name: "WaiverExpiring",
                level: Level::Note,
                short: "A waiver expires soon.",
                help: "Plan the fix or the renewal before the `expires` date (`[gate] waiver-expiring-days`, default 14).",
            },
            HostRule::WaiverUnused => Decl {
                id: "waiver-unused",
                name: "WaiverUnused",
                level: Level::Warning,
                short: "A waiver matched no finding.",
                help: "Remove the waiver: what it excused is gone, and a stale waiver would silently excuse a new finding.",
            },
        }
    }

    /// The id without the `portcullis/` prefix.
    pub fn id(self) -> &'static str {
        self.decl().id
    }

    pub fn default_level(self) -> Level {
        self.decl().level
    }

    /// Position in [`HostRule::ALL`], which is the host run's `rules`.
    pub fn index(self) -> usize {
        HostRule::ALL
            .iter()
            .position(|r| *r == self)
            .unwrap_or_default()
    }

    pub fn info(self) -> RuleInfo {
        let d = self.decl();
        RuleInfo {
            id: d.id.into(),
            name: d.name.into(),
            short_description: d.short.into(),
            full_description: d.short.into(),
            help_markdown: d.help.into(),
            default_level: d.level,
            tags: vec!["policy".into()],
            security_severity: None,
        }
    }
}

/// Every host rule's metadata, in [`HostRule::ALL`] order.
pub fn all() -> Vec<RuleInfo> {
    HostRule::ALL.iter().map(|r| r.info()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_indices_match() {
        let ids: Vec<&str> = HostRule::ALL.iter().map(|r| r.id()).collect();
        assert_eq!(ids, ["waiver-expired", "waiver-expiring", "waiver-unused"]);
        for (i, r) in HostRule::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert_eq!(all()[i].id, r.id());
        }
    }
}
