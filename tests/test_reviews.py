"""Coach reviews: verdicts stored beside the grader's, the desk's filters, and the agreement
figures (rate and Cohen's kappa) on constructed examples; on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, select
from typer.testing import CliRunner

from app import auth, reviews
from app.cli import cli
from app.models import (
    CriterionResult,
    Grade,
    Message,
    PracticeSession,
    Review,
    User,
    UserCreate,
)
from app.reviews import DeskFilters, ReviewCreate, agreement_row, cohen_kappa

PASSWORD = "correct horse battery staple"


# ---------------------------------------------------------------- the math


def test_kappa_on_the_textbook_example() -> None:
    # 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15 (p_o .7, p_e .5)
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert math.isclose(cohen_kappa(pairs) or 0, 0.4)
    row = agreement_row("t", pairs)
    assert (row.reviewed, row.agreed, row.rate) == (50, 35, 0.7)


def test_kappa_edges() -> None:
    assert cohen_kappa([]) is None  # nothing reviewed
    assert cohen_kappa([("applied", "applied")] * 4) is None  # one category only: undefined
    assert cohen_kappa([("applied", "applied"), ("missed", "missed")]) == 1.0
    assert cohen_kappa([("applied", "missed"), ("missed", "applied")]) == -1.0
    assert cohen_kappa([("applied", "violated")]) == 0.0  # no category shared
    empty = agreement_row(None, [])
    assert (empty.reviewed, empty.rate, empty.kappa) == (0, None, None)


# ---------------------------------------------------------------- a constructed data set


@pytest.fixture
def db(anonymous: TestClient) -> Iterator[Session]:
    with Session(anonymous.app.state.engine, expire_on_commit=False) as session:  # type: ignore[attr-defined]
        yield session


def _user(db: Session, name: str, role: str, teams: list[str]) -> User:
    request = UserCreate(username=name, password=PASSWORD, role=role, teams=teams)  # type: ignore[arg-type]
    return auth.create_user(db=db, request=request)


def _graded(
    db: Session,
    trainee: User,
    verdicts: dict[str, str],
    *,
    score: int = 50,
    persona: str = "loyal-debtor",
    created: datetime | None = None,
) -> PracticeSession:
    """A stored, ended, graded session with exactly these grader verdicts."""
    record = PracticeSession(
        persona_id=persona,
        language="en",
        difficulty="medium",
        seed=1,
        engine="offline",
        trainee=trainee.username,
        user_id=trainee.id,  # type: ignore[arg-type]
        status="ended",
        outcome="ended_by_trainee",
        state={},
        message_count=2,
        score=score,
        passed=score >= 60,
        created_at=created or datetime.now(UTC),
    )
    db.add(record)
    db.flush()
    db.add(Message(session_id=record.id, seq=1, role="client", content="Hello."))
    db.add(Message(session_id=record.id, seq=2, role="trainee", content="How are you?"))
    grade = Grade(session_id=record.id, status="done", score=score, grader="g", prompt_version="1")
    db.add(grade)
    db.flush()
    for technique, verdict in verdicts.items():
        db.add(
            CriterionResult(
                grade_id=grade.id,  # type: ignore[arg-type]
                technique_id=technique,
                name=technique,
                verdict=verdict,
                evidence=[],
                rationale="",
            )
        )
    db.commit()
    return record


def _review(db: Session, coach: User, record: PracticeSession, **verdicts: str) -> None:
    reviews.save_review(
        db=db,
        user=coach,
        session_id=record.id,
        request=ReviewCreate.model_validate({"verdicts": verdicts}),
    )


def test_agreement_rate_and_kappa_on_a_constructed_example(db: Session) -> None:
    trainee = _user(db, "ada", "trainee", ["blue"])
    coach = _user(db, "carla", "coach", ["blue"])
    # t1: the textbook 2×2 (grader, coach): 20 (a,a), 5 (a,m), 10 (m,a), 15 (m,m)
    # t2: both always `applied` (kappa undefined)
    plan = [("applied", "applied")] * 20 + [("applied", "missed")] * 5
    plan += [("missed", "applied")] * 10 + [("missed", "missed")] * 15
    for grader, coach_says in plan:
        record = _graded(db, trainee, {"t1": grader, "t2": "applied"})
        # a first, different opinion on t1 that the coach then changes: only the latest counts
        _review(db, coach, record, t1="violated", t2="applied")
        _review(db, coach, record, t1=coach_says)
    report = reviews.agreement(db=db, user=coach)
    rows = {r.technique_id: r for r in report.techniques}
    assert (rows["t1"].reviewed, rows["t1"].agreed) == (50, 35)
    assert math.isclose(rows["t1"].rate or 0, 0.7)
    assert math.isclose(rows["t1"].kappa or 0, 0.4)
    assert (rows["t2"].reviewed, rows["t2"].rate, rows["t2"].kappa) == (50, 1.0, None)
    # pooled: 85 of 100 agree; p_e = .75 × .80 + .25 × .20 = .65 → kappa = .20 / .35
    overall = report.overall
    assert (overall.reviewed, overall.agreed) == (100, 85)
    assert math.isclose(overall.kappa or 0, 0.2 / 0.35)

    # the grader's verdicts were never touched: reviews sit beside them
    grader_verdicts = db.exec(select(CriterionResult.verdict)).all()
    assert grader_verdicts.count("violated") == 0
    assert db.exec(select(Review).where(Review.verdict == "violated")).all(), "history kept"


def test_agreement_counts_every_visible_coach_and_filters_by_reviewer(db: Session) -> None:
    ada = _user(db, "ada", "trainee", ["blue"])
    bob = _user(db, "bob", "trainee", ["red"])
    carla = _user(db, "carla", "coach", ["blue"])
    cesare = _user(db, "cesare", "coach", ["blue"])
    dario = _user(db, "dario", "coach", ["red"])
    admin = _user(db, "root", "admin", [])
    blue = _graded(db, ada, {"t1": "applied"})
    red = _graded(db, bob, {"t1": "applied"})
    _review(db, carla, blue, t1="applied")  # agrees
    _review(db, cesare, blue, t1="missed")  # disagrees
    _review(db, dario, red, t1="missed")  # another team's session

    assert reviews.agreement(db=db, user=carla).overall.reviewed == 2
    assert reviews.agreement(db=db, user=carla).overall.rate == 0.5
    mine = reviews.agreement(db=db, user=carla, reviewer_id=carla.id)
    assert (mine.overall.reviewed, mine.overall.rate) == (1, 1.0)
    assert reviews.agreement(db=db, user=dario).overall.reviewed == 1
    assert reviews.agreement(db=db, user=admin).overall.reviewed == 3
    with pytest.raises(Exception, match="coach or admin"):
        reviews.agreement(db=db, user=ada)


def test_session_reviews_show_current_verdicts_and_comments(db: Session) -> None:
    ada = _user(db, "ada", "trainee", ["blue"])
    carla = _user(db, "carla", "coach", ["blue"])
    record = _graded(db, ada, {"t1": "applied", "t2": "missed"})
    request = ReviewCreate.model_validate(
        {
            "verdicts": {"t1": "applied", "t2": "partial"},
            "criterion_comments": {"t2": "  Half there.  ", "t1": "   "},
            "message_comments": {"2": "Good question."},
        }
    )
    result = reviews.save_review(db=db, user=carla, session_id=record.id, request=request)
    current = {v.technique_id: (v.grader_verdict, v.coach_verdict) for v in result.verdicts}
    assert current == {"t1": ("applied", "applied"), "t2": ("missed", "partial")}
    comments = {(c.technique_id, c.message_seq): c.comment for c in result.comments}
    assert comments == {("t2", None): "Half there.", (None, 2): "Good question."}
    # saving the same verdicts again adds no rows
    again = reviews.save_review(
        db=db,
        user=carla,
        session_id=record.id,
        request=ReviewCreate.model_validate({"verdicts": {"t1": "applied", "t2": "partial"}}),
    )
    assert len(again.history) == len(result.history) == 4
    # the trainee sees the coach's word on their own session
    assert len(reviews.session_reviews(db=db, user=ada, session_id=record.id).verdicts) == 2


# ---------------------------------------------------------------- the desk


def test_desk_filters(db: Session) -> None:
    ada = _user(db, "ada", "trainee", ["blue"])
    eva = _user(db, "eva", "trainee", ["blue"])
    bob = _user(db, "bob", "trainee", ["red"])
    carla = _user(db, "carla", "coach", ["blue"])
    now = datetime.now(UTC)
    old = _graded(db, ada, {"t1": "applied"}, score=90, created=now - timedelta(days=10))
    low = _graded(db, ada, {"t1": "missed"}, score=20, persona="disorganized")
    mid = _graded(db, eva, {"t1": "partial"}, score=55)
    _graded(db, bob, {"t1": "applied"}, score=70)  # another team: never listed
    _review(db, carla, low, t1="missed")

    def ids(**filters: object) -> set[str]:
        page = reviews.desk(db=db, user=carla, filters=DeskFilters(**filters))  # type: ignore[arg-type]
        assert page.total == len(page.items)
        return {row.id for row in page.items}

    assert ids() == {old.id, low.id, mid.id}
    assert ids(reviewed=True) == {low.id}
    assert ids(reviewed=False) == {old.id, mid.id}
    assert ids(trainee="ada") == {old.id, low.id}
    assert ids(persona_id="disorganized") == {low.id}
    assert ids(score_min=50) == {old.id, mid.id}
    assert ids(score_min=50, score_max=60) == {mid.id}
    today = now.date()
    assert ids(date_from=today) == {low.id, mid.id}
    assert ids(date_to=today - timedelta(days=5)) == {old.id}
    assert ids(date_from=today, date_to=today, reviewed=False, trainee="eva") == {mid.id}
    rows = {r.id: r for r in reviews.desk(db=db, user=carla, filters=DeskFilters()).items}
    assert rows[low.id].reviews == 1 and rows[low.id].last_review_at is not None
    assert rows[mid.id].reviews == 0 and rows[mid.id].last_review_at is None
    assert reviews.desk_trainees(db=db, user=carla) == ["ada", "eva"]
    paged = reviews.desk(db=db, user=carla, filters=DeskFilters(), page=2, page_size=2)
    assert paged.total == 3 and len(paged.items) == 1


def test_the_desk_costs_the_same_queries_for_3_or_30_sessions(
    db: Session, anonymous: TestClient
) -> None:
    ada = _user(db, "ada", "trainee", ["blue"])
    carla = _user(db, "carla", "coach", ["blue"])
    engine = anonymous.app.state.engine  # type: ignore[attr-defined]
    counts: list[int] = []
    measuring = False

    def count(*_: object) -> None:
        if measuring:
            counts[-1] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        for total in (3, 30):
            while reviews.desk(db=db, user=carla, filters=DeskFilters()).total < total:
                record = _graded(db, ada, {"t1": "applied"})
                _review(db, carla, record, t1="missed")
            counts.append(0)
            measuring = True
            page = reviews.desk(db=db, user=carla, filters=DeskFilters(), page_size=50)
            reviews.agreement(db=db, user=carla)
            measuring = False
            assert len(page.items) == total
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert counts[0] == counts[1], f"queries grew with the rows: {counts}"


# ---------------------------------------------------------------- the API


@pytest.fixture
def world(
    login_as: Callable[..., TestClient],
) -> dict[str, Any]:
    owner = login_as("ada", "trainee", ["blue"])
    clients: dict[str, Any] = {
        "owner": owner,
        "coach": login_as("carla", "coach", ["blue"]),
        "other_coach": login_as("dario", "coach", ["red"]),
        "admin": login_as("root", "admin"),
    }
    drill = owner.post(
        "/api/drills",
        json={
            "persona_id": "free-advice-seeker",
            "language": "en",
            "seed": 1,
            "turns": [
                "Nice to meet you. Tell me about you: what do you expect?",
                "Happy to go deeper: my hourly rate is 80 euro. Shall I send a proposal?",
            ],
        },
    )
    assert drill.status_code == 200, drill.text
    clients["sid"] = drill.json()["session"]["id"]
    clients["grade"] = drill.json()["grade"]
    active = owner.post("/api/sessions", json={"persona_id": "disorganized", "language": "en"})
    clients["active"] = active.json()["session"]["id"]
    return clients


def test_review_api_access_and_validation(world: dict[str, Any]) -> None:
    sid, grade = world["sid"], world["grade"]
    techniques = [c["technique_id"] for c in grade["criteria"]]
    first, verdict = techniques[0], grade["criteria"][0]["verdict"]
    other = "violated" if verdict != "violated" else "applied"
    body = {"verdicts": {first: other}, "message_comments": {"2": "Nice opening."}}
    url = f"/api/sessions/{sid}/reviews"
    assert world["owner"].post(url, json=body).status_code == 403
    assert world["other_coach"].post(url, json=body).status_code == 404
    assert world["other_coach"].get(url).status_code == 404
    bad = world["coach"].post(url, json={"verdicts": {"no-such-technique": "applied"}})
    assert bad.status_code == 422 and "unknown techniques" in bad.text
    bad = world["coach"].post(url, json={"verdicts": {first: "brilliant"}})
    assert bad.status_code == 422
    bad = world["coach"].post(url, json={"message_comments": {"99": "?"}})
    assert bad.status_code == 422 and "no messages with seq [99]" in bad.text
    active = world["coach"].post(f"/api/sessions/{world['active']}/reviews", json=body)
    assert active.status_code == 409 and "no finished grade" in active.json()["detail"]

    saved = world["coach"].post(url, json=body)
    assert saved.status_code == 200, saved.text
    current = saved.json()["verdicts"]
    assert current == [
        {
            "technique_id": first,
            "reviewer": "carla",
            "reviewer_id": current[0]["reviewer_id"],
            "grader_verdict": verdict,
            "coach_verdict": other,
            "created_at": current[0]["created_at"],
        }
    ]
    assert world["owner"].get(url).json()["comments"][0]["comment"] == "Nice opening."
    # the grade itself is unchanged
    after = world["owner"].get(f"/api/sessions/{sid}").json()["grade"]
    assert after["criteria"][0]["verdict"] == verdict and after["score"] == grade["score"]

    agreement = world["coach"].get("/api/reviews/agreement").json()
    assert agreement["overall"] == {
        "technique_id": None,
        "reviewed": 1,
        "agreed": 0,
        "rate": 0.0,
        "kappa": 0.0,
    }
    assert world["owner"].get("/api/reviews/agreement").status_code == 403
    assert world["other_coach"].get("/api/reviews/agreement").json()["overall"]["reviewed"] == 0
    assert world["admin"].get("/api/reviews/agreement?mine=true").json()["overall"]["reviewed"] == 0

    desk = world["coach"].get("/api/reviews/sessions?reviewed=true").json()
    assert [row["id"] for row in desk["items"]] == [sid] and desk["items"][0]["reviews"] == 2
    assert world["coach"].get("/api/reviews/sessions?reviewed=false").json()["total"] == 1
    assert world["other_coach"].get("/api/reviews/sessions").json()["total"] == 0
    assert world["owner"].get("/api/reviews/sessions").status_code == 403
    assert world["coach"].get("/api/reviews/sessions?score_min=101").status_code == 422


def test_a_coach_cannot_review_their_own_session(
    login_as: Callable[..., TestClient],
) -> None:
    coach = login_as("carla", "coach", ["blue"])
    drill = coach.post(
        "/api/drills",
        json={"persona_id": "disorganized", "language": "en", "turns": ["Hello, how can I help?"]},
    ).json()
    criteria = drill["grade"]["criteria"]
    response = coach.post(
        f"/api/sessions/{drill['session']['id']}/reviews",
        json={"verdicts": {criteria[0]["technique_id"]: "applied"}},
    )
    assert response.status_code == 403 and "your own session" in response.json()["detail"]


def test_coaches_verdicts_become_a_gold_set_to_calibrate_against(
    world: dict[str, Any], use_database: Callable[[str], None], tmp_path: Path
) -> None:
    """The loop from the desk back to the grader: every reviewed session as a gold file,
    which `sparring calibrate` measures the grader against."""
    sid, grade = world["sid"], world["grade"]
    first = grade["criteria"][0]
    overridden = "violated" if first["verdict"] != "violated" else "applied"
    body = {"verdicts": {first["technique_id"]: overridden}}
    assert world["coach"].post(f"/api/sessions/{sid}/reviews", json=body).status_code == 200
    use_database(str(world["coach"].app.state.engine.url))
    runner, folder = CliRunner(), tmp_path / "ours"

    none = runner.invoke(cli, ["reviews-to-gold", str(folder), "--reviewer", "root"])
    assert none.exit_code == 1 and "no session has a coach's verdict by root yet" in none.stderr
    typo = runner.invoke(cli, ["reviews-to-gold", str(folder), "--persona", "yes-then-sell"])
    assert typo.exit_code == 1 and "unknown persona 'yes-then-sell'; known: " in typo.stderr
    wrote = runner.invoke(cli, ["reviews-to-gold", str(folder), "--reviewer", "carla"])
    assert wrote.exit_code == 0, wrote.output
    assert "wrote 1 gold files" in wrote.stdout
    (path,) = folder.glob("*.yaml")
    gold = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert gold["session_id"] == sid and gold["labels"][first["technique_id"]] == overridden

    measured = runner.invoke(cli, ["calibrate", "--gold-dir", str(folder)])
    assert measured.exit_code == 0, measured.output
    techniques = len(grade["criteria"])
    assert f"on 1 gold transcripts in {folder}" in measured.stdout
    overall = next(
        line.split() for line in measured.stdout.splitlines() if line.startswith("overall")
    )
    # the offline grader grades the transcript as it did; the coach overrode one verdict
    assert overall[1:3] == [str(techniques), f"{round(100 * (techniques - 1) / techniques)}%"]
