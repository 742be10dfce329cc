"""The nine persona cards, played end to end by the example drills (transcripts/drills).

Engine level only: director + offline actor + heuristic grader, in memory, no HTTP and no
database. Each drill file is checked against its own expectations; then, per persona, one
test shows the signature behaviour the domain brief (DOMAIN.md) describes, asserting on the
beats the director chose, the client's messages and the outcome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.catalog import Catalog
from app.engine.actors import OfflineActor, Reply
from app.engine.director import ClientState, opening
from app.engine.grader import GradeResult, TranscriptMessage, grade_heuristic
from app.engine.script import Script, Turn, play_script

DRILLS = Path(__file__).resolve().parents[1] / "transcripts" / "drills"
PERSONAS = [
    "yes-then-sells",
    "loyal-debtor",
    "impossible-idea",
    "after-hours-caller",
    "needs-approval",
    "endless-whatsapp",
    "disorganized",
    "free-advice-seeker",
    "doesnt-listen",
]
LANGUAGES = ["it", "en"]
DRILL_KEYS = {"persona", "language", "difficulty", "seed", "engine", "title", "turns", "expect"}
SUCCESS = {"agreement", "dismissed"}


# ---------------------------------------------------------------- playing a session


@dataclass
class Session:
    """A played script with its grade, as the tests read it."""

    script: Script
    grade: GradeResult

    @property
    def opening(self) -> list[Reply]:
        return self.script.opening

    @property
    def turns(self) -> list[Turn]:
        return self.script.turns

    @property
    def transcript(self) -> list[TranscriptMessage]:
        return self.script.transcript

    @property
    def final(self) -> ClientState:
        return self.script.final

    @property
    def outcome(self) -> str | None:
        return self.final.outcome

    @property
    def replies(self) -> list[Reply]:
        return self.script.replies

    def client_texts(self) -> list[str]:
        return [r.content for r in self.replies]


def play(
    catalog: Catalog,
    persona_id: str,
    language: str,
    turns: list[str],
    *,
    difficulty: str = "medium",
    seed: int = 1,
) -> Session:
    """Play scripted trainee turns in memory with the offline engine, then grade them.

    Turns after the session has ended are not played; a session still active after the last
    turn is closed by the trainee (`ended_by_trainee`), as a drill run would.
    """
    persona = catalog.personas[persona_id]
    script = play_script(
        catalog=catalog,
        persona=persona,
        language=language,  # type: ignore[arg-type]
        difficulty=difficulty,  # type: ignore[arg-type]
        seed=seed,
        turns=turns,
        actor=OfflineActor.for_catalog(catalog),
    )
    grade = grade_heuristic(catalog, persona, language, script.transcript)  # type: ignore[arg-type]
    return Session(script, grade)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def drill_path(persona: str, language: str, kind: str) -> Path:
    return DRILLS / f"{persona}-{language}-{kind}.yaml"


def play_drill(catalog: Catalog, path: Path) -> Session:
    drill = load(path)
    return play(
        catalog,
        drill["persona"],
        drill["language"],
        drill["turns"],
        difficulty=drill["difficulty"],
        seed=drill["seed"],
    )


_played: dict[Path, Session] = {}


def played(catalog: Catalog, persona: str, language: str, kind: str) -> Session:
    """A drill's session, played once per test run (sessions are not mutated by the tests)."""
    path = drill_path(persona, language, kind)
    if path not in _played:
        _played[path] = play_drill(catalog, path)
    return _played[path]


def texts_of(catalog: Catalog, persona: str, beat: str, language: str) -> set[str]:
    """Every message the card can say for a beat."""
    lines = catalog.personas[persona].lines[beat]
    return {text for line in lines for text in line.messages(language)}  # type: ignore[arg-type]


ALL_DRILLS = [
    (persona, language, kind)
    for persona in PERSONAS
    for language in LANGUAGES
    for kind in ("good", "poor")
]


def _drill_id(item: tuple[str, str, str]) -> str:
    return "-".join(item)


# ---------------------------------------------------------------- the drill files


def test_every_persona_has_a_good_and_a_poor_drill_per_language() -> None:
    expected = {drill_path(*item).name for item in ALL_DRILLS}
    assert {p.name for p in DRILLS.glob("*.yaml")} >= expected
    for item in ALL_DRILLS:
        drill = load(drill_path(*item))
        persona, language, kind = item
        assert set(drill) == DRILL_KEYS, drill_path(*item)
        assert (drill["persona"], drill["language"], drill["engine"]) == (
            persona,
            language,
            "offline",
        )
        assert 3 <= len(drill["turns"]) <= 8
        assert all(isinstance(t, str) and t.strip() for t in drill["turns"])
        assert drill["title"].strip() and "\n" not in drill["title"]
        bound = "min_score" if kind == "good" else "max_score"
        assert bound in drill["expect"] and drill["expect"]["outcome"]


@pytest.mark.parametrize("item", ALL_DRILLS, ids=_drill_id)
def test_drill_meets_its_expectations(catalog: Catalog, item: tuple[str, str, str]) -> None:
    persona, language, kind = item
    expect = load(drill_path(*item))["expect"]
    session = played(catalog, *item)
    grade = session.grade
    # every scripted turn is played: the session does not end before the script does
    assert len(session.turns) == len(load(drill_path(*item))["turns"])
    if "min_score" in expect:
        assert grade.score >= expect["min_score"]
    if "max_score" in expect:
        assert grade.score <= expect["max_score"]
    assert session.outcome in expect["outcome"]
    assert (session.outcome in SUCCESS) == (kind == "good")
    verdicts = {c.technique_id: c.verdict for c in grade.criteria}
    for technique, allowed in expect.get("verdicts", {}).items():
        assert verdicts[technique] in allowed, (technique, verdicts[technique])
    if kind == "good":
        assert grade.passed and "violated" not in verdicts.values()
    else:
        assert not grade.passed and "violated" in verdicts.values()


@pytest.mark.parametrize("item", ALL_DRILLS, ids=_drill_id)
def test_evidence_quotes_the_trainee_message_it_names(
    catalog: Catalog, item: tuple[str, str, str]
) -> None:
    session = played(catalog, *item)
    by_seq = {m.seq: m for m in session.transcript}
    quotes = [e for c in session.grade.criteria for e in c.evidence]
    assert quotes, "a graded drill quotes the trainee at least once"
    for evidence in quotes:
        message = by_seq[evidence.seq]
        assert message.role == "trainee"
        assert evidence.quote and evidence.quote in message.content


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_good_drill_scores_clearly_above_the_poor_one(
    catalog: Catalog, persona: str, language: str
) -> None:
    good = played(catalog, persona, language, "good").grade.score
    poor = played(catalog, persona, language, "poor").grade.score
    assert good - poor >= 30, (good, poor)


# ---------------------------------------------------------------- signature behaviours


def test_yes_then_sells_agrees_then_sells_and_follows_only_firm_advice(catalog: Catalog) -> None:
    # Advice once he has been heard out (advice in the first two messages is too early and only
    # hardens him: tests/test_meter_calibration.py).
    session = play(
        catalog,
        "yes-then-sells",
        "en",
        [
            "Before anything else: what matters most to you in all this?",
            "My impression is you want someone who holds the line. Is that right?",
            "Let me be clear: you should keep the foreign shares for now.",
            "Good. Shall we look at the inheritance next time?",
            "Honestly, maybe we should part ways.",
        ],
    )
    says_yes, sold, dropped = session.turns[2:]
    # a warm "yes" to the advice...
    assert says_yes.beat == "says_yes" and says_yes.state.pending_beat == "sold_anyway"
    assert says_yes.replies[0].content in texts_of(catalog, "yes-then-sells", "says_yes", "en")
    # ...and on the next turn he reports he sold anyway
    assert sold.beat == "sold_anyway" and sold.meters["sold_count"] == 1
    # trying to drop him makes him ask for another meeting; he does not leave
    assert dropped.beat == "asks_meeting" and dropped.state.status == "active"
    # hesitation costs trust fast
    assert dropped.meters["trust"] < dropped.before["trust"] - 5

    for language in LANGUAGES:
        poor = played(catalog, "yes-then-sells", language, "poor")
        assert [t.beat for t in poor.turns[:2]] == ["says_yes", "sold_anyway"]
        good = played(catalog, "yes-then-sells", language, "good")
        last = good.turns[-1]
        assert {"advice", "firm"} <= last.moves and last.meters["sold_count"] == 0
        assert last.directive.trigger == "follows-firm-advice" and good.outcome == "agreement"


@pytest.mark.parametrize("language", LANGUAGES)
def test_yes_then_sells_never_leaves_a_hesitant_advisor_for_good(
    catalog: Catalog, language: str
) -> None:
    """A weak style loses his compliance, not his presence (article 000): trust can hit the
    floor and he still stays; only his patience ends today's meeting, and he will call again."""
    hesitant = {
        "it": "Scusi, forse... non so se vendere sia una buona idea, magari aspetterei.",
        "en": "Sorry, maybe... I'm not sure selling is a good idea, perhaps I'd wait.",
    }[language]
    session = play(catalog, "yes-then-sells", language, [hesitant] * 12)
    third = session.turns[2]
    assert third.meters["trust"] <= 5 and third.state.status == "active"
    *before, last = session.turns
    assert len(before) >= 3 and "walk_away" not in [t.beat for t in before]
    # his patience runs out: today's meeting is over, and he will be in touch again
    assert last.beat == "walk_away" and last.meters["patience"] < 5
    assert session.outcome == "walked_away"
    said = " ".join(r.content for r in last.replies)
    assert said in texts_of(catalog, "yes-then-sells", "walk_away", language)
    assert re.search(r"La richiamo|I.ll call you", said)
    assert catalog.personas["yes-then-sells"].walk_away.keys() == {"patience"}


def test_loyal_debtor_is_hurt_by_an_email_demand_but_agrees_to_a_plan_in_person(
    catalog: Catalog,
) -> None:
    for language in LANGUAGES:
        poor = played(catalog, "loyal-debtor", language, "poor")
        friendly, email = poor.turns[0], poor.turns[1]
        assert friendly.beat == "neutral"
        assert {"payment_talk", "email_channel"} <= email.moves
        assert email.beat == "offended_by_email"
        assert email.meters["trust"] <= email.before["trust"] - 15  # trust drops
        assert email.meters["hurt"] >= email.before["hurt"] + 30  # hurt rises
        # a second e-mail demand while hurt ends the relationship
        assert poor.turns[-1].directive.trigger == "second-cold-email"
        assert poor.outcome == "walked_away"

        good = played(catalog, "loyal-debtor", language, "good")
        assert "email_channel" not in set().union(*(t.moves for t in good.turns))
        care = next(t for t in good.turns if "payment_talk" in t.moves)
        assert care.beat == "opens_up" and care.meters["hurt"] < care.before["hurt"]
        plan = good.turns[-1]
        assert "payment_plan" in plan.moves and plan.beat == "agreement"
        assert plan.meters["plan"] >= 50 and plan.meters["hurt"] <= 30
        assert good.outcome == "agreement"


# The play review's loyal-debtor path (IT seed 12, hard): a blunt reminder, then two e-mails.
BLUNT_THEN_EMAILS = {
    "it": [
        "Le scrivo per ricordarle le tre fatture insolute.",
        "Le invio una mail con il sollecito di pagamento.",
        "Le inoltro un'altra mail con il sollecito di pagamento, così lo ha per iscritto.",
    ],
    "en": [
        "I'm writing to remind you of the three unpaid invoices.",
        "I'll send you an e-mail with the payment reminder.",
        "I'll forward you another e-mail with the payment reminder, so you have it in writing.",
    ],
}
SOOTHING = {
    "it": "Capisco, è un periodo durissimo. Non si preoccupi, troveremo insieme il modo.",
    "en": "I understand, it's a very hard time. Don't worry, we'll find a way together.",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_loyal_debtor_first_cold_email_offends_and_only_the_second_ends_it(
    catalog: Catalog, language: str, difficulty: str
) -> None:
    """At hard the first e-mail used to end the session at once (the 'second e-mail' rule only
    tested hurt >= 40, and hard starts near it), so the trainee never heard why he was hurt."""
    blunt, first, second = BLUNT_THEN_EMAILS[language]
    offended = texts_of(catalog, "loyal-debtor", "offended_by_email", language)
    for turns in ([blunt, first, second], [first, second], [first, SOOTHING[language], second]):
        session = play(catalog, "loyal-debtor", language, turns, difficulty=difficulty)
        assert len(session.turns) == len(turns)  # nothing ends before the second e-mail
        email, last = session.turns[turns.index(first)], session.turns[-1]
        assert {"payment_talk", "email_channel"} <= email.moves
        assert email.beat == "offended_by_email" and email.state.status == "active", turns
        assert {r.content for r in email.replies} <= offended
        assert email.meters["hurt"] >= email.before["hurt"] + 30
        assert {"payment_talk", "email_channel"} <= last.moves
        assert last.directive.trigger == "second-cold-email" and last.beat == "walk_away"
        assert session.outcome == "walked_away"
    # the last script soothed him between the e-mails: the second one ends it all the same
    assert session.turns[1].meters["hurt"] < session.turns[0].meters["hurt"]


def test_impossible_idea_digs_in_after_a_lecture_and_takes_an_alternative_he_can_discuss(
    catalog: Catalog,
) -> None:
    for language in LANGUAGES:
        poor = played(catalog, "impossible-idea", language, "poor")
        lecture = poor.turns[0]
        assert "lecture" in lecture.moves and lecture.beat == "digs_in"
        assert lecture.meters["control"] < lecture.before["control"]
        assert poor.turns[1].beat == "digs_in"  # "it's impossible" and nothing else
        assert poor.outcome == "walked_away"

        good = played(catalog, "impossible-idea", language, "good")
        assert good.turns[0].beat == "complaint_details"  # checked: one real fault
        assert good.turns[1].beat == "accepts_apology"
        last = good.turns[-1]
        assert {"alternative", "invite_discussion"} <= last.moves
        assert last.directive.trigger == "takes-the-reins" and good.outcome == "agreement"

    # the same alternative imposed without asking his view: he wants his say
    script = load(drill_path("impossible-idea", "en", "good"))["turns"]
    imposed = script[:3] + [
        "Given three weeks and the budget, I'd suggest a simpler version instead: a gallery "
        "of your kitchens with a request form."
    ]
    session = play(catalog, "impossible-idea", "en", imposed)
    last = session.turns[-1]
    assert "alternative" in last.moves and "invite_discussion" not in last.moves
    assert last.beat == "wants_say" and session.outcome != "agreement"


def test_after_hours_caller_insults_a_calm_boundary_and_hangs_up_when_it_holds(
    catalog: Catalog,
) -> None:
    for language in LANGUAGES:
        good = played(catalog, "after-hours-caller", language, "good")
        first_boundary = next(i for i, t in enumerate(good.turns) if "boundary" in t.moves)
        insult = good.turns[first_boundary]
        assert insult.beat == "insults"
        assert insult.replies[0].content in texts_of(
            catalog, "after-hours-caller", "insults", language
        )
        held = good.turns[first_boundary + 1]
        assert "boundary" in held.moves and not held.moves & {"offence", "rude", "gives_in"}
        assert held.beat == "hangs_up" and good.outcome == "dismissed"

        # answering on the merits and giving in: he will call again, and the habit is made
        poor = played(catalog, "after-hours-caller", language, "poor")
        assert "will_call_again" in [t.beat for t in poor.turns]
        assert poor.turns[-1].beat == "hangs_up_pleased" and poor.outcome == "walked_away"
        assert poor.turns[-1].meters["habit"] >= 80


CALM_BOUNDARY = {
    "it": "Buonasera. Dopo le 21 non rispondo: mi chiami domani in studio, dalle 9 alle 18.",
    "en": "Good evening. I don't take calls after 9 pm: call my office tomorrow, from 9 to 6.",
}


@pytest.mark.parametrize(
    ("language", "goodbye"),
    [
        ("it", "Non discuto. Buonanotte, signor Marcon."),
        ("it", "Lasciamo perdere. La saluto."),
        ("en", "I won't argue. Good night, Mr Marcon."),
        ("en", "I'm not going to discuss it further. Goodbye."),
    ],
)
def test_after_hours_caller_ending_the_call_calmly_after_the_insults_is_a_success(
    catalog: Catalog, language: str, goodbye: str
) -> None:
    """Article 001: no working relationship, and 003: a rude client may be left. A calm goodbye
    once he insults you ends the call with no night-time consultation given."""
    session = play(catalog, "after-hours-caller", language, [CALM_BOUNDARY[language], goodbye])
    insult, closed = session.turns
    assert insult.beat == "insults"
    assert closed.moves & {"close_call", "leave"} and closed.directive.trigger == "call-closed"
    assert closed.beat == "hangs_up" and session.outcome == "dismissed"
    verdicts = {c.technique_id: c.verdict for c in session.grade.criteria}
    assert "violated" not in verdicts.values(), verdicts  # a calm close breaks no technique


@pytest.mark.parametrize(
    ("language", "goodbye"),
    [
        ("it", "Maleducato sarà lei, cafone! Buonanotte."),
        ("en", "You're the idiot here! Good night."),
    ],
)
def test_after_hours_caller_a_goodbye_with_an_insult_is_no_calm_close(
    catalog: Catalog, language: str, goodbye: str
) -> None:
    session = play(catalog, "after-hours-caller", language, [CALM_BOUNDARY[language], goodbye])
    closed = session.turns[-1]
    assert "close_call" in closed.moves and "rude" in closed.moves
    assert closed.directive.trigger != "call-closed" and session.outcome != "dismissed"


def test_after_hours_caller_hangs_up_when_the_quarrel_takes_him_past_his_limit(
    catalog: Catalog,
) -> None:
    """The play review (EN seed 34, easy): the escalation's +10 took anger to 88 against the
    walk-away limit of 80, but the limit was checked before it, so he kept ranting. The
    walk-away now sees the meters after this turn's rules, as the trainee does."""
    turns = [
        "Sure, go ahead, no problem.",
        "So, I'd advise you to read the deposit clause carefully before signing.",
        "How dare you talk to me like that? You're rude!",
        "Never call me again, idiot.",
    ]
    session = play(catalog, "after-hours-caller", "en", turns, difficulty="easy", seed=34)
    insult = session.turns[-1]
    limit = catalog.personas["after-hours-caller"].walk_away["anger"].max
    assert limit is not None and insult.before["anger"] <= limit < insult.meters["anger"]
    assert insult.directive.trigger == "escalates"  # its effect is what takes him over
    assert insult.beat == "walk_away" and session.outcome == "walked_away"
    # he slams the phone down: one walk-away line, no rant after it
    assert [r.beat for r in insult.replies] == ["walk_away"]
    said = insult.replies[0].content
    assert said in texts_of(catalog, "after-hours-caller", "walk_away", "en")


def _out_of_bounds(catalog: Catalog, persona: str, meters: dict[str, float]) -> list[str]:
    bounds = catalog.personas[persona].walk_away
    return [m for m, bound in bounds.items() if not bound.holds(meters[m])]


@pytest.mark.parametrize("item", ALL_DRILLS, ids=_drill_id)
def test_no_client_stays_with_a_meter_past_his_walk_away_limit(
    catalog: Catalog, item: tuple[str, str, str]
) -> None:
    """Whatever the rules did this turn, the meters the trainee sees and the client's staying
    agree: a meter out of a walk-away bound means the session has ended. Played on every drill
    and, to reach the limits, on its trainee turns said over and over up to the turn limit."""
    persona, language, kind = item
    drill = load(drill_path(*item))
    limit = catalog.personas[persona].difficulty[drill["difficulty"]].turn_limit
    for turns in (drill["turns"], [*drill["turns"] * limit][:limit]):
        for difficulty in ("easy", "medium", "hard"):
            session = play(catalog, persona, language, turns, difficulty=difficulty)
            for turn in session.turns:
                if _out_of_bounds(catalog, persona, turn.meters):
                    assert turn.state.status == "ended", (difficulty, turn.text, turn.meters)


def test_after_hours_caller_gets_his_number_from_an_acquaintance(catalog: Catalog) -> None:
    """However he tells it, the number came from someone he knows, never from the internet or a
    stranger at the bar."""
    card = catalog.personas["after-hours-caller"]
    for language in LANGUAGES:
        said = " ".join(
            text
            for beat in ("opening", "answer_question")
            for line in card.lines[beat]
            for text in line.messages(language)  # type: ignore[arg-type]
        )
        assert not re.search(r"internet|online|al bar|at the bar", said, re.I), said


def test_impossible_idea_details_the_complaint_only_once(catalog: Catalog) -> None:
    check = "What exactly isn't working? Let me check the form."
    session = play(catalog, "impossible-idea", "en", [check, check])
    assert [t.beat for t in session.turns][0] == "complaint_details"
    assert session.turns[1].beat != "complaint_details"


def test_endless_whatsapp_missed_calls_are_earlier_ones(catalog: Catalog) -> None:
    """The missed-call beat comes right after the trainee's reply: it reports calls that went
    unanswered earlier, never asks someone who has just answered why they don't."""
    past = {
        "it": r"\b(?:ieri|stanotte|stamattina)\b",
        "en": r"\b(?:last night|yesterday|this morning)\b",
    }
    now = {
        "it": r"perché non rispondi|non rispondi\?",
        "en": r"why aren.t you answering|not answering\?",
    }
    for line in catalog.personas["endless-whatsapp"].lines["missed_call"]:
        for language in LANGUAGES:
            said = " ".join(line.messages(language))  # type: ignore[arg-type]
            assert re.search(past[language], said, re.I), said
            assert not re.search(now[language], said, re.I), said


def test_needs_approval_asks_for_a_holiday_at_8_and_resists_manuals(catalog: Catalog) -> None:
    holiday = {
        "en": re.compile(r"holiday", re.I),
        "it": re.compile(r"\bfest[ao]\b|festiv|immacolata|8 dicembre", re.I),
    }
    for language in LANGUAGES:
        # whichever opening the seed picks, they ask for the holiday at 8 in the morning
        for line in catalog.personas["needs-approval"].lines["opening"]:
            said = " ".join(line.messages(language))  # type: ignore[arg-type]
            assert holiday[language].search(said) and re.search(r"\b8\b", said), said

        poor = played(catalog, "needs-approval", language, "poor")
        advised = [t for t in poor.turns if "advice" in t.moves]
        assert [t.beat for t in advised[:2]] == ["no_manuals", "no_manuals"]
        assert all(t.meters["trust"] < t.before["trust"] for t in advised)
        assert poor.outcome == "walked_away"

        good = played(catalog, "needs-approval", language, "good")
        beats = [t.beat for t in good.turns]
        # listened to, they reveal the extended need; their own initiative is guided, not scolded
        assert "extended_need" in beats and "own_thing" in beats
        assert beats[beats.index("own_thing") + 1] == "feel_guided"
        assert "advice" not in set().union(*(t.moves for t in good.turns))
        assert good.outcome == "agreement"


CANCELS = {
    "en": re.compile(r"forget|ignore|cancel|take back|actually no|changed my mind|no, wait", re.I),
    "it": re.compile(r"lascia perdere|dimentica|ignora|annulla|ritiro|anzi no|cambiato idea", re.I),
}


def test_endless_whatsapp_floods_while_anxious_and_calms_with_boundaries(
    catalog: Catalog,
) -> None:
    for language in LANGUAGES:
        poor = played(catalog, "endless-whatsapp", language, "poor")
        for turn in poor.turns:
            if turn.state.status == "active" and turn.meters["anxiety"] >= 55:
                assert len(turn.replies) >= 2 and "flood" in turn.beats
        flood = [r.content for r in poor.replies if r.beat == "flood"]
        assert len(flood) >= 4
        assert any(CANCELS[language].search(text) for text in flood), flood
        assert poor.turns[0].beat == "more_demands"  # giving in feeds the habit
        assert poor.outcome == "walked_away"

        good = played(catalog, "endless-whatsapp", language, "good")
        relief = good.turns[0]
        assert "boundary" in relief.moves and relief.beat == "boundary_relief"
        assert relief.meters["anxiety"] <= relief.before["anxiety"] - 20
        assert "flood" in [r.beat for r in good.opening]  # anxious at the start...
        assert not [b for t in good.turns for b in t.beats if b == "flood"]  # ...calm after
        assert "goals_clarified" in [t.beat for t in good.turns]
        assert good.outcome == "agreement"


def test_disorganized_has_mishaps_and_responds_to_lent_organisation(catalog: Catalog) -> None:
    mishaps = {
        "en": re.compile(r"password|wrong place|forgot|appointment|number|can.t find", re.I),
        "it": re.compile(r"password|posto sbagliato|dimenticat|appuntamento|numero|trovo", re.I),
    }
    for language in LANGUAGES:
        good = played(catalog, "disorganized", language, "good")
        poor = played(catalog, "disorganized", language, "poor")
        for session in (good, poor):
            assert mishaps[language].search(" ".join(r.content for r in session.opening))
            mishap = next(t for t in session.turns if t.beat == "mishap")
            said = texts_of(catalog, "disorganized", "mishap", language)
            assert mishap.replies and all(r.content in said for r in mishap.replies)
        after_good = good.turns[[t.beat for t in good.turns].index("mishap") + 1]
        assert "organization" in after_good.moves and after_good.beat == "relieved"
        assert good.turns[-1].meters["chaos"] <= 25 and good.outcome == "agreement"

        after_poor = poor.turns[[t.beat for t in poor.turns].index("mishap") + 1]
        assert "problem_dwelling" in after_poor.moves and after_poor.beat == "ashamed"
        assert poor.turns[-1].meters["chaos"] > poor.turns[0].before["chaos"]
        assert poor.outcome == "walked_away"

    # every mishap the card can play is one of the article's: lost e-mails and passwords,
    # numbers not saved, late or wrong quotes, appointments forgotten or in the wrong place
    for line in catalog.personas["disorganized"].lines["mishap"]:
        text = " ".join(line.messages("en"))
        assert re.search(
            r"password|number|quote|appointment|file|price list|e-mails?", text, re.I
        ), text


def test_free_advice_seeker_wants_more_for_free_and_vanishes_or_signs_at_the_rate(
    catalog: Catalog,
) -> None:
    for language in LANGUAGES:
        poor = played(catalog, "free-advice-seeker", language, "poor")
        beats = [t.beat for t in poor.turns]
        assert beats.count("one_more_question") >= 3 and "asks_discount" in beats
        discount = next(t for t in poor.turns if t.beat == "asks_discount")
        assert re.search(r"discount|sconto", " ".join(r.content for r in discount.replies))
        assert "screenshots" in [r.beat for r in poor.replies]
        assert poor.outcome == "walked_away"

        good = played(catalog, "free-advice-seeker", language, "good")
        beats = [t.beat for t in good.turns]
        assert "asks_discount" in beats
        assert beats[-2:] == ["haggles", "vanishes"]  # holds the rate: he vanishes
        assert good.outcome == "dismissed"  # a success for the trainee (article 004)

    one_more = texts_of(catalog, "free-advice-seeker", "one_more_question", "en")
    assert any(re.search(r"\bquick\b", text, re.I) for text in one_more)

    # rarely, when he really trusts you, the same firmness makes him sign
    signs = play(
        catalog,
        "free-advice-seeker",
        "en",
        [
            "Nice to meet you, my name is Sara. Tell me about your agency: who are your "
            "clients, and what do you expect from LinkedIn?",
            "So you want landlords to trust you before they call. What would success look "
            "like for you?",
            "The value of a clear profile is that it will help you get calls from the right "
            "owners. What do you think?",
            "My rate is 90 euros an hour and we sign a short contract. You'll have the first "
            "review by Friday.",
            "I'm convinced this is the right call for you: my rate stays the same, and the "
            "contract protects us both.",
        ],
        difficulty="easy",
    )
    assert signs.turns[-1].directive.trigger == "signs-once-terms-hold"
    assert signs.outcome == "agreement"


def test_doesnt_listen_fires_questions_ignores_advice_and_listens_after_paraphrase(
    catalog: Catalog,
) -> None:
    for language in LANGUAGES:
        for seed in range(1, 4):
            session = play(catalog, "doesnt-listen", language, [], seed=seed)
            assert sum(text.count("?") for text in session.client_texts()) >= 3

        poor = played(catalog, "doesnt-listen", language, "poor")
        advised = poor.turns[0]
        assert "advice" in advised.moves and advised.beat == "ignores_answer"
        assert advised.meters["listening"] < advised.before["listening"]
        assert "more_questions" in advised.beats
        assert poor.outcome == "walked_away"

        good = played(catalog, "doesnt-listen", language, "good")
        heard = next(t for t in good.turns if "paraphrase" in t.moves)
        assert heard.beat == "feels_heard"
        assert heard.meters["listening"] > heard.before["listening"]
        assert heard.meters["self_talk"] < heard.before["self_talk"]
        assert "advice" not in set().union(*(t.moves for t in good.turns))
        assert good.turns[-1].meters["listening"] >= 60 and good.outcome == "agreement"

    # explaining again after being talked over: he repeats his question
    session = play(
        catalog,
        "doesnt-listen",
        "en",
        [
            "You should start with a new website.",
            "You should really start with the website, then Instagram.",
        ],
    )
    assert [t.beat for t in session.turns] == ["ignores_answer", "repeats_question"]


# ---------------------------------------------------------------- lines that fit the moment

# Fillers are said after whatever the trainee wrote that moved nothing (a greeting, "sure, go
# ahead", "tell me everything"): they must not claim the trainee is silent, gone, refusing or
# pointless (the play review: "So? Are you going to help me or not?" after "Sure, go ahead").
PRESUMES_SILENCE = re.compile(
    r"c.è ancora\?|still there\?|respir|breathing|\bo no\?|\bor not\?|il punto, però|"
    r"what.s the point|^s[iì]\. e quindi\?$|^yes\. and so\?$",
    re.IGNORECASE,
)


@pytest.mark.parametrize("persona", PERSONAS)
def test_filler_lines_fit_whatever_the_trainee_just_said(catalog: Catalog, persona: str) -> None:
    for language in LANGUAGES:
        for text in texts_of(catalog, persona, "neutral", language):
            assert not PRESUMES_SILENCE.search(text), (persona, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_filler_lines_answer_a_go_ahead_without_contradicting_it(
    catalog: Catalog, language: str
) -> None:
    """The play review's cases, played: what the trainee says and the filler that follows."""
    said = {
        "it": ["Certo, dica pure, nessun problema.", "Ciao", "D'accordo."],
        "en": ["Sure, go ahead, no problem.", "Hello", "Okay."],
    }[language]
    for persona in ("after-hours-caller", "yes-then-sells", "endless-whatsapp"):
        for seed in range(6):
            session = play(catalog, persona, language, said, difficulty="easy", seed=seed)
            for turn in session.turns:
                assert not turn.moves & {"question", "open_question"}
                for reply in turn.replies:
                    assert not PRESUMES_SILENCE.search(reply.content), (turn.text, reply.content)


def test_yes_then_sells_never_asks_for_a_day_the_trainee_may_just_have_named(
    catalog: Catalog,
) -> None:
    """He reports the sale on the turn after his yes, whatever the trainee said: often a dated
    meeting ("see you on Friday to sign"). He keeps wanting to meet, without asking when."""
    day = re.compile(
        r"\bquando\b[^.!]*\?|\bwhen\b[^.!]*\?|luned|marted|mercoled|gioved|venerd|sabato|"
        r"monday|tuesday|wednesday|thursday|friday|saturday",
        re.IGNORECASE,
    )
    for language in LANGUAGES:
        texts = texts_of(catalog, "yes-then-sells", "sold_anyway", language)
        assert not [t for t in texts if day.search(t)], language
    session = play(
        catalog,
        "yes-then-sells",
        "it",
        [
            "Buongiorno Roberto. Prima di parlare di titoli, mi racconti: come prende di solito "
            "le sue decisioni?",
            "Ho l'impressione che lei cerchi qualcuno che tenga il punto. È così?",
            "Le dico chiaramente: le consiglio di tenere i titoli americani fino a marzo. Non ho "
            "dubbi.",
            "Allora ci vediamo venerdì per firmare il mandato.",
        ],
    )
    assert session.turns[-1].beat == "sold_anyway"


# Words of doubt the client may quote back as if the trainee had said them.
QUOTED_HEDGE = re.compile(
    r"[«\"“'‘](?:forse|magari|non so|maybe|perhaps|I.m not sure)\b", re.IGNORECASE
)


@pytest.mark.parametrize("persona", PERSONAS)
def test_reactions_to_the_trainee_quote_no_word_the_trainee_may_not_have_used(
    catalog: Catalog, persona: str
) -> None:
    """'«Forse»... quella parola a me costa soldi' came after 'Magari…' and 'Perhaps…'."""
    card = catalog.personas[persona]
    beats = {"react_hard", "react_soft", "react_advice", "neutral", "hears_doubt"} & set(card.lines)
    for beat in beats:
        for language in LANGUAGES:
            for text in texts_of(catalog, persona, beat, language):
                assert not QUOTED_HEDGE.search(text), (persona, beat, text)


@pytest.mark.parametrize(
    ("persona", "language", "slip"),
    [
        # "ricavare" is "to gain from"; the line asks his view ("what do you make of it?")
        ("doesnt-listen", "it", r"cosa ne ricava"),
        # an Italian "Sa che…?" carried over: a statement with a question mark
        ("doesnt-listen", "en", r"^You know, I.d never put it that clearly before\?"),
        ("needs-approval", "en", r"\bfor me and Chiara\b"),
        ("needs-approval", "it", r"\bper me e Chiara\b"),
    ],
)
def test_language_slips_found_in_play_are_gone(
    catalog: Catalog, persona: str, language: str, slip: str
) -> None:
    lines = [line for beat in catalog.personas[persona].lines.values() for line in beat]
    said = [text for line in lines for text in line.messages(language)]  # type: ignore[arg-type]
    assert not [text for text in said if re.search(slip, text)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_endless_whatsapp_opening_burst_tells_each_news_once(
    catalog: Catalog, language: str
) -> None:
    """IT seed 51: 'Ti ho scritto anche una mail stamattina. / Anzi tre, considera solo l'ultima'
    then, in the same burst, 'Ti ho mandato tre mail stamattina: ignora le prime due'."""
    persona = catalog.personas["endless-whatsapp"]
    mail = re.compile(r"\b(?:e-?)?mails?\b", re.IGNORECASE)
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(100):
            state, directive = opening(persona, difficulty)  # type: ignore[arg-type]
            said = [
                r.content
                for r in OfflineActor.for_catalog(catalog).reply(
                    persona=persona,
                    language=language,  # type: ignore[arg-type]
                    state=state,
                    directive=directive,
                    history=[],
                    seed=seed,
                )
                if isinstance(r, Reply)
            ]
            assert sum(bool(mail.search(m)) for m in said) <= 1, (difficulty, seed, said)
            firsts = [" ".join(m.split()[:2]).lower() for m in said]
            assert len(firsts) == len(set(firsts)), (difficulty, seed, said)


# ---------------------------------------------------------------- determinism and variety


@pytest.mark.parametrize("persona", PERSONAS)
def test_same_drill_and_seed_give_the_same_transcript(catalog: Catalog, persona: str) -> None:
    path = drill_path(persona, "en", "poor")
    first, second = play_drill(catalog, path), play_drill(catalog, path)
    assert [(m.role, m.content) for m in first.transcript] == [
        (m.role, m.content) for m in second.transcript
    ]
    assert [t.state for t in first.turns] == [t.state for t in second.turns]
    assert first.grade == second.grade


def _assert_no_early_repeats(catalog: Catalog, persona: str, session: Session) -> None:
    """A line is said again only once every line of its beat has been said, or asks what the
    trainee has answered (its `answered_by`: not asked at all).

    The actor records each line it picks, in order, in the state's `used_lines`.
    """
    lines = catalog.personas[persona].lines
    told = [turn.text for turn in session.turns]
    for beat, picks in session.final.used_lines.items():
        answered = {
            i
            for i, line in enumerate(lines[beat])
            if line.answered_by
            and any(line.answered_by.matches(t, lang) for t in told for lang in ("it", "en"))
        }
        for k, index in enumerate(picks):
            if index in picks[:k]:
                assert len(set(picks[:k]) | answered) == len(lines[beat]), (persona, beat, picks)


def test_no_client_line_repeats_while_the_beat_has_others(catalog: Catalog) -> None:
    # a long poor session: free tips until the turn limit, with screenshot bursts every turn
    tips = [
        "You should put 'property consultant' in your headline.",
        "You should post three times a week, in the morning.",
        "Of course, I'll give you a discount, no problem.",
        "You should add a short note to every connection request.",
        "You should use a photo of the shop window as your banner.",
        "You should list about fifteen skills.",
        "You should answer every comment within the day.",
        "You should pin your best post at the top.",
        "You should write your About section in the first person.",
        "You should share one client story a week.",
        "You should use three or four hashtags at most.",
        "You should post a short video of the office.",
    ]
    session = play(catalog, "free-advice-seeker", "en", tips)
    assert session.outcome == "turn_limit" and len(session.turns) == 12
    beats = [r.beat for r in session.replies]
    screenshots = len(catalog.personas["free-advice-seeker"].lines["screenshots"])
    assert beats.count("screenshots") > screenshots  # the beat had to repeat some lines
    _assert_no_early_repeats(catalog, "free-advice-seeker", session)

    for persona, language, kind in ALL_DRILLS:
        _assert_no_early_repeats(catalog, persona, played(catalog, persona, language, kind))


def _graded(catalog: Catalog, persona: str, lines: list[tuple[str, str]]) -> dict[str, Any]:
    messages = [
        TranscriptMessage(seq=i, role=role, content=text)  # type: ignore[arg-type]
        for i, (role, text) in enumerate(lines, start=1)
    ]
    result = grade_heuristic(catalog, catalog.personas[persona], "en", messages)
    return {c.technique_id: c for c in result.criteria}


def test_lecturing_leaves_discussion_uninvited_rather_than_violated(catalog: Catalog) -> None:
    """Coaches read a lecture as the discussion never invited (missed), not as its opposite;
    the quote still shows what to avoid."""
    lecture = "As I already explained, the algorithm obviously rewards consistency."
    graded = _graded(
        catalog,
        "needs-approval",
        [("client", "We posted forty photos at once."), ("trainee", lecture)],
    )
    invite = graded["invite-discussion"]
    assert invite.verdict == "missed" and invite.evidence[0].kind == "anti_pattern"
    assert invite.rationale.startswith("No sign of the technique: in its place")
    assert graded["no-superiority"].verdict == "violated"  # the same lecture, its opposite


def test_a_technique_the_trainee_uses_is_applicable_whatever_the_client_said(
    catalog: Catalog,
) -> None:
    """set-boundaries waits for calls at odd hours; a trainee who sets hours anyway has met
    the situation (the client's words just did not show it to the grader)."""
    quiet = [("client", "Hello, I wanted to talk about the contract.")]
    said = "Thanks. Just so you know, I answer calls from 9 to 6 on weekdays."
    graded = _graded(catalog, "after-hours-caller", [*quiet, ("trainee", said)])
    assert graded["set-boundaries"].verdict == "applied"
    silent = _graded(catalog, "after-hours-caller", [*quiet, ("trainee", "Tell me more.")])
    assert silent["set-boundaries"].verdict == "not_applicable"


def test_impossible_idea_digs_in_when_the_blame_goes_to_someone_else(catalog: Catalog) -> None:
    session = play(
        catalog,
        "impossible-idea",
        "en",
        ["The form works on our side. That'll be the hosting company, not something we manage."],
    )
    blamed = session.turns[0]
    assert "deflect" in blamed.moves and blamed.beat == "digs_in"
    assert blamed.meters["trust"] < blamed.before["trust"]


@pytest.mark.parametrize(
    ("language", "hesitant", "vague"),
    [
        (
            "it",
            "Forse terrei le azioni, non so.",
            "Magari le mando qualcosa la settimana prossima.",
        ),
        (
            "en",
            "Perhaps I'd keep the shares, I'm not sure.",
            "Maybe I'll send you something next week.",
        ),
    ],
)
def test_one_hesitant_sentence_is_one_slip_and_a_vague_promise_another(
    catalog: Catalog, language: str, hesitant: str, vague: str
) -> None:
    """A hesitant tone breaks adapt-style only; a vague promise is what breaks reliability."""
    persona = catalog.personas["yes-then-sells"]

    def verdicts(said: str) -> dict[str, str]:
        messages = [
            TranscriptMessage(seq=1, role="client", content="So, what do I do with the shares?"),
            TranscriptMessage(seq=2, role="trainee", content=said),
        ]
        result = grade_heuristic(catalog, persona, language, messages)  # type: ignore[arg-type]
        return {c.technique_id: c.verdict for c in result.criteria}

    tone = verdicts(hesitant)
    assert tone["adapt-style"] == "violated" and tone["build-trust-reliability"] != "violated"
    promise = verdicts(vague)
    assert promise["build-trust-reliability"] == "violated"
