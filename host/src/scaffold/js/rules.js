// The rule itself, in plain JavaScript: no host, so `node --test` tests it.
export const RULE_ID = "todo-without-issue";

// `TODO` as a word, not followed by an issue reference such as `(#123)`.
const TODO = /\bTODO\b(?!\s*\(#\d+\))/;

const KNOWN = ["extensions"];

/** The plugin's `config` table from the policy (JSON). */
export function settings(text) {
  const config = JSON.parse(text || "{}");
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new Error("expected a table");
  }
  const unknown = Object.keys(config).filter((k) => !KNOWN.includes(k));
  if (unknown.length) {
    throw new Error(`unknown key '${unknown[0]}' (known: ${KNOWN.join(", ")})`);
  }
  const extensions = config.extensions ?? [".py", ".rs", ".js", ".ts", ".go"];
  if (!Array.isArray(extensions) || !extensions.every((e) => typeof e === "string")) {
    throw new Error('extensions must be a list of strings such as [".js"]');
  }
  return { wants: (path) => extensions.some((e) => path.endsWith(e)) };
}

/** `files` in groups of at most `maxBytes` (by listed size; sizes are bigint). */
export function* batches(files, maxBytes) {
  let batch = [];
  let size = 0;
  for (const f of files) {
    const n = Number(f.size);
    if (batch.length && size + n > maxBytes) {
      yield batch;
      batch = [];
      size = 0;
    }
    batch.push(f);
    size += n;
  }
  if (batch.length) {
    yield batch;
  }
}

/** [line, message] for each TODO without an issue in `text`; lines end at
 * "\n" only, as the host counts them. */
export function todos(text) {
  const out = [];
  text.split("\n").forEach((line, i) => {
    if (TODO.test(line)) {
      out.push([i + 1, "TODO without an issue: write `TODO(#<issue>)` or do it now"]);
    }
  });
  return out;
}
