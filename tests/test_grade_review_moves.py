"""Trainee sentences from the two grader reviews (Italian and English, offline engine): the moves
each must show and the moves it must not, with near misses that must stay as they were."""

from __future__ import annotations

import pytest
import yaml

from app.catalog import PROMPTS_DIR, Catalog, Move
from app.engine.detectors import detect, move_ids
from app.engine.grader import TranscriptMessage, grade_heuristic

# (language, message, moves that must be found, moves that must not)
MESSAGES: list[tuple[str, str, set[str], set[str]]] = [
    # IT F5, EN F12: the money raised live, not left to an e-mail
    (
        "it",
        "senti te lo dico adesso che siamo al telefono, non mi va di mandarti una mail: ci sono "
        "ancora le tre parcelle di ottobre da sistemare",
        {"in_person", "payment_talk"},
        {"email_channel"},
    ),
    (
        "it",
        "Preferisco dirglielo a voce che per mail: restano le tre fatture.",
        {"in_person"},
        set(),
    ),
    (
        "en",
        "There's one more thing I'd rather say to you now, on the phone, than put in an email: "
        "the three invoices from last autumn are still open.",
        {"in_person", "payment_talk"},
        {"email_channel"},
    ),
    ("en", "I'll send you the invoices by email.", {"email_channel"}, {"in_person"}),
    ("it", "Le mando le fatture per mail.", {"email_channel"}, {"in_person"}),
    # the consultant's own regret is no reproach
    ("it", "Mi scusi, non doveva succedere. Lo sistemo oggi.", set(), {"offence"}),
    ("it", "Non avrebbe dovuto andare così, è colpa mia.", set(), {"offence"}),
    # IT F10: "non ho fretta" is calm, not impatience; real hurry still is
    ("it", "Non ho fretta, ci prendiamo tutto il tempo che serve.", {"reassurance"}, {"offence"}),
    (
        "it",
        "Non ho fretta: con calma costruiamo insieme un piano in pochi passi, e decidete voi da "
        "dove partire.",
        {"reassurance"},
        {"offence"},
    ),
    ("it", "Io non ho fretta, davvero.", {"reassurance"}, {"offence"}),
    ("it", "Non ho fretta, parliamone con calma.", {"reassurance"}, {"offence"}),
    ("it", "Non c'è fretta.", {"reassurance"}, {"offence"}),
    ("it", "Con calma, nessuna fretta.", {"reassurance"}, {"offence"}),
    ("it", "Ho fretta, vada al punto.", {"offence"}, {"reassurance"}),
    ("it", "Ho poco tempo, vada al punto.", {"offence"}, set()),
    ("it", "Ho molta fretta, mi dica.", {"offence"}, set()),
    ("it", "Non ho poco tempo, anzi.", set(), {"offence"}),
    # EN F1 / IT F14: firm advice in natural words
    (
        "en",
        "My recommendation is straightforward: keep the foreign shares, don't touch them before "
        "March.",
        {"advice", "firm"},
        set(),
    ),
    ("en", "That is my professional view and I stand behind it.", {"firm"}, set()),
    ("en", "Look, I'll be straight with you: don't sell.", {"advice", "firm"}, set()),
    ("en", "If that is my view, what would you change?", set(), {"firm"}),
    ("en", "Is this my recommendation or yours?", set(), {"firm"}),
    (
        "it",
        "Le dico la mia, chiaramente: i titoli americani si tengono.",
        {"firm"},
        {"hesitant"},
    ),
    ("it", "Le dico la mia, poi decida lei.", set(), {"firm"}),
    # IT F3/F8/F9: self-examination, not hesitation
    (
        "it",
        "Forse sono stato io a non essere abbastanza chiaro.",
        {"self_examine"},
        {"hesitant"},
    ),
    (
        "it",
        "Mi chiedo anche se io non abbia lasciato troppe cose aperte: forse ti ho mandato troppe "
        "proposte insieme e questo ti ha confuso.",
        {"self_examine"},
        {"hesitant"},
    ),
    ("it", "Forse ti ho mandato troppe proposte insieme.", {"self_examine"}, {"hesitant"}),
    (
        "it",
        "Io dal canto mio mi sono accorta che ti mando tante mail sparse: d'ora in poi un solo "
        "riepilogo il venerdì, così è più facile seguirmi.",
        {"self_examine", "commitment"},
        set(),
    ),
    ("it", "Cosa non l'ha convinta del mio ragionamento?", {"self_examine"}, set()),
    ("it", "Forse è meglio aspettare.", {"hesitant"}, {"self_examine"}),
    ("it", "Mi chiedo se sia il caso di vendere.", set(), {"self_examine"}),
    ("it", "Mi sono accorto che il sito è lento.", set(), {"self_examine"}),
    ("it", "Cosa non l'ha convinta della proposta?", set(), {"self_examine"}),
    (
        "en",
        "Maybe I haven't been giving you enough visibility, and that's why it feels like things "
        "are slipping.",
        {"self_examine"},
        {"hesitant"},
    ),
    # not taking offence
    (
        "it",
        "Nessun problema Sergio, non me la prendo. A domattina alle 8, buonanotte.",
        {"reassurance"},
        {"offence"},
    ),
    ("it", "Se non me la prendo è perché ci conosciamo.", set(), {"reassurance"}),
    (
        "en",
        "...All right. I'm not going to argue with you about that. I understand you're stressed.",
        {"reassurance", "empathy"},
        {"offence"},
    ),
    ("en", "I'm not going to change my advice.", set(), {"reassurance"}),
    # the extended need named
    (
        "en",
        "I'm guessing it isn't only a website you're after, but someone to think things through "
        "with along the way. Am I reading that right?",
        {"paraphrase"},
        {"hesitant"},
    ),
    (
        "en",
        "I also get the sense you're not really looking for a stock tip, you're looking for "
        "someone who tells you straight and doesn't flinch when markets wobble.",
        {"paraphrase"},
        set(),
    ),
    (
        "en",
        "sounds like you don't just need a website, you need someone in your corner for the "
        "decisions too. fair?",
        {"paraphrase"},
        set(),
    ),
    ("en", "You're not looking for the invoice, it's in the folder.", set(), {"paraphrase"}),
    ("en", "You don't just need to sign, you need to read it first.", set(), {"paraphrase"}),
    (
        "it",
        "Penso che a lei, più di un rendimento, serva qualcuno che tenga il punto quando il "
        "mercato trema.",
        {"paraphrase"},
        set(),
    ),
    (
        "it",
        "Ho l'impressione che non cerchi solo un sito, ma qualcuno con cui ragionare.",
        {"paraphrase"},
        set(),
    ),
    ("it", "Penso che a lei serva il modulo aggiornato.", set(), {"paraphrase"}),
    # invite discussion
    (
        "en",
        "Shall we look at it together on the 8th? What do you two think?",
        {"invite_discussion"},
        set(),
    ),
    ("en", "How does that option sound to you?", {"invite_discussion"}, set()),
    (
        "en",
        "Does that sound like you, or would you go another way?",
        {"invite_discussion"},
        set(),
    ),
    ("en", "A gallery first, the configurator later. Thoughts?", {"invite_discussion"}, set()),
    (
        "en",
        "How does that client sound on the phone?",
        set(),
        {"invite_discussion"},
    ),
    ("it", "Facciamo una galleria per la fiera, che ne pensi?", {"invite_discussion"}, set()),
    # pause
    ("en", "ok massimo, hear you. give me a sec to check before I answer", {"reassurance"}, set()),
    ("en", "hey davide, saw all your msgs. deep breath, we're ok.", {"reassurance"}, set()),
    ("en", "There's no deep breath that fixes this.", set(), {"reassurance"}),
    # remedy
    (
        "en",
        "checked - you're right, the form broke after the update. my bad, sorry. fixing it today "
        "+ I'll forward the lost requests",
        {"apology", "remedy"},
        set(),
    ),
    (
        "en",
        "We'll have it fixed this afternoon and I'll forward you every request that got stuck.",
        {"remedy"},
        set(),
    ),
    (
        "en",
        "Rather than fixing it piece by piece in the chat, let's look at it together in a proper "
        "session.",
        {"alternative"},
        {"remedy"},
    ),
    ("en", "I'm not fixing it for free.", set(), {"remedy"}),
    (
        "it",
        "scusa davvero. te lo sistemo oggi pomeriggio e ti giro le richieste perse",
        {"apology", "remedy"},
        set(),
    ),
    # a sustainable alternative in natural words
    (
        "en",
        "re the 3d configurator: love it but 3 weeks + same budget isn't realistic. how about a "
        'gallery of 12 ready made kitchens with a "quote this one" button for the fair?',
        {"alternative"},
        {"gives_in"},
    ),
    (
        "en",
        "Building it properly would take three months and well beyond the budget. What we can have "
        'ready for the fair is a gallery of your best twelve kitchens, each with a "get a quote '
        'for this one" button, at no extra cost.',
        {"alternative"},
        set(),
    ),
    ("en", "How about a call tomorrow at 9?", {"alternative"}, set()),
    ("en", "How about it, are you happy with the page?", set(), {"alternative"}),
    (
        "it",
        "il configuratore ci sta come idea ma in 3 settimane non ce la facciamo, facciamo intanto "
        "una galleria con le cucine e il bottone preventivo, il 3d lo vediamo dopo la fiera.",
        {"alternative"},
        {"problem_dwelling"},
    ),
    (
        "it",
        "Per la fiera potremmo fare una pagina con le cinque composizioni più vendute, e il "
        "configuratore lo progettiamo con calma dopo.",
        {"alternative"},
        set(),
    ),
    ("it", "Non ce la facciamo.", {"problem_dwelling"}, {"alternative"}),
    ("it", "Possiamo sentirci domani e ne parliamo.", set(), {"alternative"}),
    # a reply window for messages
    (
        "en",
        "To keep it manageable for both of us, let's do this: I check LinkedIn messages twice a "
        "day, around 9 and 5, and save the bigger questions for our sessions.",
        {"boundary"},
        set(),
    ),
    ("en", "I check the analytics twice a day.", set(), {"boundary"}),
    (
        "it",
        "Controllo i messaggi su LinkedIn due volte al giorno, alle 9 e alle 17.",
        {"boundary"},
        set(),
    ),
    ("it", "Ti rispondo su WhatsApp due volte al giorno.", {"boundary"}, set()),
    # money raised live: care beside the invoices
    (
        "en",
        "There's one more thing I'd rather say to you now, on the phone, than put in an email: the "
        "three invoices from last autumn are still open. I know the timing couldn't be worse.",
        {"payment_talk", "empathy"},
        {"email_channel"},
    ),
    # commitments without trigger words
    (
        "en",
        "On the photographer: I'll chase him this morning, he has until Wednesday.",
        {"commitment"},
        set(),
    ),
    (
        "en",
        "And I'll send you a short status note every Friday before noon: done, next, and who's "
        "doing it.",
        {"commitment"},
        set(),
    ),
    ("en", "Maybe I'll chase him this morning.", set(), {"commitment"}),
    ("it", "Il password manager te lo installo io giovedì in dieci minuti.", {"commitment"}, set()),
    ("it", "Da ora ci sentiamo 10 minuti il lunedì alle 8 e basta.", {"commitment"}, set()),
    ("it", "Te lo installo io giovedì?", set(), {"commitment"}),
    ("it", "D'ora in poi devi mandarmi il report ogni venerdì.", set(), {"commitment"}),
    # EN F3: the pause is not an alternative
    (
        "en",
        "Let me take a minute to look into it properly rather than fire back an answer.",
        {"reassurance"},
        {"alternative"},
    ),
    ("it", "Mi prendo un momento piuttosto che risponderti di getto.", set(), {"alternative"}),
    ("it", "Piuttosto che rifare tutto, sistemiamo la pagina.", {"alternative"}, set()),
    # EN F14: a cold refusal that starts with "let's" is no solution; the reproach is offence
    (
        "en",
        "Let's just stick to the brief: website and social campaign. Anything else is out of "
        "scope.",
        set(),
        {"solution"},
    ),
    ("en", "Let's start from the brief and add the social campaign in May.", {"solution"}, set()),
    (
        "en",
        "You shouldn't have printed flyers without asking me, that was a mistake. Next time check "
        "with me first.",
        {"offence"},
        {"solution"},
    ),
    ("en", "You shouldn't have to worry about that.", set(), {"offence"}),
    (
        "it",
        "Non avreste dovuto stampare i volantini senza chiedermelo. La prossima volta chiedete a "
        "me.",
        {"offence"},
        set(),
    ),
    (
        "it",
        "Avete aperto Instagram da sole? Grave errore, con il logo vecchio poi.",
        {"offence"},
        set(),
    ),
    ("it", "È stato un grave errore mio, mi scuso.", {"apology"}, {"offence"}),
    ("it", "Non dovevi preoccuparti.", set(), {"offence"}),
    # lectures: the manual nobody asked for, the lesson
    (
        "en",
        "I'll send you a 40-page guide on digital marketing best practices.",
        {"lecture"},
        set(),
    ),
    (
        "en",
        "You need to understand that domain authority and backlinks are built over time, it's "
        "not something you can rush.",
        {"lecture"},
        set(),
    ),
    ("en", "Mr Moretti, let me explain how modern communication works.", {"lecture"}, set()),
    ("en", "By Thursday you'll have a two-page plan.", {"commitment"}, {"lecture"}),
    ("en", "You need to understand that I have other clients too.", {"offence"}, {"lecture"}),
    ("en", "What do you need to understand first?", set(), {"lecture"}),
    (
        "it",
        "Vi mando un documento di 30 pagine che spiega tutto.",
        {"lecture"},
        set(),
    ),
    ("it", "Dovete capire che vostro padre lavorava in un altro mondo.", {"lecture"}, set()),
    ("it", "Vi mando un riepilogo di due pagine.", set(), {"lecture"}),
    # giving in to the impossible idea
    (
        "en",
        "Fine, if you really insist, we'll do the configurator for the fair, same budget.",
        {"gives_in"},
        {"alternative"},
    ),
    (
        "en",
        "If you insist, we can, but it will cost more and take three months.",
        set(),
        {"gives_in"},
    ),
    (
        "it",
        "Va bene, se proprio insiste facciamo il configuratore per la fiera.",
        {"gives_in"},
        set(),
    ),
    ("it", "Se insiste, possiamo farlo, ma servono tre mesi.", set(), {"gives_in"}),
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
    found = move_ids(detect(text, lang, moves))
    assert present <= found, f"missing {present - found} in {text!r} (found {sorted(found)})"
    assert not (absent & found), f"wrongly found {absent & found} in {text!r}"


def test_money_raised_live_is_money_in_person(catalog: Catalog) -> None:
    # IT F5: said outright on the call, it was "missed", with the same sentence as the advice
    session = [
        ("client", "Pronto? Sono Franco. Volevo dirle che le carte per la cassa le ho raccolte."),
        ("trainee", "ciao Franco, tutto bene? so che è un casino in officina adesso"),
        ("client", "Eh, si tira avanti. I ragazzi sono preoccupati."),
        (
            "trainee",
            "senti te lo dico adesso che siamo al telefono, non mi va di mandarti una mail: ci "
            "sono ancora le tre parcelle di ottobre da sistemare",
        ),
    ]
    messages = [
        TranscriptMessage(seq=seq, role=role, content=content)
        for seq, (role, content) in enumerate(session, start=1)
    ]
    grade = grade_heuristic(catalog, catalog.personas["loyal-debtor"], "it", messages)
    money = next(c for c in grade.criteria if c.technique_id == "money-in-person")
    assert money.verdict == "applied"
    assert money.evidence[0].seq == 4


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        # EN F5: a stated reply window answers the stream of "quick" chat questions
        (
            "To keep it manageable for both of us: I check LinkedIn messages twice a day, "
            "around 9 and 5, and save the bigger questions for our sessions.",
            "applied",
        ),
        # before, "never created the situation": the flood of chat questions is that situation
        ("Sure, the photo looks fine to me.", "missed"),
    ],
)
def test_a_stream_of_quick_questions_calls_for_rules(
    catalog: Catalog, reply: str, verdict: str
) -> None:
    session = [
        ("client", "Super quick doubt: is the banner photo ok? Two seconds, promise."),
        ("trainee", reply),
        ("client", "Perfect. One last thing: should I post every day?"),
    ]
    messages = [
        TranscriptMessage(seq=seq, role=role, content=content)
        for seq, (role, content) in enumerate(session, start=1)
    ]
    grade = grade_heuristic(catalog, catalog.personas["free-advice-seeker"], "en", messages)
    rules = next(c for c in grade.criteria if c.technique_id == "set-boundaries")
    assert rules.verdict == verdict
