"""The one door to OpenAI-compatible endpoints: prompts, calls, retries, and their records.

Every call is recorded (purpose, model, prompt version, tokens, latency, outcome) in the
`calls` list the caller hands in; the service stores those records. Retries with backoff
on 429, 5xx and connection errors are the openai SDK's own.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import openai
from jinja2 import Environment, FileSystemLoader, StrictUndefined

Purpose = Literal["actor", "grader"]
StructuredMode = Literal["json_schema", "json_object", "text"]
PLACEHOLDER_KEY = "not-needed"  # local servers (Ollama, llama.cpp, vLLM) accept any key
FILTERED = (  # Azure and OpenAI stop a reply their content filter objects to with this
    "the model endpoint's content filter cut the stream before the reply was finished "
    "(finish_reason: content_filter)"
)
TRUNCATED = (
    "the model endpoint ended the stream before the reply was finished "
    "(no finish_reason, no [DONE])"
)
OPTIONAL_FIELDS = ("temperature", "stream_options")  # a call works without them
T = TypeVar("T")


class LLMError(Exception):
    """The endpoint failed after the SDK's retries; `partial` holds any text already streamed."""

    def __init__(self, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


@dataclass
class CallRecord:
    purpose: Purpose
    model: str
    prompt_version: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: int = 0
    outcome: Literal["ok", "error"] = "ok"
    error: str | None = None


@lru_cache(maxsize=4)
def _environment(prompts_dir: Path) -> Environment:
    # Templates are read once per process, like the catalogue: a restart picks up edits.
    return Environment(
        loader=FileSystemLoader(prompts_dir),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )


@lru_cache(maxsize=16)
def _version(prompts_dir: Path, name: str) -> str:
    source = (prompts_dir / name).read_bytes()
    return f"{name.removesuffix('.j2')}@{hashlib.sha256(source).hexdigest()[:12]}"


@dataclass(frozen=True)
class Prompt:
    """A rendered template and the version of its source (the hash of the template file)."""

    text: str
    version: str


def render(prompts_dir: Path, name: str, **context: Any) -> Prompt:
    text = _environment(prompts_dir).get_template(name).render(**context).strip()
    return Prompt(text, _version(prompts_dir, name))


def describe(exc: Exception) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"the model endpoint answered {exc.status_code}: {exc.message}"
    if isinstance(exc, openai.APITimeoutError):
        return "the model endpoint did not answer in time"
    if isinstance(exc, openai.APIConnectionError):
        return "the model endpoint could not be reached or dropped the connection"
    return f"the model endpoint failed: {exc}"


class PooledStream(openai.Stream[object]):
    """The SDK's stream stops reading at `[DONE]` and closes the response with the end of
    the chunked body unread, so httpx drops the connection instead of pooling it: every
    turn paid a new TCP (and TLS) handshake with the model (openai-python issue 3440).
    Reading the body to its end first, nothing but its terminator, keeps the connection.

    `done` tells whether `[DONE]` came: the SDK ends its iteration the same way at `[DONE]`
    and at a body that simply stops."""

    done = False

    def _iter_events(self) -> Iterator[Any]:
        events = super()._iter_events()
        for event in events:
            if event.data.startswith("[DONE]"):
                self.done = True
                for _ in events:
                    pass
            yield event


THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


class ThinkingFilter:
    """Drops a reply's leading <think>…</think> block as it streams. Local reasoning models
    (Qwen 3 or DeepSeek R1 on Ollama or llama.cpp) write their deliberation into the content,
    where the trainee would read it, hidden state and all. Tags split across chunks are held
    back until they can be told apart from text."""

    def __init__(self) -> None:
        self.buffer = ""
        self.state: Literal["start", "inside", "after", "text"] = "start"

    def feed(self, text: str) -> str:
        if self.state == "text":
            return text
        self.buffer += text
        if self.state == "start":
            head = self.buffer.lstrip()
            if head.startswith(THINK_OPEN):
                self.state, self.buffer = "inside", head[len(THINK_OPEN) :]
            elif THINK_OPEN.startswith(head):
                return ""  # it may still become the tag
            else:
                self.state = "text"
                return self._take()
        if self.state == "inside":
            end = self.buffer.find(THINK_CLOSE)
            if end < 0:
                self.buffer = self.buffer[-len(THINK_CLOSE) :]  # a tag's start, at most
                return ""
            self.state, self.buffer = "after", self.buffer[end + len(THINK_CLOSE) :]
        self.buffer = self.buffer.lstrip()  # "after": the reply starts at its first letter
        if self.buffer:
            self.state = "text"
        return self._take()

    def close(self) -> str:
        """What is held back when the reply ends: text that only looked like a tag's start."""
        return self._take() if self.state == "start" else ""

    def _take(self) -> str:
        taken, self.buffer = self.buffer, ""
        return taken


class LLMClient:
    """A thin wrapper over `openai.OpenAI` that records each call."""

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        timeout: float,
        max_retries: int,
        keepalive: float = 5.0,
    ) -> None:
        # `keepalive`: how long an idle connection waits for the next call. A trainee takes
        # longer than httpx's 5 s to write the next message; past it, the reply the trainee
        # waits for starts with a new TCP and TLS handshake.
        limits = openai.DEFAULT_CONNECTION_LIMITS
        pool = type(limits)(
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=keepalive,
        )
        self.client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or PLACEHOLDER_KEY,
            timeout=timeout,
            max_retries=max_retries,
            http_client=openai.DefaultHttpxClient(limits=pool, timeout=timeout),
        )
        # Learned per endpoint: servers without JSON-schema output answer 400 once, then
        # the grader goes straight to what works. The same for the optional fields a model
        # refuses, (model, field) pairs: see `_refusing`.
        self.structured: StructuredMode = "json_schema"
        self.refused: set[tuple[str, str]] = set()

    def stream(
        self,
        *,
        purpose: Purpose,
        model: str,
        messages: list[dict[str, str]],
        version: str,
        calls: list[CallRecord],
        temperature: float,
    ) -> Iterator[str]:
        """Yield the reply's text deltas; raise LLMError (with the partial text) on failure.

        A reply is over at a chunk with a finish_reason (OpenAI, vLLM, Ollama and llama.cpp
        send one last; "length", max_tokens reached, is the model's reply too) or at `[DONE]`
        (some proxies send no finish_reason). A body that ends cleanly with neither is a
        stream cut short, by a proxy or the upstream, the same failure as a dropped one; so
        is a reply the endpoint's content filter stopped (`content_filter`)."""
        record = CallRecord(purpose, model, version)
        started = time.perf_counter()
        parts: list[str] = []
        finished: str | None = None
        try:
            stream = self._refusing(
                self._open,
                model=model,
                messages=messages,
                temperature=temperature,
                stream_options={"include_usage": True},
            )
            thinking = ThinkingFilter()
            for chunk in stream:
                delta, finish, usage = _read_chunk(chunk)
                finished = finish or finished
                if usage is not None:
                    record.tokens_in, record.tokens_out = usage
                if delta and (text := thinking.feed(delta)):
                    parts.append(text)
                    yield text
            if finished == "content_filter" or not (finished or stream.done):
                cut = FILTERED if finished else TRUNCATED
                record.outcome, record.error = "error", cut
                raise LLMError(cut, "".join(parts))
            if tail := thinking.close():
                yield tail
        except (openai.APIError, ValueError) as exc:
            record.outcome, record.error = "error", describe(exc)
            raise LLMError(record.error, "".join(parts)) from exc
        finally:
            record.latency_ms = round((time.perf_counter() - started) * 1000)
            calls.append(record)

    def _refusing(self, send: Callable[..., T], *, model: str, **fields: Any) -> T:
        """`send(model=…, **fields)`, without the optional fields the model refused before;
        a 400 naming one of them drops it and asks again. Reasoning models take no
        `temperature`; older Azure deployments and strict validators refuse `stream_options`
        (a streamed reply's token counts, which then go unrecorded)."""
        while True:
            sent = {k: v for k, v in fields.items() if (model, k) not in self.refused}
            try:
                return send(model=model, **sent)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                named = [k for k in OPTIONAL_FIELDS if k in sent and k in str(exc)]
                if not named:
                    raise
                self.refused.add((model, named[0]))

    def _open(self, **body: Any) -> PooledStream:
        """The SDK's generic POST (its retries, timeouts and errors) with plain dicts both
        ways: `chat.completions.create` walks the whole history through its typed request
        transform and builds a model per chunk, which cost more CPU than the rest of a turn.
        Only three fields of a chunk are read (`_read_chunk`)."""
        return self.client.post(
            "/chat/completions",
            body={**body, "stream": True},
            cast_to=object,
            stream=True,
            stream_cls=PooledStream,
        )

    def complete(
        self,
        *,
        purpose: Purpose,
        model: str,
        messages: list[dict[str, str]],
        version: str,
        calls: list[CallRecord],
        temperature: float = 0.0,
        response_format: dict[str, Any] | None = None,
    ) -> str:
        record = CallRecord(purpose, model, version)
        started = time.perf_counter()
        try:
            options: dict[str, Any] = (
                {"response_format": response_format} if response_format else {}
            )
            response = self._refusing(
                self.client.chat.completions.create,
                model=model,
                messages=messages,
                temperature=temperature,
                **options,
            )
            if response.usage is not None:
                record.tokens_in = response.usage.prompt_tokens
                record.tokens_out = response.usage.completion_tokens
            if not response.choices:
                raise LLMError("the model endpoint answered with no choices")
            thinking = ThinkingFilter()  # the same rule as a streamed reply's, whole
            return thinking.feed(response.choices[0].message.content or "") + thinking.close()
        except openai.APIError as exc:
            record.outcome, record.error = "error", describe(exc)
            raise
        except LLMError as exc:
            record.outcome, record.error = "error", str(exc)
            raise
        finally:
            record.latency_ms = round((time.perf_counter() - started) * 1000)
            calls.append(record)


def _read_chunk(
    chunk: Any,
) -> tuple[str | None, str | None, tuple[int | None, int | None] | None]:
    """The text delta, the finish_reason, and the (prompt, completion) token counts of one
    streamed chunk. An empty finish_reason is none: older Ollama and SGLang send "" on every
    chunk."""
    try:
        usage = chunk.get("usage")
        tokens = (usage.get("prompt_tokens"), usage.get("completion_tokens")) if usage else None
        choices = chunk.get("choices")  # usage-only chunks carry none
        choice = choices[0] if choices else {}
        delta = (choice.get("delta") or {}).get("content")
        finish = choice.get("finish_reason")
    except (AttributeError, IndexError, KeyError, TypeError) as exc:
        raise ValueError(f"the model endpoint streamed a malformed chunk: {chunk!r:.200}") from exc
    finished = finish if isinstance(finish, str) and finish else None
    return (delta if isinstance(delta, str) else None), finished, tokens


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def extract_json(text: str) -> Any:
    """Parse JSON from a reply that may wrap it in prose or code fences, repairing small slips."""
    candidates = [text.strip()]
    candidates += [m.strip() for m in _FENCE.findall(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
            try:
                return json.loads(attempt)
            except json.JSONDecodeError:
                continue
    raise ValueError("no JSON object found in the reply")
