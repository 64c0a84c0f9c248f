"""@@NAME@@: a portcullis plugin in Python.

The host calls `describe` once, then `evaluate` with the policy's config and
the evidence. `rules.py` holds the logic as plain Python, tested without the
host by `python -m unittest`; this file only talks to the host.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host, types

import rules

VERSION = "0.1.0"

RULE = types.Rule(
    id=rules.RULE_ID,
    name="TodoWithoutIssue",
    short_description="A TODO comment that names no issue.",
    full_description="A TODO comment without an issue reference (`TODO(#123)`) is work nobody tracks.",
    help_markdown="Write the issue it waits on: `TODO(#123): …`, or do the work now.",
    default_level=types.Level.WARNING,
    tags=["maintainability"],
    security_severity=None,
)


def finding(path, line, message):
    return types.Finding(
        rule_id=rules.RULE_ID,
        level=None,
        message=message,
        locations=[
            types.Location(
                path=path,
                region=types.Region(
                    start_line=line, start_column=None, end_line=None, end_column=None
                ),
            )
        ],
        fingerprint=None,
        properties=None,
    )


class Plugin(exports.Plugin):
    def describe(self) -> types.PluginInfo:
        return types.PluginInfo(
            name="@@NAME@@",
            version=VERSION,
            rules=[RULE],
            reads=[types.EvidenceKind.FILES],
            has_tests=False,
        )

    def evaluate(self, config: str, evidence: types.Evidence) -> types.Evaluation:
        try:
            settings = rules.Settings.from_json(config)
        except ValueError as e:
            # An error fails the gate closed (exit 2) with this message.
            raise Err(f"config: {e}")
        # Files (not symlinks) with a wanted ending.
        files = [
            f for f in evidence.files
            if f.kind == types.FileKind.FILE and settings.wants(f.path)
        ]
        findings = []
        # The host reads up to 64 MiB per call.
        for batch in rules.batches(files, 32 << 20):
            paths = [f.path for f in batch]
            for path, read in zip(paths, host.read_files(paths)):
                if isinstance(read, Err):
                    raise Err(f"cannot read {path}: {read.value}")
                text = read.value.decode("utf-8", errors="replace")
                for line, message in rules.todos(text):
                    findings.append(finding(path, line, message))
        return types.Evaluation(findings=findings, rules=[])

    def run_tests(self, config: str, evidence: types.Evidence, coverage: bool) -> types.TestRun:
        return types.TestRun(tests=[], coverage=[])
