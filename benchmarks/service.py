"""The service benchmark: ``GET milestone`` latency and the feed over HTTP, against ``ms-prcs serve``.

``python -m benchmarks.service --db URL [--requests 500] [--page 1000] [--seed 1]``

Run it on a database made by ``benchmarks.generate`` (1,000,000 milestones for the published figures). It
starts ``ms-prcs serve`` on a free loopback port in a subprocess (one worker), creates a benchmark user with
a token (scopes read and feed, role ms-prcs-feed), and measures with one keep-alive HTTP client:

1. ``GET /api/v1/milestones/{key}`` (fields, conditions, references, history and "why not complete") for
   ``--requests`` milestones drawn at random (seeded): median, 95th percentile and max in milliseconds;
2. ``GET /api/v1/milestones?offset=..&limit=50`` and ``GET /api/v1/contracts?offset=..&limit=50``, pages at
   random offsets (the first page included): median and max in milliseconds;
3. the feed: the generator's already Completed milestones are announced on the feed (as the run that
   completed them would have), then a consumer reads pages of ``--page`` entries and acknowledges each page
   (claiming its billing events) until the feed is drained: entries read and acknowledged per second. The
   token is bound to the benchmark's consumer (``token create --consumer``).

It changes the database (feed entries, a consumer's cursor, claimed events, a user and a token): use a copy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import socket
import statistics
import subprocess
import sys
import time

import httpx
import sqlalchemy as sa

from benchmarks.generate import AS_OF
from billing_plans.feed import publish_completions
from contracts import admin
from contracts.audit import Who
from contracts.models import AppUser, Contract, FeedEntry, Milestone
from contracts.status import MilestoneStatus
from ms_prcs.db import make_engine, transaction
from ms_prcs.service import credentials, rights

USER = "bench-sys"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(engine: sa.Engine, consumer: str) -> str:
    """The benchmark user and a new token (read, feed), bound to ``consumer``."""
    who = Who.now("benchmark")
    with transaction(engine) as session:
        rights.ensure_roles(session)
        if session.get(AppUser, USER) is None:
            admin.add_user(session, USER, "Benchmark", [rights.ROLE_FEED])
        return credentials.create_token(session, USER, ["read", "feed"], who, consumer=consumer)[1]


def milestone_keys(engine: sa.Engine, n: int, seed: int) -> list[str]:
    with engine.connect() as conn:
        top = conn.scalar(sa.select(sa.func.max(Milestone.id))) or 0
        rng = random.Random(seed)
        ids = rng.sample(range(1, top + 1), min(n, top))
        rows = conn.execute(
            sa.select(
                Contract.business_unit, Contract.contract_num, Milestone.milestone_id, Milestone.milestone_num
            )
            .join(Contract, Contract.id == Milestone.contract_pk)
            .where(Milestone.id.in_(ids))
        ).all()
    return [f"{bu}/{c}/{m}/{n}" for bu, c, m, n in rows]


def announce_completed(engine: sa.Engine) -> int:
    """Feed entries for the Completed milestones (and their Ready events), as their run would have written."""
    with engine.begin() as conn:
        completed = sa.select(Milestone.id).where(Milestone.status == MilestoneStatus.COMPLETED)
        publish_completions(conn, completed, process_instance=0, as_of=AS_OF, at=dt.datetime(2026, 6, 30))
        return int(conn.scalar(sa.select(sa.func.count()).select_from(FeedEntry)) or 0)


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MS_PRCS_DB": url,
        "MS_PRCS_SECRET_KEY": os.environ.get("MS_PRCS_SECRET_KEY") or "benchmark-key",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "ms_prcs", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("ms-prcs serve did not start")
        time.sleep(0.2)


def bench_milestones(api: httpx.Client, keys: list[str]) -> dict[str, float]:
    api.get(f"/api/v1/milestones/{keys[0]}").raise_for_status()  # warm the connection and the caches
    times = []
    for key in keys:
        started = time.perf_counter()
        answer = api.get(f"/api/v1/milestones/{key}")
        times.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    times.sort()
    return {
        "requests": len(times),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "max_ms": round(times[-1], 2),
    }


def bench_lists(api: httpx.Client, seed: int, pages: int = 20) -> dict[str, dict[str, float]]:
    """Pages of 50 at random offsets of the milestone and contract lists (cut in SQL: ms_prcs.views)."""
    rng = random.Random(seed)
    out: dict[str, dict[str, float]] = {}
    for path in ("/api/v1/milestones", "/api/v1/contracts"):
        total = api.get(path, params={"limit": 1}).raise_for_status().json()["total"]
        times = []
        for offset in [0, *(rng.randrange(max(total - 50, 1)) for _ in range(pages - 1))]:
            started = time.perf_counter()
            api.get(path, params={"offset": offset, "limit": 50}).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
        out[path] = {
            "total": total,
            "pages": len(times),
            "median_ms": round(statistics.median(times), 2),
            "max_ms": round(max(times), 2),
        }
    return out


def bench_feed(api: httpx.Client, page: int, consumer: str) -> dict[str, float]:
    api.get(
        f"/api/v1/feed/{consumer}", params={"limit": 1}
    ).raise_for_status()  # warm up; reading changes nothing
    entries = claimed = 0
    started = time.perf_counter()
    while True:
        read = api.get(f"/api/v1/feed/{consumer}", params={"limit": page})
        read.raise_for_status()
        batch = read.json()["entries"]
        if not batch:
            break
        acked = api.post(f"/api/v1/feed/{consumer}/ack", json={"through": batch[-1]["cursor"]})
        acked.raise_for_status()
        entries += len(batch)
        claimed += len(acked.json()["claimed"])
    seconds = time.perf_counter() - started
    return {
        "entries": entries,
        "claimed": claimed,
        "seconds": round(seconds, 2),
        "entries_per_s": round(entries / seconds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.service", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="A database made by benchmarks.generate (it is changed).")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    engine = make_engine(args.db)
    consumer = f"bench-{os.getpid()}"
    token = setup(engine, consumer)
    keys = milestone_keys(engine, args.requests, args.seed)
    published = announce_completed(engine)
    engine.dispose()
    port = free_port()
    server = serve(args.db, port)
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as api:
            print(f"GET milestone: {bench_milestones(api, keys)}", flush=True)
            print(f"list pages: {bench_lists(api, args.seed)}", flush=True)
            print(f"feed ({published} entries published): {bench_feed(api, args.page, consumer)}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
