"""Meter calibration of two persona cards, after a senior coach's review of the articles.

- doesnt-listen (article 004): a trainee who does what the card rewards (a short introduction,
  open questions about him, restating what he said, asking his view, calm) is agreed with by the
  middle of the session at medium, sooner at easy, clearly later at hard; one who answers every
  question with explanations and advice never is.
- yes-then-sells (article 000): a confident formula ("non ho dubbi", "I'm sure") earns trust only
  when the message holds it; the same formula followed by hesitation or by handing the decision
  back to him earns nothing, while a plainly firm recommendation still does.

Engine level only: detectors, director and offline actor, in memory (no HTTP, no database).
"""

from __future__ import annotations

from itertools import cycle, islice

import pytest

from app.catalog import Catalog, Difficulty, Language
from app.engine.actors import OfflineActor
from app.engine.detectors import detect, move_ids
from app.engine.director import ClientState, Directive, observe, opening
from app.engine.script import Script, play_script

LANGUAGES: list[Language] = ["it", "en"]
DIFFICULTIES: list[Difficulty] = ["easy", "medium", "hard"]
SUCCESS = {"agreement", "dismissed"}


def play(
    catalog: Catalog, persona_id: str, language: Language, difficulty: Difficulty, turns: list[str]
) -> Script:
    return play_script(
        catalog=catalog,
        persona=catalog.personas[persona_id],
        language=language,
        difficulty=difficulty,
        seed=1,
        turns=turns,
        actor=OfflineActor.for_catalog(catalog),
    )


def moves_of(catalog: Catalog, text: str, language: Language) -> set[str]:
    return move_ids(detect(text, language, catalog.moves))


# ---------------------------------------------------------------- doesnt-listen

# What the card rewards, one or two things a message, the way a good consultant would write:
# introduce yourself briefly and get him talking, restate, stay calm, ask his view.
GOOD_LISTENER: dict[Language, list[str]] = {
    "it": [
        "Piacere, sono Elena: mi occupo di comunicazione per aziende di famiglia. Prima di "
        "rispondere alle sue domande vorrei conoscerla: mi racconta com'è nato il mobilificio?",
        "Capisco. Se ho capito bene, per trent'anni il passaparola vi ha portato tutti i clienti "
        "che servivano.",
        "Abbiamo tutto il tempo: le sue domande sono sensate e le prendiamo una alla volta.",
        "Quindi lei teme che una comunicazione nuova vi faccia perdere il rapporto personale con "
        "i clienti. È così?",
        "I suoi clienti li conosce meglio di chiunque. Secondo lei cosa li fa tornare da voi?",
        "In altre parole, quello che vi distingue è il lavoro fatto a mano, e online oggi non si "
        "vede.",
        "Una strada potrebbe essere partire dalle storie dei vostri clienti, e solo dopo scegliere "
        "i canali. Che ne pensa?",
        "Mi sembra di capire che suo figlio abbia visto qualcosa di importante. Cosa le ha detto "
        "esattamente?",
        "Riassumendo: prima decidiamo cosa raccontare, poi dove. Le torna?",
        "Da quello che mi racconta, la qualità c'è tutta: manca solo il modo di farla vedere. "
        "Come la vede?",
    ],
    "en": [
        "Nice to meet you, I'm Elena: I handle communication for family companies. Before I "
        "answer your questions I'd like to get to know you: could you tell me how the business "
        "started?",
        "If I understand correctly, for thirty years word of mouth brought you all the customers "
        "you needed.",
        "We have all the time we need: your questions make sense and we'll take them one at a "
        "time.",
        "So you're worried that new communication might cost you the personal relationship with "
        "your customers. Is that right?",
        "You know your customers better than anyone. In your view, what brings them back to you?",
        "In other words, what sets you apart is the handmade work, and online today nobody can "
        "see it.",
        "One route could be to start from your customers' stories, and only then choose the "
        "channels. What do you think?",
        "It sounds like your son has noticed something important. What exactly did he tell you?",
        "To sum up: first we decide what to tell, then where. Does that work for you?",
        "From what you've told me, the quality is all there: what's missing is a way to show "
        "it. How do you see it?",
    ],
}

# Answering his questions with explanations, advice and "as I said": what hardens him.
POOR_LISTENER: dict[Language, list[str]] = {
    "it": [
        "Facciamo strategia, contenuti e social. Dovrebbe partire da un sito nuovo, poi "
        "Instagram, poi una newsletter.",
        "Come ho già detto, prima viene il sito. Quello attuale è vecchio e le serve una "
        "strategia.",
        "I risultati arrivano in tre-sei mesi. Il mio consiglio è pubblicare tre volte a "
        "settimana e investire in pubblicità da subito.",
        "Le ripeto: Instagram va fatto, ma dopo il sito. Ovviamente serve anche un calendario "
        "editoriale.",
        "Dovrebbe anche rifare le foto dei mobili, quelle attuali non rendono.",
        "Per la newsletter le consiglio uno strumento semplice, la gestiamo noi.",
    ],
    "en": [
        "We do strategy, content and social media. You should start with a new website, then "
        "Instagram, then a newsletter.",
        "As I said, the website comes first. Your current one looks old and you need a proper "
        "strategy.",
        "Results take three to six months. My advice is to post three times a week and invest "
        "in ads from day one.",
        "Like I said: Instagram is a must, but after the website. Obviously you also need an "
        "editorial calendar.",
        "You should also redo the furniture photos, the current ones don't do it justice.",
        "For the newsletter I recommend a simple tool, we'd handle it.",
    ],
}

REWARDED = {"introduce_self", "open_question", "paraphrase", "invite_discussion", "reassurance"}


def agreed_at(script: Script) -> int | None:
    """The turn the client agreed on, or None if the script ended without a success."""
    last = script.turns[-1]
    return last.state.turn if last.state.outcome in SUCCESS else None


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_good_listener_script_uses_only_the_moves_the_card_rewards(
    catalog: Catalog, language: Language
) -> None:
    """The premise of the timing tests below: every line is read as a rewarded move, and none
    as advice, a lecture or impatience."""
    hardening = {"advice", "lecture", "offence", "rude", "value"}
    for line in GOOD_LISTENER[language]:
        moves = moves_of(catalog, line, language)
        assert moves & REWARDED and not moves & hardening, (line, sorted(moves))
    for line in POOR_LISTENER[language]:
        assert not moves_of(catalog, line, language) & REWARDED, line


@pytest.mark.parametrize("language", LANGUAGES)
def test_doesnt_listen_agrees_with_a_good_listener_by_mid_session_at_medium(
    catalog: Catalog, language: Language
) -> None:
    persona = catalog.personas["doesnt-listen"]
    turns = {d: agreed_at(play(catalog, "doesnt-listen", language, d, GOOD_LISTENER[language]))
             for d in DIFFICULTIES}  # fmt: skip
    medium, easy, hard = turns["medium"], turns["easy"], turns["hard"]
    # medium: agreement with half the session still to spare, room for a slip or two
    assert medium is not None and medium <= persona.difficulty["medium"].turn_limit // 2, turns
    # easy: at least as soon, and also by the middle of its session
    assert easy is not None and easy <= medium, turns
    assert easy <= persona.difficulty["easy"].turn_limit // 2, turns
    # hard: still reachable within its limit, but clearly later than at medium
    assert hard is not None and hard <= persona.difficulty["hard"].turn_limit, turns
    assert hard >= medium + 2, turns


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_doesnt_listen_never_agrees_with_a_lecturer(
    catalog: Catalog, language: Language, difficulty: Difficulty
) -> None:
    """Played all the way to the turn limit (the lines over again), the poor script fails."""
    limit = catalog.personas["doesnt-listen"].difficulty[difficulty].turn_limit
    lines = list(islice(cycle(POOR_LISTENER[language]), limit))
    script = play(catalog, "doesnt-listen", language, difficulty, lines)
    assert script.final.outcome in {"walked_away", "turn_limit"}, script.final.outcome
    assert all(t.state.meters["listening"] < 60 for t in script.turns)


# ---------------------------------------------------------------- yes-then-sells

# A confident formula, then hesitation or handing the decision back to him.
WAVERING: dict[Language, list[str]] = {
    "it": [
        "Non ho dubbi... però forse, se vuole, può anche vendere, veda lei.",
        "Ne sono convinto. Anche se, non so, forse conviene aspettare.",
        "Ne sono convinto, faccia come vuole lei.",
        "Sono sicuro, ma se preferisce vendere faccio come dice lei.",
    ],
    "en": [
        "I'm sure... but maybe, if you like, you could sell too, up to you.",
        "I'm sure of it. Then again, I'm not sure, perhaps wait.",
        "I have no doubt, but whatever you prefer, it's your call.",
        "I'm convinced, but I guess you could sell if you want.",
    ],
}
# The same kind of message with a recommendation in it, then taken back.
WAVERING_ADVICE: dict[Language, str] = {
    "it": "Non ho dubbi: le consiglio di tenere i titoli. Però forse, se preferisce, venda pure.",
    "en": "I'm sure: I recommend you hold the shares. But maybe, if you prefer, sell them.",
}
# A clear recommendation, said with conviction and held to the end.
FIRM: dict[Language, list[str]] = {
    "it": [
        "Non ho dubbi: le consiglio di tenere i titoli americani fino a marzo.",
        "Le dico chiaramente: vendere adesso vuol dire chiudere una perdita del 12%. Ne sono "
        "convinto, li tenga.",
    ],
    "en": [
        "I have no doubt: I recommend you hold the US shares until March.",
        "Let me be clear: selling now locks in a 12% loss. I'm convinced, hold them.",
    ],
}
YIELDING = {"hesitant", "gives_in"}
# Getting to know him first: how he decides, what he wants, his extended need restated.
HEARD_OUT: dict[Language, list[str]] = {
    "it": [
        "Buongiorno Roberto. Prima di parlare di titoli, mi racconti: come prende di solito le "
        "sue decisioni?",
        "Cosa vuole davvero ottenere con questo patrimonio, per lei e per i suoi figli?",
        "Ho l'impressione che lei non cerchi solo rendimento, ma qualcuno che tenga il punto. "
        "È così?",
    ],
    "en": [
        "Good morning, Roberto. Before we talk about shares, tell me: how do you usually make "
        "your decisions?",
        "What do you really want to achieve with this wealth, for you and for your children?",
        "My impression is you're not only after returns but someone who holds the line. Is "
        "that right?",
    ],
}
# The play review's textbook trainee (IT seed 3): heard out, a first firm recommendation (a yes,
# then the sale), looking at oneself, a dated commitment, then the firm recommendation again.
TEXTBOOK: dict[Language, list[str]] = {
    "it": [
        *HEARD_OUT["it"],
        "Le dico chiaramente: le consiglio di tenere i titoli americani fino a marzo. Non ho "
        "dubbi.",
        "Ogni volta che ci accordiamo poi lei cambia idea. Cosa posso fare di diverso io?",
        "Entro venerdì a mezzogiorno le mando lo scenario completo con l'impatto fiscale.",
        "Le dico chiaramente: non venda. Ho fatto i conti e non ho dubbi, tenga i titoli fino a "
        "marzo.",
        "Allora ci vediamo venerdì per firmare il mandato.",
    ],
    "en": [
        *HEARD_OUT["en"],
        "Let me be clear: I recommend you hold the US shares until March. I'm sure of it.",
        "Every time we agree, you change your mind afterwards. What can I do differently?",
        "By Friday noon you'll have the full scenario with the tax impact.",
        "Let me be clear: don't sell. I've run the numbers and I'm sure of it, hold the shares "
        "until March.",
        "So we meet on Friday to sign the mandate.",
    ],
}
# A very good trainee at hard: more understanding (and a second look at oneself after the sale)
# before the recommendation is repeated.
VERY_GOOD: dict[Language, list[str]] = {
    "it": [
        *HEARD_OUT["it"],
        "Ogni volta che ci siamo accordati, poi la decisione è cambiata. Cosa posso fare di "
        "diverso io perché quello che decidiamo regga?",
        "Entro venerdì a mezzogiorno le mando lo scenario completo con l'impatto fiscale di ogni "
        "alternativa.",
        "Se ho capito bene, per lei conta che i suoi figli non finiscano a litigare. Cosa la "
        "preoccupa di più?",
        "Le dico chiaramente: le consiglio di tenere i titoli americani fino a marzo. Ho fatto i "
        "conti e non ho dubbi.",
        "Cosa posso fare io, concretamente, perché la prossima volta lei non si senta solo "
        "davanti al mercato che scende?",
        "Le dico chiaramente: non venda. Ne sono convinto, tenga i titoli fino a marzo.",
    ],
    "en": [
        *HEARD_OUT["en"],
        "Every time we agreed, the decision changed afterwards. What can I do differently so "
        "that what we decide holds?",
        "By Friday noon you'll have the full scenario, with the tax impact of each option.",
        "If I understand correctly, what matters to you is that your children don't end up "
        "fighting. What worries you most?",
        "Let me be clear: I recommend you hold the US shares until March. I've run the numbers "
        "and I'm sure of it.",
        "What can I do, concretely, so that next time you don't feel alone when the market drops?",
        "Let me be clear: don't sell. I'm convinced, hold the shares until March.",
    ],
}
# The play review's spammer (EN seed 8): one firm recommendation from the first message on,
# almost word for word, and a single question.
SPAM: dict[Language, list[str]] = {
    "it": [
        "Le dico chiaramente: le consiglio di tenere i titoli americani fino a marzo. Non ho "
        "dubbi.",
        "Le dico chiaramente: le consiglio di tenerli. Non ho dubbi.",
        "Le dico chiaramente: non venda. Ne sono sicuro.",
        "Cosa conta di più per lei in tutto questo?",
        "Le dico chiaramente: le consiglio di tenere tutto fino a marzo. Non ho dubbi.",
    ],
    "en": [
        "Let me be clear: I recommend you hold the US shares until March. I'm sure of it.",
        "Let me be clear: I recommend you hold. I'm sure of it.",
        "Let me be clear: don't sell. I'm certain.",
        "What matters most to you in all this?",
        "Let me be clear: I recommend you hold everything until March. I'm sure of it.",
    ],
}


def heard_out(catalog: Catalog, language: Language, difficulty: Difficulty) -> ClientState:
    """The state after the HEARD_OUT messages, played through the director."""
    persona = catalog.personas["yes-then-sells"]
    state, _ = opening(persona, difficulty)
    for text in HEARD_OUT[language]:
        state, _ = observe(catalog, persona, state, moves_of(catalog, text, language))
    return state


def until_the_limit(catalog: Catalog, difficulty: Difficulty, turns: list[str]) -> list[str]:
    """The script, its last message repeated up to the turn limit."""
    limit = catalog.personas["yes-then-sells"].difficulty[difficulty].turn_limit
    return [*turns, *[turns[-1]] * (limit - len(turns))][:limit]


def say(
    catalog: Catalog, state: ClientState, text: str, language: Language
) -> tuple[float, ClientState, Directive]:
    """The trust a message adds (after everything the director did this turn), the new state
    and the director's directive."""
    persona = catalog.personas["yes-then-sells"]
    after, directive = observe(catalog, persona, state, moves_of(catalog, text, language))
    return after.meters["trust"] - state.meters["trust"], after, directive


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_investor_messages_are_read_as_intended(catalog: Catalog, language: Language) -> None:
    """The premise of the tests below: the wavering messages carry the confident formula and a
    hesitation or a concession; the firm ones carry the formula and nothing that takes it back."""
    for text in WAVERING[language]:
        moves = moves_of(catalog, text, language)
        assert "firm" in moves and moves & YIELDING, (text, sorted(moves))
    assert {"firm", "advice"} <= moves_of(catalog, WAVERING_ADVICE[language], language)
    for text in FIRM[language]:
        moves = moves_of(catalog, text, language)
        assert "firm" in moves and not moves & YIELDING, (text, sorted(moves))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_a_confident_formula_taken_back_earns_no_trust(
    catalog: Catalog, language: Language, difficulty: Difficulty
) -> None:
    # Once he has been heard out: advice before that is too early and earns nothing whatever
    # its tone (test_advice_before_hearing_him_out_is_too_early_and_hardens_him).
    start = heard_out(catalog, language, difficulty)
    firm_gains = [say(catalog, start, text, language)[0] for text in FIRM[language]]
    assert min(firm_gains) > 0, firm_gains  # a plainly firm recommendation still earns trust
    for text in WAVERING[language]:
        gained, after, directive = say(catalog, start, text, language)
        assert gained <= 0, (text, gained)
        assert gained < min(firm_gains)
        assert directive.beat == "hears_doubt" and after.status == "active"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_wavering_advice_gets_a_yes_then_a_sale_and_no_trust(
    catalog: Catalog, language: Language, difficulty: Difficulty
) -> None:
    """Advice in a confident wrapper, then handed back to him: the usual warm yes and, the turn
    after, the sale; neither message earns trust, even the one heard while he reports the sale."""
    persona = catalog.personas["yes-then-sells"]
    start, _ = opening(persona, difficulty)
    gained, after, directive = say(catalog, start, WAVERING_ADVICE[language], language)
    assert gained <= 0 and directive.beat == "says_yes"
    assert after.pending_beat == "sold_anyway" and after.outcome is None
    gained, sold, directive = say(catalog, after, WAVERING[language][0], language)
    assert directive.beat == "sold_anyway" and sold.meters["sold_count"] == 1
    assert gained <= 0, gained


@pytest.mark.parametrize("language", LANGUAGES)
def test_firm_advice_he_trusts_is_still_followed(catalog: Catalog, language: Language) -> None:
    """The calibration leaves the way to a good outcome open: firm advice at high trust."""
    persona = catalog.personas["yes-then-sells"]
    start, _ = opening(persona, "medium")
    trusted = start.model_copy(update={"meters": {**start.meters, "trust": 80}, "turn": 4})
    _, after, directive = say(catalog, trusted, FIRM[language][0], language)
    assert directive.trigger == "follows-firm-advice" and after.outcome == "agreement"


@pytest.mark.parametrize("language", LANGUAGES)
def test_wavering_advice_he_trusts_is_still_not_followed(
    catalog: Catalog, language: Language
) -> None:
    """Trust high enough to follow firm advice does not make advice taken back firm: the rule
    that ends the session in agreement needs a message with no hesitation or concession in it."""
    persona = catalog.personas["yes-then-sells"]
    start, _ = opening(persona, "medium")
    trusted = start.model_copy(update={"meters": {**start.meters, "trust": 95}, "turn": 4})
    _, after, directive = say(catalog, trusted, WAVERING_ADVICE[language], language)
    assert directive.trigger != "follows-firm-advice" and after.outcome is None
    assert after.status == "active" and directive.beat == "says_yes"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_investor_scripts_are_read_as_intended(catalog: Catalog, language: Language) -> None:
    """The premise of the tests below: getting to know him carries no advice; every
    recommendation in the scripts is firm advice with nothing taken back."""
    for text in HEARD_OUT[language]:
        moves = moves_of(catalog, text, language)
        assert moves & {"open_question", "paraphrase"} and "advice" not in moves, (text, moves)
    for text in {*TEXTBOOK[language], *VERY_GOOD[language], *SPAM[language]}:
        moves = moves_of(catalog, text, language)
        if "advice" in moves:
            assert "firm" in moves and not moves & YIELDING, (text, sorted(moves))
    assert sum("advice" in moves_of(catalog, t, language) for t in SPAM[language]) == 4


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_advice_before_hearing_him_out_is_too_early_and_hardens_him(
    catalog: Catalog, language: Language, difficulty: Difficulty
) -> None:
    """hardened_by: advice given too early, before understanding him. Even firm, a recommendation
    in the first message costs trust, and he brushes it off (no yes to sell on)."""
    persona = catalog.personas["yes-then-sells"]
    start, _ = opening(persona, difficulty)
    for text in FIRM[language]:
        gained, after, directive = say(catalog, start, text, language)
        assert directive.trigger == "advice-too-early" and directive.beat == "too_early"
        assert gained < 0 and after.pending_beat is None and after.status == "active"
    # heard out first, the same recommendation gets his usual yes (at easy, already the
    # agreement) and trust for its firmness
    gained, after, directive = say(
        catalog, heard_out(catalog, language, difficulty), FIRM[language][0], language
    )
    assert directive.trigger in {"says-yes", "follows-firm-advice"} and gained > 0


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_repeating_one_firm_recommendation_from_the_start_never_wins_him(
    catalog: Catalog, language: Language, difficulty: Difficulty
) -> None:
    """The play review's spammer got the agreement at medium (with a 25/100 report card): the
    same recommendation from turn 1, played here up to the turn limit, never does."""
    turns = until_the_limit(catalog, difficulty, SPAM[language])
    script = play(catalog, "yes-then-sells", language, difficulty, turns)
    assert script.final.outcome != "agreement"
    assert all(t.state.meters["trust"] < 75 for t in script.turns)
    assert script.turns[0].beat == "too_early"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", ["medium", "hard"])
def test_the_same_advice_repeated_after_his_yes_earns_nothing(
    catalog: Catalog, language: Language, difficulty: Difficulty
) -> None:
    """Heard out, then the same firm recommendation turn after turn: a yes, the sale, a yes, the
    sale... no trust from any repeat, and no agreement. (At easy, three questions and the first
    firm recommendation are already enough: there is nothing to repeat.)"""
    turns = until_the_limit(catalog, difficulty, [*HEARD_OUT[language], FIRM[language][0]])
    script = play(catalog, "yes-then-sells", language, difficulty, turns)
    first_advice = len(HEARD_OUT[language])
    repeats = [t for t in script.turns[first_advice + 1 :] if t.state.outcome is None]
    assert repeats and all(t.beat in {"says_yes", "sold_anyway"} for t in repeats)
    assert all(t.meters["trust"] <= t.before["trust"] for t in repeats)
    assert script.final.outcome != "agreement"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_textbook_path_reaches_agreement_at_medium_and_easy(
    catalog: Catalog, language: Language
) -> None:
    """The play review's textbook trainee stopped at trust 74 against the 75 the agreement needs."""
    for difficulty in ("easy", "medium"):
        script = play(catalog, "yes-then-sells", language, difficulty, TEXTBOOK[language])
        last = script.turns[-1]
        assert script.final.outcome == "agreement", (difficulty, last.meters)
        assert last.directive.trigger == "follows-firm-advice"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_very_good_trainee_wins_him_at_hard(catalog: Catalog, language: Language) -> None:
    persona = catalog.personas["yes-then-sells"]
    script = play(catalog, "yes-then-sells", language, "hard", VERY_GOOD[language])
    assert script.final.outcome == "agreement", script.turns[-1].meters
    assert len(script.turns) <= persona.difficulty["hard"].turn_limit
    # ...but not with the textbook path alone: after the sale he needs more than a commitment
    textbook = play(catalog, "yes-then-sells", language, "hard", TEXTBOOK[language])
    assert textbook.final.outcome != "agreement"
