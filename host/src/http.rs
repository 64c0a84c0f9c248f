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
