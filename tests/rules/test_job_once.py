"""Issue 15: the once-a-night check of ``--job`` is made by the run once it holds the run lock, so two
``run --job X --wait`` started together run once: the second waits for the first, then finds its night done."""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa

from ms_prcs.db import make_engine
from tests.engine.bulk import AS_OF, build
from tests.jobs.helpers import child_env, lock_rows, runs


def test_two_job_runs_started_together_run_once(db_url: str) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=40)
    env = {**child_env(), "MS_PRCS_CHUNK_SIZE": "20"}
    argv = [sys.executable, "-m", "ms_prcs", "--db", db_url, "run", "--job", "nightly"]
    argv += ["--as-of", str(AS_OF), "--wait"]
    children = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=240) for child in children]
    codes = [child.returncode for child in children]

    assert codes == [0, 0], outputs
    done = [r for r in runs(engine) if r.job_name == "nightly"]
    assert [r.outcome for r in done] == ["Success"]  # one run row: the other wrote nothing
    ran, skipped = sorted((out for out, _ in outputs), key=lambda out: out.startswith("job "))
    assert ran.startswith(f"Process instance {done[0].process_instance}: Success")
    assert skipped.startswith(f"job nightly already ran for {AS_OF} in run {done[0].process_instance};")
    assert lock_rows(engine) == []
    with engine.connect() as conn:
        audited = conn.scalar(
            sa.text("SELECT count(*) FROM status_change WHERE changed_by = :run"),
            {"run": f"run {done[0].process_instance}"},
        )
        others = conn.scalar(sa.text("SELECT count(*) FROM status_change WHERE changed_by LIKE 'run %'"))
    assert audited == others and audited
    engine.dispose()
