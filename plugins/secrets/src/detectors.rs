//! The credential formats the plugin knows: one [`Detector`] per rule.
//!
//! Each detector has literal keywords (case-sensitive: token prefixes are) and
//! a byte-oriented ASCII regex whose group `s` is the secret. The scanner
//! runs a detector's regex only on lines where one of its keywords occurs.

use portcullis_sdk::{Level, Rule};

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
    /// `name = value` for a secret-like name: the value must have enough
    /// entropy and not look like a reference, a hash name, prose or a
    /// template.
    Generic,
}

pub struct Detector {
    pub id: &'static str,
    pub name: &'static str,
    /// What was found, in words (used in messages).
    pub what: &'static str,
    /// Literals that must occur on the line (case-sensitive). The generic
    /// detector's keywords are lowercase and matched in any of the common
    /// cases (see [`keyword_variants`]).
    pub keywords: &'static [&'static str],
    pub pattern: &'static str,
    pub check: Check,
    pub severity: f32,
    /// How to revoke it.
    pub revoke: &'static str,
}

pub const GENERIC: &str = "generic-secret";
pub const URL_CREDENTIALS: &str = "url-credentials";

/// Every regex detector. The private-key detector is multi-line and lives in
/// `private_key.rs`.
pub const DETECTORS: &[Detector] = &[
    Detector {
        id: "aws-access-key-id",
        name: "AwsAccessKeyId",
        what: "AWS access key ID",
        keywords: &["AKIA", "ASIA", "ABIA", "ACCA"],
        pattern: r"\b(?P<s>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        check: Check::Token,
        severity: 9.0,
        revoke: "Deactivate the key in IAM (`aws iam update-access-key --status Inactive`) and create a new one.",
    },
    Detector {
        id: "aws-secret-access-key",
        name: "AwsSecretAccessKey",
        what: "AWS secret access key",
        keywords: &["aws", "AWS", "Aws"],
        pattern: r#"(?i)aws[a-z0-9_.\-]*secret[a-z0-9_.\-]*["']?\s{0,4}(?:=|:=|:|=>|,)\s{0,4}["']?(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        check: Check::Token,
        severity: 9.0,
        revoke: "Deactivate the key pair in IAM and create a new one.",
    },
    Detector {
        id: "github-pat",
        name: "GithubPersonalAccessToken",
        what: "GitHub personal access token (classic)",
        keywords: &["ghp_"],
        pattern: r"\b(?P<s>ghp_[A-Za-z0-9]{36})\b",
        check: Check::Token,
        severity: 8.5,
        revoke: "Delete the token under GitHub Settings → Developer settings → Personal access tokens.",
    },
    Detector {
        id: "github-fine-grained-pat",
        name: "GithubFineGrainedToken",
        what: "GitHub fine-grained personal access token",
        keywords: &["github_pat_"],
        pattern: r"\b(?P<s>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        check: Check::Token,
        severity: 8.5,
        revoke: "Delete the token under GitHub Settings → Developer settings → Fine-grained tokens.",
    },
    Detector {
        id: "github-oauth-token",
        name: "GithubOauthToken",
        what: "GitHub OAuth access token",
        keywords: &["gho_"],
        pattern: r"\b(?P<s>gho_[A-Za-z0-9]{36})\b",
        check: Check::Token,
        severity: 8.5,
        revoke: "Revoke the OAuth app's authorization (Settings → Applications).",
    },
    Detector {
        id: "github-app-token",
        name: "GithubAppToken",
        what: "GitHub App token",
        keywords: &["ghu_", "ghs_", "ghr_"],
        pattern: r"\b(?P<s>(?:ghu|ghs|ghr)_[A-Za-z0-9]{36,})\b",
        check: Check::Token,
        severity: 8.0,
        revoke: "Revoke the installation or user-to-server token through the GitHub App's API.",
    },
    Detector {
        id: "gitlab-token",
        name: "GitlabToken",
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
        severity: 8.5,
        revoke: "Revoke the token in GitLab (User settings → Access tokens, or the project's/runner's settings).",
    },
    Detector {
        id: "slack-token",
        name: "SlackToken",
        what: "Slack token",
        keywords: &["xox", "xapp-"],
        pattern: r"\b(?P<s>xox[abeoprs]-(?:[0-9]+-)+[0-9A-Za-z]{8,}[0-9A-Za-z\-]*|xapp-[0-9]-[A-Z0-9]+-[0-9]+-[0-9a-z]{16,})",
        check: Check::Token,
        severity: 8.0,
        revoke: "Regenerate the token in the Slack app's settings (OAuth & Permissions).",
    },
    Detector {
        id: "slack-webhook",
        name: "SlackWebhook",
        what: "Slack incoming webhook",
        keywords: &["hooks.slack.com"],
        pattern: r"(?P<s>https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{8,}/[AB][A-Z0-9]{8,}/[A-Za-z0-9]{20,})",
        check: Check::Token,
        severity: 6.5,
        revoke: "Remove the webhook from the Slack app (Incoming Webhooks) and create a new one.",
    },
    Detector {
        id: "stripe-secret-key",
        name: "StripeSecretKey",
        what: "Stripe live secret key",
        keywords: &["sk_live_", "rk_live_"],
        pattern: r"\b(?P<s>(?:sk|rk)_live_[0-9A-Za-z]{24,})\b",
        check: Check::Token,
        severity: 9.0,
        revoke: "Roll the key in the Stripe dashboard (Developers → API keys).",
    },
    Detector {
        id: "google-api-key",
        name: "GoogleApiKey",
        what: "Google API key",
        keywords: &["AIza"],
        pattern: r"\b(?P<s>AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)",
        check: Check::Token,
        severity: 7.0,
        revoke: "Delete or regenerate the key in Google Cloud console → APIs & Services → Credentials.",
    },
    Detector {
        id: "npm-token",
        name: "NpmToken",
        what: "npm access token",
        keywords: &["npm_"],
        pattern: r"\b(?P<s>npm_[A-Za-z0-9]{36})\b",
        check: Check::Token,
        severity: 8.5,
        revoke: "Revoke it with `npm token revoke` or on npmjs.com → Access Tokens.",
    },
    Detector {
        id: "pypi-token",
        name: "PypiToken",
        what: "PyPI API token",
        keywords: &["pypi-AgEIcHlwaS5vcmc"],
        pattern: r"\b(?P<s>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})",
        check: Check::Token,
        severity: 8.5,
        revoke: "Delete the token on pypi.org → Account settings → API tokens.",
    },
    Detector {
        id: "twilio-api-key",
        name: "TwilioApiKey",
        what: "Twilio API key",
        keywords: &["SK"],
        pattern: r"\b(?P<s>SK[0-9a-f]{32})\b",
        check: Check::Token,
        severity: 7.5,
        revoke: "Delete the API key in the Twilio console and create a new one.",
    },
    Detector {
        id: "sendgrid-api-key",
        name: "SendgridApiKey",
        what: "SendGrid API key",
        keywords: &["SG."],
        pattern: r"\b(?P<s>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)",
        check: Check::Token,
        severity: 7.5,
        revoke: "Delete the key in SendGrid → Settings → API Keys.",
    },
    Detector {
        id: "jwt",
        name: "JsonWebToken",
        what: "JSON Web Token",
        keywords: &["eyJ"],
        pattern: r"\b(?P<s>eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]{16,})",
        check: Check::Jwt,
        severity: 6.5,
        revoke: "Rotate the signing key or revoke the token at its issuer, and check its expiry.",
    },
    Detector {
        id: URL_CREDENTIALS,
        name: "UrlCredentials",
        what: "password in a URL",
        keywords: &["://"],
        pattern: r#"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://(?P<user>[^\s:/?#@"'<>`\[\]()]+):(?P<s>[^\s/?#@"'<>`\[\]()]{3,})@(?P<host>[A-Za-z0-9.\-_\[\]:]+)"#,
        check: Check::UrlCredentials,
        severity: 7.0,
        revoke: "Change the password on the service and read it from the environment or a secret store.",
    },
    Detector {
        id: GENERIC,
        name: "GenericSecret",
        what: "high-entropy value assigned to a secret-like name",
        keywords: &[
            "password",
            "passwd",
            "passphrase",
            "secret",
            "token",
            "apiKey",
            "api_key",
            "api-key",
            "accessKey",
            "access_key",
            "auth_key",
            "authKey",
            "credential",
            "private_key",
            "privateKey",
        ],
        pattern: r#"(?i)(?P<name>[a-z0-9_.\-]*(?:password|passwd|passphrase|secret|token|api[_.\-]?key|access[_.\-]?key|auth[_.\-]?key|credentials?|private[_.\-]?key)[a-z0-9_.\-]*)["']?\s{0,5}(?:=|:=|:|=>|\+=)\s{0,5}(?:"(?P<dq>[^"\r\n]+)"|'(?P<sq>[^'\r\n]+)'|(?P<bare>[^\s"'`,;)\]}]+))"#,
        check: Check::Generic,
        severity: 6.0,
        revoke: "Rotate the credential where it was issued and read it from the environment or a secret store.",
    },
];

/// The keyword as written plus its lower, UPPER and Capitalized forms
/// (`password`, `PASSWORD`, `Password`), which covers snake_case,
/// SCREAMING_CASE and camelCase names.
pub fn keyword_variants(keyword: &str) -> Vec<String> {
    let mut cap = keyword.to_string();
    if let Some(first) = cap.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let mut v = vec![
        keyword.to_string(),
        keyword.to_ascii_uppercase(),
        keyword.to_ascii_lowercase(),
        cap,
    ];
    v.sort();
    v.dedup();
    v
}

/// The SARIF rule for a detector.
pub fn rule(d: &Detector) -> Rule {
    let level = if d.id == GENERIC {
        Level::Warning
    } else {
        Level::Error
    };
    Rule::new(
        d.id,
        d.name,
        level,
        &format!("A {} was committed.", d.what),
    )
    .full(&format!(
        "The file contains a {}. Anyone who can read the repository, its forks or its history can use it.",
        d.what
    ))
    .help(&format!(
        "{}\n\nRemoving it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/{}`.",
        d.revoke, d.id
    ))
    .tags(&["security", "secrets"])
    .security_severity(d.severity)
}
