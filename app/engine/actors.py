"""Actors voice the director's beat as the client's message(s).

The offline actor picks scripted lines from the persona card; it is deterministic for a
session seed and never repeats a line in a session while another one fits.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from app.catalog import Language, Line, Persona
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
        used in `state.used_lines`. Model calls are appended to `calls`. On failure the
        actor raises LLMError, whose `partial` holds the text of an unfinished message.
        """
        ...


def _pick(lines: list[Line], used: list[int], state: ClientState, rng: random.Random) -> int:
    """A line for the current mood and phase: lines tagged with the mood first, then untagged
    ones; an unused line always before a repeat."""

    def phase_fits(line: Line) -> bool:
        return line.phase is None or state.phase in line.phase

    fresh = [i for i in range(len(lines)) if i not in used]
    for pool in (fresh, list(range(len(lines)))):
        for mood in (state.mood, None):
            choice = [i for i in pool if lines[i].mood == mood and phase_fits(lines[i])]
            if choice:
                return rng.choice(choice)
        if pool:
            return rng.choice(pool)
    raise ValueError("a beat with no lines")  # the catalogue forbids it


class OfflineActor:
    """Plays the card's scripted lines: no network, same seed → same conversation."""

    name = "offline"

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
        beats = [directive.beat]
        burst = persona.burst
        if burst and directive.end is None and state.meters[burst.meter] >= burst.min:
            extra = min(burst.max_extra, 1 + int((state.meters[burst.meter] - burst.min) // 20))
            beats += [burst.beat] * extra
        for beat in beats:
            used = state.used_lines.setdefault(beat, [])
            index = _pick(persona.lines[beat], used, state, rng)
            used.append(index)
            for text in persona.lines[beat][index].messages(language):
                yield text
                yield Reply(text, beat, {"engine": self.name, "beat": beat, "line": index})


SEPARATOR = "\n---\n"  # the actor prompt asks for this line between messages sent in a row


class _Splitter:
    """Cut a streamed reply into messages at SEPARATOR, holding back a possible partial one."""

    def __init__(self) -> None:
        self.buffer = ""
        self.sent = 0  # characters of the buffer already yielded as deltas

    def feed(self, text: str) -> tuple[str, list[str]]:
        self.buffer += text
        done: list[str] = []
        while (cut := self.buffer.find(SEPARATOR)) >= 0:
            done.append(self.buffer[:cut])
            self.buffer = self.buffer[cut + len(SEPARATOR) :]
            self.sent = 0
        hold = next(
            (n for n in range(len(SEPARATOR) - 1, 0, -1) if self.buffer.endswith(SEPARATOR[:n])), 0
        )
        safe = len(self.buffer) - hold
        delta = self.buffer[self.sent : safe] if safe > self.sent else ""
        self.sent = max(self.sent, safe)
        return delta, done

    def close(self) -> str:
        return self.buffer


class LLMActor:
    """Plays the persona with a model, steered each turn by the director's hidden state."""

    name = "llm"

    def __init__(
        self, client: LLMClient, *, model: str, temperature: float, prompts_dir: Path, texts: Any
    ) -> None:
        self.client, self.model, self.temperature = client, model, temperature
        self.prompts_dir, self.texts = prompts_dir, texts

    def prompt(
        self, persona: Persona, language: Language, state: ClientState, directive: Directive
    ) -> Prompt:
        level = persona.difficulty[state.difficulty]
        examples = [" / ".join(line.messages(language)) for line in persona.lines[directive.beat]]
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
            examples=examples[:4],
            separator=SEPARATOR.strip(),
        )

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
        prompt = self.prompt(persona, language, state, directive)
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
        meta = {
            "engine": self.name,
            "model": self.model,
            "beat": directive.beat,
            "prompt_version": prompt.version,
        }
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
                text, done = splitter.feed(delta)
                if text:
                    yield text
                for message in done:
                    if message.strip():
                        said += 1
                        yield Reply(message.strip(), directive.beat, meta)
        except LLMError as exc:
            exc.partial = splitter.close().strip()
            raise
        last = splitter.close().strip()
        if last:
            yield Reply(last, directive.beat, meta)
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
