//! Render an [`Outcome`](crate::outcome::Outcome): human text, versioned JSON,
//! SARIF 2.1.0. Renderers return strings; only the CLI prints.

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
