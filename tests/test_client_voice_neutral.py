"""What the client says does not assume the trainee is a man.

Trainees are women and men. The client's lines (`lines` in a persona card, spoken by the offline
actor and shown to the llm actor as examples) speak to the trainee in the client's own voice,
and the client's own gender is set by the card ("sono ancora furioso", "mi sento più
tranquilla"); but what the client says *to or about the trainee* must fit either: "Che
maleducazione!", not "Lei è un cafone"; "non si preoccupi", not "stia tranquillo"; "Buongiorno.",
not "Buongiorno dottore.". The same goes for the few English forms that give the trainee a
gender ("Rude man!", "someone who holds his ground").

This test scans the client lines of every card for a short, precise list of such forms; the
self-check cases below show what the patterns catch and what they leave alone. The card text
shown to the trainee is checked by test_inclusive_italian.py; the llm actor is told the same
thing by prompts/actor.j2, checked at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
import yaml

from app.catalog import PROMPTS_DIR, Catalog, Language
from app.engine.actors import LLMActor
from app.engine.director import opening
from app.engine.llm import LLMClient

ROOT = Path(__file__).resolve().parent.parent

# Italian forms that give the trainee a masculine gender. Each is written to catch the form when
# it addresses or names the trainee, and to leave the client talking about himself alone.
ITALIAN = [
    re.compile(p, re.IGNORECASE)
    for p in (
        # a masculine noun for the trainee: "Lei è un cafone", "sei il migliore", "sei uno dei
        # pochi"; "lei è un tesoro", "sei un mito", said to anyone, are fine
        r"\b(?:sei|lei (?:è|e['’])) (?:(?:sempre|proprio|davvero|anche|stato|solo|più) )*"
        r"(?:un|uno|il) (?!(?:po|tesoro|mito|genio|angelo|fenomeno)\b)\w+",
        # a masculine adjective or participle: "Lei è sempre stato corretto", "sei bravo",
        # "lei è più bravo di così", "sarà a casa tranquillo" (as "lei sarà")
        r"\b(?:sei|lei (?:è|e['’]|era|sarà|sia|fosse)|tu (?:eri|sarai|sia|fossi)) "
        r"(?:(?:sempre|stato|proprio|davvero|così|molto|troppo|tanto|già|anche|mai|ancora|più"
        r"|poi|a casa) )*(?!(?:solo|uno)\b)\w+o\b",
        # the same with "lei" after it: "se non è sicuro lei", "è stato lei a dirmelo"
        r"\b(?:è|era|sarà|sia|fosse) (?:(?:già|proprio|davvero|sempre|stato) )*\w+o lei\b",
        # "È il primo che mi parla così", "è l'unico che mi capisce"
        r"\b(?:è|sei) (?:proprio |davvero )?(?:il|l.unico) (?:primo|solo|unico|migliore) che\b",
        # a state the trainee should be in: "stia tranquillo", "sarà a casa tranquillo"
        r"\b(?:sarà|sarai|stia|stai|resti|rimanga|rimani|sii) (?:(?:pure|più|tanto|sempre|a casa)"
        r" )*(?:tranquill|seren|calm|sicur|content|zitt|attent|comod)o\b",
        # a question about the trainee's feelings: "Va bene, non vendo. Contento?"
        r"(?:^|[.!?…]\s+)(?:contento|soddisfatto|convinto|sicuro)\?",
        # a reflexive participle, "ti sei offeso?", "te ne sei dimenticato"
        r"\b(?:ti sei|te ne sei|ti eri) (?:(?:già|proprio|davvero|anche|mai|pure) )*"
        r"\w+(?:at|ut|it|es|ers|ott|ent|ur)o\b",
        # masculine insults: "Il maleducato è lei!", "Un cafone vero", "Maleducato!", "fa il
        # burocrate" (the client calling himself stupid is his business)
        r"(?<!sono )(?<!sento )(?<!sembro )\b(?:maleducato|cafone|villano|screanzato|zotico"
        r"|buzzurro|cretino|scemo|stupido|presuntuoso|saputello|pagliaccio|burocrate)\b",
        # "fare il ..." said of the trainee: "adesso fa il gentile?", "fai il furbo"
        r"\b(?:fa|fai|faccia|fare) (?:il|lo) (?:gentile|simpatico|furbo|prezioso|difficile"
        r"|professore|maestrino|saputello|superiore|sostenuto|duro|permaloso|precisino|vago)\b",
        # the trainee's trade in the masculine: "parlo con il professionista?", "si definisce un
        # professionista" ("si definisce professionista" fits anyone), "è lei l'esperto?"
        r"\b(?:parlo con|si definisce|ti definisci|è lei|sei tu) (?:(?:il|un) (?:professionista"
        r"|consulente|commercialista)|(?:(?:il|lo|l.|un|uno) ?)?(?:esperto|dottore|avvocato"
        r"|ingegnere|architetto))\b",
        # another one of the trainee's trade: "mi cerchi un altro consulente"
        r"\bun altro (?:professionista|consulente|commercialista|esperto|dottore|avvocato"
        r"|ingegnere|architetto)\b",
        # a masculine title or word as a vocative: "Dottore, ...", "Eccomi, dottore.",
        # "Buongiorno dottore", "Bravo, così mi piace"
        r"(?:^|[,.!?…]\s*|\b(?:buongiorno|buonasera|salve|eccomi|ciao|grazie|scusi|senta) )"
        r"(?:dottore|avvocato|ingegnere|architetto|ragioniere|geometra|professore|caro|carissimo"
        r"|bravo|bravissimo)\b",
        r"(?<!\bil )(?<!\bun )\bben(?:venut|tornat)o\b",  # "il benvenuto", the noun, is fine
        # "guarda tu stesso", "lo sa lei stesso"
        r"\b(?:tu|lei|te|sé|se) stesso\b",
        # the trainee as "uno": "volevo sentire uno che se ne intende", "ne trovo uno più
        # disponibile"
        r"\b(?:sentire|trovo|cerco|trovare|cercare|chiamo|chiamare|chiedo a|chiedere a) uno"
        r" (?:che|più|bravo|serio|del mestiere)\b",
    )
]

# English forms that give the trainee a gender: the rest of English is neutral already.
ENGLISH = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bsomeone (?:who|that) (?:\w+ ){0,4}?(?:he|his|him|himself)\b",  # "holds his ground"
        r"\b(?:rude|good|young|dear|nice) man\b",
        r"\bsir\b",
        r"(?:^|[.!?]\s+)doctor,",
    )
]


def client_lines() -> Iterator[tuple[str, str, str, str]]:
    """(card id, beat.index, language, message) for every message of every card's lines."""
    for card_file in sorted((ROOT / "personas").glob("*.yaml")):
        card = yaml.safe_load(card_file.read_text(encoding="utf-8"))
        for beat, lines in card["lines"].items():
            for i, line in enumerate(lines):
                for language in ("it", "en"):
                    said = line[language]
                    for message in said if isinstance(said, list) else [said]:
                        yield card["id"], f"{beat}.{i}", language, message


def found_in(text: str, patterns: list[re.Pattern[str]]) -> list[str]:
    return [m.group(0) for p in patterns for m in p.finditer(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Prego?! Lei è un cafone, ecco cos'è.", "Ma che maleducato.",
        "Incredibile. Un cafone vero.", "Il maleducato è lei!", "Lasci stare. Maleducato!",
        "Uno ha un problema e lei fa il burocrate.", "Scusi, è lei l'esperto?",
        "Ah, adesso fa il gentile?", "Pronto? Buonasera, parlo con il professionista?",
        "E si definisce un professionista!", "forse è ora che mi cerchi un altro consulente",
        "tanto a quest'ora sarà a casa tranquillo, no?", "non la richiamo più, stia tranquillo.",
        "Dottore, buongiorno.", "Eccomi, dottore.", "Buongiorno dottore. Giornate difficili.",
        "Lei è sempre stato corretto con me.", "Guarda tu stesso: il modulo non va.",
        "Volevo sentire uno che se ne intende.", "Bah. Ne trovo uno più disponibile.",
        "Senta, se non è sicuro lei, decido io.", "Andiamo, lei è più bravo di così.",
        "Va bene, non vendo. Contento?", "È il primo che mi parla così.", "Sei stato chiarissimo.",
        "Ti sei offeso?", "Bravo, così mi piace.", "Bentornato!", "Sei il migliore.",
    ],
)  # fmt: skip
def test_the_italian_patterns_catch_the_masculine_forms(text: str) -> None:
    assert found_in(text, ITALIAN), text


@pytest.mark.parametrize(
    "text",
    [
        # the rewrites
        "Prego?! Questa è una cafonata, ecco cos'è.", "Ma che maleducazione.",
        "Incredibile. Una cafonaggine mai vista.", "La maleducazione è tutta sua!",
        "Lasci stare. Che gente maleducata!", "Uno ha un problema e lei mi legge il regolamento.",
        "Ah, adesso con le buone maniere?", "Pronto? Buonasera, è il numero dello studio?",
        "E si definisce professionista!", "forse è ora che mi cerchi un altro studio",
        "tanto a quest'ora sarà a casa in pantofole, no?", "non la richiamo più, non si preoccupi.",
        "Buongiorno. Mi scusi se la richiamo.", "Eccomi qua.",
        "Senta, la conosco da quindici anni.",
        "Lei mi ha sempre trattato con correttezza.", "Guarda con i tuoi occhi: il modulo non va.",
        "Volevo sentire qualcuno che se ne intende.", "Bah. Trovo qualcuno più disponibile.",
        # epicene words, and the client speaking of himself or of others
        "Perfetto, lei è un tesoro.", "Sei un mito, davvero!", "Sei sempre così disponibile.",
        "Sei una persona seria.", "Lo sapevo che era una brava persona.", "Pronto? C'è ancora?",
        "Così mi sento più tranquillo.", "No, guardi, sono ancora furioso.",
        "Io sono un idraulico.", "Guardi che lo so da solo.",
        "Il consulente di prima ci ha lasciato un piano.",
        "Le rate, glielo metto per iscritto io stesso.",
        "Lo dico a tutti che razza di professionista è.",
        "Mi sono arrabbiato.", "Che il sito sia pronto entro venerdì.", "Ti diamo il benvenuto.",
        "Sei d'accordo?", "Sei solo tu a dirlo.", "È il primo passo.",
    ],
)  # fmt: skip
def test_the_italian_patterns_leave_neutral_forms_alone(text: str) -> None:
    assert not found_in(text, ITALIAN), found_in(text, ITALIAN)


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("I'm looking for someone who holds his ground.", True),
        ("I need someone who knows what he thinks.", True),
        ("Forget it, you're not worth it. Rude man!", True),
        ("Yes, sir.", True),
        ("Morning. Doctor, where are we?", True),
        ("I'm looking for someone who holds their ground.", False),
        ("Some people have no manners!", False),
        ("A man has a problem and you read me the rulebook.", False),  # the client himself
        ("My accountant says I could earn more. He never tells me how.", False),
        ("Someone who knows the trade, that's what I need.", False),
    ],
)
def test_the_english_patterns(text: str, caught: bool) -> None:
    assert bool(found_in(text, ENGLISH)) is caught, text


def test_client_lines_do_not_assume_the_trainee_is_a_man() -> None:
    lines = list(client_lines())
    assert len(lines) > 800, "the scan found too few lines: has the layout of the cards changed?"
    found = [
        f"personas/{card}.yaml lines.{where} ({language}): {form!r} in {message!r}"
        for card, where, language, message in lines
        for form in found_in(message, ITALIAN if language == "it" else ENGLISH)
    ]
    assert not found, "client lines that give the trainee a masculine form:\n" + "\n".join(found)


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_llm_actor_is_told_not_to_assume_the_trainee_s_gender(
    catalog: Catalog, language: Language
) -> None:
    persona = catalog.personas["loyal-debtor"]
    actor = LLMActor(
        cast(LLMClient, None), model="m", temperature=0.0, prompts_dir=PROMPTS_DIR, texts={}
    )
    state, directive = opening(persona, "medium")
    text = actor.prompt(persona, language, state, directive).text
    assert "do not assume it" in text and '"Lei" or "tu"' in text
    examples = text.split("Lines this client might say here", 1)[1]
    assert not found_in(examples, ITALIAN if language == "it" else ENGLISH), examples
