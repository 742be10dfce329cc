"""The offline client answers the question it was asked (play review, section 5).

A card line may name what it answers (`about`: keywords or word stems in both languages);
the offline actor prefers, among the lines it has not just said, one whose `about` matches
the trainee's latest message. The review's sessions are played again with the director and
the actor, as `sparring practise` plays them, and once through the REST API.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from test_actor_variety import DRILLS, PERSONAS, _play, play_over_api
from test_catalog import copy_catalog

from app.catalog import Catalog, CatalogError, Line, load_catalog
from app.engine.actors import OfflineActor, Reply, _mood_distance, _pick
from app.engine.director import ClientState, observe, opening
from app.engine.script import Turn


def _lines(catalog: Catalog, persona: str, turn: Turn) -> list[Line]:
    """The card lines the client said on this turn (a line of several messages once)."""
    picked = dict.fromkeys((r.beat, r.meta["line"]) for r in turn.replies)
    return [catalog.personas[persona].lines[beat][i] for beat, i in picked]  # type: ignore[index]


def _on_topic(catalog: Catalog, persona: str, language: str, turn: Turn) -> bool:
    """The turn's first line is one that names the trainee's message as its topic."""
    line = _lines(catalog, persona, turn)[0]
    return line.about is not None and line.about.matches(turn.text, language)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the review's sessions

DECISIONS_THEN_CHILDREN = {
    "it": [
        "Buongiorno Roberto. Prima di parlare di titoli, mi racconti: come prende di solito "
        "le sue decisioni?",
        "Cosa vuole davvero ottenere con questo patrimonio, per lei e per i suoi figli?",
    ],
    "en": [
        "Good morning Roberto. Before we talk about shares, tell me: how do you usually make "
        "your decisions?",
        "What do you really want to achieve with this wealth, for you and for your children?",
    ],
}


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("seed", [3, 7])
def test_yes_then_sells_answers_how_he_decides_then_what_he_leaves_his_children(
    catalog: Catalog, language: str, seed: int
) -> None:
    """IT seeds 3 and 7: the two answers came out swapped (the children for "how do you
    decide", the logistics company for "what about your children")."""
    script = _play(
        catalog, "yes-then-sells", language, DECISIONS_THEN_CHILDREN[language], "medium", seed
    )
    decides, children = script.turns
    assert decides.beat == children.beat == "answer_question"
    said = decides.replies[0].content
    assert ("decido" if language == "it" else "decide") in said, said
    assert not any(w in said for w in ("figli", "kids")), said
    said = children.replies[0].content
    assert ("figli" if language == "it" else "kids") in said, said
    for turn in script.turns:
        assert _on_topic(catalog, "yes-then-sells", language, turn)


def test_impossible_idea_says_since_when_the_requests_stopped(catalog: Catalog) -> None:
    """EN seed 23, medium: "since when have the quote requests stopped?" got "What do I
    expect from the site? That the phone rings." """
    asked = (
        "I understand your frustration, Massimo. Before I answer, help me understand: since "
        "when have the quote requests stopped?"
    )
    for seed in (23, 24, 25):
        script = _play(catalog, "impossible-idea", "en", [asked], "medium", seed)
        [turn] = script.turns
        # "since when…?" checks whether the complaint is founded: the card's rule for that
        # answers it with the details (since 2026-12-07; before, a plain answer)
        assert turn.beat in ("answer_question", "complaint_details")
        said = turn.replies[0].content
        assert "3rd" in said and "requests" in said, said
        assert "What do I expect" not in said


def test_impossible_idea_says_what_visitors_should_do_on_the_page(catalog: Catalog) -> None:
    """EN seed 25, hard: the last question got "My son wants to take over the shop…"."""
    turns = [
        "(breath) Massimo, I understand. Help me understand: what exactly isn't working?",
        "Let's check together whether it's a misunderstanding or a real problem.",
        "You're right about the form, it's my mistake, I apologise. I'll fix it today at no "
        "extra cost.",
        "We could build the 3D configurator, but with three weeks and this budget I'd suggest "
        "a gallery of ready layouts instead. What do you think?",
        "You know your customers better than I do: which layouts first? Let's decide together.",
        "What would you like visitors to do first on the page?",
    ]
    script = _play(catalog, "impossible-idea", "en", turns, "hard", 25)
    last = script.turns[-1]
    assert last.beat == "answer_question"
    assert "the phone rings" in last.replies[0].content, last.replies[0].content
    # the alternative is weighed on what it is: the gallery of ready layouts
    assert "gallery of ready-made layouts" in script.turns[3].replies[0].content


NEXT_STEPS = {
    # IT seed 41 and EN seed 43, medium: a good trainee, then a yes/no proposal
    "it": [
        "Buongiorno Laura, buongiorno Chiara. Prima di parlare del sito, mi raccontate chi "
        "siete e com'è cambiata l'azienda da quando l'avete presa in mano?",
        "Cosa vi aspettate da questa collaborazione, oltre al sito?",
        "Se ho capito bene, più che un sito cercate qualcuno che vi affianchi nelle decisioni. "
        "È così?",
        "Con calma: non c'è fretta, ci prendiamo il tempo che serve. Voi conoscete i vostri "
        "clienti meglio di me: cosa ne pensate se partiamo da lì?",
        "Che cosa vi piacerebbe che i clienti dicessero dopo aver visto il sito?",
        "Ragioniamo insieme sui prossimi passi: vi va bene sentirci ogni due settimane?",
    ],
    "en": [
        "Good morning Laura, good morning Chiara. Before we talk about the website, tell me who "
        "you are and how the company has changed since you took it over?",
        "What do you expect from working together, beyond the website?",
        "If I understand correctly, more than a website you're looking for someone to stand "
        "beside you in decisions. Is that right?",
        "No rush: we'll take the time it needs. You know your customers better than I do: what "
        "do you think if we start there?",
        "What would you like customers to say after seeing the site?",
        "Let's decide together on the next steps: does meeting every two weeks work for you?",
    ],
}
SAYS_YES = {"it": "Sì, ci farebbe proprio bene", "en": "Yes, that would really help us"}


@pytest.mark.parametrize(("language", "seed"), [("it", 41), ("en", 43), ("it", 43), ("en", 41)])
def test_needs_approval_answers_a_proposal_to_meet_regularly(
    catalog: Catalog, language: str, seed: int
) -> None:
    """The review got an anecdote (the sixty-page plan; "The real fear?…") in reply to "shall
    we talk every two weeks?": the yes/no proposal was never answered."""
    script = _play(catalog, "needs-approval", language, NEXT_STEPS[language], "medium", seed)
    last = script.turns[-1]
    # a proposal put to them ("does that work for you?") gets their reaction to it
    assert last.beat in ("answer_question", "react_soft")
    assert SAYS_YES[language] in last.replies[0].content, last.replies[0].content
    assert _on_topic(catalog, "needs-approval", language, last)


def test_disorganized_answers_the_proposal_just_made_not_the_previous_one(
    catalog: Catalog,
) -> None:
    """IT seed 61, medium: the weekly list and a shared password manager got "A shared
    calendar with a reminder the day before?", the calendar proposed one turn earlier."""
    turns = [
        "Ciao Gianni, nessun problema. Raccontami: come organizzi di solito la tua settimana "
        "tra cantieri e ufficio?",
        "Ti propongo una soluzione semplice: un calendario condiviso sul telefono con i "
        "promemoria, te lo configuro io.",
        "Facciamo così: ogni lunedì alle 8 ti mando la lista delle cose da fare della "
        "settimana, e le password le teniamo in un gestore condiviso.",
    ]
    for seed in (61, 62, 63):
        script = _play(catalog, "disorganized", "it", turns, "medium", seed)
        first, _, proposal = script.turns
        assert first.beat == "answer_question" and _on_topic(catalog, "disorganized", "it", first)
        assert proposal.beat == "relieved"
        said = proposal.replies[0].content
        assert "calendario" not in said and ("lista" in said or "password" in said), said


def test_the_service_answers_the_question_asked(client: TestClient, catalog: Catalog) -> None:
    """Through the REST API with the offline engine: the actor gets the trainee's message from
    the stored conversation, and plays the same lines as in memory."""
    body = {"persona_id": "needs-approval", "language": "it", "difficulty": "medium", "seed": 41}
    _, messages = play_over_api(client, body, NEXT_STEPS["it"])
    assert messages[-2] == ("trainee", NEXT_STEPS["it"][-1])
    assert messages[-1][0] == "client"
    assert SAYS_YES["it"] in messages[-1][1]
    script = _play(catalog, "needs-approval", "it", NEXT_STEPS["it"], "medium", 41)
    assert messages == [(m.role, m.content) for m in script.transcript]


# ------------------------------------------- the second review: words used in another sense

OUT_OF_SENSE = [
    # (persona, language, question, the start of the line that restates another question)
    ("needs-approval", "en", "How was your week at the company?", "A regular time to talk?"),
    ("needs-approval", "it", "Com'è andata la settimana in azienda?", "Sentirci a scadenza"),
    ("yes-then-sells", "en", "Do you trust your bank?", 'Honestly? When someone tells me "maybe"'),
    ("impossible-idea", "en", "Which page is giving you trouble?", "What do I expect from"),
    ("endless-whatsapp", "en", "How long will the developer take?", "So: I've been organising"),
]


@pytest.mark.parametrize(("persona", "language", "asked", "wrong"), OUT_OF_SENSE)
def test_a_word_used_in_another_sense_does_not_get_the_answer_to_another_question(
    catalog: Catalog, persona: str, language: str, asked: str, wrong: str
) -> None:
    """Second play review, N1: "week", "trust", "page" and "how long" matched questions about
    something else, and the answer, which restates its own question, showed it."""
    lines = [line for beat in catalog.personas[persona].lines.values() for line in beat]
    [line] = [line for line in lines if line.messages(language)[0].startswith(wrong)]  # type: ignore[arg-type]
    assert line.about is not None
    assert line.about.score(asked, language) == 0  # type: ignore[arg-type]
    for seed in range(200, 215):
        script = _play(catalog, persona, language, [asked], "medium", seed)
        for reply in script.turns[0].replies:
            assert not reply.content.startswith(wrong), (seed, reply.content)


@pytest.mark.parametrize("seed", range(200, 215))
def test_how_long_will_the_developer_take_gets_the_developer(catalog: Catalog, seed: int) -> None:
    """EN seed 206: the wedding business's history ("how long") won the tie with the line on
    the developer, by the draw."""
    script = _play(
        catalog, "endless-whatsapp", "en", ["How long will the developer take?"], "medium", seed
    )
    [turn] = script.turns
    assert turn.beat == "answer_question"
    assert "developer" in turn.replies[0].content, turn.replies[0].content


# ---------------------------------------------------------------- the order of preference


def _line(text: str, mood: str | None = None, phase: list[str] | None = None, **about) -> Line:  # type: ignore[no-untyped-def]
    data = {"it": text, "en": text, "mood": mood, "phase": phase}
    if about:
        data["about"] = about
    return Line.model_validate(data)


def _state(trust: float = 40, phase: str = "testing") -> ClientState:
    meters = {"trust": trust, "patience": 80}
    return ClientState(difficulty="easy", meters=meters, phase=phase)  # type: ignore[arg-type]


def _asked(message: str):  # type: ignore[no-untyped-def]
    return lambda line: line.about is not None and line.about.matches(message, "en")


KIDS = {"it": ["figli"], "en": ["kid", "child"]}


def test_an_unused_answer_beats_a_better_fit_for_mood_and_phase() -> None:
    lines = [
        _line("fits", "neutral", ["testing"]),
        _line("kids", "warm", ["closing"], **KIDS),  # the wrong mood and phase, but on topic
        _line("other", "cold", ["testing"], it=["soldi"], en=["money"]),
    ]
    state = _state(trust=40)  # neutral, testing: "fits" is the best fit
    for seed in range(20):
        rng = random.Random(seed)
        assert _pick(lines, [], state, rng) == 0
        assert _pick(lines, [], state, rng, asked=_asked("What about your children?")) == 1
        assert _pick(lines, [], state, rng, asked=_asked("How is the weather?")) == 0


MONEY = {"it": ["soldi"], "en": ["money"]}


def test_a_question_asked_again_gets_its_answer_once_more_not_a_third_time() -> None:
    """An answer said once still comes before the answers to other questions, never said (the
    same question, the same answer: better than an unrelated one), but said twice it waits for
    the others. (An unsaid filler comes before it: tests/test_actor_repeats.py.)"""
    lines = [
        _line("a", **MONEY),
        _line("kids", **KIDS),
        _line("b", **MONEY),
        _line("c", **MONEY),
    ]
    asked = _asked("And your kids?")
    rng = random.Random(1)
    assert _pick(lines, [], _state(), rng, asked=asked) == 1
    assert _pick(lines, [1], _state(), rng, asked=asked) == 1  # asked again: the same answer
    assert _pick(lines, [1, 0, 1], _state(), rng, asked=asked) in (2, 3)  # not a third time
    # once every line has been said as often, the answer comes first again
    assert _pick(lines, [1, 0, 1, 2, 3, 0, 2, 3], _state(), rng, asked=asked) == 1
    # two answers to the question: the one not said yet first
    lines.append(_line("children", **KIDS))
    assert _pick(lines, [1], _state(), rng, asked=asked) == 4


def test_the_text_just_said_is_not_said_again_even_when_it_answers() -> None:
    lines = [_line("kids", **KIDS), _line("other")]
    just_said = {"kids"}
    rng = random.Random(1)
    clash = lambda line: int(line.en[0] in just_said)  # noqa: E731
    assert _pick(lines, [0], _state(), rng, clash, _asked("Your kids?")) == 1
    only = [_line("kids", **KIDS)]
    assert _pick(only, [0], _state(), rng, clash, _asked("Your kids?")) == 0  # no choice


def test_without_a_matching_line_the_order_is_the_one_before_topics() -> None:
    """The order before topics (clash, times said, phase, mood, recency) with the same ties
    when every line is tagged: a beat whose lines all answer something plays, when nothing
    matches, the lines it always played, seed for seed."""
    moods, phases = [None, "warm", "neutral", "cold"], [None, ["testing"], ["closing"]]
    rnd = random.Random(0)
    for _ in range(300):
        lines = [
            _line(f"l{i}", rnd.choice(moods), rnd.choice(phases), **KIDS)
            for i in range(rnd.randint(1, 6))
        ]
        used = [rnd.randrange(len(lines)) for _ in range(rnd.randint(0, 8))]
        state = _state(trust=rnd.choice([10, 40, 80]), phase=rnd.choice(["testing", "closing"]))
        seed = rnd.randrange(1000)
        texts = {lines[i].en[0] for i in used[-1:]}
        clash = lambda line: int(line.en[0] in texts)  # noqa: E731, B023

        times, last = Counter(used), {index: pos for pos, index in enumerate(used)}
        ranks = [
            (
                clash(line),
                times[i],
                line.phase is not None and state.phase not in line.phase,
                _mood_distance(line, state.mood),
                last.get(i, -1),
            )
            for i, line in enumerate(lines)
        ]
        expected = random.Random(seed).choice([i for i, r in enumerate(ranks) if r == min(ranks)])
        unrelated = _asked("Nice weather today.")
        assert _pick(lines, used, state, random.Random(seed), clash, unrelated) == expected


def _scored(message: str):  # type: ignore[no-untyped-def]
    return lambda line: 0 if line.about is None else line.about.score(message, "en")


def test_a_phrase_matched_beats_a_single_word() -> None:
    """A line matching a phrase of the question is more specific than one matching a word."""
    lines = [
        _line("talk", en=["talk"], it=["parl"]),
        _line("regular", en=["talk every", "every week"], it=["ogni settimana"]),
        _line("weather", en=["weather"], it=["tempo"]),
    ]
    message = "Shall we talk every week?"
    for seed in range(20):
        assert _pick(lines, [], _state(), random.Random(seed), asked=_scored(message)) == 1
    about = lines[1].about
    assert about is not None
    assert about.score(message, "en") == 2 and about.score("every week", "it") == 0
    assert lines[0].about is not None and lines[0].about.score(message, "en") == 1
    assert about.score("Nothing here", "en") == 0 and about.score("", "en") == 0


def test_with_no_line_on_topic_the_untagged_lines_come_before_other_answers() -> None:
    """A line written for one question restates it ("What do I expect from the site?"): with
    nothing on topic a filler comes first, and the tagged lines only once it has been said."""
    lines = [
        _line("kids", **KIDS),
        _line("filler", "cold", ["closing"]),  # the wrong mood and phase, but untagged
        _line("money", en=["money"], it=["soldi"]),
    ]
    unrelated = _scored("Nice weather today.")
    for seed in range(20):
        rng = random.Random(seed)
        assert _pick(lines, [], _state(), rng, asked=unrelated) == 1
        assert _pick(lines, [1], _state(), rng, asked=unrelated) in (0, 2)  # said: the others
        assert _pick(lines, [], _state(), rng, asked=_scored("And your kids?")) == 0


# ---------------------------------------------------------------- keywords and the catalogue


def test_keywords_match_whole_words_and_stems_whatever_the_case_and_accents() -> None:
    line = _line(
        "x",
        it=["figli", "eredit", "perché", "due settimane", "all'altezza"],
        en=["decision", "brother-in-law", "the 8th"],
    )
    about = line.about
    assert about is not None
    for text in (
        "Cosa vuole lasciare ai suoi FIGLI?",
        "E il figlio?",
        "l'eredità",
        "Perche no?",  # typed without the accent
        "sentirci ogni due   settimane",
        "vi sentite all’altezza?",  # a typographic apostrophe
    ):
        assert about.matches(text, "it"), text
    for text in ("la famiglia", "Affigliati", "settimane", "altezza", ""):
        assert not about.matches(text, "it"), text
    assert about.matches("Your decisions?", "en") and about.matches("my Brother-in-law", "en")
    assert about.matches("Why THE 8th?", "en")
    assert not about.matches("How do you decide?", "en")  # a stem is not a synonym
    assert not about.matches("figli", "en")  # each language has its own words
    single = _line("x", it="figli", en="kids").about  # one keyword may be given as a string
    assert single is not None and single.it == ["figli"] and single.en == ["kids"]


@pytest.mark.parametrize(
    ("about", "expected"),
    [
        ({"it": ["figl*"], "en": ["kids"]}, ["about.it", "'figl*' is not a plain word"]),
        ({"it": ["figli|eredi"], "en": ["kids"]}, ["about.it", "no regex"]),
        ({"it": ["figli"], "en": [r"\bkids?\b"]}, ["about.en", "not a plain word"]),
        ({"it": ["figli"], "en": [" kids"]}, ["about.en", "not a plain word"]),
        ({"it": ["figli"]}, ["about.en", "Field required"]),
        ({"en": ["kids"]}, ["about.it", "Field required"]),
        ({"it": [], "en": ["kids"]}, ["about.it", "at least 1 item"]),
        ({"it": ["figli"], "en": [""]}, ["about.en", "a keyword is empty"]),
        ({"it": ["di"], "en": ["kids"]}, ["about.it", "'di' is too short"]),
        ({"it": ["figli"], "en": ["kids"], "de": ["Kinder"]}, ["about.de", "Extra inputs"]),
    ],
)
def test_a_card_with_a_bad_topic_is_refused(
    tmp_path: Path, about: dict[str, object], expected: list[str]
) -> None:
    personas, prompts = copy_catalog(tmp_path)
    path = personas / "yes-then-sells.yaml"
    card = yaml.safe_load(path.read_text(encoding="utf-8"))
    card["lines"]["answer_question"][2]["about"] = about
    path.write_text(yaml.safe_dump(card, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(personas, prompts)
    message = str(info.value)
    assert str(path) in message and "lines.answer_question.2.about" in message, message
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_card_tags_its_answers(catalog: Catalog, persona: str) -> None:
    """Most answers name their topic; the untagged ones are deflections ("Questions,
    questions…") that fit any question, or none."""
    lines = catalog.personas[persona].lines["answer_question"]
    tagged = [line for line in lines if line.about is not None]
    assert len(tagged) >= len(lines) * 2 // 3, persona


# ---------------------------------------------------------------- determinism and stored states


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_same_seed_plays_the_same_answers(catalog: Catalog, persona: str) -> None:
    drill = yaml.safe_load((DRILLS / f"{persona}-en-good.yaml").read_text(encoding="utf-8"))

    def run(seed: int) -> tuple[list[tuple[str, str]], dict[str, list[int]]]:
        script = _play(catalog, persona, "en", drill["turns"], drill["difficulty"], seed)
        return [(m.role, m.content) for m in script.transcript], script.final.used_lines

    said, used = run(drill["seed"])
    assert (said, used) == run(drill["seed"])
    assert all(isinstance(i, int) for picks in used.values() for i in picks)


def test_a_state_stored_before_topics_still_loads_and_answers(catalog: Catalog) -> None:
    """`state.used_lines` keeps its format (beat → indices said, in order): a state stored
    before topics plays on, and the answer said once comes again to the same question (once
    the filler, line 8, has been said: tests/test_actor_repeats.py), owned up to as a repeat."""
    persona = catalog.personas["yes-then-sells"]
    state, _ = opening(persona, "medium")
    stored = state.model_dump(mode="json") | {
        "turn": 3,
        "phase": "testing",
        "used_lines": {"opening": [0], "answer_question": [2, 0, 3, 8]},
    }
    old = ClientState.model_validate(stored)
    new, directive = observe(catalog, persona, old, {"open_question", "question"})
    assert directive.beat == "answer_question"
    asked = "Torniamo ai suoi figli: cosa vuole lasciare loro?"
    replies = [
        item
        for item in OfflineActor.for_catalog(catalog).reply(
            persona=persona,
            language="it",
            state=new,
            directive=directive,
            history=[("client", "Mh-mh."), ("trainee", asked)],
            seed=5,
        )
        if isinstance(item, Reply)
    ]
    # the children, asked about again: the answer in the card's words for a repeat (`again`)
    assert [r.meta["line"] for r in replies] == [2]
    assert replies[0].meta["again"] and replies[0].content.startswith("I figli, gliel'ho detto.")
    assert new.used_lines["answer_question"] == [2, 0, 3, 8, 2]
    assert ClientState.model_validate(new.model_dump(mode="json")) == new
