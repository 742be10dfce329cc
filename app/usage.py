"""What the model endpoint was asked, and what it cost: the recorded model calls summed by
purpose and model, for whoever pays the provider's bill or sizes a local server."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import case
from sqlmodel import Session, col, func, select

from app.models import LLMCall


class UsageRow(BaseModel):
    purpose: str  # actor or grader
    model: str
    calls: int
    errors: int
    tokens_in: int  # over the calls whose tokens the endpoint reported
    tokens_out: int
    uncounted: int  # calls without token counts (a failure, or a server that gives none)
    mean_latency_ms: int


def usage(db: Session, *, since: datetime | None = None) -> list[UsageRow]:
    """One row per (purpose, model), for calls made since `since` (UTC) or ever."""
    query = (
        select(
            LLMCall.purpose,
            LLMCall.model,
            func.count(),
            func.sum(case((col(LLMCall.outcome) == "error", 1), else_=0)),
            func.coalesce(func.sum(LLMCall.tokens_in), 0),
            func.coalesce(func.sum(LLMCall.tokens_out), 0),
            func.sum(case((col(LLMCall.tokens_in).is_(None), 1), else_=0)),
            func.avg(LLMCall.latency_ms),
        )
        .group_by(col(LLMCall.purpose), col(LLMCall.model))
        .order_by(col(LLMCall.purpose), col(LLMCall.model))
    )
    if since is not None:
        query = query.where(col(LLMCall.created_at) >= since)
    return [
        UsageRow(
            purpose=purpose,
            model=model,
            calls=calls,
            errors=errors,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            uncounted=uncounted,
            mean_latency_ms=round(latency or 0),
        )
        for purpose, model, calls, errors, tokens_in, tokens_out, uncounted, latency in db.exec(
            query
        )
    ]
