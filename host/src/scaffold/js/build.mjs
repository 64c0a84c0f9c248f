// Build @@NAME@@.wasm, a WebAssembly component the portcullis host loads:
// the rule's tests first, then componentize-js (`npm install`) bundles
// app.js, rules.js and a JavaScript engine against the plugin contract in
// wit/. Prints the policy table that runs it, pinned by sha256.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { componentize } from "@bytecodealliance/componentize-js";

const here = dirname(fileURLToPath(import.meta.url));
process.chdir(here);
const tests = spawnSync(process.execPath, ["--test", "rules.test.js"], { stdio: "inherit" });
if (tests.status !== 0) {
  process.exit(tests.status ?? 1);
}
const { component } = await componentize({
  sourcePath: "app.js",
  witPath: "wit",
  worldName: "portcullis-plugin",
  // A plugin has no network: no HTTP in the component.
  disableFeatures: ["http", "fetch-event"],
});
await writeFile("@@NAME@@.wasm", component);
const sha = createHash("sha256").update(await readFile("@@NAME@@.wasm")).digest("hex");
console.log(
  `\n[plugins.@@NAME@@]\nsource = "${join(here, "@@NAME@@.wasm")}"\nsha256 = "${sha}"\nread = ["."]`,
);
