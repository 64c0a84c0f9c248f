import { test } from "node:test";
import assert from "node:assert/strict";
import { batches, settings, todos } from "./rules.js";

test("a TODO without an issue is reported on its line", () => {
  const text = "x = 1\n// TODO: handle errors\n// TODO(#12): tracked\nconst TODOS = [];\n";
  assert.deepEqual(todos(text).map(([line]) => line), [2]);
});

test("lines are counted as the host counts them", () => {
  assert.deepEqual(todos("a\fb\r\n// TODO: x\n").map(([line]) => line), [2]);
});

test("files are read in batches under the bound", () => {
  const files = [{ size: 5n }, { size: 5n }, { size: 20n }];
  assert.deepEqual([...batches(files, 10)].map((b) => b.length), [2, 1]);
});

test("the config is checked", () => {
  assert.ok(settings("{}").wants("a/b.js"));
  assert.ok(!settings('{"extensions": [".rs"]}').wants("a.js"));
  assert.throws(() => settings('{"extension": [".rs"]}'), /unknown key/);
});
