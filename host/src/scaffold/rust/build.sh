#!/bin/sh
# Build @@NAME@@.wasm, a WebAssembly component the portcullis host loads:
# the tests first (natively, with the SDK's harness), then the component for
# wasm32-wasip2 (Rust 1.85 or later; `rustup target add wasm32-wasip2`).
# Prints the policy table
# that runs it, pinned by sha256.
set -eu
cd "$(dirname "$0")"
cargo test --quiet
cargo build --quiet --release --target wasm32-wasip2
target="${CARGO_TARGET_DIR:-target}"
cp "$target/wasm32-wasip2/release/plugin.wasm" @@NAME@@.wasm
if command -v sha256sum >/dev/null; then
    sha=$(sha256sum @@NAME@@.wasm | cut -d' ' -f1)
else
    sha=$(shasum -a 256 @@NAME@@.wasm | cut -d' ' -f1)
fi
printf '\n[plugins.@@NAME@@]\nsource = "%s/@@NAME@@.wasm"\nsha256 = "%s"\nread = ["."]\n' "$(pwd)" "$sha"
