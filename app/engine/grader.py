"""Grade a transcript against the persona's techniques.

The verdicts come from the same move detectors the director uses; the score is always
computed here from the verdicts, whoever wrote them (the heuristic grader or a model).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from app.catalog import Catalog, Language, Persona, Technique, counted
from app.engine.detectors import Detection, detect, matches, move_ids

Verdict = Literal["applied", "partial", "missed", "violated", "not_applicable"]
Role = Literal["trainee", "client"]
POINTS: dict[Verdict, float] = {"applied": 1.0, "partial": 0.5, "missed": 0.0, "violated": 0.0}
PASS_SCORE = 60
MAX_QUOTES = 3
MAX_QUOTE_CHARS = 300  # a combination's sentences quoted together, up to this length
HEURISTIC_GRADER = "offline-heuristic"
HEURISTIC_VERSION = "1"


class TranscriptMessage(BaseModel):
    seq: int
    role: Role
    content: str


class Evidence(BaseModel):
    seq: int
    quote: str  # an exact substring of the trainee's message `seq`
    kind: Literal["cue", "anti_pattern"] = "cue"


class BetterPhrasing(BaseModel):
    seq: int | None = None  # the trainee message it would replace, when there is one
    original: str | None = None
    suggestion: str


class Criterion(BaseModel):
    technique_id: str
    name: str
    verdict: Verdict
    evidence: list[Evidence] = []
    rationale: str
    better_phrasing: BetterPhrasing | None = None
    flagged: bool = False  # the grader's evidence needed correcting (a quote not in the transcript)


class GradeResult(BaseModel):
    score: int = Field(ge=0, le=100)
    passed: bool
    summary: str
    criteria: list[Criterion]
    grader: str
    prompt_version: str


def score_of(criteria: list[Criterion]) -> tuple[int, bool]:
    """Mean points over the techniques that applied; passed needs 60 and at most one violation."""
    graded = [c for c in criteria if c.verdict != "not_applicable"]
    if not graded:
        return 0, False
    score = round(100 * sum(POINTS[c.verdict] for c in graded) / len(graded))
    violations = sum(c.verdict == "violated" for c in graded)
    return score, score >= PASS_SCORE and violations <= 1


def summarize(
    catalog: Catalog, language: Language, criteria: list[Criterion], grader: str, version: str
) -> GradeResult:
    score, passed = score_of(criteria)
    summary = catalog.texts["summary"]["passed" if passed else "failed"](language)
    return GradeResult(
        score=score,
        passed=passed,
        summary=summary.format(score=score),
        criteria=criteria,
        grader=grader,
        prompt_version=version,
    )


def for_outcome(
    catalog: Catalog, language: Language, result: GradeResult, outcome: str | None
) -> GradeResult:
    """A client sent away ends the talk early on purpose, and that is the trainee's success (the
    night caller asked to call the office; the prospect who vanishes once terms are stated,
    article 004): a technique the talk never reached is not applicable, not missed. Only plain
    misses change: a slip, or a quote, stays what it is."""
    if outcome != "dismissed":
        return result
    unreached = catalog.texts["rationale"]["not_reached"](language)
    criteria = [
        c.model_copy(
            update={"verdict": "not_applicable", "rationale": unreached, "better_phrasing": None}
        )
        if c.verdict == "missed" and not c.evidence
        else c
        for c in result.criteria
    ]
    if criteria == result.criteria:
        return result
    return summarize(catalog, language, criteria, result.grader, result.prompt_version)


def _evidence(
    technique_moves: list[str],
    detections: dict[int, list[Detection]],
    texts: dict[int, str],
    kind: Literal["cue", "anti_pattern"],
    done_right: Sequence[str] = (),
) -> list[Evidence]:
    """One quote per message showing one of `technique_moves`. An anti-pattern whose moves are
    all part of a cue the same message shows is that cue done right, not a slip: advice is
    adapt-style's slip, advice said firmly (advice+firm) its cue."""
    found: list[Evidence] = []
    for seq, dets in detections.items():
        present = move_ids(dets)
        shown = [set(c.split("+")) for c in done_right if matches(c, present)]
        combo = next(
            (
                c
                for c in technique_moves
                if matches(c, present) and not any(set(c.split("+")) <= cue for cue in shown)
            ),
            None,
        )
        if combo is None:
            continue
        parts = [next(d for d in dets if d.move == move) for move in combo.split("+")]
        start, end = min(d.start for d in parts), max(d.end for d in parts)
        # a combination is quoted whole (the empathy and the payment talk that follows it),
        # unless its sentences are far apart: then its first move, the technique's own
        quote = texts[seq][start:end] if end - start <= MAX_QUOTE_CHARS else parts[0].quote
        found.append(Evidence(seq=seq, quote=quote, kind=kind))
    return found


def _in_context(technique: Technique, language: Language, client_texts: list[str]) -> bool:
    if not technique.context:
        return True
    patterns = [re.compile(p, re.IGNORECASE) for p in technique.context.get(language, [])]
    return any(p.search(text) for p in patterns for text in client_texts)


def grade_heuristic(
    catalog: Catalog, persona: Persona, language: Language, messages: list[TranscriptMessage]
) -> GradeResult:
    """Verdict per technique from the detected moves, quoting the trainee's own sentences."""
    texts = {m.seq: m.content for m in messages if m.role == "trainee"}
    detections = {seq: detect(text, language, catalog.moves) for seq, text in texts.items()}
    client_texts = [m.content for m in messages if m.role == "client"]
    rationale = catalog.texts["rationale"]
    criteria = []
    for technique_id in persona.techniques:
        technique = catalog.techniques[technique_id]
        phrasing = persona.phrasings.get(technique_id, technique.better_phrasing)(language)
        hits = _evidence(technique.cues.moves, detections, texts, "cue")[:MAX_QUOTES]
        slips = _evidence(
            technique.anti_patterns.moves, detections, texts, "anti_pattern", technique.cues.moves
        )[:MAX_QUOTES]
        verdict: Verdict
        if not hits and not slips and not _in_context(technique, language, client_texts):
            # the client never created the situation (as far as its words show) and the trainee
            # did neither the technique nor what it warns against; either one means it arose
            verdict, key, evidence = "not_applicable", "not_applicable", []
        elif hits and not slips and len(hits) >= technique.min_hits:
            verdict, key, evidence = "applied", "applied", hits
        elif hits and slips:
            verdict, key, evidence = "partial", "partial_mixed", hits + slips
        elif hits:
            verdict, key, evidence = "partial", "partial_few", hits
        elif slips and technique.slip_verdict == "missed":
            verdict, key, evidence = "missed", "missed_instead", slips
        elif slips:
            verdict, key, evidence = "violated", "violated", slips
        else:
            verdict, key, evidence = "missed", "missed", []
        better = None
        if verdict in ("partial", "missed", "violated"):
            worst = slips[0] if slips else None
            better = BetterPhrasing(
                seq=worst.seq if worst else None,
                original=worst.quote if worst else None,
                suggestion=phrasing,
            )
        criteria.append(
            Criterion(
                technique_id=technique_id,
                name=technique.name(language),
                verdict=verdict,
                evidence=evidence,
                rationale=rationale[counted(key, len(hits), rationale)](language).format(
                    count=len(hits)
                ),
                better_phrasing=better,
            )
        )
    return summarize(catalog, language, criteria, HEURISTIC_GRADER, HEURISTIC_VERSION)
