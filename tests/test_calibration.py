"""Calibration: Cohen's kappa, the gold transcripts, the figures, the command, review export."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from llm_stub import StubLLM
from sqlmodel import Session
from typer.testing import CliRunner

from app.calibration import (
    DEV_DIR,
    GOLD_DIR,
    HELDOUT_DIR,
    CalibrationError,
    Gold,
    agreement_figures,
    calibrate,
    calibrate_command,
    export_reviews_as_gold,
    gold_yaml,
    kappa,
    load_gold_dir,
    parse_gold,
)
from app.catalog import Catalog, Language, Persona
from app.db import get_engine, migrate
from app.engine.grader import (
    PASS_SCORE,
    Criterion,
    GradeResult,
    TranscriptMessage,
    score_of,
)
from app.engine.llm import CallRecord
from app.engine.llm_grader import GradeFailed
from app.engines import HeuristicGrader
from app.errors import Conflict, NotFound
from app.models import CriterionResult, Grade, Message, PracticeSession, Review, User

VERDICTS = ("applied", "partial", "missed", "violated", "not_applicable")


def pairs_of(*groups: tuple[str, str, int]) -> list[tuple[str, str]]:
    """(first rater, second rater, how many times) → the list of pairs."""
    return [(a, b) for a, b, n in groups for _ in range(n)]


# ---------------------------------------------------------------- kappa, by hand


def test_kappa_perfect_agreement_is_one() -> None:
    value, note = kappa(pairs_of(("applied", "applied", 3), ("missed", "missed", 2)))
    assert value == pytest.approx(1.0) and note is None


def test_kappa_chance_level_is_zero() -> None:
    # Each rater says "applied" half the time, independently: p_o = 0.5 = p_e.
    pairs = pairs_of(
        ("applied", "applied", 1),
        ("applied", "missed", 1),
        ("missed", "applied", 1),
        ("missed", "missed", 1),
    )
    value, _ = kappa(pairs)
    assert value == pytest.approx(0.0)


def test_kappa_textbook_two_by_two() -> None:
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15.
    # p_o = 35/50 = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; kappa = 0.2 / 0.5 = 0.4.
    pairs = pairs_of(
        ("applied", "applied", 20),
        ("applied", "missed", 5),
        ("missed", "applied", 10),
        ("missed", "missed", 15),
    )
    value, _ = kappa(pairs)
    assert value == pytest.approx(0.4)


def test_kappa_three_categories() -> None:
    # n = 10, 7 agree: p_o = 0.7. Both raters: applied 4, partial 3, missed 3.
    # p_e = (4·4 + 3·3 + 3·3) / 100 = 0.34; kappa = 0.36 / 0.66 = 0.5454…
    pairs = pairs_of(
        ("applied", "applied", 3),
        ("applied", "partial", 1),
        ("partial", "partial", 2),
        ("missed", "missed", 2),
        ("missed", "applied", 1),
        ("partial", "missed", 1),
    )
    value, _ = kappa(pairs)
    assert value == pytest.approx(0.36 / 0.66)


def test_kappa_systematic_disagreement_is_minus_one() -> None:
    value, _ = kappa(pairs_of(("applied", "missed", 2), ("missed", "applied", 2)))
    assert value == pytest.approx(-1.0)


def test_kappa_one_constant_rater_is_zero_not_undefined() -> None:
    # The coach always says applied, the grader half the time: p_e = 0.5 = p_o.
    value, note = kappa(pairs_of(("applied", "applied", 1), ("applied", "missed", 1)))
    assert value == pytest.approx(0.0) and note is None


def test_kappa_undefined_cases_say_why() -> None:
    value, note = kappa(pairs_of(("not_applicable", "not_applicable", 4)))
    assert value is None and note is not None
    assert "not_applicable" in note and "chance agreement" in note
    value, note = kappa([])
    assert value is None and note == "no verdicts to compare"


def test_agreement_figures() -> None:
    row = agreement_figures("x", pairs_of(("applied", "applied", 3), ("applied", "missed", 1)))
    assert (row.n, row.agreed, row.agreement) == (4, 3, 0.75)
    assert row.kappa == pytest.approx(0.0)  # one rater is constant
    empty = agreement_figures(None, [])
    assert empty.agreement is None and empty.kappa is None and empty.kappa_note


# ---------------------------------------------------------------- the gold files


@pytest.fixture(scope="module", params=[GOLD_DIR, DEV_DIR, HELDOUT_DIR], ids=lambda p: p.name)
def golds(request: pytest.FixtureRequest, catalog: Catalog) -> list[Gold]:
    """The tuning set, the development set and the held-out set: each a full set."""
    return load_gold_dir(request.param, catalog)


def test_gold_files_are_valid_and_fully_labelled(golds: list[Gold], catalog: Catalog) -> None:
    assert golds
    for gold in golds:
        persona = catalog.personas[gold.data.persona]
        assert set(gold.data.labels) == set(persona.techniques), gold.path.name
        assert gold.path.name.startswith(f"{persona.id}-{gold.data.language}-"), gold.path.name
        assert 6 <= len(gold.data.messages) <= 12, gold.path.name
        assert gold.data.note.strip(), gold.path.name
        roles = {m.role for m in gold.data.messages}
        assert roles == {"client", "trainee"}, gold.path.name


def test_gold_files_cover_every_persona_both_languages_good_and_poor(
    golds: list[Gold], catalog: Catalog
) -> None:
    by_persona: dict[str, list[Gold]] = defaultdict(list)
    for gold in golds:
        by_persona[gold.data.persona].append(gold)
    assert set(by_persona) == set(catalog.personas)
    for persona_id, items in by_persona.items():
        assert len(items) >= 2, persona_id
        assert {g.data.language for g in items} == {"it", "en"}, persona_id
        scores = [g.data.score for g in items]
        assert max(scores) >= PASS_SCORE > min(scores), persona_id
        good = {g.data.language for g in items if g.path.stem.endswith("-good")}
        poor = {g.data.language for g in items if g.path.stem.endswith("-poor")}
        # A good and a poor trainee, in different languages.
        assert any(a != b for a in good for b in poor), persona_id


def test_gold_labels_use_every_verdict(golds: list[Gold]) -> None:
    used = {v for gold in golds for v in gold.data.labels.values()}
    assert used == set(VERDICTS)


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def valid_gold(catalog: Catalog) -> dict[str, Any]:
    persona = catalog.personas["loyal-debtor"]
    return {
        "persona": persona.id,
        "language": "en",
        "note": "test",
        "messages": [
            {"role": "client", "content": "Morning."},
            {"role": "trainee", "content": "Morning Franco, how are you?"},
        ],
        "labels": {t: "missed" for t in persona.techniques},
        "score": 20,
    }


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d["labels"].pop("money-in-person"), ["labels.money-in-person", "missing"]),
        (lambda d: d["labels"].update({"state-terms": "applied"}), ["labels.state-terms"]),
        (lambda d: d["labels"].update({"calm-presence": "great"}), ["labels.calm-presence"]),
        (lambda d: d.update({"persona": "nobody"}), ["persona", "unknown 'nobody'"]),
        (lambda d: d.update({"language": "fr"}), ["language"]),
        (lambda d: d.update({"score": 140}), ["score"]),
        (lambda d: d.pop("score"), ["score", "Field required"]),
        (lambda d: d.update({"colour": "red"}), ["colour", "Extra inputs"]),
        (lambda d: d["messages"].pop(1), ["no trainee message"]),
        (lambda d: d["messages"].append({"role": "coach", "content": "x"}), ["messages.2.role"]),
        (lambda d: d["messages"].append({"role": "client", "content": ""}), ["messages.2.content"]),
    ],
)
def test_broken_gold_names_file_and_field(
    tmp_path: Path, catalog: Catalog, edit: Callable[[dict[str, Any]], object], expected: list[str]
) -> None:
    data = valid_gold(catalog)
    edit(data)
    path = write(tmp_path / "broken.yaml", data)
    write(tmp_path / "fine.yaml", valid_gold(catalog))
    with pytest.raises(CalibrationError) as info:
        load_gold_dir(tmp_path, catalog)
    message = str(info.value)
    assert str(path) in message and "fine.yaml" not in message
    for part in expected:
        assert part in message


def test_gold_dir_problems(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(CalibrationError, match="not a folder"):
        load_gold_dir(tmp_path / "missing", catalog)
    with pytest.raises(CalibrationError, match="no gold files"):
        load_gold_dir(tmp_path, catalog)
    (tmp_path / "a.yaml").write_text("persona: [oops\n")
    write(tmp_path / "b.yaml", {"persona": "loyal-debtor"})
    with pytest.raises(CalibrationError) as info:
        load_gold_dir(tmp_path, catalog)
    assert "a.yaml: cannot read YAML" in str(info.value)
    assert "b.yaml" in str(info.value)  # every broken file at once


# ---------------------------------------------------------------- the figures


class EchoGrader:
    """Gives back the coach's own verdicts (and a score one point off)."""

    name = "echo"

    def __init__(self, golds: list[Gold]) -> None:
        self.by_messages = {tuple(m.content for m in g.data.messages): g.data for g in golds}

    def grade(
        self,
        *,
        catalog: Catalog,
        persona: Persona,
        language: Language,
        messages: list[TranscriptMessage],
        calls: list[CallRecord],
    ) -> GradeResult:
        gold = self.by_messages[tuple(m.content for m in messages)]
        criteria = [
            Criterion(technique_id=t, name=t, verdict=v, rationale="")
            for t, v in gold.labels.items()
        ]
        return GradeResult(
            score=min(100, gold.score + 1),
            passed=True,
            summary="",
            criteria=criteria,
            grader="echo",
            prompt_version="e1",
        )


class BrokenGrader:
    name = "broken"

    def grade(self, **_: object) -> GradeResult:
        raise GradeFailed("the model answered nonsense")


def test_a_grader_that_agrees_with_the_coach(golds: list[Gold], catalog: Catalog) -> None:
    report = calibrate(golds, catalog=catalog, grader=EchoGrader(golds))
    assert report.grader == "echo" and report.version == "e1"
    assert report.overall.agreement == 1.0 and report.overall.kappa == pytest.approx(1.0)
    assert report.disagreements == []
    assert report.score_mae is not None and 0 < report.score_mae <= 1
    for row in report.techniques:
        assert row.agreement == 1.0
        assert (row.kappa is None) == (row.kappa_note is not None)


def test_the_offline_grader_is_measured(golds: list[Gold], catalog: Catalog) -> None:
    report = calibrate(golds, catalog=catalog, grader=HeuristicGrader())
    assert report.grader == "offline-heuristic" and report.version == "1"
    labels = sum(len(g.data.labels) for g in golds)
    assert report.overall.n == labels == sum(row.n for row in report.techniques)
    assert report.overall.agreement is not None and 0 <= report.overall.agreement <= 1
    assert report.overall.kappa is not None and -1 <= report.overall.kappa <= 1
    assert report.score_mae is not None and report.score_mae >= 0
    errors = [abs((f.grader_score or 0) - f.coach_score) for f in report.files]
    assert all(f.grader_score is not None for f in report.files)
    assert math.isclose(report.score_mae, sum(errors) / len(golds))
    assert sum(d.count for d in report.disagreements) == labels - report.overall.agreed


@pytest.mark.parametrize(
    ("folder", "floor"),
    [(GOLD_DIR, 0.79), (DEV_DIR, 0.62), (HELDOUT_DIR, 0.43)],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_the_offline_grader_keeps_its_measured_agreement(
    folder: Path, floor: float, catalog: Catalog
) -> None:
    """A few points under the figures in the README (82.6, 64.6 and 45.8 %): a detector change
    that makes the grader worse on any of the three sets fails here, the held-out one above all
    (it is never used to tune, so only this guards it)."""
    report = calibrate(load_gold_dir(folder, catalog), catalog=catalog, grader=HeuristicGrader())
    assert report.overall.agreement is not None and report.overall.agreement >= floor


def test_grader_failures_are_reported_not_counted(golds: list[Gold], catalog: Catalog) -> None:
    report = calibrate(golds[:2], catalog=catalog, grader=BrokenGrader())
    assert [f.error for f in report.failed] == ["the model answered nonsense"] * 2
    assert report.overall.n == 0 and report.overall.kappa is None
    assert report.score_mae is None and report.grader == "broken"


# ---------------------------------------------------------------- the command


def command_app() -> typer.Typer:
    app = typer.Typer()
    app.command()(calibrate_command)
    return app


@pytest.fixture
def offline_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from app.config import get_settings

    for name in ("SPARRING_LLM_BASE_URL", "SPARRING_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env file from the working folder
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_calibrate_command_prints_the_figures(tmp_path: Path, offline_settings: None) -> None:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(command_app(), ["--json-out", str(out)])
    assert result.exit_code == 0, result.output
    text = result.output
    for part in ("offline-heuristic", "version 1", "overall", "agreement", "kappa"):
        assert part in text
    assert "mean absolute error" in text and "money-in-person" in text
    assert "loyal-debtor-it-good.yaml" in text
    report = json.loads(out.read_text())
    assert report["grader"] == "offline-heuristic"
    assert report["overall"]["n"] > 0 and report["score_mae"] is not None
    assert len(report["files"]) >= 18


def test_calibrate_command_bad_input_exits_non_zero(
    tmp_path: Path, catalog: Catalog, offline_settings: None
) -> None:
    runner = CliRunner()
    result = runner.invoke(command_app(), ["--gold-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "not a folder" in result.output
    data = valid_gold(catalog)
    data["labels"].pop("extended-needs")
    write(tmp_path / "half.yaml", data)
    result = runner.invoke(command_app(), ["--gold-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "half.yaml" in result.output and "labels.extended-needs" in result.output
    result = runner.invoke(command_app(), ["--engine", "llm"])
    assert result.exit_code == 1 and "engine 'llm' is not available" in result.output
    result = runner.invoke(command_app(), ["--engine", "psychic"])
    assert result.exit_code == 1 and "available: offline" in result.output


def test_calibrate_command_with_the_llm_engine(
    tmp_path: Path, offline_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """engine=llm builds the model grader from the settings; a transcript it cannot grade
    is reported and left out of the figures, and the command still succeeds."""

    def responder(body: dict[str, Any]) -> str:
        prompt = body["messages"][0]["content"]
        if "Franco" not in body["messages"][1]["content"]:
            return "no JSON here"  # only the loyal-debtor transcripts get an answer
        ids = re.search(r"one entry per technique id: (.+)\.\s*$", prompt)
        assert ids, "the grader prompt lists the technique ids"
        criteria = [
            {"technique_id": t.strip(), "verdict": "applied", "evidence": [], "rationale": "ok"}
            for t in ids.group(1).split(",")
        ]
        return json.dumps({"criteria": criteria})

    for name in (
        "loyal-debtor-it-good.yaml",
        "loyal-debtor-en-poor.yaml",
        "disorganized-en-poor.yaml",
    ):
        (tmp_path / name).write_text((GOLD_DIR / name).read_text(encoding="utf-8"))
    from app.config import get_settings

    with StubLLM(responder) as stub:
        monkeypatch.setenv("SPARRING_LLM_BASE_URL", stub.base_url)
        monkeypatch.setenv("SPARRING_LLM_API_KEY", "placeholder")
        monkeypatch.setenv("SPARRING_GRADER_MODEL", "grader-model")
        monkeypatch.setenv("SPARRING_LLM_MAX_RETRIES", "0")
        monkeypatch.setenv("SPARRING_GRADER_ATTEMPTS", "1")
        get_settings.cache_clear()
        out = tmp_path / "report.json"
        args = ["--engine", "llm", "--gold-dir", str(tmp_path), "--json-out", str(out)]
        result = CliRunner().invoke(command_app(), args)
    assert result.exit_code == 0, result.output
    assert "llm:grader-model" in result.output
    assert "1 transcript(s) could not be graded" in result.output
    report = json.loads(out.read_text())
    failed = [f["file"] for f in report["files"] if f["error"]]
    assert failed == ["disorganized-en-poor.yaml"]
    good, poor = (
        next(f for f in report["files"] if f["file"] == name)
        for name in ("loyal-debtor-it-good.yaml", "loyal-debtor-en-poor.yaml")
    )
    assert (good["grader_score"], poor["grader_score"]) == (100, 100)
    assert report["overall"]["n"] == 10 and report["overall"]["agreed"] == 5
    coach = [good["coach_score"], poor["coach_score"]]
    assert report["score_mae"] == pytest.approx((200 - sum(coach)) / 2)


# ---------------------------------------------------------------- coach reviews as gold


def test_export_reviews_as_gold(database_url: str, catalog: Catalog, tmp_path: Path) -> None:
    engine = get_engine(database_url)
    migrate(engine)
    persona = catalog.personas["loyal-debtor"]
    techniques = persona.techniques
    first, second, third = techniques[:3]
    lines = [
        ("client", "Buongiorno, ho qui le carte."),
        ("trainee", "Buongiorno Franco, come sta? Parliamo anche delle fatture, con calma."),
        ("client", "Eh, lo so."),
        ("trainee", ""),  # a reply cut off before any text: left out
    ]
    with Session(engine, expire_on_commit=False) as db:
        ada, carla, dino = (
            User(username=name, role=role, password_hash="x")
            for name, role in (("ada", "trainee"), ("carla", "coach"), ("dino", "coach"))
        )
        db.add_all([ada, carla, dino])
        db.commit()
        record = PracticeSession(
            persona_id=persona.id,
            language="it",
            difficulty="medium",
            seed=1,
            engine="offline",
            trainee="ada",
            user_id=ada.id,
            state={},
            status="ended",
        )
        db.add(record)
        db.commit()
        db.add_all(
            Message(session_id=record.id, seq=i, role=role, content=text)
            for i, (role, text) in enumerate(lines, start=1)
        )
        old, new = (
            Grade(
                session_id=record.id, status="done", grader="offline-heuristic", prompt_version="1"
            )
            for _ in range(2)
        )
        db.add_all([old, new])
        db.commit()
        db.add_all(
            CriterionResult(
                grade_id=grade.id,
                technique_id=t,
                name=t,
                verdict="missed",
                evidence=[],
                rationale="",
            )
            for grade in (old, new)
            for t in techniques
        )

        def review(grade: Grade, reviewer: User, technique: str, **fields: str) -> Review:
            return Review(
                session_id=record.id,
                grade_id=grade.id,
                reviewer_id=reviewer.id,
                technique_id=technique,
                **fields,
            )

        db.add_all(
            [
                review(old, carla, third, verdict="violated"),  # on an older grade: ignored
                review(new, carla, first, verdict="partial"),
                review(new, carla, first, verdict="applied"),  # she changed her mind: latest wins
                review(new, carla, second, comment="good plan"),  # a comment, no verdict
                review(new, dino, second, verdict="not_applicable"),
            ]
        )
        db.commit()

        gold = export_reviews_as_gold(db, record.id)
        assert (gold["persona"], gold["language"], gold["session_id"]) == (
            persona.id,
            "it",
            record.id,
        )
        assert gold["messages"] == [{"role": r, "content": c} for r, c in lines[:3]]
        labels = gold["labels"]
        assert list(labels) == list(techniques)
        assert (labels[first], labels[second]) == ("applied", "not_applicable")
        assert all(labels[t] == "missed" for t in techniques[2:])  # not reviewed: grader's kept
        criteria = [
            Criterion(technique_id=t, name=t, verdict=v, rationale="") for t, v in labels.items()
        ]
        assert gold["score"] == score_of(criteria)[0]
        assert "carla" in gold["note"] and "dino" in gold["note"] and third in gold["note"]

        mine = export_reviews_as_gold(db, record.id, reviewer_id=dino.id)
        assert (mine["labels"][first], mine["labels"][second]) == ("missed", "not_applicable")
        assert "carla" not in mine["note"]

        # Valid gold data: it loads and calibrates like a hand-written file.
        parse_gold(gold, catalog, f"session {record.id}")
        (tmp_path / "exported.yaml").write_text(gold_yaml(gold), encoding="utf-8")
        loaded = load_gold_dir(tmp_path, catalog)
        assert loaded[0].data.labels == labels
        report = calibrate(loaded, catalog=catalog, grader=HeuristicGrader())
        assert report.overall.n == len(techniques)

        with pytest.raises(NotFound):
            export_reviews_as_gold(db, "nope")
        with pytest.raises(Conflict):
            export_reviews_as_gold(db, record.id, reviewer_id=ada.id)
