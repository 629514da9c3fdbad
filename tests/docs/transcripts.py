"""Executable transcripts: the ```console blocks of the docs, parsed, run in-process and compared.

The rules a page follows (docs/contributing.md says the same for writers):

- A ```console block holds ``$ ms-prcs ...`` lines, each followed by its exact output (stdout and stderr as
  they interleave); a nonzero exit code is the last output line, ``[exit N]``. Blank lines between
  commands are for reading and are ignored at the end of an output. A line ``$ VAR=value ms-prcs ...``
  runs the command with that environment variable set; a ``# comment`` at the end of a command is ignored.
  Only ``ms-prcs`` commands may appear: anything else (serve, curl, schedule, shell pipes) goes in a ```sh
  block, which is not a transcript.
- A line of output that is only ``...`` stands for any number of lines (zero or more): long output may be
  shortened to what the text talks about.
- A fenced block with a title (```yaml title="bad.yaml") is written as that file into the page's working
  directory before the commands after it run, so a page can show a load file and then load it.
- A page whose story goes on from another page's says so in its first lines with
  ``<!-- transcripts continue: other.md -->``: that page's commands run first (unchecked; its own test checks
  them), in the same directory, so this page starts where the other one ends.
- A page whose story cannot share the demo's data (the feed: every cursor would count the demo's entries)
  says ``<!-- transcripts database: empty -->``: it (and the pages it continues) then starts from a database
  made by ``ms-prcs init`` instead of the demo. Use it only where the demo's data would drown the example.
- ``<!-- transcripts fixture: tests.reports.fixture reports.db -->`` builds a test fixture's database as that
  file in the page's directory first (the module's ``build(session)`` on a freshly migrated SQLite file), for
  pages whose figures a test works out by hand; the commands name it with ``--db sqlite:///reports.db``.
- Output that varies by nature is made deterministic, not skipped: the clock is frozen at
  :data:`FROZEN_AT` while a command runs (so "now" timestamps and default as-of dates are fixed), and the
  small set of patterns of :func:`normalisers` (this process's pid and host name, API tokens) is replaced by
  placeholders: ``<PID>``, ``<HOST>``, ``msp_<TOKEN>``.

Each page runs in order, top to bottom, in a directory of its own holding a fresh copy of the demo database
(``ms-prcs demo --as-of`` :data:`DEMO_AS_OF`, built once per session) as ``ms_prcs.db``, with ``MS_PRCS_DB``
pointing at it, ``examples/`` of the repository linked in, and ``--user`` :data:`USER`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_AS_OF = "2026-11-23"
FROZEN_AT = dt.datetime(2026, 11, 23, 9, 0, 0, tzinfo=dt.UTC)
"""The instant every transcript command runs at (and the demo is built at): 09:00 UTC on the demo's as-of."""
USER = "pat"
DB_URL = "sqlite:///ms_prcs.db"
ELLIPSIS = "..."
FENCE = re.compile(r"^```([\w-]*)([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
EMPTY = "<!-- transcripts database: empty -->"
FIXTURE = re.compile(r"^<!-- transcripts fixture: ([\w.]+) ([\w.-]+) -->$", re.M)
CONTINUES = re.compile(r"^<!-- transcripts continue: ([\w.-]+\.md) -->$", re.M)
TITLE = re.compile(r'title="([^"]+)"')
NEVER_ENDS = frozenset({"serve", "schedule"})
"""Commands that run until stopped: never in a transcript."""
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def normalisers() -> list[tuple[re.Pattern[str], str]]:
    """What varies by nature between machines and runs, and its placeholder in the docs."""
    return [
        (re.compile(rf"\b{os.getpid()}\b"), "<PID>"),
        (re.compile(r"\bmsp_[A-Za-z0-9_-]{20,}"), "msp_<TOKEN>"),  # API tokens are random by design
        (re.compile(rf"(?<![\w.-]){re.escape(socket.gethostname())}(?![\w.-])"), "<HOST>"),
    ]


def pages() -> list[Path]:
    """Every page whose console blocks are transcripts: README.md and docs/*.md."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass
class Command:
    line: str  # the text after "$ "
    expected: list[str] = field(default_factory=list)
    start: int = 0  # index in the page's lines of the "$ " line
    end: int = 0  # index after the last expected line (before trailing blank lines)


@dataclass
class Block:
    kind: str  # "console" or "file"
    line: int  # 1-based line number of the opening fence
    commands: list[Command] = field(default_factory=list)
    title: str = ""
    text: str = ""


def parse(text: str) -> list[Block]:
    """The console blocks and titled file blocks of a page, in order."""
    blocks: list[Block] = []
    for match in FENCE.finditer(text):
        lang, info, body = match.group(1), match.group(2), match.group(3)
        first = text.count("\n", 0, match.start()) + 1  # 0-based index of the body's first line
        if lang == "console":
            block = Block("console", first)
            for offset, raw in enumerate(body.splitlines()):
                if raw.startswith("$ "):
                    block.commands.append(Command(raw[2:], start=first + offset, end=first + offset + 1))
                elif not block.commands:
                    if raw.strip():
                        raise ValueError(
                            f"line {first + offset + 1}: a console block starts with a '$ ' line"
                        )
                else:
                    command = block.commands[-1]
                    command.expected.append(raw)
                    if raw.strip():
                        command.end = first + offset + 1
            for command in block.commands:
                while command.expected and not command.expected[-1].strip():
                    command.expected.pop()
            blocks.append(block)
        elif title := TITLE.search(info):
            blocks.append(Block("file", first, title=title.group(1), text=body))
    return blocks


def split(line: str) -> tuple[dict[str, str], list[str]]:
    """``VAR=value ms-prcs ARGS  # comment`` -> ({VAR: value}, [ARGS])."""
    words = shlex.split(line, comments=True)
    env: dict[str, str] = {}
    while words and ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if not words or words[0] != "ms-prcs":
        raise ValueError(
            f"not an ms-prcs command: {line!r} (a console block holds only ms-prcs commands; "
            "show others in a ```sh block)"
        )
    if words[1:2] and words[1] in NEVER_ENDS and "--schema" not in words and "--help" not in words:
        raise ValueError(f"{line!r} runs until stopped: show it in a ```sh block, not a transcript")
    return env, words[1:]


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line, with ``...`` standing for any run of lines."""
    if not expected:
        return not actual
    if expected[0] == ELLIPSIS:
        rest = expected[1:]
        return any(matches(rest, actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


def make_demo(directory: Path) -> Path:
    """The template database every page starts from: ``ms-prcs demo`` at the fixed as-of date."""
    directory.mkdir(parents=True, exist_ok=True)
    result = run_command(directory, {}, ["demo", "--as-of", DEMO_AS_OF])
    if result[1] != 0:
        raise RuntimeError(f"ms-prcs demo failed:\n{result[0]}")
    return directory


def prepare(workdir: Path, template: Path, empty: bool = False) -> None:
    """A page's working directory: a copy of the template's files (or a database of its own made by
    ``ms-prcs init``) and a link to the examples."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    if empty:
        output, code = run_command(workdir, {}, ["init"])
        if code != 0:
            raise RuntimeError(f"ms-prcs init failed:\n{output}")
        return
    for path in template.iterdir():
        if path.is_file():
            shutil.copy2(path, workdir / path.name)


def run_command(workdir: Path, env: dict[str, str], args: list[str]) -> tuple[str, int]:
    """Run ``ms-prcs --user USER ARGS`` in-process in ``workdir`` at the frozen instant: (output, exit code)."""
    import time_machine
    from click.testing import CliRunner

    from ms_prcs.cli import main

    before = Path.cwd()
    os.chdir(workdir)
    try:
        with time_machine.travel(FROZEN_AT, tick=False):
            result = CliRunner().invoke(
                main, ["--user", USER, *args], env={"MS_PRCS_DB": DB_URL, **env}, catch_exceptions=True
            )
    finally:
        os.chdir(before)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        output += "".join(traceback.format_exception(result.exception))
    for pattern, placeholder in normalisers():
        output = pattern.sub(placeholder, output)
    return output, result.exit_code


def actual_lines(output: str, code: int) -> list[str]:
    lines = output.rstrip("\n").splitlines() if output.strip() else []
    lines = [line.rstrip() for line in lines]
    return [*lines, f"[exit {code}]"] if code else lines


@dataclass
class Outcome:
    page: Path
    command: Command
    actual: list[str]

    @property
    def ok(self) -> bool:
        return matches([line.rstrip() for line in self.command.expected], self.actual)


def run_page(page: Path, workdir: Path, template: Path) -> Iterator[Outcome]:
    """Every command of every console block of ``page``, in order, in one fresh copy of the demo."""
    text = page.read_text(encoding="utf-8")
    blocks = parse(text)
    if not any(b.kind == "console" for b in blocks):
        return
    prepare(workdir, template, empty=EMPTY in text)
    for module, filename in FIXTURE.findall(text):
        build_fixture(module, workdir / filename)
    for earlier in reversed(predecessors(page)):
        for _ in run_blocks(parse(earlier.read_text(encoding="utf-8")), page, workdir):
            pass
    yield from run_blocks(blocks, page, workdir)


def build_fixture(module: str, path: Path) -> None:
    """A fixture module's database as a SQLite file, at the frozen instant like every command."""
    import importlib

    import time_machine
    from sqlalchemy.orm import Session

    from ms_prcs.db import make_engine, upgrade

    build = importlib.import_module(module).build
    with time_machine.travel(FROZEN_AT, tick=False):
        engine = make_engine(f"sqlite:///{path}")
        try:
            upgrade(engine)
            with Session(engine) as session:
                build(session)
        finally:
            engine.dispose()


def predecessors(page: Path) -> list[Path]:
    """The pages ``page`` continues, nearest first (a chain: c continues b, which continues a)."""
    chain: list[Path] = []
    while found := CONTINUES.search(page.read_text(encoding="utf-8")):
        page = page.parent / found.group(1)
        if page in chain or not page.is_file():
            raise ValueError(f"transcripts continue: {found.group(1)} is missing or continues itself")
        chain.append(page)
    return chain


def run_blocks(blocks: list[Block], page: Path, workdir: Path) -> Iterator[Outcome]:
    for block in blocks:
        if block.kind == "file":
            (workdir / block.title).write_text(block.text, encoding="utf-8")
            continue
        for command in block.commands:
            env, args = split(command.line)
            output, code = run_command(workdir, env, args)
            yield Outcome(page, command, actual_lines(output, code))


def update(page: Path, outcomes: list[Outcome]) -> int:
    """Write the actual output of every command whose expected output differs into the page; how many."""
    lines = page.read_text(encoding="utf-8").split("\n")
    changed = 0
    for outcome in sorted(outcomes, key=lambda o: o.command.start, reverse=True):
        if outcome.ok:
            continue
        command = outcome.command
        lines[command.start + 1 : command.end] = outcome.actual
        changed += 1
    page.write_text("\n".join(lines), encoding="utf-8")
    return changed


def main(argv: list[str]) -> int:
    """``python -m tests.docs.transcripts [--update] [PAGE...]``: check (or rewrite) the pages' transcripts."""
    import tempfile

    do_update = "--update" in argv
    chosen = [Path(a).resolve() for a in argv if a != "--update"] or pages()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        template = make_demo(Path(tmp) / "template")
        for index, page in enumerate(chosen):
            outcomes = list(run_page(page, Path(tmp) / f"page{index}", template))
            bad = [o for o in outcomes if not o.ok]
            failed += len(bad)
            for o in bad:
                print(f"{page.name}:{o.command.start + 1}: $ {o.command.line}")
                print("\n".join(o.actual[:40]))
                print("---")
            if do_update and bad:
                print(f"{page.name}: {update(page, outcomes)} outputs rewritten")
    return 1 if failed and not do_update else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
