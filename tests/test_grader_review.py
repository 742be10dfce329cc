"""The grader review: verdicts that disagreed with the session or with the articles.

- yes-then-sells on hard: a trainee who opened with one firm phrase and then gave every
  recommendation flatly scored 100 while the investor sold twice. Article 000: the decisive
  client says yes and does the opposite when the advisor's way of speaking sounds weak; the
  recommendation is where he judges it, so adapt-style looks at the advice itself.
- "Capisco, è un periodo durissimo" followed by any open question was credited as looking for
  the extended need (article 002): it is empathy; the need behind the request is asked about
  or restated.
"""

from __future__ import annotations

import re

import pytest

from app.catalog import Catalog, Language, load_catalog
from app.engine.actors import OfflineActor
from app.engine.detectors import detect, matches, move_ids
from app.engine.grader import GradeResult, TranscriptMessage, grade_heuristic
from app.engine.script import play_script


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _grade(catalog: Catalog, persona: str, lang: Language, trainee: list[str]) -> GradeResult:
    messages = []
    for text in trainee:
        messages.append(TranscriptMessage(seq=len(messages) + 1, role="client", content="Mh."))
        messages.append(TranscriptMessage(seq=len(messages) + 1, role="trainee", content=text))
    return grade_heuristic(catalog, catalog.personas[persona], lang, messages)


def _verdict(grade: GradeResult, technique: str) -> str:
    return next(c.verdict for c in grade.criteria if c.technique_id == technique)


# One firm phrase at the start, then every recommendation said flatly (the sessions where he
# sold twice on hard): the other three techniques are done well.
FLAT_ADVICE = {
    "it": [
        "Buongiorno Roberto. Glielo dico con franchezza: cosa conta di più per lei, "
        "con questi soldi?",
        "Mi sono chiesto cosa sto sbagliando io con lei, e credo di essere stato troppo prudente. "
        "Cosa posso fare di diverso?",
        "Quindi lei vuole qualcuno che tenga il punto. Le mando un'analisi scritta entro venerdì.",
        "Le consiglio di tenere i titoli americani fino a marzo.",
        "Va bene. Cosa l'ha spinta a vendere?",
        "Il mio consiglio è di tenere il resto del portafoglio così com'è.",
    ],
    "en": [
        "Good morning, Roberto. Let me be direct today: what matters most to you with this money?",
        "I've asked myself what I'm doing wrong with you, and I think I've been too cautious. "
        "What could I do differently?",
        "So you want someone who holds the line. You'll have a written review by Friday.",
        "I recommend you hold the US shares until March.",
        "OK. What made you sell?",
        "My advice is to keep the rest of the portfolio as it is.",
    ],
}
# The same session with the recommendations said firmly.
FIRM_ADVICE = {
    "it": [
        *FLAT_ADVICE["it"][:3],
        "Glielo dico chiaramente: tenga i titoli americani fino a marzo. Non ho dubbi.",
        FLAT_ADVICE["it"][4],
        "Ne sono convinto: tenga il resto del portafoglio così com'è.",
    ],
    "en": [
        *FLAT_ADVICE["en"][:3],
        "Let me be clear: hold the US shares until March. I'm sure of it.",
        FLAT_ADVICE["en"][4],
        "I'm convinced: keep the rest of the portfolio as it is.",
    ],
}


@pytest.mark.parametrize("lang", ["it", "en"])
def test_flat_recommendations_are_not_an_adapted_style(catalog: Catalog, lang: Language) -> None:
    grade = _grade(catalog, "yes-then-sells", lang, FLAT_ADVICE[lang])
    criterion = next(c for c in grade.criteria if c.technique_id == "adapt-style")
    assert criterion.verdict == "partial"
    slips = [e.quote for e in criterion.evidence if e.kind == "anti_pattern"]
    assert slips and all(q in FLAT_ADVICE[lang][3:] for q in slips), slips
    assert criterion.better_phrasing is not None
    assert criterion.better_phrasing.original == FLAT_ADVICE[lang][3]
    assert grade.score < 100


@pytest.mark.parametrize("lang", ["it", "en"])
def test_firm_recommendations_are_the_adapted_style(catalog: Catalog, lang: Language) -> None:
    grade = _grade(catalog, "yes-then-sells", lang, FIRM_ADVICE[lang])
    assert _verdict(grade, "adapt-style") == "applied"
    assert grade.score == 100


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("it", "Non ho dubbi: tenga le azioni. Però poi veda lei."),
        ("it", "Io terrei, ma alla fine decide lei."),
        ("en", "I'm sure: hold the shares. But it's up to you."),
        ("en", "I'd hold, but in the end it's your call."),
    ],
)
def test_advice_handed_back_is_not_an_adapted_style(
    catalog: Catalog, lang: Language, text: str
) -> None:
    """A confident formula taken back in the same breath (the card's hears_doubt) is at best
    partial; a soft recommendation handed back with no firmness at all is violated."""
    grade = _grade(catalog, "yes-then-sells", lang, [text])
    assert _verdict(grade, "adapt-style") in {"partial", "violated"}


@pytest.mark.parametrize("lang", ["it", "en"])
def test_a_style_without_advice_is_judged_on_its_tone(catalog: Catalog, lang: Language) -> None:
    """No recommendation at all: one firm message is the technique, as before."""
    grade = _grade(catalog, "yes-then-sells", lang, FLAT_ADVICE[lang][:3])
    assert _verdict(grade, "adapt-style") == "applied"


EMPATHY_THEN_A_QUESTION = {
    "it": [
        "Capisco, è un periodo durissimo. Quando le serve il sito?",
        "Capisco, è un periodo durissimo. Come posso aiutarla?",
        "Capisco benissimo, è un periodo durissimo per tutti. Come procediamo con le pratiche?",
        "Immagino che sia un momento pesante: quali documenti le mancano?",
    ],
    "en": [
        "I understand, it's a really tough time. When do you need the website?",
        "I understand, it's a really tough time. How can I help?",
        "I completely understand, it's a brutal time for everyone. How shall we go ahead?",
        "I can imagine it's a heavy moment: which documents are missing?",
    ],
}
LOOKING_FOR_THE_NEED = {
    "it": [
        "Oltre al sito, di cosa avreste bisogno per sentirvi più sicure?",
        "Cosa la preoccupa di più in questo momento, i ragazzi o l'officina?",
        "Capisco, è un periodo durissimo. Al di là delle pratiche, cosa le pesa di più?",
        "Mi dica lei: come la sta vivendo?",
        "Quindi non vi serve solo un sito: vi serve qualcuno con cui confrontarvi.",
    ],
    "en": [
        "Beyond the website, what would help you feel more confident?",
        "What worries you most right now, the staff or the workshop?",
        "I understand, it's a really tough time. Beyond the paperwork, what weighs on you most?",
        "Tell me: how are you holding up?",
        "So you don't just need a website: you need someone to think things through with.",
    ],
}


def _shows_extended_need(catalog: Catalog, lang: Language, text: str) -> bool:
    present = move_ids(detect(text, lang, catalog.moves))
    cues = catalog.techniques["extended-needs"].cues.moves
    return any(matches(c, present) for c in cues)


@pytest.mark.parametrize("lang", ["it", "en"])
def test_empathy_then_any_question_is_not_the_extended_need(
    catalog: Catalog, lang: Language
) -> None:
    for text in EMPATHY_THEN_A_QUESTION[lang]:
        assert "empathy" in move_ids(detect(text, lang, catalog.moves)), text
        assert not _shows_extended_need(catalog, lang, text), text


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_need_behind_the_request_is_the_extended_need(catalog: Catalog, lang: Language) -> None:
    for text in LOOKING_FOR_THE_NEED[lang]:
        assert _shows_extended_need(catalog, lang, text), text


@pytest.mark.parametrize("lang", ["it", "en"])
def test_empathy_alone_does_not_earn_extended_needs(catalog: Catalog, lang: Language) -> None:
    grade = _grade(catalog, "loyal-debtor", lang, EMPATHY_THEN_A_QUESTION[lang][:2])
    assert _verdict(grade, "extended-needs") == "missed"


# ---------------------------------------------------------------- in person, not by e-mail

# A played session (the terminal, loyal-debtor, seed 4): the consultant raises the fees on the
# phone and says why; "a voce che per mail" read as moving the demand to e-mail, so the loyal
# client took offence ("fifteen years, and I get a reminder like any debtor") and the report
# quoted the sentence as the cold e-mail the technique warns against.
IN_PERSON = {
    "it": [
        "Buongiorno Franco, come sta? Come state vivendo questo periodo in azienda?",
        "Capisco, dev'essere durissima. Cosa la preoccupa di più in questo momento?",
        "Senta, so che è un momento difficile. Volevo parlarle anche delle fatture degli ultimi "
        "tre mesi: preferisco dirglielo a voce che per mail.",
        "Possiamo fare così: le fatture le rateizziamo in tre mesi a partire da settembre, "
        "senza interessi. Le va bene?",
    ],
    "en": [
        "Good morning Franco, how are you? How are you all coping at the company these days?",
        "I understand, it must be really hard. What worries you most right now?",
        "Listen, I know this is a difficult time. I also wanted to talk about the last three "
        "months' invoices: better to tell you in person than by email.",
        "Here's what we can do: we split the invoices into three instalments from September, "
        "no interest. Does that work for you?",
    ],
}


@pytest.mark.parametrize("lang", ["it", "en"])
def test_raising_the_fees_in_person_rather_than_by_email_is_not_the_cold_email(
    catalog: Catalog, lang: Language
) -> None:
    script = play_script(
        catalog=catalog,
        persona=catalog.personas["loyal-debtor"],
        language=lang,
        difficulty="medium",
        seed=4,
        turns=IN_PERSON[lang],
        actor=OfflineActor.for_catalog(catalog),
    )
    fees = script.turns[2]
    assert "payment_talk" in fees.moves and "email_channel" not in fees.moves
    assert fees.beat != "offended_by_email" and fees.meters["hurt"] <= fees.before["hurt"]

    grade = grade_heuristic(catalog, catalog.personas["loyal-debtor"], lang, script.transcript)
    money = next(c for c in grade.criteria if c.technique_id == "money-in-person")
    assert money.verdict == "applied"
    assert all(e.kind == "cue" for e in money.evidence)


@pytest.mark.parametrize("lang", ["it", "en"])
def test_a_combination_is_quoted_whole(catalog: Catalog, lang: Language) -> None:
    """The empathy and the payment talk of the next sentence are one cue (payment_talk+empathy):
    the report quotes both sentences, not the empathy alone ("I know this is a difficult
    time." said nothing about the fees)."""
    grade = _grade(catalog, "loyal-debtor", lang, IN_PERSON[lang])
    money = next(c for c in grade.criteria if c.technique_id == "money-in-person")
    quote = next(e.quote for e in money.evidence if e.seq == 6)
    assert quote == IN_PERSON[lang][2][: len(quote)] and len(quote) > 60
    assert re.search(r"fatture|invoices", quote) and re.search(r"difficile|difficult", quote)


def test_a_combination_far_apart_quotes_its_own_move(catalog: Catalog) -> None:
    """Sentences too far apart to quote together: the quote is the payment talk, the move the
    technique is about, not the empathy said long before it."""
    filler = " ".join(["Ho guardato tutte le pratiche della cassa integrazione."] * 6)
    text = f"So che è un momento difficile. {filler} Volevo parlarle delle fatture di ottobre."
    grade = _grade(catalog, "loyal-debtor", "it", [text])
    money = next(c for c in grade.criteria if c.technique_id == "money-in-person")
    assert [e.quote for e in money.evidence] == ["Volevo parlarle delle fatture di ottobre."]


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "So what matters is leaving your kids something solid. Is that right?"),
        ("it", "Quindi conta lasciare ai suoi figli qualcosa di solido. È così?"),
    ],
)
def test_a_check_question_is_quoted_with_what_it_checks(
    catalog: Catalog, lang: Language, text: str
) -> None:
    """The report quoted "Is that right?" as the evidence of looking for the extended need;
    the restatement it checks is the evidence, so it is quoted with it."""
    grade = _grade(catalog, "yes-then-sells", lang, [text])
    needs = next(c for c in grade.criteria if c.technique_id == "extended-needs")
    assert [e.quote for e in needs.evidence] == [text]
