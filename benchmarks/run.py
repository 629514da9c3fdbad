"""The benchmark runner: the raw-SQL limit, then ``ms-prcs run``, then the rerun, on the same data.

``python -m benchmarks.run --milestones 100000 [--pg-url URL] [--sqlite-path P] [--seed S] [--units U]
[--mix standard|date|sql] [--skip-sqlite]``

The data is generated once per backend (SQLite: one file, copied; PostgreSQL: one database, cloned with
``CREATE DATABASE .. TEMPLATE``), so the limit script and the engine start from identical rows. Every phase
runs in a fresh subprocess, timed by wall clock from the outside (interpreter start included, as a user
would see it) and measured for peak RSS with ``os.wait4`` (that child's own ``ru_maxrss``). After the runs
the completions of the limit database and the engine database are compared: same milestone ids, same
condition ids, or the runner exits 1.

``--pg-url`` names a PostgreSQL server (any database on it; the runner creates and drops its own). The
engine is measured there with 1 worker, and with 2 when ``ms-prcs run`` has a ``--workers`` option.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benchmarks.generate import AS_OF
from ms_prcs.db import make_engine, normalize_url

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    max_rss_mib: float
    output: str
    cpu_s: float = 0.0
    """Client CPU (user + system) of the child and of the worker processes it started and reaped."""
    server_cpu_s: float | None = None
    """PostgreSQL: CPU of the server backends that served the phase (see :func:`server_cpu`)."""


def server_cpu(url: str) -> Callable[[], float] | None:
    """A reader of the CPU seconds of a local PostgreSQL server's finished backends, or None (not local).

    Every backend is a child process of the postmaster, which reaps it when its client disconnects, so the
    postmaster's ``cutime + cstime`` (``/proc/<pid>/stat`` fields 16 and 17) grows by the CPU of each
    connection once it ends: read before and after a phase, the difference is what the phase's own
    backends used (and any autovacuum worker that ended meanwhile)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            data = conn.exec_driver_sql("SHOW data_directory").scalar()
        pid = int(Path(str(data), "postmaster.pid").read_text().split()[0])
        tick = os.sysconf("SC_CLK_TCK")
    except (OSError, sa.exc.SQLAlchemyError, ValueError):
        return None
    finally:
        engine.dispose()

    def read() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / tick

    return read


def measure(name: str, argv: list[str], server: Callable[[], float] | None = None) -> Phase:
    """Run one phase in a fresh subprocess, reaping it with ``os.wait4`` for its own peak RSS and its CPU
    (``ru_utime + ru_stime`` include the children it reaped: the run's worker processes)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        server_before = server() if server else 0.0
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        server_s = None
        if server:
            time.sleep(1.0)  # the phase's backends exit (and are reaped) just after their client
            server_s = server() - server_before
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{name} failed with exit code {proc.returncode}:\n{stderr[-4000:]}")
    return Phase(name, seconds, usage.ru_maxrss / 1024, stdout, usage.ru_utime + usage.ru_stime, server_s)


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


def _engine_argv(url: str, workers: int | None = None) -> list[str]:
    argv = _python(
        "-m", "ms_prcs", "--db", url, "--user", "bench", "run", "--as-of", AS_OF.isoformat(), "--json"
    )
    if workers is not None:
        argv += ["--workers", str(workers)]
    return argv


def _completions(url: str) -> dict[str, Any]:
    from benchmarks.limit import completions

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return completions(conn, AS_OF)
    finally:
        engine.dispose()


def _has_workers_option() -> bool:
    probe = subprocess.run(
        _python("-m", "ms_prcs", "run", "--help"), cwd=ROOT, capture_output=True, text=True, check=False
    )
    return "--workers" in probe.stdout


def _report(
    backend: str, n: int, generated: Phase, limit: Phase, runs: list[tuple[str, Phase]]
) -> dict[str, Any]:
    print(f"\n== {backend}, {n:,} milestones ==")
    print(f"  generate           {generated.seconds:8.1f} s")
    print(
        f"  {'phase':<18} {'seconds':>8} {'x limit':>8} {'ms/s':>10} {'peak RSS':>10}"
        f" {'client CPU':>11} {'server CPU':>11} {'total CPU':>10}"
    )
    rows = [("raw-SQL limit", limit)] + runs
    figures: dict[str, Any] = {"backend": backend, "milestones": n, "generate_s": round(generated.seconds, 2)}
    for name, phase in rows:
        ratio = phase.seconds / limit.seconds
        rate = n / phase.seconds
        server = "" if phase.server_cpu_s is None else f"{phase.server_cpu_s:9.2f} s"
        total = "" if phase.server_cpu_s is None else f"{phase.cpu_s + phase.server_cpu_s:8.2f} s"
        print(
            f"  {name:<18} {phase.seconds:8.2f} {ratio:8.2f} {rate:10,.0f} {phase.max_rss_mib:8.0f} MiB"
            f" {phase.cpu_s:9.2f} s {server:>11} {total:>10}"
        )
        figures[name] = {
            "seconds": round(phase.seconds, 2),
            "x_limit": round(ratio, 2),
            "milestones_per_s": round(rate),
            "peak_rss_mib": round(phase.max_rss_mib),
            "client_cpu_s": round(phase.cpu_s, 2),
            "server_cpu_s": None if phase.server_cpu_s is None else round(phase.server_cpu_s, 2),
        }
    first = dict(runs).get("engine run")
    again = dict(runs).get("engine rerun")
    if first and again:
        print(f"  rerun / run        {again.seconds / first.seconds:8.1%}")
    two = dict(runs).get("engine 2 workers")
    if first and two and first.server_cpu_s is not None and two.server_cpu_s is not None:
        cpu_ratio = (two.cpu_s + two.server_cpu_s) / (first.cpu_s + first.server_cpu_s)
        print(f"  2 workers / 1      {two.seconds / first.seconds:8.2f} x wall, {cpu_ratio:.2f} x total CPU")
    return figures


def _check(limit: dict[str, Any], engine: dict[str, Any], what: str) -> bool:
    same = limit == engine
    verdict = "same completions" if same else "DIFFERENT completions"
    print(
        f"  check ({what}): {verdict}: {engine['milestones']:,} milestones, {engine['conditions']:,} conditions"
    )
    if not same:
        print(f"    limit:  {limit}\n    engine: {engine}")
    return same


def bench_sqlite(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    base = Path(args.sqlite_path)
    base.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", ".limit", ".engine"):
        Path(f"{base}{suffix}").unlink(missing_ok=True)
    generated = measure("generate", _generate_argv(f"sqlite:///{base}", args))
    limit_path, engine_path = Path(f"{base}.limit"), Path(f"{base}.engine")
    shutil.copyfile(base, limit_path)
    shutil.copyfile(base, engine_path)
    limit_url, engine_url = f"sqlite:///{limit_path}", f"sqlite:///{engine_path}"
    limit = measure("limit", _python("-m", "benchmarks.limit", "--db", limit_url))
    run = measure("engine run", _engine_argv(engine_url))
    rerun = measure("engine rerun", _engine_argv(engine_url))
    figures = _report(
        "SQLite", args.milestones, generated, limit, [("engine run", run), ("engine rerun", rerun)]
    )
    ok = _check(_completions(limit_url), _completions(engine_url), "engine vs limit")
    if not args.keep:
        for path in (limit_path, engine_path):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    return figures, ok


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


def sql_role(url: str) -> None:
    """``ms-prcs init`` on a cloned database: the role SQL conditions run under is per database (without
    it every SQL condition of the run fails and stays Ready, and the engine would not match the limit)."""
    env = {**os.environ, "MS_PRCS_SECRET_KEY": "benchmark"}  # no key file written for the service
    subprocess.run(
        _python("-m", "ms_prcs", "--db", url, "init"), cwd=ROOT, env=env, check=True, capture_output=True
    )


def bench_postgres(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    server = make_url(normalize_url(args.pg_url))
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    prefix = "ms_prcs_bench"
    names = {k: f"{prefix}_{k}" for k in ("base", "limit", "w1", "w2")}

    def url(name: str) -> str:
        return server.set(database=name).render_as_string(hide_password=False)

    def recreate(name: str, template: str | None = None) -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(
                f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            )

    recreate(names["base"])
    generated = measure("generate", _generate_argv(url(names["base"]), args))
    for key in ("limit", "w1", "w2"):
        recreate(names[key], names["base"])
    for key in ("w1", "w2"):
        sql_role(url(names[key]))
    cpu = server_cpu(url(names["base"]))
    limit = measure("limit", _python("-m", "benchmarks.limit", "--db", url(names["limit"])), cpu)
    run = measure("engine run", _engine_argv(url(names["w1"])), cpu)
    rerun = measure("engine rerun", _engine_argv(url(names["w1"])), cpu)
    runs = [("engine run", run), ("engine rerun", rerun)]
    workers = _has_workers_option()
    if workers:
        two = measure("engine 2 workers", _engine_argv(url(names["w2"]), 2), cpu)
        runs.append(("engine 2 workers", two))
    figures = _report("PostgreSQL", args.milestones, generated, limit, runs)
    if not workers:
        print("  2 workers: not measured (ms-prcs run has no --workers option yet)")
    expected = _completions(url(names["limit"]))
    ok = _check(expected, _completions(url(names["w1"])), "engine vs limit")
    if workers:
        ok = _check(expected, _completions(url(names["w2"])), "2 workers vs limit") and ok
    if not args.keep:
        with admin.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
    return figures, ok


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
    args = parser.parse_args(argv)
    print(
        f"ms-prcs benchmark: {args.milestones:,} milestones, mix {args.mix}, seed {args.seed}, {args.units} units"
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
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
