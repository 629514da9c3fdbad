"""mkdocs hook: pages that are generated from the code, so that they cannot drift from it.

- ``<!-- generated: load-schema -->`` becomes the load file's JSON Schema, from the pydantic models
  (the same text ``ms-prcs load --schema`` prints);
- ``<!-- generated: job-schema -->`` the job file's, if the CLI offers one (``ms-prcs schedule --schema``);
- ``<!-- include: FILE -->`` the text of FILE at the repository's root (BENCHMARKS.md), its headings one
  level down so that it sits under the page's title.

The repository root goes first on ``sys.path``, so the docs (and mkdocs-click's CLI reference) describe
this tree's code, not an installed copy.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

MARKER = re.compile(r"^<!-- (generated|include): ([\w./-]+) -->$", re.M)


def _schema(name: str) -> str:
    if name == "load-schema":
        from ms_prcs.load import json_schema

        return "```json\n" + json.dumps(json_schema(), indent=2) + "\n```"
    if name == "job-schema":
        from click.testing import CliRunner

        from ms_prcs.cli import main

        result = CliRunner().invoke(main, ["schedule", "--schema"])
        if result.exit_code != 0:
            raise RuntimeError(f"ms-prcs schedule --schema failed: {result.output}")
        return "```json\n" + result.output.strip() + "\n```"
    raise ValueError(f"unknown generated block {name!r}")


def _include(name: str) -> str:
    lines, fenced = [], False
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        fenced ^= line.startswith("```")
        lines.append("#" + line if not fenced and re.match(r"#+ ", line) else line)
    return "\n".join(lines)


def on_page_markdown(markdown: str, **_: Any) -> str:
    def replace(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        return _schema(name) if kind == "generated" else _include(name)

    return MARKER.sub(replace, markdown)
