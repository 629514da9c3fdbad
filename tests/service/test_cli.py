"""The service's commands: ``init`` writes the key file (0600), ``user password``, ``token create|list|revoke``,
and ``serve`` answering on a real port."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ms_prcs.service.routes.health import head_revision
from ms_prcs.service.security import token_digest
from tests.conftest import CliInvoke
from tests.service.conftest import free_port


def test_init_writes_a_private_key_file_once(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ms_prcs.cli import main

    url = f"sqlite:///{tmp_path}/new.db"
    env = {"MS_PRCS_SECRET_KEY": ""}
    first = CliRunner().invoke(main, ["--db", url, "init"], env=env)
    assert first.exit_code == 0, first.output
    key = tmp_path / "new.db.secret"
    assert f"secret key of the service written to {key} (mode 0600)" in first.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    text = key.read_text()
    again = CliRunner().invoke(main, ["--db", url, "init"], env=env)
    assert "secret key" not in again.output and key.read_text() == text


def test_password_and_tokens(cli: CliInvoke, db_url: str) -> None:
    assert cli("user", "add", "billing-sys").exit_code == 0
    assert (
        cli("user", "password", "nobody", input="long-enough\n").output
        == "Error: user nobody does not exist\n"
    )
    short = cli("user", "password", "billing-sys", input="short\n")
    assert (short.exit_code, short.output) == (
        2,
        "Error: the password of user billing-sys must have at least 8 characters\n",
    )
    assert (
        cli("user", "password", "billing-sys", input="long-enough\n").output
        == "password of user billing-sys set\n"
    )

    made = cli("--json", "token", "create", "--user", "billing-sys", "--scope", "feed", "--descr", "ERP")
    assert made.exit_code == 0, made.output
    record = json.loads(made.stdout)
    assert record["token"].startswith("msp_") and record["scopes"] == ["feed"]
    people = cli("token", "create", "--user", "billing-sys", "--scope", "read")
    assert people.stdout.splitlines()[0] == "token 2 for user billing-sys (scopes read):"
    assert "Store it now: it is not shown again." in people.stderr
    listed = json.loads(cli("--json", "token", "list").stdout)
    assert [(t["id"], t["scopes"], t["revoked_at"]) for t in listed] == [
        (1, ["feed"], None),
        (2, ["read"], None),
    ]
    assert record["token"] not in cli("token", "list").stdout  # never shown again
    assert cli("token", "revoke", "1").stdout == "token 1 revoked\n"
    assert json.loads(cli("--json", "token", "list", "--user", "billing-sys").stdout)[0]["revoked_at"]
    assert cli("token", "revoke", "9").output == "Error: token 9 does not exist\n"
    bad = cli("token", "create", "--user", "billing-sys", "--scope", "root")
    assert bad.exit_code == 2 and "'root' is not one of" in bad.output

    from sqlalchemy import select

    from contracts.identity_models import ApiToken
    from ms_prcs.db import make_engine

    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.scalar(select(ApiToken.token_hash).where(ApiToken.id == 1)) == token_digest(
            record["token"]
        )
    engine.dispose()


def test_a_feed_token_bound_to_a_consumer(cli: CliInvoke, db_url: str) -> None:
    assert cli("user", "add", "billing-sys").exit_code == 0
    made = cli("token", "create", "--user", "billing-sys", "--scope", "feed", "--consumer", "erp")
    assert made.exit_code == 0, made.output
    assert made.stdout.splitlines()[0] == "token 1 for user billing-sys (scopes feed, feed consumer erp):"
    listed = json.loads(cli("--json", "token", "list").stdout)
    assert [(t["id"], t["consumer"]) for t in listed] == [(1, "erp")]
    assert "erp" in cli("token", "list").stdout.splitlines()[-1]
    unbound = json.loads(cli("--json", "token", "create", "--user", "billing-sys", "--scope", "feed").stdout)
    assert unbound["consumer"] is None

    no_feed = cli("token", "create", "--user", "billing-sys", "--scope", "read", "--consumer", "erp")
    assert (no_feed.exit_code, no_feed.output) == (
        2,
        "Error: a token bound to feed consumer erp needs the feed scope (--scope feed)\n",
    )
    too_long = cli("token", "create", "--user", "billing-sys", "--scope", "feed", "--consumer", "x" * 41)
    assert (too_long.exit_code, too_long.output) == (
        2,
        f"Error: feed consumer name {'x' * 41!r} must be 1 to 40 characters\n",
    )
    assert len(json.loads(cli("--json", "token", "list").stdout)) == 2  # the refused ones left nothing


@pytest.mark.slow
def test_serve_answers_on_its_port(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/served.db"
    env = {**os.environ, "MS_PRCS_DB": url, "MS_PRCS_SECRET_KEY": ""}
    init = subprocess.run(
        [sys.executable, "-m", "ms_prcs", "init"], env=env, check=True, capture_output=True, text=True
    )
    assert (
        "roles added for the service: ms-prcs-reports, ms-prcs-run, ms-prcs-feed, ms-prcs-admin"
        in init.stdout
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "ms_prcs", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz")
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    server.stderr.read() if server.stderr else ""
                )
                time.sleep(0.2)
        assert ready.json() == {"status": "ok", "detail": f"schema at {head_revision()}"}
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/contracts").status_code == 401
    finally:
        server.terminate()
        out, err = server.communicate(timeout=20)
    assert f"ms-prcs service on http://127.0.0.1:{port}/api/v1 (1 worker)" in out
    assert "roles added" not in out  # init made them already
    assert '"path": "/api/v1/contracts", "status": 401' in err  # the access log


def test_serve_refuses_without_a_secret_key(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ms_prcs.cli import main

    url = f"sqlite:///{tmp_path}/nokey.db"
    result = CliRunner().invoke(
        main,
        ["--db", url, "serve"],
        env={"MS_PRCS_SECRET_KEY": "", "MS_PRCS_SECRET_KEY_FILE": str(tmp_path / "none")},
    )
    assert result.exit_code == 2
    assert result.output.startswith("Error: the service needs a secret key for its session cookies")
