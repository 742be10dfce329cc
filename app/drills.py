"""Drill files: scripted trainee turns with expectations, played in CI.

A drill is a YAML file naming a persona, the trainee's turns and what should happen
(a minimum score, verdicts for some techniques, whether the client walks away). It is
played either in memory (director + actor + grader, no database) or through a running
server's `POST /api/drills`; both give the same result for an offline drill with a seed,
so a team can check its scripts locally and against the deployed service alike.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from xml.etree import ElementTree as ET

import httpx
import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from app.catalog import Catalog, Difficulty, Language, Outcome
from app.engine.grader import Verdict, for_outcome
from app.engine.llm import LLMError
from app.engine.llm_grader import GradeFailed
from app.engine.script import play_script
from app.engines import Engines
from app.models import visible

MAX_TURN_CHARS = 4000  # the server's default SPARRING_MAX_MESSAGE_CHARS
# Characters XML 1.0 cannot hold; a transcript quoting them would make the report unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class DrillError(Exception):
    """A drill file is broken or could not be played; the message says which and why."""


def turn_problem(text: str, max_chars: int) -> str | None:
    """Why the session service would refuse `text` as a trainee message (None: it would not),
    so a drill can be refused whole before its session starts instead of failing half-played.
    The same rules as sessions.accept (measured after stripping), plus what no database can
    store: an unpaired surrogate, and NUL (PostgreSQL text cannot hold it)."""
    text = text.strip()
    if not visible(text):
        return "is empty (only blanks, invisible or control characters)"
    if len(text) > max_chars:
        return f"is {len(text)} characters long; the limit is {max_chars}"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (it holds an unpaired surrogate such as \\ud800)"
    if "\x00" in text:
        return "holds a NUL character (\\u0000), which cannot be stored"
    return None


def _playable(text: str) -> str:
    if (problem := turn_problem(text, MAX_TURN_CHARS)) is not None:
        raise ValueError(f"the turn {problem}")
    return text


def _as_list(value: object) -> object:
    """Let a single value stand for a one-item list (`outcome: agreement`)."""
    return [value] if isinstance(value, str) else value


def _as_list_values(value: object) -> object:
    if isinstance(value, dict):
        return {key: _as_list(item) for key, item in value.items()}
    return value


class Expectations(BaseModel):
    """What must hold after the drill; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    min_score: int | None = Field(default=None, ge=0, le=100)
    max_score: int | None = Field(default=None, ge=0, le=100)
    passed: bool | None = None
    outcome: Annotated[list[Outcome] | None, BeforeValidator(_as_list)] = None
    verdicts: Annotated[
        dict[str, list[Verdict]], BeforeValidator(_as_list_values)
    ] = {}  # technique → allowed verdicts
    walks_away: bool | None = None  # true: must end walked_away; false: must not


class Drill(BaseModel):
    """One drill file, validated."""

    model_config = ConfigDict(extra="forbid")

    persona: str
    language: Language
    difficulty: Difficulty = "medium"
    seed: int = Field(default=1, ge=0, le=2**31 - 1)
    engine: Literal["offline", "llm"] = "offline"
    title: str = ""
    turns: list[
        Annotated[str, Field(min_length=1, max_length=MAX_TURN_CHARS), AfterValidator(_playable)]
    ] = Field(min_length=1, max_length=60)
    expect: Expectations = Expectations()


class DrillRun(BaseModel):
    """What playing a drill produced, whichever way it was played."""

    turns_played: int
    outcome: str | None
    score: int
    passed: bool
    verdicts: dict[str, str]
    messages: list[tuple[str, str]]  # (role, content) in order
    session_id: str | None = None  # set when played on a server


@dataclass
class DrillResult:
    path: Path
    drill: Drill
    run: DrillRun | None = None
    failures: list[str] = field(default_factory=list)
    error: str | None = None  # the drill could not be played at all
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failures


# ---------------------------------------------------------------- loading


def _explain(path: Path, exc: ValidationError) -> DrillError:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
        for err in exc.errors()
    )
    return DrillError(f"{path}: {problems}")


def load_drill(path: Path, catalog: Catalog) -> Drill:
    """Read and validate a drill file, including the persona and technique ids it names."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DrillError(f"{path}: cannot read YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DrillError(f"{path}: expected a mapping with persona, language, turns, expect")
    try:
        drill = Drill.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc) from exc
    persona = catalog.personas.get(drill.persona)
    if persona is None:
        known = ", ".join(sorted(catalog.personas))
        raise DrillError(f"{path}: persona: unknown '{drill.persona}'; known: {known}")
    if unknown := sorted(set(drill.expect.verdicts) - set(persona.techniques)):
        raise DrillError(
            f"{path}: expect.verdicts: {unknown} not graded for {persona.id} "
            f"(its techniques: {', '.join(persona.techniques)})"
        )
    return drill


def drill_paths(items: Iterable[Path]) -> list[Path]:
    """Files as given; a directory stands for the *.yaml / *.yml files in it."""
    paths: list[Path] = []
    for item in items:
        if item.is_dir():
            paths += sorted(p for p in item.iterdir() if p.suffix in (".yaml", ".yml"))
        else:
            paths.append(item)
    return paths


# ---------------------------------------------------------------- playing


def play_in_memory(drill: Drill, catalog: Catalog, engines: Engines) -> DrillRun:
    """Play the drill with the director, actor and grader only, as the service would."""
    persona = catalog.personas[drill.persona]
    engine = engines.get(drill.engine)
    if engine is None:
        raise DrillError(f"the '{drill.engine}' engine is not configured here")
    try:
        script = play_script(
            catalog=catalog,
            persona=persona,
            language=drill.language,
            difficulty=drill.difficulty,
            seed=drill.seed,
            turns=drill.turns,
            actor=engine.actor,
        )
        result = engine.grader.grade(
            catalog=catalog,
            persona=persona,
            language=drill.language,
            messages=script.transcript,
            calls=[],
        )
        result = for_outcome(catalog, drill.language, result, script.final.outcome)
    except (LLMError, GradeFailed) as exc:
        raise DrillError(f"the {drill.engine} engine failed: {exc}") from exc
    return DrillRun(
        turns_played=len(script.turns),
        outcome=script.final.outcome,
        score=result.score,
        passed=result.passed,
        verdicts={c.technique_id: c.verdict for c in result.criteria},
        messages=[(m.role, m.content) for m in script.transcript],
    )


def play_remote(drill: Drill, client: httpx.Client) -> DrillRun:
    """Play the drill on a server through `POST /api/drills` (the session is stored there)."""
    body = {
        "persona_id": drill.persona,
        "language": drill.language,
        "difficulty": drill.difficulty,
        "seed": drill.seed,
        "engine": drill.engine,
        "turns": drill.turns,
    }
    try:
        response = client.post("/api/drills", json=body)
    except httpx.HTTPError as exc:
        raise DrillError(f"cannot reach {client.base_url}: {exc}") from exc
    if response.status_code != 200:
        raise DrillError(f"the server answered {response.status_code}: {error_text(response)}")
    data: dict[str, Any] = response.json()
    grade = data["grade"]
    return DrillRun(
        turns_played=data["turns_played"],
        outcome=data["session"]["outcome"],
        score=grade["score"],
        passed=grade["passed"],
        verdicts={c["technique_id"]: c["verdict"] for c in grade["criteria"]},
        messages=[(m["role"], m["content"]) for m in data["messages"]],
        session_id=data["session"]["id"],
    )


def error_text(response: httpx.Response) -> str:
    """The server's reason for an error: `detail` as a sentence, or each 422 item's field
    and message."""
    try:
        detail = response.json().get("detail", response.text)
    except (ValueError, AttributeError):
        return response.text[:300]
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg')}"
            if isinstance(item, dict)
            else str(item)
            for item in detail
        )
    return str(detail)


# ---------------------------------------------------------------- checking


def check(expect: Expectations, run: DrillRun) -> list[str]:
    """Every expectation the run does not meet, as a sentence for the report."""
    failures = []
    if expect.min_score is not None and run.score < expect.min_score:
        failures.append(f"score {run.score} is below min_score {expect.min_score}")
    if expect.max_score is not None and run.score > expect.max_score:
        failures.append(f"score {run.score} is above max_score {expect.max_score}")
    if expect.passed is not None and run.passed != expect.passed:
        failures.append(f"passed is {run.passed}, expected {expect.passed}")
    if expect.outcome is not None and run.outcome not in expect.outcome:
        failures.append(f"outcome {run.outcome} is not one of {', '.join(expect.outcome)}")
    walked = run.outcome == "walked_away"
    if expect.walks_away is True and not walked:
        failures.append(f"the client should walk away, but the outcome is {run.outcome}")
    if expect.walks_away is False and walked:
        failures.append("the client walked away")
    for technique, allowed in expect.verdicts.items():
        got = run.verdicts.get(technique)
        if got not in allowed:
            failures.append(f"{technique}: verdict {got}, expected {' or '.join(allowed)}")
    return failures


Player = Callable[[Drill], DrillRun]


def run_drill(path: Path, drill: Drill, player: Player) -> DrillResult:
    """Play one drill and check it; a failure to play is recorded, not raised."""
    started = time.perf_counter()
    result = DrillResult(path=path, drill=drill)
    try:
        result.run = player(drill)
        result.failures = check(drill.expect, result.run)
    except DrillError as exc:
        result.error = str(exc)
    result.seconds = time.perf_counter() - started
    return result


# ---------------------------------------------------------------- JUnit XML


def junit_xml(results: list[DrillResult], suite: str = "sparring drills") -> str:
    """A JUnit report CI servers can show: one test case per drill, the transcript as output."""
    failures = sum(1 for r in results if r.error is None and r.failures)
    errors = sum(1 for r in results if r.error is not None)
    total = f"{sum(r.seconds for r in results):.3f}"
    counts = {"tests": str(len(results)), "failures": str(failures), "errors": str(errors)}
    root = ET.Element("testsuites", {"name": "sparring", **counts, "time": total})
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    node = ET.SubElement(
        root,
        "testsuite",
        {"name": suite, **counts, "skipped": "0", "time": total, "timestamp": stamp},
    )
    for result in results:
        case = ET.SubElement(
            node,
            "testcase",
            {
                "classname": f"drills.{result.drill.persona}",
                "name": _case_name(result),
                "file": str(result.path),
                "time": f"{result.seconds:.3f}",
            },
        )
        if result.error is not None:
            message = _xml(result.error)
            error = ET.SubElement(case, "error", {"message": message, "type": "DrillError"})
            error.text = message
        elif result.failures:
            failure = ET.SubElement(
                case, "failure", {"message": _xml(result.failures[0]), "type": "expectation"}
            )
            failure.text = _xml("\n".join(result.failures))
        if result.run is not None:
            ET.SubElement(case, "system-out").text = _xml(_transcript(result.run))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _case_name(result: DrillResult) -> str:
    title = result.drill.title
    return _xml(f"{result.path.name}: {title}" if title else result.path.name)


def _transcript(run: DrillRun) -> str:
    lines = [f"{role.upper()}: {content}" for role, content in run.messages]
    summary = f"outcome={run.outcome} score={run.score} passed={run.passed}"
    return "\n".join([*lines, summary])
