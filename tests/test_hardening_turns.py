"""What the API does with requests that race each other or carry odd input: a clear 4xx and
an intact transcript, never a 500. On SQLite and PostgreSQL."""

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, inspect, text
from sqlmodel import Session, col, select

from app import auth, grades
from app import sessions as service
from app.db import MIGRATIONS, get_engine, migrate
from app.models import Grade, PracticeSession, Team, TeamMember, User

PERSONA = "yes-then-sells"
JSON = {"content-type": "application/json"}


def start(client: TestClient) -> str:
    body = {"persona_id": PERSONA, "language": "en", "difficulty": "medium", "seed": 7}
    response = client.post("/api/sessions", json=body)
    assert response.status_code == 201, response.text
    return response.json()["session"]["id"]


def at_once(count: int, call: Callable[[int], Any]) -> list[Any]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def test_parallel_messages_to_one_session_get_409_not_500(client: TestClient) -> None:
    sid = start(client)
    answers = at_once(
        10,
        lambda i: client.post(
            f"/api/sessions/{sid}/messages", json={"content": f"What worries you most, {i}?"}
        ),
    )
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {200, 409}, [a.text for a in answers if a.status_code >= 500]
    assert 200 in statuses
    refused = [a.json()["detail"] for a in answers if a.status_code == 409]
    assert all("wait for" in detail for detail in refused)
    messages = client.get(f"/api/sessions/{sid}").json()["messages"]
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    trainee = [m["content"] for m in messages if m["role"] == "trainee"]
    accepted = [a.json()["trainee_message"]["content"] for a in answers if a.status_code == 200]
    assert sorted(trainee) == sorted(accepted)
    assert all(m["status"] == "complete" for m in messages)


def test_the_same_message_answered_twice_at_once_stores_one_reply(client: TestClient) -> None:
    """Two requests retrying one unanswered message both reach the actor; the second one to
    store its reply gets a Conflict (an SSE `error` event), and the transcript has one reply."""
    sid = start(client)
    app = client.app
    engine, catalog, engines = app.state.engine, app.state.catalog, app.state.engines  # type: ignore[attr-defined]
    limits = service.Limits(max_message_chars=4000, max_turns_per_session=50, sessions_per_hour=9)
    text = "What would a good outcome look like for you?"
    with (
        Session(engine, expire_on_commit=False) as first,  # as the API opens them
        Session(engine, expire_on_commit=False) as second,
    ):
        user = first.exec(select(User).where(User.username == "ada")).one()
        common = {"catalog": catalog, "user": user, "session_id": sid, "limits": limits}
        turn = service.accept(db=first, content=text, **common)
        retry = service.accept(db=second, content=text, **common)
        assert retry.trainee.seq == turn.trainee.seq  # the same stored message, not a new one
        list(service.play(db=first, catalog=catalog, engines=engines, turn=turn))
        with pytest.raises(service.Conflict, match="being answered by another request"):
            list(service.play(db=second, catalog=catalog, engines=engines, turn=retry))
    messages = client.get(f"/api/sessions/{sid}").json()["messages"]
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert [m["content"] for m in messages].count(text) == 1
    assert client.get(f"/api/sessions/{sid}").json()["session"]["state"]["turn"] == 1


def test_parallel_ends_grade_the_session_once(client: TestClient) -> None:
    sid = start(client)
    client.post(f"/api/sessions/{sid}/messages", json={"content": "What matters to you?"})
    answers = at_once(8, lambda _: client.post(f"/api/sessions/{sid}/end"))
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    with Session(client.app.state.engine) as db:  # type: ignore[attr-defined]
        grades = db.exec(select(func.count()).where(col(Grade.session_id) == sid)).one()
    assert grades == 1
    assert client.post(f"/api/sessions/{sid}/end").json()["status"] == "done"


def test_an_end_that_looked_before_another_finished_grading_returns_that_grade(
    client: TestClient,
) -> None:
    """The other race, made deterministic: an end saw no grade, another end graded the
    session meanwhile (its pending row is gone, so the index lets this one's in)."""
    sid = start(client)
    client.post(f"/api/sessions/{sid}/messages", json={"content": "What matters to you?"})
    first = client.post(f"/api/sessions/{sid}/end").json()
    app = client.app
    with Session(app.state.engine) as db:  # type: ignore[attr-defined]
        record = db.get(PracticeSession, sid)
        assert record is not None
        grade, criteria = grades.grade_session(
            db=db,
            catalog=app.state.catalog,  # type: ignore[attr-defined]
            engines=app.state.engines,  # type: ignore[attr-defined]
            record=record,
            seen=0,  # it looked before the other end's grade existed
        )
        assert grade.status == "done" and grade.score == first["score"]
        assert len(criteria) == len(first["criteria"])
        count = select(func.count()).where(col(Grade.session_id) == sid)
        assert db.exec(count).one() == 1


def test_grading_a_session_already_being_graded_returns_that_grade(client: TestClient) -> None:
    """The race above, made deterministic: another request's grade is pending."""
    sid = start(client)
    app = client.app
    with Session(app.state.engine, expire_on_commit=False) as db:  # type: ignore[attr-defined]
        record = db.get(PracticeSession, sid)
        assert record is not None
        db.add(Grade(session_id=sid, grader="another request", prompt_version=""))
        db.commit()
        grade, criteria = grades.grade_session(
            db=db,
            catalog=app.state.catalog,
            engines=app.state.engines,
            record=record,  # type: ignore[attr-defined]
        )
        assert (grade.status, grade.grader, criteria) == ("pending", "another request", [])
        assert db.exec(select(func.count()).where(col(Grade.session_id) == sid)).one() == 1


def test_a_trainee_cannot_regrade_a_graded_session_but_a_coach_can(
    client: TestClient, login_as: Callable[..., TestClient]
) -> None:
    sid = start(client)
    client.post(f"/api/sessions/{sid}/messages", json={"content": "What matters to you?"})
    graded = client.post(f"/api/sessions/{sid}/end").json()
    again = client.post(f"/api/sessions/{sid}/grade")
    assert again.status_code == 409 and "only a coach or an admin" in again.json()["detail"]
    coach = login_as("carla", role="coach", teams=["blue"])
    regraded = coach.post(f"/api/sessions/{sid}/grade")
    assert regraded.status_code == 200 and regraded.json()["score"] == graded["score"]


def test_a_session_whose_state_has_ended_cannot_be_played(client: TestClient) -> None:
    sid = start(client)
    with Session(client.app.state.engine) as db:  # type: ignore[attr-defined]
        record = db.get(PracticeSession, sid)
        assert record is not None
        record.state = {**record.state, "status": "ended", "outcome": "walked_away"}
        db.add(record)
        db.commit()
    answer = client.post(f"/api/sessions/{sid}/messages", json={"content": "Hello again"})
    assert answer.status_code == 409 and "has ended (walked_away)" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/sessions", b'{"persona_id": "\\ud800"}'),  # echoed in the 404's message
        ("/api/sessions/{sid}/messages", b'{"content": "hi \\ud800 there"}'),  # stored
        (
            "/api/grade",
            b'{"persona_id": "%s", "messages": [{"role": "trainee", '
            b'"content": "Why? \\udc00"}]}' % PERSONA.encode(),
        ),  # quoted in the grade
        ("/api/auth/login", b'{"username": "\\ud800", "password": ""}'),  # echoed in the 422
    ],
)
def test_unpaired_surrogates_are_refused_not_a_500(
    client: TestClient, path: str, body: bytes
) -> None:
    sid = start(client)
    answer = client.post(path.format(sid=sid), content=body, headers=JSON)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["detail"]  # a JSON body that says what is wrong
    messages = client.get(f"/api/sessions/{sid}").json()["messages"]
    assert all(m["role"] == "client" for m in messages)  # nothing half-stored


def test_a_surrogate_in_a_stored_text_is_named(client: TestClient) -> None:
    sid = start(client)
    answer = client.post(
        f"/api/sessions/{sid}/messages", content=b'{"content": "a \\ud800"}', headers=JSON
    )
    assert answer.status_code == 422
    assert "not valid Unicode" in answer.json()["detail"][0]["msg"]


def test_a_nul_character_is_never_a_server_error(client: TestClient, database_url: str) -> None:
    """SQLite stores U+0000; PostgreSQL text cannot hold it: a 422 there, nothing stored."""
    sid = start(client)
    path = f"/api/sessions/{sid}/messages"
    answer = client.post(path, content=b'{"content": "a \\u0000 b"}', headers=JSON)
    if database_url.startswith("postgresql"):
        assert answer.status_code == 422, answer.text
        assert "NUL character" in answer.json()["detail"][0]["msg"]
        messages = client.get(f"/api/sessions/{sid}").json()["messages"]
        assert all(m["role"] == "client" for m in messages)  # nothing stored
        assert client.post(path, json={"content": "a b"}).status_code == 200
    else:
        assert answer.status_code == 200, answer.text


def test_an_echoed_surrogate_comes_back_escaped(client: TestClient) -> None:
    answer = client.post("/api/sessions", content=b'{"persona_id": "x\\ud800"}', headers=JSON)
    assert answer.status_code == 404
    assert "unknown persona 'x\ud800'" in answer.json()["detail"]


def test_a_body_that_is_not_utf8_json_is_a_named_400(client: TestClient) -> None:
    started = client.post("/api/sessions", json={"persona_id": "disorganized"}).json()["session"]
    sid, opening = started["id"], started["message_count"]
    headers = {"content-type": "application/json"}
    for body in (b'{"content": "caf\xe9 latin-1"}', b"[" * 100_000 + b"]" * 100_000):
        answer = client.post(f"/api/sessions/{sid}/messages", content=body, headers=headers)
        assert answer.status_code == 400 and answer.json()["code"] == "body_unreadable"
        assert "UTF-8" in answer.json()["detail"]
    assert client.get(f"/api/sessions/{sid}").json()["session"]["message_count"] == opening


def test_a_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    sid = start(client)

    def chunks():  # no Content-Length: the server only learns the size while reading
        yield b'{"content": "'
        for _ in range(100):
            yield b"x" * 4096
        yield b'"}'

    answer = client.post(f"/api/sessions/{sid}/messages", content=chunks(), headers=JSON)
    assert answer.status_code == 413 and "too large" in answer.json()["detail"]


def test_a_message_of_zero_width_characters_is_empty(client: TestClient) -> None:
    sid = start(client)
    answer = client.post(f"/api/sessions/{sid}/messages", json={"content": "\u200b\u2060 \ufeff"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["msg"] == "the message is empty"


def _database_at(url: str, revision: str) -> Engine:
    """The database at an older revision, whether it was new or already at the newest."""
    engine = get_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        command.downgrade(config, revision)
    return engine


def _account_of_old(db: Session, role: str) -> int:
    """An account as revisions before 0006 stored it (with its failed-login columns)."""
    db.exec(  # type: ignore[call-overload]
        text(
            "INSERT INTO users (username, role, password_hash, active, failed_logins, created_at)"
            " VALUES ('ada', :role, '!', true, 3, CURRENT_TIMESTAMP)"
        ),
        params={"role": role},
    )
    return db.exec(select(User.id).where(User.username == "ada")).one()  # type: ignore[return-value]


def _session_of_old(db: Session, user_id: int, seed: int, state: dict[str, Any]) -> str:
    """A session with only the columns every revision has (0007 added who imported it)."""
    now = datetime.now(UTC)
    sid = uuid.uuid4().hex
    db.exec(  # type: ignore[call-overload]
        insert(PracticeSession.__table__).values(  # type: ignore[arg-type]
            id=sid,
            persona_id=PERSONA,
            language="en",
            difficulty="medium",
            seed=seed,
            engine="offline",
            user_id=user_id,
            trainee="ada",
            status="active",
            state=state,
            message_count=0,
            created_at=now,
            updated_at=now,
        )  # fmt: skip
    )
    return sid


def test_the_upgrade_moves_failed_logins_off_the_accounts(database_url: str) -> None:
    """0006 drops the accounts' own counts (a lock anyone could renew) in place: the
    accounts, their teams and their sessions stay."""
    engine = _database_at(database_url, "0005")
    with Session(engine) as db:
        uid = _account_of_old(db, "coach")
        team = Team(name="blue")
        db.add(team)
        db.flush()
        db.add(TeamMember(team_id=team.id, user_id=uid))
        db.commit()
    migrate(engine)
    with Session(engine) as db:
        ada = db.exec(select(User).where(User.username == "ada")).one()
        assert ada.role == "coach" and auth.teams_of(db, uid) == ["blue"]
    columns = {c["name"] for c in inspect(engine).get_columns("users")}
    assert not columns & {"failed_logins", "locked_until"}


def test_the_upgrade_closes_pending_grades_made_twice(database_url: str) -> None:
    """Databases that met the double-grade race keep the newest pending grade only."""
    engine = _database_at(database_url, "0002")
    with Session(engine) as db:
        sid = _session_of_old(db, _account_of_old(db, "trainee"), seed=1, state={})
        db.add_all(Grade(session_id=sid, grader="g", prompt_version="") for _ in range(2))
        db.commit()
    migrate(engine)
    with Session(engine) as db:
        grades = db.exec(select(Grade).where(Grade.session_id == sid).order_by(col(Grade.id)))
        assert [g.status for g in grades] == ["failed", "pending"]
        db.add(Grade(session_id=sid, grader="g", prompt_version=""))
        with pytest.raises(Exception, match="(?i)unique"):
            db.commit()


def test_the_upgrade_brings_old_sqlite_seeds_into_range(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SQLite integers are 64-bit: an early database could hold seeds that no export or
    PostgreSQL takes. After the upgrade the session exports like any other."""
    from app import transfer
    from app.catalog import load_catalog
    from app.engine.director import opening

    state, _ = opening(load_catalog().personas[PERSONA], "medium")

    engine = _database_at(f"sqlite:///{tmp_path / 'old.db'}", "0004")
    with Session(engine) as db:
        uid = _account_of_old(db, "admin")
        sid = _session_of_old(db, uid, seed=3_000_000_000, state=state.model_dump())
        db.commit()
    migrate(engine)
    with Session(engine) as db:
        seed = db.get(PracticeSession, sid).seed  # type: ignore[union-attr]
        assert 0 <= seed <= 2**31 - 1 and seed == 3_000_000_000 % 2**31
        bundle = transfer.export_sessions(db=db, user=None)
        assert [s.session.id for s in bundle.sessions] == [sid]


def test_a_session_without_a_word_of_the_trainee_is_discarded_not_graded(
    client: TestClient,
) -> None:
    sid = start(client)
    ended = client.post(f"/api/sessions/{sid}/end")
    assert ended.status_code == 409 and "nothing to grade" in ended.json()["detail"]
    assert client.get(f"/api/sessions/{sid}").json()["session"]["status"] == "active"
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    assert client.get(f"/api/sessions/{sid}").status_code == 404
    assert sid not in {s["id"] for s in client.get("/api/sessions").json()["items"]}


def test_a_session_the_trainee_wrote_in_cannot_be_discarded(
    client: TestClient, login_as: Callable[..., TestClient]
) -> None:
    sid = start(client)
    client.post(f"/api/sessions/{sid}/messages", json={"content": "What matters to you?"})
    refused = client.delete(f"/api/sessions/{sid}")
    assert refused.status_code == 409 and "end it to have it graded" in refused.json()["detail"]
    client.post(f"/api/sessions/{sid}/end")
    ended = client.delete(f"/api/sessions/{sid}").json()["detail"]
    assert "it is kept" in ended and "end it" not in ended  # it is ended: no advice to end it
    empty = start(client)
    coach = login_as("carla", role="coach", teams=["blue"])
    assert coach.delete(f"/api/sessions/{empty}").status_code == 403  # only its trainee
    assert len(client.get(f"/api/sessions/{sid}").json()["messages"]) > 1


def test_errors_carry_a_code_the_pages_translate(client: TestClient) -> None:
    sid = start(client)
    long = client.post(f"/api/sessions/{sid}/messages", json={"content": "x" * 4001})
    assert long.status_code == 422
    assert long.json()["code"] == "message_too_long"
    assert long.json()["params"] == {"length": 4001, "limit": 4000}
    assert (
        long.json()["detail"][0]["msg"] == "the message is 4001 characters long; the limit is 4000"
    )
    missing = client.get("/api/sessions/0123456789abcdef0123456789abcdef").json()
    assert missing["code"] == "no_session" and "no session with id" in missing["detail"]
