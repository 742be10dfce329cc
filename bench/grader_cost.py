"""Benchmark 5: what grading one session costs in model calls and prompt tokens, with the
app's grader (all of a persona's techniques in one call) against one call per technique (the
way common rubric tools grade; the app's own `SPARRING_GRADER_MODE=per_criterion`).

Transcripts are real: each persona played by the director and the offline actor with the
scripted trainee lines. Tokens are what the stub reports (its prompt characters / 4).
"""

from __future__ import annotations

import time

from app.catalog import Catalog
from app.config import Settings
from app.engine.actors import OfflineActor, Reply
from app.engine.detectors import detect, move_ids
from app.engine.director import observe, opening
from app.engine.grader import TranscriptMessage
from app.engine.llm import CallRecord, LLMClient
from app.engine.llm_grader import LLMGrader
from bench.common import Config
from bench.common import catalog as shared_catalog
from bench.load import PERSONAS, TRAINEE_LINES
from bench.report import Figure, Result, number, table


def transcript(catalog: Catalog, persona_id: str, seed: int = 1) -> list[TranscriptMessage]:
    """The persona played with the scripted lines until the client ends the session."""
    persona = catalog.personas[persona_id]
    actor = OfflineActor.for_catalog(catalog)
    lines: list[tuple[str, str]] = []
    state, directive = opening(persona, "medium")

    def speak() -> None:
        for item in actor.reply(
            persona=persona, language="en", state=state, directive=directive, history=[], seed=seed
        ):
            if isinstance(item, Reply):
                lines.append(("client", item.content))

    speak()
    for text in TRAINEE_LINES:
        if state.status != "active":
            break
        lines.append(("trainee", text))
        state, directive = observe(
            catalog, persona, state, move_ids(detect(text, "en", catalog.moves))
        )
        speak()
    return [
        TranscriptMessage(seq=i, role=role, content=content)  # type: ignore[arg-type]
        for i, (role, content) in enumerate(lines, start=1)
    ]


def run(cfg: Config, stub_url: str) -> Result:
    result = Result("grader", "5. Grader cost per graded session")
    started = time.monotonic()
    settings = Settings()
    catalog = shared_catalog()
    client = LLMClient(base_url=stub_url, api_key=None, timeout=30, max_retries=0)
    graders = {
        mode: LLMGrader(
            client,
            model="grader-model",
            prompts_dir=settings.prompts_dir,
            attempts=settings.grader_attempts,
            per_criterion=mode == "per technique",
        )
        for mode in ("one call", "per technique")
    }
    personas = PERSONAS[:2] if cfg.quick else PERSONAS
    rows = []
    totals = {mode: [0, 0] for mode in graders}  # calls, prompt tokens
    for persona_id in personas:
        persona = catalog.personas[persona_id]
        messages = transcript(catalog, persona_id)
        row = [persona_id, str(len(persona.techniques)), str(len(messages))]
        for mode, grader in graders.items():
            calls: list[CallRecord] = []
            grader.grade(
                catalog=catalog, persona=persona, language="en", messages=messages, calls=calls
            )
            tokens = sum(c.tokens_in or 0 for c in calls)
            totals[mode][0] += len(calls)
            totals[mode][1] += tokens
            row += [str(len(calls)), f"{tokens:,}"]
        rows.append(row)
    count = len(personas)
    ours, theirs = totals["one call"], totals["per technique"]
    result.figures = [
        Figure(
            "LLM calls",
            ours[0] / count,
            theirs[0] / count,
            "calls",
            baseline_name="one call per technique",
        ),
        Figure(
            "prompt tokens",
            ours[1] / count,
            theirs[1] / count,
            "tokens",
            baseline_name="one call per technique",
        ),
    ]
    result.details = [
        f"One session per persona ({count}), English, medium, the scripted trainee lines; "
        "each transcript graded by the app's llm grader in both modes against the stub (valid "
        "answers, so no re-asks; a re-ask adds one call and the conversation so far).",
        "",
        *table(
            [
                "persona",
                "techniques",
                "messages",
                "calls",
                "prompt tokens",
                "calls (per technique)",
                "prompt tokens (per technique)",
            ],
            rows,
        ),
        "",
        f"Mean per graded session: {number(ours[0] / count)} call(s) and "
        f"{number(ours[1] / count)} prompt tokens, against {number(theirs[0] / count)} calls "
        f"and {number(theirs[1] / count)} prompt tokens per technique.",
    ]
    result.seconds = time.monotonic() - started
    return result
