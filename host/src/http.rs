//! The one HTTP client the host uses, for the metrics a policy grants a
//! plugin (Prometheus) and for `--pushgateway`: straight to the server (no
//! proxy from the environment), no redirects followed, every status
//! returned to the caller to judge, and a deadline over the whole exchange.

use std::time::Duration;

/// An agent for one server: `timeout` bounds each request from connecting
/// to the last byte of the answer; `tls` names the roots to trust.
pub fn agent(timeout: Duration, tls: ureq::tls::TlsConfig) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build()
        .into()
}

/// `scheme://host[:port]` of a URL, as messages name a server: never its
/// path, query or anything else the URL carries.
pub fn shown(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!(
            "{scheme}://{}",
            rest.split(['/', '?', '#']).next().unwrap_or_default()
        ),
        None => String::new(),
    }
}

/// `Ok` for a 2xx answer, else `HTTP <status>: ` and the start of its body
/// (at most 4 KiB read, on one line).
pub fn check_status(response: &mut ureq::http::Response<ureq::Body>) -> Result<(), String> {
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let text = response
        .body_mut()
        .with_config()
        .limit(4096)
        .read_to_string()
        .unwrap_or_default();
    Err(format!(
        "HTTP {status}: {}",
        crate::diag::one_line(&text, 300)
    ))
}

/// Whether a URL's authority (`host[:port]`) names this machine's loopback
/// interface: `localhost`, `[::1]` or an address in 127.0.0.0/8 (a DNS
/// name that merely starts with `127.` is not).
pub fn is_loopback(authority: &str) -> bool {
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    matches!(host, "localhost" | "[::1]")
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_is_an_address_not_a_prefix() {
        for yes in [
            "localhost",
            "localhost:9090",
            "127.0.0.1:80",
            "127.1.2.3",
            "[::1]:4318",
        ] {
            assert!(super::is_loopback(yes), "{yes}");
        }
        for no in [
            "127.evil.example",
            "127.0.0.1.nip.io:80",
            "example.com",
            "10.0.0.1",
            "[::2]",
        ] {
            assert!(!super::is_loopback(no), "{no}");
        }
    }
}
