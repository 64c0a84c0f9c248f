// @@NAME@@: a portcullis plugin in JavaScript.
//
// The host calls `describe` once, then `evaluate` with the policy's config
// and the evidence. `rules.js` holds the logic, tested without the host by
// `node --test`; this file only talks to the host.
import { readFiles } from "portcullis:plugin/host@0.2.0";
import { RULE_ID, batches, settings, todos } from "./rules.js";

const RULE = {
  id: RULE_ID,
  name: "TodoWithoutIssue",
  shortDescription: "A TODO comment that names no issue.",
  fullDescription: "A TODO comment without an issue reference (`TODO(#123)`) is work nobody tracks.",
  helpMarkdown: "Write the issue it waits on: `TODO(#123): …`, or do the work now.",
  defaultLevel: "warning",
  tags: ["maintainability"],
  securitySeverity: undefined,
};

export const plugin = {
  describe() {
    return { name: "@@NAME@@", version: "0.1.0", rules: [RULE], reads: ["files"], hasTests: false };
  },

  evaluate(config, evidence) {
    let wanted;
    try {
      wanted = settings(config);
    } catch (e) {
      // Thrown, it fails the gate closed (exit 2) with this message.
      throw `config: ${e.message}`;
    }
    // Files (not symlinks) with a wanted ending.
    const files = evidence.files.filter((f) => f.kind === "file" && wanted.wants(f.path));
    const decoder = new TextDecoder();
    const findings = [];
    // The host reads up to 64 MiB per call.
    for (const batch of batches(files, 32 * 1024 * 1024)) {
      const paths = batch.map((f) => f.path);
      readFiles(paths).forEach((read, i) => {
        if (read.tag === "err") {
          throw `cannot read ${paths[i]}: ${read.val}`;
        }
        for (const [line, message] of todos(decoder.decode(read.val))) {
          findings.push({
            ruleId: RULE_ID,
            level: undefined,
            message,
            locations: [{ path: paths[i], region: { startLine: line } }],
            fingerprint: undefined,
            properties: undefined,
          });
        }
      });
    }
    return { findings, rules: [] };
  },

  runTests(config, evidence, coverage) {
    return { tests: [], coverage: [] };
  },
};
