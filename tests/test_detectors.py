"""The move detectors: every move is found in natural Italian and English messages, is not
found in near misses, and quotes the sentence that holds the match.

The technique catalogue is checked here too: it validates, names only known moves, and each
technique's own better phrasing is recognised by its cues.
"""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
import yaml

from app.catalog import (
    PROMPTS_DIR,
    CatalogError,
    Move,
    Technique,
    load_catalog,
)
from app.engine.detectors import detect, matches, move_ids, sentences

# move → language → (messages that must show the move, messages that must not)
CASES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "question": {
        "it": (["Come sta oggi?", "Ha ricevuto il file?"], ["Le mando il file domani."]),
        "en": (["Did you get the file?", "How are you today?"], ["I'll send the file tomorrow."]),
    },
    "open_question": {
        "it": (
            [
                "Cosa si aspetta da questo progetto?",
                "E lei, come vede il futuro della sua azienda?",
                "Mi racconti un po' della sua attività.",
                "Raccontami chi sono i tuoi clienti.",
                "Quali obiettivi ti sei dato per quest’anno?",
                "Da quanto tempo segue questi investimenti?",
            ],
            [
                "Posso chiamarla domani, come concordato?",
                "Le posso chiedere una cosa?",
                "Ha ricevuto il file?",
                "Mi spiego meglio.",
                "Come si permette di chiamarmi a quest'ora?",
                "Chi parla?",
                "Chi è lei?",
            ],
        ),
        "en": (
            [
                "What are you hoping to get out of this?",
                "And you, how do you see the next year?",
                "Tell me more about your team.",
                "Could you walk me through how you work today?",
                "So what matters most to you here?",
            ],
            [
                "How about we meet on Tuesday?",
                "Can I call you tomorrow as agreed?",
                "Did you get the file?",
                "I know what you mean.",
                "How dare you call me at this hour?",
                "Who is this?",
                "Who's calling?",
            ],
        ),
    },
    "invite_discussion": {
        "it": (
            [
                "Che ne pensa?",
                "Cosa ne pensi di questa soluzione?",
                "Le sembra una strada percorribile?",
                "È d’accordo con questa impostazione?",
                "Come la vede?",
                "Lei conosce il suo mercato meglio di me.",
            ],
            ["Penso che sia la scelta giusta.", "Le mando il piano domani."],
        ),
        "en": (
            [
                "What do you think?",
                "How does that sound to you?",
                "Would that work for you?",
                "What’s your take on this?",
                "You know your market better than I do.",
            ],
            ["I think this is the right choice.", "I’ll send you the plan."],
        ),
    },
    "alternative": {
        "it": (
            [
                "Potremmo rifare tutto il sito, ma visti tempi e costi suggerisco di partire "
                "dalla home.",
                "In alternativa possiamo usare un modulo già pronto.",
                "Invece di un’app su misura, proporrei una pagina semplice.",
                "Io partirei da un catalogo online.",
            ],
            ["Il lavoro è piuttosto lungo.", "Io invece sono d'accordo con lei."],
        ),
        "en": (
            [
                "We could build the whole app, but given the cost I'd start with one page.",
                "Alternatively, we can reuse the existing form.",
                "Instead of a custom app, a simple landing page gets you there sooner.",
                "I'd start with an online catalogue.",
            ],
            ["The work is rather long.", "I suggest you hold the shares."],
        ),
    },
    "boundary": {
        "it": (
            [
                "Mi può chiamare dalle 9 alle 18, dal lunedì al venerdì.",
                "Rispondo a mail e messaggi entro 24 ore.",
                "La prego di non chiamarmi dopo le 21.",
                "Non chiamarmi la sera, per favore.",
                "Fissiamo delle fasce orarie per le telefonate.",
                "Le rispondo sempre, ma non necessariamente subito.",
                "Lo studio apre alle 9, mi trova lì.",
                "Dopo le 21 non rispondo al telefono.",
            ],
            ["La richiamo tra cinque minuti.", "Ci vediamo dalle parti della stazione."],
        ),
        "en": (
            [
                "You can call me between 9 and 6 on weekdays.",
                "I reply to emails within 24 hours.",
                "Please don’t call me after 9 pm.",
                "Let's stick to office hours for calls.",
                "I'll always answer, but not necessarily right away.",
                "My office opens at 9.",
                "After 9 pm I don't take calls.",
                "I don't take calls after 9 pm.",
            ],
            ["I'll call you back in five minutes.", "Call me when you like."],
        ),
    },
    "apology": {
        "it": (
            [
                "Mi scuso per il ritardo nella consegna.",
                "Le chiedo scusa, ha ragione.",
                "Scusami per l’errore sulla pagina.",
                "Abbiamo sbagliato noi, è colpa nostra.",
                "Mi dispiace davvero per il disguido.",
                "Mi scusi per il ritardo.",
                "Mi scusi, sono andata troppo veloce.",
                "Scusi, sono andato troppo veloce.",
                "Ha ragione, mi scusi.",
                "Scusa, ero in riunione.",
            ],
            [
                "Mi dispiace, ma non posso farlo gratis.",
                # "scusi" to ask something, or before a "ma", is not an apology
                "Scusi, chi parla?",
                "Mi scusi, ma non posso farlo gratis.",
                "Scusi il disturbo, ha un minuto?",
                # a polite "mi scusi" before insisting or bothering is a hedge, not an apology
                "Mi scusi, non vorrei insistere.",
                "Mi scusi per il disturbo, ha un minuto?",
                "Mi scusi se insisto, ma è importante.",
                "Non è colpa nostra se i testi sono arrivati tardi.",
            ],
        ),
        "en": (
            [
                "I’m sorry for the delay.",
                "I apologise, that was our mistake.",
                "My apologies, we got it wrong.",
                "That's on me.",
                "Sorry, I went too fast.",
            ],
            [
                "I'm sorry to hear that.",
                "Sorry, who is this?",
                "Sorry, but I can't do it for free.",
                "I'm sorry, but I can't do it for free.",
                "I'm sorry, I don't want to insist.",
                "Sorry to bother you, do you have a minute?",
                "Sorry to insist, but it matters.",
                "It's not our fault if the texts came late.",
            ],
        ),
    },
    "remedy": {
        "it": (
            [
                "Sistemo la pagina entro oggi.",
                "Rimediamo subito, senza costi aggiuntivi.",
                "Correggo io il modulo.",
                "Lo rifacciamo a nostre spese.",
            ],
            ["Il sistema è lento.", "La riunione è domani."],
        ),
        "en": (
            [
                "I'll fix it today.",
                "We'll put it right at no extra cost.",
                "Let me sort this out for you.",
                "We'll have it fixed by tonight.",
            ],
            ["Let's fix a time for the call.", "The system is slow."],
        ),
    },
    "terms": {
        "it": (
            [
                "La mia tariffa oraria è di 80 euro.",
                "Non abbiamo ancora un contratto.",
                "Le mando il mio preventivo in giornata.",
                "Possiamo proseguire con una consulenza a pagamento.",
                "Costa 120€ a sessione.",
            ],
            [
                "I preventivi che manda ai clienti arrivano tardi.",
                "Il sito è quasi pronto.",
                # a proposal or a quote template is not the terms until a price or contract is named
                "Ecco la mia proposta: partiamo dalla home.",
                "Le preparo un modello di preventivo.",
            ],
        ),
        "en": (
            [
                "My hourly rate is €80.",
                "We don't have a contract yet.",
                "We can continue as a paid session.",
                "It's 90 euros an hour.",
                "I'll send you a quote today.",
            ],
            [
                "The interest rate is low this year.",
                "I'll call you in an hour.",
                "Here's my proposal: we start with the home page.",
                "I'll prepare a quote template.",
            ],
        ),
    },
    "advice": {
        "it": (
            [
                "Le consiglio di non vendere adesso.",
                "Dovresti pubblicare più spesso.",
                "Se fossi in lei aspetterei.",
                "Non venda i titoli questa settimana.",
                "Dovreste prima compilare il modulo.",
                "Dovete definire gli obiettivi.",
                "Allora le dico subito cosa deve fare: cambi la foto e riscriva il titolo.",
                "Ti dico subito cosa farei io: foto professionale e tre post a settimana.",
            ],
            [
                "Il pacco dovrebbe arrivare domani.",
                "Cosa ne pensa?",
                # asking what others should feel is a question, not advice
                "Cosa dovrebbe provare chi vi trova online?",
                "Non dovete preoccuparvi.",
                "Non le dico io cosa deve fare: decide lei.",
            ],
        ),
        "en": (
            [
                "You should wait before selling.",
                "I recommend keeping the bonds.",
                "If I were you I'd hold.",
                "Don’t sell now.",
                "Let me tell you right away what you should do: change your photo.",
                "Let me tell you what I'd do: a new photo and three posts a week.",
            ],
            [
                "What would you like to do?",
                "I'll send you the figures.",
                "Before I recommend anything, what matters to you?",
                "What could I do so that my advice is useful to you?",
                "What do you think you should do next?",
                "I won't tell you what to do.",
            ],
        ),
    },
    "firm": {
        "it": (
            [
                "Sono convinto che questa sia la strada.",
                "Glielo dico chiaramente: vendere ora le costa caro.",
                "Senza dubbio conviene tenere i titoli.",
                "Ne sono certa.",
            ],
            ["Non sono sicuro che sia la scelta giusta.", "Non ne sono certa."],
        ),
        "en": (
            [
                "I’m certain this is the right move.",
                "Let me be clear: selling now will cost you.",
                "Without a doubt, holding is better.",
            ],
            ["I'm not sure this is right.", "I'm not certain about it."],
        ),
    },
    "hesitant": {
        "it": (
            [
                "Forse potremmo valutare di aspettare.",
                "Non so se sia il caso di vendere.",
                "Magari ci sentiamo la prossima settimana.",
                "Scusi il disturbo, se non è un disturbo la richiamo.",
                "Mi scusi, non vorrei insistere.",
                "Mi scusi se insisto, ma è importante.",
            ],
            [
                "Sono convinto che sia la scelta giusta.",
                # self-examination, or a possible misunderstanding, is not hesitance
                "Forse non mi sono spiegato bene.",
                "Forse non sono stato abbastanza chiaro sul piano.",
                "Forse c’è stato un malinteso.",
            ],
        ),
        "en": (
            [
                "Maybe we could wait a little.",
                "I'm not sure it's the right time.",
                "Sorry to bother you again.",
                "I'm sorry, I don't want to insist.",
                "Sorry to insist, but it matters.",
            ],
            [
                "I'm certain this is right.",
                "Maybe I didn't explain it well.",
                "Maybe I haven't been clear enough about the plan.",
                "Perhaps I wasn't clear.",
                "Maybe there was a misunderstanding.",
            ],
        ),
    },
    "lecture": {
        "it": (
            [
                "Ovviamente il mercato non funziona così.",
                "Come le ho già spiegato, non conviene.",
                "Lei non ha capito come funziona la borsa.",
                "Te lo ripeto per l’ennesima volta.",
                "Le ho già detto che deve fare come dico io.",
                "Le ho gia detto di non vendere.",
                "Te l'ho gia' detto mille volte.",
                "Gliel'ho già detto: sei mesi.",
            ],
            [
                "Le spiego volentieri i dettagli, se vuole.",
                "Ho capito cosa intende.",
                # deferring to the client is not talking down
                "Ovviamente decide lei.",
                "Ovviamente la decisione è sua.",
                "Le ho detto tutto quello che so.",
                "Non le ho già detto tutto?",
                "Ti ho già detto di sì, lo facciamo.",  # agreeing is not talking down
            ],
        ),
        "en": (
            [
                "Obviously, the market doesn't work like that.",
                "As I already explained, it's not worth it.",
                "You don’t understand how this works.",
                "That's not how it works.",
                "I already told you, you have to do as I say.",
                "I've already told you: six months.",
            ],
            [
                "I understand what you mean.",
                "Let me know if anything is unclear.",
                "Obviously it's your call.",
                "Obviously, you decide.",
                "I told you about the fees on Monday.",
                "I always do what I say.",
            ],
        ),
    },
    "offence": {
        "it": (
            [
                "Non si permetta di parlarmi così.",
                "È inaccettabile.",
                "Mi sento offeso da questa richiesta.",
                "È tutta colpa sua se il progetto è fermo.",
                "Non è colpa nostra se i testi sono arrivati tardi.",
            ],
            ["Capisco che sia arrabbiato.", "Se mi permette, aggiungo una cosa."],
        ),
        "en": (
            [
                "How dare you speak to me like that?",
                "That's ridiculous.",
                "I’m offended by that remark.",
                "It's your own fault.",
                "It's not our fault if the texts came late.",
            ],
            ["I understand you're upset.", "That's a fair point."],
        ),
    },
    "empathy": {
        "it": (
            [
                "Capisco la sua preoccupazione.",
                "Immagino quanto sia pesante questo periodo.",
                "Mi rendo conto che è un momento difficile.",
                "Ti capisco.",
                "Cosa la preoccupa di più, adesso?",
                "So che è il momento peggiore.",
            ],
            ["Non capisco cosa vuole.", "Le mando il file.", "Ho capito bene?"],
        ),
        "en": (
            [
                "I understand your concern.",
                "That must be really stressful.",
                "I can imagine how worrying this is.",
                "I hear you.",
                "What worries you most right now?",
                "I know this is the worst moment.",
            ],
            [
                "I don't understand what you want.",
                "That must be done by Friday.",
                "Did I get that right?",
            ],
        ),
    },
    "reassurance": {
        "it": (
            [
                "Con calma, abbiamo tempo.",
                "Non si preoccupi, ci penso io.",
                "Stai tranquillo, procediamo un passo alla volta.",
                "Non c’è fretta.",
                "Dammi un attimo per guardare bene prima di risponderti.",
                "La aspetto con tutto il tempo che serve.",
                "C'è ancora tempo.",
                "Respiri, va tutto bene.",
                "Facciamo un bel respiro.",
                "Non dovete preoccuparvi.",
            ],
            [
                "Dobbiamo chiudere entro domani.",
                "Ci vuole tempo.",
                "Non c'è tempo.",
                "Non abbiamo tempo.",
                "Va tutto bene?",
            ],
        ),
        "en": (
            [
                "Take your time.",
                "No rush at all.",
                "Don’t worry, everything is under control.",
                "Give me a moment to look at this properly.",
                "Take a breath.",
                "There is still time.",
                "Everything is fine.",
                "No worries, we have time.",
            ],
            [
                "We need to finish by tomorrow.",
                "This will take time.",
                "There's no time.",
                "We don't have time.",
                "Is everything fine?",
            ],
        ),
    },
    "solution": {
        "it": (
            [
                "Le propongo di dividere il lavoro in due fasi.",
                "Facciamo così: partiamo dalla home.",
                "Il prossimo passo è fissare una call.",
                "Possiamo organizzare una riunione a settimana.",
                "Prima decidiamo cosa dire, poi dove dirlo.",
                "Troviamo insieme un modo che funzioni.",
                "Partiamo dai vostri clienti.",
                "Cominciamo dai suoi obiettivi.",
                "Le mando il passo successivo ogni lunedì.",
                "Allora restiamo d'accordo così: spostiamo 20 mila e ci risentiamo il 15?",
            ],
            [
                "Non possiamo fare altro.",
                "Il problema è il budget.",
                "Non c'è niente che possiamo fare.",
                "Proviamo a capire cosa è successo.",
            ],
        ),
        "en": (
            [
                "I propose we split the work in two phases.",
                "Let’s start with the homepage.",
                "The next step is a short call.",
                "First we decide what to say, then where to say it.",
                "I suggest we review it in a dedicated session.",
                "Let's start from your clients.",
                "So shall we agree: we move 20k now and talk again on the 15th?",
            ],
            [
                "Let me think.",
                "The problem is the budget.",
                "There's nothing we can do.",
                "Let's try to understand what happened.",
                # a pause is not a proposal (pause-breathe's, not solutions-not-problems')
                "Let's take a breath: what is worrying you most right now?",
                "Let's all calm down for a moment.",
                "Let's take a step back.",
            ],
        ),
    },
    "problem_dwelling": {
        "it": (
            [
                "Il problema è che non ci sono soldi.",
                "Non si può fare.",
                "È impossibile rispettare quella data.",
                "Purtroppo non c’è niente da fare.",
                "Non c'è niente che possiamo fare.",
            ],
            [
                "Troviamo insieme una soluzione.",
                "Si può fare in due settimane.",
                # a misunderstanding named as "the problem" is checking, not dwelling
                "Il problema è che non ci siamo capiti.",
            ],
        ),
        "en": (
            [
                "The problem is the budget.",
                "That’s impossible.",
                "It can't be done in a week.",
                "There's nothing we can do.",
            ],
            [
                "We can do it in two weeks.",
                "Here is a possible way.",
                "The problem is that we misunderstood each other.",
            ],
        ),
    },
    "organization": {
        "it": (
            [
                "Le preparo una to-do list condivisa.",
                "Mettiamo tutto in un calendario condiviso.",
                "Attiviamo dei promemoria per le scadenze.",
                "Pianifichiamo gli step del progetto.",
            ],
            ["Le mando il file.", "Ci sentiamo presto."],
        ),
        "en": (
            [
                "I'll set up a shared calendar.",
                "Let's keep a to-do list for the project.",
                "I'll send you reminders before each deadline.",
            ],
            ["I'll send you the file.", "Talk soon."],
        ),
    },
    "check_founded": {
        "it": (
            [
                "Forse c’è stato un malinteso.",
                "Cosa esattamente non la convince?",
                "Verifico subito cosa è successo.",
                "Mi aiuti a capire dove non funziona.",
                "Forse non ci siamo capiti.",
                "Cosa succede esattamente quando qualcuno compila il modulo?",
                "Il problema è che non ci siamo capiti.",
            ],
            ["Le mando il file.", "Il lavoro è finito.", "So esattamente cosa intende."],
        ),
        "en": (
            [
                "Maybe there was a misunderstanding.",
                "What exactly isn't working for you?",
                "Let me check what happened.",
                "What exactly happens when someone fills in the quote form?",
                "The problem is that we misunderstood each other.",
            ],
            ["I'll send the file.", "The work is done.", "I know exactly what you mean."],
        ),
    },
    "payment_talk": {
        "it": (
            [
                "Volevo parlarle delle fatture arretrate.",
                "Per il pagamento possiamo trovare un accordo.",
                "Restano da saldare due parcelle.",
            ],
            ["Le mando il file.", "La pratica è pronta."],
        ),
        "en": (
            [
                "I'd like to talk about the outstanding invoices.",
                "About the payment, let's find a way.",
                "There are two unpaid fees.",
                "My fee is 80 euros an hour.",
                "Our fees are 80 euro per session.",
                "The fee is 80 euros.",
            ],
            [
                "Pay attention to the deadline.",
                "The file is ready.",
                # the fees of the client's own life are not the adviser's price
                "How are your daughter's university fees going?",
                "School fees went up again this year.",
                "The fees for her college are due in May.",
            ],
        ),
    },
    "in_person": {
        "it": (
            [
                "Preferisco dirglielo a voce che per mail: restano tre fatture.",
                "Te lo dico adesso che siamo al telefono.",
                "Non mi va di mandarti una mail per questo.",
            ],
            ["Le mando una mail con il riepilogo.", "Ci sentiamo al telefono domani."],
        ),
        "en": (
            [
                "I'd rather say this now, on the phone, than put it in an email.",
                "Since we're on the phone, let me mention the invoices.",
                "I don't want to send you an email about this.",
            ],
            ["I'll send you an email about it.", "Call me on the phone tomorrow."],
        ),
    },
    "email_channel": {
        "it": (
            [
                "Le mando una mail con il riepilogo.",
                "Le invio per e-mail la fattura.",
                "Glielo scrivo via mail.",
                # after a call, the e-mail: the anti-pattern itself
                "Come le ho detto a voce, le mando una mail con le fatture.",
            ],
            [
                "Preferisco parlarne a voce invece che per mail.",
                # the comparison: talking, not the e-mail, is the channel (a played session
                # hurt the loyal client with exactly this sentence)
                "Preferisco dirglielo a voce che per mail.",
                "Meglio parlarne di persona che via mail.",
                "Preferisco dirglielo al telefono che scriverle una mail.",
                "Non le mando nessuna mail.",
                "Ne parliamo a voce.",
                # an e-mail already sent does not move the matter to e-mail
                "Le ho mandato la fattura per mail.",
            ],
        ),
        "en": (
            [
                "I'll send you an email with the details.",
                "I'll email you the invoice.",
                "I'll confirm by email.",
            ],
            [
                "I won’t email you about this.",
                "I'd rather talk than send an email.",
                "Better to tell you in person than by email.",
                "I prefer to say it on the phone than to email you about it.",
                "Let's talk on the phone.",
                "I sent you the invoice by email.",
            ],
        ),
    },
    "payment_plan": {
        "it": (
            [
                "Possiamo posticipare il pagamento a dopo l’estate.",
                "Se preferisce, rateizziamo l’importo.",
                "Può pagare in tre rate.",
                "Salda quando potrà, senza pressioni.",
                "Per le parcelle vecchie le propongo tre rate da settembre.",
            ],
            [
                "Le tariffe sono queste.",
                "La riunione è domani.",
                # postponing with no payment involved, or someone else's instalments
                "Forse dovremmo rimandare tutto.",
                "Posticipiamo la riunione a lunedì.",
                "Le rate del mutuo sono alte.",
                "Mi chiami quando potrà.",
            ],
        ),
        "en": (
            [
                "We can postpone the payment until after the summer.",
                "You can pay in installments.",
                "Pay when you can.",
                "We can move the payment to September.",
                "For the old invoices I suggest three instalments from September.",
            ],
            [
                "My rate is fixed.",
                "The meeting is tomorrow.",
                "Maybe we should postpone everything.",
                "Let's postpone the meeting to Monday.",
                "The mortgage installments are high.",
                "Call me when you can.",
            ],
        ),
    },
    "gives_in": {
        "it": (
            [
                "Certo, subito!",
                "Glielo guardo gratis, nessun problema.",
                "Va bene, faccio come vuole lei.",
                "Mi chiami pure a qualsiasi ora.",
                "Mi chiami pure quando vuole, anche la sera.",
            ],
            [
                "Non posso continuare a lavorare gratis.",
                "Non sono reperibile a qualsiasi ora.",
                "La prima call è gratuita, poi vale la tariffa.",
                "Finora le ho dato consigli gratis, ora serve un contratto.",
                "Si cerchi qualcun altro che le dia consigli gratis.",
            ],
        ),
        "en": (
            [
                "Sure, right away!",
                "I'll look at it for free.",
                "Whatever you want.",
                "Call me anytime.",
            ],
            [
                "I can't keep working for free.",
                "I'm not available day or night.",
                "The first call was free; now my rate applies.",
                "So far I've helped you for free, but now we need a contract.",
                "Find someone else who'll give you advice for free.",
            ],
        ),
    },
    "introduce_self": {
        "it": (
            [
                "Buongiorno, mi chiamo Anna e mi occupo di LinkedIn.",
                "Piacere, sono Marco, consulente di comunicazione.",
                "Sono la sua nuova project manager.",
            ],
            [
                "Sono sicuro che funzionerà.",
                "Sono qui per ascoltarla.",
                "Non mi occupo di siti web.",
            ],
        ),
        "en": (
            [
                "Hello, my name is Anna.",
                "I'm Mark, a communication consultant.",
                "Let me introduce myself briefly.",
            ],
            ["I'm sure it will work.", "I'm here to listen."],
        ),
    },
    "value": {
        "it": (
            [
                "Questo le farà risparmiare tempo ogni settimana.",
                "Il valore della collaborazione si vede nei risultati.",
                "Il vantaggio è che lei mantiene il controllo.",
            ],
            [
                "Le mando il file.",
                "Ci sentiamo domani.",
                # the value of shares, or poor results, is not the value of working together
                "Il valore dei titoli è sceso.",
                "I risultati sono stati deludenti.",
            ],
        ),
        "en": (
            [
                "This will save you time every week.",
                "The value of working together shows in the results.",
            ],
            [
                "I'll send the file.",
                "Talk tomorrow.",
                "The value of the shares dropped.",
                "Results were disappointing.",
            ],
        ),
    },
    "leave": {
        "it": (
            [
                "Preferisco interrompere la nostra collaborazione.",
                "Non possiamo più lavorare insieme.",
                "Si rivolga pure a un altro consulente.",
                "Cercati un altro.",
            ],
            ["Continuiamo a lavorare insieme.", "Interrompo un attimo la call."],
        ),
        "en": (
            [
                "I think we should end our collaboration.",
                "We can’t work together anymore.",
                "Find another advisor.",
            ],
            ["Let's keep working together.", "I'll end the call in a minute."],
        ),
    },
    "self_examine": {
        "it": (
            [
                "Forse non mi sono spiegato bene.",
                "Cosa posso fare di diverso per aiutarla?",
                "Mi chiedo dove ho sbagliato.",
                "Forse non sono stato abbastanza chiaro sul piano.",
            ],
            ["Lei non ha capito.", "Ho fatto tutto bene."],
        ),
        "en": (
            [
                "Maybe I didn't explain it well.",
                "What could I do differently?",
                "I wasn't clear enough.",
                "Maybe I haven't been clear enough about the plan.",
            ],
            ["You didn't listen.", "I did everything right."],
        ),
    },
    "paraphrase": {
        "it": (
            [
                "Se ho capito bene, lei teme di perdere il controllo.",
                "Quindi mi sta dicendo che il sito non basta.",
                "Riassumendo, vi serve una guida.",
                "Ho l’impressione che lei cerchi una guida, è così?",
            ],
            [
                "Ho capito.",
                "Le mando il riepilogo.",
                "Cosa posso fare di diverso perché si senta meno solo?",
            ],
        ),
        "en": (
            [
                "If I understand correctly, you want a guide.",
                "So you’re saying the site isn't enough.",
                "In other words, you need more support.",
                "My impression is you want someone who holds the line. Is that right?",
            ],
            [
                "Got it.",
                "I'll send a summary.",
                # "so (that) you feel…" is a purpose, not a restatement
                "What can I do differently so you feel less alone with it?",
            ],
        ),
    },
    "commitment": {
        "it": (
            [
                "Le mando la bozza entro venerdì.",
                "Come concordato, domani alle 10 ci sentiamo.",
                "Mi impegno a consegnare entro le 18.",
                "Allora restiamo d'accordo così: spostiamo 20 mila e ci risentiamo il 15?",
            ],
            [
                "Ci sentiamo prima o poi.",
                "Non ci vediamo lunedì.",
                "Le mando qualcosa.",
                "È impossibile entro fine mese.",
                "Non riesco a finire entro venerdì.",
            ],
        ),
        "en": (
            [
                "You'll have the draft by Friday.",
                "As agreed, we'll talk tomorrow at 10.",
                "I'll send it by 5 pm.",
                "So shall we agree: we move 20k… talk again on the 15th?",
            ],
            [
                "We'll talk sometime.",
                "We can't meet on Monday.",
                "I'll send something.",
                "Impossible by the end of the month.",
                "I can't finish it by Friday.",
            ],
        ),
    },
    "thanks": {
        "it": (
            ["Grazie per la fiducia.", "La ringrazio del tempo.", "Ti ringrazio."],
            ["Grazie a questo strumento risparmia tempo.", "Prego."],
        ),
        "en": (
            ["Thank you for your time.", "Thanks!", "I appreciate it."],
            ["Thanks to this tool you save time.", "You're welcome."],
        ),
    },
    "rude": {
        "it": (
            ["Lei è un idiota.", "Stia zitto un attimo!", "Che ragionamento stupido."],
            ["Non esistono domande stupide.", "Non c'è nessuna domanda stupida."],
        ),
        "en": (
            ["That's stupid.", "Shut up!", "You're incompetent."],
            ["There are no stupid questions.", "Please let me finish."],
        ),
    },
}

# Behaviours the calibration against the coaches' gold labels showed missing (insults and
# impulsive retorts, blaming the client, problems with no way out, rushing, talking down, brief
# self-introductions, checking what a complaint means, looking at one's own part): merged into
# CASES, so every one has examples that must and must not show the move, in both languages.
MORE_CASES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "offence": {
        "it": (
            [
                "Ma si rende conto di che ore sono?",
                "Ti rendi conto dell'ora?",
                "Il problema è che tu cambi idea ogni giorno.",
                "Se non ascolta le risposte, giriamo in tondo.",
                "Va bene, dica pure. Però velocemente.",
                "Velocemente, perché ho altre quaranta pratiche.",
                "Faccia presto, ho fretta.",
            ],
            [
                "Mi rendo conto che è tardi, ne parliamo domattina.",
                "Il problema è che il modulo non invia le mail: lo sistemo oggi.",
                "Le rispondo velocemente appena ho i dati.",
                "Faccio in modo che sia breve.",
                "Se non mi ascolta bene al telefono, le scrivo un riepilogo.",
            ],
        ),
        "en": (
            [
                "Do you realise what time it is?",
                "The real problem is that you keep changing your mind.",
                "That's a marketing issue, not a technical one.",
                "If you don't listen to the answers we'll go round in circles.",
                "Quickly, because I've got forty applications to file.",
                "Make it quick, I'm in a hurry.",
            ],
            [
                "I realise it's late, let's talk tomorrow morning.",
                "The problem is that the form doesn't send e-mails: I'll fix it today.",
                "I'll get back to you quickly once I have the figures.",
                "I'll be brief, then I'd love to hear from you.",
                "The problem is that you'll need the March payslips.",
                "If you don't mind, let's go through it together.",
            ],
        ),
    },
    "lecture": {
        "it": (
            [
                "Con tutto il rispetto, Facebook è un canale superato.",
                "Mi creda, lei deve puntare su LinkedIn.",
                "Ogni imprenditore serio ha un'agenda.",
                "Il sito funziona benissimo, l'ho testato io.",
                "Ho seguito cinquanta professionisti, so cosa funziona.",
            ],
            [
                "Rispetto la sua scelta: valutiamo insieme Facebook.",
                "Il ritardo del fotografo è superato, le foto sono arrivate.",
                "Ora il modulo funziona benissimo, l'ho appena sistemato.",
                "Mi creda, capisco la sua preoccupazione.",
                "Mi dica lei cosa funziona con i suoi clienti.",
            ],
        ),
        "en": (
            [
                "With respect, Facebook is a dying channel for B2B.",
                "Trust me, you should go with Instagram.",
                "Every serious business owner has one.",
                "The site works perfectly, I tested it myself.",
                "TikTok isn't for furniture, it's a common misconception.",
                "We know the sector inside out.",
            ],
            [
                "I respect your choice: let's look at Facebook together.",
                "The photographer's delay is behind us, and the old price list is outdated.",
                "Now it works perfectly, I've just fixed the form.",
                "Trust me, I understand why you're worried.",
                "You know what works with your customers.",
            ],
        ),
    },
    "leave": {
        "it": (
            ["Così non posso più lavorare.", "Non riesco a lavorare in queste condizioni."],
            ["Così possiamo lavorare meglio entrambi.", "Lavoro così da anni con i miei clienti."],
        ),
        "en": (
            ["I can't keep working like this.", "I can't go on like this."],
            ["I like working like this, it keeps things clear.", "We can keep working together."],
        ),
    },
    "self_examine": {
        "it": (
            [
                "Forse anche il mio invito non era chiaro.",
                "Parte della confusione è colpa mia.",
                "Mi sono chiesto cosa sto sbagliando con lei.",
                "Mi chiedo cosa sto sbagliando.",
            ],
            [
                "Il suo invito non era chiaro.",
                "Mi chiedo cosa ne pensi suo figlio.",
                "Parte del lavoro è già fatta.",
            ],
        ),
        "en": (
            [
                "Part of the confusion is my doing too.",
                "I've asked myself what I'm doing wrong.",
                "Maybe my invitation wasn't clear.",
                "That was partly on me.",
            ],
            [
                "Your invitation wasn't clear.",
                "Part of the work is done already.",
                "I asked my colleague what went wrong.",
            ],
        ),
    },
    "problem_dwelling": {
        "it": (
            [
                "L'INPS è un incubo: il portale si blocca ogni pomeriggio.",
                "Non lo so, sinceramente.",
                "Sinceramente non lo so.",
                "Non posso fare miracoli.",
                "Non posso garantire nessuna scadenza.",
            ],
            [
                "Capisco che per lei sia un incubo.",
                "Non so ancora la data, ma gliela confermo domani.",
                "Non lo so fare da solo, mi serve il suo file.",
                "Posso garantire la consegna entro venerdì.",
            ],
        ),
        "en": (
            [
                "INPS is a nightmare: the portal crashes every afternoon.",
                "I honestly don't know.",
                "I honestly don't know when the money will arrive.",
                "I can't work miracles.",
                "I can't do anything about INPS, I'm afraid.",
                "I can't guarantee any deadline.",
            ],
            [
                "It sounds like a nightmare for you.",
                "I don't know the date yet, but I'll confirm it tomorrow.",
                "I don't know your sector as well as you do: tell me more.",
                "I can guarantee delivery by Friday.",
            ],
        ),
    },
    "introduce_self": {
        "it": (
            [
                "Sono Sara, lavoro su LinkedIn con professionisti e piccoli studi.",
                "In due parole: aiuto le aziende a raccontarsi meglio.",
                "Aiuto i professionisti a trovare clienti online.",
            ],
            [
                "Sono sicura, lavoro così da anni.",
                "Le chiedo aiuto per il file.",
                "Sono qui e lavoro per lei.",
            ],
        ),
        "en": (
            [
                "I'm Sara, I work on LinkedIn with professionals and small firms.",
                "Briefly about me: I help professionals use LinkedIn to win clients.",
                "In a nutshell, what I do is help small firms win clients.",
            ],
            [
                "I'm sorry, I work late on Tuesdays.",
                "I'm sure I help nobody by rushing.",
                "Can you help me understand the brief?",
            ],
        ),
    },
    "check_founded": {
        "it": (
            [
                "Quando dici che non va, intendi che il modulo dà errore o che non scrive nessuno?",
                "Intende che la pagina non si apre o che è lenta?",
            ],
            ["Quando dici che va bene, procedo.", "Intendo dire che lo sistemo oggi."],
        ),
        "en": (
            [
                "When you say it fails, do you mean the form errors, or that nobody writes?",
                "Do you mean the page won't open or that it's slow?",
            ],
            ["When you say go, I'll start.", "I mean I'll fix it today."],
        ),
    },
    "empathy": {
        "it": (
            ["È tanto tutto insieme, lo so.", "Sono tante cose tutte insieme."],
            ["Lavoriamo tanto insieme.", "Sono tante le pagine del sito."],
        ),
        "en": (
            ["I hear that it's a lot at once.", "That's a lot to take in."],
            ["I hear the phone ringing.", "We did a lot of work last month."],
        ),
    },
    "solution": {
        "it": (
            [
                "Ecco cosa faremo: domani alle 9 sentiamo il notaio.",
                "E se dividessimo il lavoro in due consegne?",
                "Mettiamo online le foto dell'anno scorso.",
            ],
            ["Non so cosa faremo.", "E se poi non funziona?"],
        ),
        "en": (
            [
                "Here's what we'll do: call at 9 sharp.",
                "What if we split them into three instalments?",
            ],
            ["I don't know what we'll do.", "What if we fail?"],
        ),
    },
    "gives_in": {
        "it": (
            [
                "Non ti preoccupare, chiamami pure, a qualunque ora.",
                "Ti rispondo sempre subito, promesso.",
            ],
            [
                "Non ti rispondo sempre subito, ma entro la giornata.",
                "Non chiamarmi a qualunque ora.",
            ],
        ),
        "en": (
            ["Don't worry, call me at any hour.", "I'll always reply straight away, I promise."],
            ["I won't always reply straight away.", "Please don't call me at any hour."],
        ),
    },
}

# Phrasings found missing on the development set (transcripts/gold-dev/), in our own words.
CASES["deflect"] = {
    "it": (
        [
            "Inseguire i pagamenti non è compito mio.",
            "Sarà colpa del fornitore dell'hosting.",
            "Sono affari tuoi, io ho fatto la mia parte.",
            "Quello è un problema tra lei e il suo cliente.",
        ],
        [
            "Non ho detto che è colpa tua.",
            "È compito mio avvisarla in tempo.",
            "La colpa è anche mia.",
        ],
    ),
    "en": (
        [
            "Chasing invoices isn't my job.",
            "That's between you and your customer.",
            "That'll be the hosting company again.",
            "It must be your nephew's fault.",
            "Spam filtering is not something we manage.",
        ],
        [
            "It's my job to warn you in time.",
            "That's between us: let's sort it out together.",
            "Part of the problem is on me.",
        ],
    ),
}
GENERALISED: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "self_examine": {
        "it": (
            [
                "Questa volta è colpa mia.",
                "Avrei dovuto chiamarla prima.",
                "Forse dipende anche da me.",
            ],
            ["Non ho sbagliato niente.", "Lei avrebbe dovuto chiamarmi."],
        ),
        "en": (
            [
                "I don't think that's only on you.",
                "Maybe part of it is me.",
                "I should have caught it when I tested.",
                "That one's on me.",
            ],
            ["That's on you.", "I should have the figures by Friday.", "You should have called."],
        ),
    },
    "reassurance": {
        "it": (
            [
                "Non ha niente di cui vergognarsi.",
                "È normale sentirsi così prima di firmare.",
                "Ci prendiamo tutta la mattina, anche di più se serve.",
            ],
            ["Non è normale chiamare a quest'ora.", "Ha molto di cui preoccuparsi."],
        ),
        "en": (
            [
                "You've got nothing to be ashamed of.",
                "It's completely normal to feel that way.",
                "We'll take the whole morning if we need it.",
            ],
            ["It's not normal to call at midnight.", "You have a lot to worry about."],
        ),
    },
    "paraphrase": {
        "it": (
            [
                "Quello che le manca davvero è qualcuno che dica di no.",
                "Mi pare di capire che i ragazzi la preoccupino.",
            ],
            ["Le manca un documento.", "Mi pare giusto."],
        ),
        "en": (
            [
                "So what you're missing isn't a better forecast.",
                "So this is less about one page and more about your landlords.",
            ],
            ["What you need is a content strategy.", "So this is the page we built."],
        ),
    },
    "boundary": {
        "it": (
            ["Stasera però no: domattina alle otto sono in studio."],
            ["Stasera no problem, ci sentiamo."],
        ),
        "en": (["Not tonight. Half past eight, at the office."], ["Not now, I'm driving."]),
    },
    "leave": {
        "it": (
            [
                "Non so se abbia senso continuare a vederci.",
                "Forse si troverebbe meglio con un altro consulente.",
                "Forse ti serve qualcuno con più tempo di me.",
            ],
            [
                "Ha senso continuare così: stiamo migliorando.",
                "Si troverebbe meglio con un piano scritto.",
            ],
        ),
        "en": (
            [
                "I'm not sure this collaboration makes sense for either of us.",
                "Maybe you'd be better off with another adviser.",
            ],
            [
                "I'm sure this collaboration makes sense.",
                "You'd be better off with a written plan.",
            ],
        ),
    },
    "remedy": {
        "it": (
            ["Lo sistemo io entro stasera.", "Sarà risolto entro domani."],
            ["Il sistema sarà lento entro domani."],
        ),
        "en": (["The fix takes about an hour.", "It'll be fixed by two."], ["It can't be fixed."]),
    },
    "check_founded": {
        "it": (
            ["Fammi vedere il messaggio che hai ricevuto.", "Da quando non arrivano le richieste?"],
            ["Ti faccio vedere il nuovo logo."],
        ),
        "en": (
            ["I want to see what you're seeing.", "When did the requests stop?"],
            ["I want to see you on Friday.", "When did you start the business?"],
        ),
    },
    "empathy": {
        "it": (["Mi sembra un periodo pesante."], ["Mi sembra un periodo buono per investire."]),
        "en": (["It sounds like a rough weekend."], ["It sounds like a plan."]),
    },
    "open_question": {
        "it": (
            ["Posso chiederle su chi contate di più, lì dentro?"],
            ["Posso chiederle un favore."],
        ),
        "en": (["Can I ask who you rely on most there?"], ["Can I ask you a favour."]),
    },
}
# Natural phrasings of the cues (and what must not count), in the words professionals use rather
# than any one transcript's: the offline grader missed techniques phrased in ways it did not know.
NATURAL_PHRASINGS: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "commitment": {
        "it": (
            [
                "Giovedì le mando il riepilogo dei costi.",
                "Le mando la conferma oggi pomeriggio.",
                "Lo preparo in mezza giornata.",
                "Domani alle nove chiamo io il fornitore.",
                "Lunedì alle dieci la chiamata con il team.",
            ],
            ["Non le mando niente.", "Le mando qualcosa appena riesco."],
        ),
        "en": (
            [
                "I'll confirm the meeting by 2 today.",
                "You'll have my text by 2.",
                "Tomorrow I'll send you one page with both dates.",
                "I'll call you on Monday with the numbers.",
                "You'll get the draft from me by Friday.",
                "I'll have the summary to you by lunchtime.",
            ],
            [
                "I'll get it over to you in the next few days.",
                "Prices went up by 2%.",
                "I'll look at it when I can.",
            ],
        ),
    },
    "empathy": {
        "it": (
            [
                "Mi dispiace per vostro padre.",
                "Posso immaginare la fatica di queste settimane.",
                "È un peso enorme da portare da soli.",
                "Ha ragione a essere preoccupato.",
                "So quanto ci tiene a questo progetto.",
                "E i ragazzi come la stanno vivendo?",
                "La sento molto preoccupata.",
            ],
            ["Mi dispiace, ma non posso.", "Ha ragione, il prezzo è quello.", "So quanto costa."],
        ),
        "en": (
            [
                "I can tell it matters to you.",
                "That's a lot to carry on your own.",
                "Of course you're worried.",
                "No wonder you're tired.",
                "I know how much this project means to you.",
                "You sound exhausted.",
                "You have every reason to be upset.",
            ],
            ["I can't tell you the price yet.", "Of course you can call me tomorrow."],
        ),
    },
    "paraphrase": {
        "it": (
            [
                "Quindi non cerca solo un rendimento: cerca ordine.",
                "Da quello che mi dice, il problema è la consegna.",
                "Insomma, vi serve qualcuno che vi guidi.",
                "Se la seguo bene, i clienti storici restano.",
            ],
            ["Quindi ci vediamo giovedì.", "Da quello che so, il modulo funziona."],
        ),
        "en": (
            [
                "So the real worry is losing the landlords.",
                "From what you've said, the page matters less than the people.",
                "If I'm following you, the old customers are still there.",
                "What you're describing is a team that needs a guide.",
            ],
            ["So the meeting is on Thursday.", "From what I know, the form works."],
        ),
    },
    "hesitant": {
        "it": ([], ["Forse dipende anche da me.", "Forse è anche colpa mia."]),
        "en": ([], ["Maybe part of it is me.", "Perhaps this was partly on me."]),
    },
    "check_founded": {
        "it": (
            [
                "Prima di risponderti voglio capire bene cosa è successo.",
                "Lo guardiamo insieme adesso?",
            ],
            ["Voglio capire bene cosa vuole ottenere.", "Lo guardiamo giovedì."],
        ),
        "en": (
            [
                "I want to understand what happened before I say anything.",
                "Let's go through it together.",
            ],
            ["I want to understand your goals.", "Let's go through the budget on Friday."],
        ),
    },
    "solution": {
        "it": (
            [
                "Sulla frequenza potremmo partire con due post a settimana.",
                "Se le può essere utile, posso fare una chiamata con i ragazzi.",
            ],
            ["Potremmo sbagliarci.", "Se le sembra utile, me lo dica."],
        ),
        "en": (
            ["We could start with two posts a week.", "If it helps, I can join a short call."],
            ["We couldn't start before May.", "If it helps you sleep, fine."],
        ),
    },
    "invite_discussion": {
        "it": (
            ["Il suo mercato lo conosce molto meglio di me."],
            ["Le sembra normale chiamare a quest'ora?", "Lo conosco meglio di lei."],
        ),
        "en": (["Does that work?", "Would this make sense for the team?"], ["That works."]),
    },
    "boundary": {
        "it": (
            [
                "Sono raggiungibile dal lunedì al venerdì.",
                "Controllo i messaggi due volte al giorno.",
                "Le rispondo domattina, con calma.",
            ],
            ["Lunedì e venerdì sono in fiera.", "Le rispondo subito."],
        ),
        "en": (
            [
                "I'm on the phone Monday to Friday.",
                "I check my messages twice a day.",
                "I'll reply first thing in the morning.",
            ],
            ["I'll reply right now.", "I check the figures every day."],
        ),
    },
    "apology": {
        "it": (["Le devo delle scuse.", "Non doveva succedere."], ["Non le devo niente."]),
        "en": (
            ["I owe you an apology.", "That shouldn't have happened."],
            ["I owe you a call.", "That should have happened by now."],
        ),
    },
    "remedy": {
        "it": (
            ["Me ne occupo io, oggi stesso.", "Non succederà più."],
            ["Se ne occupa il suo commercialista."],
        ),
        "en": (
            ["I'll take care of it this afternoon.", "I'll make sure it doesn't happen again."],
            ["Who will take care of it?"],
        ),
    },
    "terms": {
        "it": (
            ["Non abbiamo ancora firmato nulla.", "Un'analisi così ha un costo."],
            ["Non abbiamo ancora deciso nulla."],
        ),
        "en": (
            ["We haven't signed anything yet.", "I charge by the hour."],
            ["We haven't decided anything yet."],
        ),
    },
    "firm": {
        "it": (
            ["Le sconsiglio vivamente di vendere adesso.", "Resto della mia idea."],
            ["Non sono della stessa idea."],
        ),
        "en": (
            ["I strongly recommend holding.", "My recommendation stands."],
            ["I recommend you think it over."],
        ),
    },
    "organization": {
        "it": (
            [
                "Ogni lunedì ti mando un riepilogo settimanale.",
                "Teniamo tutto in un unico documento.",
            ],
            ["È un documento importante."],
        ),
        "en": (
            ["Every Thursday you get a weekly update from me.", "Let's keep it all in one list."],
            ["Thanks for the update."],
        ),
    },
    "reassurance": {
        "it": (["Una cosa alla volta.", "Niente è perduto."], ["Una volta era diverso."]),
        "en": (["One thing at a time.", "Nothing is lost.", "It's all fixable."], ["It's lost."]),
    },
    "payment_plan": {
        "it": (["Possiamo pagare la fattura in due tranche."], ["La fattura è in due copie."]),
        "en": (["You can pay the invoice in two parts."], ["The invoice has two pages."]),
    },
}

for _move, _by_lang in NATURAL_PHRASINGS.items():
    for _lang, (_good, _bad) in _by_lang.items():
        _known_good, _known_bad = CASES[_move][_lang]
        CASES[_move][_lang] = (_known_good + _good, _known_bad + _bad)

for _move, _by_lang in GENERALISED.items():
    for _lang, (_good, _bad) in _by_lang.items():
        _known_good, _known_bad = CASES[_move][_lang]
        CASES[_move][_lang] = (_known_good + _good, _known_bad + _bad)

for _move, _by_lang in MORE_CASES.items():
    for _lang, (_good, _bad) in _by_lang.items():
        _known_good, _known_bad = CASES[_move][_lang]
        CASES[_move][_lang] = (_known_good + _good, _known_bad + _bad)


# The senior-coach review: false positives and misses (a negated own fault, dropping one topic
# "for now", asking to be corrected, leaving the choice to the client, conditional advice,
# "I am" spelled out), and two new moves: a vague promise, and a calm goodbye that ends the call.
REVIEW_CASES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "self_examine": {
        "it": (
            ["Forse è colpa mia, avrei dovuto avvisarla prima."],
            [
                "Non è colpa mia, è il sistema.",
                "Non dipende da me, decide la banca.",
                "Non ho sbagliato io, il file era già così.",
            ],
        ),
        "en": (["That's partly on me."], ["It's not my fault, it's the system."]),
    },
    "leave": {
        "it": (
            [
                "Lasciamo perdere.",
                "Va bene, allora lasciamo perdere tutto.",
                "A questo punto lasciamo perdere la collaborazione.",
            ],
            [
                "Sulla tariffa lasciamo perdere per ora: prima vediamo cosa le serve.",
                "Lasciamo perdere per ora la questione dei compensi.",
            ],
        ),
        "en": (["Let's part ways."], ["Let's leave the fees aside for now."]),
    },
    "remedy": {
        "it": (
            ["Correggo la pagina entro stasera."],
            ["Mi corregga se sbaglio: il problema è il modulo?", "Correggimi se sbaglio."],
        ),
        "en": (["I'll correct the invoice today."], ["Correct me if I'm wrong."]),
    },
    "lecture": {
        "it": (
            ["Ovviamente lei non conosce questi strumenti."],
            [
                "Faccia come preferisce lei, ovviamente.",
                "Decida lei, ovviamente: io le ho dato i numeri.",
            ],
        ),
        "en": (
            ["Obviously you don't understand how the index works."],
            ["Whatever you prefer, obviously.", "It's your call, obviously."],
        ),
    },
    "advice": {
        "it": (
            ["Le consiglierei di aspettare marzo.", "Ti suggerirei di tenere le azioni."],
            ["Cosa mi consiglierebbe lei?"],
        ),
        "en": (["I'd recommend you wait until March."], ["What would you recommend?"]),
    },
    "paraphrase": {
        "it": (["Mi corregga se sbaglio: lei vuole soprattutto sicurezza?"], ["Mi corregga lei."]),
        "en": (
            ["Correct me if I am wrong: you want safety above all?", "Correct me if I'm wrong."],
            ["Correct me on the figures, please."],
        ),
    },
    "vague_promise": {
        "it": (
            [
                "Forse le mando il file la settimana prossima.",
                "Magari la settimana prossima.",
                "Spero di riuscire a mandarle tutto nei prossimi giorni.",
                "Vedo se riesco a richiamarla domani.",
                "Provo a farle sapere qualcosa appena posso.",
                "Le mando un paio di documenti prima dell'incontro, appena riesco.",
                "Ci penso un attimo e ti faccio sapere.",
            ],
            [
                "Le mando il riepilogo entro venerdì alle 12.",
                "Forse non mi sono spiegato bene.",
                "Forse il mercato scende la settimana prossima.",
                "Magari! Sarebbe bello.",
                "Ti mando le foto domattina.",
                "Ti faccio sapere entro stasera.",
            ],
        ),
        "en": (
            [
                "Maybe I can send it next week.",
                "I'll try to get back to you in the next few days.",
                "Hopefully next week.",
                "Perhaps we'll call you as soon as I can sort it.",
                "I'll see if I can send the figures tomorrow.",
                "I'll send a couple of documents before we meet, when I can.",
                "Let me think it over and I'll let you know.",
            ],
            [
                "You'll have the summary by Friday noon.",
                "Maybe you should call your bank.",
                "Maybe the market drops next week.",
                "Perhaps I didn't explain it well.",
                "I'll send the photos tomorrow morning.",
                "I'll let you know by 5 today.",
            ],
        ),
    },
    "close_call": {
        "it": (
            [
                "Buonanotte.",
                "Le ho già risposto: domani in studio. Buonanotte, signor Marcon.",
                "La saluto, buona serata.",
                "Arrivederci e grazie.",
                "Buonanotte anche a lei. [riattacca]",
            ],
            [
                "Buona serata?",
                "Buonanotte, ci sentiamo domani alle 9 e poi decidiamo il resto.",
                "Arrivederci, ci sentiamo domani in studio alle 9.",
                "Le auguro la buonanotte, ma prima mi dica: firma domani?",
                "Le dico arrivederci solo quando abbiamo finito di parlare del contratto.",
            ],
        ),
        "en": (
            [
                "Good night.",
                "My answer is the same: tomorrow at the office. Goodbye, Mr Marcon.",
                "Have a good evening.",
                "Good night to you too. (hangs up)",
            ],
            [
                "Goodbye?",
                "Good night, and call me tomorrow at 9 so we can go through the rest?",
                "Have a good evening and we'll talk tomorrow at 9 about the clause.",
                "I won't say goodbye until we've settled the contract.",
            ],
        ),
    },
}
CASES["vague_promise"] = {lang: ([], []) for lang in ("it", "en")}
CASES["close_call"] = {lang: ([], []) for lang in ("it", "en")}

for _move, _by_lang in REVIEW_CASES.items():
    for _lang, (_good, _bad) in _by_lang.items():
        _known_good, _known_bad = CASES[_move][_lang]
        CASES[_move][_lang] = (_known_good + _good, _known_bad + _bad)


# The play review (45 offline sessions): imperative advice, giving in (free tips, endless
# screenshots, a discount turned free, extra work on the same budget), talking down, an absurd
# request, leaving the project, reproaching the client; a diagnostic question is not dwelling on
# problems, and a bare "Capisco." / "I understand." is an acknowledgement, not empathy.
PLAY_CASES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "advice": {
        "it": (
            [
                "Le dico chiaramente: tenga i titoli americani fino a marzo. Non ho dubbi.",
                "Certo: metta una foto professionale e cambi il titolo del profilo.",
                "Sì, il profilo va bene, aggiunga qualche parola chiave.",
                "Ne sono convinto, li tenga.",
                "Non tocchi niente finché non ne parliamo.",
                "Aspetti fino a marzo prima di vendere.",
                "Allora, elimina le foto vecchie e pubblica quella nuova.",
            ],
            [
                "Mi dica pure, la ascolto.",
                "Guardi, le mando il file domani.",
                "Tenga presente che stasera il sito è in manutenzione.",
                "Aspetti un attimo, controllo subito.",
                "Mi metta in copia, per favore.",
                "Scelga lei il giorno che preferisce.",
                "Non cambia il prezzo, solo i tempi.",
                "Tiene i titoli fino a marzo o pensa di venderli?",
                "Ok, tieni il telefono acceso domattina che ti chiamo alle 9.",
                "Il calendario condiviso è semplice: avvisa, ricorda le scadenze, evita i "
                "doppioni.",
            ],
        ),
        "en": (
            [
                "Hold everything until March.",
                "Sure: use a professional photo and change your headline.",
                "Yes, your nephew's profile is fine, add a few keywords.",
                "I'm convinced, hold them.",
                "Don't touch anything until we've talked.",
                "Wait until March before selling.",
                "I'd also advise you to post twice a week.",
                "For social media I'd recommend Instagram and Facebook.",
            ],
            [
                "Tell me more about your team.",
                "Send me the file when you can.",
                "Hold the line, please.",
                "Keep me posted.",
                "Keep in mind the site is down tonight.",
                "Wait a moment, I'll check.",
                "Change is hard, I know.",
                "Keep your phone on tomorrow morning, I'll call at 9.",
                "Hold the shares or sell them?",
                "I wouldn't recommend anything before we talk.",
            ],
        ),
    },
    "gives_in": {
        "it": (
            [
                "Certo, le do volentieri qualche consiglio: metta una foto professionale.",
                "Nessun problema, mi mandi pure tutti gli screenshot che vuole, le rispondo "
                "subito.",
                "Va bene, le faccio il configuratore 3D per la fiera, tutto con lo stesso budget.",
                "Decide lei, facciamo come preferisce.",
                "Va bene, facciamo come vuole lei.",
            ],
            [
                "Le do un consiglio: tenga i titoli.",
                # a choice between the trainee's own options is not giving in (review 2, N3)
                "Quali modelli mettiamo in evidenza? Decide lei, facciamo come preferisce.",
                "Galleria o presentazione, come preferisce lei.",
                "Potremmo farlo con lo stesso budget, ma ci vorrebbero due mesi.",
                "Mi mandi i preventivi prima che partano, li controllo io.",
            ],
        ),
        "en": (
            [
                "Sure, happy to give you a few tips: use a professional photo.",
                "No problem, send me all the screenshots you like, I'll answer right away.",
                "OK, I'll give you the discount, actually for now it's free.",
                "Fine, I'll build the 3D configurator for the fair, all on the same budget.",
                "OK, let's change the site again however you want, no problem.",
                "You decide, whatever you prefer.",
                "Fine, whatever you want.",
            ],
            [
                # a choice between the trainee's own options is not giving in (review 2, N3)
                "Which models should we feature? You decide, whatever you prefer.",
                "A gallery or a slideshow, whatever you prefer.",
                "We could build it on the same budget, but it would take two months.",
                "It's not free: we haven't signed anything yet.",
                "Send me all the quotes you want me to check before they go out.",
                "If it's free on your side, let's talk on Thursday.",
            ],
        ),
    },
    "solution": {
        "it": (["Prepariamo insieme le prime tre pagine."], ["Prepariamo tutto come vuole lei."]),
        "en": (
            ["Let's start with the bookings page."],
            ["OK, let's change the site again however you want, no problem."],
        ),
    },
    "lecture": {
        "it": (
            ["Ti spiego come funziona la SEO: ci vogliono mesi, è tecnica, non capiresti."],
            ["Suo figlio non capirebbe il nuovo logo?"],
        ),
        "en": (
            [
                "Let me explain how SEO works: it takes months, it's technical, you wouldn't "
                "understand."
            ],
            ["Tell me if anything isn't clear and I'll explain it another way."],
        ),
    },
    "offence": {
        "it": (
            [
                "L'8 dicembre alle 8? Fuori discussione, è una richiesta assurda.",
                "Gianni, ancora? Non è possibile che perdi sempre tutto.",
                "Lei perde sempre tutto, è un problema serio.",
                "Lei non mi sta ascoltando, è inutile parlare così.",
            ],
            [
                "Non è una richiesta assurda, vediamo come organizzarla.",
                "Il sito perde dati? Verifichiamo insieme.",
                "Se perde le password, usiamo un gestore condiviso.",
                "Il fornitore è sempre in ritardo, lo chiamo io.",
            ],
        ),
        "en": (
            [
                "December 8th at 8 am? Out of the question, that's an absurd request.",
                "Gianni, again? You always lose everything, this is a serious problem.",
                "You're always late and your quotes are wrong.",
                "You're not listening to me, it's pointless talking like this.",
            ],
            [
                "It isn't an absurd request, let's see how to organise it.",
                "If you keep losing the passwords, let's use a password manager.",
                "I'm not sure you're listening, so let me put it another way.",
                "The courier is always late, I'll call them myself.",
            ],
        ),
    },
    "leave": {
        "it": (
            [
                "Se continua così, lascio il progetto.",
                "A queste condizioni mi ritiro dal progetto.",
            ],
            ["Non lascio il progetto a metà.", "Le lascio il progetto sulla cartella condivisa."],
        ),
        "en": (
            [
                "If you carry on like this, I'm leaving the project.",
                "I'll walk away from this project.",
            ],
            [
                "I'm not leaving the project half done.",
                "I'll leave the project files in the shared folder.",
            ],
        ),
    },
    "problem_dwelling": {
        "it": (
            ["Il problema è che il progetto è bloccato."],
            [
                "Mi aiuta a capire se il problema è il modulo o il traffico? Verifichiamo insieme "
                "se è un malinteso o un problema reale.",
                "Secondo lei il problema è il modulo o il traffico?",
            ],
        ),
        "en": (
            ["The problem is the project is stuck."],
            [
                "Help me understand whether the problem is the form or the traffic.",
                "Is the problem the form, or is the problem the traffic?",
            ],
        ),
    },
    "empathy": {
        "it": (
            ["Capisco, è un periodo durissimo per tutti.", "Ha ragione, capisco.", "Lo capisco."],
            ["Capisco.", "Capisco bene.", "Sì, capisco.", "Capito."],
        ),
        "en": (
            ["I understand, it's a hard time for everyone.", "You're right, I understand."],
            ["I understand.", "I see.", "OK, I understand."],
        ),
    },
    # Review 2 (N2): only the trainee sending (or having sent) the reminder by e-mail moves the
    # payment to e-mail; asking the client to write when he is ready does not.
    "email_channel": {
        "it": (
            [
                "Le mando una mail con il sollecito.",
                "Le ho mandato una mail per le fatture non pagate.",
            ],
            [
                "Se le è più comodo, mi mandi pure una mail quando ha le idee più chiare sulle "
                "parcelle, senza fretta.",
                "Mi mandi pure la mail con le fatture.",
                "Mandami le fatture per mail.",
            ],
        ),
        "en": (
            [
                "I'll email you the reminder.",
                "I sent you an e-mail about the unpaid invoices.",
                "I've sent you the payment reminder by email.",
            ],
            [
                "If it's easier, send me an email when you have a clearer idea about the "
                "invoices, no pressure.",
                "Send me the invoices by e-mail when you're ready.",
                "Feel free to drop us an email about the payments.",
            ],
        ),
    },
    # N3: "X can be done, but I suggest Y" is a sustainable alternative.
    "alternative": {
        "it": (
            [
                "Il configuratore si può fare, ma in tre settimane non è sostenibile: le propongo "
                "una galleria di composizioni con preventivo rapido. Che ne pensa?",
                "È fattibile, però le suggerisco di partire dalla galleria.",
            ],
            [
                "Il configuratore si può fare, ma ci vogliono tre mesi.",
                "Si può fare? Le propongo di sentirci domani.",
            ],
        ),
        "en": (
            [
                "The configurator can be done, but not in three weeks: I suggest a gallery of "
                "layouts with a quick quote form. What do you think?",
                "It's doable, but I'd recommend starting with the gallery.",
            ],
            [
                "The configurator can be done, but it takes three months.",
                "Can it be done? I suggest we talk tomorrow.",
            ],
        ),
    },
    # N4: IT/EN parity.
    "reassurance": {
        "it": (
            [
                "Ci sono le tre parcelle arretrate. Non è urgente, vorrei solo capire insieme "
                "come organizzarci.",
                "Niente di urgente, ne parliamo con calma.",
            ],
            ["Non è urgente?", "Se non è urgente, ne parliamo domani."],
        ),
        "en": (
            ["It's not urgent, I'd just like us to work out a plan together."],
            ["Is it not urgent?", "If it's not urgent, we'll talk tomorrow."],
        ),
    },
    "paraphrase": {
        "it": (
            ["Ho l'impressione che lei cerchi un consulente che tenga la linea, anche con lei."],
            ["Ho fatto una buona impressione?"],
        ),
        "en": (
            [
                "I sense you want an advisor who holds the line, even with you. Is that fair?",
                "I get the feeling you're looking for someone to guide you.",
            ],
            ["I sense some tension.", "I get the feeling I should call later."],
        ),
    },
    "commitment": {
        "it": (
            [
                "Allora ci risentiamo a inizio settembre, la chiamo io.",
                "La chiamo io a inizio settembre.",
                "La chiamo a settembre.",
            ],
            [
                "Forse la chiamo a settembre.",
                "Non la chiamo fino a settembre.",
                "A settembre vedremo.",
            ],
        ),
        "en": (
            [
                "Great, I'll call you at the start of September.",
                "I'll call you in September.",
            ],
            [
                "Maybe I'll call you in September.",
                "I won't call you before September.",
                "I'll call you, may I ask one thing?",
            ],
        ),
    },
}

for _move, _by_lang in PLAY_CASES.items():
    for _lang, (_good, _bad) in _by_lang.items():
        _known_good, _known_bad = CASES[_move][_lang]
        CASES[_move][_lang] = (_known_good + _good, _known_bad + _bad)

# The grader review (yes-then-sells on hard, extended need, immediate availability): advice
# given flatly or handed back ("io terrei, ma decide lei", "I'd hold, but it's your call"), a
# question about the need behind the request (not empathy followed by any question), and a
# promise to answer at once ("Le rispondo subito, mi dica tutto") as giving in, while a
# scheduled answer ("I'll answer tomorrow at 9") is not.
CASES["need_question"] = {lang: ([], []) for lang in ("it", "en")}
GRADER_REVIEW_CASES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "need_question": {
        "it": (
            [
                "Cosa vi preoccupa di più, al di là del sito?",
                "Oltre al sito, di cosa avreste bisogno per sentirvi più sicure?",
                "Al di là di quanto rendono, cosa le importa davvero di questi soldi?",
                "Al di là del sito, cosa vi farebbe sentire più tranquille nella gestione?",
                "Cosa vi preoccupa davvero, adesso che l'azienda è nelle vostre mani?",
                "Di cosa avreste bisogno da me, oltre alla campagna sui social?",
                "Come la state vivendo, questa nuova responsabilità?",
                "Cosa cerca davvero in un consulente?",
                "Che tipo di sostegno vi servirebbe nei prossimi mesi?",
                "Cosa la farebbe sentire più tranquillo?",
                "Capisco che la scadenza conta. Cosa cambierebbe per lei?",
                "Che cosa significa per voi, davvero?",
            ],
            [
                "Capisco, è un periodo durissimo. Quando le serve il sito?",
                "Capisco, è un periodo durissimo. Come posso aiutarla?",
                "Capisco, è un periodo durissimo: quali pratiche le mancano?",
                "Immagino che sia un momento pesante. Mi manda i cedolini entro venerdì?",
                "Cosa le serve per il sito?",
                "Di cosa ha bisogno per la pratica?",
                "Cosa cambia per il sito, con la nuova versione?",
            ],
        ),
        "en": (
            [
                "What worries you most, beyond the website?",
                "Beyond the website, what would help you feel more confident?",
                "Beyond the website, what would make you feel calmer about running the company?",
                "What really worries you, now that the company is in your hands?",
                "What would you need from me, apart from the social campaign?",
                "How are you coping with this new responsibility?",
                "What are you really looking for in an advisor?",
                "What kind of support would you need over the next few months?",
                "What would make you feel safe?",
                "How are you holding up?",
                "I understand the deadline matters. What would change for you?",
                "What does it mean to you?",
            ],
            [
                "I understand, it's a really tough time. When do you need the website?",
                "I understand, it's a really tough time. How can I help?",
                "I understand, it's a really tough time: which forms are missing?",
                "I can imagine it's a heavy moment. Can you send me the payslips by Friday?",
                "What do you need for the website?",
                "What do you need for the application?",
                "What changed in the new version of the site?",
            ],
        ),
    },
    "gives_in": {
        "it": (
            [
                "Le rispondo subito, mi dica tutto.",
                "Ti rispondo subito, dimmi tutto.",
                "Certo, le rispondo subito.",
                "Tranquillo, le rispondo subito, mi scriva quando vuole.",
                "Ci sono, le rispondo adesso: mi dica tutto.",
                "Nessun problema, rispondo immediatamente.",
                "Non si preoccupi, le rispondo subito.",
                "Le rispondo sempre, non si preoccupi.",
                "Rispondo sempre, a qualunque messaggio.",
            ],
            [
                "Le rispondo domani alle 9.",
                "Le rispondo domani mattina alle 9, con calma.",
                "Le rispondo subito dopo la riunione di domani.",
                "Non le rispondo subito, ma entro le 18.",
                "Le rispondo subito: no, il prezzo non cambia.",
                "Se le rispondo subito di notte, si abitua.",
                "Le rispondo subito?",
                "Mi dica tutto, la ascolto.",
                "Rispondo sempre entro due ore.",
                "Rispondo sempre, ma non di notte.",
                "Non rispondo sempre.",
            ],
        ),
        "en": (
            [
                "I'll answer right away, tell me everything.",
                "I'll reply right away.",
                "Sure, I'll answer right now, go ahead.",
                "Don't worry, I'll answer right away, write to me whenever you like.",
                "I'm here, I'll reply right now: tell me everything.",
                "No problem, I'll respond immediately.",
                "No problem, I'm answering now, tell me everything.",
                "Write to me whenever you like.",
                "I always answer, don't worry.",
                "I always reply, to every message.",
            ],
            [
                "I'll answer tomorrow at 9.",
                "I'll answer tomorrow morning at 9, calmly.",
                "I'll reply right after tomorrow's meeting.",
                "I won't answer right away, but by 6 pm.",
                "I'll answer right away: no, the price doesn't change.",
                "If I reply right away at night, you'll expect it always.",
                "Should I reply right away?",
                "Tell me everything, I'm listening.",
                "I always reply within two hours.",
                "I always answer, but not at night.",
                "I don't always answer.",
            ],
        ),
    },
    "boundary": {
        "it": (
            [
                "Stasera non rispondo: ci sentiamo domani alle 10.",
                "Rispondo sempre entro due ore.",
                "Rispondo sempre, ma non di notte.",
            ],
            ["Stasera ci vediamo.", "Di notte dormo poco."],
        ),
        "en": (
            [
                "I won't answer tonight: let's talk tomorrow at 10.",
                "I always reply within two hours.",
                "I always answer, but not at night.",
            ],
            ["See you tonight.", "At night I sleep badly."],
        ),
    },
    "advice": {
        "it": (
            [
                "La mia raccomandazione è chiara: le americane restano dove sono.",
                "Io terrei, ma alla fine decide lei.",
                "Mi permetto di suggerirle, se non le dispiace, di aspettare un po'.",
                "Aspetterei a vendere fino a marzo.",
                "Io non venderei, ma ovviamente decide lei.",
            ],
            [
                "La mia raccomandazione le arriva domani.",
                "Ci terrei a dirle una cosa.",
                "La terrei aggiornata ogni venerdì.",
            ],
        ),
        "en": (
            [
                "My recommendation is clear: the US shares stay where they are.",
                "I'd hold, but in the end it's your call.",
                "If you don't mind my suggesting it, you might wait a bit.",
                "I would wait until March before selling.",
                "I wouldn't sell, but of course it's your call.",
            ],
            ["Would you hold the line a moment?", "My recommendation reaches you tomorrow."],
        ),
    },
    "hesitant": {
        "it": (
            [
                "Io terrei, ma alla fine decide lei.",
                "Non ho dubbi: tenga le azioni. Però poi veda lei.",
                "Io non venderei, ma ovviamente decide lei.",
                "Mi permetto di suggerirle, se non le dispiace, di aspettare un po'.",
            ],
            [
                "Decida lei il giorno dell'incontro: martedì o giovedì?",
                "Le permetto di vedere i conti.",
                "Se non le dispiace, ci sentiamo domani alle 9.",
            ],
        ),
        "en": (
            [
                "I'd hold, but in the end it's your call.",
                "I'm sure: hold the shares. But it's up to you.",
                "I wouldn't sell, but of course it's your call.",
                "If you don't mind my suggesting it, you might wait a bit.",
            ],
            [
                "You pick the day for the meeting: Tuesday or Thursday?",
                "I'll let you see the figures.",
                "If you don't mind, let's talk tomorrow at 9.",
            ],
        ),
    },
    "paraphrase": {
        "it": (["Quindi non vi serve solo un sito: vi serve qualcuno con cui confrontarvi."], []),
        "en": (
            ["So you don't just need a website: you need someone to think it through with."],
            [],
        ),
    },
}

for _move, _by_lang in GRADER_REVIEW_CASES.items():
    for _lang, (_good, _bad) in _by_lang.items():
        _known_good, _known_bad = CASES[_move][_lang]
        CASES[_move][_lang] = (_known_good + _good, _known_bad + _bad)


# The after-hours caller's boundary (article 001: a stranger calls after 21:00, and is calmly
# asked not to call at night): refusing the call at this hour, or sending him to the office in
# working time, is the boundary the card rewards. A call the trainee promises to make tomorrow
# is a commitment, not a boundary, unless the same message refuses tonight.
AFTER_HOURS_CASES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "boundary": {
        "it": (
            [
                "A quest'ora non rispondo.",
                "A quest’ora non rispondo al telefono, mi dispiace.",
                "Non rispondo a quest'ora: è una regola che ho per tutti.",
                "Chiami domani in studio.",
                "Mi chiami domani in studio, dalle nove.",
                "Chiamami domani in ufficio, ne parliamo con calma.",
                "Se mi chiama domattina in studio, la ascolto volentieri.",
                "Può chiamarmi lunedì allo studio.",
                "Ti chiamo domani: stasera no.",
            ],
            [
                "Ti chiamo domani.",
                "La richiamo domani mattina con la risposta.",
                "Domani la chiamo in studio.",
                "Ti chiamo domani in studio con i numeri.",
                "Chiami pure domani, se vuole.",
                "Non rispondo mai male ai clienti.",
                "A quest'ora di solito rispondo io.",
                "Domani in studio ne parliamo con calma.",
            ],
        ),
        "en": (
            [
                "I don't take calls at this hour.",
                "I don’t answer the phone at this hour, I'm sorry.",
                "At this hour I don't take calls: it's a rule I have for everyone.",
                "Call my office tomorrow.",
                "Please call my office tomorrow, from nine.",
                "Call me at the office tomorrow, we'll talk it through calmly.",
                "If you ring the office tomorrow morning, I'll gladly hear you out.",
                "You can call me on Monday at the office.",
                "I'll call you tomorrow: not tonight.",
            ],
            [
                "I'll call you tomorrow.",
                "I'll call you tomorrow morning with the answer.",
                "I'll call your office tomorrow.",
                "I'll call you tomorrow at the office with the figures.",
                "Call me tomorrow if you like.",
                "I don't take calls personally, my assistant does.",
                "At this hour I usually answer myself.",
                "Tomorrow at the office we'll talk it through calmly.",
            ],
        ),
    },
}

# Sessions played by hand (2026-12-07): owning up to one's own part, said with a "maybe",
# looks at oneself first and is not the hesitant tone; "maybe" about the advice still is.
HAND_PLAY_CASES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "self_examine": {
        "it": (
            [
                "Forse anche io ti ho mandato troppe mail lunghe.",
                "Magari anch'io avrei dovuto chiamarti prima.",
                "Mi sa che anche io non sono stato così chiaro.",
            ],
            ["Forse anche lei dovrebbe tenerli.", "Anche io ho un quaderno."],
        ),
        "en": (
            [
                "Maybe I've also been sending you too many long emails.",
                "Perhaps I overloaded you with messages.",
                "Maybe I've been pushing too hard.",
            ],
            ["Maybe you've been sending too many emails.", "I've also been to that warehouse."],
        ),
    },
    "email_channel": {
        "it": (
            ["Le mando una mail con le fatture."],
            ["Forse anche io ti ho mandato troppe mail."],
        ),
        "en": (
            ["It's been a hard month: I'll send you an email about the invoices."],
            ["Maybe I've also been sending you too many long emails."],
        ),
    },
    "hesitant": {
        "it": (
            [
                "Forse potrebbe tenerli, ma decida lei.",
                # a bare "non so," as a hedge, the decision handed back
                "Ok ok, scusa, non so, dimmi tu cosa preferisci.",
                "Boh, fai tu.",
            ],
            [
                "Forse anche io ti ho mandato troppe mail lunghe.",
                "Magari anch'io avrei dovuto chiamarti prima.",
                "Non so cosa sia successo, verifico subito.",
                "Dimmi tu quando ti va bene la chiamata di martedì.",
            ],
        ),
        "en": (
            [
                "Maybe you could keep them, I'm not sure.",
                "Ok ok, sorry, I don't know, you tell me what you prefer.",
                "Dunno, you decide.",
            ],
            [
                "Maybe I've also been sending you too many long emails.",
                "Perhaps I overloaded you with messages.",
                "I don't know what happened, I'll check right away.",
                "You tell me when Tuesday's call suits you.",
            ],
        ),
    },
    # Goodbyes with a first name, "ciao", "bye", "a presto", "take care", a hang-up; still only
    # at the end of the message, and a bare "ci sentiamo martedì alle 10" stays a plan.
    "close_call": {
        "it": (
            [
                "Buonanotte Davide.",
                "Ciao Davide, a domani!",
                "A presto!",
                "Ok grazie, ciao",
                "Perfetto, allora a lunedì!",
                "Va bene Franco, si riguardi, ci sentiamo presto.",
                "Ok, ciao Gianni, ci vediamo domani",
                "Buonanotte Davide, ci sentiamo domani.",
                "Ciao Davide, ci sentiamo martedì alle 10.",
                "Va bene, basta, le chiudo il telefono.",
            ],
            [
                "Ciao Davide!",
                "Ciao Davide, come stai?",
                "Ci sentiamo martedì alle 10.",
                "Ciao Davide, ci sentiamo martedì alle 10 per il preventivo.",
                "Rimandiamo a domani.",
                "Buonanotte Davide, a domani allora, ci sentiamo per il preventivo.",
                "Le chiudo la pratica entro venerdì.",
                "Ci penso io, ciao ciao ai problemi col modulo?",
            ],
        ),
        "en": (
            [
                "Good night Davide.",
                "Bye Davide, see you tomorrow!",
                "Talk soon!",
                "ok thx, gotta go, bye",
                "Ok thanks, goodbye Massimo.",
                "Alright Franco, take care, speak soon.",
                "OK, bye Gianni, see you tomorrow",
                "Good night Davide, talk tomorrow.",
                "Bye Davide, talk Tuesday at 10.",
                "Fine, whatever, I'm hanging up now.",
                "bye",
            ],
            [
                "Hey Davide!",
                "Hi Davide, how are you?",
                "Talk Tuesday at 10.",
                "Bye Davide, see you Monday at 9 for the review.",
                "Let's push it to tomorrow.",
                "I'll take care of it.",
                "Take care of the invoices first, then we'll see.",
                "Goodbye? We haven't finished.",
            ],
        ),
    },
    # A polite "not at this hour" with the time to call back, off the clock, a fixed daily slot;
    # promising to call oneself is a commitment, not a boundary.
    "boundary": {
        "it": (
            [
                "Non faccio chiamate di lavoro a quest'ora.",
                "Mi richiami domani dopo le 9.",
                "Ho finito la giornata, mi chiami domattina.",
                "Per il resto ci sentiamo ogni giorno alle 17 per dieci minuti.",
            ],
            [
                "Ti chiamo domani.",
                "Ti richiamo domani dopo le 9.",
                "Faccio chiamate tutto il giorno.",
                "Mi richiami pure quando vuole.",
                "Ci sentiamo ogni tanto.",
            ],
        ),
        "en": (
            [
                "I don't do work calls this late.",
                "sorry its 10pm, i dont do work calls this late.",
                "Please call tomorrow after 9.",
                "I'm off the clock, call me in the morning.",
                "For everything else we talk every day at 5 for ten minutes.",
            ],
            [
                "I'll call you tomorrow.",
                "I'll call tomorrow after 9.",
                "I can call you in the morning.",
                "I make calls all day.",
                "Feel free to call me any time.",
                "We talk every now and then.",
            ],
        ),
    },
    # Owning up ("that's on me") is not free work; "same budget" without "on the"; an exception
    # scoped to real emergencies is a boundary; taking the night call and inviting the next one is.
    "gives_in": {
        "it": (
            [
                "Va bene, nessun problema, facciamo il configuratore 3D per la fiera, stesso "
                "budget.",
                "Questa la offro io.",
                "Ok ok, mi dica velocemente allora, cosa dice questa clausola?",
                "Mi richiami pure quando vuole.",
                "Mi richiami pure domani sera, se le serve altro.",
            ],
            [
                "Hai ragione, è colpa mia.",
                "Per le urgenze vere, tipo il sito giù, mi chiami quando vuoi; per il resto ci "
                "sentiamo ogni giorno alle 17 per dieci minuti.",
                "Potremmo farlo, ma allo stesso budget servono due mesi.",
                "Mi richiami pure domani in studio.",
                "Mi dica con calma cosa è successo.",
            ],
        ),
        "en": (
            [
                "Sure, no problem, we'll build the 3D configurator for the fair, same budget.",
                "Fine, okay, we'll do the configurator for the fair, same budget, no problem.",
                "This one's on me.",
                "The extra page is on me.",
                "OK, go ahead, quickly, what's the clause about?",
                "Call me any time.",
                "Sure, feel free to call me tomorrow evening if anything else comes up.",
            ],
            [
                "You're right, that's on me.",
                "That one's on me, I should have checked the form.",
                "For real emergencies call me any time; for everything else we talk every day "
                "at 5 for ten minutes.",
                "We could do it, but on the same budget it would take two months.",
                "Feel free to call the office tomorrow morning.",
                "Take your time and tell me what happened.",
            ],
        ),
    },
    # Counter-attacks in English too (the Italian twins were found), and "I have other clients".
    "offence": {
        "it": (
            [
                "Non c'è bisogno di insultarmi.",
                "Non sono il suo servo.",
                "Non mi parli così.",
                "Davide, devi capire che ho anche altri clienti e non posso stare dietro a tutto.",
                "Guardi, anch'io ho stipendi da pagare, non posso fare da banca a tutti.",
                "Gianni, di nuovo in ritardo?",
            ],
            [
                "Ho anche altri clienti che usano il calendario condiviso.",
                "Non c'è bisogno di scusarsi.",
                "Non sono il suo avvocato, ma posso indicarle un collega.",
                "Mi parli pure del contratto.",
                "Il programmatore è di nuovo in ritardo?",
                "La banca non può fare da garante.",
                # answering "lo studio non è una banca" in kind is not a counter-attack
                "No, non siamo una banca, ma troviamo un equilibrio.",
            ],
        ),
        "en": (
            [
                "There's no need to insult me.",
                "I'm not your servant.",
                "How dare you!",
                "Don't you talk to me like that!",
                "You have to understand I have other clients too.",
                "Look, I have salaries to pay too, I can't be everyone's bank.",
                "Gianni, late again?",
            ],
            [
                "I have other clients too who use the shared calendar.",
                "There's no need to apologise.",
                "I'm not your lawyer, but I can suggest a colleague.",
                "Talk to me about the contract.",
                "Is the developer late again?",
                "The bank can't act as guarantor.",
                "No, we're not a bank, but let's find a balance.",
            ],
        ),
    },
    "apology": {
        "it": (
            ["Mi scusi se sono sembrato brusco.", "Non volevo offenderla."],
            ["Mi scusi se insisto, ma la fattura è scaduta.", "Non volevo disturbarla."],
        ),
        "en": (
            ["Sorry if that came across badly.", "I didn't mean to upset you."],
            ["I'm sorry if you felt that way.", "I didn't mean to bother you so late."],
        ),
    },
    # Money named as a statement of account or the amounts still open.
    "payment_talk": {
        "it": (
            [
                "Le mando per mail l'estratto conto con quanto manca.",
                "Le scrivo una mail con gli importi ancora aperti.",
                "Mi dice quanto manca da saldare?",
            ],
            ["Quanto manca alla fiera?", "Il conto alla rovescia per la fiera è partito."],
        ),
        "en": (
            [
                "Fine, I'll email you the statement so you have it in writing.",
                "I'll drop you an email with the outstanding amounts.",
                "Can you tell me what's still owed?",
            ],
            ["Your statement on the phone was clear.", "What's still missing for the fair?"],
        ),
    },
    # A deadline set for the client ("I need them settled by…") is a demand, not a promise.
    "commitment": {
        "it": (
            ["Le mando la bozza entro fine mese."],
            [
                "Provveda al saldo entro fine mese.",
                "Le chiedo di provvedere al saldo entro fine mese.",
            ],
        ),
        "en": (
            ["I'll send you the draft by the end of the month."],
            [
                "The invoices are still unpaid, I need them settled by the end of the month.",
                "Please settle the invoices by Friday.",
            ],
        ),
    },
    # Talking down ("you need to learn to use a diary"), not lending organisation; a bleak
    # forecast is dwelling on the problem.
    "lecture": {
        "it": (
            [
                "Devi imparare a usare un'agenda, non è difficile.",
                "Tutti i miei clienti ce l'hanno.",
            ],
            [
                "Imparare a usare il calendario condiviso è facile, ti faccio vedere io.",
                "Tutti i miei clienti hanno un referente diverso.",
            ],
        ),
        "en": (
            [
                "You really need to learn to use a diary, it's not hard.",
                "All my other clients manage.",
            ],
            [
                "Learning to use the shared calendar is easy, I'll show you.",
                "All my other clients have a different contact person.",
            ],
        ),
    },
    "organization": {
        "it": (
            ["Ti creo un calendario condiviso con i promemoria."],
            ["Devi imparare a usare un'agenda, non è difficile."],
        ),
        "en": (
            ["I'll set up a shared calendar with reminders."],
            ["You really need to learn to use a calendar, it's not hard."],
        ),
    },
    "problem_dwelling": {
        "it": (
            ["Se continui così il progetto fallisce, te lo dico chiaramente."],
            ["Se continui così con i promemoria, il progetto va avanti bene."],
        ),
        "en": (
            ["If you carry on like this the project will fail, I'm telling you straight."],
            ["If you carry on like this we'll finish early."],
        ),
    },
    # Checking the complaint with the client's own attempt, or since when it happens.
    "check_founded": {
        "it": (
            [
                "Da quando non arrivano le richieste?",
                "Hai provato tu a compilare il modulo?",
                "Mi fai vedere cosa succede?",
            ],
            ["Ha provato a fare un giro in fiera?", "Mi fai vedere le tue composizioni migliori?"],
        ),
        "en": (
            [
                "Since when have the requests stopped?",
                "Did you try filling in the form yourself from your phone?",
                "Can you show me what happens when you fill in the form?",
            ],
            [
                "Since when do you run the company?",
                "Have you tried our new service?",
                "Can you show me your best-selling layouts?",
            ],
        ),
    },
    # "Mi dice due parole sull'azienda?" is the introduce-then-ask opener; Italian puts the subject
    # first ("E la banca come si sta comportando?").
    "open_question": {
        "it": (
            [
                "Le rispondo volentieri, ma prima mi dice due parole sull'azienda?",
                "Mi parla un po' di lei?",
                "E i suoi ragazzi come stanno prendendo la situazione?",
                "E la banca come si sta comportando?",
            ],
            ["Il preventivo come concordato?", "Mi dice di sì?", "Non mi parli così."],
        ),
        "en": (
            [
                "Could you tell me a bit about the company?",
                "And your guys, how are they taking it?",
                "And the bank, how is it behaving?",
            ],
            ["The quote as agreed?", "Will you say yes?", "Don't talk to me like that."],
        ),
    },
    "need_question": {
        "it": (
            [
                "Come se la cava con tutto questo?",
                "Come la sta vivendo?",
                "E i suoi ragazzi come stanno prendendo la situazione?",
            ],
            ["Come se la cava con il nuovo gestionale, lo usa già?", "Come sta andando la fiera?"],
        ),
        "en": (
            [
                "How are you getting on with all this?",
                "How are you holding up with everything?",
                "And your guys, how are they taking it?",
            ],
            [
                "How are you getting on with the new software, do you use it yet?",
                "How's the fair going?",
            ],
        ),
    },
    # A "maybe, if we put our backs into it" is hesitant, not a solution.
    "solution": {
        "it": (
            ["Mettiamo il calendario condiviso."],
            ["Forse riusciamo a recuperare, non so, magari se ci mettiamo d'impegno."],
        ),
        "en": (
            ["Let's put the shared calendar in place."],
            ["Maybe we'll catch up, I don't know, if we really put our minds to it."],
        ),
    },
    # The night-time consultation ("non firmi se…", "you can negotiate it"); a contract as the
    # subject matter is not the trainee's terms.
    "advice": {
        "it": (
            [
                "Non firmi se la penale non è scritta.",
                "Io non firmerei.",
                "Eh, dipende dal contratto, in generale però la penale la può trattare.",
            ],
            ["La penale la può trattare?", "Non firmo niente stasera, ne parliamo domani."],
        ),
        "en": (
            [
                "I wouldn't sign unless the amount is clearly stated.",
                "Don't sign unless the penalty is written down.",
                "It depends on the contract, but you can negotiate it.",
            ],
            ["Can you negotiate it?", "I don't sign anything tonight, we'll talk tomorrow."],
        ),
    },
    "terms": {
        "it": (["Le mando il contratto domani."], ["Eh, dipende dal contratto."]),
        "en": (["I'll send you the contract tomorrow."], ["Well, it depends on the contract."]),
    },
    "reassurance": {
        "it": (["Fammi verificare bene prima di rispondere."], ["Fammi verificare la fattura."]),
        "en": (
            ["Hi Massimo, let me check properly before answering."],
            ["Let me check the invoice."],
        ),
    },
    "leave": {
        "it": (["Gianni, così non si può lavorare."], ["Così si può lavorare bene."]),
        "en": (
            ["Gianni, this is getting impossible to work with."],
            ["The old booking system was impossible to use."],
        ),
    },
}


# Review A (yes-then-sells, needs-approval, free-advice-seeker): hedged advice, free profile tips,
# reproaches for doing their own thing, the "not for free" boundary, goodbyes; joined to the
# hand-played cases (a dict of its own so that its moves do not replace theirs).
REVIEW_A_CASES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "advice": {
        "it": (
            [
                "Forse potrebbe valutare di tenere i titoli americani, ma non so, veda lei.",
                "Forse io terrei.",
                "Allora, la foto mettila professionale, sfondo neutro.",
                "Nel titolo scrivi 'consulente immobili commerciali'.",
                "Pubblica tre volte a settimana, la mattina presto.",
                "Gli hashtag massimo cinque.",
            ],
            [
                # reassurance, not advice
                "Non dovete dimostrare niente a nessuno: il sito lo facciamo insieme, passo passo.",
                "Potrebbe valutare di tenere i titoli?",
                "Se potesse valutare di vendere mi farebbe piacere saperlo.",
                "Mettila pure in calendario.",
                "Cosa scrivi nel titolo?",
                "Io pubblico tre volte a settimana.",
            ],
        ),
        "en": (
            [
                "I'd probably keep the US shares for now, but it's up to you.",
                "You could maybe hold the US shares a bit longer, but honestly it's your call.",
                "Your photo should be a professional headshot, plain background, smiling.",
                "And put 'commercial property consultant' in the headline.",
                "Post 3 times a week, around 8am.",
                "Use 3-5 hashtags max.",
            ],
            [
                "I'd probably need a day to look at it.",
                "If you could maybe hold the line a second.",
                "Your payment should arrive tomorrow.",
                "Did you put the logo in the headline?",
                "I post 3 times a week myself.",
                # a reproach and a complaint, not advice (offence)
                "You should have asked me.",
                "You have to understand I have other clients too.",
            ],
        ),
    },
    "hesitant": {
        "it": (
            ["È lei che decide alla fine.", "Io li terrei, veda lei.", "Io li terrei. Decida lei."],
            ["Veda lei stesso i numeri.", "Chi è che decide, lei o sua moglie?"],
        ),
        "en": (
            ["You're the one who decides, in the end.", "I'd hold them, your call."],
            ["Who decides, you or your wife?", "Your call is important to us."],
        ),
    },
    "gives_in": {
        "it": (
            ["Certo, mandami pure tutto quello che vuoi, ci do un'occhiata."],
            ["Mandami pure la fattura entro venerdì."],
        ),
        "en": (
            ["Sure, send me whatever you want, I'll take a look."],
            ["Send me the invoice by Friday."],
        ),
    },
    "close_call": {
        "it": (
            ["Alla prossima!", "Buona giornata a tutti!", "Grazie di tutto. Ciao!"],
            ["Alla prossima riunione ne parliamo.", "Ciao Davide!"],
        ),
        "en": (
            ["Alright, see you!", "See ya.", "Have a good one!", "Catch you later."],
            ["See you on Monday at 9, then we decide.", "Hi Laura!"],
        ),
    },
    "offence": {
        "it": (
            [
                "Dovevate chiedermelo prima.",
                "Ma perché l'avete fatto senza dirmelo?",
                "Così non si lavora.",
                "Vabbè, fate come volete, tanto poi vi lamentate.",
                "Perché continua a fare così?",
            ],
            [
                "Potete farlo anche senza chiedermelo.",
                "Perché continua a investire in azioni americane?",
            ],
        ),
        "en": (
            [
                "You should have asked me.",
                "Why did you do that without asking me?",
                "You posted it without asking me.",
                "This is no way to work.",
                "Why do you keep doing this?",
                "You have to understand I have other clients too.",
            ],
            [
                "You can go ahead without asking me.",
                "Why do you keep your savings in cash?",
            ],
        ),
    },
    "lecture": {
        "it": (
            [
                "Guardate che così rischiate di rovinare l'immagine dell'azienda.",
                "Onestamente il banner di tuo nipote è fatto male, si vede che è un dilettante.",
                "Quella pagina non è professionale.",
            ],
            [
                "Non sono un dilettante, mi creda.",
                "Mi ha fatto male sentirlo.",
                "Ho fatto male a non chiamarti.",
            ],
        ),
        "en": (
            [
                "Honestly your nephew's banner is pretty amateurish, it's hurting your brand.",
                "That page looks unprofessional.",
                "You risk ruining the company's image.",
            ],
            ["I'm an amateur photographer myself.", "You're not hurting anyone."],
        ),
    },
    "boundary": {
        "it": (
            [
                "Fabrizio, non posso continuare a rispondere gratis, è il mio lavoro.",
                "Le domande sul profilo le vediamo nella sessione di consulenza, non qui in chat.",
                "Mi spiace, non lavoro nei giorni festivi.",
            ],
            ["Posso continuare a rispondere gratis, tranquillo.", "Lavoro anche nei festivi."],
        ),
        "en": (
            [
                "Look, I can't keep answering questions for free, this is my job, you know.",
                "Profile questions we go through in a paid session, not here in the chat.",
                "Sorry, I don't work on public holidays.",
            ],
            [
                "I can keep answering your questions, for free, no problem.",
                "I work on public holidays too.",
            ],
        ),
    },
    "empathy": {
        "it": (["Capisco, dev'essere stato un periodo pesante."], ["Da esperto le dico che no."]),
        "en": (
            ["I can tell you're worried.", "I can tell you've had a long week."],
            [
                "As an expert I can tell you that word of mouth is not enough anymore.",
                "I can tell you the price tomorrow.",
            ],
        ),
    },
    "alternative": {
        "it": (
            ["Lunedì alle 18 è il primo momento libero."],
            ["Lunedì alle 18 sono libero anche io, ci vediamo lì."],
        ),
        "en": (
            ["Monday at 6pm is the earliest I can do."],
            ["Monday at 6pm I can do the call with you."],
        ),
    },
    "leave": {
        "it": (
            ["Se continua così non so se ha senso che io la segua."],
            ["Non so se ha senso vendere adesso."],
        ),
        "en": (
            ["I'm not sure it makes sense for me to keep advising you."],
            ["I'm not sure it makes sense to sell now."],
        ),
    },
    "commitment": {
        "it": (
            ["Ti chiamo domani.", "Ogni venerdì alle 12 ti mando un riepilogo."],
            ["Forse ti chiamo domani.", "Ti chiamo domani?"],
        ),
        "en": (
            ["I'll call you tomorrow.", "Every Friday by 12 I'll send you a written summary."],
            ["Maybe I'll call you tomorrow.", "Shall I call you tomorrow?"],
        ),
    },
    "organization": {
        "it": (["Ogni venerdì alle 12 ti mando un riepilogo."], ["Ti mando la foto."]),
        "en": (
            ["Every Friday by 12 I'll send you a written summary."],
            ["In summary, the plan works."],
        ),
    },
    "self_examine": {
        "it": (["Questa è colpa mia, ho sbagliato io."], ["Questa la offro io."]),
        "en": (["That one's on me, I got the date wrong."], ["This one's on me."]),
    },
}


for _cases in (AFTER_HOURS_CASES, HAND_PLAY_CASES, REVIEW_A_CASES):
    for _move, _by_lang in _cases.items():
        for _lang, (_good, _bad) in _by_lang.items():
            _known_good, _known_bad = CASES[_move][_lang]
            CASES[_move][_lang] = (_known_good + _good, _known_bad + _bad)


POSITIVE = [
    pytest.param(move, lang, text, id=f"{move}-{lang}-{i}")
    for move, by_lang in CASES.items()
    for lang, (good, _) in by_lang.items()
    for i, text in enumerate(good)
]
NEGATIVE = [
    pytest.param(move, lang, text, id=f"{move}-{lang}-{i}")
    for move, by_lang in CASES.items()
    for lang, (_, bad) in by_lang.items()
    for i, text in enumerate(bad)
]

# Moves found only at the end of a message: nothing may follow them.
ENDS_THE_MESSAGE = {"close_call"}


def _moves_only() -> dict[str, Move]:
    data = yaml.safe_load((PROMPTS_DIR / "moves.yaml").read_text(encoding="utf-8"))
    return {m.id: m for m in (Move.model_validate(d) for d in data)}


@pytest.fixture(scope="module")
def moves() -> dict[str, Move]:
    # The full catalogue also reads the persona cards, written in parallel: when one of them
    # is broken (or none exists yet), test the moves on their own.
    try:
        return load_catalog().moves
    except CatalogError:
        return _moves_only()


@pytest.fixture(scope="module")
def techniques() -> list[Technique]:
    data = yaml.safe_load((PROMPTS_DIR / "techniques.yaml").read_text(encoding="utf-8"))
    return [Technique.model_validate(t) for t in data]


def test_every_move_has_cases(moves: dict[str, Move]) -> None:
    assert set(CASES) == set(moves)
    for move, by_lang in CASES.items():
        for lang in ("it", "en"):
            good, bad = by_lang[lang]
            assert good and bad, f"{move}/{lang} needs positive and negative examples"


@pytest.mark.parametrize(("move", "lang", "text"), POSITIVE)
def test_detected(moves: dict[str, Move], move: str, lang: str, text: str) -> None:
    assert move in move_ids(detect(text, lang, moves)), f"{move} not found in {text!r}"


@pytest.mark.parametrize(("move", "lang", "text"), NEGATIVE)
def test_not_detected(moves: dict[str, Move], move: str, lang: str, text: str) -> None:
    found = [d.quote for d in detect(text, lang, moves) if d.move == move]
    assert not found, f"{move} wrongly found in {text!r}: {found}"


@pytest.mark.parametrize(("move", "lang", "text"), POSITIVE)
def test_quote_is_the_sentence_holding_the_match(
    moves: dict[str, Move], move: str, lang: str, text: str
) -> None:
    # Wrap the example in other sentences, so that the quote must pick the right one (a move
    # that by definition ends the message, such as a goodbye, only gets a sentence before it).
    after = "" if move in ENDS_THE_MESSAGE else " Ok. "
    message = f"Buongiorno.\n{text}{after}" if lang == "it" else f"Hello.\n{text}{after}"
    spans = sentences(message)
    patterns = [re.compile(p, re.IGNORECASE) for p in moves[move].patterns[lang]]
    hits = [d for d in detect(message, lang, moves) if d.move == move]
    assert hits
    for d in hits:
        assert d.quote == message[d.start : d.end]
        assert d.quote in message
        # one sentence, or a sentence and the "Is that right?" that checks it
        sentence = (d.start, d.end) in spans
        checked = any(a[0] == d.start and b[1] == d.end for a, b in pairwise(spans))
        assert sentence or checked, f"{d.quote!r} is not one sentence of {message!r}"
        assert d.quote in text, f"{d.quote!r} comes from outside the example {text!r}"
        assert any(d.start <= m.start() < d.end for p in patterns for m in p.finditer(message)), (
            f"no match of {move} starts inside {d.quote!r}"
        )


def test_quotes_in_a_longer_message(moves: dict[str, Move]) -> None:
    message = (
        "Buongiorno, grazie della pazienza. Le consiglio di non vendere adesso! "
        "Che ne pensa?\nLe mando una mail con la fattura."
    )
    found = {d.move: d.quote for d in detect(message, "it", moves)}
    assert found["thanks"] == "Buongiorno, grazie della pazienza."
    assert found["advice"] == "Le consiglio di non vendere adesso!"
    assert found["invite_discussion"] == "Che ne pensa?"
    assert found["email_channel"] == "Le mando una mail con la fattura."
    assert found["payment_talk"] == "Le mando una mail con la fattura."


def test_one_detection_per_move_and_sentence(moves: dict[str, Move]) -> None:
    text = "Mi scuso, chiedo scusa, mi dispiace davvero. I’m sorry, my apologies."
    hits = [d for d in detect(text, "it", moves) if d.move == "apology"]
    assert len(hits) == 1


def test_curly_and_straight_apostrophes(moves: dict[str, Move]) -> None:
    for text in ("Don't worry, we’ll get there.", "Don’t worry, we'll get there."):
        assert "reassurance" in move_ids(detect(text, "en", moves))
    for text in ("Rispondo entro 24 ore, in orario d’ufficio.", "In orario d'ufficio."):
        assert "boundary" in move_ids(detect(text, "it", moves))


def test_a_remembered_message_follows_the_patterns_it_is_read_with(
    moves: dict[str, Move],
) -> None:
    text = "Don't worry, we'll get there. Ti chiamo domani."
    assert "reassurance" in move_ids(detect(text, "en", moves))
    first = detect(text, "en", moves)
    first.clear()  # a caller's list is its own: the remembered answer is not changed
    assert "reassurance" in move_ids(detect(text, "en", moves))
    edited = dict(moves)
    edited["reassurance"] = moves["reassurance"].model_copy(
        update={"patterns": {**moves["reassurance"].patterns, "en": [r"\bnever matches\b"]}}
    )
    assert "reassurance" not in move_ids(detect(text, "en", edited))
    assert "reassurance" in move_ids(detect(text, "en", moves))


# --- the technique catalogue -------------------------------------------------------------

DOMAIN_TECHNIQUES = {
    "adapt-style", "self-examine", "money-in-person", "segment-and-plan", "pause-breathe",
    "check-founded", "apologize-remedy", "sustainable-alternative", "invite-discussion",
    "no-superiority", "ask-dont-tell", "extended-needs", "calm-presence", "no-offence-guide",
    "set-boundaries", "build-trust-reliability", "absorb-not-amplify",
    "solutions-not-problems", "lend-organization", "prevent-errors", "state-terms",
    "listen-first",
}  # fmt: skip


def test_techniques_cover_the_domain(techniques: list[Technique]) -> None:
    ids = [t.id for t in techniques]
    assert len(ids) == len(set(ids))
    assert set(ids) == DOMAIN_TECHNIQUES


def test_techniques_name_known_moves(techniques: list[Technique], moves: dict[str, Move]) -> None:
    for t in techniques:
        assert t.cues.moves, f"{t.id} has no cue moves"
        for combo in (*t.cues.moves, *t.anti_patterns.moves):
            unknown = [m for m in combo.split("+") if m not in moves]
            assert not unknown, f"{t.id}: unknown moves {unknown}"


@pytest.mark.parametrize("lang", ["it", "en"])
def test_better_phrasing_shows_the_technique(
    techniques: list[Technique], moves: dict[str, Move], lang: str
) -> None:
    for t in techniques:
        present = move_ids(detect(t.better_phrasing(lang), lang, moves))
        assert any(matches(c, present) for c in t.cues.moves), (
            f"{t.id}/{lang}: no cue in {t.better_phrasing(lang)!r} (moves {sorted(present)})"
        )
        bad = [c for c in t.anti_patterns.moves if matches(c, present)]
        assert not bad, f"{t.id}/{lang}: better phrasing shows anti-patterns {bad}"


def test_context_patterns_compile(techniques: list[Technique]) -> None:
    for t in techniques:
        for lang, patterns in (t.context or {}).items():
            assert lang in ("it", "en")
            for p in patterns:
                re.compile(p, re.IGNORECASE)


def test_context_patterns_treat_both_languages_alike() -> None:
    """A technique's `context` matches a client line in Italian exactly when it matches the same
    line in English, for every card that grades the technique: the same session is graded the
    same way in both languages."""
    try:
        catalog = load_catalog()
    except CatalogError:
        pytest.skip("the persona cards do not load")
    uneven = []
    for technique in catalog.techniques.values():
        if not technique.context:
            continue
        patterns = {
            lang: [re.compile(p, re.IGNORECASE) for p in technique.context.get(lang, [])]
            for lang in ("it", "en")
        }
        for persona in catalog.personas.values():
            if technique.id not in persona.techniques:
                continue
            for beat, lines in persona.lines.items():
                for line in lines:
                    hit = {
                        lang: any(
                            p.search(text) for p in patterns[lang] for text in line.messages(lang)
                        )
                        for lang in ("it", "en")
                    }
                    if hit["it"] != hit["en"]:
                        uneven.append((technique.id, persona.id, beat, line.messages("en")[0]))
    assert not uneven, uneven


# Client lines that put a technique in context (and lines that must not), for the situations the
# calibration showed missing: insults and hostile questions, a client repeating or pressing the
# same question, discount and free-advice requests, a client going their own way.
CONTEXT_CASES: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("no-offence-guide", "it"): (
        [
            "Che razza di professionista è lei? Un cafone, ecco cosa.",
            "Ma ci sta con la testa?",
            "Gliel'ho già chiesto: quanto ci vuole?",
            "Mi faresti uno sconticino?",
            "Un'ultima domanda veloce: meglio la mattina o la sera?",
            "Pensavamo di fare solo Facebook.",
            "Chiara ha già chiesto a un ragazzo del paese di fare la pagina.",
        ],
        ["Buongiorno, grazie per la proposta.", "Perfetto, ci sentiamo domani alle 10."],
    ),
    ("no-offence-guide", "en"): (
        [
            "What kind of professional hangs up on people? You're a boor.",
            "Are you all there?",
            "I've told you already: how long does it take?",
            "Could you do me a little discount?",
            "One more quick question: should I post every day?",
            "Actually we were thinking of Facebook only.",
            "We've already hired a lad from the village for the page.",
        ],
        ["Good morning, thanks for the proposal.", "Perfect, talk tomorrow at 10."],
    ),
    ("pause-breathe", "it"): (
        ["Che modi! Le chiedo solo due minuti.", "Ma chi si crede di essere?"],
        ["Buonasera, ha un minuto domani?", "Grazie, mi è stato utile."],
    ),
    ("pause-breathe", "en"): (
        ["Who treats people like this?", "How dare you hang up on me?"],
        ["Good evening, do you have a minute tomorrow?", "Thanks, that was useful."],
    ),
}


@pytest.mark.parametrize(("technique_id", "lang"), list(CONTEXT_CASES))
def test_context_recognises_the_situation(
    techniques: list[Technique], technique_id: str, lang: str
) -> None:
    technique = next(t for t in techniques if t.id == technique_id)
    patterns = [re.compile(p, re.IGNORECASE) for p in (technique.context or {})[lang]]
    in_context, out_of_context = CONTEXT_CASES[(technique_id, lang)]
    for line in in_context:
        assert any(p.search(line) for p in patterns), line
    for line in out_of_context:
        assert not any(p.search(line) for p in patterns), line


@pytest.mark.parametrize(
    ("lang", "text", "bare"),
    [
        (
            "it",
            "Mi dispiace che la pensi così. La mia risposta resta: domani alle 9, in studio.",
            "La mia risposta resta: domani alle 9, in studio.",
        ),
        (
            "en",
            "I'm sorry you see it that way. My answer stands: tomorrow at 9, at the office.",
            "My answer stands: tomorrow at 9, at the office.",
        ),
    ],
)
def test_calmly_restating_the_next_step_guides_the_client(
    moves: dict[str, Move], techniques: list[Technique], lang: str, text: str, bare: str
) -> None:
    """After an insult, acknowledging the client and restating a precise next step guides them;
    the bare step, with no acknowledgement, is not enough."""
    guide = next(t for t in techniques if t.id == "no-offence-guide")
    present = move_ids(detect(text, lang, moves))
    assert any(matches(combo, present) for combo in guide.cues.moves), present
    assert not any(matches(combo, present) for combo in guide.anti_patterns.moves), present
    without = move_ids(detect(bare, lang, moves))
    assert not any(matches(combo, without) for combo in guide.cues.moves), without
