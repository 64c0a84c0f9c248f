#![allow(dead_code)] // each test binary uses part of the generator
//! A generated corpus for measuring precision and recall: planted secrets
//! in each rule's real token format, in the files they leak from, and hard
//! decoys that must not be findings. Deterministic for a seed.

use std::path::Path;

pub mod generic;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    pub fn from(&mut self, alphabet: &str, n: usize) -> String {
        let a = alphabet.as_bytes();
        (0..n).map(|_| a[self.below(a.len())] as char).collect()
    }
}

pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const UPPER_B32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
pub const HEX: &str = "0123456789abcdef";
const UPPER_NUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const PRINTABLE: &str =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#%^&*-_+=";

fn b64url(bytes: &[u8]) -> String {
    let a = B64URL.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..=n {
            out.push(a[((v >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

pub fn b64(bytes: &[u8]) -> String {
    let mut s = b64url(bytes).replace('-', "+").replace('_', "/");
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    s
}

/// Decode standard base64 (padded).
pub fn b64_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = B64.bytes().position(|a| a == c).expect("base64 digit") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// A fresh token for `rule` in its real format.
pub fn token(rule: &str, r: &mut Rng) -> String {
    match rule {
        "aws-access-key-id" => format!("{}{}", r.pick(&["AKIA", "ASIA"]), r.from(UPPER_B32, 16)),
        "aws-secret-access-key" => r.from(B64, 40),
        "github-pat" => format!("ghp_{}", r.from(ALNUM, 36)),
        "github-fine-grained-pat" => {
            format!("github_pat_{}_{}", r.from(ALNUM, 22), r.from(ALNUM, 59))
        }
        "github-oauth-token" => format!("gho_{}", r.from(ALNUM, 36)),
        "github-app-token" => format!("{}_{}", r.pick(&["ghs", "ghu"]), r.from(ALNUM, 36)),
        "gitlab-token" => format!("glpat-{}", r.from(&format!("{ALNUM}_-"), 20)),
        "slack-token" => format!(
            "{}-{}-{}-{}",
            r.pick(&["xoxb", "xoxp"]),
            r.from("0123456789", 12),
            r.from("0123456789", 13),
            r.from(ALNUM, 24)
        ),
        "slack-webhook" => format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            r.from(UPPER_NUM, 10),
            r.from(UPPER_NUM, 10),
            r.from(ALNUM, 24)
        ),
        "stripe-secret-key" => {
            let n = 24 + r.below(76);
            format!("{}_live_{}", r.pick(&["sk", "rk"]), r.from(ALNUM, n))
        }
        "google-api-key" => format!("AIza{}", r.from(&format!("{ALNUM}_-"), 35)),
        "npm-token" => format!("npm_{}", r.from(ALNUM, 36)),
        "pypi-token" => {
            let n = 60 + r.below(100);
            format!("pypi-AgEIcHlwaS5vcmc{}", r.from(B64URL, n))
        }
        "twilio-api-key" => format!("SK{}", r.from(HEX, 32)),
        "sendgrid-api-key" => format!("SG.{}.{}", r.from(B64URL, 22), r.from(B64URL, 43)),
        "jwt" => {
            let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
            let payload = b64url(
                format!(
                    r#"{{"sub":"{}","iat":{},"role":"service"}}"#,
                    r.from(ALNUM, 12),
                    1_700_000_000 + r.below(50_000_000)
                )
                .as_bytes(),
            );
            format!("{header}.{payload}.{}", r.from(B64URL, 43))
        }
        "url-credentials" => r.from(ALNUM, 18),
        "generic-secret" => r.from(PRINTABLE, 24),
        "private-key" => {
            let kind = *r.pick(&[
                "RSA PRIVATE KEY",
                "OPENSSH PRIVATE KEY",
                "PRIVATE KEY",
                "EC PRIVATE KEY",
            ]);
            let mut s = format!("-----BEGIN {kind}-----\n");
            for _ in 0..6 {
                s.push_str(&r.from(B64, 64));
                s.push('\n');
            }
            s.push_str(&format!("-----END {kind}-----\n"));
            s
        }
        other => panic!("no generator for {other}"),
    }
}

/// A planted secret: the file, its content, the expected rule and line,
/// and the shape it is written in (`generic-secret`'s classes; otherwise
/// the rule's id, or `decoy`).
pub struct Case {
    pub path: String,
    pub content: String,
    pub expect: Option<(&'static str, u32)>,
    pub class: &'static str,
}

pub const RULES: &[&str] = &[
    "aws-access-key-id",
    "aws-secret-access-key",
    "github-pat",
    "github-fine-grained-pat",
    "github-oauth-token",
    "github-app-token",
    "gitlab-token",
    "slack-token",
    "slack-webhook",
    "stripe-secret-key",
    "google-api-key",
    "npm-token",
    "pypi-token",
    "twilio-api-key",
    "sendgrid-api-key",
    "jwt",
    "url-credentials",
    "generic-secret",
    "private-key",
];

/// Put a secret in a realistic line of a realistic file.
fn plant(rule: &'static str, secret: &str, i: usize, r: &mut Rng) -> Case {
    let var = match rule {
        "aws-secret-access-key" => "AWS_SECRET_ACCESS_KEY".to_string(),
        "generic-secret" => r
            .pick(&[
                "DB_PASSWORD",
                "client_secret",
                "apiKey",
                "SECRET_KEY",
                "auth_token",
                "password",
            ])
            .to_string(),
        _ => r
            .pick(&[
                "TOKEN",
                "SLACK_TOKEN",
                "api_key",
                "key",
                "value",
                "CREDENTIAL",
                "webhook",
            ])
            .to_string(),
    };
    let value = if rule == "url-credentials" {
        format!(
            "{}://{}:{secret}@{}:5432/app",
            r.pick(&["postgres", "mysql", "redis", "amqp", "https"]),
            r.pick(&["app", "deploy", "svc_user"]),
            r.pick(&["db.prod.internal", "10.0.3.7", "cache.corp.net"])
        )
    } else {
        secret.to_string()
    };
    let filler = "# settings for the service\nLOG_LEVEL=info\nPORT=8080\n";
    let (path, content, line) = if rule == "private-key" {
        let path = r.pick(&[
            "deploy/id_rsa",
            "certs/server.key",
            ".ssh/id_ed25519",
            "config/key.pem",
        ]);
        (format!("{i}/{path}"), value, 1)
    } else if rule == "aws-secret-access-key" && r.below(4) == 0 {
        (
            format!("{i}/src/aws.rs"),
            format!(
                "// Credentials for the uploader.\nconst AWS_SECRET_ACCESS_KEY: &str = \"{value}\";\n"
            ),
            2,
        )
    } else {
        match r.below(9) {
            0 => (format!("{i}/.env"), format!("{filler}{var}={value}\n"), 4),
            1 => (
                format!("{i}/config.yaml"),
                format!("service:\n  name: api\n  {var}: \"{value}\"\n"),
                3,
            ),
            2 => (
                format!("{i}/settings.json"),
                format!("{{\n  \"name\": \"api\",\n  \"{var}\": \"{value}\"\n}}\n"),
                3,
            ),
            3 => (
                format!("{i}/src/main.rs"),
                format!(
                    "fn main() {{\n    let {} = \"{value}\";\n}}\n",
                    var.to_lowercase()
                ),
                2,
            ),
            4 => (
                format!("{i}/app.js"),
                format!(
                    "const client = require('x');\nconst {var} = '{value}';\nmodule.exports = {{}};\n"
                ),
                2,
            ),
            5 => (
                format!("{i}/.github/workflows/ci.yml"),
                format!("on: push\njobs:\n  build:\n    env:\n      {var}: {value}\n"),
                5,
            ),
            6 => (
                format!("{i}/.npmrc"),
                format!("registry=https://registry.npmjs.org/\n{var}={value}\n"),
                2,
            ),
            7 => (
                format!("{i}/settings.py"),
                format!(
                    "import os\nDEBUG = False\n{} = \"{value}\"\n",
                    var.to_uppercase()
                ),
                3,
            ),
            _ => (
                format!("{i}/docker-compose.yml"),
                format!("services:\n  app:\n    environment:\n      - {var}={value}\n"),
                4,
            ),
        }
    };
    Case {
        path,
        content,
        expect: Some((rule, line)),
        class: rule,
    }
}

/// Values and files that must not be findings.
fn decoy(i: usize, r: &mut Rng) -> Case {
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        r.from(HEX, 8),
        r.from(HEX, 4),
        r.from(HEX, 4),
        r.from(HEX, 4),
        r.from(HEX, 12)
    );
    let (path, content) = match r.below(25) {
        0 => ("config.yaml", format!("request_id: {uuid}\ntoken: \"{uuid}\"\n")),
        1 => ("Cargo.lock", format!("[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\nchecksum = \"{}\"\n", r.from(HEX, 64))),
        2 => ("package-lock.json", {
            let bytes: Vec<u8> = (0..64).map(|_| r.next() as u8).collect();
            format!("{{\n  \"node_modules/x\": {{\n    \"resolved\": \"https://registry.npmjs.org/x/-/x-1.0.0.tgz\",\n    \"integrity\": \"sha512-{}\"\n  }}\n}}\n", b64(&bytes))
        }),
        3 => ("notes.env", format!("SECRET={}\n", b64(format!("hello world this is plain text number {i}").as_bytes()))),
        4 => (".env.example", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n".to_string()),
        5 => ("docs/auth.md", "Send `Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`.\n".to_string()),
        6 => ("tests/payment.py", format!("STRIPE_KEY = \"sk_test_{}\"\n", r.from(ALNUM, 24))),
        7 => (".github/workflows/release.yml", "env:\n  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n".to_string()),
        8 => ("README.md", "Set `API_TOKEN=<TOKEN>` and `password: changeme` before starting.\n".to_string()),
        9 => ("dist/app.min.js", format!("!function(e){{var t=\"{}\";e.token=t.split(\"\").reverse();e.password=n.password||o.secret}}(window);var a=\"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\";\n", r.from(ALNUM, 40))),
        10 => ("src/client.py", "token = config.api_token\npassword = os.environ[\"DB_PASSWORD\"]\napi_key = get_api_key()\n".to_string()),
        11 => ("docker-compose.yml", "services:\n  db:\n    environment:\n      DATABASE_URL: postgres://postgres:postgres@localhost:5432/dev\n      REDIS_URL: redis://user:${REDIS_PASSWORD}@cache:6379\n".to_string()),
        12 => ("locales/en.json", "{\n  \"password\": \"Enter your password\",\n  \"token_expired\": \"Your session token has expired\"\n}\n".to_string()),
        13 => ("build.yaml", format!("build_id: {}\ncommit: {}\nimage_digest: sha256:{}\n", r.from(HEX, 32), r.from(HEX, 40), r.from(HEX, 64))),
        14 => ("src/lib.rs", "/// Parse `ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx` style tokens.\nconst PREFIX: &str = \"ghp_\";\nconst AWS: &str = \"AKIA\";\n".to_string()),
        15 => ("k8s/deploy.yaml", "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db-secret\n        key: password\n".to_string()),
        16 => ("go.sum", format!("github.com/pkg/errors v0.9.1 h1:{}=\n", b64(&(0..32).map(|_| r.next() as u8).collect::<Vec<_>>()).trim_end_matches('='))),
        17 => ("config/app.toml", format!("token_hash = \"{}\"\nsecret_name = \"prod-db-credentials\"\npassword_min_length = 12\n", r.from(HEX, 64))),
        18 => ("docs/keys.md", "Generate a key; the file starts with `-----BEGIN OPENSSH PRIVATE KEY-----`.\n```\n-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n```\n".to_string()),
        19 => ("src/crypto.ts", format!("const sri = \"sha384-{}\";\nconst nonce = \"{}\";\n", b64(&(0..48).map(|_| r.next() as u8).collect::<Vec<_>>()), r.from(ALNUM, 22))),
        20 => ("slack.md", "Webhook: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\n".to_string()),
        21 => (".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n".to_string()),
        22 => ("src/auth.go", "var tokenRegex = regexp.MustCompile(`ghp_[A-Za-z0-9]{36}`)\npassword := r.FormValue(\"password\")\n".to_string()),
        // URL credentials that are placeholders: example hosts and their
        // subdomains, names in capitals, metasyntactic pairs.
        23 => ("CONTRIBUTING.md", "git clone https://USERNAME:TOKEN@git.example.com/org/repo.git\npip install git+https://user:pass@host/repo.git\nhttps://<user>:<password>@github.com/org/repo\nDATABASE_URL=postgres://app:Xk9vR2mQ7wLp@db.example.com:5432/app\n".to_string()),
        _ => ("test/fixtures/users.sql", format!("INSERT INTO users VALUES ('{uuid}', 'alice', '$2b$12${}');\n", r.from(ALNUM, 53))),
    };
    Case {
        path: format!("d{i}/{path}"),
        content,
        expect: None,
        class: "decoy",
    }
}

/// `per_rule` planted secrets for every rule and for every class of the
/// generic rule, `decoys` decoy files, and `per_rule` decoys of every
/// generic class.
pub fn generate(seed: u64, per_rule: usize, decoys: usize) -> Vec<Case> {
    let mut r = Rng::new(seed);
    let mut cases = Vec::new();
    let mut i = 0;
    for rule in RULES {
        for _ in 0..per_rule {
            let secret = token(rule, &mut r);
            cases.push(plant(rule, &secret, i, &mut r));
            i += 1;
        }
    }
    for class in generic::CLASSES {
        for _ in 0..per_rule {
            cases.push(generic::plant(class, i, &mut r));
            i += 1;
        }
    }
    for d in 0..decoys {
        cases.push(decoy(d, &mut r));
    }
    for class in generic::CLASSES {
        for d in 0..per_rule {
            cases.push(generic::decoy(class, d, &mut r));
        }
    }
    cases
}

pub fn write(cases: &[Case], root: &Path) {
    let files: Vec<(&str, &str)> = cases
        .iter()
        .map(|c| (c.path.as_str(), c.content.as_str()))
        .collect();
    portcullis_sdk::testing::write_tree(root, &files);
}
