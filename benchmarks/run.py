"""The benchmark runner: the engine against the honest floor (``benchmarks.floor``), on the same data.

``python -m benchmarks.run --milestones 100000 [--pg-url URL] [--sqlite-path P] [--seed S] [--units U]
[--mix standard|date|sql] [--skip-sqlite] [--repeat N] [--json FILE]``

The data is generated once per backend (SQLite: one file, copied; PostgreSQL: one database, cloned with
``CREATE DATABASE .. TEMPLATE``), so every phase starts from identical rows: the floor, the floor without
StatusChange rows and feed (for reference), ``ms-prcs run``, its rerun, the floor on a copy of what the
run left (the fewest statements that decide what the rerun decides: the rerun's own floor), and on PostgreSQL
``ms-prcs run --workers 2`` when the option exists. Every phase runs in a fresh subprocess, timed by wall
clock from outside (interpreter start included), with the child's CPU seconds and peak RSS from
``os.wait4``; on a PostgreSQL server on this host, also the server's CPU seconds (every process of the
cluster, from ``/proc``), so client plus server is the whole cost.

This machine's speed drifts by 10-20 % within minutes (a virtual machine on a shared host), so with
``--repeat N`` every phase runs N times, interleaved (floor, engine, rerun, ... then again), each time on
fresh copies of the generated data. The table shows medians with the smallest and largest figure in
brackets, and each ratio is the median of the repeats' own ratios (a phase against the floor of the same
repeat, measured a few seconds apart), which a slow spell shifts far less than one run can.

Afterwards the end states are compared (:mod:`benchmarks.endstate`): every milestone's and condition's
id, status and completion date, the StatusChange rows and the feed entries' contents, engine against floor
(and two workers against floor). Any difference is printed and the runner exits 1: a ratio against a floor
that does other work would mean nothing. The tables it prints are Markdown, to paste into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benchmarks.endstate import differences, end_state
from benchmarks.generate import AS_OF
from ms_prcs.db import make_engine, normalize_url, upgrade

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "floor"
FLOOR_BARE = "floor, no audit/feed"
ENGINE = "ms-prcs run"
RERUN = "rerun"
FLOOR_RERUN = "floor, rerun"
"""The floor on a copy of the database the engine's run left: what a rerun cannot do with fewer statements
(every Ready condition still has to be decided again; nothing is met)."""
WORKERS2 = "ms-prcs run --workers 2"


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    cpu_s: float
    server_cpu_s: float | None
    max_rss_mib: float
    output: str

    @property
    def total_cpu_s(self) -> float:
        return self.cpu_s + (self.server_cpu_s or 0.0)


class ServerClock:
    """CPU seconds of a local PostgreSQL cluster: the postmaster, its live children, and the children it
    reaped (``cutime``/``cstime``), read from ``/proc``. None when the server is not on this host."""

    def __init__(self, url: str) -> None:
        self.postmaster: int | None = None
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                backend = int(conn.scalar(sa.text("SELECT pg_backend_pid()")) or 0)
            self.postmaster = int(_stat(backend)[3])  # ppid
        except (OSError, ValueError, IndexError, sa.exc.SQLAlchemyError):
            self.postmaster = None
        finally:
            engine.dispose()

    def seconds(self) -> float | None:
        if self.postmaster is None:
            return None
        tick = os.sysconf("SC_CLK_TCK")
        try:
            fields = _stat(self.postmaster)
            total = sum(int(f) for f in fields[13:17])  # utime stime cutime cstime
            children = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children").read_text().split()
        except OSError:
            return None
        for pid in children:
            try:
                total += sum(int(f) for f in _stat(int(pid))[13:17])
            except OSError:  # ended meanwhile: reaped into the postmaster's cutime
                continue
        return total / tick


def _stat(pid: int) -> list[str]:
    """``/proc/PID/stat`` as a list indexed like proc(5) numbers its fields, from 0 (ppid: 3, utime: 13)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    close = text.rindex(")")  # the command name may hold spaces and parentheses
    return [text[: text.index(" ")], text[text.index("(") : close + 1], *text[close + 2 :].split()]


def measure(name: str, argv: list[str], server: ServerClock | None = None) -> Phase:
    """Run ``argv`` in a fresh process; wall clock, the child's own CPU and peak RSS (``os.wait4``)."""
    print(f"  ... {name}", flush=True)
    before = server.seconds() if server else None
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{name} failed with exit code {proc.returncode}:\n{stderr[-4000:]}")
    if proc.returncode == 3:
        print(f"  !!! {name}: exit code 3, the run logged error messages (see ms-prcs runs show)")
    server_cpu = None
    if server is not None and before is not None:
        time.sleep(0.5)  # let the postmaster reap the child's backends
        after = server.seconds()
        server_cpu = None if after is None else after - before
    return Phase(name, seconds, usage.ru_utime + usage.ru_stime, server_cpu, usage.ru_maxrss / 1024, stdout)


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


def _floor_argv(url: str, *, bare: bool = False) -> list[str]:
    return _python("-m", "benchmarks.floor", "--db", url, *(["--no-audit-feed"] if bare else []))


def _engine_argv(url: str, workers: int | None = None) -> list[str]:
    argv = _python(
        "-m", "ms_prcs", "--db", url, "--user", "bench", "run", "--as-of", AS_OF.isoformat(), "--json"
    )
    if workers is not None:
        argv += ["--workers", str(workers)]
    return argv


def _generate_argv(url: str, args: argparse.Namespace) -> list[str]:
    return _python(
        "-m",
        "benchmarks.generate",
        "--db",
        url,
        "--milestones",
        str(args.milestones),
        "--seed",
        str(args.seed),
        "--units",
        str(args.units),
        "--mix",
        args.mix,
    )


def _end_state(url: str, *, audit_and_feed: bool = True) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return end_state(conn, AS_OF, audit_and_feed=audit_and_feed)
    finally:
        engine.dispose()


def _has_workers_option() -> bool:
    probe = subprocess.run(
        _python("-m", "ms_prcs", "run", "--help"), cwd=ROOT, capture_output=True, text=True, check=False
    )
    return "--workers" in probe.stdout


def _spread(values: list[float], digits: int = 2) -> str:
    """``median`` alone for one repeat, ``median [min-max]`` for more: the spread is part of the figure."""
    med = f"{statistics.median(values):.{digits}f}"
    if len(values) == 1:
        return med
    return f"{med} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def _ratios(phases: list[Phase], floors: list[Phase], cpu: bool) -> list[float]:
    """Each repeat's phase against the floor of the same repeat: the two ran back to back, so a slow spell
    of the machine slows both, and their ratio is steadier than a ratio of medians."""
    if cpu:
        return [p.total_cpu_s / f.total_cpu_s for p, f in zip(phases, floors, strict=True)]
    return [p.seconds / f.seconds for p, f in zip(phases, floors, strict=True)]


def _report(backend: str, n: int, generated: Phase, runs: dict[str, list[Phase]]) -> dict[str, Any]:
    """A Markdown table: wall and CPU seconds, each against the floor's (medians over the repeats, with
    the smallest and largest in brackets when there were several)."""
    floors = runs[FLOOR]
    repeats = len(floors)
    server = floors[0].server_cpu_s is not None
    print(
        f"\n#### {backend}, {n:,} milestones (generate {generated.seconds:.1f} s"
        + (f"; median of {repeats} interleaved repeats [min-max]" if repeats > 1 else "")
        + ")\n"
    )
    head = "| phase | wall s | × floor | CPU s (client" + (" + server" if server else "") + ") | × floor |"
    print(head + " peak RSS |")
    print("|---|---:|---:|---:|---:|---:|")
    figures: dict[str, Any] = {
        "backend": backend,
        "milestones": n,
        "repeats": repeats,
        "generate_s": round(generated.seconds, 2),
    }
    for name, phases in runs.items():
        cpu = _spread([p.total_cpu_s for p in phases])
        if server:
            client = statistics.median([p.cpu_s for p in phases])
            on_server = statistics.median([p.server_cpu_s or 0.0 for p in phases])
            cpu += f" ({client:.2f} + {on_server:.2f})"
        wall_x, cpu_x = _ratios(phases, floors, cpu=False), _ratios(phases, floors, cpu=True)
        rss = max(p.max_rss_mib for p in phases)
        print(
            f"| {name} | {_spread([p.seconds for p in phases])} | {_spread(wall_x)} | {cpu} |"
            f" {_spread(cpu_x)} | {rss:.0f} MiB |"
        )
        figures[name] = {
            "seconds": [round(p.seconds, 2) for p in phases],
            "x_floor": round(statistics.median(wall_x), 3),
            "cpu_s": [round(p.cpu_s, 2) for p in phases],
            "server_cpu_s": None if not server else [round(p.server_cpu_s or 0.0, 2) for p in phases],
            "cpu_x_floor": round(statistics.median(cpu_x), 3),
            "peak_rss_mib": round(rss),
        }
    if ENGINE in runs and RERUN in runs:
        run = runs[ENGINE]
        print(
            f"\nrerun / run: {statistics.median(_ratios(runs[RERUN], run, cpu=False)):.1%} wall,"
            f" {statistics.median(_ratios(runs[RERUN], run, cpu=True)):.1%} CPU"
        )
        if FLOOR_RERUN in runs:
            print(
                f"floor of the rerun / run: {statistics.median(_ratios(runs[FLOOR_RERUN], run, cpu=False)):.1%} wall,"
                f" {statistics.median(_ratios(runs[FLOOR_RERUN], run, cpu=True)):.1%} CPU"
            )
    if WORKERS2 in runs and ENGINE in runs:
        one = runs[ENGINE]
        print(
            f"2 workers / 1 worker: {statistics.median(_ratios(runs[WORKERS2], one, cpu=False)):.2f} wall,"
            f" {statistics.median(_ratios(runs[WORKERS2], one, cpu=True)):.2f} CPU (client + server)"
        )
    try:
        stats = json.loads(floors[-1].output)
        print(
            f"floor: {stats['statements']} statements ({stats['sql_statements']} SQL-condition statements,"
            f" {stats['passes']} chain links), {stats['milestones']:,} milestones and {stats['conditions']:,}"
            f" conditions completed, {stats['audit_rows']:,} StatusChange rows, {stats['feed_entries']:,}"
            f" feed entries; seconds by step: {stats['seconds']}"
        )
        figures["floor_stats"] = stats
    except (ValueError, KeyError):
        pass
    return figures


def _check(floor: dict[str, Any], other: dict[str, Any], what: str) -> bool:
    diff = differences(floor, other)
    if diff:
        print(f"\n**END STATES DIFFER ({what})**:\n  " + "\n  ".join(diff))
        return False
    print(
        f"check ({what}): same end state: {other['milestones_completed']:,} milestones and"
        f" {other['conditions_completed']:,} conditions completed"
        + (
            f", {other['audit_rows']:,} StatusChange rows, {other['feed_rows']:,} feed entries"
            if "audit_rows" in other
            else ""
        )
    )
    return True


def bench_sqlite(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    base = Path(args.sqlite_path)
    base.parent.mkdir(parents=True, exist_ok=True)
    copies = {key: Path(f"{base}.{key}") for key in ("floor", "bare", "engine", "again")}

    def remove(*paths: Path) -> None:
        for path in paths:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    remove(base, *copies.values())
    generated = measure("generate", _generate_argv(f"sqlite:///{base}", args))
    url = {key: f"sqlite:///{path}" for key, path in copies.items()}
    runs: dict[str, list[Phase]] = defaultdict(list)
    for repeat in range(args.repeat):
        if args.repeat > 1:
            print(f"  repeat {repeat + 1} of {args.repeat}", flush=True)
        remove(*copies.values())
        for key in ("floor", "bare", "engine"):
            shutil.copyfile(base, copies[key])
        runs[FLOOR].append(measure(FLOOR, _floor_argv(url["floor"])))
        runs[FLOOR_BARE].append(measure(FLOOR_BARE, _floor_argv(url["bare"], bare=True)))
        runs[ENGINE].append(measure(ENGINE, _engine_argv(url["engine"])))
        shutil.copyfile(copies["engine"], copies["again"])  # the run's process has ended: no WAL left behind
        runs[RERUN].append(measure(RERUN, _engine_argv(url["engine"])))
        runs[FLOOR_RERUN].append(measure(FLOOR_RERUN, _floor_argv(url["again"])))
    figures = _report("SQLite", args.milestones, generated, runs)
    # the last repeat's databases (every repeat starts from the same file and does the same work)
    expected = _end_state(url["floor"])
    ok = _check(expected, _end_state(url["engine"]), "engine vs floor")
    ok = _check(expected, _end_state(url["again"]), "floor after the run vs floor") and ok
    bare = _end_state(url["bare"], audit_and_feed=False)
    ok = _check({k: expected[k] for k in bare}, bare, "floor without audit/feed vs floor") and ok
    if not args.keep:
        remove(base, *copies.values())
    return figures, ok


def bench_postgres(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    server_url = make_url(normalize_url(args.pg_url))
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    names = {k: f"ms_prcs_bench_{k}" for k in ("base", "floor", "bare", "w1", "w2", "again")}

    def url(name: str) -> str:
        return server_url.set(database=name).render_as_string(hide_password=False)

    def recreate(name: str, template: str | None = None) -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(
                f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            )

    recreate(names["base"])
    generated = measure("generate", _generate_argv(url(names["base"]), args))
    workers = _has_workers_option()
    clock = ServerClock(url(names["base"]))
    runs: dict[str, list[Phase]] = defaultdict(list)
    for repeat in range(args.repeat):
        if args.repeat > 1:
            print(f"  repeat {repeat + 1} of {args.repeat}", flush=True)
        for key in ("floor", "bare", "w1", "w2") if workers else ("floor", "bare", "w1"):
            recreate(names[key], names["base"])
            # The SQL conditions' role is per database (named after it): a clone needs its own, or every SQL
            # condition of the engine's run fails and stays Ready (``ms-prcs init`` does the same).
            clone = make_engine(url(names[key]))
            upgrade(clone)
            clone.dispose()
        runs[FLOOR].append(measure(FLOOR, _floor_argv(url(names["floor"])), clock))
        runs[FLOOR_BARE].append(measure(FLOOR_BARE, _floor_argv(url(names["bare"]), bare=True), clock))
        runs[ENGINE].append(measure(ENGINE, _engine_argv(url(names["w1"])), clock))
        recreate(names["again"], names["w1"])
        runs[RERUN].append(measure(RERUN, _engine_argv(url(names["w1"])), clock))
        runs[FLOOR_RERUN].append(measure(FLOOR_RERUN, _floor_argv(url(names["again"])), clock))
        if workers:
            runs[WORKERS2].append(measure(WORKERS2, _engine_argv(url(names["w2"]), 2), clock))
    figures = _report("PostgreSQL", args.milestones, generated, runs)
    if not workers:
        print("2 workers: not measured (ms-prcs run has no --workers option)")
    expected = _end_state(url(names["floor"]))
    ok = _check(expected, _end_state(url(names["w1"])), "engine vs floor")
    ok = _check(expected, _end_state(url(names["again"])), "floor after the run vs floor") and ok
    bare = _end_state(url(names["bare"]), audit_and_feed=False)
    ok = _check({k: expected[k] for k in bare}, bare, "floor without audit/feed vs floor") and ok
    if workers:
        ok = _check(expected, _end_state(url(names["w2"])), "2 workers vs floor") and ok
    if not args.keep:
        with admin.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
    return figures, ok


def _machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--milestones", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--units", type=int, default=8)
    parser.add_argument("--mix", choices=("standard", "date", "sql"), default="standard")
    parser.add_argument("--sqlite-path", default=str(Path(tempfile.gettempdir()) / "ms_prcs_bench.db"))
    parser.add_argument("--pg-url", help="PostgreSQL server URL; the runner creates its own databases there")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the databases for a look afterwards")
    parser.add_argument("--json", dest="json_path", help="also write the figures to this JSON file")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure every phase this many times, interleaved, each on fresh copies; report medians",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    print(
        f"ms-prcs benchmark: {args.milestones:,} milestones, mix {args.mix}, seed {args.seed}, {args.units}"
        f" units; {_machine()} at start",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    ok = True
    if not args.skip_sqlite:
        figures, good = bench_sqlite(args)
        results.append(figures)
        ok = ok and good
    if args.pg_url:
        figures, good = bench_postgres(args)
        results.append(figures)
        ok = ok and good
    print(f"\n{_machine()} at the end")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2))
    if not ok:
        print("\nFAILED: the engine's end state differs from the floor's (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
