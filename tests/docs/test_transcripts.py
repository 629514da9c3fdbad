"""Every transcript in the docs is run, and the test fails with a diff when the printed output differs.

A transcript is a ```console block of README.md or docs/*.md (the format is in ``tests/docs/transcripts.py``
and docs/contributing.md). Each page runs top to bottom against a fresh copy of the demo database (built once
per session with ``ms-prcs demo --as-of 2026-11-23``), in a directory of its own, with the clock frozen and
``--user pat``. The commands run in-process through click's CliRunner, not one subprocess each.

One database is enough here: the transcripts run on SQLite (the demo database is a SQLite file); the
behaviour they show is tested on SQLite and PostgreSQL by the tests of each area.

To refresh a page after a deliberate change of output: ``python -m tests.docs.transcripts --update PAGE``,
then read the diff before committing it.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.docs import transcripts

PAGES = transcripts.pages()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return transcripts.make_demo(tmp_path_factory.mktemp("docs-demo"))


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(transcripts.ROOT).as_posix() for p in PAGES])
def test_transcripts(page: Path, demo_template: Path, tmp_path: Path) -> None:
    failures = []
    for outcome in transcripts.run_page(page, tmp_path / "page", demo_template):
        if not outcome.ok:
            diff = difflib.unified_diff(
                [line.rstrip() for line in outcome.command.expected],
                outcome.actual,
                "documented",
                "printed",
                lineterm="",
            )
            failures.append(
                f"{page.name}:{outcome.command.start + 1}: $ {outcome.command.line}\n" + "\n".join(diff)
            )
    assert not failures, "\n\n".join(failures)


def test_the_docs_have_transcripts() -> None:
    """The test above would pass on pages with no transcripts at all; the docs do have them."""
    blocks = [b for page in PAGES for b in transcripts.parse(page.read_text(encoding="utf-8"))]
    assert sum(len(b.commands) for b in blocks if b.kind == "console") >= 50


def test_ellipsis_and_exit_code_rules() -> None:
    assert transcripts.matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert transcripts.matches(["a", "...", "b"], ["a", "b"])
    assert not transcripts.matches(["a", "...", "d"], ["a", "b", "c"])
    assert not transcripts.matches(["a"], ["a", "b"])
    assert transcripts.actual_lines("Error: no\n", 1) == ["Error: no", "[exit 1]"]
    with pytest.raises(ValueError, match="not an ms-prcs command"):
        transcripts.split("curl -s http://127.0.0.1:8000/")
    assert transcripts.split("MS_PRCS_TZ=Europe/Berlin ms-prcs run  # note") == (
        {"MS_PRCS_TZ": "Europe/Berlin"},
        ["run"],
    )


def test_a_wrong_output_is_caught(demo_template: Path, tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```console\n$ ms-prcs bu add US001\nbusiness unit US001 added\n```\n", encoding="utf-8")
    [outcome] = transcripts.run_page(page, tmp_path / "work", demo_template)
    assert not outcome.ok
    assert outcome.actual[-1] == "[exit 1]"
