"""The director's rules and the offline actor, on a small fixture card (tests/fixtures)."""

from pathlib import Path

import pytest

from app.catalog import Catalog, load_catalog
from app.engine.actors import OfflineActor, Reply
from app.engine.director import ClientState, Directive, observe, opening

FIXTURES = Path(__file__).parent / "fixtures" / "personas"


@pytest.fixture(scope="module")
def fixture_catalog() -> Catalog:
    return load_catalog(personas_dir=FIXTURES)


def play(catalog: Catalog, state: ClientState, directive: Directive, seed: int = 7) -> list[str]:
    persona = catalog.personas["test-client"]
    items = OfflineActor.for_catalog(catalog).reply(
        persona=persona, language="en", state=state, directive=directive, history=[], seed=seed
    )
    return [i.content for i in items if isinstance(i, Reply)]


def test_opening_bursts_when_the_anxiety_meter_is_high(fixture_catalog: Catalog) -> None:
    persona = fixture_catalog.personas["test-client"]
    calm_state, directive = opening(persona, "easy")  # anxiety 30 < 50
    assert play(fixture_catalog, calm_state, directive) == ["Good morning."]
    anxious, directive = opening(persona, "hard")  # anxiety 90: 1 + (90-50)//20 = 3 → capped at 2
    messages = play(fixture_catalog, anxious, directive)
    assert messages[0] == "Good morning." and len(messages) == 3


def test_advice_makes_the_client_agree_then_do_the_opposite(fixture_catalog: Catalog) -> None:
    persona = fixture_catalog.personas["test-client"]
    state, _ = opening(persona, "easy")
    state, directive = observe(fixture_catalog, persona, state, {"advice"})
    assert directive.beat == "agree" and state.pending_beat == "reverse"
    state, directive = observe(fixture_catalog, persona, state, set())
    assert directive.beat == "reverse"
    assert play(fixture_catalog, state, directive) == ["I did the opposite.", "Sorry."]
    # max_times: 1 — advice no longer triggers the rule
    state, directive = observe(fixture_catalog, persona, state, {"advice"})
    assert directive.beat == "react_advice"


def test_moves_change_meters_scaled_by_difficulty(fixture_catalog: Catalog) -> None:
    persona = fixture_catalog.personas["test-client"]
    easy, _ = opening(persona, "easy")
    hard, _ = opening(persona, "hard")
    easy_after, d = observe(fixture_catalog, persona, easy, {"lecture"})
    hard_after, _ = observe(fixture_catalog, persona, hard, {"lecture"})
    assert d.beat == "react_hard"
    assert easy_after.meters["trust"] == pytest.approx(50 - 10 * 0.5)
    assert hard_after.meters["trust"] == pytest.approx(0)  # 20 - 10*2, clamped at 0
    boundary, _ = observe(fixture_catalog, persona, easy, {"boundary"})
    assert boundary.meters["anxiety"] == pytest.approx(30 - 40 * 0.5)


def test_patience_running_out_makes_the_client_walk_away(fixture_catalog: Catalog) -> None:
    persona = fixture_catalog.personas["test-client"]
    state, _ = opening(persona, "medium")
    state, directive = observe(fixture_catalog, persona, state, {"lecture"})  # 60-30-2 = 28
    assert state.status == "active"
    state, directive = observe(fixture_catalog, persona, state, {"lecture"})  # -4 → 0
    assert directive.beat == "walk_away" and directive.end == "walked_away"
    assert state.status == "ended" and state.outcome == "walked_away"
    with pytest.raises(ValueError):
        observe(fixture_catalog, persona, state, {"question"})


def test_an_ending_trigger_beats_a_walk_away(fixture_catalog: Catalog) -> None:
    persona = fixture_catalog.personas["test-client"]
    state, _ = opening(persona, "medium")
    state = state.model_copy(update={"meters": {**state.meters, "patience": 1}})
    state, directive = observe(fixture_catalog, persona, state, {"terms"})
    assert directive.beat == "vanish" and state.outcome == "dismissed"


def test_agreement_only_from_the_testing_phase(fixture_catalog: Catalog) -> None:
    persona = fixture_catalog.personas["test-client"]
    state, _ = opening(persona, "easy")
    state, d1 = observe(fixture_catalog, persona, state, {"invite_discussion", "empathy"})
    assert state.meters["trust"] >= 60 and d1.beat == "react_soft" and state.phase == "exploring"
    state, d2 = observe(fixture_catalog, persona, state, {"question"})
    assert d2.beat == "answer_question"
    state, d3 = observe(fixture_catalog, persona, state, set())
    assert d3.beat == "agreement" and state.outcome == "agreement"


def test_turn_limit_ends_the_session(fixture_catalog: Catalog) -> None:
    persona = fixture_catalog.personas["test-client"]
    state, _ = opening(persona, "hard")  # turn_limit 5
    beats = []
    for _ in range(5):
        state, directive = observe(fixture_catalog, persona, state, {"thanks"})
        beats.append(directive.beat)
        if state.status == "ended":
            break
    assert state.outcome in {"turn_limit", "walked_away"}
    assert state.turn <= 5


def test_the_actor_is_deterministic_and_does_not_repeat_lines(fixture_catalog: Catalog) -> None:
    persona = fixture_catalog.personas["test-client"]

    def conversation(seed: int) -> list[str]:
        state, directive = opening(persona, "easy")
        said = play(fixture_catalog, state, directive, seed)
        for _ in range(2):
            state, directive = observe(fixture_catalog, persona, state, {"question"})
            said += play(fixture_catalog, state, directive, seed)
        return said

    first = conversation(3)
    assert first == conversation(3)
    answers = [m for m in first if m.startswith("Answer")]
    assert sorted(answers) == ["Answer one.", "Answer two."]  # both used before any repeat


def test_cold_mood_picks_cold_lines(fixture_catalog: Catalog) -> None:
    persona = fixture_catalog.personas["test-client"]
    state, _ = opening(persona, "easy")
    state = state.model_copy(update={"meters": {**state.meters, "trust": 10}})
    state, directive = observe(fixture_catalog, persona, state, {"question"})
    assert state.mood == "cold"
    assert play(fixture_catalog, state, directive) == ["Cold answer."]
