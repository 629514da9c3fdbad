"""Load throughput, and how fast a big bad file is refused.

``python -m benchmarks.load [--db URL] [--contracts N] [--bad-mb 50]``

1. Throughput: N contracts (each with 2 lines and 2 milestones with a Date condition; 7 entries a contract
   counting lines, milestones and conditions) written as JSON, loaded with ``ms-prcs load`` into a fresh
   database (SQLite file by default, or ``--db``): entries per second.
2. Refusal: a ``--bad-mb`` MB file (JSON, JSON Lines and YAML) whose LAST entry is wrong, loaded into the
   same database: seconds until exit 2 and the peak RSS of the process, each in its own ``ms-prcs``
   process (``resource.getrusage(RUSAGE_CHILDREN)``), and the database is checked unchanged by its counts.

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


def write_json(path: Path, contracts: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps({**HEAD, "contracts": contracts}))


def write_jsonl(path: Path, contracts: list[dict[str, Any]]) -> None:
    with path.open("w") as out:
        out.write(json.dumps({"business_units": HEAD["business_units"][0]}) + "\n")
        for c in contracts:
            out.write(json.dumps({"contracts": c}) + "\n")


def write_yaml(path: Path, contracts: list[dict[str, Any]]) -> None:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump({**HEAD, "contracts": contracts}, Dumper=dumper, sort_keys=False))


def ms_prcs(db: str, *args: str) -> tuple[int, float, float, str]:
    """Run ``ms-prcs`` in a child: exit code, seconds, the child's own peak RSS in MB (``os.wait4``), and
    the first line of its stderr."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "ms_prcs", "--db", db, *args], stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        first = (err.read().splitlines() or [""])[0][:160]
    return child.returncode, seconds, usage.ru_maxrss / 1024, first


def contracts_for(megabytes: float) -> int:
    return int(megabytes * 1e6 / len(json.dumps(contract(1))))


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
    write_json(good, [contract(i) for i in range(args.contracts)])
    code, seconds, rss, err = ms_prcs(db, "load", str(good))
    assert code == 0, err
    entries = args.contracts * ENTRIES_PER_CONTRACT + 1
    print(f"load {good.stat().st_size / 1e6:.1f} MB JSON, {args.contracts} contracts, {entries} entries:")
    print(f"  {seconds:.1f} s, {entries / seconds:,.0f} entries/s, peak RSS {rss:.0f} MB")

    n = contracts_for(args.bad_mb)
    bad = [contract(args.contracts + i) for i in range(n)]
    bad[-1]["lines"][1]["amount"] = "lots"
    for kind, writer in (("jsonl", write_jsonl), ("json", write_json), ("yaml", write_yaml)):
        path = work / f"bad.{kind}"
        writer(path, bad)
        code, seconds, rss, err = ms_prcs(db, "load", str(path))
        size = path.stat().st_size / 1e6
        print(
            f"refuse {size:.0f} MB {kind} bad in its last entry: exit {code} in {seconds:.1f} s, peak RSS {rss:.0f} MB"
        )
        print(f"  {err.replace(str(work) + os.sep, '')}")
        path.unlink()


if __name__ == "__main__":
    main()
