//! What the secrets plugin reports, on fixture trees run through the native
//! harness. Secrets are assembled at run time so this file holds none.

mod generate;

use generate::{Rng, token};
use portcullis_plugin_secrets::Secrets;
use portcullis_sdk::Evaluation;
use portcullis_sdk::testing::{Harness, found};

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    portcullis_sdk::testing::write_tree(dir.path(), files);
    dir
}

fn run(dir: &tempfile::TempDir, config: serde_json::Value) -> Evaluation {
    Harness::new(dir.path())
        .config(config)
        .run::<Secrets>()
        .expect("evaluates")
}

fn f(rule: &str, path: &str, line: u32) -> (String, String, u32) {
    (rule.into(), path.into(), line)
}

#[test]
fn dotfiles_and_ci_configs_are_scanned() {
    let mut r = Rng::new(7);
    let npm = token("npm-token", &mut r);
    let pypi = token("pypi-token", &mut r);
    let gh = token("github-pat", &mut r);
    let aws = token("aws-access-key-id", &mut r);
    let dir = tree(&[
        (
            ".npmrc",
            &format!("//registry.npmjs.org/:_authToken={npm}\n"),
        ),
        (
            ".pypirc",
            &format!("[pypi]\nusername = __token__\npassword = {pypi}\n"),
        ),
        (
            ".github/workflows/ci.yml",
            &format!("env:\n  GH_TOKEN: {gh}\n"),
        ),
        (".env.production", &format!("AWS_ACCESS_KEY_ID={aws}\n")),
    ]);
    assert_eq!(
        found(&run(&dir, serde_json::json!({}))),
        vec![
            f("aws-access-key-id", ".env.production", 1),
            f("github-pat", ".github/workflows/ci.yml", 2),
            f("npm-token", ".npmrc", 1),
            f("pypi-token", ".pypirc", 3),
        ]
    );
}

#[test]
fn a_specific_rule_wins_over_the_generic_one_on_its_line() {
    let mut r = Rng::new(8);
    let slack = token("slack-token", &mut r);
    let twilio = token("twilio-api-key", &mut r);
    let generic = token("generic-secret", &mut r);
    let dir = tree(&[(
        "settings.env",
        &format!("token = {slack}\nTWILIO_API_TOKEN={twilio}\nauth_token={generic}\n"),
    )]);
    assert_eq!(
        found(&run(&dir, serde_json::json!({}))),
        vec![
            f("generic-secret", "settings.env", 3),
            f("slack-token", "settings.env", 1),
            f("twilio-api-key", "settings.env", 2),
        ]
    );
}

#[test]
fn placeholders_examples_and_lookalikes_are_not_findings() {
    let dir = tree(&[
        (
            ".env.example",
            "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nAPI_TOKEN=<TOKEN>\nDB_PASSWORD=changeme\n",
        ),
        (
            ".github/workflows/release.yml",
            "env:\n  TOKEN: ${{ secrets.GITHUB_TOKEN }}\n  password: ${DB_PASSWORD}\n",
        ),
        (
            "docs/jwt.md",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n",
        ),
        (
            "tests/pay.py",
            "STRIPE = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'\n",
        ),
        (
            "config.yaml",
            "token: 550e8400-e29b-41d4-a716-446655440000\ntoken_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\nsecret: SGVsbG8gd29ybGQsIHRoaXMgaXMgcGxhaW4gdGV4dA==\n",
        ),
        (
            "src/client.py",
            "token = config.api_token\napi_key = get_api_key()\npassword = os.environ['PW']\n",
        ),
        (
            "compose.yml",
            "DATABASE_URL: postgres://postgres:postgres@localhost:5432/dev\n",
        ),
        (
            "src/url.rs",
            "/// Format: `scheme://[user[:password]@]host`\nlet u = \"moz://foo:bar@servo/baz\";\nlet a = \"http://Aladdin:opensesame@y.ep\";\n",
        ),
        ("gon.json", "{\"password\": \"@env:AC_PASSWORD\"}\n"),
        (
            "keys.md",
            "```\n-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n```\nconst H = \"-----BEGIN PRIVATE KEY-----\";\n",
        ),
    ]);
    assert_eq!(found(&run(&dir, serde_json::json!({}))), vec![]);
}

#[test]
fn private_keys_in_every_armour() {
    let mut r = Rng::new(9);
    // Real key material has runs like `AAAAAA` (not a placeholder).
    let body = format!("b3BlbnNzaC1rZXktdjEAAAAA{}", r.from(generate::ALNUM, 40));
    let pem = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n");
    let json = format!(
        "{{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n\"}}\n"
    );
    let pgp = format!(
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n{body}\n-----END PGP PRIVATE KEY BLOCK-----\n"
    );
    let ssh2 = format!(
        "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"k\"\n{body}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n"
    );
    let dir = tree(&[
        ("id_rsa", &pem),
        ("sa.json", &json),
        ("key.asc", &pgp),
        ("k.ssh2", &ssh2),
        (
            "k.ppk",
            "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\n",
        ),
    ]);
    assert_eq!(
        found(&run(&dir, serde_json::json!({}))),
        vec![
            f("private-key", "id_rsa", 1),
            f("private-key", "k.ppk", 1),
            f("private-key", "k.ssh2", 1),
            f("private-key", "key.asc", 1),
            f("private-key", "sa.json", 1),
        ]
    );
}

#[test]
fn inline_markers_and_allowlists() {
    let mut r = Rng::new(10);
    let a = token("github-pat", &mut r);
    let b = token("github-pat", &mut r);
    let c = token("github-pat", &mut r);
    let d = token("npm-token", &mut r);
    let e = token("npm-token", &mut r);
    let dir = tree(&[
        (
            "a.env",
            &format!(
                "A={a} # portcullis:allow secrets/github-pat\nB={b} # portcullis:allow secrets/jwt\nC={c} # portcullis:allow\nD={c} # pragma: allowlist secret\nE={c} # gitleaks:allow\n"
            ),
        ),
        ("fixtures/fake.env", &format!("D={d}\n")),
        ("b.env", &format!("E={e}\nF={b}\n")),
    ]);
    assert_eq!(
        found(&run(&dir, serde_json::json!({}))),
        vec![
            f("github-pat", "a.env", 2),
            f("github-pat", "b.env", 2),
            f("npm-token", "b.env", 1),
            f("npm-token", "fixtures/fake.env", 1),
        ],
        "a marker naming another rule does not allow the line"
    );
    let config = serde_json::json!({
        "allow-paths": ["fixtures/**"],
        "allow-values": [e],
        "allow-regexes": [format!("^{}", &b[..10])],
    });
    assert_eq!(found(&run(&dir, config)), vec![]);
}

#[test]
fn bad_config_is_an_error_naming_the_key() {
    let dir = tree(&[("a.txt", "x\n")]);
    let err = |config| {
        Harness::new(dir.path())
            .config(config)
            .run::<Secrets>()
            .expect_err("rejected")
    };
    assert!(
        err(serde_json::json!({"allow-regexes": ["("]}))
            .starts_with("config.allow-regexes: bad regex `(`")
    );
    assert!(err(serde_json::json!({"entropy": 0.5})).starts_with("config.entropy must be between"));
    assert!(err(serde_json::json!({"alow-paths": []})).contains("unknown field `alow-paths`"));
}

#[test]
fn no_secret_is_ever_printed_whole() {
    let mut r = Rng::new(11);
    let secrets: Vec<(&str, String)> = generate::RULES
        .iter()
        .filter(|rule| **rule != "private-key")
        .map(|rule| (*rule, token(rule, &mut r)))
        .collect();
    let mut env = String::new();
    for (rule, s) in &secrets {
        match *rule {
            "url-credentials" => env.push_str(&format!("X=https://deploy:{s}@git.corp.net/x\n")),
            "aws-secret-access-key" => env.push_str(&format!("aws_secret_access_key={s}\n")),
            "generic-secret" => env.push_str(&format!("db_password={s}\n")),
            _ => env.push_str(&format!("V={s}\n")),
        }
    }
    let dir = tree(&[("all.env", &env)]);
    let eval = run(&dir, serde_json::json!({}));
    assert_eq!(eval.findings.len(), secrets.len(), "{:?}", found(&eval));
    let printed = format!("{eval:?}");
    for (rule, s) in &secrets {
        assert!(!printed.contains(s.as_str()), "{rule} leaked");
        // Nothing past a short prefix either.
        assert!(
            !printed.contains(&s[s.len() / 2..]),
            "{rule} leaked its tail"
        );
    }
    let region = eval.findings[0].locations[0]
        .region
        .as_ref()
        .expect("region");
    assert_eq!(
        region.start_column,
        Some(3),
        "points at the secret, not the line"
    );
}

#[test]
fn large_files_are_streamed_and_binaries_skipped() {
    let mut r = Rng::new(12);
    let gh = token("github-pat", &mut r);
    let line = "x".repeat(99) + "\n";
    let mut big = line.repeat(200_000); // 20 MB, past the streaming threshold
    big.push_str(&format!("token={gh}\n"));
    let mut bin = vec![0u8; 100];
    bin.extend_from_slice(format!("token={gh}\n").as_bytes());
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("big.log"), big).expect("write");
    std::fs::write(dir.path().join("blob.bin"), bin).expect("write");
    assert_eq!(
        found(&run(&dir, serde_json::json!({}))),
        vec![f("github-pat", "big.log", 200_001)]
    );
}

#[test]
fn every_rule_is_well_formed_and_documented_in_the_readme() {
    use portcullis_sdk::Plugin;
    portcullis_sdk::testing::assert_rules_well_formed(portcullis_plugin_secrets::RULES);
    portcullis_sdk::testing::assert_rules_documented(
        &Secrets::describe(),
        "secrets",
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")),
    );
}

#[test]
fn generic_secrets_are_errors_found_at_the_value_in_the_shapes_people_write() {
    let generic = portcullis_plugin_secrets::RULES
        .iter()
        .find(|r| r.id() == "generic-secret")
        .expect("declared");
    assert_eq!(generic.default_level(), portcullis_sdk::Level::Error);
    let mut r = Rng::new(11);
    let key = r.from(generate::ALNUM, 32);
    let password = generate::generic::password(&mut r);
    let basic = generate::b64(format!("deploy:{key}").as_bytes());
    let dir = tree(&[
        (
            "src/keys.rs",
            &format!("const API_SECRET: &str = \"{key}\";\n"),
        ),
        (
            "nginx.conf",
            &format!("proxy_set_header Authorization \"Basic {basic}\";\n"),
        ),
        (
            "values.yaml",
            &format!("auth:\n  password: >-\n    {password}\n"),
        ),
        (
            "docs/accounts.md",
            &format!(
                "| Service | Password |\n| --- | --- |\n| Grafana | `{password}` |\n\
                 | Kafka | `{key}` | portcullis:allow secrets/generic-secret |\n"
            ),
        ),
        (
            "app.js",
            &format!("const key = process.env.API_KEY ?? '{key}';\n"),
        ),
        // The same shapes holding what is not a credential.
        (
            "src/names.rs",
            "const API_SECRET: &str = \"X-Api-Secret\";\nconst PASSWORD_RE: &str = r\"(?i)password\\s*=\\s*\\S+\";\n",
        ),
        (
            "docs/auth.md",
            "curl -H \"Authorization: Bearer <token>\" https://api\n| password | string | The password |\n",
        ),
    ]);
    let eval = run(&dir, serde_json::json!({}));
    assert_eq!(
        found(&eval),
        vec![
            f("generic-secret", "app.js", 1),
            f("generic-secret", "docs/accounts.md", 3),
            f("generic-secret", "nginx.conf", 1),
            f("generic-secret", "src/keys.rs", 1),
            f("generic-secret", "values.yaml", 3),
        ]
    );
    // The region is the value's: after `const API_SECRET: &str = "`.
    let at = eval
        .findings
        .iter()
        .find(|f| f.locations[0].path == "src/keys.rs")
        .and_then(|f| f.locations[0].region)
        .expect("region");
    assert_eq!((at.start_column, at.end_column), (Some(27), Some(59)));
}

#[test]
fn generic_shapes_hold_on_odd_and_hostile_input() {
    let mut r = Rng::new(12);
    let key = r.from(generate::ALNUM, 24);
    let pat = token("github-pat", &mut r);
    let jwt = token("jwt", &mut r);
    // Base64 of random bytes with its `==` padding, and of a random password.
    let padded = generate::b64(&(0..16).map(|_| r.next() as u8).collect::<Vec<_>>());
    let password = r.from(generate::ALNUM, 16);
    let data = generate::b64(password.as_bytes());
    let dir = tree(&[
        // CRLF, a blank line after a table whose last row names a secret.
        (
            "docs/api.md",
            "| Name | Type |\r\n| --- | --- |\r\n| api_token | string |\r\n\r\n \n",
        ),
        (
            "values.yaml",
            &format!("auth:\r\n  password: >-\r\n    {key}\r\n"),
        ),
        // A marker on the header allows nothing below it.
        (
            "docs/accounts.md",
            &format!(
                "| Service | Password | <!-- portcullis:allow --> |\n| --- | --- | --- |\n| db | `{key}` | |\n"
            ),
        ),
        // A marker for one rule leaves the other rules on its line.
        (
            "tokens.json",
            &format!(
                "{{\"id_token\": \"{jwt}\", \"db_password\": \"{key}\"}} // portcullis:allow secrets/jwt\n"
            ),
        ),
        // A token in a block scalar is the token rule's.
        ("ci.yaml", &format!("token: >-\n  {pat}\n")),
        (
            "App.config",
            &format!("Server=db;Database=app;User Id=sa;Password={key};\n"),
        ),
        ("main.tf", &format!("  password             = \"{key}\"\n")),
        ("secret.yaml", &format!("data:\n  password: {data}\n")),
        ("app.yaml", &format!("secret: {padded}\n")),
        (
            "client.py",
            &format!("HEADERS = {{\"X-API-Key\": \"{key}\"}}\n"),
        ),
        ("keys.env", &format!("CLIENT_KEY={key}\n")),
        ("settings.py", &format!("API_KEY: Final = \"{key}\"\n")),
        (
            "docs/keys.md",
            &format!(
                "| Service | Password |\n|---|---|\n| db | `{password}` |\n| Name | Owner | API Key |\n|---|---|---|\n| stripe | ops | {key} |\n"
            ),
        ),
        (
            "site.xml",
            &format!("<a href=\"/x?y=1&amp;access_token={key}\">\n"),
        ),
        ("numbered.env", &format!("DB_PASSWORD2={key}\n")),
        (
            "settings.xml",
            &format!(
                "<server>\n  <id>corp</id>\n  <password>{key}</password>\n</server>\n<password>{{COQLCE6DU6GtcS5P=}}</password>\n<password>${{env.REPO_PASSWORD}}</password>\n"
            ),
        ),
        (
            "Web.config",
            &format!("<add key=\"ApiSecret\" value=\"{key}\" />\n"),
        ),
        (
            "src/wifi.h",
            &format!(
                "#define WIFI_PASSWORD \"{password}\"\nstatic const char api_key[] = \"{key}\";\n"
            ),
        ),
        // Not credentials, or allowed.
        (
            "cli.py",
            "parser.add_argument(\"--api-token\", default=os.getenv(\"API_TOKEN\"))\n",
        ),
        (
            "allowed.yaml",
            &format!("api_token: >-  # portcullis:allow secrets/generic-secret\n  {key}\n"),
        ),
        (
            "public.env",
            &format!("NEXT_PUBLIC_MAPBOX_TOKEN=pk.{key}\nGITHUB_TOKEN=op://Private/GitHub/token\n"),
        ),
        (
            "secrets.enc.yaml",
            "password: ENC[AES256_GCM,data:q8Vd2LmZ0xR7pK4n,iv:W1sT9yB3,tag:Xk9m,type:str]\n",
        ),
        ("weak.yaml", "data:\n  password: cGFzc3dvcmQxMjMh\n"),
    ]);
    assert_eq!(
        found(&run(&dir, serde_json::json!({}))),
        vec![
            f("generic-secret", "App.config", 1),
            f("generic-secret", "Web.config", 1),
            f("generic-secret", "app.yaml", 1),
            f("generic-secret", "client.py", 1),
            f("generic-secret", "docs/accounts.md", 3),
            f("generic-secret", "docs/keys.md", 3),
            f("generic-secret", "docs/keys.md", 6),
            f("generic-secret", "keys.env", 1),
            f("generic-secret", "main.tf", 1),
            f("generic-secret", "numbered.env", 1),
            f("generic-secret", "secret.yaml", 2),
            f("generic-secret", "settings.py", 1),
            f("generic-secret", "settings.xml", 3),
            f("generic-secret", "site.xml", 1),
            f("generic-secret", "src/wifi.h", 1),
            f("generic-secret", "src/wifi.h", 2),
            f("generic-secret", "tokens.json", 1),
            f("generic-secret", "values.yaml", 3),
            f("github-pat", "ci.yaml", 2),
        ]
    );
}

#[test]
fn a_line_of_many_credentials_is_capped_and_tables_are_read_once() {
    let mut r = Rng::new(13);
    let mut line = String::new();
    for _ in 0..20_000 {
        line.push_str(&format!("\"token\":\"{}\",", r.from(generate::ALNUM, 20)));
    }
    let mut tables = String::new();
    for _ in 0..5_000 {
        tables.push_str(&format!("| {}token |\n|-|\n", r.from(generate::ALNUM, 16)));
    }
    let dir = tree(&[("blob.json", &format!("{line}\n")), ("tables.md", &tables)]);
    let eval = run(&dir, serde_json::json!({}));
    let blob = eval
        .findings
        .iter()
        .filter(|f| f.locations[0].path == "blob.json")
        .count();
    assert_eq!(blob, 64, "at most 64 generic findings on one line");
}
