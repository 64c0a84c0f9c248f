//! Constructors for the contract's records, so plugins build them in one line.

use crate::{
    Discovered, Evaluation, EvidenceKind, Finding, Level, Location, PluginInfo, Region, Rule,
    RuleDecl, TestRun,
};

impl PluginInfo {
    pub fn new(name: &str, version: &str) -> Self {
        PluginInfo {
            name: name.into(),
            version: version.into(),
            rules: Vec::new(),
            reads: Vec::new(),
            has_tests: false,
        }
    }

    /// Say that [`Plugin::run_tests`](crate::Plugin::run_tests) has tests
    /// to run, so `portcullis test` calls it.
    pub fn with_tests(mut self) -> Self {
        self.has_tests = true;
        self
    }

    /// Report the plugin's declared rules, in the order given (the order
    /// `portcullis rules` lists them). See [`declare_rule!`](crate::declare_rule).
    pub fn rules(mut self, rules: &[&RuleDecl]) -> Self {
        self.rules.extend(rules.iter().map(|r| r.rule()));
        self
    }

    pub fn reads(mut self, kind: EvidenceKind) -> Self {
        if !self.reads.iter().any(|k| *k as u8 == kind as u8) {
            self.reads.push(kind);
        }
        self
    }

    pub fn reads_files(self) -> Self {
        self.reads(EvidenceKind::Files)
    }
}

impl Rule {
    /// A rule record with its id, name, default level and one-sentence
    /// description. The full description defaults to the short one; help to
    /// both.
    ///
    /// This builds the records of rules discovered at run time, for
    /// [`Evaluation::discover`]; a plugin's own rules are declared once with
    /// [`declare_rule!`](crate::declare_rule).
    pub fn new(id: &str, name: &str, default_level: Level, short: &str) -> Self {
        Rule {
            id: id.into(),
            name: name.into(),
            short_description: short.into(),
            full_description: short.into(),
            help_markdown: short.into(),
            default_level,
            tags: Vec::new(),
            security_severity: None,
        }
    }

    pub fn full(mut self, text: &str) -> Self {
        self.full_description = text.into();
        self
    }

    pub fn help(mut self, markdown: &str) -> Self {
        self.help_markdown = markdown.into();
        self
    }

    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.tags = tags.iter().map(|t| (*t).to_string()).collect();
        self
    }

    pub fn security_severity(mut self, score: f32) -> Self {
        self.security_severity = Some(score);
        self
    }
}

impl Region {
    pub fn line(line: u32) -> Self {
        Region {
            start_line: line,
            start_column: None,
            end_line: None,
            end_column: None,
        }
    }

    /// From a line and column to the end of that line.
    pub fn at(line: u32, column: u32) -> Self {
        Region {
            start_line: line,
            start_column: Some(column),
            end_line: None,
            end_column: None,
        }
    }

    pub fn span(start_line: u32, start_column: u32, end_line: u32, end_column: u32) -> Self {
        Region {
            start_line,
            start_column: Some(start_column),
            end_line: Some(end_line),
            end_column: Some(end_column),
        }
    }
}

impl Location {
    pub fn file(path: &str) -> Self {
        Location {
            path: path.into(),
            region: None,
        }
    }

    pub fn at(path: &str, region: Region) -> Self {
        Location {
            path: path.into(),
            region: Some(region),
        }
    }
}

impl Finding {
    /// A finding at the rule's default level with no location yet.
    pub(crate) fn of(rule_id: &str, message: impl Into<String>) -> Self {
        Finding {
            rule_id: rule_id.into(),
            level: None,
            message: message.into(),
            locations: Vec::new(),
            fingerprint: None,
            properties: None,
        }
    }

    pub fn level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    pub fn location(mut self, location: Location) -> Self {
        self.locations.push(location);
        self
    }

    /// Locate the finding on a whole file.
    pub fn in_file(self, path: &str) -> Self {
        self.location(Location::file(path))
    }

    /// Locate the finding on one line of a file.
    pub fn at_line(self, path: &str, line: u32) -> Self {
        self.location(Location::at(path, Region::line(line)))
    }

    pub fn fingerprint(mut self, fingerprint: impl Into<String>) -> Self {
        self.fingerprint = Some(fingerprint.into());
        self
    }

    /// Extra SARIF properties (must be a JSON object).
    pub fn properties(mut self, properties: serde_json::Value) -> Self {
        self.properties = Some(properties.to_string());
        self
    }
}

// The type is generated from WIT, so the impl cannot be derived there.
#[allow(clippy::derivable_impls)]
impl Default for Evaluation {
    fn default() -> Self {
        Evaluation {
            findings: Vec::new(),
            rules: Vec::new(),
        }
    }
}

impl Evaluation {
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Register a rule discovered while evaluating (a rule of an imported
    /// SARIF log, a policy's rule) in [`Evaluation::rules`], and return the
    /// handle that makes findings of it. A rule whose id is already
    /// registered is not added again: the first registration wins, and the
    /// handle names it. Ids must not clash with the plugin's declared rules.
    pub fn discover(&mut self, rule: Rule) -> Discovered {
        let handle = Discovered::new(rule.id.clone());
        if !self.rules.iter().any(|r| r.id == rule.id) {
            self.rules.push(rule);
        }
        handle
    }
}

impl Level {
    /// Parse SARIF's and rustc's level words (`none`/`help` map to note).
    pub fn parse(word: &str) -> Option<Level> {
        match word {
            "error" => Some(Level::Error),
            "warning" => Some(Level::Warning),
            "note" | "none" | "help" | "info" => Some(Level::Note),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

// The type is generated from WIT, so the impl cannot be derived there.
#[allow(clippy::derivable_impls)]
impl Default for TestRun {
    fn default() -> Self {
        TestRun {
            tests: Vec::new(),
            coverage: Vec::new(),
        }
    }
}
