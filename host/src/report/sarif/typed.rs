//! A typed layer over serde-sarif where it is loose: its levels,
//! suppression kinds and statuses, baseline states and notification
//! levels are free JSON values, `results` may be left unset, and a result
//! may have no location. Everything the host writes goes through these
//! functions, so each such field takes only the values SARIF allows
//! (section numbers from the OASIS specification).

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, Notification, PhysicalLocation, PropertyBag, Region,
    ReportingConfiguration, ResultLevel,
};

use crate::diag::Level;

/// §3.27.10 level.
fn result_level(level: Level) -> ResultLevel {
    match level {
        Level::Note => ResultLevel::Note,
        Level::Warning => ResultLevel::Warning,
        Level::Error => ResultLevel::Error,
    }
}

/// §3.50.3 reportingConfiguration.level.
pub fn configuration(level: Level) -> ReportingConfiguration {
    ReportingConfiguration::builder()
        .level(level.as_str())
        .build()
}

/// §3.58.6 notification.level (the values portcullis writes).
#[derive(Debug, Clone, Copy)]
pub enum NotificationLevel {
    Error,
    Warning,
    Note,
}

pub fn notification(level: NotificationLevel, text: String) -> Notification {
    let word = match level {
        NotificationLevel::Error => "error",
        NotificationLevel::Warning => "warning",
        NotificationLevel::Note => "note",
    };
    Notification::builder()
        .level(word)
        .message(Message::builder().text(text).build())
        .build()
}

/// §3.27.24 baselineState.
#[derive(Debug, Clone, Copy)]
pub enum BaselineState {
    New,
    Unchanged,
    Absent,
}

impl BaselineState {
    fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Absent => "absent",
        }
    }
}

/// §3.35 suppression, as a policy waiver writes it: `external` (the
/// justification lives outside the code), `accepted`.
pub struct Suppression(serde_sarif::sarif::Suppression);

impl Suppression {
    pub fn accepted_external(reason: &str, owner: &str, expires: &str, waiver: &str) -> Self {
        let props = BTreeMap::from([
            ("owner".to_string(), owner.into()),
            ("expires".to_string(), expires.into()),
            ("waiver".to_string(), waiver.into()),
        ]);
        Suppression(
            serde_sarif::sarif::Suppression::builder()
                .kind("external")
                .status("accepted")
                .justification(reason)
                .properties(PropertyBag::builder().additional_properties(props).build())
                .build(),
        )
    }
}

/// §3.49.14 properties of a rule: tags and GitHub's `security-severity`
/// (a string holding a number 0.0–10.0).
pub fn rule_properties(tags: &[String], security_severity: Option<f32>) -> PropertyBag {
    let mut bag = PropertyBag::builder().build();
    if !tags.is_empty() {
        bag.tags = Some(tags.to_vec());
    }
    if let Some(s) = security_severity {
        bag.additional_properties
            .insert("security-severity".into(), format!("{s:.1}").into());
    }
    bag
}

/// The driver's properties: where the plugin came from, the digest of the
/// component that ran, and the name it gave itself (informational only).
pub fn driver_properties(
    origin: &str,
    sha256: Option<&str>,
    declared: Option<&str>,
) -> PropertyBag {
    let mut bag = PropertyBag::builder().build();
    bag.additional_properties
        .insert("portcullis/source".into(), origin.into());
    if let Some(sha) = sha256 {
        bag.additional_properties
            .insert("portcullis/sha256".into(), sha.into());
    }
    if let Some(name) = declared {
        bag.additional_properties
            .insert("portcullis/declared-name".into(), name.into());
    }
    bag
}

/// §3.28 location with a physical location under `base` (§3.4.4), always
/// with a region (§3.30).
pub fn physical(uri: &str, base: &str, region: Option<&crate::finding::Region>) -> Location {
    let mut physical = PhysicalLocation::builder()
        .artifact_location(
            ArtifactLocation::builder()
                .uri(uri)
                .uri_base_id(base)
                .build(),
        )
        .build();
    // A finding about a whole file starts at its first line: GitHub shows
    // a result at its region, and SARIF validators flag one without.
    let mut out = Region::builder().start_line(1).build();
    if let Some(r) = region {
        out.start_line = Some(i64::from(r.start_line));
        out.start_column = r.start_column.map(i64::from);
        out.end_line = r.end_line.map(i64::from);
        out.end_column = r.end_column.map(i64::from);
    }
    physical.region = Some(out);
    Location::builder().physical_location(physical).build()
}

/// What a result must have; [`result`] builds it.
pub struct ResultFields {
    pub rule_id: String,
    pub rule_index: usize,
    pub level: Level,
    pub message: String,
    pub locations: Vec<Location>,
    /// `partialFingerprints["portcullis/v1"]`.
    pub fingerprint: String,
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
    pub suppressions: Vec<Suppression>,
    pub baseline_state: Option<BaselineState>,
}

/// §3.27 result.
pub fn result(f: ResultFields) -> serde_sarif::sarif::Result {
    let mut r = serde_sarif::sarif::Result::builder()
        .rule_id(f.rule_id)
        .rule_index(f.rule_index as i64)
        .level(result_level(f.level))
        .message(Message::builder().text(f.message).build())
        .locations(f.locations)
        .partial_fingerprints(BTreeMap::from([(
            "portcullis/v1".to_string(),
            f.fingerprint,
        )]))
        .build();
    r.properties = f.properties.map(|map| {
        PropertyBag::builder()
            .additional_properties(map.into_iter().collect::<BTreeMap<_, _>>())
            .build()
    });
    if !f.suppressions.is_empty() {
        r.suppressions = Some(f.suppressions.into_iter().map(|s| s.0).collect());
    }
    r.baseline_state = f.baseline_state.map(|b| b.as_str().into());
    r
}
