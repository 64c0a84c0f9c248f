//! The credential formats the plugin knows: one [`Detector`] per rule.
//!
//! Each detector has literal keywords (case-sensitive: token prefixes are) and
//! a byte-oriented ASCII regex whose group `s` is the secret. The scanner
//! runs a detector's regex only on lines where one of its keywords occurs.

use portcullis_sdk::RuleDecl;

use crate::rules::{
    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, GITHUB_APP_TOKEN, GITHUB_FINE_GRAINED_PAT,
    GITHUB_OAUTH_TOKEN, GITHUB_PAT, GITLAB_TOKEN, GOOGLE_API_KEY, JWT, NPM_TOKEN, PYPI_TOKEN,
    SENDGRID_API_KEY, SLACK_TOKEN, SLACK_WEBHOOK, STRIPE_SECRET_KEY, TWILIO_API_KEY,
    URL_CREDENTIALS,
};

/// Extra validation after the regex matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A random token with a fixed prefix: rejected when it is a placeholder
    /// or has too little entropy to be random.
    Token,
    /// A JWT: the header must decode to a JSON object naming an `alg`.
    Jwt,
    /// `scheme://user:password@host`: the password must not be a
    /// placeholder, the user name, or a local/example host's.
    UrlCredentials,
}

pub struct Detector {
    /// The rule its findings belong to.
    pub rule: &'static RuleDecl,
    /// What was found, in words (used in messages).
    pub what: &'static str,
    /// Literals that must occur on the line (case-sensitive).
    pub keywords: &'static [&'static str],
    pub pattern: &'static str,
    pub check: Check,
}

/// Every token detector, one per rule. The private-key detector is
/// multi-line and lives in `private_key.rs`; the generic rule's shapes are
/// in `generic.rs`.
pub const DETECTORS: &[Detector] = &[
    Detector {
        rule: &AWS_ACCESS_KEY_ID,
        what: "AWS access key ID",
        keywords: &["AKIA", "ASIA", "ABIA", "ACCA"],
        pattern: r"\b(?P<s>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        check: Check::Token,
    },
    Detector {
        rule: &AWS_SECRET_ACCESS_KEY,
        what: "AWS secret access key",
        keywords: &["aws", "AWS", "Aws"],
        pattern: concat!(
            r#"(?i)aws[a-z0-9_.\-]*secret[a-z0-9_.\-]*["']?(?:"#,
            crate::generic::typed!(),
            r#"|\s{0,4}(?:=>|:=|=|:|,))\s{0,4}["'`]?(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#
        ),
        check: Check::Token,
    },
    Detector {
        rule: &GITHUB_PAT,
        what: "GitHub personal access token (classic)",
        keywords: &["ghp_"],
        pattern: r"\b(?P<s>ghp_[A-Za-z0-9]{36})\b",
        check: Check::Token,
    },
    Detector {
        rule: &GITHUB_FINE_GRAINED_PAT,
        what: "GitHub fine-grained personal access token",
        keywords: &["github_pat_"],
        pattern: r"\b(?P<s>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        check: Check::Token,
    },
    Detector {
        rule: &GITHUB_OAUTH_TOKEN,
        what: "GitHub OAuth access token",
        keywords: &["gho_"],
        pattern: r"\b(?P<s>gho_[A-Za-z0-9]{36})\b",
        check: Check::Token,
    },
    Detector {
        rule: &GITHUB_APP_TOKEN,
        what: "GitHub App token",
        keywords: &["ghu_", "ghs_", "ghr_"],
        pattern: r"\b(?P<s>(?:ghu|ghs|ghr)_[A-Za-z0-9]{36,})\b",
        check: Check::Token,
    },
    Detector {
        rule: &GITLAB_TOKEN,
        what: "GitLab token",
        keywords: &[
            "glpat-",
            "gldt-",
            "glrt-",
            "glptt-",
            "glcbt-",
            "gloas-",
            "glsoat-",
            "glffct-",
            "GR1348941",
        ],
        pattern: r"\b(?P<s>(?:glpat|gldt|glrt|glcbt|glsoat|glffct)-[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]{2,})*|glptt-[0-9a-f]{40}|gloas-[0-9a-f]{64}|GR1348941[A-Za-z0-9_\-]{20,})",
        check: Check::Token,
    },
    Detector {
        rule: &SLACK_TOKEN,
        what: "Slack token",
        keywords: &["xox", "xapp-"],
        pattern: r"\b(?P<s>xox[abeoprs]-(?:[0-9]+-)+[0-9A-Za-z]{8,}[0-9A-Za-z\-]*|xapp-[0-9]-[A-Z0-9]+-[0-9]+-[0-9a-z]{16,})",
        check: Check::Token,
    },
    Detector {
        rule: &SLACK_WEBHOOK,
        what: "Slack incoming webhook",
        keywords: &["hooks.slack.com"],
        pattern: r"(?P<s>https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{8,}/[AB][A-Z0-9]{8,}/[A-Za-z0-9]{20,})",
        check: Check::Token,
    },
    Detector {
        rule: &STRIPE_SECRET_KEY,
        what: "Stripe live secret key",
        keywords: &["sk_live_", "rk_live_"],
        pattern: r"\b(?P<s>(?:sk|rk)_live_[0-9A-Za-z]{24,})\b",
        check: Check::Token,
    },
    Detector {
        rule: &GOOGLE_API_KEY,
        what: "Google API key",
        keywords: &["AIza"],
        pattern: r"\b(?P<s>AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)",
        check: Check::Token,
    },
    Detector {
        rule: &NPM_TOKEN,
        what: "npm access token",
        keywords: &["npm_"],
        pattern: r"\b(?P<s>npm_[A-Za-z0-9]{36})\b",
        check: Check::Token,
    },
    Detector {
        rule: &PYPI_TOKEN,
        what: "PyPI API token",
        keywords: &["pypi-AgEIcHlwaS5vcmc"],
        pattern: r"\b(?P<s>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})",
        check: Check::Token,
    },
    Detector {
        rule: &TWILIO_API_KEY,
        what: "Twilio API key",
        keywords: &["SK"],
        pattern: r"\b(?P<s>SK[0-9a-f]{32})\b",
        check: Check::Token,
    },
    Detector {
        rule: &SENDGRID_API_KEY,
        what: "SendGrid API key",
        keywords: &["SG."],
        pattern: r"\b(?P<s>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)",
        check: Check::Token,
    },
    Detector {
        rule: &JWT,
        what: "JSON Web Token",
        keywords: &["eyJ"],
        pattern: r"\b(?P<s>eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]{16,})",
        check: Check::Jwt,
    },
    Detector {
        rule: &URL_CREDENTIALS,
        what: "password in a URL",
        keywords: &["://"],
        pattern: r#"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://(?P<user>[^\s:/?#@"'<>`\[\]()]+):(?P<s>[^\s/?#@"'<>`\[\]()]{3,})@(?P<host>[A-Za-z0-9.\-_\[\]:]+)"#,
        check: Check::UrlCredentials,
    },
];
