//! Render an [`Outcome`](crate::outcome::Outcome): human text, versioned JSON,
//! SARIF 2.1.0, CI formats, the HTML page, metrics and a trace. Renderers
//! return strings (or bytes); only the CLI prints, writes and sends
//! (`openmetrics::push` and `trace::Exporter::export` are the sending
//! ends). [`merge`] reads many runs' JSON reports back.

pub mod github;
pub mod gitlab;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod merge;
pub mod openmetrics;
pub mod reference;
pub mod sarif;
pub mod test;
pub mod text;
pub mod trace;
