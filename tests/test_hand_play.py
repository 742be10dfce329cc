"""What sessions played by hand in the terminal (`sparring practise`, 2026-12-07) got wrong.

1. The disorganised client, asked how the supplier meeting he missed went, answered "Do we
   really need all these questions?" after the first one: he had no answer on that topic,
   and the complaint about questions fitted any moment. He now tells what happened, and
   complains about questions only once the conversation is under way.
2. After a mishap, a plain "talk on Monday at 9" got "A shared calendar with a reminder the
   day before? You'd save my life": every relief line answered a tool nobody had proposed.
   A relief with no tool named is now said as such.
3. "Forse anche io ti ho mandato troppe mail lunghe" / "Maybe I've also been sending you too
   many long emails" was read as a hesitant tone (and, in English, as moving the matter to
   e-mail), and the report said the trainee never looked at their own part.

The loyal client hurt by "a voce che per mail" is in test_grader_review.py.
"""

from __future__ import annotations

from typing import cast

import pytest
from test_actor_variety import _play as play

from app.catalog import PROMPTS_DIR, Catalog, Language, Line, Persona
from app.engine.actors import LLMActor, OfflineActor, Reply
from app.engine.director import Directive, opening
from app.engine.grader import grade_heuristic
from app.engine.llm import LLMClient
from app.engine.script import Script

SEEDS = range(1, 21)
MISSED = {
    "it": "Ciao Gianni, ho visto che ieri hai saltato l'incontro con il fornitore. Come è andata?",
    "en": "Hi Gianni, I saw you missed the supplier meeting yesterday. How did it go?",
}
OWNS_UP = {
    "it": "Nessun problema, capita. Forse anche io ti ho mandato troppe mail lunghe. Da oggi ti "
    "mando un solo messaggio WhatsApp la sera prima di ogni appuntamento, con indirizzo e orario.",
    "en": "No problem, it happens. Maybe I've also been sending you too many long emails. From "
    "today I'll send you one WhatsApp message the evening before every appointment, with "
    "address and time.",
}
PLAN = {
    "it": "Per il listino prezzi: me lo mandi entro giovedì? Se non arriva, pubblico la pagina "
    "con i prezzi dell'anno scorso e li aggiorniamo dopo.",
    "en": "About the price list: can you send it by Thursday? If it doesn't come, I'll publish "
    "the page with last year's prices and we update them later.",
}
SEE_YOU = {"it": "Perfetto, allora ci sentiamo lunedì alle 9.", "en": "Great, talk on Monday at 9."}


def _disorganized(catalog: Catalog, language: Language, turns: list[str], seed: int) -> Script:
    return play(catalog, "disorganized", language, turns, "medium", seed)


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_first_question_is_answered_not_complained_about(
    catalog: Catalog, language: Language
) -> None:
    for seed in SEEDS:
        first = _disorganized(catalog, language, [MISSED[language]], seed).turns[0]
        assert first.beats == ["answer_question"]
        said = first.replies[0].content
        assert ("fornitore" if language == "it" else "supplier") in said, (seed, said)


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_relief_with_no_tool_named_does_not_answer_one(
    catalog: Catalog, language: Language
) -> None:
    tools = [line for line in catalog.personas["disorganized"].lines["relieved"] if line.about]
    for seed in SEEDS:
        script = _disorganized(
            catalog, language, [OWNS_UP[language], PLAN[language], SEE_YOU[language]], seed
        )
        last = script.turns[-1]
        assert last.beat == "relieved"  # a commitment after the mishap
        said = last.replies[0].content
        assert all(said not in line.messages(language) for line in tools), (seed, said)


@pytest.mark.parametrize("language", ["it", "en"])
def test_owning_up_with_a_maybe_is_looking_at_oneself(catalog: Catalog, language: Language) -> None:
    script = _disorganized(catalog, language, [MISSED[language], OWNS_UP[language]], seed=7)
    owns = script.turns[1]
    assert "self_examine" in owns.moves
    assert not {"hesitant", "email_channel"} & owns.moves
    grade = grade_heuristic(catalog, catalog.personas["disorganized"], language, script.transcript)
    criterion = next(c for c in grade.criteria if c.technique_id == "self-examine")
    assert criterion.verdict == "applied"
    assert criterion.evidence[0].quote.startswith(("Forse anche io", "Maybe I've also"))


# ---------------------------------------------------------------- a proposal put to him

PROPOSAL = {
    "it": "Ok, il programmatore lo sento io oggi: gli do tempo fino a mercoledì e intanto "
    "sistemiamo la pagina dei pacchetti. Ti va bene?",
    "en": "Okay, I'll call the developer myself today: I'll give him until Wednesday, and "
    "meanwhile we fix the packages page. Does that work for you?",
}
PROPOSAL_AND_QUESTION = {
    "it": "Intanto sistemiamo la pagina dei pacchetti. Ma dimmi, cosa ti preoccupa di più?",
    "en": "Meanwhile we fix the packages page. But tell me, what worries you most?",
}


@pytest.mark.parametrize("language", ["it", "en"])
def test_does_that_work_for_you_gets_a_reaction_to_the_proposal(
    catalog: Catalog, language: Language
) -> None:
    """'Ti va bene?' after a plan asked the anxious client for an answer about himself: he
    replied "I wrote it in the e-mail. Tuesday's. No, Wednesday's." Now he reacts to the plan;
    a real question about him, with the same plan, is still answered."""
    for seed in SEEDS:
        turns = [PROPOSAL[language]]
        played = play(catalog, "endless-whatsapp", language, turns, "medium", seed).turns[0]
        assert {"invite_discussion", "question"} <= played.moves
        assert played.directive.trigger or played.beat != "answer_question", seed
        assert played.directive.lead is None
        turns = [PROPOSAL_AND_QUESTION[language]]
        asked = play(catalog, "endless-whatsapp", language, turns, "medium", seed).turns[0]
        assert "answer_question" in (asked.beat, asked.directive.lead), seed


# ---------------------------------------------------------------- a question already answered


def _asked(catalog: Catalog, persona: Persona, trainee: str, seed: int) -> list[str]:
    state, _ = opening(persona, "medium")
    replies = OfflineActor.for_catalog(catalog).reply(
        persona=persona,
        language="en",
        state=state,
        directive=Directive("one_more_question", frozenset({"advice"})),
        history=[("client", "Hi!"), ("trainee", trainee)],
        seed=seed,
    )
    return [item.content for item in replies if isinstance(item, Reply)]


def test_a_question_the_trainee_has_answered_is_not_asked(catalog: Catalog) -> None:
    """The free-advice seeker asked "hashtags, yes or no?" right after being told "use 3-5
    hashtags" (a line's `answered_by`): he asks something else instead, in both engines."""
    persona = catalog.personas["free-advice-seeker"].model_copy(deep=True)
    hashtags = Line.model_validate(
        {
            "it": "Gli hashtag li metto o no?",
            "en": "Hashtags, yes or no?",
            "answered_by": {"it": ["hashtag"], "en": ["hashtag"]},
        }
    )
    other = Line.model_validate({"it": "E la foto?", "en": "And the photo?"})
    persona.lines["one_more_question"] = [hashtags, other]
    told = "Post three times a week. Use 3-5 hashtags max."
    assert all(_asked(catalog, persona, told, seed) == ["And the photo?"] for seed in SEEDS)
    # told something else, he may well ask it
    assert any(
        _asked(catalog, persona, "Post twice a week.", seed) == ["Hashtags, yes or no?"]
        for seed in SEEDS
    )
    # the llm engine is not shown it as an example either
    actor = LLMActor(
        cast(LLMClient, None), model="m", temperature=0.0, prompts_dir=PROMPTS_DIR, texts={}
    )
    state, _ = opening(persona, "medium")
    directive = Directive("one_more_question", frozenset({"advice"}))
    prompt = actor.prompt(persona, "en", state, directive, [("trainee", told)]).text
    assert "Hashtags, yes or no?" not in prompt and "And the photo?" in prompt


FREE_TIPS = {
    "en": [
        "Hi Fabrizio, thanks! Sure, happy to help.",
        "Your photo should be a professional headshot, plain background, smiling. And put "
        "'commercial property consultant' in the headline.",
        "Post 3 times a week, around 8am. Use 3-5 hashtags max.",
        "Sure, send it over, I'll take a quick look for free.",
    ],
    "it": [
        "Ciao! Grazie mille, troppo gentile.",
        "Allora, la foto mettila professionale, sfondo neutro. Nel titolo scrivi 'consulente "
        "immobili commerciali'.",
        "Pubblica tre volte a settimana, la mattina presto. Gli hashtag massimo cinque.",
        "Certo, mandami pure tutto quello che vuoi, ci do un'occhiata.",
    ],
}


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_free_advice_seeker_does_not_ask_what_he_was_just_told(
    catalog: Catalog, language: Language
) -> None:
    """Review A: "Use 3-5 hashtags max" was followed by "hashtags, yes or no?"; the card's
    questions now say what answers them (`answered_by`)."""
    persona = catalog.personas["free-advice-seeker"]
    questions = [line for lines in persona.lines.values() for line in lines if line.answered_by]
    assert questions
    for seed in SEEDS:
        script = play(catalog, "free-advice-seeker", language, FREE_TIPS[language], "medium", seed)
        told: list[str] = []
        for turn in script.turns:
            told.append(turn.text)
            said = {reply.content for reply in turn.replies}
            for line in questions:
                assert line.answered_by is not None
                if any(line.answered_by.matches(text, language) for text in told):
                    assert said.isdisjoint(line.messages(language)), (seed, turn.text, said)
