"""The REST contract scripts rely on, and its errors; on SQLite and PostgreSQL."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.catalog import Catalog
from app.db import get_engine
from app.models import Message, PracticeSession

PERSONA = "yes-then-sells"


def start(client: TestClient, **overrides: object) -> dict:
    body = {"persona_id": PERSONA, "language": "en", "difficulty": "medium", "seed": 42}
    response = client.post("/api/sessions", json={**body, **overrides})
    assert response.status_code == 201, response.text
    return response.json()


def test_health(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    assert anonymous.head("/healthz").status_code == 200  # how many load balancers probe


def test_personas_and_techniques_in_both_languages(client: TestClient, catalog: Catalog) -> None:
    en = client.get("/api/personas", params={"lang": "en"}).json()
    it = client.get("/api/personas", params={"lang": "it"}).json()
    assert {p["id"] for p in en} == set(catalog.personas) and len(en) == 9
    assert [p["name"] for p in en] != [p["name"] for p in it]
    card = client.get(f"/api/personas/{PERSONA}", params={"lang": "it"}).json()
    assert card["trainee_role"] and card["signature_behaviours"] and card["techniques"]
    assert [d["level"] for d in card["difficulty"]] == ["easy", "medium", "hard"]
    techniques = client.get("/api/techniques", params={"lang": "en"}).json()
    assert len(techniques) == 22 and all(t["anti_patterns"] for t in techniques)


def test_a_session_from_opening_to_grade(client: TestClient) -> None:
    started = start(client)
    session = started["session"]
    assert session["status"] == "active" and session["state"]["phase"] == "opening"
    assert started["messages"] and all(m["role"] == "client" for m in started["messages"])
    opening_count = len(started["messages"])

    turn = client.post(
        f"/api/sessions/{session['id']}/messages",
        json={"content": "Good morning. What matters most to you in this portfolio?"},
    )
    assert turn.status_code == 200, turn.text
    body = turn.json()
    assert body["trainee_message"]["seq"] == opening_count + 1
    assert "question" in body["trainee_message"]["moves"]
    assert body["replies"] and [r["seq"] for r in body["replies"]] == list(
        range(opening_count + 2, opening_count + 2 + len(body["replies"]))
    )
    assert body["session"]["state"]["turn"] == 1

    grade = client.post(f"/api/sessions/{session['id']}/end").json()
    assert grade["status"] == "done" and 0 <= grade["score"] <= 100
    assert {c["verdict"] for c in grade["criteria"]} <= {
        "applied",
        "partial",
        "missed",
        "violated",
        "not_applicable",
    }
    detail = client.get(f"/api/sessions/{session['id']}").json()
    assert detail["session"]["status"] == "ended"
    assert detail["session"]["outcome"] == "ended_by_trainee"
    assert detail["grade"]["score"] == grade["score"]
    assert len(detail["messages"]) == detail["session"]["message_count"]
    # ending again returns the same grade instead of grading twice
    assert client.post(f"/api/sessions/{session['id']}/end").json() == grade


def test_the_same_seed_plays_the_same_conversation(client: TestClient) -> None:
    def run() -> list[str]:
        sid = start(client, seed=7)["session"]["id"]
        for text in ["Hello, how are you?", "You should not sell now.", "Tell me more."]:
            client.post(f"/api/sessions/{sid}/messages", json={"content": text})
        return [m["content"] for m in client.get(f"/api/sessions/{sid}").json()["messages"]]

    assert run() == run()


def test_list_filters_and_pagination(login_as) -> None:  # type: ignore[no-untyped-def]
    ada, bob = login_as("ada"), login_as("bob")
    start(ada)
    start(ada)
    start(bob)
    start(bob, persona_id="disorganized")
    client = login_as("root", role="admin")
    page = client.get("/api/sessions", params={"trainee": "ada"}).json()
    assert page["total"] == 2 and {s["trainee"] for s in page["items"]} == {"ada"}
    page = client.get("/api/sessions", params={"persona": "disorganized"}).json()
    assert page["total"] == 1
    first = client.get("/api/sessions", params={"page_size": 3, "page": 1}).json()
    second = client.get("/api/sessions", params={"page_size": 3, "page": 2}).json()
    assert first["total"] == 4 and len(first["items"]) == 3 and len(second["items"]) == 1
    ids = {s["id"] for s in first["items"]} | {s["id"] for s in second["items"]}
    assert len(ids) == 4
    assert client.get("/api/sessions", params={"status": "ended"}).json()["total"] == 0


def test_export_json_and_markdown(client: TestClient) -> None:
    sid = start(client)["session"]["id"]
    client.post(f"/api/sessions/{sid}/messages", json={"content": "What do you think <b>?"})
    client.post(f"/api/sessions/{sid}/end")
    as_json = client.get(f"/api/sessions/{sid}/export", params={"format": "json"})
    assert as_json.status_code == 200 and as_json.json()["grade"]["score"] is not None
    assert "attachment" in as_json.headers["content-disposition"]
    md = client.get(f"/api/sessions/{sid}/export", params={"format": "md"})
    assert md.headers["content-type"].startswith("text/markdown")
    assert "What do you think <b>?" in md.text and "/100" in md.text


def test_drill_quotes_are_exact_substrings(client: TestClient) -> None:
    turns = [
        "Let me be clear: I'm certain that selling now would hurt you.",
        "What worries you most about the market right now?",
        "My advice is firm: keep the bonds. What do you think?",
    ]
    result = client.post(
        "/api/drills",
        json={"persona_id": PERSONA, "language": "en", "difficulty": "medium", "turns": turns},
    )
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["session"]["status"] == "ended" and body["grade"]["status"] == "done"
    trainee = {m["seq"]: m["content"] for m in body["messages"] if m["role"] == "trainee"}
    quotes = [e for c in body["grade"]["criteria"] for e in c["evidence"]]
    assert quotes, "a drill with technique cues must quote the trainee"
    for evidence in quotes:
        assert evidence["quote"] in trainee[evidence["seq"]]


def test_grade_a_transcript_recorded_elsewhere(client: TestClient) -> None:
    body = {
        "persona_id": "free-advice-seeker",
        "language": "en",
        "messages": [
            {"role": "client", "content": "Quick question: what do you think of my banner?"},
            {
                "role": "trainee",
                "content": "Happy to help: my hourly rate is 80 euro, and we have no contract yet.",
            },
        ],
    }
    response = client.post("/api/grade", json=body)
    assert response.status_code == 200, response.text
    report = response.json()
    assert 0 <= report["score"] <= 100 and report["criteria"]
    assert client.get("/api/sessions").json()["total"] == 0  # nothing stored


# ---------------------------------------------------------------- errors


def test_unknown_persona_and_session_are_404_with_a_message(client: TestClient) -> None:
    response = client.post("/api/sessions", json={"persona_id": "nobody", "language": "en"})
    assert response.status_code == 404 and "unknown persona 'nobody'" in response.json()["detail"]
    assert client.get("/api/personas/nobody").status_code == 404
    for method, path in [
        ("get", "/api/sessions/missing"),
        ("post", "/api/sessions/missing/end"),
        ("get", "/api/sessions/missing/export"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 404 and "missing" in response.json()["detail"]
    response = client.post("/api/sessions/missing/messages", json={"content": "hi"})
    assert response.status_code == 404


def test_bad_messages_are_rejected_and_nothing_is_written(
    client: TestClient, database_url: str
) -> None:
    sid = start(client)["session"]["id"]
    before = client.get(f"/api/sessions/{sid}").json()
    for content, expected in [("", "empty"), ("   \n ", "empty"), ("x" * 4001, "4000")]:
        response = client.post(f"/api/sessions/{sid}/messages", json={"content": content})
        assert response.status_code == 422, content
        assert expected in response.text
    response = client.post(f"/api/sessions/{sid}/messages", json={})
    assert response.status_code == 422 and "content" in response.text
    after = client.get(f"/api/sessions/{sid}").json()
    assert after["messages"] == before["messages"]
    with Session(get_engine(database_url)) as db:
        count = len(db.exec(select(Message).where(Message.session_id == sid)).all())
    assert count == before["session"]["message_count"]


def test_wrong_language_difficulty_and_seed_are_422(client: TestClient) -> None:
    for override in [{"language": "fr"}, {"difficulty": "insane"}, {"seed": -1}]:
        body = {"persona_id": PERSONA, **override}
        response = client.post("/api/sessions", json=body)
        assert response.status_code == 422, override
    assert client.get("/api/personas", params={"lang": "de"}).status_code == 422
    # a misspelt field is named, not quietly replaced by a default (Italian, medium)
    typo = client.post("/api/sessions", json={"persona_id": PERSONA, "lang": "en", "level": "hard"})
    assert typo.status_code == 422 and {e["loc"][-1] for e in typo.json()["detail"]} == {
        "lang",
        "level",
    }
    assert client.get("/api/sessions").json()["total"] == 0, "nothing was started"


def test_a_message_to_an_ended_session_is_409(client: TestClient, database_url: str) -> None:
    sid = start(client)["session"]["id"]
    client.post(f"/api/sessions/{sid}/messages", json={"content": "What matters to you?"})
    assert client.post(f"/api/sessions/{sid}/end").status_code == 200
    response = client.post(f"/api/sessions/{sid}/messages", json={"content": "Hello?"})
    assert response.status_code == 409 and "ended" in response.json()["detail"]
    with Session(get_engine(database_url)) as db:
        record = db.get(PracticeSession, sid)
        assert record is not None and record.status == "ended"


def test_grade_request_errors(client: TestClient) -> None:
    response = client.post(
        "/api/grade",
        json={"persona_id": PERSONA, "messages": [{"role": "client", "content": "Hi"}]},
    )
    assert response.status_code == 422 and "no trainee message" in response.text
    response = client.post(
        "/api/grade", json={"persona_id": PERSONA, "messages": [{"role": "boss", "content": "x"}]}
    )
    assert response.status_code == 422
    response = client.post(
        "/api/grade",
        json={"persona_id": "nobody", "messages": [{"role": "trainee", "content": "hello"}]},
    )
    assert response.status_code == 404
    # a blank line (spaces, or only zero-width characters) says nothing to grade
    for blank in ("   ", "\u200b\u200d"):
        lines = [{"role": "trainee", "content": "Hello"}, {"role": "client", "content": blank}]
        response = client.post("/api/grade", json={"persona_id": PERSONA, "messages": lines})
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "messages", 1, "content"]
        assert "the message is empty" in error["msg"]
    # what was sent is repeated when short, not a whole chat sent back with a 422
    long_chat = [{"role": "trainee", "content": f"line {n}"} for n in range(600)]
    response = client.post("/api/grade", json={"persona_id": PERSONA, "messages": long_chat})
    assert response.status_code == 422 and len(response.content) < 2_000, response.text[:300]
    assert response.json()["detail"][0]["input"] == "(too long to repeat)"
    short = client.post("/api/grade", json={"persona_id": PERSONA, "language": "fr"}).json()
    assert {"input": "fr"}.items() <= next(
        e for e in short["detail"] if "language" in e["loc"]
    ).items()


def test_drill_errors(client: TestClient) -> None:
    base = {"persona_id": PERSONA, "language": "en"}
    assert client.post("/api/drills", json={**base, "turns": []}).status_code == 422
    response = client.post("/api/drills", json={**base, "turns": ["ok", "  "]})
    assert response.status_code == 422 and "empty" in response.text
    assert client.get("/api/sessions").json()["total"] == 0  # rejected before starting


def test_a_technique_used_once_reads_in_the_singular(client: TestClient) -> None:
    messages = [
        {"role": "client", "content": "I will sell everything tomorrow."},
        {"role": "trainee", "content": "What worries you most about selling now?"},
    ]
    body = {"persona_id": PERSONA, "language": "en", "messages": messages}
    criteria = {
        c["technique_id"]: c for c in client.post("/api/grade", json=body).json()["criteria"]
    }
    used = criteria["extended-needs"]
    assert used["verdict"] == "applied" and len(used["evidence"]) == 1
    assert used["rationale"] == "Technique used in one message and never contradicted."
    assert not any("(s)" in c["rationale"] for c in criteria.values())
