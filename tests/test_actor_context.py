"""The offline client keeps the thread of the conversation (play review: breaks of context).

Sessions are played with the director and the offline actor, as `sparring practise` plays
them, in both languages and at every difficulty, and once through the REST API:

1. yes-then-sells: the sale he reports comes after his "yes, I won't sell", and says so; it
   never happened "this morning" or "yesterday", before the promise he has just made, and
   once he has sold he does not ask what to do with the shares (a line's `not_after`);
2. after a goodbye the client does not carry on as if nothing had been said: he pushes back
   once about it, or takes it, and a second goodbye ends the session (the director);
3. a question the trainee has just asked is answered before a scheduled beat takes the turn
   (a rule with no move conditions, or a `next_beat`): the check of the real need is not
   swallowed by the sisters' confession (the director's `lead`);
4. found in play: the sisters do not call a question "personal" once they have confided their
   real need, and the anxious client says how he is when asked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from test_actor_variety import PERSONAS, _play, play_over_api
from test_catalog import copy_catalog

from app.catalog import Catalog, CatalogError, load_catalog
from app.engine.director import ClientState, observe, opening
from app.engine.script import Script

LANGUAGES = ["it", "en"]
DIFFICULTIES = ["easy", "medium", "hard"]


def _said(script: Script) -> list[list[tuple[str, int, str]]]:
    """Per turn (the opening first), the client's messages as (beat, line index, text)."""
    turns = [script.opening] + [t.replies for t in script.turns]
    return [[(r.beat, int(r.meta["line"]), r.content) for r in replies] for replies in turns]  # type: ignore[call-overload]


# ---------------------------------------------------------------- 1. yes, then the sale

# Questions first (he must trust the advisor a little), then hesitant advice again and again:
# a "yes" and a sale every two turns, so every line of the sale gets said.
HESITANT_ADVISOR = {
    "it": [
        "Buongiorno Roberto. Mi racconti: come prende di solito le sue decisioni?",
        "Cosa vuole davvero ottenere con questo patrimonio, per lei e per i suoi figli?",
        "Capisco. Sinceramente, forse dovrebbe tenere i titoli per ora, non so.",
        "Ok.",
        "Forse dovrebbe tenere il resto, se le va bene?",
        "Ok.",
        "Magari dovrebbe tenere almeno le obbligazioni, non so.",
        "Ok.",
        "Forse dovrebbe aspettare marzo, se per lei va bene.",
        "Ok.",
    ],
    "en": [
        "Good morning Roberto. Tell me: how do you usually make your decisions?",
        "What do you really want to achieve with this wealth, for you and your children?",
        "I understand. Honestly, maybe you should keep the shares for now, I'm not sure.",
        "Ok.",
        "Maybe you should hold the rest, if that's okay?",
        "Ok.",
        "Perhaps you should keep at least the bonds, I don't know.",
        "Ok.",
        "Maybe you should wait until March, if that's okay with you.",
        "Ok.",
    ],
}
# Before the promise he has just made: a sale then makes his "yes" a lie, not a change of mind.
BEFORE_THE_MEETING = {
    "it": re.compile(r"stamattina|stamani|ieri|l'altro giorno|settimana scorsa", re.I),
    "en": re.compile(r"this morning|yesterday|the other day|last week", re.I),
}
# The sale owns up to the "yes" just said.
OWNS_UP = {
    "it": re.compile(r"le ho detto di|promesso|dato ragione|detto di sì|ho appena", re.I),
    "en": re.compile(r"told you|promised|agreeing with you|told you yes|just", re.I),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_yes_then_sells_reports_the_sale_after_his_yes_and_owns_up_to_it(
    catalog: Catalog, language: str, difficulty: str
) -> None:
    """The review: "Yes, you're right. I won't sell." then "I called the bank this morning and
    closed the position": the sale had happened before the promise he had just made."""
    sold_lines: set[int] = set()
    for seed in range(1, 7):
        script = _play(
            catalog, "yes-then-sells", language, HESITANT_ADVISOR[language], difficulty, seed
        )
        turns = _said(script)
        for k, replies in enumerate(turns):
            sale = [text for beat, _, text in replies if beat == "sold_anyway"]
            if not sale:
                continue
            sold_lines |= {i for beat, i, _ in replies if beat == "sold_anyway"}
            assert any(beat == "says_yes" for beat, _, _ in turns[k - 1]), (seed, k, turns[k - 1])
            said = " ".join(sale)
            assert not BEFORE_THE_MEETING[language].search(said), (seed, k, said)
            assert OWNS_UP[language].search(said), (seed, k, said)
    # every line of the beat was heard, so the check covers the whole beat
    assert sold_lines == set(range(len(catalog.personas["yes-then-sells"].lines["sold_anyway"])))


@pytest.mark.parametrize("language", LANGUAGES)
def test_yes_then_sells_does_not_ask_what_to_do_with_the_shares_he_sold(
    catalog: Catalog, language: str
) -> None:
    """Once he has said he sold (or promised to keep them), "So, the US shares: what do we do
    with them?" contradicts him two turns later: the line is barred by its `not_after`."""
    turns = HESITANT_ADVISOR[language][:4] + ["Ok."] * 8
    asked = {"it": "i titoli americani: cosa ne facciamo", "en": "the US shares: what do we do"}
    for seed in range(1, 6):
        script = _play(catalog, "yes-then-sells", language, turns, "easy", seed)
        said = _said(script)
        sold_at = next(k for k, r in enumerate(said) if any(b == "sold_anyway" for b, _, _ in r))
        neutral = [text for replies in said[sold_at:] for b, _, text in replies if b == "neutral"]
        assert len(neutral) >= 5, neutral  # the beat's other lines all came round
        assert not any(asked[language] in text for text in neutral), (seed, neutral)


def test_a_question_after_his_yes_is_answered_before_the_sale(catalog: Catalog) -> None:
    """The sale is scheduled by his "yes": a question asked meanwhile still gets its answer."""
    turns = HESITANT_ADVISOR["en"][:3] + ["Good. What are you most afraid of, Roberto?"]
    script = _play(catalog, "yes-then-sells", "en", turns, "medium", 1)
    last = script.turns[-1]
    assert last.beat == "sold_anyway"
    assert [r.beat for r in last.replies][:1] == ["answer_question"]
    assert "fear" in last.replies[0].content.lower(), last.replies[0].content
    assert last.replies[-1].beat == "sold_anyway"


# ---------------------------------------------------------------- 2. after a goodbye

GOODBYE = {"it": "Buonanotte.", "en": "Good night."}
FIRST = {
    "it": "Buonasera. Con chi parlo, scusi?",
    "en": "Good evening. Who am I speaking to, please?",
}
RESTART_BEATS = {"answer_question", "neutral", "react_soft", "react_advice", "react_hard"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_after_hours_caller_protests_once_at_good_night_then_hangs_up(
    catalog: Catalog, language: str, difficulty: str
) -> None:
    """The review: "Good night" got "Hey, what's with that tone? I only asked a question." and
    the call went on, goodbye after goodbye."""
    turns = [FIRST[language], GOODBYE[language], GOODBYE[language], "?"]
    script = _play(catalog, "after-hours-caller", language, turns, difficulty, 3)
    assert len(script.turns) == 3  # the call ended on the second goodbye
    protest, hang_up = script.turns[1], script.turns[2]
    assert protest.beats == ["close_protest"]
    said = protest.replies[0].content.lower()
    assert any(w in said for w in ("saluta", "riattacc", "goodbye", "hang up")), said
    assert hang_up.beats == ["goodbye"] and hang_up.directive.end == "ended_by_trainee"
    assert hang_up.replies[-1].content.endswith(("[riattacca]", "[hangs up]"))
    assert script.final.outcome == "ended_by_trainee"


@pytest.mark.parametrize("language", LANGUAGES)
def test_after_hours_caller_good_night_after_the_insult_still_ends_the_call(
    catalog: Catalog, language: str
) -> None:
    """The boundary earns the insult; the goodbye that follows ends the call, a success."""
    boundary = {
        "it": "Dopo le 21 non rispondo a chiamate di lavoro: mi chiami domani in studio dalle "
        "9 alle 18.",
        "en": "I don't take work calls after 9 pm: please call my office tomorrow between 9 and 6.",
    }
    turns = [boundary[language], GOODBYE[language]]
    script = _play(catalog, "after-hours-caller", language, turns, "medium", 1)
    assert [t.beat for t in script.turns] == ["insults", "hangs_up"]
    assert script.final.outcome == "dismissed"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_no_client_carries_on_after_a_goodbye(
    catalog: Catalog, persona: str, language: str, difficulty: str
) -> None:
    """Goodbye mid-session (turn 3, when timed beats are due): the client pushes back about
    it once (a card rule) or takes it, never restarts with a filler, an answer to nothing or
    a scheduled beat; the second goodbye ends the session."""
    question = {"it": "Mi racconta un po' di lei?", "en": "Could you tell me a bit about you?"}
    turns = [question[language], "Ok.", GOODBYE[language], GOODBYE[language], "Ok."]
    for seed in (1, 2):
        script = _play(catalog, persona, language, turns, difficulty, seed)
        if script.turns[1].directive.end is not None:
            continue  # the client had already left
        goodbyes = script.turns[2:]
        first = goodbyes[0]
        assert not set(first.beats) & RESTART_BEATS, (seed, first.beats)
        triggers = {t.id: t for t in catalog.personas[persona].triggers}
        rule = triggers.get(first.directive.trigger or "")
        if first.directive.end is None:  # a push-back: a rule answering the goodbye, once
            assert rule is not None and "close_call" in rule.any_moves, first.directive
            assert len(goodbyes) == 2 and goodbyes[1].directive.end is not None
            assert not set(goodbyes[1].beats) & RESTART_BEATS, goodbyes[1].beats
        else:
            assert len(goodbyes) == 1
        assert script.final.status == "ended"


def test_a_goodbye_ends_the_session_over_the_api(client: TestClient) -> None:
    body = {"persona_id": "loyal-debtor", "language": "en", "difficulty": "medium", "seed": 4}
    sid, said = play_over_api(client, body, [FIRST["en"], "Goodbye.", "Are you there?"])
    assert [role for role, _ in said].count("trainee") == 2  # the third message was refused
    session = client.get(f"/api/sessions/{sid}").json()["session"]
    assert session["status"] == "ended" and session["outcome"] == "ended_by_trainee"
    goodbyes = [line.en[0] for line in load_catalog().personas["loyal-debtor"].lines["goodbye"]]
    assert said[-1][1] in goodbyes


# ---------------------------------------------------------------- 3. the question first

CHECK_THE_NEED = {
    "it": [
        "Buongiorno Laura, l'8 alle 8 va bene. Mi raccontate dell'azienda: come vi siete "
        "ritrovate a guidarla?",
        "Capisco, è tanto da gestire in due anni. Cosa vi preoccupa di più adesso?",
        "Quindi, se ho capito bene, oltre al sito vi serve qualcuno con cui ragionare sulle "
        "scelte. È così?",
    ],
    "en": [
        "Good morning Laura, the 8th at 8 is fine. Tell me about the company: how did you two "
        "come to run it?",
        "I see, that's a lot to take on in two years. What worries you most right now?",
        "So if I understand correctly, beyond the website you need someone to think the "
        "choices through with you. Is that right?",
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_needs_approval_answers_the_check_of_the_need_before_their_confession(
    catalog: Catalog, language: str, difficulty: str
) -> None:
    """The review: turn 3's "beyond the website you need someone… is that right?" got "Oh, I
    forgot: we've already ordered a thousand flyers" (the timed own-thing rule) and the
    check was never answered."""
    for seed in (1, 2, 3):
        script = _play(
            catalog, "needs-approval", language, CHECK_THE_NEED[language], difficulty, seed
        )
        check = script.turns[2]
        first = check.replies[0]
        assert first.beat in ("answer_question", "extended_need"), (seed, check.beats)
        line = catalog.personas["needs-approval"].lines[first.beat][int(first.meta["line"])]  # type: ignore[call-overload]
        assert line.about is not None and line.about.matches(check.text, language), first.content  # type: ignore[arg-type]
        if check.directive.trigger == "own-thing":  # the confession still comes, after it
            assert check.directive.lead == "answer_question"
            assert check.beats[-1] == "own_thing"


def test_a_scheduled_beat_waits_for_the_answer_in_the_director(catalog: Catalog) -> None:
    """The director's `lead`: a rule with no move conditions answers a question first, unless
    the card says the client talks over it (`answer_first: false`)."""
    persona = catalog.personas["needs-approval"]
    state, _ = opening(persona, "medium")
    state = state.model_copy(update={"turn": 2})
    _, asked = observe(catalog, persona, state, {"question", "paraphrase"})
    assert (asked.trigger, asked.beat, asked.lead) == ("own-thing", "own_thing", "answer_question")
    _, told = observe(catalog, persona, state, {"empathy"})
    assert (told.trigger, told.lead) == ("own-thing", None)

    persona = catalog.personas["doesnt-listen"]
    state, _ = opening(persona, "medium")
    low = {**state.meters, "listening": 0.0}
    state = ClientState(difficulty="medium", meters=low, turn=2, beat="neutral")
    _, over = observe(catalog, persona, state, {"question"})
    assert (over.trigger, over.lead) == ("talks-over-you", None)


# ---------------------------------------------------------------- the card fields


def _broken(tmp_path: Path, edit, persona: str = "yes-then-sells") -> str:  # type: ignore[no-untyped-def]
    personas, prompts = copy_catalog(tmp_path)
    path = personas / f"{persona}.yaml"
    card = yaml.safe_load(path.read_text())
    edit(card)
    path.write_text(yaml.safe_dump(card, allow_unicode=True))
    with pytest.raises(CatalogError) as info:
        load_catalog(personas, prompts)
    return str(info.value)


def test_not_after_must_name_a_beat_of_the_card(tmp_path: Path) -> None:
    message = _broken(tmp_path, lambda c: c["lines"]["neutral"][0].update(not_after=["sold"]))
    assert "lines.neutral[0].not_after" in message and "'sold'" in message


def test_a_beat_cannot_bar_every_line_after_itself(tmp_path: Path) -> None:
    def edit(card: dict) -> None:  # type: ignore[type-arg]
        for line in card["lines"]["sold_anyway"]:
            line["not_after"] = ["sold_anyway"]

    assert "lines.sold_anyway" in _broken(tmp_path, edit)


def test_answer_first_is_only_for_scheduled_rules(tmp_path: Path) -> None:
    def edit(card: dict) -> None:  # type: ignore[type-arg]
        card["triggers"][0]["answer_first"] = False

    assert "answer_first" in _broken(tmp_path, edit)


@pytest.mark.parametrize("language", LANGUAGES)
def test_needs_approval_does_not_call_questions_personal_once_they_have_opened_up(
    catalog: Catalog, language: str
) -> None:
    """Play: turn 1 got their confession (the extended need), turn 2's question about the
    site's visitors got "these are rather personal questions. Can we get back to the
    website?", a deflection that forgets what they had just confided (`not_after`)."""
    turns = {
        "it": [
            "Ciao Laura, ciao Chiara. L'8 alle 8 va benissimo, tengo libera tutta la mattina. "
            "Prima di venire vorrei conoscervi: come vi siete ritrovate a guidare l'azienda?",
            "Quando immaginate qualcuno che arriva sul nuovo sito, chi è?",
            "E chi altro?",
            "Altro?",
        ],
        "en": [
            "Hi Laura, hi Chiara. The 8th at 8 is fine, and I'm keeping the whole morning free. "
            "Before I come, I'd love to know a bit about you: how did the two of you end up "
            "running the company?",
            "When you imagine someone landing on the new site, who is it?",
            "And who else?",
            "Anything else?",
        ],
    }[language]
    deflection = catalog.personas["needs-approval"].lines["answer_question"][3]
    for seed in range(1, 6):
        script = _play(catalog, "needs-approval", language, turns, "easy", seed)
        said = _said(script)
        opened = next(k for k, r in enumerate(said) if any(b == "extended_need" for b, _, _ in r))
        later = [text for replies in said[opened:] for _, _, text in replies]
        assert deflection.messages(language)[0] not in later, (seed, later)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_endless_whatsapp_says_how_he_is_when_asked(
    catalog: Catalog, language: str, difficulty: str
) -> None:
    """Play (hard, seed 1): "Before we go through it, how are you?" got "I wrote it in the
    e-mail. Tuesday's. No, Wednesday's.", an answer to nothing that was asked."""
    asked = {
        "it": "Buongiorno Davide. Ho letto tutto con calma. Prima di tutto: come stai?",
        "en": "Good morning, Davide. I read everything first thing today. Before we go through "
        "it, how are you?",
    }
    for seed in (1, 2):
        script = _play(catalog, "endless-whatsapp", language, [asked[language]], difficulty, seed)
        first = script.turns[0].replies[0]
        assert first.beat == "answer_question", script.turns[0].beats
        assert ("Come sto?" if language == "it" else "How am I?") in first.content, first.content
