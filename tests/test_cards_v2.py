"""Persona cards as Character Card V2: export validates against the spec, export→import is
lossless, a card from another tool imports as a scaffold, `personas new` writes a skeleton."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from app.cards_v2 import CardV2, export_card, import_card, technique_names
from app.catalog import PERSONAS_DIR, PROMPTS_DIR, Catalog, Persona, load_catalog
from app.cli import cli
from app.config import get_settings

runner = CliRunner()
SPEC_FIELDS = {
    "name": str,
    "description": str,
    "personality": str,
    "scenario": str,
    "first_mes": str,
    "mes_example": str,
    "creator_notes": str,
    "system_prompt": str,
    "post_history_instructions": str,
    "alternate_greetings": list,
    "tags": list,
    "creator": str,
    "character_version": str,
    "extensions": dict,
}

# Written by hand from the chara_card_v2 spec, as another role-play tool would save it.
THIRD_PARTY = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Greta Holm",
        "description": "{{char}} owns a bakery chain and hired {{user}} to rebuild the website.",
        "personality": "Impatient, detail-obsessed, changes her mind daily.",
        "scenario": "{{char}} calls {{user}} at 22:30 about the homepage colours.",
        "first_mes": "It's me again. The blue is wrong. Can we talk now?",
        "mes_example": "<START>\n{{user}}: Hi Greta.\n{{char}}: Finally!",
        "creator_notes": "Made for a customer-service workshop.",
        "system_prompt": "",
        "post_history_instructions": "",
        "alternate_greetings": ["Sorry for the hour. Actually, no, I'm not sorry."],
        "tags": ["client", "bakery"],
        "creator": "someone else",
        "character_version": "3",
        "extensions": {"depth_prompt": {"prompt": "Stay in character.", "depth": 4}, "fav": True},
    },
}


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set SPARRING_* variables for the CLI, as a shell would."""

    def use(**env: str) -> None:
        for key, value in env.items():
            monkeypatch.setenv(f"SPARRING_{key.upper()}", value)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def invoke(*args: str) -> Any:
    result = runner.invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result


def export(persona_id: str, lang: str = "en") -> dict[str, Any]:
    result = invoke("personas", "export", persona_id, "--lang", lang)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def personas_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "personas"
    folder.mkdir()
    for card in PERSONAS_DIR.glob("*.yaml"):
        (folder / card.name).write_bytes(card.read_bytes())
    return folder


# ---------------------------------------------------------------- export


def raw_card(persona_id: str) -> dict[str, Any]:
    return yaml.safe_load((PERSONAS_DIR / f"{persona_id}.yaml").read_text("utf-8"))


def check_spec_fields(card: dict[str, Any]) -> None:
    assert set(card) == {"spec", "spec_version", "data"}
    assert (card["spec"], card["spec_version"]) == ("chara_card_v2", "2.0")
    data = card["data"]
    assert set(data) == set(SPEC_FIELDS)
    for field, kind in SPEC_FIELDS.items():
        assert isinstance(data[field], kind), field
    assert all(isinstance(item, str) for item in data["alternate_greetings"] + data["tags"])
    CardV2.model_validate(card)


@pytest.mark.parametrize("lang", ["en", "it"])
def test_every_exported_card_has_exactly_the_spec_fields(catalog: Catalog, lang: str) -> None:
    for persona in catalog.persona_list:
        card = export_card(persona, raw_card(persona.id), lang)  # type: ignore[arg-type]
        check_spec_fields(card)
        data = card["data"]
        assert data["name"] == persona.name(lang)
        assert data["description"] == persona.situation(lang)
        assert data["personality"] == persona.personality(lang)
        assert persona.trainee_role(lang) in data["scenario"]
        assert data["first_mes"] == "\n\n".join(persona.lines["opening"][0].messages(lang))
        assert data["extensions"]["sparring"] == raw_card(persona.id)


def test_personas_export_writes_the_card_as_json(tmp_path: Path) -> None:
    out = tmp_path / "card.json"
    result = invoke("personas", "export", "yes-then-sells", "--lang", "it", "-o", str(out))
    assert result.exit_code == 0, result.output
    card = json.loads(out.read_text("utf-8"))
    check_spec_fields(card)
    assert card["data"]["name"] == "Roberto Valsecchi"
    assert card["data"]["scenario"].startswith("{{user}} è: Consulente finanziario.")


def test_export_then_import_gives_back_the_same_card(tmp_path: Path, catalog: Catalog) -> None:
    techniques = technique_names(PROMPTS_DIR)
    out = tmp_path / "out"
    out.mkdir()
    for persona in catalog.persona_list:
        card = export_card(persona, raw_card(persona.id), "en")
        imported = import_card(json.loads(json.dumps(card)), techniques, lang="en")
        assert not imported.scaffolded and imported.kept_extensions == {}
        assert yaml.safe_load(imported.yaml_text) == raw_card(persona.id)
        (out / f"{persona.id}.yaml").write_text(imported.yaml_text, "utf-8")
    assert load_catalog(out).personas == catalog.personas
    # and the same through the command line
    source = tmp_path / "card.json"
    source.write_text(json.dumps(export("needs-approval")), encoding="utf-8")
    target = tmp_path / "cli" / "needs-approval.yaml"
    result = invoke("personas", "import", str(source), "-o", str(target))
    assert result.exit_code == 0 and f"wrote {target}" in result.stdout
    assert yaml.safe_load(target.read_text("utf-8")) == raw_card("needs-approval")
    assert not target.with_name("needs-approval.card-v2.json").exists()


def test_other_tools_extension_keys_survive_import_then_export(
    tmp_path: Path, settings_env: Callable[..., None]
) -> None:
    card = export("loyal-debtor")
    card["data"]["extensions"] |= {"depth_prompt": {"depth": 4}, "chub": {"id": 7}}
    source = tmp_path / "card.json"
    source.write_text(json.dumps(card), encoding="utf-8")
    folder = personas_copy(tmp_path)
    settings_env(personas_dir=str(folder))
    result = invoke("personas", "import", str(source), "--force")
    assert result.exit_code == 0, result.output
    assert "loyal-debtor.card-v2.json" in result.stdout
    again = export("loyal-debtor")
    assert again["data"]["extensions"] == card["data"]["extensions"]


def test_png_cards_are_read_from_their_chara_chunk(tmp_path: Path) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    encoded = base64.b64encode(json.dumps(THIRD_PARTY).encode())
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", bytes(13)) + chunk(b"tEXt", b"chara\x00" + encoded)
    path = tmp_path / "greta.png"
    path.write_bytes(png + chunk(b"IEND", b""))
    result = invoke("personas", "import", str(path), "-o", str(tmp_path / "greta.yaml"))
    assert result.exit_code == 0, result.output
    assert "Greta Holm" in (tmp_path / "greta.yaml").read_text("utf-8")


# ---------------------------------------------------------------- a card from another tool


def test_a_third_party_card_imports_as_a_filled_scaffold(tmp_path: Path) -> None:
    source = tmp_path / "greta.json"
    source.write_text(json.dumps(THIRD_PARTY), encoding="utf-8")
    target = tmp_path / "personas" / "greta-holm.yaml"
    result = invoke("personas", "import", str(source), "-o", str(target), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "complete the card" in result.stdout
    card = yaml.safe_load(target.read_text("utf-8"))
    assert card["id"] == "greta-holm"
    assert card["name"] == {"it": "", "en": "Greta Holm"}
    assert card["personality"]["en"] == THIRD_PARTY["data"]["personality"]
    situation = card["situation"]["en"]
    assert situation.startswith("Greta Holm owns a bakery chain and hired {{user}}")
    assert "Greta Holm calls {{user}} at 22:30" in situation  # the scenario too
    openings = card["lines"]["opening"]
    assert [line["en"] for line in openings] == [
        "It's me again. The blue is wrong. Can we talk now?",
        "Sorry for the hour. Actually, no, I'm not sorry.",
    ]
    assert all(line["it"] == [] for line in openings)  # to write, and validation says so
    kept = json.loads(target.with_name("greta-holm.card-v2.json").read_text("utf-8"))
    assert kept == {"extensions": THIRD_PARTY["data"]["extensions"]}
    with pytest.raises(ValidationError) as missing:
        Persona.model_validate(card)
    fields = {".".join(str(p) for p in e["loc"]) for e in missing.value.errors()}
    assert {"name.it", "source", "techniques", "trainee_role.en"} <= fields
    assert "name.en" not in fields and "personality.en" not in fields


def test_a_v1_card_without_spec_imports_too(tmp_path: Path) -> None:
    source = tmp_path / "v1.json"
    source.write_text(json.dumps({"name": "Old Card", "first_mes": "Hello."}), encoding="utf-8")
    target = tmp_path / "old.yaml"
    result = invoke("personas", "import", str(source), "-o", str(target), "--id", "old-card")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(target.read_text("utf-8"))["id"] == "old-card"


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ({"spec": "chara_card_v3", "spec_version": "3.0", "data": {}}, "spec: expected"),
        ({"spec": "chara_card_v2", "spec_version": "1.0", "data": {}}, "spec_version"),
        ({"spec": "chara_card_v2", "spec_version": "2.0", "data": {}}, "data.name: Field required"),
        (
            {
                "spec": "chara_card_v2",
                "spec_version": "2.0",
                "data": {"name": "X", "extensions": {"sparring": {"id": "x"}}},
            },
            "data.extensions.sparring.source: Field required",
        ),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_a_bad_card_is_a_one_line_error_naming_the_field(
    tmp_path: Path, card: object, message: str
) -> None:
    source = tmp_path / "card.json"
    source.write_text(json.dumps(card), encoding="utf-8")
    result = invoke("personas", "import", str(source), "-o", str(tmp_path / "x.yaml"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {source}: ") and message in result.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_png_without_a_card_and_non_json_files_are_refused(tmp_path: Path) -> None:
    png = tmp_path / "plain.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 0) + b"IEND" + bytes(4))
    assert "no character card" in invoke("personas", "import", str(png)).stderr
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    assert "not a JSON card" in invoke("personas", "import", str(text)).stderr


# ---------------------------------------------------------------- personas new


def fill(card: dict[str, Any], techniques: list[str]) -> dict[str, Any]:
    """What an author does with the skeleton: write every text, pick sources and techniques."""

    def texts(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: texts(v) for k, v in value.items()}
        if value == "":
            return "Written by the author."
        if value == []:
            return ["Written by the author."]
        return value

    filled = texts({k: v for k, v in card.items() if k not in ("lines", "techniques", "triggers")})
    filled["triggers"] = card["triggers"]
    filled["source"] = ["003"]
    filled["techniques"] = techniques[:2]
    filled["lines"] = {beat: [{"it": "Ciao.", "en": "Hello."}] for beat in card["lines"]}
    return filled


def test_personas_new_writes_a_skeleton_that_validates_once_filled(
    tmp_path: Path, catalog: Catalog, settings_env: Callable[..., None]
) -> None:
    folder = personas_copy(tmp_path)
    settings_env(personas_dir=str(folder))
    result = invoke("personas", "new", "late-payer")
    assert result.exit_code == 0, result.output
    path = folder / "drafts" / "late-payer.yaml"
    assert f"wrote {path}" in result.stdout and f"move it into {folder}" in result.stdout
    text = path.read_text("utf-8")
    assert "#   state-terms: State your terms" in text  # the techniques to choose from
    skeleton = yaml.safe_load(text)
    assert skeleton["id"] == "late-payer"
    # a half-written card is not offered, and does not stop the server from starting
    assert load_catalog(folder).personas == catalog.personas
    check = invoke("personas", "check")
    assert check.exit_code == 1 and "late-payer.yaml: source" in check.stderr
    assert "name.it: String should have at least 1 character" in check.stderr
    assert "9 personas" in check.stdout  # the ones offered are still checked

    path.write_text(yaml.safe_dump(fill(skeleton, sorted(catalog.techniques))), "utf-8")
    done = invoke("personas", "check")
    assert done.exit_code == 0 and f"draft ok  {path}: move it into {folder}" in done.stdout
    path.rename(folder / "late-payer.yaml")
    assert "late-payer" in load_catalog(folder).personas
    assert invoke("personas", "new", "another").exit_code == 0  # while one is half-written

    invoke("personas", "new", "late-payer")
    again = invoke("personas", "new", "late-payer")
    assert again.exit_code == 1 and "--force" in again.stderr
    assert invoke("personas", "new", "late-payer", "--force").exit_code == 0
    bad = invoke("personas", "new", "Late Payer")
    assert bad.exit_code == 2 and "lowercase" in bad.stderr


def test_export_of_an_unknown_persona_lists_the_known_ones() -> None:
    result = invoke("personas", "export", "nobody")
    assert result.exit_code == 1 and "yes-then-sells" in result.stderr
    assert invoke("personas", "export", "loyal-debtor", "--lang", "fr").exit_code == 2
