//! A test plugin built against the previous plugin contract,
//! `portcullis:plugin@0.1.0` (its WIT is kept beside it, as published): the
//! host must refuse it with one line naming both versions, not a linker
//! error.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // the bindings wit-bindgen generates
mod component {
    wit_bindgen::generate!({
        path: "wit",
        world: "portcullis-plugin",
    });

    use exports::portcullis::plugin::plugin::Guest;
    use portcullis::plugin::types::{Evaluation, Evidence, PluginInfo};

    struct OldPlugin;

    impl Guest for OldPlugin {
        fn describe() -> PluginInfo {
            PluginInfo {
                name: "contract-v1".into(),
                version: "0.1.0".into(),
                rules: Vec::new(),
                reads: Vec::new(),
            }
        }

        fn evaluate(_config: String, _evidence: Evidence) -> Result<Evaluation, String> {
            Ok(Evaluation {
                findings: Vec::new(),
                rules: Vec::new(),
            })
        }
    }

    export!(OldPlugin);
}
