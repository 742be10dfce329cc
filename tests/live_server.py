"""A real Sparring server in a subprocess on a free loopback port, for load and crash tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlmodel import Session

from app import auth
from app.db import get_engine, migrate
from app.models import UserCreate

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_trainees(database_url: str, count: int, prefix: str = "t") -> list[str]:
    """Create `count` trainees with one API token each, straight in the database."""
    engine = get_engine(database_url)
    migrate(engine)
    tokens = []
    with Session(engine) as db:
        for i in range(count):
            request = UserCreate(username=f"{prefix}{i:03d}", password="load test password")
            user = auth.create_user(db=db, request=request)
            tokens.append(auth.create_token(db=db, user=user, name="load")[1])
    return tokens


class LiveServer:
    def __init__(self, database_url: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "SPARRING_DATABASE_URL": database_url,
            "SPARRING_SESSIONS_PER_HOUR": "1000",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> LiveServer:
        command = [
            sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError("the server did not start")

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no flushing; what is not committed is gone."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
