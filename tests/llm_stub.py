"""A real OpenAI-compatible HTTP server on loopback, for tests and benchmarks of the LLM engine.

    with StubLLM() as stub:
        client = openai.OpenAI(base_url=stub.base_url, api_key="placeholder", max_retries=0)
        stub.script(Status(429, retry_after=0.01), Reply("Fine."))
        ...
        assert len(stub.requests) == 2

`POST /v1/chat/completions` answers chat.completion objects, or server-sent
chat.completion.chunk events when the body asks for `"stream": true`. Every request pops one
scripted behaviour (FIFO); when none is left, `responder(body)` supplies the text.

A pytest fixture is one `with` away (use `reset()` between tests to share one server):

    @pytest.fixture
    def stub() -> Iterator[StubLLM]:
        with StubLLM() as server:
            yield server
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

Body = dict[str, Any]
Responder = Callable[[Body], str]

_TRANSPORT = "llm_stub.transport"  # scope key: uvicorn's transport, so a behaviour can cut it
_WORD = re.compile(r"\s*\S+\s*")
_SSE_HEADERS = {"cache-control": "no-cache"}
_POLL = 0.05


@dataclass(frozen=True)
class Reply:
    """Answer with this content (streamed or not, as the request asks); any text, even bad JSON."""

    text: str


@dataclass(frozen=True)
class Status:
    """Answer an OpenAI-style error body with this HTTP status (and `retry-after` when set)."""

    code: int
    message: str = "stubbed error"
    retry_after: float | None = None


@dataclass(frozen=True)
class Hang:
    """Wait this long before answering through the responder (to trigger client timeouts)."""

    seconds: float


@dataclass(frozen=True)
class DropMidStream:
    """Cut the connection: after `after_chunks` content chunks when streaming, at once otherwise.

    The content comes from `text`, or from the responder when `text` is None.
    """

    after_chunks: int = 2
    text: str | None = None


@dataclass(frozen=True)
class EndStream:
    """End a streamed reply cleanly (the chunked body's terminator, the connection kept) after
    `after_chunks` content chunks, or all of them when None; with a finish chunk only when
    `finish_reason` is set, and `data: [DONE]` only when `done`.

    The defaults are a proxy or upstream that stops a stream early: half a reply, then a clean
    end with neither a finish_reason nor [DONE]. `EndStream(None, finish_reason="stop")` is a
    server that sends no [DONE] (older llama.cpp); `EndStream(None, done=True)` one that sends
    no finish_reason. The content comes from `text`, or from the responder when None; a request
    that is not streamed gets the whole reply.
    """

    after_chunks: int | None = 2
    text: str | None = None
    finish_reason: str | None = None
    done: bool = False


@dataclass(frozen=True)
class Garbled:
    """Stream these raw `data:` payloads, then [DONE]: chunks no OpenAI server would send."""

    payloads: tuple[str, ...]


Behaviour = Reply | Status | Hang | DropMidStream | EndStream | Garbled


def default_responder(body: Body) -> str:
    return "Sure."


class StubLLM:
    """An OpenAI-compatible chat-completions server under uvicorn in a background thread."""

    def __init__(
        self,
        responder: Responder = default_responder,
        *,
        supports_json_schema: bool = True,
        supports_json_mode: bool = True,
        refused_params: frozenset[str] = frozenset(),
        alternating_roles: bool = False,
        chunk_delay: float = 0.0,
        words_per_chunk: int = 3,
        model: str = "stub-model",
    ) -> None:
        self.responder = responder
        self.supports_json_schema = supports_json_schema
        self.supports_json_mode = supports_json_mode
        # request fields answered with 400, as some servers answer `stream_options` (older
        # Azure deployments) or `temperature` (reasoning models)
        self.refused_params = refused_params
        # refuse what many chat templates (Mistral's, Gemma's) refuse: after the system
        # prompt, anything but user, assistant, user, … in turn
        self.alternating_roles = alternating_roles
        self.chunk_delay = chunk_delay
        self.words_per_chunk = words_per_chunk
        self.model = model
        self.requests: list[Body] = []  # parsed bodies received on /v1/chat/completions
        self.clients: list[
            str
        ] = []  # each request's client "host:port": a new port, a new connection
        self.consumed: list[Behaviour] = []  # scripted behaviours used, in order
        self._defaults = (
            responder,
            supports_json_schema,
            supports_json_mode,
            refused_params,
            alternating_roles,
            chunk_delay,
        )
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._closing = False
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("StubLLM is not running: call start() or use it in a with block")
        return f"http://127.0.0.1:{self._port}/v1"

    def start(self, timeout: float = 10.0) -> Self:
        if self._server is not None:
            raise RuntimeError("StubLLM already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._asgi,
            interface="asgi3",
            lifespan="off",
            ws="none",
            log_config=None,
            log_level=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=1,
        )
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="llm-stub", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("StubLLM server failed to start")
            time.sleep(0.002)
        return self

    def close(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._closing = True  # ends pending Hangs
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- scripting ------------------------------------------------------------------------------

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours; each incoming chat request consumes one, first in first out."""
        with self._lock:
            self._queue.extend(behaviours)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        """Forget the script and the recorded requests; restore the constructor's settings."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.clients.clear()
            self.consumed.clear()
        (
            self.responder,
            self.supports_json_schema,
            self.supports_json_mode,
            self.refused_params,
            self.alternating_roles,
            self.chunk_delay,
        ) = self._defaults

    def _record(self, body: Body, request: Request) -> None:
        client = request.client
        with self._lock:
            self.requests.append(body)
            self.clients.append(f"{client.host}:{client.port}" if client else "?")

    def _pop(self) -> Behaviour | None:
        with self._lock:
            if not self._queue:
                return None
            behaviour = self._queue.popleft()
            self.consumed.append(behaviour)
            return behaviour

    # -- HTTP -----------------------------------------------------------------------------------

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        # uvicorn's `send` is a bound method of its request cycle, which holds the transport.
        scope[_TRANSPORT] = getattr(getattr(send, "__self__", None), "transport", None)
        await self.app(scope, receive, send)

    async def _models(self, request: Request) -> Response:
        model = {"id": self.model, "object": "model", "created": 0, "owned_by": "stub"}
        return JSONResponse({"object": "list", "data": [model]})

    async def _chat(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "request body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "request body must be a JSON object")
        self._record(body, request)
        rejected = self._check_response_format(body)
        if rejected is not None:
            return rejected

        match self._pop():
            case Status(code, message, retry_after):
                headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
                return _error(code, message, headers=headers)
            case Hang(seconds):
                if not await self._wait(seconds, request):
                    return _error(503, "stub shutting down or client gone")
                text = self.responder(body)
            case DropMidStream(after_chunks, drop_text):
                if not body.get("stream"):
                    return _Drop(None, self.chunk_delay)
                text = self.responder(body) if drop_text is None else drop_text
                return _Drop(self._frames(body, text)[: 1 + after_chunks], self.chunk_delay)
            case EndStream(after_chunks, end_text, finish_reason, done):
                text = self.responder(body) if end_text is None else end_text
                if body.get("stream"):
                    frames = self._frames(
                        body, text, content_chunks=after_chunks, finish=finish_reason, done=done
                    )
                    return StreamingResponse(
                        self._stream(frames), media_type="text/event-stream", headers=_SSE_HEADERS
                    )
            case Garbled(payloads):
                frames = [f"data: {p}\n\n".encode() for p in (*payloads, "[DONE]")]
                return StreamingResponse(
                    self._stream(frames), media_type="text/event-stream", headers=_SSE_HEADERS
                )
            case Reply(text):
                pass
            case None:
                text = self.responder(body)

        if body.get("stream"):
            return StreamingResponse(
                self._stream(self._frames(body, text)),
                media_type="text/event-stream",
                headers=_SSE_HEADERS,
            )
        return JSONResponse(self._completion(body, text))

    def _check_response_format(self, body: Body) -> Response | None:
        if self.alternating_roles:
            roles = [m.get("role") for m in body.get("messages", []) if m.get("role") != "system"]
            if roles != ["user", "assistant"] * (len(roles) // 2) + ["user"] * (len(roles) % 2):
                message = "Conversation roles must alternate user/assistant/user/assistant/..."
                return _error(400, message, param="messages")
        for name in sorted(self.refused_params & body.keys()):
            return _error(400, f"Unsupported parameter: '{name}' with this model", param=name)
        fmt = body.get("response_format")
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if (kind == "json_schema" and not self.supports_json_schema) or (
            kind == "json_object" and not self.supports_json_mode
        ):
            return _error(400, f"response_format {kind} is not supported", param="response_format")
        return None

    async def _wait(self, seconds: float, request: Request) -> bool:
        """Sleep; False if the stub is closing or the client went away first."""
        deadline = time.monotonic() + seconds
        while not self._closing:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            await asyncio.sleep(min(left, _POLL))
            if await request.is_disconnected():
                return False
        return False

    async def _stream(self, frames: list[bytes]) -> AsyncIterator[bytes]:
        delay = self.chunk_delay
        for frame in frames:
            if delay:
                await asyncio.sleep(delay)
            yield frame

    # -- payloads -------------------------------------------------------------------------------

    def _completion(self, body: Body, text: str) -> Body:
        return {
            "id": _new_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(body, text),
        }

    def _frames(
        self,
        body: Body,
        text: str,
        *,
        content_chunks: int | None = None,
        finish: str | None = "stop",
        done: bool = True,
    ) -> list[bytes]:
        """SSE frames: role chunk, content chunks, finish chunk, [usage chunk], [DONE].

        `content_chunks` keeps only the first ones; with `finish` None there is neither a
        finish chunk nor a usage chunk (a server sends usage after the finish), and with
        `done` False no [DONE]."""
        options = body.get("stream_options")
        with_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        base: Body = {
            "id": _new_id(),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
        }
        if with_usage:
            base["usage"] = None

        def chunk(delta: Body, finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return _sse({**base, "choices": [choice]})

        frames = [chunk({"role": "assistant", "content": ""})]
        pieces = _split(text, self.words_per_chunk)[:content_chunks]
        frames += [chunk({"content": piece}) for piece in pieces]
        if finish is not None:
            frames.append(chunk({}, finish))
            if with_usage:
                frames.append(_sse({**base, "choices": [], "usage": _usage(body, text)}))
        if done:
            frames.append(b"data: [DONE]\n\n")
        return frames


class _Drop(Response):
    """Send the given SSE frames (if any, else no response at all), then cut the connection."""

    def __init__(self, frames: list[bytes] | None, delay: float) -> None:
        super().__init__()
        self.frames = frames
        self.delay = delay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = scope.get(_TRANSPORT)
        if transport is None:
            raise RuntimeError("DropMidStream needs uvicorn's transport")
        if self.frames is not None:
            headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            for frame in self.frames:
                if self.delay:
                    await asyncio.sleep(self.delay)
                await send({"type": "http.response.body", "body": frame, "more_body": True})
        transport.close()  # flushes what was sent, then closes: no terminating chunk, no [DONE]
        # Return only once uvicorn has seen the disconnect, so it neither logs nor sends a 500.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                while (await receive())["type"] != "http.disconnect":
                    pass


def _error(
    code: int,
    message: str,
    *,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    if code == 429:
        kind, err_code = "requests", "rate_limit_exceeded"
    elif code >= 500:
        kind, err_code = "server_error", None
    else:
        kind, err_code = "invalid_request_error", None
    error = {"message": message, "type": kind, "param": param, "code": err_code}
    return JSONResponse({"error": error}, status_code=code, headers=headers)


def _usage(body: Body, text: str) -> Body:
    prompt = _prompt_chars(body) // 4
    completion = len(text) // 4
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _prompt_chars(body: Body) -> int:
    total = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            total += sum(
                len(part["text"])
                for part in content
                if isinstance(part, dict) and isinstance(part.get("text"), str)
            )
    return total


def _split(text: str, words: int) -> list[str]:
    """Pieces of `words` words each (whitespace kept), concatenating back to `text`."""
    pieces = _WORD.findall(text) or ([text] if text else [])
    step = max(1, words)
    return ["".join(pieces[i : i + step]) for i in range(0, len(pieces), step)]


def _sse(payload: Body) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"
