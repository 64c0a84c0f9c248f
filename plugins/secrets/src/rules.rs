//! The rules the secrets plugin reports, each declared once; the doc comment
//! of a declaration is the rule's help. Each regex detector in `detectors`
//! names its rule here; the private-key rule is declared with its detector
//! in `private_key`.

use portcullis_sdk::{RuleDecl, declare_rule};

use crate::private_key;

/// Every rule, in the order `portcullis rules` lists them.
pub const RULES: &[&RuleDecl] = &[
    &AWS_ACCESS_KEY_ID,
    &AWS_SECRET_ACCESS_KEY,
    &GITHUB_PAT,
    &GITHUB_FINE_GRAINED_PAT,
    &GITHUB_OAUTH_TOKEN,
    &GITHUB_APP_TOKEN,
    &GITLAB_TOKEN,
    &SLACK_TOKEN,
    &SLACK_WEBHOOK,
    &STRIPE_SECRET_KEY,
    &GOOGLE_API_KEY,
    &NPM_TOKEN,
    &PYPI_TOKEN,
    &TWILIO_API_KEY,
    &SENDGRID_API_KEY,
    &JWT,
    &private_key::PRIVATE_KEY,
    &URL_CREDENTIALS,
    &GENERIC_SECRET,
];

declare_rule! {
    /// Deactivate the key in IAM (`aws iam update-access-key --status Inactive`) and create a new one.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/aws-access-key-id`.
    pub AWS_ACCESS_KEY_ID = "aws-access-key-id" {
        name: "AwsAccessKeyId",
        level: Error,
        short: "A AWS access key ID was committed.",
        full: "The file contains a AWS access key ID. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 9.0,
    }

    /// Deactivate the key pair in IAM and create a new one.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/aws-secret-access-key`.
    pub AWS_SECRET_ACCESS_KEY = "aws-secret-access-key" {
        name: "AwsSecretAccessKey",
        level: Error,
        short: "A AWS secret access key was committed.",
        full: "The file contains a AWS secret access key. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 9.0,
    }

    /// Delete the token under GitHub Settings → Developer settings → Personal access tokens.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/github-pat`.
    pub GITHUB_PAT = "github-pat" {
        name: "GithubPersonalAccessToken",
        level: Error,
        short: "A GitHub personal access token (classic) was committed.",
        full: "The file contains a GitHub personal access token (classic). Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 8.5,
    }

    /// Delete the token under GitHub Settings → Developer settings → Fine-grained tokens.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/github-fine-grained-pat`.
    pub GITHUB_FINE_GRAINED_PAT = "github-fine-grained-pat" {
        name: "GithubFineGrainedToken",
        level: Error,
        short: "A GitHub fine-grained personal access token was committed.",
        full: "The file contains a GitHub fine-grained personal access token. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 8.5,
    }

    /// Revoke the OAuth app's authorization (Settings → Applications).
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/github-oauth-token`.
    pub GITHUB_OAUTH_TOKEN = "github-oauth-token" {
        name: "GithubOauthToken",
        level: Error,
        short: "A GitHub OAuth access token was committed.",
        full: "The file contains a GitHub OAuth access token. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 8.5,
    }

    /// Revoke the installation or user-to-server token through the GitHub App's API.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/github-app-token`.
    pub GITHUB_APP_TOKEN = "github-app-token" {
        name: "GithubAppToken",
        level: Error,
        short: "A GitHub App token was committed.",
        full: "The file contains a GitHub App token. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 8.0,
    }

    /// Revoke the token in GitLab (User settings → Access tokens, or the project's/runner's settings).
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/gitlab-token`.
    pub GITLAB_TOKEN = "gitlab-token" {
        name: "GitlabToken",
        level: Error,
        short: "A GitLab token was committed.",
        full: "The file contains a GitLab token. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 8.5,
    }

    /// Regenerate the token in the Slack app's settings (OAuth & Permissions).
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/slack-token`.
    pub SLACK_TOKEN = "slack-token" {
        name: "SlackToken",
        level: Error,
        short: "A Slack token was committed.",
        full: "The file contains a Slack token. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 8.0,
    }

    /// Remove the webhook from the Slack app (Incoming Webhooks) and create a new one.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/slack-webhook`.
    pub SLACK_WEBHOOK = "slack-webhook" {
        name: "SlackWebhook",
        level: Error,
        short: "A Slack incoming webhook was committed.",
        full: "The file contains a Slack incoming webhook. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 6.5,
    }

    /// Roll the key in the Stripe dashboard (Developers → API keys).
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/stripe-secret-key`.
    pub STRIPE_SECRET_KEY = "stripe-secret-key" {
        name: "StripeSecretKey",
        level: Error,
        short: "A Stripe live secret key was committed.",
        full: "The file contains a Stripe live secret key. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 9.0,
    }

    /// Delete or regenerate the key in Google Cloud console → APIs & Services → Credentials.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/google-api-key`.
    pub GOOGLE_API_KEY = "google-api-key" {
        name: "GoogleApiKey",
        level: Error,
        short: "A Google API key was committed.",
        full: "The file contains a Google API key. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 7.0,
    }

    /// Revoke it with `npm token revoke` or on npmjs.com → Access Tokens.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/npm-token`.
    pub NPM_TOKEN = "npm-token" {
        name: "NpmToken",
        level: Error,
        short: "A npm access token was committed.",
        full: "The file contains a npm access token. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 8.5,
    }

    /// Delete the token on pypi.org → Account settings → API tokens.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/pypi-token`.
    pub PYPI_TOKEN = "pypi-token" {
        name: "PypiToken",
        level: Error,
        short: "A PyPI API token was committed.",
        full: "The file contains a PyPI API token. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 8.5,
    }

    /// Delete the API key in the Twilio console and create a new one.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/twilio-api-key`.
    pub TWILIO_API_KEY = "twilio-api-key" {
        name: "TwilioApiKey",
        level: Error,
        short: "A Twilio API key was committed.",
        full: "The file contains a Twilio API key. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 7.5,
    }

    /// Delete the key in SendGrid → Settings → API Keys.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/sendgrid-api-key`.
    pub SENDGRID_API_KEY = "sendgrid-api-key" {
        name: "SendgridApiKey",
        level: Error,
        short: "A SendGrid API key was committed.",
        full: "The file contains a SendGrid API key. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 7.5,
    }

    /// Rotate the signing key or revoke the token at its issuer, and check its expiry.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/jwt`.
    pub JWT = "jwt" {
        name: "JsonWebToken",
        level: Error,
        short: "A JSON Web Token was committed.",
        full: "The file contains a JSON Web Token. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 6.5,
    }

    /// Change the password on the service and read it from the environment or a secret store.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/url-credentials`.
    pub URL_CREDENTIALS = "url-credentials" {
        name: "UrlCredentials",
        level: Error,
        short: "A password in a URL was committed.",
        full: "The file contains a password in a URL. Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 7.0,
    }

    /// Rotate the credential where it was issued and read it from the environment or a secret store.
    ///
    /// The rule reads a name that says its value is a credential (`password`, `secret`, `token`, `api_key`, `signing_key`, `credentials`, …) and a value that looks like one (random enough, one word, not a placeholder, reference, path or template), written the ways people write them: assignments (typed or not), call arguments and environment fallbacks, `Authorization` headers, URL query parameters, command-line flags, HTML inputs, Markdown tables and YAML block scalars. A value that passes every check looks real, so the finding is an error.
    ///
    /// Removing it from the file is not enough: it stays in history. If it is a known fake, add it to `allow-values` in the plugin's config or mark the line with `portcullis:allow secrets/generic-secret`.
    pub GENERIC_SECRET = "generic-secret" {
        name: "GenericSecret",
        level: Error,
        short: "A credential was committed in plain text.",
        full: "The file gives a secret-looking value to a name that says it is a credential (a password, secret, token or key). Anyone who can read the repository, its forks or its history can use it.",
        tags: ["security", "secrets"],
        security_severity: 7.0,
    }
}
