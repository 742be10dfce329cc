"""The OpenAI-compatible stub server, driven through the real `openai` SDK over loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from llm_stub import DropMidStream, Hang, Reply, Status, StubLLM

MESSAGES: list[Any] = [
    {"role": "system", "content": "You are a difficult client."},
    {"role": "user", "content": "Hello, I would like to discuss the contract renewal."},
]
PROMPT_TOKENS = sum(len(m["content"]) for m in MESSAGES) // 4
TEXT = "I am not at all convinced that this renewal is worth the money."


@pytest.fixture(scope="module")
def server() -> Iterator[StubLLM]:
    with StubLLM() as stub:
        yield stub


@pytest.fixture
def stub(server: StubLLM) -> StubLLM:
    server.reset()
    return server


def client(stub: StubLLM, **kwargs: Any) -> openai.OpenAI:
    kwargs.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=stub.base_url, api_key="placeholder", **kwargs)


def test_plain_completion_with_usage(stub: StubLLM) -> None:
    stub.script(Reply(TEXT))
    completion = client(stub).chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == TEXT
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "m"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == PROMPT_TOKENS
    assert completion.usage.completion_tokens == len(TEXT) // 4
    assert completion.usage.total_tokens == PROMPT_TOKENS + len(TEXT) // 4
    assert stub.requests == [{"model": "m", "messages": MESSAGES}]
    # Empty script: the default responder answers.
    again = client(stub).chat.completions.create(model="m", messages=MESSAGES)
    assert again.choices[0].message.content == "Sure."
    assert len(stub.requests) == 2


def test_models_listing(stub: StubLLM) -> None:
    assert [m.id for m in client(stub).models.list()] == ["stub-model"]


def test_streaming_deltas_and_usage(stub: StubLLM) -> None:
    stub.script(Reply(TEXT))
    stream = client(stub).chat.completions.create(
        model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    content = [c.choices[0].delta.content for c in chunks if c.choices]
    assert sum(1 for piece in content if piece) > 2  # really split
    assert "".join(piece or "" for piece in content) == TEXT
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == PROMPT_TOKENS
    assert chunks[-1].usage.completion_tokens == len(TEXT) // 4


def test_streaming_without_usage_and_raw_sse(stub: StubLLM) -> None:
    stub.script(Reply("one two three four"))
    body = {"model": "m", "messages": MESSAGES, "stream": True}
    response = httpx.post(f"{stub.base_url}/chat/completions", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line for line in response.text.split("\n\n") if line]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    assert '"usage"' not in response.text


def test_rate_limit_then_sdk_retry_recovers(stub: StubLLM) -> None:
    stub.script(Status(429, "slow down", retry_after=0.01))
    with pytest.raises(openai.RateLimitError) as caught:
        client(stub).chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.response.headers["retry-after"] == "0.01"
    assert "slow down" in str(caught.value)

    stub.reset()
    stub.script(Status(429, retry_after=0.01), Reply("ok"))
    completion = client(stub, max_retries=2).chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "ok"
    assert len(stub.requests) == 2
    assert stub.consumed == [Status(429, retry_after=0.01), Reply("ok")]
    assert stub.pending == 0


def test_server_error(stub: StubLLM) -> None:
    stub.script(Status(500, "boom"), Status(503))
    with pytest.raises(openai.InternalServerError) as caught:
        client(stub).chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.status_code == 500
    with pytest.raises(openai.InternalServerError) as caught:
        client(stub).chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.status_code == 503


def test_hang_triggers_client_timeout(stub: StubLLM) -> None:
    stub.script(Hang(5))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client(stub, timeout=0.5).chat.completions.create(model="m", messages=MESSAGES)
    assert time.monotonic() - started < 2
    # A short hang is just a slow answer.
    stub.script(Hang(0.05))
    completion = client(stub).chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "Sure."


def test_drop_mid_stream(stub: StubLLM) -> None:
    stub.script(DropMidStream(after_chunks=2, text=TEXT))
    stream = client(stub).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    received: list[str] = []
    with pytest.raises((openai.APIError, httpx.HTTPError)):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    text = "".join(received)
    assert text and TEXT.startswith(text) and text != TEXT
    assert sum(1 for piece in received if piece) == 2


def test_drop_without_stream_sends_no_response(stub: StubLLM) -> None:
    stub.script(DropMidStream())
    with pytest.raises(openai.APIConnectionError):
        client(stub).chat.completions.create(model="m", messages=MESSAGES)
    # The server is still healthy afterwards.
    assert client(stub).chat.completions.create(model="m", messages=MESSAGES).choices


def test_response_format_support(stub: StubLLM) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    stub.supports_json_schema = False
    stub.script(Reply('{"ok": true}'))
    with pytest.raises(openai.BadRequestError) as caught:
        client(stub).chat.completions.create(model="m", messages=MESSAGES, response_format=schema)
    assert caught.value.body == {
        "message": "response_format json_schema is not supported",
        "type": "invalid_request_error",
        "param": "response_format",
        "code": None,
    }
    assert stub.pending == 1  # a rejected request consumes no behaviour
    # JSON mode still works and gets the scripted reply.
    completion = client(stub).chat.completions.create(
        model="m", messages=MESSAGES, response_format={"type": "json_object"}
    )
    assert completion.choices[0].message.content == '{"ok": true}'
    stub.supports_json_mode = False
    with pytest.raises(openai.BadRequestError, match="json_object is not supported"):
        client(stub).chat.completions.create(
            model="m", messages=MESSAGES, response_format={"type": "json_object"}
        )
    assert len(stub.requests) == 3


def test_responder_sees_body() -> None:
    seen: list[dict[str, Any]] = []

    def responder(body: dict[str, Any]) -> str:
        seen.append(body)
        return f"echo: {body['messages'][-1]['content']}"

    with StubLLM(responder) as stub:
        completion = client(stub).chat.completions.create(
            model="m", messages=MESSAGES, temperature=0.3
        )
    assert completion.choices[0].message.content == f"echo: {MESSAGES[-1]['content']}"
    assert seen == stub.requests
    assert seen[0]["temperature"] == 0.3


def test_chunk_delay_makes_streaming_observable(stub: StubLLM) -> None:
    stub.chunk_delay = 0.02
    stub.script(Reply(TEXT))
    stream = client(stub).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    stamps = [time.monotonic() for _ in stream]
    assert len(stamps) > 4
    assert stamps[-1] - stamps[0] >= 0.02 * (len(stamps) - 2)


async def test_async_client_streaming(stub: StubLLM) -> None:
    stub.script(Reply(TEXT))
    async_client = openai.AsyncOpenAI(base_url=stub.base_url, api_key="placeholder", max_retries=0)
    async with async_client:
        stream = await async_client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True
        )
        pieces = [chunk.choices[0].delta.content or "" async for chunk in stream]
    assert "".join(pieces) == TEXT
    assert len(stub.requests) == 1
