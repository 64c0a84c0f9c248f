//! Generic secrets as people write them, one generator per class, and
//! decoys of each class that must not be findings. The shapes follow real
//! code: typed constants, request headers, environment fallbacks, raw
//! strings, YAML block scalars, key names beyond `password`, URL query
//! parameters, command-line flags, HTML forms, setters and Markdown tables.

use super::{ALNUM, Case, HEX, PRINTABLE, Rng, b64};

pub const CLASSES: &[&str] = &[
    "assignment",
    "typed-constant",
    "header",
    "fallback",
    "backtick",
    "block-scalar",
    "key-names",
    "query-parameter",
    "cli-flag",
    "html-attribute",
    "setter",
    "markdown-table",
];

const URL_SAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
const WORDS: &[&str] = &[
    "Falcon", "Harbor", "Maple", "Quartz", "Tiger", "Violet", "Cobalt", "Orbit", "Summit", "Willow",
];

/// A credential as services issue them or people choose them. `safe`
/// limits it to characters that need no quoting (URLs, shell words).
pub fn value(r: &mut Rng, safe: bool) -> String {
    match r.below(if safe { 5 } else { 7 }) {
        0 => {
            let n = 32 + r.below(9);
            r.from(ALNUM, n)
        }
        1 => {
            let n = *r.pick(&[32, 40, 64]);
            r.from(HEX, n)
        }
        2 => {
            let prefix = *r.pick(&["sk-", "key-", "live_", "prod_", "tok_"]);
            let n = 24 + r.below(20);
            format!("{prefix}{}", r.from(ALNUM, n))
        }
        3 => {
            let n = 20 + r.below(20);
            r.from(URL_SAFE, n)
        }
        4 => {
            let n = 24 + r.below(16);
            r.from(ALNUM, n)
        }
        5 => {
            let bytes: Vec<u8> = (0..32).map(|_| r.next() as u8).collect();
            b64(&bytes)
        }
        _ => {
            let n = 18 + r.below(14);
            let mut v = r.from(PRINTABLE, n);
            let word = *r.pick(WORDS);
            v.insert_str(r.below(n), word);
            v
        }
    }
}

/// A password as people choose one: words, a year, a symbol, some
/// letters swapped for digits (`VelvetRaven1991*`, `W1LLOW@pepp3r23!`), or
/// a passphrase (`ember-mosaic-glacier-29`).
pub fn password(r: &mut Rng) -> String {
    let a = *r.pick(WORDS);
    let b = r.pick(WORDS).to_lowercase();
    let year = 1970 + r.below(55);
    let symbol = *r.pick(&["!", "*", "@", "#", "$", "&", "?", "%"]);
    let mut p = match r.below(4) {
        3 => {
            let sep = *r.pick(&["-", ".", "_"]);
            let c = r.pick(WORDS).to_lowercase();
            return format!(
                "{}{sep}{b}{sep}{c}{sep}{}",
                a.to_lowercase(),
                10 + r.below(90)
            );
        }
        0 => format!("{a}{b}{year}{symbol}"),
        1 => format!("{}{symbol}{b}{}{symbol}", a.to_uppercase(), year % 100),
        _ => format!("{year}{symbol}{a}-{b}"),
    };
    if r.below(2) == 0 {
        p = p.replacen('o', "0", 1).replacen('e', "3", 1);
    }
    p
}

fn case(path: String, lines: &[String], at: usize) -> Case {
    Case {
        path,
        content: lines.join("\n") + "\n",
        expect: Some(("generic-secret", at as u32 + 1)),
        class: "",
    }
}

fn l(s: &str) -> String {
    s.to_string()
}

/// One planted generic secret of `class`.
pub fn plant(class: &'static str, i: usize, r: &mut Rng) -> Case {
    let mut c = planted(class, i, r);
    c.class = class;
    c
}

fn planted(class: &str, i: usize, r: &mut Rng) -> Case {
    let v = value(r, false);
    let safe = value(r, true);
    match class {
        "assignment" => {
            let name = *r.pick(&[
                "DB_PASSWORD",
                "client_secret",
                "apiKey",
                "SECRET_KEY",
                "auth_token",
                "password",
                "SMTP_PASS",
                "redis_pwd",
                "accessToken",
            ]);
            let v = if name.to_lowercase().contains("pass") || name.contains("pwd") {
                password(r)
            } else {
                v
            };
            let safe = if name.to_lowercase().contains("pass") || name.contains("pwd") {
                password(r).replace(['&', '#', '$', '%'], "!")
            } else {
                safe
            };
            match r.below(8) {
                6 => case(
                    format!("{i}/config/app.php"),
                    &[
                        l("<?php"),
                        l("return ["),
                        format!("    '{name}' => '{v}',"),
                        l("];"),
                    ],
                    2,
                ),
                7 => case(
                    format!("{i}/config/secrets.rb"),
                    &[
                        l("Rails.application.configure do"),
                        format!("  config.x.{} = \"{v}\"", name.to_lowercase()),
                        l("end"),
                    ],
                    1,
                ),
                0 => case(
                    format!("{i}/.env"),
                    &[l("PORT=8080"), format!("{name}={safe}")],
                    1,
                ),
                1 => case(
                    format!("{i}/config.yaml"),
                    &[
                        l("database:"),
                        l("  host: db"),
                        format!("  {name}: \"{v}\""),
                    ],
                    2,
                ),
                2 => case(
                    format!("{i}/appsettings.json"),
                    &[
                        l("{"),
                        format!("  \"{name}\": \"{v}\","),
                        l("  \"x\": 1"),
                        l("}"),
                    ],
                    1,
                ),
                3 => case(
                    format!("{i}/settings.py"),
                    &[
                        l("DEBUG = False"),
                        format!("{} = '{v}'", name.to_uppercase()),
                    ],
                    1,
                ),
                4 => case(
                    format!("{i}/config/app.properties"),
                    &[
                        l("server.port=8080"),
                        format!("spring.datasource.{name}={safe}"),
                    ],
                    1,
                ),
                _ => case(
                    format!("{i}/Config.java"),
                    &[
                        l("public class Config {"),
                        format!(
                            "    private static final String {} = \"{v}\";",
                            name.to_uppercase()
                        ),
                        l("}"),
                    ],
                    1,
                ),
            }
        }
        "typed-constant" => match r.below(7) {
            0 => case(
                format!("{i}/src/config.rs"),
                &[
                    l("// Service credentials."),
                    format!("const API_SECRET: &str = \"{v}\";"),
                ],
                1,
            ),
            1 => case(
                format!("{i}/src/keys.rs"),
                &[format!(
                    "pub static {}: &'static str = r\"{v}\";",
                    r.pick(&["SIGNING_KEY", "WEBHOOK_SECRET", "DB_PASSWORD"])
                )],
                0,
            ),
            2 => case(
                format!("{i}/src/client.ts"),
                &[
                    l("import axios from 'axios';"),
                    format!(
                        "const {}: string = '{v}';",
                        r.pick(&["apiKey", "clientSecret", "authToken"])
                    ),
                ],
                1,
            ),
            3 => case(
                format!("{i}/app/src/main/Keys.kt"),
                &[
                    l("object Keys {"),
                    format!("    val apiSecret: String = \"{v}\""),
                    l("}"),
                ],
                1,
            ),
            4 => case(
                format!("{i}/internal/auth/auth.go"),
                &[
                    l("package auth"),
                    l(""),
                    format!("var apiToken string = \"{v}\""),
                ],
                2,
            ),
            5 => case(
                format!("{i}/app/settings.py"),
                &[
                    l("from typing import Final"),
                    format!("STRIPE_SECRET: Final[str] = \"{v}\""),
                ],
                1,
            ),
            _ => case(
                format!("{i}/Sources/Keys.swift"),
                &[format!("let clientSecret: String = \"{v}\"")],
                0,
            ),
        },
        "header" => match r.below(6) {
            0 => case(
                format!("{i}/scripts/deploy.sh"),
                &[
                    l("#!/bin/sh"),
                    format!(
                        "curl -fsS -H \"Authorization: Bearer {safe}\" https://api.internal/deploy"
                    ),
                ],
                1,
            ),
            1 => case(
                format!("{i}/src/api.js"),
                &[
                    l("const res = await fetch(url, {"),
                    format!("  headers: {{ Authorization: 'Bearer {safe}' }},"),
                    l("});"),
                ],
                1,
            ),
            2 => case(
                format!("{i}/client.py"),
                &[
                    l("import requests"),
                    format!("HEADERS = {{\"Authorization\": \"Token {safe}\"}}"),
                ],
                1,
            ),
            3 => case(
                format!("{i}/requests.http"),
                &[
                    l("GET https://api.internal/v1/users"),
                    format!("Authorization: Bearer {safe}"),
                ],
                1,
            ),
            4 => {
                let user = r.pick(&["deploy", "ci", "admin", "svc"]);
                let basic = b64(format!("{user}:{safe}").as_bytes());
                case(
                    format!("{i}/nginx/proxy.conf"),
                    &[
                        l("location /upstream/ {"),
                        format!("    proxy_set_header Authorization \"Basic {basic}\";"),
                        l("}"),
                    ],
                    1,
                )
            }
            _ => case(
                format!("{i}/src/Client.java"),
                &[format!(
                    "conn.setRequestProperty(\"Authorization\", \"Bearer {safe}\");"
                )],
                0,
            ),
        },
        "fallback" => {
            let var = *r.pick(&["API_KEY", "DB_PASSWORD", "JWT_SECRET", "AUTH_TOKEN"]);
            match r.below(8) {
                0 => case(
                    format!("{i}/app/config.py"),
                    &[
                        l("import os"),
                        format!("API_KEY = os.environ.get(\"{var}\", \"{v}\")"),
                    ],
                    1,
                ),
                1 => case(
                    format!("{i}/app/db.py"),
                    &[format!("password = os.getenv('{var}', '{v}')")],
                    0,
                ),
                2 => case(
                    format!("{i}/src/config.ts"),
                    &[format!(
                        "export const apiKey = process.env.{var} ?? \"{v}\";"
                    )],
                    0,
                ),
                3 => case(
                    format!("{i}/server.js"),
                    &[
                        l("const express = require('express');"),
                        format!("const secret = process.env.{var} || '{v}';"),
                    ],
                    1,
                ),
                4 => case(
                    format!("{i}/config/initializers/api.rb"),
                    &[format!("API_TOKEN = ENV.fetch(\"{var}\", \"{v}\")")],
                    0,
                ),
                5 => case(
                    format!("{i}/docker-entrypoint.sh"),
                    &[
                        l("#!/bin/sh"),
                        format!("export PGPASSWORD=\"${{{var}:-{safe}}}\""),
                    ],
                    1,
                ),
                6 => case(
                    format!("{i}/src/main/resources/application.yml"),
                    &[l("app:"), format!("  jwt-secret: ${{{var}:{safe}}}")],
                    1,
                ),
                _ => case(
                    format!("{i}/config.php"),
                    &[l("<?php"), format!("$key = getenv('{var}') ?: '{v}';")],
                    1,
                ),
            }
        }
        "backtick" => match r.below(3) {
            0 => case(
                format!("{i}/internal/keys.go"),
                &[l("package internal"), format!("const apiSecret = `{v}`")],
                1,
            ),
            1 => case(
                format!("{i}/src/settings.js"),
                &[format!("const DB_PASSWORD = `{v}`;")],
                0,
            ),
            _ => case(
                format!("{i}/src/env.ts"),
                &[format!("export const signingSecret = `{v}`;")],
                0,
            ),
        },
        "block-scalar" => {
            let name = *r.pick(&["password", "api_key", "client_secret", "token"]);
            let style = *r.pick(&[">-", "|", "|-", ">"]);
            match r.below(2) {
                0 => case(
                    format!("{i}/values.prod.yaml"),
                    &[
                        l("auth:"),
                        format!("  {name}: {style}"),
                        format!("    {v}"),
                        l("replicas: 2"),
                    ],
                    2,
                ),
                _ => case(
                    format!("{i}/k8s/secret.yaml"),
                    &[
                        l("apiVersion: v1"),
                        l("kind: Secret"),
                        l("stringData:"),
                        format!("  {name}: {style}"),
                        format!("    {v}"),
                    ],
                    4,
                ),
            }
        }
        "key-names" => {
            let name = *r.pick(&[
                "signing_key",
                "signingKey",
                "encryptionKey",
                "ENCRYPTION_KEY",
                "master_key",
                "SESSION_KEY",
                "hmacKey",
                "privateKey",
                "DB_PASSWD",
                "smtp_passphrase",
            ]);
            match r.below(4) {
                0 => case(format!("{i}/.env.local"), &[format!("{name}={safe}")], 0),
                1 => case(
                    format!("{i}/config/settings.yml"),
                    &[l("crypto:"), format!("  {name}: '{v}'")],
                    1,
                ),
                2 => case(
                    format!("{i}/src/crypto.js"),
                    &[format!("const {name} = \"{v}\";")],
                    0,
                ),
                _ => case(
                    format!("{i}/config.json"),
                    &[l("{"), format!("  \"{name}\": \"{v}\""), l("}")],
                    1,
                ),
            }
        }
        "query-parameter" => {
            let name = *r.pick(&[
                "token",
                "api_key",
                "access_token",
                "apikey",
                "client_secret",
            ]);
            let url = format!(
                "https://api.{}/v2/{}?{}{name}={safe}",
                r.pick(&["weather.io", "maps.internal", "metrics.corp"]),
                r.pick(&["forecast", "tiles", "query"]),
                r.pick(&["", "format=json&", "q=paris&"])
            );
            match r.below(4) {
                0 => case(
                    format!("{i}/src/weather.py"),
                    &[l("import requests"), format!("URL = \"{url}\"")],
                    1,
                ),
                1 => case(
                    format!("{i}/src/map.js"),
                    &[format!("fetch('{url}').then(r => r.json());")],
                    0,
                ),
                2 => case(
                    format!("{i}/README.md"),
                    &[l("Try it:"), l(""), format!("    curl '{url}'")],
                    2,
                ),
                _ => case(
                    format!("{i}/monitoring.yaml"),
                    &[l("probes:"), format!("  - url: {url}")],
                    1,
                ),
            }
        }
        "cli-flag" => {
            let flag = *r.pick(&[
                "--password",
                "--token",
                "--api-key",
                "--client-secret",
                "--db-password",
            ]);
            match r.below(5) {
                0 => case(
                    format!("{i}/scripts/backup.sh"),
                    &[
                        l("#!/bin/bash"),
                        format!("mysqldump --user=backup {flag}={safe} shop > shop.sql"),
                    ],
                    1,
                ),
                1 => case(
                    format!("{i}/Makefile"),
                    &[
                        l("login:"),
                        format!("\tdocker login registry.corp {flag} {safe}"),
                    ],
                    1,
                ),
                2 => case(
                    format!("{i}/.gitlab-ci.yml"),
                    &[
                        l("deploy:"),
                        l("  script:"),
                        format!("    - ./deploy {flag} \"{v}\""),
                    ],
                    2,
                ),
                3 => case(
                    format!("{i}/tools/run.py"),
                    &[format!(
                        "subprocess.run([\"cli\", \"sync\", \"{flag}\", \"{v}\"], check=True)"
                    )],
                    0,
                ),
                _ => case(
                    format!("{i}/Dockerfile"),
                    &[
                        l("FROM alpine:3.20"),
                        format!("RUN /opt/setup {flag} {safe}"),
                    ],
                    1,
                ),
            }
        }
        "html-attribute" => {
            let name = *r.pick(&[
                "api_secret",
                "apiKey",
                "client_secret",
                "access_token",
                "password",
            ]);
            let v = if name == "password" { password(r) } else { v };
            let v = v.replace('"', "");
            match r.below(3) {
                0 => case(
                    format!("{i}/templates/form.html"),
                    &[
                        l("<form method=\"post\">"),
                        format!("  <input type=\"hidden\" name=\"{name}\" value=\"{v}\">"),
                        l("</form>"),
                    ],
                    1,
                ),
                1 => case(
                    format!("{i}/public/index.html"),
                    &[format!("<meta name=\"{name}\" content=\"{v}\">")],
                    0,
                ),
                _ => case(
                    format!("{i}/src/Login.vue"),
                    &[format!(
                        "<input value=\"{v}\" type=\"hidden\" id=\"{name}\" />"
                    )],
                    0,
                ),
            }
        }
        "setter" => match r.below(6) {
            0 => case(
                format!("{i}/src/main/java/App.java"),
                &[format!("System.setProperty(\"app.jwtSecret\", \"{v}\");")],
                0,
            ),
            1 => case(
                format!("{i}/src/Db.java"),
                &[format!("props.setProperty(\"db.password\", \"{v}\");")],
                0,
            ),
            2 => case(
                format!("{i}/app/config.py"),
                &[format!("config.set(\"auth\", \"api_key\", \"{v}\")")],
                0,
            ),
            3 => case(
                format!("{i}/tests/conftest.py"),
                &[format!("os.environ[\"API_TOKEN\"] = \"{v}\"")],
                0,
            ),
            4 => case(
                format!("{i}/wp-config.php"),
                &[format!("define('AUTH_SECRET', '{v}');")],
                0,
            ),
            _ => case(
                format!("{i}/src/client.js"),
                &[format!("headers.set('X-Api-Key', '{v}');")],
                0,
            ),
        },
        _ if r.below(2) == 0 => {
            let (column, v) = if r.below(2) == 0 {
                ("Password", password(r))
            } else {
                ("API key", safe)
            };
            let user = *r.pick(&["admin", "deploy", "guest-dev"]);
            case(
                format!("{i}/docs/accounts.md"),
                &[
                    format!("| Service | User | {column} |"),
                    l("| ------- | ---- | -------- |"),
                    format!("| Grafana | {user} | `{v}` |"),
                ],
                2,
            )
        }
        _ => {
            let name = *r.pick(&["API_SECRET", "DB_PASSWORD", "api_token", "`client_secret`"]);
            let cell = if r.below(2) == 0 {
                safe
            } else {
                format!("`{safe}`")
            };
            case(
                format!("{i}/docs/setup.md"),
                &[
                    l("| Variable | Value |"),
                    l("| --- | --- |"),
                    format!("| {name} | {cell} |"),
                ],
                2,
            )
        }
    }
}

/// A file of `class`'s shape that must not be a finding: placeholders,
/// references, example hosts, paths and prose written the same way.
pub fn decoy(class: &'static str, d: usize, r: &mut Rng) -> Case {
    let rand = r.from(ALNUM, 24);
    let content = match (class, r.below(5)) {
        // Shapes met in published packages (aws-sdk, Django, oauthlib,
        // ansible, windows-sys, Stripe's types).
        ("assignment", 3) => format!("{{\"NextToken\": \"{rand}\", \"output_token\": \"KeyValueStoreList.NextMarker\"}}\nADMIN_PASSWORD = 'pbkdf2_sha256$30000${rand}'\nsecurity_token: @SECURITY_TOKEN\n"),
        ("assignment", 4) => "password_body = 'grant_type=password&username=johndoe&password=A3ddj3w'\nssh_private_key=#{ssh_private_key}\n\"access_token\": \"2YotnFZFEjr1zCsicMWpAA\",\n".to_string(),
        ("key-names", 3) => format!(
            "{{\"config/secrets.rb\": \"{}\"}}\n",
            b64(format!("Rails.application.configure do\n  config.secret_key_base = \"{rand}\"\nend\n").as_bytes())
        ),
        ("setter", 4) => "required: [\"NotebookUrl\", \"AuthToken\", \"AuthTokenExpirationTime\"],\n\"PasswordLastUsed\": \"2016-09-08T21:47:36Z\",\nself.SSH_SECRET = 'username:pas:word@foo.com/data'\n".to_string(),
        ("setter", 3) => "#[cfg(all(feature = \"Win32_Security_Credentials\", feature = \"Win32_System_Threading\"))]\n{\"PASSWORD_CLAIM_SECRET_BLOCK\": \"[secret_block]\", \"NEW_PASSWORD\": \"[new_password]\"}\n".to_string(),
        ("header", 3) => "* Add support for `network_risk_score` on `Issuing.Authorization.pending_request`\namount_details: Authorization.AmountDetails | null;\n".to_string(),
        ("query-parameter", 3) => "[![codecov](https://codecov.io/gh/org/repo/graph/badge.svg?token=pawWEyaMfg)](https://codecov.io/gh/org/repo)\n".to_string(),
        ("assignment", 0) => "DB_PASSWORD=\ncredentials: .deploystack/creds.json\nsecret_name: prod-db-credentials\n".to_string(),
        ("assignment", 1) => format!("password_hash = \"{}\"\ntoken_type = \"Bearer\"\n", r.from(HEX, 64)),
        ("assignment", 2) => "CLIENT_SECRET = secret_store.read(\"oauth/client_secret\")\npublic const string DbPassword = \"ConnectionStrings:DbPassword\";\n'password' => env('DB_PASSWORD'),\n".to_string(),
        ("assignment", _) => "nav:\n  - External Secrets: external-secrets.md\n  - Sealed Secrets: sealed-secrets.md\n".to_string(),
        ("typed-constant", 0) => "const API_SECRET_HEADER: &str = \"X-Api-Secret\";\nconst TOKEN_PREFIX: &str = \"ghp_\";\n".to_string(),
        ("typed-constant", 1) => "const apiKey: string = process.env.API_KEY!;\nconst PASSWORD_PATTERN: RegExp = /^[A-Za-z0-9]{12,}$/;\n".to_string(),
        ("typed-constant", _) => "pub const SECRET_ENV: &str = \"APP_SECRET\";\nconst TOKEN_URL: &str = \"https://oauth2.googleapis.com/token\";\n".to_string(),
        ("header", 0) => "curl -H \"Authorization: Bearer <token>\" https://api.github.com/user\ncurl -H \"Authorization: Bearer $TOKEN\" https://x\n".to_string(),
        ("header", 1) => "headers = {\"Authorization\": f\"Bearer {token}\"}\nreq.headers.Authorization = \"Bearer \" + accessToken;\n".to_string(),
        ("header", _) => "Authorization: Basic dXNlcjpwYXNzd29yZA==\nAuthorization: Bearer YOUR_ACCESS_TOKEN\nSend the token as a bearer token in the header.\n".to_string(),
        ("fallback", 0) => "API_KEY = os.environ.get(\"API_KEY\", \"\")\npassword = os.getenv(\"DB_PASSWORD\", \"changeme\")\n".to_string(),
        ("fallback", 1) => "const secret = process.env.JWT_SECRET ?? \"dev-secret\";\nconst token = process.env.TOKEN || defaultToken;\n".to_string(),
        ("fallback", _) => "export PGPASSWORD=\"${DB_PASSWORD:-postgres}\"\njwt.secret=${JWT_SECRET}\n".to_string(),
        ("backtick", 0) => "const tokenPattern = `^ghp_[A-Za-z0-9]{36}$`;\n".to_string(),
        ("backtick", 1) => "const auth = `Bearer ${token}`;\nconst password = `${prefix}-${suffix}`;\n".to_string(),
        ("backtick", 2) => "var secretRe = regexp.MustCompile(`(?i)secret\\s*[:=]\\s*\\S+`)\nAPI_KEY_RE = re.compile(r\"(?i)api[_-]?key\\s*[:=]\\s*['\\\"]?([a-z0-9]{32})\")\n".to_string(),
        ("backtick", _) => "var secretName = `projects/demo/secrets/db/versions/latest`\n".to_string(),
        ("block-scalar", 0) => "auth:\n  password: |\n    {{ .Values.password }}\n".to_string(),
        ("block-scalar", 1) => "secret: >-\n  The secret used to sign session cookies.\n".to_string(),
        ("block-scalar", _) => format!("tls:\n  private_key: |\n    -----BEGIN PRIVATE KEY-----\n    ...\n    -----END PRIVATE KEY-----\ntoken: >-\n  ${{{{ secrets.TOKEN }}}}\nnote: {rand}\n"),
        ("key-names", 0) => "signing_key_path: /etc/keys/signing.pem\nencryptionKeyId: projects/x/locations/global/keyRings/r/cryptoKeys/k\n".to_string(),
        ("key-names", 1) => format!("keyboard_layout = \"{rand}\"\nmonkey_patch = \"{rand}\"\n"),
        ("key-names", _) => "master_key_rotation = \"90d\"\npublic_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9v user@host\"\n".to_string(),
        ("query-parameter", 0) => "URL = \"https://api.weather.io/v2/forecast?api_key=${API_KEY}\"\nfetch(`/search?token=${token}`)\n".to_string(),
        ("query-parameter", 1) => "curl 'https://api.example.com/v1?access_token=YOUR_ACCESS_TOKEN'\nurl = base + \"?token=%s\" % token\n".to_string(),
        ("query-parameter", _) => "GET /oauth/authorize?response_type=code&client_id=abc&redirect_uri=https://app/cb&token_type_hint=access_token\n".to_string(),
        ("cli-flag", 0) => "echo \"$DOCKER_PASSWORD\" | docker login --username ci --password-stdin\ndocker login --password \"$REGISTRY_TOKEN\" registry\n".to_string(),
        ("cli-flag", 1) => "vault login --token-file /run/secrets/vault-token\nmysql --password=*** shop\n".to_string(),
        ("cli-flag", _) => "  --password TEXT     Password to connect with\n  --api-key KEY       The API key (or set API_KEY)\n".to_string(),
        ("html-attribute", 0) => "<input type=\"password\" name=\"password\" value=\"\">\n<input type=\"hidden\" name=\"api_secret\" value=\"{{ api_secret }}\">\n".to_string(),
        ("html-attribute", 1) => format!("<input type=\"hidden\" name=\"csrf_token\" value=\"{rand}\">\n<input name=\"authenticity_token\" value=\"{rand}\">\n"),
        ("html-attribute", _) => "<label for=\"password\">Password</label>\n<input id=\"password\" value=\"<%= password %>\">\n".to_string(),
        ("setter", 0) => "props.setProperty(\"db.password\", System.getenv(\"DB_PASSWORD\"));\nconfig.set(\"api_key\", apiKey)\n".to_string(),
        ("setter", 1) => "map.put(\"token_type\", \"Bearer\");\nos.environ[\"API_TOKEN\"] = token\n".to_string(),
        ("setter", _) => "define('AUTH_SECRET', getenv('AUTH_SECRET'));\nheaders.set('X-Api-Key', key);\n".to_string(),
        ("markdown-table", 0) => "| Name | Type | Description |\n| --- | --- | --- |\n| password | string | The user's password |\n| api_token | required | Your API token |\n".to_string(),
        ("markdown-table", 1) => "| Variable | Default |\n| --- | --- |\n| `DB_PASSWORD` | `postgres` |\n| `API_SECRET` | *(none)* |\n".to_string(),
        ("markdown-table", 2) => "| Service | User | Password |\n| --- | --- | --- |\n| Grafana | admin | see the vault |\n| Redis | - | `${REDIS_PASSWORD}` |\n| Kafka | svc | *(none)* |\n".to_string(),
        _ => "| Setting | Value |\n|---|---|\n| token_ttl | 3600 |\n| secret_store | vault |\n| git clone | https://USERNAME:TOKEN@git.example.com/org/repo.git |\n".to_string(),
    };
    let (path, content) = match class {
        "typed-constant" => ("src/consts.rs", content),
        "header" | "cli-flag" => ("scripts/call.sh", content),
        "fallback" | "setter" => ("src/config.py", content),
        "backtick" => ("src/patterns.ts", content),
        "html-attribute" => ("templates/login.html", content),
        "markdown-table" => ("docs/config.md", content),
        "query-parameter" => ("docs/api.md", content),
        _ => ("config/app.yaml", content),
    };
    Case {
        path: format!("g{d}-{class}/{path}"),
        content,
        expect: None,
        class,
    }
}
