"""The baselines: bare FastAPI endpoints on the same stack as the app (uvicorn, sync routes in
the thread pool, the openai SDK, fastapi.sse), doing only what a turn cannot do without.

    BENCH_UPSTREAM=<stub base URL> BENCH_PROMPTS=<file from write_prompts> \
        uvicorn bench.baselines:create_app --factory

- POST /start, /turn: the same streamed chat-completions call the app's actor makes (the
  actor's real system prompt; the trainee's text as the user message), joined and returned.
- POST /turn/stream: the same call, each upstream delta forwarded as an SSE `delta` event.
- POST /end: the grader's call (the real grader prompt, a JSON-schema answer), returned.
- POST /constant: a constant, for the offline engine's floor.

No authentication, database, director or validation: the floor for this stack.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import BaseModel

PERSONA = "impossible-idea"
CONSTANT = {"reply": "Fine.", "status": "active"}


class Say(BaseModel):
    content: str = ""


def write_prompts(path: Path) -> Path:
    """Render the actor's system prompt, the grader's system prompt and a transcript block
    from the app's own templates (so the upstream calls match the app's in size) into `path`;
    the server reads them from there and so never imports the app."""
    from app.catalog import load_catalog
    from app.config import Settings
    from app.engine.actors import LLMActor
    from app.engine.director import opening
    from app.engine.grader import TranscriptMessage
    from app.engine.llm import LLMClient, render
    from app.engine.llm_grader import LANGUAGE_NAMES, transcript_block

    settings = Settings()
    catalog = load_catalog(settings.personas_dir, settings.prompts_dir)
    persona = catalog.personas[PERSONA]
    state, directive = opening(persona, "medium")
    client = LLMClient(base_url="http://127.0.0.1:9/v1", api_key=None, timeout=1, max_retries=0)
    actor = LLMActor(
        client,
        model=settings.actor_model,
        temperature=settings.actor_temperature,
        prompts_dir=settings.prompts_dir,
        texts=catalog.texts["llm"],
    )
    actor_prompt = actor.prompt(persona, "en", state, directive).text
    techniques = [catalog.techniques[t] for t in persona.techniques]
    grader_prompt = render(
        settings.prompts_dir,
        "grader.j2",
        persona=persona,
        techniques=techniques,
        language_name=LANGUAGE_NAMES["en"],
    ).text
    lines = [("client", "I want it by Monday."), ("trainee", "What matters most to you?")] * 6
    transcript = transcript_block(
        [TranscriptMessage(seq=i, role=r, content=c) for i, (r, c) in enumerate(lines, 1)]  # type: ignore[arg-type]
    )
    prompts = {
        "actor": actor_prompt,
        "grader": grader_prompt,
        "transcript": transcript,
        # the app's defaults for the calls and the client
        "actor_model": settings.actor_model,
        "grader_model": settings.grader_model,
        "temperature": settings.actor_temperature,
        "timeout": settings.llm_timeout,
        "max_retries": settings.llm_max_retries,
    }
    path.write_text(json.dumps(prompts), encoding="utf-8")
    return path


def create_app() -> FastAPI:
    """The baseline server: BENCH_UPSTREAM is the stub's base URL, BENCH_PROMPTS the file
    write_prompts made. The upstream client has the app's default timeout and retries."""
    given = json.loads(Path(os.environ["BENCH_PROMPTS"]).read_text(encoding="utf-8"))
    upstream = openai.OpenAI(
        base_url=os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9/v1"),
        api_key="not-needed",
        timeout=given["timeout"],
        max_retries=given["max_retries"],
    )
    actor_prompt, grader_prompt, transcript = given["actor"], given["grader"], given["transcript"]
    app = FastAPI(title="bench baselines")

    def stream(content: str) -> Iterator[str]:
        # the call exactly as the app's LLMClient.stream makes it: the SDK's generic POST
        # with plain dicts (see app/engine/llm.py for why)
        chunks = upstream.post(
            "/chat/completions",
            body={
                "model": given["actor_model"],
                "messages": [
                    {"role": "system", "content": actor_prompt},
                    {"role": "user", "content": content},
                ],
                "temperature": given["temperature"],
                "stream": True,
                "stream_options": {"include_usage": True},
            },
            cast_to=object,
            stream=True,
            stream_cls=openai.Stream[object],
        )
        for chunk in chunks:
            choices = chunk.get("choices")  # type: ignore[attr-defined]
            if choices and (delta := choices[0].get("delta", {}).get("content")):
                yield delta

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/start")
    def start(body: Say) -> dict[str, Any]:
        return {"messages": ["".join(stream("(The conversation begins.)"))]}

    @app.post("/turn")
    def turn(body: Say) -> dict[str, Any]:
        return {"reply": "".join(stream(body.content))}

    @app.post("/turn/stream")
    def turn_stream(body: Say) -> EventSourceResponse:
        def events() -> Iterator[bytes]:
            parts = []
            for delta in stream(body.content):
                parts.append(delta)
                yield format_sse_event(event="delta", data_str=json.dumps({"text": delta}))
            message = json.dumps({"content": "".join(parts)})
            yield format_sse_event(event="message", data_str=message)

        return EventSourceResponse(events())

    @app.post("/end")
    def end(body: Say) -> dict[str, Any]:
        response = upstream.chat.completions.create(
            model=given["grader_model"],
            messages=[
                {"role": "system", "content": grader_prompt},
                {"role": "user", "content": transcript},
            ],
            temperature=0.0,
            response_format={"type": "json_schema", "json_schema": {"name": "grade", "schema": {}}},
        )
        return json.loads(response.choices[0].message.content or "{}")

    @app.post("/constant")
    def constant(body: Say) -> dict[str, Any]:
        return CONSTANT

    return app
