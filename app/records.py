"""What the session and grade services share: the persona, engine and session a request
names, each with the 4xx that says what is wrong, a session's messages, and the model calls
to store."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app import auth
from app.catalog import Catalog, Persona
from app.engine.llm import CallRecord
from app.engines import ENGINE_NAMES, Engine, Engines
from app.errors import Forbidden, Invalid, NotFound
from app.models import (
    LLMCall,
    Message,
    PracticeSession,
    User,
)


def persona_or_404(catalog: Catalog, persona_id: str) -> Persona:
    persona = catalog.personas.get(persona_id)
    if persona is None:
        known = ", ".join(sorted(catalog.personas))
        raise NotFound(
            f"unknown persona '{persona_id}'; known personas: {known}", code="no_persona"
        )
    return persona


LLM_SETUP = "set SPARRING_LLM_BASE_URL (and SPARRING_LLM_API_KEY if the server needs one)"


def missing_engine(name: str) -> str:
    """How to name an engine this server lacks, and what would bring it."""
    if name in ENGINE_NAMES:
        return f"the '{name}' engine, which is not configured on this server ({LLM_SETUP})"
    known = ", ".join(ENGINE_NAMES)
    return f"the '{name}' engine, which this server does not have (known: {known})"


def engine_or_422(engines: Engines, name: str | None) -> tuple[str, Engine]:
    """The engine a request body asks for (`engine`), or the default."""
    name = name or engines.default
    engine = engines.get(name)
    if engine is None:
        raise Invalid(
            f"the '{name}' engine is not configured here: {LLM_SETUP}, or use engine 'offline'",
            ("body", "engine"),
        )
    return name, engine


def load_session(
    db: Session, session_id: str, user: User, *, play: bool = False
) -> PracticeSession:
    """The session if `user` may see it (404 otherwise, so ids can't be probed); `play`
    also requires being its trainee."""
    record = db.get(PracticeSession, session_id)
    if record is None or not auth.can_see(db=db, user=user, record=record):
        raise NotFound(f"no session with id '{session_id}'", code="no_session")
    if play and record.user_id != user.id:
        raise Forbidden(
            "only the trainee who started this session can play or end it",
            code="not_your_session",
        )
    return record


def messages_of(db: Session, session_id: str) -> list[Message]:
    query = select(Message).where(Message.session_id == session_id).order_by(col(Message.seq))
    return list(db.exec(query))


def store_calls(db: Session, session_id: str | None, calls: list[CallRecord]) -> None:
    db.add_all(
        LLMCall(
            session_id=session_id,
            purpose=c.purpose,
            model=c.model,
            prompt_version=c.prompt_version,
            tokens_in=c.tokens_in,
            tokens_out=c.tokens_out,
            latency_ms=c.latency_ms,
            outcome=c.outcome,
            error=c.error,
        )
        for c in calls
    )
