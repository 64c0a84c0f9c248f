import { test } from "node:test";
import assert from "node:assert/strict";
import { settings, todos } from "./rules.js";

test("a TODO without an issue is reported on its line", () => {
  const text = "x = 1\n// TODO: handle errors\n// TODO(#12): tracked\nconst TODOS = [];\n";
  assert.deepEqual(todos(text).map(([line]) => line), [2]);
});

test("the config is checked", () => {
  assert.ok(settings("{}").wants("a/b.js"));
  assert.ok(!settings('{"extensions": [".rs"]}').wants("a.js"));
  assert.throws(() => settings('{"extension": [".rs"]}'), /unknown key/);
});
