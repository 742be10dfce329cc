"""The offline client does not repeat itself word for word (play review, section 1).

Whole sessions are played with the director and the offline actor, for every persona in
both languages: a passive trainee (one-word replies) leaves the director on the same few
beats turn after turn, and bursts add several lines of one beat per turn. The client never
sends the same text twice in a row, within a turn or across turns, and says every line of a
beat before it says one again, so a line comes back at most about `uses / lines` times.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.catalog import Catalog, Line
from app.engine.actors import OfflineActor, Reply, _pick
from app.engine.director import ClientState, observe, opening
from app.engine.script import Script, play_script
from app.models import PracticeSession

PERSONAS = [
    "after-hours-caller",
    "disorganized",
    "doesnt-listen",
    "endless-whatsapp",
    "free-advice-seeker",
    "impossible-idea",
    "loyal-debtor",
    "needs-approval",
    "yes-then-sells",
]
DRILLS = Path(__file__).resolve().parents[1] / "transcripts" / "drills"

# one-word replies, as in the review's reproduction and its longer "neutral" runs
PASSIVE = {
    "it": ["Ok", "Certo", "Ok", "D'accordo", "Ok", "Ok", "Ok", "Ok", "Ok", "Ok"],
    "en": ["Ok", "Sure", "Ok", "Fine", "Ok", "Ok", "Ok", "Ok", "Ok", "Ok"],
}
NODDING = {
    "it": "Capisco. / Ok. / Vada avanti. / Certo. / Mh. / Va bene. / Interessante. / Ah sì. / "
    "Capisco bene. / D'accordo. / Ok, chiaro. / Sì. / Prosegua. / Bene.",
    "en": "I see. / OK. / Go on. / Sure. / Mm. / Fine. / Interesting. / Oh yes. / Understood. / "
    "Right. / OK, clear. / Yes. / Carry on. / Good.",
}

# a trainee who answers the doesnt-listen client's questions one by one, so his question
# bursts run every turn (review: IT seed 91 and EN seed 92, medium)
ANSWERING = {
    "it": [
        "Buongiorno, le rispondo subito: il sito conviene rifarlo da zero.",
        "Per i social le consiglio Instagram e Facebook.",
        "Un piano completo richiede circa due mesi.",
        "La newsletter funziona ancora, le consiglio di farla.",
        "I video aiutano, ma non è obbligatorio metterci la faccia.",
        "LinkedIn serve anche a voi, per i rivenditori.",
        "Il costo dipende dal lavoro, le mando un preventivo.",
        "Sì, ho lavorato con aziende simili.",
        "Le consiglio di partire dal sito.",
        "Google Ads funziona se ben gestito.",
        "Il sito attuale si può anche sistemare.",
        "Quindi partiamo?",
    ],
    "en": [
        "Good morning, to answer right away: you should rebuild the site from scratch.",
        "For social media I'd recommend Instagram and Facebook.",
        "A full plan takes about two months.",
        "Newsletters still work, you should do one.",
        "Videos help, but you don't have to show your face.",
        "LinkedIn is useful for you too, for dealers.",
        "The cost depends on the work, I'll send you a quote.",
        "Yes, I've worked with similar companies.",
        "You should start with the site.",
        "Google Ads works if managed well.",
        "The current site could also be fixed.",
        "So, shall we start?",
    ],
}


def _play(
    catalog: Catalog, persona: str, language: str, turns: list[str], difficulty: str, seed: int
) -> Script:
    return play_script(
        catalog=catalog,
        persona=catalog.personas[persona],
        language=language,  # type: ignore[arg-type]
        difficulty=difficulty,  # type: ignore[arg-type]
        seed=seed,
        turns=turns,
        actor=OfflineActor.for_catalog(catalog),
    )


def assert_varied(catalog: Catalog, persona: str, script: Script, label: str) -> None:
    """No text twice in a row (within a turn or across turns), and no line said more often
    than its beat forces: a beat with `n` lines said `m` times repeats each at most
    ceil(m / n) times (and twice is always allowed)."""
    turns = [script.opening] + [t.replies for t in script.turns]
    for k, replies in enumerate(turns):
        texts = [r.content for r in replies]
        assert len(texts) == len(set(texts)), (label, k, texts)
    said = [r.content for r in script.replies]
    for k in range(1, len(said)):
        assert said[k] != said[k - 1], (label, k, said[k])

    lines = catalog.personas[persona].lines
    picks: Counter[tuple[str, object]] = Counter()
    for replies in turns:
        seen: set[tuple[str, object]] = set()
        for r in replies:  # a line of several messages is one pick
            key = (r.beat, r.meta["line"])
            if key not in seen:
                picks[key] += 1
                seen.add(key)
    per_beat: Counter[str] = Counter()
    for (beat, _), count in picks.items():
        per_beat[beat] += count
    for (beat, index), count in picks.items():
        bound = max(2, math.ceil(per_beat[beat] / len(lines[beat])))
        text = lines[beat][index].en[0]  # type: ignore[index]
        assert count <= bound, (label, beat, index, text, count, per_beat[beat], len(lines[beat]))


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_a_passive_trainee_does_not_hear_the_same_line_over_and_over(
    catalog: Catalog, persona: str, language: str
) -> None:
    for turns in (PASSIVE[language], NODDING[language].split(" / ")):
        for difficulty in ("easy", "medium", "hard"):
            for seed in (5, 91, 92):
                script = _play(catalog, persona, language, turns, difficulty, seed)
                label = f"{persona} {language} {difficulty} seed {seed}"
                assert_varied(catalog, persona, script, label)


@pytest.mark.parametrize(("language", "seed"), [("it", 91), ("en", 92)])
def test_a_burst_never_sends_the_same_message_twice(
    catalog: Catalog, language: str, seed: int
) -> None:
    # the review's sessions: "E comunque sto ancora aspettando di sapere quanto costa." ×2
    for difficulty in ("medium", "easy", "hard"):  # the review's session first
        for s in (seed, seed + 1, seed + 2):
            script = _play(catalog, "doesnt-listen", language, ANSWERING[language], difficulty, s)
            bursts = [t for t in script.turns if len(t.replies) > 2]
            assert bursts, "the answering trainee should keep his questions coming"
            assert_varied(catalog, "doesnt-listen", script, f"{language} {difficulty} seed {s}")


def test_the_drills_are_varied_too(catalog: Catalog) -> None:
    for path in sorted(DRILLS.glob("*.yaml")):
        drill = yaml.safe_load(path.read_text(encoding="utf-8"))
        script = _play(
            catalog,
            drill["persona"],
            drill["language"],
            drill["turns"],
            drill["difficulty"],
            drill["seed"],
        )
        assert_varied(catalog, drill["persona"], script, path.name)


def test_no_client_message_comes_twice_in_a_session(catalog: Catalog) -> None:
    """Not even in a burst: the free-advice seeker's screenshot bursts sent the same attachment
    twice ("📎 draft_post_office.png") once the beat had nothing new; now the burst stops
    short. Every drill's turns, at every level, five seeds."""
    for path in sorted(DRILLS.glob("*.yaml")):
        drill = yaml.safe_load(path.read_text(encoding="utf-8"))
        for difficulty in ("easy", "medium", "hard"):
            for seed in range(5):
                script = _play(
                    catalog, drill["persona"], drill["language"], drill["turns"], difficulty, seed
                )
                sent = Counter(reply.content for reply in script.replies)
                twice = [text for text, times in sent.items() if times > 1]
                assert not twice, f"{path.name} {difficulty} seed {seed}: {twice}"


def test_the_same_seed_still_plays_the_same_session(catalog: Catalog) -> None:
    def run(seed: int) -> list[str]:
        script = _play(catalog, "yes-then-sells", "en", PASSIVE["en"], "easy", seed)
        return [m.content for m in script.transcript]

    assert run(5) == run(5)
    assert run(5) != run(6)


# ---------------------------------------------------------------- the order of preference


def _line(text: str, mood: str | None = None, phase: list[str] | None = None) -> Line:
    return Line.model_validate({"it": text, "en": text, "mood": mood, "phase": phase})


def _state(trust: float, patience: float = 80, phase: str = "testing") -> ClientState:
    meters = {"trust": trust, "patience": patience}
    return ClientState(difficulty="easy", meters=meters, phase=phase)  # type: ignore[arg-type]


def _order(lines: list[Line], state: ClientState, rounds: int, seed: int = 1) -> list[str]:
    """The texts picked for the beat, one after another, recording each pick."""
    used: list[int] = []
    rng = random.Random(seed)
    for _ in range(rounds):
        used.append(_pick(lines, used, state, rng))
    return [lines[i].en[0] for i in used]


def test_unused_lines_come_before_a_repeat_best_fit_first() -> None:
    lines = [
        _line("warm", "warm"),
        _line("cold", "cold"),
        _line("untagged"),
        _line("neutral", "neutral"),
        _line("later", None, ["closing"]),
    ]
    cold = _state(trust=10)  # cold: the next mood is neutral, the opposite warm
    # the mood first, then untagged, then the next mood, then the opposite one, then a line
    # for another phase; only then a repeat, the least said and least recent first
    assert _order(lines, cold, 10) == [
        *["cold", "untagged", "neutral", "warm", "later"],
        *["cold", "untagged", "neutral", "warm", "later"],
    ]
    warm = _state(trust=80, phase="closing")  # "later" fits now, as well as "untagged"
    order = _order(lines, warm, 5)
    assert order[0] == "warm" and set(order[1:3]) == {"untagged", "later"}
    assert order[3:] == ["neutral", "cold"]


def test_a_repeat_goes_to_the_least_recently_said_line() -> None:
    lines = [_line("a", "neutral"), _line("b", "neutral")]
    state = _state(trust=40)
    first = _order(lines, state, 6, seed=3)
    assert first[:2] in (["a", "b"], ["b", "a"])
    assert first == first[:2] * 3  # alternating, never the same twice in a row
    assert first == _order(lines, state, 6, seed=3)  # and deterministic for a seed


def test_a_line_just_said_is_avoided_while_the_beat_has_another() -> None:
    lines = [_line("same", "neutral"), _line("other", "cold")]
    state = _state(trust=40)  # neutral: "same" fits better
    rng = random.Random(1)
    assert _pick(lines, [], state, rng) == 0
    just_said = {"same"}
    assert _pick(lines, [], state, rng, lambda line: int(line.en[0] in just_said)) == 1
    only = [_line("same")]
    assert _pick(only, [0], state, rng, lambda line: 1) == 0  # no choice: said anyway


# ---------------------------------------------------------------- stored states


def test_states_stored_before_the_fix_still_load_and_play(catalog: Catalog) -> None:
    """`state.used_lines` keeps its format: beat → the indices said, in order, repeats
    included. A state the old actor stored (a line said over and over, or no record at all)
    loads as it is, and the next pick moves on to the least said line."""
    persona = catalog.personas["yes-then-sells"]
    state, _ = opening(persona, "easy")
    stored = state.model_dump(mode="json")
    stored["used_lines"] = {"opening": [1], "neutral": [3, 0, 1, 2, 3, 3, 3]}
    stored["turn"] = 7
    old = ClientState.model_validate(stored)
    new, directive = observe(catalog, persona, old, set())
    assert directive.beat == "neutral"
    replies = [
        item
        for item in OfflineActor.for_catalog(catalog).reply(
            persona=persona,
            language="en",
            state=new,
            directive=directive,
            history=[("client", "Fine. But what's the point?"), ("trainee", "Ok")],
            seed=5,
        )
        if isinstance(item, Reply)
    ]
    # not line 3 again (said four times, and just now): the least said, least recent one
    assert [r.meta["line"] for r in replies] == [0]
    assert new.used_lines["neutral"] == [3, 0, 1, 2, 3, 3, 3, replies[0].meta["line"]]
    dumped = new.model_dump(mode="json")["used_lines"]
    assert all(isinstance(i, int) for picks in dumped.values() for i in picks)

    del stored["used_lines"]  # a state from before lines were recorded at all
    assert ClientState.model_validate(stored).used_lines == {}


# ---------------------------------------------------------------- through the service


def play_over_api(
    client: TestClient, body: dict[str, object], turns: list[str]
) -> tuple[str, list[tuple[str, str]]]:
    """A session played through the REST API until the turns run out or the client ends it:
    its id and the stored (role, content) of every message."""
    started = client.post("/api/sessions", json=body)
    assert started.status_code == 201, started.text
    sid = started.json()["session"]["id"]
    for text in turns:
        response = client.post(f"/api/sessions/{sid}/messages", json={"content": text})
        assert response.status_code == 200, response.text
        if response.json()["session"]["status"] != "active":
            break
    messages = client.get(f"/api/sessions/{sid}").json()["messages"]
    return sid, [(m["role"], m["content"]) for m in messages]


def test_the_service_plays_the_same_varied_session(client: TestClient, catalog: Catalog) -> None:
    """The service hands the actor the stored conversation: same lines as in memory."""
    body = {"persona_id": "yes-then-sells", "language": "en", "difficulty": "easy", "seed": 5}
    sid, said = play_over_api(client, body, PASSIVE["en"])
    script = _play(catalog, "yes-then-sells", "en", PASSIVE["en"], "easy", 5)
    assert said == [(m.role, m.content) for m in script.transcript]
    assert_varied(catalog, "yes-then-sells", script, "service")
    with Session(client.app.state.engine) as db:  # type: ignore[attr-defined]
        record = db.get(PracticeSession, sid)
        assert record is not None
        stored = ClientState.model_validate(record.state)  # the JSON column, as it is loaded
    assert stored.used_lines == script.final.used_lines
