"""The instant OpenAI-compatible server of the benchmarks: tests/llm_stub.StubLLM in a process
of its own, printing its base URL on stdout when ready and stopping when stdin closes.

The actor's replies start with STAMP; the stub replaces it, as the bytes leave, with the
CLOCK_MONOTONIC time in nanoseconds (shared by every process on the machine), so a client
reading the first streamed token knows when the stub sent it. Graders get a valid grade.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STAMP = "@" * 20  # as long as the 20-digit time that replaces it
_STAMP_BYTES = STAMP.encode()
CLIENT_REPLY = (
    "Listen, I hear you, but I still want the whole thing done by Monday and I am not "
    "paying for extra meetings about it. Tell me what you can actually do this week."
)


def is_grader(body: dict[str, Any]) -> bool:
    return "# Techniques" in str(body["messages"][0].get("content", ""))


def grade_json(body: dict[str, Any]) -> str:
    """One valid verdict per technique the prompt names, quoting the first trainee message."""
    system = str(body["messages"][0]["content"])
    found = re.search(r"one entry per technique id: (.+)\.\s*$", system)
    ids = [t.strip() for t in found.group(1).split(",")] if found else []
    block = str(body["messages"][1]["content"]) if len(body["messages"]) > 1 else ""
    first = re.search(r"^\[(\d+)\] TRAINEE: (.*)$", block, re.M)
    evidence = [{"seq": int(first.group(1)), "quote": first.group(2)[:25]}] if first else []
    criteria = [
        {
            "technique_id": tid,
            "verdict": "applied" if evidence else "not_applicable",
            "evidence": evidence,
            "rationale": "Seen in the transcript.",
            "better_phrasing": None,
        }
        for tid in ids
    ]
    return json.dumps({"criteria": criteria})


def responder(body: dict[str, Any]) -> str:
    return grade_json(body) if is_grader(body) else f"{STAMP} {CLIENT_REPLY}"


class StampFirstToken:
    """ASGI wrapper: replace STAMP in outgoing bytes with the time they are handed over."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamping(message: Message) -> None:
            if message["type"] == "http.response.body":
                body = message.get("body", b"")
                if _STAMP_BYTES in body:
                    now = f"{time.monotonic_ns():020d}".encode()
                    message = {**message, "body": body.replace(_STAMP_BYTES, now)}
            await send(message)

        await self.app(scope, receive, stamping)


def parse_stamp(text: str) -> int | None:
    """The stub's send time (ns) at the start of a streamed reply, if there is one."""
    found = re.match(r"\s*(\d{20})", text)
    return int(found.group(1)) if found else None


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from llm_stub import StubLLM

    # BENCH_STUB_CHUNK_DELAY: seconds before each streamed chunk, to play a model that takes
    # its time (the instant stub of the benchmarks has none)
    stub = StubLLM(responder, chunk_delay=float(os.environ.get("BENCH_STUB_CHUNK_DELAY", "0")))
    stub.app = StampFirstToken(stub.app)  # type: ignore[assignment]
    with stub:
        print(stub.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            sys.stdin.read()  # until the parent closes our stdin


if __name__ == "__main__":
    main()
