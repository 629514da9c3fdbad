"""Start and stop a throwaway PostgreSQL cluster on loopback, for CI and for a local test run.

Used by ``.ci/run`` (``python3 tests/pg_throwaway.py start DIR`` prints the URL) and by ``conftest.py`` when
no ``MS_PRCS_TEST_PG_URL`` is given but the PostgreSQL binaries are installed. PostgreSQL refuses to run as
root, so as root the server runs as the ``postgres`` user on a directory it owns. Standard library only.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path


def pg_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(x) for x in Path(p).parts[4].split(".") if x.isdigit()],
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def start(root: Path) -> str:
    """initdb + pg_ctl start on 127.0.0.1 and a free port; returns the SQLAlchemy URL."""
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    port = _free_port()
    data = root / "data"
    subprocess.run(
        _as_owner(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = f"-k {root} -c listen_addresses=127.0.0.1 -p {port} -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_owner(
            [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(root / "log"), "start"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (root / "port").write_text(str(port))
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def stop(root: Path) -> None:
    bindir = pg_bin()
    if bindir is None or not (root / "data").exists():
        return
    subprocess.run(
        _as_owner([str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"]),
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    verb, directory = sys.argv[1], Path(sys.argv[2])
    if verb == "start":
        print(start(directory))
    else:
        stop(directory)
