"""`sparring serve --workers N`: several server processes on one database, prepared once."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from live_server import ROOT, free_port
from typer.testing import CliRunner

from app.cli import cli


def test_two_workers_share_a_new_database_and_announce_the_admin_once(tmp_path: Path) -> None:
    sparring = shutil.which("sparring", path=str(Path(sys.executable).parent))
    assert sparring is not None
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        "PATH": str(Path(sys.executable).parent),
        "SPARRING_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
    }
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sparring, "serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        # each worker logs its start-up: two lines, two processes serving
        while log.read_text().count("Application startup complete") < 2 or not _healthy(url):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        text = log.read_text()
        # unprepared, the workers race: one fails on "table … already exists" or on a second
        # admin, and the supervisor restarts it
        assert "Traceback" not in text and "ERROR" not in text, text
        assert text.count("created the admin account") == 1, text
        password = re.search(r"password: (\S+)", text).group(1)  # type: ignore[union-attr]

        def login(_: int) -> int:
            body = {"username": "admin", "password": password}
            return httpx.post(f"{url}/api/auth/login", json=body, timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(login, range(16))) == {200}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_workers_and_reload_do_not_go_together() -> None:
    result = CliRunner().invoke(cli, ["serve", "--workers", "2", "--reload"])
    assert result.exit_code == 2 and "--reload runs a single process" in result.output
