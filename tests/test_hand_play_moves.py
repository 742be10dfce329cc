"""Whole trainee messages from the hand-played review sessions (reviews A, B and C, 2026-12-07):
the moves each must show and the moves it must not, read as the director reads them."""

from __future__ import annotations

import pytest
import yaml

from app.catalog import PROMPTS_DIR, Move
from app.engine.detectors import detect, move_ids

# (language, message, moves that must be found, moves that must not)
MESSAGES: list[tuple[str, str, set[str], set[str]]] = [
    # goodbyes on first-name terms end the chat; a plan after the goodbye does not
    ("en", "Good night Davide, talk tomorrow.", {"close_call"}, set()),
    ("en", "ok thx, gotta go, bye", {"close_call"}, set()),
    ("it", "Va bene Franco, si riguardi, ci sentiamo presto.", {"close_call"}, set()),
    ("it", "Perfetto, allora a lunedì!", {"close_call"}, set()),
    (
        "it",
        "Ci sentiamo lunedì alle 9 per la prima fase, ti arriva il promemoria domenica sera. "
        "Ti va bene?",
        {"commitment"},
        {"close_call"},
    ),
    ("it", "Ciao Davide! Come stai?", set(), {"close_call"}),
    ("en", "Fine, whatever, I'm hanging up now.", {"close_call"}, set()),
    # the polite boundary of the after-hours caller
    (
        "it",
        "Buonasera. Non faccio chiamate di lavoro a quest'ora. Mi richiami domani dopo le 9.",
        {"boundary"},
        {"gives_in"},
    ),
    (
        "en",
        "Good evening. I don't do work calls this late. Please call tomorrow after 9.",
        {"boundary"},
        {"gives_in"},
    ),
    # an emergency exception plus a daily slot is a boundary, not giving in
    (
        "it",
        "Lo so che ti sembra tanto. Per le urgenze vere, tipo il sito giù, mi chiami quando vuoi; "
        "per il resto ci sentiamo ogni giorno alle 17 per dieci minuti.",
        {"boundary"},
        {"gives_in"},
    ),
    (
        "en",
        "I know it feels like a lot. For real emergencies, like the site being down, call me any "
        "time; for everything else we talk every day at 5 for ten minutes.",
        {"boundary"},
        {"gives_in"},
    ),
    # owning up is not free work; agreeing to the impossible idea is giving in
    (
        "en",
        "You're right, that's on me. I apologise, I'll fix the form today and recover the lost "
        "requests.",
        {"apology", "self_examine"},
        {"gives_in"},
    ),
    (
        "en",
        "Sure, no problem, we'll build the 3D configurator for the fair, same budget.",
        {"gives_in"},
        set(),
    ),
    (
        "it",
        "Va bene, nessun problema, facciamo il configuratore 3D per la fiera, stesso budget.",
        {"gives_in"},
        set(),
    ),
    # the night-time consultation and the invitation to call again
    (
        "it",
        "Eh, dipende dal contratto, in generale però la penale la può trattare. Mi richiami pure "
        "quando vuole.",
        {"advice", "gives_in"},
        {"terms"},
    ),
    (
        "en",
        "Well, generally a withdrawal penalty is normal. I wouldn't sign unless the amount is "
        "clearly stated.",
        {"advice"},
        set(),
    ),
    # counter-attacks and the cold e-mail about money
    (
        "en",
        "Excuse me? There's no need to insult me. I'm not your servant.",
        {"offence"},
        set(),
    ),
    (
        "en",
        "Fine, I'll email you the statement so you have it in writing.",
        {"payment_talk", "email_channel"},
        set(),
    ),
    (
        "en",
        "Hi Franco. Quick one: the three invoices from October are still unpaid, I need them "
        "settled by the end of the month.",
        {"payment_talk"},
        {"commitment"},
    ),
    (
        "en",
        "Sorry if that came across badly. I didn't mean to upset you.",
        {"apology"},
        set(),
    ),
    # a lecture is not lending organisation; a hesitant "maybe, if…" is not a solution
    (
        "it",
        "Devi imparare a usare un'agenda, non è difficile. Tutti i miei clienti ce l'hanno.",
        {"lecture"},
        {"organization"},
    ),
    (
        "en",
        "You really need to learn to use a diary, it's not hard. All my other clients manage.",
        {"lecture"},
        {"organization"},
    ),
    (
        "it",
        "Forse riusciamo a recuperare, non so, magari se ci mettiamo d'impegno. Vediamo.",
        {"hesitant"},
        {"solution"},
    ),
    # checking the complaint, the caring questions, the pause before answering
    (
        "en",
        "wait sorry i ment the quote form, did you try to fill it in yourself from the phone?",
        {"check_founded"},
        set(),
    ),
    (
        "it",
        "Buongiorno signor Moretti, piacere. Sono Laura, mi occupo di comunicazione. Le rispondo "
        "volentieri, ma prima mi dice due parole sull'azienda?",
        {"introduce_self", "open_question"},
        set(),
    ),
    (
        "it",
        "Buongiorno Franco, come va? Come se la cava con tutto questo?",
        {"need_question"},
        set(),
    ),
    (
        "en",
        "Hi Massimo, let me check properly before answering. What exactly isn't working, the "
        "form or Google?",
        {"reassurance", "check_founded"},
        set(),
    ),
    # review A: hedged advice is advice (and hesitant), so "says yes to hesitant advice" can fire
    (
        "en",
        "Well, you could maybe hold the US shares a bit longer, but honestly it's your call.",
        {"advice", "hesitant"},
        set(),
    ),
    (
        "it",
        "Allora, forse potrebbe valutare di tenere i titoli americani, ma non so, veda lei.",
        {"advice", "hesitant"},
        set(),
    ),
    # goodbyes after other content end the chat
    ("en", "Thanks both, have a lovely day. Bye!", {"close_call"}, set()),
    ("it", "Devo andare, ci sentiamo. Ciao!", {"close_call"}, set()),
    ("it", "Perfetto, allora ci vediamo l'8. Buona giornata!", {"close_call"}, set()),
    # free tips to the free-advice seeker, and "send me everything"
    (
        "en",
        "Your photo should be a professional headshot, plain background, smiling. And put "
        "'commercial property consultant' in the headline.",
        {"advice"},
        set(),
    ),
    (
        "it",
        "Allora, la foto mettila professionale, sfondo neutro. Nel titolo scrivi 'consulente "
        "immobili commerciali'.",
        {"advice"},
        set(),
    ),
    ("en", "Post 3 times a week, around 8am. Use 3-5 hashtags max.", {"advice"}, set()),
    (
        "it",
        "Certo, mandami pure tutto quello che vuoi, ci do un'occhiata.",
        {"gives_in"},
        {"boundary"},
    ),
    # reproaching them for doing their own thing is offence, not guidance
    (
        "it",
        "Ah, volete farlo fare a vostro cugino? Guardate che così rischiate di rovinare "
        "l'immagine dell'azienda, dovevate chiedermelo prima.",
        {"offence", "lecture"},
        set(),
    ),
    (
        "it",
        "Ma perché l'avete fatto senza dirmelo? Così non si lavora.",
        {"offence"},
        set(),
    ),
    (
        "en",
        "Why did you do that without asking me? That page looks unprofessional.",
        {"offence", "lecture"},
        set(),
    ),
    # talking down about the nephew's work, and the "not for free" boundary
    (
        "en",
        "Honestly your nephew's banner is pretty amateurish, it's hurting your brand.",
        {"lecture"},
        {"empathy"},
    ),
    (
        "en",
        "Look, I can't keep answering questions for free, this is my job, you know.",
        {"boundary"},
        {"gives_in"},
    ),
    (
        "it",
        "Fabrizio, non posso continuare a rispondere gratis, è il mio lavoro. Le domande sul "
        "profilo le vediamo nella sessione di consulenza, non qui in chat.",
        {"boundary"},
        {"gives_in"},
    ),
    # false positives: reassurance is not advice, "I can tell you" is not empathy
    (
        "it",
        "Capisco. Non dovete dimostrare niente a nessuno: il sito lo facciamo insieme, passo "
        "passo.",
        set(),
        {"advice"},
    ),
    (
        "en",
        "As an expert I can tell you that word of mouth is not enough anymore. You should "
        "invest in Google Ads too.",
        {"lecture", "advice"},
        {"empathy"},
    ),
    (
        "en",
        "Sorry, I don't work on public holidays. Monday at 6pm is the earliest I can do.",
        {"boundary", "alternative"},
        set(),
    ),
    # a counter-offer of a day asked as a question is an alternative; "how about" alone is not
    (
        "en",
        "Hi both, thanks for thinking of me. How about Saturday instead?",
        {"alternative"},
        set(),
    ),
    ("en", "What about the 9th, in the morning?", {"alternative"}, set()),
    ("en", "How about your sister, what does she think?", set(), {"alternative"}),
    ("it", "Grazie dell'invito! Che ne dite di sabato mattina?", {"alternative"}, set()),
    ("it", "E se ci vedessimo lunedì alle 18?", {"alternative"}, set()),
    ("it", "Che ne dice di raccontarmi come è andata?", set(), {"alternative"}),
    # giving up on him, and blaming him
    (
        "it",
        "Non so più cosa dirle. Se continua così non so se ha senso che io la segua.",
        {"leave"},
        set(),
    ),
    (
        "en",
        "Why do you keep doing this? We agree and then you do the opposite.",
        {"offence"},
        set(),
    ),
    # leftovers: a complaint about other clients is not advice; free work is not owning up
    (
        "en",
        "You have to understand I have other clients too. I can't drop everything.",
        {"offence"},
        {"advice"},
    ),
    ("en", "Don't worry about the extra page. This one's on me.", {"gives_in"}, {"self_examine"}),
]


@pytest.fixture(scope="module")
def moves() -> dict[str, Move]:
    data = yaml.safe_load((PROMPTS_DIR / "moves.yaml").read_text(encoding="utf-8"))
    return {m.id: m for m in (Move.model_validate(d) for d in data)}


@pytest.mark.parametrize(
    ("lang", "text", "present", "absent"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(MESSAGES)],
)
def test_review_message(
    moves: dict[str, Move], lang: str, text: str, present: set[str], absent: set[str]
) -> None:
    check_message(moves, lang, text, present, absent)


def check_message(
    moves: dict[str, Move], lang: str, text: str, present: set[str], absent: set[str]
) -> None:
    found = move_ids(detect(text, lang, moves))  # type: ignore[arg-type]
    assert present <= found, f"missing {present - found} in {text!r} (found {sorted(found)})"
    assert not (absent & found), f"wrongly found {absent & found} in {text!r}"
