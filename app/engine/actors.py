"""Actors voice the director's beat as the client's message(s).

The offline actor picks scripted lines from the persona card; it is deterministic for a
session seed. It answers what the trainee asked: a line whose `about` matches the trainee's
message comes first, the most specific match first; a line written to answer another
question comes after the untagged ones. Otherwise it says every line of a beat before it
repeats one (then the least said and least recent first), best fit for phase and mood
first. A second question on a topic it has answered gets another line on that topic, else a
filler, and only then the same answer, said as a repeat: the line's `again`, or a "Like I
said before…" of prompts/texts.yaml before it. It does not send a text twice in one turn,
nor a text of its previous turn, while the beat has another line; a burst stops short rather
than send again a message of the session. A line never contradicts what the client has said
(its `not_after` beats) nor asks what the trainee has answered (its `answered_by`) while its
beat has another, and the director's `lead` (the answer to a question just asked) is said
before the beat.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from app.catalog import Catalog, Language, Line, Mood, Persona, Text
from app.engine.director import ClientState, Directive
from app.engine.llm import CallRecord, LLMClient, LLMError, Prompt, render


@dataclass(frozen=True)
class Reply:
    """One client message with what produced it (stored as engine metadata)."""

    content: str
    beat: str
    meta: dict[str, object]


class Actor(Protocol):
    name: str

    def reply(
        self,
        *,
        persona: Persona,
        language: Language,
        state: ClientState,
        directive: Directive,
        history: list[tuple[str, str]],
        seed: int,
        calls: list[CallRecord] | None = None,
    ) -> Iterator[str | Reply]:
        """Yield text deltas as they are produced, then one `Reply` per finished message.

        `state` is the director's state after the turn; the actor may record the lines it
        used in `state.used_lines`: beat → the indices of the card's lines said for that
        beat, in the order said, a repeat appended again (stored with the state as JSON).
        `history` is the conversation so far, (role, content), the trainee's message last.
        Model calls are appended to `calls`. On failure the actor raises LLMError, whose
        `partial` holds the text of an unfinished message.
        """
        ...


_MOODS: tuple[Mood, ...] = ("cold", "neutral", "warm")


def _mood_distance(line: Line, mood: Mood) -> int:
    """How far a line's mood tag is from the client's mood: 0 the same mood, 1 untagged
    (fits any mood), 2 the next mood (neutral for a warm client), 3 the opposite one."""
    if line.mood == mood:
        return 0
    if line.mood is None:
        return 1
    return 1 + abs(_MOODS.index(line.mood) - _MOODS.index(mood))


def _pick(
    lines: list[Line],
    used: list[int],
    state: ClientState,
    rng: random.Random,
    clash: Callable[[Line], int] = lambda line: 0,
    asked: Callable[[Line], int] = lambda line: 0,
    settled: Callable[[Line], bool] = lambda line: False,
) -> int:
    """The line of a beat that answers the trainee, else the best for the client's mood and
    phase, the ones said least first.

    `used` lists the indices already said for this beat, in order (`state.used_lines[beat]`);
    `clash(line)` > 0 marks a line whose text was just said; `asked(line)` > 0 marks a line on
    the topic of the trainee's message (its `about` matches), the higher the more specific the
    match (`Topics.score`: the number of words of the longest keyword matched, so a phrase
    beats a single word). Lines are ranked by, in order:

    1. no clash: never the text just said, even when it answers (the beat's other lines do);
    2. fewest times said, where a line on topic said once comes after the unsaid lines that
       fit but before the others: a second question on a topic already answered gets
       another answer on that topic, else a filler (a line without `about`, unless its tone
       is the opposite of the client's mood: a cold deflection to a warm client), and only
       then the same answer again, which the actor says as a repeat (`OfflineActor`); it
       still comes before an answer to another question, but not a third time while the
       beat has lines said less, so the client does not loop on one line (play review,
       section 1; third play review: a word-for-word repeat reads like a bot);
    3. on topic, the most specific match first: among lines said as often, the one that
       answers what was asked, a line matching a phrase ("every week") before one matching
       a single word;
    4. not an answer to another question: a line without `about` (a filler, a deflection)
       before a line written for a topic the trainee did not ask about, which would restate
       a question nobody asked (second play review, N1);
    5. fewest times said (an unused line on topic before the one said once);
    6. the phase fits; 7. the mood fits (the client's mood, untagged, the next mood, the
       opposite one): an answer to the question asked beats a better tone;
    8. said least recently.

    Ties go to `rng`, so the same seed picks the same line. With no line on topic the order
    is: no clash, fewest said, untagged before tagged, phase, mood, recency.
    """
    if not lines:
        raise ValueError("a beat with no lines")  # the catalogue forbids it
    times = Counter(used)
    last = {index: position for position, index in enumerate(used)}

    said = beats_said(state)

    # an answer to this topic already said once: it may come again (the actor owns up to the
    # repeat), after any unsaid line that fits
    again = any(times[i] == 1 and asked(line) for i, line in enumerate(lines))

    def fits(i: int) -> bool:
        """An unsaid line that may take the place of an answer said before: one on topic, or
        a filler (no `about`) whose tone is not the opposite of the client's mood."""
        line = lines[i]
        return bool(asked(line)) or (
            line.about is None and (not again or _mood_distance(line, state.mood) < 3)
        )

    def rank(i: int) -> tuple[bool, int, tuple[int, int], int, bool, int, bool, int, int]:
        line = lines[i]
        # it would contradict what was said, or ask what the trainee has already answered
        barred = not said.isdisjoint(line.not_after) or settled(line)
        score = int(asked(line))
        stray = line.about is not None and not score  # the answer to another question
        if times[i] == 0:
            fresh = (0, 0 if fits(i) else 2)
        elif score and times[i] == 1:
            fresh = (0, 1)  # said once: after the unsaid lines that fit, before the others
        else:
            fresh = (times[i], 0)
        misfit = line.phase is not None and state.phase not in line.phase
        distance = _mood_distance(line, state.mood)
        return (
            barred,
            clash(line),
            fresh,
            -score,
            stray,
            times[i],
            misfit,
            distance,
            last.get(i, -1),
        )

    ranks = [rank(i) for i in range(len(lines))]
    best = min(ranks)
    return rng.choice([i for i, r in enumerate(ranks) if r == best])


def beats_said(state: ClientState) -> set[str]:
    """The beats the client has said so far: the offline actor records the lines it said,
    the llm one the beats it played."""
    return {beat for beat, indices in state.used_lines.items() if indices} | set(state.played)


def _settled(history: Sequence[tuple[str, str]], language: Language) -> Callable[[Line], bool]:
    """Whether a line asks what a trainee message of the session has already answered."""
    trainee = [content for role, content in history if role == "trainee"]

    def settled(line: Line) -> bool:
        topics = line.answered_by
        return topics is not None and any(topics.matches(text, language) for text in trainee)

    return settled


def _last_trainee(history: list[tuple[str, str]]) -> str:
    """The trainee's latest message ("" before the trainee has said anything)."""
    return next((content for role, content in reversed(history) if role == "trainee"), "")


def _previous_turn(history: list[tuple[str, str]]) -> set[str]:
    """The client's messages of the previous turn: the last run of client messages."""
    said: set[str] = set()
    for role, content in reversed(history):
        if role == "client":
            said.add(content.strip())
        elif said:
            break
    return said


class OfflineActor:
    """Plays the card's scripted lines: no network, same seed → same conversation."""

    name = "offline"

    def __init__(self, repeat: Sequence[Text]) -> None:
        """`repeat`: the lead-ins said before an answer given again; none, and such an answer
        comes back without one."""
        self.repeat = list(repeat)

    @classmethod
    def for_catalog(cls, catalog: Catalog) -> OfflineActor:
        """With the lead-ins of the catalogue's prompts folder (`repeat` in texts.yaml)."""
        return cls(list(catalog.texts.get("repeat", {}).values()))

    def reply(
        self,
        *,
        persona: Persona,
        language: Language,
        state: ClientState,
        directive: Directive,
        history: list[tuple[str, str]],
        seed: int,
        calls: list[CallRecord] | None = None,
    ) -> Iterator[str | Reply]:
        rng = random.Random(f"{seed}:{state.turn}:{directive.beat}")
        # the answer to the trainee's question first, when a scheduled beat takes the turn
        beats = [directive.lead] if directive.lead else []
        first = len(beats)  # the beat's own line: a burst only follows it
        beats.append(directive.beat)
        burst = persona.burst
        if burst and directive.end is None and state.meters[burst.meter] >= burst.min:
            extra = min(burst.max_extra, 1 + int((state.meters[burst.meter] - burst.min) // 20))
            beats += [burst.beat] * extra
        before = _previous_turn(history)
        now: set[str] = set()  # this turn's messages so far

        def clash(line: Line) -> int:
            texts = {text.strip() for text in line.messages(language)}
            return 2 if texts & now else 1 if texts & before else 0

        message = _last_trainee(history)
        said = {content.strip() for role, content in history if role == "client"}

        def asked(line: Line) -> int:
            return 0 if line.about is None else line.about.score(message, language)

        settled = _settled(history, language)
        for n, beat in enumerate(beats):
            used = state.used_lines.setdefault(beat, [])
            index = _pick(persona.lines[beat], used, state, rng, clash, asked, settled)
            line = persona.lines[beat][index]
            if n > first and (clash(line) or index in used):
                # a burst has run out of new things to say: it stops short rather than send a
                # message (a screenshot, a question) the client has sent before
                break
            meta: dict[str, object] = {"engine": self.name, "beat": beat, "line": index}
            texts = line.messages(language)
            if n <= first and index in used and asked(line):
                # the same answer to the same topic: said as a person repeating himself, in
                # the card's own words for it, else with a "come dicevo…" before the line
                again = line.again.messages(language) if line.again else []
                if again and not {text.strip() for text in again} & said:
                    texts = again
                    meta["again"] = True
                elif lead := self._repeat_lead(language, said, before | now, rng):
                    texts = [lead, *texts]
                    meta["again"] = True
            used.append(index)
            for text in texts:
                now.add(text.strip())
                yield text
                yield Reply(text, beat, dict(meta))

    def _repeat_lead(
        self, language: Language, said: set[str], recent: set[str], rng: random.Random
    ) -> str:
        """A short "as I said" for an answer given before (prompts/texts.yaml `repeat`): one
        the client has not `said` yet in the session if there is one, never one of the
        `recent` texts (this turn's and the previous one's); "" when there is none."""
        leads = [text(language) for text in self.repeat if text(language).strip() not in recent]
        fresh = [lead for lead in leads if lead.strip() not in said]
        return rng.choice(fresh or leads) if leads else ""


SEPARATOR = "\n---\n"  # the actor prompt asks for this line between messages sent in a row
EXAMPLES = 4  # example lines the actor prompt shows for a beat: the best few, not all of them


class _Splitter:
    """Cut a streamed reply into messages at SEPARATOR, holding back a possible partial one."""

    def __init__(self) -> None:
        self.buffer = ""
        self.sent = 0  # characters of the buffer already yielded as deltas

    def feed(self, text: str) -> list[tuple[str, bool]]:
        """What `text` completes, in order: (delta, False) for text to stream now, (message,
        True) for a finished message. A message's last delta comes before the message itself,
        so what is stored while it streams never takes text of the next message."""
        self.buffer += text
        out: list[tuple[str, bool]] = []
        while (cut := self.buffer.find(SEPARATOR)) >= 0:
            if cut > self.sent:
                out.append((self.buffer[self.sent : cut], False))
            out.append((self.buffer[:cut], True))
            self.buffer = self.buffer[cut + len(SEPARATOR) :]
            self.sent = 0
        hold = next(
            (n for n in range(len(SEPARATOR) - 1, 0, -1) if self.buffer.endswith(SEPARATOR[:n])), 0
        )
        safe = len(self.buffer) - hold
        if safe > self.sent:
            out.append((self.buffer[self.sent : safe], False))
            self.sent = safe
        return out

    def close(self) -> str:
        return self.buffer


class LLMActor:
    """Plays the persona with a model, steered each turn by the director's hidden state.

    The prompt's example lines are the card's, chosen as the offline actor would: the lines
    that answer the trainee's latest message first (`about`, the most specific match first),
    then the fillers, then the answers to other questions, so the model is not nudged towards
    a topic nobody asked about; an answer already given is shown in its `again` wording, as
    the client says it the second time."""

    name = "llm"

    def __init__(
        self, client: LLMClient, *, model: str, temperature: float, prompts_dir: Path, texts: Any
    ) -> None:
        self.client, self.model, self.temperature = client, model, temperature
        self.prompts_dir, self.texts = prompts_dir, texts

    def prompt(
        self,
        persona: Persona,
        language: Language,
        state: ClientState,
        directive: Directive,
        history: Sequence[tuple[str, str]] = (),
    ) -> Prompt:
        """The system prompt for this turn; `history` (the conversation so far, the trainee's
        message last) chooses and words the example lines. The same input, the same text."""
        level = persona.difficulty[state.difficulty]
        message = _last_trainee(list(history))
        said = {content.strip() for role, content in history if role == "client"}

        before = beats_said(state)
        settled = _settled(history, language)

        def examples(beat: str, beats: set[str]) -> list[str]:
            lines = persona.lines[beat]
            return self._examples(lines, language, state, message, said, beats, settled)

        return render(
            self.prompts_dir,
            "actor.j2",
            persona=persona,
            lang=language,
            language_name={"it": "Italian", "en": "English"}[language],
            level=level,
            state=state,
            mood=state.mood,
            directive=directive,
            answers=examples(directive.lead, before) if directive.lead else [],
            # the answer is said first: the beat's lines must not contradict it either
            examples=examples(
                directive.beat, before | {directive.lead} if directive.lead else before
            ),
            separator=SEPARATOR.strip(),
        )

    @staticmethod
    def _examples(
        lines: list[Line],
        language: Language,
        state: ClientState,
        message: str,
        said: set[str],
        beats: set[str],
        settled: Callable[[Line], bool],
    ) -> list[str]:
        """The best EXAMPLES lines of a beat, best first, ranked as the offline actor ranks
        them (`_pick`) but with no randomness, so the prompt (and its tests) stay stable:

        1. on the topic of the trainee's `message`, the most specific match first
           (`Topics.score`): the model hears first how this client answers *this*;
        2. a line without `about` before one written for another topic, which would restate
           a question nobody asked;
        3. a line not said yet before one the client has said (a text in `said`);
        4. the phase fits, then the mood (the client's, untagged, the next, the opposite);
        5. the card's order.

        A line whose text (or `again` text) the client has said is shown in its `again`
        wording when it has one: its topic was answered, and that is how he says it again.
        A line that would contradict a beat in `beats` (its `not_after`) is not shown, nor one
        asking what the trainee has already answered (`settled`: its `answered_by`).
        """

        def answered(line: Line) -> bool:
            texts = line.messages(language) + (line.again.messages(language) if line.again else [])
            return not said.isdisjoint(text.strip() for text in texts)

        def rank(i: int) -> tuple[int, bool, bool, bool, int, int]:
            line = lines[i]
            score = line.about.score(message, language) if line.about else 0
            stray = line.about is not None and not score
            misfit = line.phase is not None and state.phase not in line.phase
            return (-score, stray, answered(line), misfit, _mood_distance(line, state.mood), i)

        allowed = [
            i
            for i, line in enumerate(lines)
            if beats.isdisjoint(line.not_after) and not settled(line)
        ] or list(range(len(lines)))
        best = [lines[i] for i in sorted(allowed, key=rank)[:EXAMPLES]]
        return [
            " / ".join(
                line.again.messages(language)
                if line.again and answered(line)
                else line.messages(language)
            )
            for line in best
        ]

    def reply(
        self,
        *,
        persona: Persona,
        language: Language,
        state: ClientState,
        directive: Directive,
        history: list[tuple[str, str]],
        seed: int,
        calls: list[CallRecord] | None = None,
    ) -> Iterator[str | Reply]:
        """Stream the model's reply: text deltas, then a `Reply` per finished message.

        Every message is labelled with the directive's beat, except on a turn with a `lead`:
        the prompt asks for the answer first, as its own message, so when the model sends
        more than one message the first is labelled with the lead, as the offline actor
        does; a single message keeps the beat. The first message's `Reply` therefore waits
        until text of a second one arrives or the stream ends (its deltas do not)."""
        prompt = self.prompt(persona, language, state, directive, history)
        messages = [{"role": "system", "content": prompt.text}]
        if not history or history[0][0] != "trainee":
            # the cue the opening was written to, kept in later turns: the conversation
            # starts with a user turn, as chat templates expect
            messages.append({"role": "user", "content": self.texts["start"](language)})
        for role, content in history:
            speaker = "user" if role == "trainee" else "assistant"
            if messages[-1]["role"] == speaker:
                # Several messages in a row, written as the prompt asks for them: many chat
                # templates (Mistral's, Gemma's) refuse two turns of the same role in a row.
                messages[-1]["content"] += SEPARATOR + content
            else:
                messages.append({"role": speaker, "content": content})
        meta: dict[str, object] = {
            "engine": self.name,
            "model": self.model,
            "beat": directive.beat,
            "prompt_version": prompt.version,
        }

        def labelled(content: str, beat: str) -> Reply:
            if beat not in state.played:
                state.played.append(beat)  # what later turns' examples must not contradict
            return Reply(content, beat, {**meta, "beat": beat})

        lead = directive.lead
        pending: str | None = None  # the first message of a lead's turn, until we know more
        splitter, records, said = _Splitter(), calls if calls is not None else [], 0
        try:
            for delta in self.client.stream(
                purpose="actor",
                model=self.model,
                messages=messages,
                version=prompt.version,
                calls=records,
                temperature=self.temperature,
            ):
                for text, finished in splitter.feed(delta):
                    if pending is not None and lead and text.strip():
                        # a second message is coming: the first one was the answer
                        yield labelled(pending, lead)
                        pending = None
                    if not finished:
                        yield text
                    elif text.strip():
                        said += 1
                        if lead and said == 1:
                            pending = text.strip()
                        else:
                            yield labelled(text.strip(), directive.beat)
        except LLMError as exc:
            exc.partial = splitter.close().strip()
            if pending is not None and lead:
                # stored before the unfinished message, which the failed turn keeps too
                yield labelled(pending, lead if exc.partial else directive.beat)
            raise
        last = splitter.close().strip()
        if pending is not None and lead:
            yield labelled(pending, lead if last else directive.beat)
        if last:
            yield labelled(last, directive.beat)
        elif not said:
            # A client who says nothing would leave the trainee waiting for an answer that
            # never comes: a failure like any other, stored and retried the same way.
            failure = (
                "the model answered with no text (a reasoning model may have spent its "
                "budget thinking)"
            )
            if records:
                records[-1].outcome, records[-1].error = "error", failure
            raise LLMError(failure)
