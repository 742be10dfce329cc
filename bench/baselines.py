"""The baselines: bare FastAPI endpoints on the same stack as the app (uvicorn, sync routes in
the thread pool, the openai SDK, fastapi.sse), doing only what a turn cannot do without.

    BENCH_UPSTREAM=<stub base URL> BENCH_PROMPTS=<file from write_prompts> \
        uvicorn bench.baselines:create_app --factory

- POST /start, /turn: the same streamed chat-completions call the app's actor makes (the
  actor's real system prompt; the trainee's text as the user message), joined and returned.
- POST /turn/stream: the same call, each upstream delta forwarded as an SSE `delta` event.
- POST /end: the grader's call (the real grader prompt, a JSON-schema answer), returned.
- POST /constant: a constant, for the offline engine's floor.
- POST /durable: the least a turn stores, the offline engine's second floor: the Bearer
  token looked up (SQLModel on SQLite, the app's pragmas), the text written as one row and
  committed, a constant returned. /durable/start, /durable/turn, /durable/end: the same
  around the model calls above, the `llm` engine's second floor; a turn commits the
  trainee's text before the call (so an upstream failure loses nothing) and the reply after.
  BENCH_STORE is their SQLite file, BENCH_TRAINEES the number of tokens (`trainee_token(i)`).

Apart from /durable: no authentication, database, director or validation, the floor for
this stack.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import openai
from fastapi import FastAPI, Header, HTTPException
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import BaseModel
from sqlalchemy import Engine, event
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, create_engine, select

PERSONA = "impossible-idea"
CONSTANT = {"reply": "Fine.", "status": "active"}


class Say(BaseModel):
    content: str = ""


class Stored(SQLModel, registry=registry()):
    """The durable floor's tables, in their own registry: never in the app's metadata."""


class Token(Stored, table=True):
    __tablename__ = "tokens"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int


class Note(Stored, table=True):
    __tablename__ = "notes"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True)
    content: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


BearerHeader = Annotated[str, Header(alias="authorization")]


def trainee_token(number: int) -> str:
    return f"bench-trainee-{number}"


def bearer(number: int) -> dict[str, str]:
    """The headers trainee `number` sends to the /durable routes."""
    return {"Authorization": f"Bearer {trainee_token(number)}"}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _store(path: str, trainees: int) -> Engine:
    """The durable floor's SQLite file, with the pragmas the app sets, and its tokens."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    Stored.metadata.create_all(engine)
    with Session(engine) as db:
        if db.exec(select(Token)).first() is None:
            db.add_all(
                Token(token_hash=_digest(trainee_token(i)), user_id=i) for i in range(trainees)
            )
            db.commit()
    return engine


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
    from app.engine.llm import PooledStream

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
            stream_cls=PooledStream,  # which keeps the connection, as the app's does
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

    if store_path := os.environ.get("BENCH_STORE"):
        store = _store(store_path, int(os.environ.get("BENCH_TRAINEES", "1")))

        def trainee(authorization: str) -> int:
            with Session(store) as db:
                token = db.get(Token, _digest(authorization.removeprefix("Bearer ")))
                if token is None:
                    raise HTTPException(401, "unknown token")
                return token.user_id

        def keep(user_id: int, text: str) -> None:
            with Session(store) as db:
                db.add(Note(user_id=user_id, content=text))
                db.commit()

        @app.post("/durable")
        def durable(body: Say, authorization: BearerHeader = "") -> dict[str, Any]:
            keep(trainee(authorization), body.content)
            return CONSTANT

        @app.post("/durable/start")
        def durable_start(body: Say, authorization: BearerHeader = "") -> dict[str, Any]:
            user_id = trainee(authorization)
            answer = start(body)
            keep(user_id, answer["messages"][0])
            return answer

        @app.post("/durable/turn")
        def durable_turn(body: Say, authorization: BearerHeader = "") -> dict[str, Any]:
            user_id = trainee(authorization)
            keep(user_id, body.content)  # stored before the model is called, as the app does
            answer = turn(body)
            keep(user_id, answer["reply"])
            return answer

        @app.post("/durable/end")
        def durable_end(body: Say, authorization: BearerHeader = "") -> dict[str, Any]:
            user_id = trainee(authorization)
            grade = end(body)
            keep(user_id, json.dumps(grade))
            return grade

    return app
