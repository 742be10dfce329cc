"""What is stored when, and that a failing actor loses nothing; on SQLite and PostgreSQL."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.engine.actors import OfflineActor, Reply
from app.engine.llm import LLMError


class BrokenActor:
    """Fails on demand, as an unreachable model would; otherwise plays offline."""

    name = "offline"

    def __init__(self, offline: OfflineActor) -> None:
        self.fail = True
        self.offline = offline

    def reply(self, **kwargs: object) -> Iterator[str | Reply]:
        if self.fail:
            raise LLMError("the model endpoint could not be reached")
        yield from self.offline.reply(**kwargs)  # type: ignore[arg-type]


def test_trainee_message_survives_an_actor_failure_and_can_be_retried(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = client.post(
        "/api/sessions", json={"persona_id": "loyal-debtor", "language": "it", "seed": 1}
    ).json()["session"]["id"]
    engine = client.app.state.engines.available["offline"]
    actor = BrokenActor(engine.actor)
    monkeypatch.setattr(engine, "actor", actor)
    text = "Buongiorno, come sta? Come vanno le cose in azienda?"
    failed = client.post(f"/api/sessions/{sid}/messages", json={"content": text})
    assert failed.status_code == 502 and "send the same text again" in failed.json()["detail"]
    detail = client.get(f"/api/sessions/{sid}").json()
    assert detail["messages"][-1]["role"] == "trainee" and detail["messages"][-1]["content"] == text
    assert detail["session"]["state"]["turn"] == 0  # the director's state did not move

    other = client.post(f"/api/sessions/{sid}/messages", json={"content": "Something else"})
    assert other.status_code == 409 and "retry" in other.json()["detail"]

    actor.fail = False
    retried = client.post(f"/api/sessions/{sid}/messages", json={"content": text})
    assert retried.status_code == 200
    body = retried.json()
    assert body["trainee_message"]["seq"] == detail["messages"][-1]["seq"]
    assert body["replies"] and body["session"]["state"]["turn"] == 1
    messages = client.get(f"/api/sessions/{sid}").json()["messages"]
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert sum(m["content"] == text for m in messages) == 1
