"""The rule itself, in plain Python: no host, so `python -m unittest` tests it."""

import json
import re

RULE_ID = "todo-without-issue"

# `TODO` as a word, not followed by an issue reference such as `(#123)`.
# ASCII word boundaries and digits, as the Rust and JavaScript versions.
TODO = re.compile(r"\bTODO\b(?!\s*\(#\d+\))", re.ASCII)


class Settings:
    """The plugin's `config` table from the policy."""

    def __init__(self, extensions):
        self.extensions = tuple(extensions)

    @staticmethod
    def from_json(text):
        config = json.loads(text or "{}")
        if not isinstance(config, dict):
            raise ValueError("expected a table")
        unknown = set(config) - {"extensions"}
        if unknown:
            raise ValueError(f"unknown key {sorted(unknown)[0]!r} (known: extensions)")
        extensions = config.get("extensions", [".py", ".rs", ".js", ".ts", ".go"])
        if not isinstance(extensions, list) or not all(isinstance(e, str) for e in extensions):
            raise ValueError("extensions must be a list of strings such as [\".py\"]")
        return Settings(extensions)

    def wants(self, path):
        return path.endswith(self.extensions)


def batches(files, max_bytes):
    """`files` in groups of at most `max_bytes` (by listed size)."""
    batch, size = [], 0
    for f in files:
        if batch and size + f.size > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += f.size
    if batch:
        yield batch


def todos(text):
    """(line, message) for each TODO without an issue in `text`; lines end
    at "\n" only, as the host counts them."""
    for number, line in enumerate(text.split("\n"), start=1):
        if TODO.search(line):
            yield number, "TODO without an issue: write `TODO(#<issue>)` or do it now"
