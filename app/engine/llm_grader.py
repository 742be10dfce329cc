"""Grade a transcript with a model: fenced untrusted data in, checked JSON out.

The model gives verdicts, quotes and phrasings; every quote is checked against the
trainee's messages, and the score is computed in code from the verdicts (grader.score_of).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openai
from pydantic import BaseModel, Field, ValidationError

from app.catalog import Catalog, Language, Persona, Technique
from app.engine.grader import (
    BetterPhrasing,
    Criterion,
    Evidence,
    GradeResult,
    TranscriptMessage,
    Verdict,
    summarize,
)
from app.engine.llm import CallRecord, LLMClient, LLMError, describe, extract_json, render

LANGUAGE_NAMES = {"it": "Italian", "en": "English"}
_FENCE_TAG = re.compile(r"<\s*/?\s*transcript\b[^>]*>", re.IGNORECASE)


class GradeFailed(Exception):
    """The grader gave no usable answer; the grade is stored as failed and can be re-run."""


class _Quote(BaseModel):
    seq: int
    quote: str = Field(min_length=1)


class _Phrasing(BaseModel):
    seq: int | None = None
    original: str | None = None
    suggestion: str = Field(min_length=1)


class _Criterion(BaseModel):
    technique_id: str
    verdict: Verdict
    evidence: list[_Quote] = []
    rationale: str = ""
    better_phrasing: _Phrasing | None = None


class GraderOutput(BaseModel):
    criteria: list[_Criterion]


def transcript_block(messages: list[TranscriptMessage]) -> str:
    """The transcript as labelled data; tags and line starts inside messages can't fake turns."""
    lines = ["<transcript>"]
    for m in messages:
        text = _FENCE_TAG.sub(
            lambda match: match.group().replace("<", "‹").replace(">", "›"), m.content
        )
        text = text.replace("\n", "\n    ")  # continuation lines never start a new turn
        lines.append(f"[{m.seq}] {m.role.upper()}: {text}")
    lines.append("</transcript>")
    return "\n".join(lines)


def _check_quotes(criterion: _Criterion, trainee: dict[int, str]) -> tuple[list[Evidence], bool]:
    """Keep quotes found verbatim in a trainee message (fixing a wrong seq); flag the rest."""
    kept, flagged = [], False
    for item in criterion.evidence:
        quote = item.quote.strip().strip('"“”«»').strip()
        if quote and quote in trainee.get(item.seq, ""):
            kept.append(Evidence(seq=item.seq, quote=quote))
        elif quote and (seq := next((s for s, t in trainee.items() if quote in t), None)):
            kept.append(Evidence(seq=seq, quote=quote))
        else:
            flagged = True
    return kept, flagged


def _schema() -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": "grade", "schema": GraderOutput.model_json_schema()},
    }


class LLMGrader:
    def __init__(
        self,
        client: LLMClient,
        *,
        model: str,
        prompts_dir: Path,
        attempts: int,
        per_criterion: bool = False,
    ) -> None:
        self.client, self.model, self.prompts_dir = client, model, prompts_dir
        self.attempts, self.per_criterion = attempts, per_criterion

    @property
    def name(self) -> str:
        return f"llm:{self.model}"

    def grade(
        self,
        *,
        catalog: Catalog,
        persona: Persona,
        language: Language,
        messages: list[TranscriptMessage],
        calls: list[CallRecord],
    ) -> GradeResult:
        techniques = [catalog.techniques[t] for t in persona.techniques]
        groups = [[t] for t in techniques] if self.per_criterion else [techniques]
        trainee = {m.seq: m.content for m in messages if m.role == "trainee"}
        criteria: list[Criterion] = []
        version = ""
        for group in groups:
            found, version = self._grade_group(persona, language, messages, group, calls)
            for technique in group:
                raw = found[technique.id]
                evidence, flagged = _check_quotes(raw, trainee)
                better = None
                if raw.better_phrasing is not None:
                    better = BetterPhrasing(**raw.better_phrasing.model_dump())
                criteria.append(
                    Criterion(
                        technique_id=technique.id,
                        name=technique.name(language),
                        verdict=raw.verdict,
                        evidence=evidence,
                        rationale=raw.rationale,
                        better_phrasing=better,
                        flagged=flagged,
                    )
                )
        return summarize(catalog, language, criteria, self.name, version)

    def _grade_group(
        self,
        persona: Persona,
        language: Language,
        messages: list[TranscriptMessage],
        techniques: list[Technique],
        calls: list[CallRecord],
    ) -> tuple[dict[str, _Criterion], str]:
        prompt = render(
            self.prompts_dir,
            "grader.j2",
            persona=persona,
            techniques=techniques,
            language_name=LANGUAGE_NAMES[language],
        )
        chat = [
            {"role": "system", "content": prompt.text},
            {"role": "user", "content": transcript_block(messages)},
        ]
        wanted = {t.id for t in techniques}
        problem = ""
        for _ in range(self.attempts):
            try:
                text = self._ask(chat, prompt.version, calls)
            except LLMError as exc:
                raise GradeFailed(str(exc)) from exc
            try:
                output = GraderOutput.model_validate(extract_json(text))
                found = {c.technique_id: c for c in output.criteria if c.technique_id in wanted}
                if missing := sorted(wanted - set(found)):
                    raise ValueError(f"no verdict for {', '.join(missing)}")
                return found, prompt.version
            except (ValueError, ValidationError) as exc:
                problem = str(exc).splitlines()[0]
                chat += [
                    {"role": "assistant", "content": text},
                    {
                        "role": "user",
                        "content": f"That answer was not usable ({problem}). Answer again "
                        "with the JSON object only, one entry per technique id.",
                    },
                ]
        raise GradeFailed(f"the grader gave no valid answer after {self.attempts} tries: {problem}")

    def _ask(self, chat: list[dict[str, str]], version: str, calls: list[CallRecord]) -> str:
        """Ask for a JSON schema, then JSON mode, then plain text, as the endpoint allows."""
        while True:
            mode = self.client.structured
            response_format = {
                "json_schema": _schema(),
                "json_object": {"type": "json_object"},
                "text": None,
            }[mode]
            try:
                return self.client.complete(
                    purpose="grader",
                    model=self.model,
                    messages=chat,
                    version=version,
                    calls=calls,
                    response_format=response_format,
                )
            except openai.BadRequestError as exc:
                if mode == "text":
                    raise LLMError(describe(exc)) from exc
                self.client.structured = "json_object" if mode == "json_schema" else "text"
            except openai.APIError as exc:
                raise LLMError(describe(exc)) from exc
