"""The catalogue: every persona and technique of the domain, in both languages, validated."""

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from app.catalog import LANGUAGES, PERSONAS_DIR, PROMPTS_DIR, Catalog, CatalogError, load_catalog
from app.cli import cli

DOMAIN_PERSONAS = {
    "yes-then-sells",
    "loyal-debtor",
    "impossible-idea",
    "after-hours-caller",
    "needs-approval",
    "endless-whatsapp",
    "disorganized",
    "free-advice-seeker",
    "doesnt-listen",
}
DOMAIN_TECHNIQUES = {
    "adapt-style",
    "self-examine",
    "money-in-person",
    "segment-and-plan",
    "pause-breathe",
    "check-founded",
    "apologize-remedy",
    "sustainable-alternative",
    "invite-discussion",
    "no-superiority",
    "ask-dont-tell",
    "extended-needs",
    "calm-presence",
    "no-offence-guide",
    "set-boundaries",
    "build-trust-reliability",
    "absorb-not-amplify",
    "solutions-not-problems",
    "lend-organization",
    "prevent-errors",
    "state-terms",
    "listen-first",
}


def test_every_domain_persona_and_technique_is_there(catalog: Catalog) -> None:
    assert set(catalog.personas) == DOMAIN_PERSONAS
    assert set(catalog.techniques) == DOMAIN_TECHNIQUES


def test_each_card_speaks_both_languages(catalog: Catalog) -> None:
    for persona in catalog.personas.values():
        for lang in LANGUAGES:
            assert persona.name(lang) and persona.situation(lang) and persona.trainee_role(lang)
        assert persona.name("it") != persona.name("en") or persona.situation(
            "it"
        ) != persona.situation("en")
        for beat, lines in persona.lines.items():
            for line in lines:
                assert line.messages("it") and line.messages("en"), (persona.id, beat)


def test_cards_name_their_source_articles(catalog: Catalog) -> None:
    articles = {
        p.name[:3] for p in (Path(__file__).parents[2] / "shared" / "articles").glob("*.txt")
    }
    for persona in catalog.personas.values():
        if articles:
            assert set(persona.source) <= articles, persona.id


def copy_catalog(tmp_path: Path) -> tuple[Path, Path]:
    personas, prompts = tmp_path / "personas", tmp_path / "prompts"
    shutil.copytree(PERSONAS_DIR, personas)
    shutil.copytree(PROMPTS_DIR, prompts)
    return personas, prompts


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c["difficulty"].pop("hard"), ["difficulty", "hard"]),
        (lambda c: c["name"].pop("it"), ["name.it", "Field required"]),
        (
            lambda c: c.update(techniques=["no-such-technique", *c["techniques"]]),
            ["no-such-technique"],
        ),
        (lambda c: c["lines"].pop("walk_away"), ["walk_away"]),
        (lambda c: c["reactions"].update({"telepathy": {"trust": 1}}), ["telepathy"]),
        (
            lambda c: c["triggers"][0].update(no_moves=["mind_reading"]),
            ["triggers.ashamed-after-mishap: unknown move 'mind_reading'"],
        ),
    ],
)
def test_a_broken_card_names_file_field_and_reason(tmp_path: Path, edit, expected) -> None:  # type: ignore[no-untyped-def]
    personas, prompts = copy_catalog(tmp_path)
    path = personas / "disorganized.yaml"
    card = yaml.safe_load(path.read_text())
    card.setdefault("reactions", {})
    edit(card)
    path.write_text(yaml.safe_dump(card, allow_unicode=True))
    with pytest.raises(CatalogError) as info:
        load_catalog(personas, prompts)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_personas_check_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["personas", "check"])
    assert result.exit_code == 0 and "9 personas, 22 techniques" in result.output
    personas, prompts = copy_catalog(tmp_path)
    (personas / "endless-whatsapp.yaml").write_text("id: endless-whatsapp\nname: [oops\n")
    monkeypatch.setenv("SPARRING_PERSONAS_DIR", str(personas))
    monkeypatch.setenv("SPARRING_PROMPTS_DIR", str(prompts))
    from app.config import get_settings

    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["personas", "check"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "endless-whatsapp.yaml" in result.output and "YAML" in result.output


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("(unclosed", "bad regex"), ("(?i)dimmi", "do not combine into one regex")],
)
def test_a_move_pattern_the_detector_cannot_use_is_refused(
    tmp_path: Path, pattern: str, expected: str
) -> None:
    personas, prompts = copy_catalog(tmp_path)
    path = prompts / "moves.yaml"
    moves = yaml.safe_load(path.read_text())
    moves[0]["patterns"]["it"].append(pattern)  # (?i) alone compiles, but only at the start
    path.write_text(yaml.safe_dump(moves, allow_unicode=True))
    with pytest.raises(CatalogError) as info:
        load_catalog(personas, prompts)
    assert str(path) in str(info.value) and expected in str(info.value)
