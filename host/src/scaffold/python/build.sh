#!/bin/sh
# Build @@NAME@@.wasm, a WebAssembly component the portcullis host loads:
# the rule's tests first, then componentize-py (`pip install
# componentize-py==@@COMPONENTIZE_PY@@`) bundles app.py, rules.py and a Python
# interpreter against the plugin contract in wit/. Prints the policy table
# that runs it, pinned by sha256.
set -eu
cd "$(dirname "$0")"
python3 -m unittest -q test_rules
componentize-py -d wit -w portcullis-plugin componentize app -o @@NAME@@.wasm
sha=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' @@NAME@@.wasm)
printf '\n[plugins.@@NAME@@]\nsource = "%s/@@NAME@@.wasm"\nsha256 = "%s"\nread = ["."]\n' "$(pwd)" "$sha"
