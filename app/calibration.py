"""Calibration: how close a grader's verdicts and scores are to an experienced coach's.

Gold transcripts (`transcripts/gold/*.yaml`) are conversations labelled by hand from the
source articles: one verdict per technique of the persona and the coach's overall score.
A grader (the offline heuristic one, or any grader with the `app.engines.Grader` interface)
grades each transcript; per technique and overall we report the agreement (share of
matching verdicts) and Cohen's kappa over the verdict categories, and the mean absolute
error of the grader's score against the coach's.

Coach reviews stored in the database become gold data too (`export_reviews_as_gold`), so
every override a coach makes can feed the next calibration.

`calibrate_command` is the `sparring calibrate` command (registered in app/cli.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel import Session, col, func, select

from app.catalog import ROOT, Catalog, CatalogError, Language, load_catalog
from app.engine.grader import Criterion, Role, TranscriptMessage, Verdict, score_of
from app.engine.llm import LLMError
from app.engine.llm_grader import GradeFailed
from app.engines import Grader
from app.errors import Conflict, NotFound
from app.models import CriterionResult, Grade, Message, PracticeSession, Review, User
from app.reviews import cohen_kappa

GOLD_DIR = ROOT / "transcripts" / "gold"
# Written apart from the heuristic grader (its writers never saw the detectors) and never used
# to change it: what `sparring calibrate --gold-dir transcripts/gold-heldout` reports is how the
# grader does on conversations it was not tuned on. gold/ and gold-dev/ are for tuning.
DEV_DIR = ROOT / "transcripts" / "gold-dev"
HELDOUT_DIR = ROOT / "transcripts" / "gold-heldout"
GOLD_PATTERNS = ("*.yaml", "*.yml")


class CalibrationError(Exception):
    """A gold file is broken; the message names the file, the field and why."""


# ---------------------------------------------------------------- the gold format


class GoldMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str = Field(min_length=1)


class GoldFile(BaseModel):
    """One labelled transcript: what the coach says of every technique of the persona."""

    model_config = ConfigDict(extra="forbid")

    persona: str
    language: Language
    note: str = ""  # why these labels, in a line or two
    session_id: str | None = None  # set when exported from a practice session's reviews
    messages: list[GoldMessage] = Field(min_length=1)
    labels: dict[str, Verdict]  # technique id -> the coach's verdict
    score: int = Field(ge=0, le=100)  # the coach's overall score for the trainee

    @model_validator(mode="after")
    def _has_trainee(self) -> GoldFile:
        if not any(m.role == "trainee" for m in self.messages):
            raise ValueError("messages: no trainee message to grade")
        return self

    def transcript(self) -> list[TranscriptMessage]:
        return [
            TranscriptMessage(seq=i, role=m.role, content=m.content)
            for i, m in enumerate(self.messages, start=1)
        ]


@dataclass(frozen=True)
class Gold:
    path: Path
    data: GoldFile


def parse_gold(data: object, catalog: Catalog, source: str) -> GoldFile:
    """Validate one gold mapping against the schema and the catalogue; `source` names it in
    errors (a file path, or a session id for an export)."""
    try:
        gold = GoldFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise CalibrationError(f"{source}: {problems}") from exc
    persona = catalog.personas.get(gold.persona)
    if persona is None:
        known = ", ".join(sorted(catalog.personas))
        raise CalibrationError(f"{source}: persona: unknown '{gold.persona}' (known: {known})")
    problems = [
        f"labels.{t}: missing (every technique of '{persona.id}' needs a verdict)"
        for t in persona.techniques
        if t not in gold.labels
    ]
    problems += [
        f"labels.{t}: '{t}' is not a technique of '{persona.id}' "
        f"(its techniques: {', '.join(persona.techniques)})"
        for t in gold.labels
        if t not in persona.techniques
    ]
    if problems:
        raise CalibrationError(f"{source}: " + "; ".join(problems))
    return gold


def load_gold(path: Path, catalog: Catalog) -> GoldFile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CalibrationError(f"{path}: cannot read YAML: {exc}") from exc
    return parse_gold(data, catalog, str(path))


def load_gold_dir(directory: Path, catalog: Catalog) -> list[Gold]:
    """Every gold file in the folder, sorted by name; all broken files are reported at once."""
    if not directory.is_dir():
        raise CalibrationError(f"{directory}: not a folder")
    paths = sorted({p for pattern in GOLD_PATTERNS for p in directory.glob(pattern)})
    if not paths:
        raise CalibrationError(f"{directory}: no gold files (*.yaml) found")
    golds, errors = [], []
    for path in paths:
        try:
            golds.append(Gold(path, load_gold(path, catalog)))
        except CalibrationError as exc:
            errors.append(str(exc))
    if errors:
        raise CalibrationError("\n".join(errors))
    return golds


def gold_yaml(data: dict[str, Any]) -> str:
    """A gold mapping (e.g. from `export_reviews_as_gold`) as YAML for `transcripts/gold/`."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


# ---------------------------------------------------------------- the figures


def kappa(pairs: Sequence[tuple[str, str]]) -> tuple[float | None, str | None]:
    """Cohen's kappa over (coach, grader) verdict pairs, and why it is undefined when it is.

    Kappa is (p_o - p_e) / (1 - p_e), computed by `app.reviews.cohen_kappa`. It is undefined
    with no pairs, and when both raters used one and the same category throughout (chance
    agreement is already 1). When only one rater is constant kappa is defined and is 0:
    agreement is exactly what chance predicts."""
    value = cohen_kappa(pairs)
    if value is not None:
        return value, None
    if not pairs:
        return None, "no verdicts to compare"
    return None, f"both gave only '{pairs[0][0]}': chance agreement is already 1"


class AgreementFigures(BaseModel):
    technique_id: str | None  # None: every technique together
    n: int  # (coach, grader) verdict pairs
    agreed: int
    agreement: float | None  # agreed / n
    kappa: float | None
    kappa_note: str | None = None  # why kappa is undefined


def agreement_figures(
    technique_id: str | None, pairs: Sequence[tuple[str, str]]
) -> AgreementFigures:
    agreed = sum(a == b for a, b in pairs)
    value, note = kappa(pairs)
    return AgreementFigures(
        technique_id=technique_id,
        n=len(pairs),
        agreed=agreed,
        agreement=agreed / len(pairs) if pairs else None,
        kappa=value,
        kappa_note=note,
    )


class VerdictPair(BaseModel):
    coach: Verdict
    grader: Verdict | None  # None when the grader gave no verdict for the technique


class FileResult(BaseModel):
    file: str
    persona: str
    language: Language
    coach_score: int
    grader_score: int | None  # None when grading failed
    verdicts: dict[str, VerdictPair]
    error: str | None = None


class Confusion(BaseModel):
    coach: Verdict
    grader: Verdict
    count: int


class CalibrationReport(BaseModel):
    grader: str  # the grader's name(s) as its results give them
    version: str  # prompt or heuristic version(s)
    files: list[FileResult]
    techniques: list[AgreementFigures]
    overall: AgreementFigures
    score_mae: float | None  # mean |grader score - coach score| over the graded files
    score_bias: float | None  # mean (grader score - coach score): > 0, the grader is kinder
    disagreements: list[Confusion]  # (coach, grader) pairs that differ, most frequent first

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.error is not None]


def calibrate(golds: Sequence[Gold], *, catalog: Catalog, grader: Grader) -> CalibrationReport:
    """Grade every gold transcript and compare the grader with the coach."""
    files: list[FileResult] = []
    names: dict[str, None] = {}
    versions: dict[str, None] = {}
    for gold in golds:
        data = gold.data
        try:
            result = grader.grade(
                catalog=catalog,
                persona=catalog.personas[data.persona],
                language=data.language,
                messages=data.transcript(),
                calls=[],
            )
        except (GradeFailed, LLMError) as exc:
            files.append(
                FileResult(
                    file=gold.path.name,
                    persona=data.persona,
                    language=data.language,
                    coach_score=data.score,
                    grader_score=None,
                    verdicts={},
                    error=str(exc) or type(exc).__name__,
                )
            )
            continue
        names[result.grader] = None
        versions[result.prompt_version] = None
        given = {c.technique_id: c.verdict for c in result.criteria}
        files.append(
            FileResult(
                file=gold.path.name,
                persona=data.persona,
                language=data.language,
                coach_score=data.score,
                grader_score=result.score,
                verdicts={
                    t: VerdictPair(coach=v, grader=given.get(t)) for t, v in data.labels.items()
                },
            )
        )
    by_technique: dict[str, list[tuple[str, str]]] = {}
    for f in files:
        for technique, pair in f.verdicts.items():
            if pair.grader is not None:
                by_technique.setdefault(technique, []).append((pair.coach, pair.grader))
    every = [pair for pairs in by_technique.values() for pair in pairs]
    errors = [f.grader_score - f.coach_score for f in files if f.grader_score is not None]
    confusion = Counter((a, b) for a, b in every if a != b)
    return CalibrationReport(
        grader=", ".join(names) or getattr(grader, "name", "unknown"),
        version=", ".join(versions) or "unknown",
        files=files,
        techniques=[agreement_figures(t, p) for t, p in sorted(by_technique.items())],
        overall=agreement_figures(None, every),
        score_mae=sum(abs(e) for e in errors) / len(errors) if errors else None,
        score_bias=sum(errors) / len(errors) if errors else None,
        disagreements=[
            Confusion(coach=a, grader=b, count=n)  # type: ignore[arg-type]
            for (a, b), n in sorted(confusion.items(), key=lambda item: (-item[1], item[0]))
        ],
    )


# ---------------------------------------------------------------- printing


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _kappa(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def format_report(report: CalibrationReport, source: str) -> str:
    width = max([len("technique"), *(len(t.technique_id or "") for t in report.techniques)])
    lines = [
        f"Calibration of grader {report.grader} (version {report.version}) "
        f"on {len(report.files)} gold transcripts in {source}",
        "",
        f"{'technique':<{width}}  {'n':>4}  {'agreement':>9}  {'kappa':>6}",
    ]
    notes = []
    rows = [*report.techniques, report.overall]
    for row in rows:
        name = row.technique_id or "overall"
        if row is report.overall:
            lines.append("-" * (width + 27))
        lines.append(
            f"{name:<{width}}  {row.n:>4}  {_pct(row.agreement):>9}  {_kappa(row.kappa):>6}"
        )
        if row.kappa_note:
            notes.append(f"  kappa n/a for {name}: {row.kappa_note}")
    lines += notes
    lines.append("")
    if report.score_mae is None or report.score_bias is None:
        lines.append("Score: no transcript was graded, no score error to report")
    else:
        kinder = "higher" if report.score_bias >= 0 else "lower"
        lines.append(
            f"Score: mean absolute error {report.score_mae:.1f} points; the grader scores "
            f"{abs(report.score_bias):.1f} points {kinder} than the coach on average"
        )
    if report.disagreements:
        top = ", ".join(f"{d.coach} -> {d.grader} ({d.count})" for d in report.disagreements[:5])
        lines.append(f"Most frequent disagreements (coach -> grader): {top}")
    lines += ["", "Per transcript (coach score, grader score, verdicts agreed):"]
    name_width = max(len(f.file) for f in report.files) if report.files else 0
    for f in report.files:
        if f.error is not None:
            lines.append(f"  {f.file:<{name_width}}  {f.coach_score:>3}  failed: {f.error}")
            continue
        agreed = sum(p.coach == p.grader for p in f.verdicts.values())
        lines.append(
            f"  {f.file:<{name_width}}  {f.coach_score:>3}  {f.grader_score:>3}"
            f"  {agreed}/{len(f.verdicts)}"
        )
    if report.failed:
        lines.append(f"{len(report.failed)} transcript(s) could not be graded; left out above")
    return "\n".join(lines)


# ---------------------------------------------------------------- the command


def calibrate_command(
    gold_dir: Annotated[
        Path, typer.Option(help="folder of gold transcripts (*.yaml), labelled by coaches")
    ] = GOLD_DIR,
    engine: Annotated[
        str, typer.Option(help="offline: the heuristic grader; llm: the model grader")
    ] = "offline",
    json_out: Annotated[
        Path | None, typer.Option(help="also write the full report as JSON to this file")
    ] = None,
) -> None:
    """Compare a grader with the coaches' labels: agreement, Cohen's kappa, score error."""
    from app.config import get_settings
    from app.engines import build_engines

    settings = get_settings()
    try:
        catalog = load_catalog(settings.personas_dir, settings.prompts_dir)
        golds = load_gold_dir(gold_dir, catalog)
    except (CatalogError, CalibrationError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    engines = build_engines(settings, catalog)
    chosen = engines.get(engine)
    if chosen is None:
        hint = " (set SPARRING_LLM_BASE_URL or SPARRING_LLM_API_KEY)" if engine == "llm" else ""
        available = ", ".join(engines.available)
        typer.echo(
            f"error: engine '{engine}' is not available{hint}; available: {available}", err=True
        )
        raise typer.Exit(1)
    report = calibrate(golds, catalog=catalog, grader=chosen.grader)
    typer.echo(format_report(report, str(gold_dir)))
    if json_out is not None:
        try:
            json_out.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            typer.echo(f"error: cannot write {json_out}: {exc}", err=True)
            raise typer.Exit(1) from exc


# ---------------------------------------------------------------- coach reviews as gold


def export_reviews_as_gold(
    db: Session, session_id: str, *, reviewer_id: int | None = None
) -> dict[str, Any]:
    """A session's transcript with the coaches' verdicts, in the gold format.

    The coach's verdict on a technique is the latest review row with a verdict for it (one
    reviewer's only with `reviewer_id`; with several reviewers the most recent wins), on the
    latest grade that has any. A technique no coach gave a verdict on keeps the grader's
    verdict (the coach saw it and let it stand); the note names those techniques. The score
    is computed from the verdicts like the grader's (`score_of`)."""
    record = db.get(PracticeSession, session_id)
    if record is None:
        raise NotFound(f"no session with id '{session_id}'")
    query = select(Review).where(
        Review.session_id == session_id,
        col(Review.verdict).is_not(None),
        col(Review.technique_id).is_not(None),
    )
    if reviewer_id is not None:
        query = query.where(Review.reviewer_id == reviewer_id)
    rows = list(db.exec(query.order_by(col(Review.id))))
    if not rows:
        raise Conflict(f"session '{session_id}' has no coach verdicts to export")
    grade_id = max(r.grade_id for r in rows)
    grade = db.get(Grade, grade_id)
    criteria = db.exec(
        select(CriterionResult)
        .where(CriterionResult.grade_id == grade_id)
        .order_by(col(CriterionResult.id))
    ).all()
    coach: dict[str, Review] = {}
    for row in rows:
        if row.grade_id == grade_id and row.technique_id:
            coach[row.technique_id] = row  # ordered by id: the latest wins
    labels: dict[str, str] = {}
    unreviewed: list[str] = []
    for criterion in criteria:
        review = coach.get(criterion.technique_id)
        if review is None or review.verdict is None:
            unreviewed.append(criterion.technique_id)
            labels[criterion.technique_id] = criterion.verdict
        else:
            labels[criterion.technique_id] = review.verdict
    score, _ = score_of(
        [
            Criterion(technique_id=t, name=t, verdict=v, rationale="")  # type: ignore[arg-type]
            for t, v in labels.items()
        ]
    )
    reviewer_ids = {r.reviewer_id for r in coach.values()}
    reviewers = sorted(db.exec(select(User.username).where(col(User.id).in_(reviewer_ids))).all())
    messages = db.exec(
        select(Message).where(Message.session_id == session_id).order_by(col(Message.seq))
    ).all()
    graded_by = f"{grade.grader} {grade.prompt_version}" if grade else "unknown grader"
    note = (
        f"Coach verdicts by {', '.join(reviewers)} on grade {grade_id} ({graded_by}) of "
        f"session {session_id}; score computed from the verdicts."
    )
    if unreviewed:
        note += f" Not reviewed, grader's verdict kept: {', '.join(unreviewed)}."
    return {
        "persona": record.persona_id,
        "language": record.language,
        "note": note,
        "session_id": session_id,
        "messages": [{"role": m.role, "content": m.content} for m in messages if m.content.strip()],
        "labels": labels,
        "score": score,
    }


def reviewed_sessions(
    db: Session, *, reviewer_id: int | None = None, persona_id: str | None = None
) -> list[str]:
    """Ids of the sessions with at least one coach verdict (by one reviewer, of one persona),
    oldest first: what `export_reviews_as_gold` can write."""
    query = (
        select(Review.session_id)
        .join(PracticeSession, col(PracticeSession.id) == col(Review.session_id))
        .where(col(Review.verdict).is_not(None), col(Review.technique_id).is_not(None))
        .group_by(col(Review.session_id))
        .order_by(func.min(Review.id))
    )
    if reviewer_id is not None:
        query = query.where(Review.reviewer_id == reviewer_id)
    if persona_id is not None:
        query = query.where(PracticeSession.persona_id == persona_id)
    return list(db.exec(query).all())
