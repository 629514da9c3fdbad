"""Load throughput, and how fast a big bad file is refused.

``python -m benchmarks.load [--db URL] [--contracts N] [--bad-mb 50]``

1. Throughput: N contracts (each with 2 lines and 2 milestones with a Date condition; 7 entries a contract
   counting lines, milestones and conditions) written as JSON, loaded with ``ms-prcs load`` into a fresh
   database (SQLite file by default, or ``--db``): entries per second.
2. Refusal: a ``--bad-mb`` MB file (JSON, JSON Lines and YAML) whose LAST entry is wrong, loaded into the
   same database: seconds until exit 2 and the peak RSS of the process, each in its own ``ms-prcs``
   process (its ``VmHWM``, see :data:`PEAK`).

Not a test: it prints figures for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ENTRIES_PER_CONTRACT = 7


def contract(i: int) -> dict[str, Any]:
    return {
        "contract": f"US001/K{i:07d}",
        "descr": f"Benchmark contract {i}",
        "customer": "ACME",
        "lines": [{"line": 1, "amount": "1000.00"}, {"line": 2, "amount": "250.50"}],
        "milestones": [
            {"milestone_id": "MS1", "conditions": [{"type": "date", "date": "2026-01-15"}]},
            {"milestone_id": "MS2", "conditions": [{"type": "date", "date": "2026-02-15"}]},
        ],
    }


HEAD: dict[str, Any] = {"business_units": [{"business_unit": "US001", "currency": "USD"}]}


def write_json(path: Path, contracts: Iterable[dict[str, Any]]) -> None:
    """One JSON document, written a contract at a time (the benchmark never holds a big file's entries)."""
    with path.open("w") as out:
        out.write(json.dumps(HEAD)[:-1] + ', "contracts": [')
        for i, c in enumerate(contracts):
            out.write((", " if i else "") + json.dumps(c))
        out.write("]}")


def write_jsonl(path: Path, contracts: Iterable[dict[str, Any]]) -> None:
    with path.open("w") as out:
        out.write(json.dumps({"business_units": HEAD["business_units"][0]}) + "\n")
        for c in contracts:
            out.write(json.dumps({"contracts": c}) + "\n")


def write_yaml(path: Path, contracts: Iterable[dict[str, Any]]) -> None:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with path.open("w") as out:
        out.write(yaml.dump(HEAD, Dumper=dumper, sort_keys=False) + "contracts:\n")
        for c in contracts:
            out.write(yaml.dump([c], Dumper=dumper, sort_keys=False))


PEAK = (
    "import os, runpy, sys\n"
    "sys.argv = ['ms-prcs', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('ms_prcs', run_name='__main__', alter_sys=True)\n"
    "finally:\n"
    "    peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    open(os.environ['MS_PRCS_PEAK_FILE'], 'w').write(peak)\n"
)
"""``ms-prcs`` that writes its peak RSS (kB) to a file at exit. ``VmHWM`` is the program's own: a child's
``ru_maxrss`` (``os.wait4``) starts from its parent's RSS at the fork, which made a benchmark holding a big
file's entries report them as the child's."""


def ms_prcs(db: str, *args: str) -> tuple[int, float, float, str]:
    """Run ``ms-prcs`` in a child: exit code, seconds, the child's own peak RSS in MB (``VmHWM``), and the
    first line of its stderr."""
    code, seconds, peak, stderr = run_measured(["--db", db, *args])
    return code, seconds, peak, (stderr.splitlines() or [""])[0][:160]


def run_measured(args: list[str]) -> tuple[int, float, float, str]:
    """``ms-prcs ARGS`` in a child: exit code, seconds, its own peak RSS in MB, and its stderr."""
    with tempfile.TemporaryDirectory() as folder:
        peak_file = Path(folder) / "peak"
        start = time.perf_counter()
        with tempfile.TemporaryFile("w+") as err:
            child = subprocess.run(
                [sys.executable, "-c", PEAK, *args],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**os.environ, "MS_PRCS_PEAK_FILE": str(peak_file)},
                check=False,
            )
            seconds = time.perf_counter() - start
            err.seek(0)
            stderr = err.read()
        return child.returncode, seconds, int(peak_file.read_text()) / 1024, stderr


def contracts_for(megabytes: float) -> int:
    return int(megabytes * 1e6 / len(json.dumps(contract(1))))


def bad_contracts(first: int, n: int) -> Iterator[dict[str, Any]]:
    """``n`` contracts, the last one with a second line whose amount is not a number."""
    for i in range(first, first + n):
        c = contract(i)
        if i == first + n - 1:
            c["lines"][1]["amount"] = "lots"
        yield c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--contracts", type=int, default=5_000)
    parser.add_argument("--bad-mb", type=float, default=50.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ms_prcs_load_bench_"))
    db = args.db or f"sqlite:///{work / 'load.db'}"
    code, _, _, err = ms_prcs(db, "init")
    assert code == 0, err

    good = work / "good.json"
    write_json(good, (contract(i) for i in range(args.contracts)))
    code, seconds, rss, err = ms_prcs(db, "load", str(good))
    assert code == 0, err
    entries = args.contracts * ENTRIES_PER_CONTRACT + 1
    print(f"load {good.stat().st_size / 1e6:.1f} MB JSON, {args.contracts} contracts, {entries} entries:")
    print(f"  {seconds:.1f} s, {entries / seconds:,.0f} entries/s, peak RSS {rss:.0f} MB")

    n = contracts_for(args.bad_mb)
    for kind, writer in (("jsonl", write_jsonl), ("json", write_json), ("yaml", write_yaml)):
        path = work / f"bad.{kind}"
        writer(path, bad_contracts(args.contracts, n))
        code, seconds, rss, err = ms_prcs(db, "load", str(path))
        size = path.stat().st_size / 1e6
        print(
            f"refuse {size:.0f} MB {kind} bad in its last entry: exit {code} in {seconds:.1f} s, peak RSS {rss:.0f} MB"
        )
        print(f"  {err.replace(str(work) + os.sep, '')}")
        path.unlink()


if __name__ == "__main__":
    main()
