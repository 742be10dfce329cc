"""`sparring purge`: old sessions go with everything that hangs on them, recent ones stay, and
nothing is deleted without --yes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select, update
from typer.testing import CliRunner

from app.cli import cli
from app.models import CriterionResult, Grade, LLMCall, Message, PracticeSession, Review

TURNS = [
    "Nice to meet you. Tell me about you: what do you expect?",
    "Happy to go deeper: my hourly rate is 80 euro. Shall I send a proposal?",
]


def drill(client: TestClient) -> str:
    body = {"persona_id": "free-advice-seeker", "language": "en", "turns": TURNS}
    answer = client.post("/api/drills", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["session"]["id"]


def rows(db: Session, model: type, session_id: str) -> int:
    query = select(func.count()).select_from(model).where(col(model.session_id) == session_id)
    return db.exec(query).one()


def test_purge_deletes_old_sessions_with_what_hangs_on_them(
    login_as: Callable[..., TestClient], use_database: Callable[[str], None]
) -> None:
    ada, bea = login_as("ada", "trainee", ["blue"]), login_as("bea", "trainee", ["blue"])
    coach = login_as("carla", "coach", ["blue"])
    old, recent, other = drill(ada), drill(ada), drill(bea)
    comment = {"message_comments": {"2": "Good start."}}
    assert coach.post(f"/api/sessions/{old}/reviews", json=comment).status_code == 200
    engine = ada.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as db:
        last_year = datetime(2025, 6, 1, tzinfo=UTC)
        query = update(PracticeSession).where(col(PracticeSession.id).in_([old, other]))
        db.exec(query.values(updated_at=last_year))
        db.add(LLMCall(session_id=old, purpose="actor", model="m", prompt_version="v",
                       latency_ms=5, outcome="ok"))  # fmt: skip
        db.commit()
        messages = rows(db, Message, old) + rows(db, Message, other)
    use_database(str(engine.url))
    runner = CliRunner()

    dry = runner.invoke(cli, ["purge", "--before", "2026-01-01"])
    assert dry.exit_code == 0, dry.output
    counted = f"({messages} messages, 2 grades, 1 coach reviews); add --yes to delete them"
    assert dry.stdout.strip() == f"would delete 2 sessions last active before 2026-01-01 {counted}"
    assert ada.get(f"/api/sessions/{old}").status_code == 200  # nothing deleted yet

    mine = runner.invoke(cli, ["purge", "--before", "2026-01-01", "--trainee", "ada", "--yes"])
    assert mine.exit_code == 0 and mine.stdout.startswith("deleted 1 sessions"), mine.output
    assert ada.get(f"/api/sessions/{old}").status_code == 404
    assert ada.get(f"/api/sessions/{recent}").status_code == 200
    assert bea.get(f"/api/sessions/{other}").status_code == 200  # another trainee's: kept
    with Session(engine) as db:
        assert [rows(db, model, old) for model in (Message, Grade, Review)] == [0, 0, 0]
        orphans = db.exec(select(func.count()).select_from(CriterionResult).where(
            col(CriterionResult.grade_id).not_in(select(Grade.id))
        )).one()  # fmt: skip
        assert orphans == 0
        kept = db.exec(select(LLMCall).where(LLMCall.model == "m")).one()
        assert kept.session_id is None  # the cost figures keep the call

    bad = runner.invoke(cli, ["purge", "--before", "last year"])
    assert bad.exit_code == 2 and "--before must be a date like 2026-01-31" in bad.stderr
    typo = runner.invoke(cli, ["purge", "--before", "2026-01-01", "--trainee", "adaa"])
    assert typo.exit_code == 1 and "no user named 'adaa' here" in typo.stderr
