"""Trainee sentences from the report-card reviews (Italian and English, offline engine): the moves
each must show and the moves it must not, with near misses that must stay as they were; and
the grades a few of those sessions must get."""

from __future__ import annotations

import pytest

from app.catalog import Catalog
from app.engine.grader import TranscriptMessage, for_outcome, grade_heuristic
from tests.test_hand_play_moves import check_message

# (language, message, moves that must be found, moves that must not)
MESSAGES: list[tuple[str, str, set[str], set[str]]] = [
    # the third, out-of-sample review (its top disagreements)
    (
        "en",
        "Then here's my clear advice, and I'll stand behind it: keep the US shares until March.",
        {"advice", "firm"},
        set(),
    ),
    (
        "en",
        "I can be that person beside you, not just the one who builds the site.",
        {"paraphrase"},
        set(),
    ),
    (
        "it",
        "Quindi oltre al sito cercate qualcuno che vi accompagni nelle scelte.",
        {"paraphrase"},
        set(),
    ),
    ("it", "Quindi oltre al sito cosa vi serve?", {"need_question"}, {"paraphrase"}),
    (
        "en",
        "A full 3D one in three weeks isn't realistic. What I can do is a gallery of ready "
        "kitchens with a quote button.",
        {"alternative"},
        set(),
    ),
    ("en", "What I can do for you today is listen.", set(), {"alternative"}),
    ("en", "Sure, call me tomorrow evening, no problem.", {"gives_in"}, set()),
    (
        "en",
        "Please don't call me in the evening, call me tomorrow morning.",
        {"boundary"},
        {"gives_in"},
    ),
    ("it", "Guardi, i contratti non li commento al telefono e di sera.", {"boundary"}, set()),
    # a casual "deep breath, were ok" is the reassuring pause (were: we're, typed quickly)
    (
        "en",
        "hey davide, saw all ur msgs. deep breath, were ok. whats the most urgent one?",
        {"reassurance"},
        set(),
    ),
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
    # Review 2 FC1: a boundary said in the negative is no boundary; "call whenever" is giving in
    (
        "en",
        "I don't have office hours, call whenever, I never sleep anyway.",
        {"gives_in"},
        {"boundary"},
    ),
    ("en", "I never reply within 24 hours, don't expect it.", set(), {"boundary"}),
    ("en", "Call me any time you like.", {"gives_in"}, {"boundary"}),
    ("en", "You can't call whenever you want.", set(), {"gives_in"}),
    ("en", "You can call me any time during office hours.", {"boundary"}, {"gives_in"}),
    ("en", "I don't take calls after 9, call tomorrow.", {"boundary"}, {"gives_in"}),
    ("en", "I reply within 24 hours on weekdays.", {"boundary"}, set()),
    ("en", "Outside office hours I don't pick up.", {"boundary"}, set()),
    ("it", "Non ho orari d'ufficio, mi chiami quando vuole.", {"gives_in"}, {"boundary"}),
    ("it", "Non rispondo mai entro 24 ore.", set(), {"boundary"}),
    ("it", "Può chiamarmi quando vuole.", {"gives_in"}, {"boundary"}),
    ("it", "Chiamami quando vuoi.", {"gives_in"}, set()),
    ("it", "Non rispondo di sera, rispondo entro 24 ore.", {"boundary"}, set()),
    (
        "it",
        "Per le domande ci sentiamo nelle sessioni; ai messaggi rispondo entro 24 ore nei giorni "
        "lavorativi.",
        {"boundary"},
        set(),
    ),
    # FC2: the client told to calm down or breathe is no pause of the trainee's
    (
        "it",
        "Si calmi e respiri, per favore. Non ho tempo per queste cose.",
        {"offence"},
        {"reassurance"},
    ),
    ("it", "Respiri profondamente e smetta di lamentarsi.", {"offence"}, {"reassurance"}),
    ("en", "Calm down. Breathe. Honestly, some people.", {"offence"}, {"reassurance"}),
    ("en", "Sure, let's take a deep breath, as if that helps.", set(), {"reassurance"}),
    ("en", "Take a deep breath and stop panicking, honestly.", {"offence"}, {"reassurance"}),
    ("en", "Please calm down.", {"offence"}, {"reassurance"}),
    # the trainee's own pause, or a gentle "take a breath" with reassurance, still counts
    ("en", "Deep breath, we're ok.", {"reassurance"}, {"offence"}),
    ("en", "Let me take a deep breath.", {"reassurance"}, set()),
    ("en", "Let's take a deep breath together.", {"reassurance"}, set()),
    ("en", "Take a breath.", {"reassurance"}, set()),
    ("en", "Take a deep breath, we'll sort it out together.", {"reassurance"}, {"offence"}),
    ("it", "Respiri, va tutto bene.", {"reassurance"}, {"offence"}),
    ("it", "Facciamo un bel respiro.", {"reassurance"}, set()),
    ("it", "Mi prendo un attimo... no, niente, lasci perdere.", set(), {"reassurance"}),
    ("it", "Non si preoccupi, tanto non cambia niente.", set(), {"reassurance"}),
    ("it", "Non si preoccupi, ci penso io.", {"reassurance"}, set()),
    # "I'm not going to argue" followed by a put-down is no calm
    ("en", "I'm not going to argue: you're wrong.", {"offence"}, {"reassurance"}),
    (
        "en",
        "I'm not going to argue with you: call again and I'll block your number.",
        set(),
        {"reassurance"},
    ),
    ("en", "Look, I'm not going to argue: you're wrong about the site.", set(), {"reassurance"}),
    (
        "en",
        "I'm not going to argue with you about that, you have a point.",
        {"reassurance"},
        {"offence"},
    ),
    ("it", "Non discuto con lei: ha torto.", {"offence"}, {"reassurance"}),
    ("it", "Non ha torto, in effetti.", set(), {"offence"}),
    ("en", "I'm not saying you're wrong.", set(), {"offence"}),
    # FC3: a contract waved away or put off is no statement of terms
    (
        "en",
        "We can talk about a contract at some point, no rush at all.",
        set(),
        {"terms"},
    ),
    ("en", "idk abt a contract, we dont really need one, its all good", set(), {"terms"}),
    ("en", "I don't need a contract, we're friends.", set(), {"terms"}),
    ("en", "No need for a contract between us.", set(), {"terms"}),
    ("en", "Forget the contract, happy to help for free.", {"gives_in"}, {"terms"}),
    ("en", "My rate? Don't worry about it.", set(), {"terms"}),
    ("it", "Non serve nessun contratto, siamo tra amici, figurati.", set(), {"terms"}),
    ("en", "No contract, no work: my rate is 90 an hour.", {"terms"}, set()),
    ("en", "Before we start, I'll send you a contract.", {"terms"}, set()),
    ("it", "Prima di iniziare le mando il contratto.", {"terms"}, set()),
    (
        "it",
        "Le faccio presente però che finora non abbiamo firmato nessun contratto: la mia tariffa "
        "è 80 euro l'ora.",
        {"terms"},
        set(),
    ),
    # FC4: a promise taken back in the same sentence is vague, not a commitment
    (
        "en",
        "I'll send you the report by Friday, maybe, if I get round to it.",
        {"vague_promise"},
        {"commitment"},
    ),
    (
        "en",
        "I'll send the recap by Friday, maybe, if I have time.",
        {"vague_promise"},
        {"commitment"},
    ),
    ("en", "I'll call you tomorrow, maybe.", {"vague_promise"}, {"commitment"}),
    (
        "it",
        "Le mando qualcosa entro venerdì, forse, se ho tempo.",
        {"vague_promise"},
        {"commitment"},
    ),
    ("en", "I understand. Pay by Friday.", set(), {"commitment", "empathy"}),
    (
        "en",
        "You said 'I just want it done by Monday', fine, whatever.",
        set(),
        {"commitment"},
    ),
    ("en", "I'll send it by Friday, maybe even sooner.", {"commitment"}, {"vague_promise"}),
    ("it", "Le mando l'analisi entro venerdì, forse anche prima.", {"commitment"}, set()),
    (
        "it",
        "Le mando l'analisi completa del portafoglio entro venerdì e lunedì alle 10 la vediamo "
        "insieme.",
        {"commitment"},
        {"vague_promise"},
    ),
    (
        "en",
        "I'll send you the written analysis by Friday at 10, and we'll review it together on "
        "Monday.",
        {"commitment"},
        {"vague_promise"},
    ),
    # FC5: contempt said firmly is not firmness
    (
        "en",
        "Let me be clear: I don't care what you do with your money.",
        {"offence"},
        {"firm"},
    ),
    ("en", "I'm convinced you'll sell anyway, you always do.", set(), {"firm"}),
    (
        "it",
        "Glielo dico chiaramente: faccia come vuole, a me non interessa.",
        {"offence"},
        {"firm"},
    ),
    ("it", "Sono sicuro che venderà comunque, come sempre.", set(), {"firm"}),
    (
        "en",
        "Let me be clear: selling now would lock in a loss, and I'm convinced holding is the "
        "right call.",
        {"firm"},
        {"offence"},
    ),
    ("it", "Glielo dico chiaramente: vendere adesso le farebbe perdere denaro.", {"firm"}, set()),
    # FC6: empathy taken back by a put-down; "if I understand correctly" is a paraphrase
    ("en", "I hear you, but you're wrong.", {"offence"}, {"empathy"}),
    ("en", "I hear you, but you're overreacting.", {"offence"}, {"empathy"}),
    ("it", "Capisco, ma ha torto.", {"offence"}, {"empathy"}),
    (
        "en",
        "I'm sorry you feel that way, but the site is exactly what you approved.",
        set(),
        {"empathy", "apology"},
    ),
    (
        "en",
        "I totally understand your anxiety, but honestly it's exhausting for me.",
        set(),
        {"empathy"},
    ),
    (
        "en",
        "So if I understand correctly, you want everything for nothing?",
        {"paraphrase"},
        {"empathy"},
    ),
    ("en", "I hear you, and you're right to be worried.", {"empathy"}, {"offence"}),
    (
        "en",
        "I understand, but the deadline is tight: here's what we can do.",
        {"empathy", "solution"},
        set(),
    ),
    ("it", "Capisco, ma proviamo a vedere insieme.", {"empathy"}, set()),
    ("en", "I'm sorry to hear that, it must be hard.", {"empathy"}, set()),
    ("en", "Don't worry, be happy. I'll get back to you at some point.", set(), {"reassurance"}),
    # FC7: sarcastic and rhetorical questions invite nothing
    (
        "en",
        "What do you think, that I work for free?",
        set(),
        {"invite_discussion", "open_question", "gives_in"},
    ),
    (
        "en",
        "Let's not waste time: what do you think I am, a charity?",
        set(),
        {"invite_discussion", "open_question"},
    ),
    ("en", "How about you just pay what you owe?", {"offence"}, {"alternative", "solution"}),
    ("en", "How about you stop calling me at night?", {"offence"}, {"alternative"}),
    ("en", "Why don't you just read the emails I send?", {"offence"}, {"open_question"}),
    ("en", "What's the point of a plan with you?", set(), {"open_question"}),
    (
        "en",
        "You keep saying 'what do you think', but I'm the expert.",
        {"lecture"},
        {"invite_discussion"},
    ),
    (
        "it",
        "Che ne pensa? Tanto lo so che farà di testa sua.",
        set(),
        {"invite_discussion"},
    ),
    ("it", "Ma le sembra l'ora di chiamare?", {"offence"}, {"invite_discussion"}),
    ("it", "xke nn leggi le mail?", set(), {"open_question"}),
    ("en", "What do you think?", {"invite_discussion"}, set()),
    ("en", "What do you think I should change first?", {"invite_discussion"}, set()),
    (
        "it",
        "Che ne pensa? Lei conosce i suoi clienti meglio di me.",
        {"invite_discussion"},
        set(),
    ),
    ("it", "Le sembra una soluzione praticabile?", {"invite_discussion"}, {"offence"}),
    ("it", "Perché non le è piaciuto?", {"open_question"}, set()),
    # FC8: refused alternatives, apologies and fixes
    (
        "en",
        "I'm not going to propose an alternative, it's your idea or nothing.",
        set(),
        {"alternative"},
    ),
    (
        "it",
        "Non le propongo nessuna alternativa: o così o niente.",
        set(),
        {"alternative", "solution"},
    ),
    ("en", "I'm not sorry, and I won't fix it.", set(), {"apology", "remedy"}),
    ("en", "Sorry, not sorry.", set(), {"apology"}),
    ("it", "Scusi tanto se esisto.", set(), {"apology"}),
    ("en", "I won't send you a reminder, you're an adult.", set(), {"organization"}),
    ("en", "Alternatively, we could launch a simpler version first.", {"alternative"}, set()),
    ("en", "I'd suggest an alternative: a 3D configurator.", {"alternative"}, set()),
    ("it", "Le propongo un configuratore 3D.", {"solution"}, set()),
    ("en", "I'll fix it today.", {"remedy"}, set()),
    ("en", "Sorry, my mistake.", {"apology"}, set()),
    ("it", "Mi scusi tanto per il ritardo.", {"apology"}, set()),
    ("en", "I'll send you a reminder the day before each meeting.", {"organization"}, set()),
    # FM2: everyday boundary wording
    ("en", "No calls after 9 please, I'm off at night.", {"boundary"}, set()),
    ("en", "Please don't ring me after 9.", {"boundary"}, set()),
    ("en", "I switch my phone off at 8 in the evening.", {"boundary"}, set()),
    ("en", "Text me during the day, I answer in the morning.", {"boundary"}, set()),
    ("en", "no calls after 9 pls, im off at nite", {"boundary"}, set()),
    ("en", "calls by appt only", {"boundary"}, set()),
    ("en", "i reply to msgs within 24 hrs on weekdays", {"boundary"}, set()),
    ("it", "Niente chiamate dopo le 21, per favore.", {"boundary"}, set()),
    (
        "it",
        "La sera spengo il telefono, mi scriva e le rispondo la mattina dopo.",
        {"boundary"},
        set(),
    ),
    ("it", "rispondo entro 2 gg lavorativi", {"boundary"}, set()),
    # FM4: self-examination in natural words, its "maybe" no hesitation
    (
        "en",
        "I've been thinking about what I'm doing that isn't working with you: maybe my advice has "
        "sounded too cautious.",
        {"self_examine"},
        {"hesitant"},
    ),
    (
        "en",
        "Maybe I haven't made the steps clear enough so far; what would make it easier for you to "
        "keep track?",
        {"self_examine"},
        {"hesitant"},
    ),
    ("en", "Maybe we should wait.", {"hesitant"}, {"self_examine"}),
    # FM5: "is the complaint founded, or a misunderstanding?"
    (
        "it",
        "Mi aiuti a capire: il problema è che il carrello non funziona o che non è come se lo "
        "immaginava?",
        {"check_founded"},
        {"problem_dwelling"},
    ),
    (
        "en",
        "Help me understand: is the problem that the cart doesn't work, or that it isn't what you "
        "imagined?",
        {"check_founded"},
        {"problem_dwelling"},
    ),
    ("it", "Il problema è che non abbiamo tempo.", {"problem_dwelling"}, {"check_founded"}),
    # FM3: chat shorthand
    (
        "en",
        "ill file ur short time work application by fri so thats sorted",
        {"commitment"},
        set(),
    ),
    (
        "en",
        "for long time clients hit by the lockdown im pushing everything back: how abt we start "
        "w/ a first installment in sept?",
        {"solution", "payment_plan"},
        set(),
    ),
    ("en", "wdyt?", {"invite_discussion"}, set()),
    ("en", "my b, ill fix it asap", {"apology", "remedy"}, set()),
    ("en", "sry, ill fix it today", {"apology", "remedy"}, set()),
    ("en", "ill call u thurs at 9", {"commitment"}, set()),
    # FM6: giving in, lecturing and rudeness in natural words
    ("en", "lmk if u need anything else, im always around", {"gives_in"}, set()),
    ("en", "hey! ya sure, ask away anytime", {"gives_in"}, set()),
    ("en", "I'd normally charge for this, but okay, just this once.", {"gives_in"}, set()),
    ("en", "fine ill answer whenever i guess, day or nite", {"gives_in"}, set()),
    ("en", "I'm always available between 9 and 5.", {"boundary"}, {"gives_in"}),
    ("it", "ok ok, va bene, faccio tutto quello ke vuoi", {"gives_in"}, set()),
    (
        "it",
        "Vi spiego io cosa serve: sito, campagna social, fine. Ho fatto cento progetti così.",
        {"lecture"},
        set(),
    ),
    ("it", "Fidatevi di me, io so come si fa.", {"lecture"}, set()),
    ("it", "Non so come si fa, ma lo scopro.", set(), {"lecture"}),
    ("en", "lol u gotta chill, its just a website", {"offence"}, set()),
    ("en", "ur stressing me out w/ all these msgs", {"offence"}, set()),
    ("it", "Smetta di telefonarmi di notte, è maleducato.", {"offence"}, set()),
    ("it", "Non ho tempo per queste cose.", {"offence"}, set()),
    ("it", "Si calmi.", {"offence"}, set()),
    ("it", "Siamo tutti calmi, va tutto bene.", {"reassurance"}, {"offence"}),
]


@pytest.mark.parametrize(
    ("lang", "text", "present", "absent"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(MESSAGES)],
)
def test_review_message(
    catalog: Catalog, lang: str, text: str, present: set[str], absent: set[str]
) -> None:
    check_message(catalog.moves, lang, text, present, absent)


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
    messages = transcript(session)
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
    messages = transcript(session)
    grade = grade_heuristic(catalog, catalog.personas["free-advice-seeker"], "en", messages)
    rules = next(c for c in grade.criteria if c.technique_id == "set-boundaries")
    assert rules.verdict == verdict


def test_only_a_dismissal_turns_plain_misses_into_not_applicable(catalog: Catalog) -> None:
    session = [
        ("client", "Ciao! Domandina veloce sul profilo, due secondi."),
        ("trainee", "Chiamami pure quando vuoi, anche di notte."),  # a slip stays a slip
    ]
    messages = transcript(session)
    graded = grade_heuristic(catalog, catalog.personas["free-advice-seeker"], "it", messages)
    missed = {c.technique_id for c in graded.criteria if c.verdict == "missed" and not c.evidence}
    slipped = {c.technique_id: c.verdict for c in graded.criteria if c.evidence}
    assert missed and slipped
    for outcome in (None, "walked_away", "agreement", "turn_limit"):
        assert for_outcome(catalog, "it", graded, outcome) == graded
    sent_away = for_outcome(catalog, "it", graded, "dismissed")
    verdicts = {c.technique_id: c.verdict for c in sent_away.criteria}
    assert all(verdicts[t] == "not_applicable" for t in missed)
    assert all(verdicts[t] == v for t, v in slipped.items())
    assert sent_away.score >= graded.score


def transcript(session: list[tuple[str, str]]) -> list[TranscriptMessage]:
    return [
        TranscriptMessage(seq=seq, role=role, content=content)  # type: ignore[arg-type]
        for seq, (role, content) in enumerate(session, start=1)
    ]
