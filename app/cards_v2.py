"""Persona cards in the Character Card V2 format (`chara_card_v2`, spec 2.0).

Other role-play tools read and write V2 cards, so a persona can travel both ways. Export
fills the spec's fields from the card's texts in one language and carries the whole
Sparring card under `data.extensions.sparring`, so export then import gives the same card.
A card from another tool (no `sparring` extension) imports as a scaffolded Sparring card
with its name, description, personality, scenario and greetings filled in, for the author
to complete. Other tools' extension keys are kept beside the card in `ID.card-v2.json` (the
Sparring card schema has no place for them) and written back on export.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.catalog import LANGUAGES, Language, Persona

SPEC: Literal["chara_card_v2"] = "chara_card_v2"
SPEC_VERSION: Literal["2.0"] = "2.0"
EXTENSION = "sparring"
SIDECAR_SUFFIX = ".card-v2.json"
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
TEXT_FIELDS = ("name", "title", "situation", "trainee_role", "personality", "goal")
_PNG = b"\x89PNG\r\n\x1a\n"
_MACRO_CHAR = re.compile(r"\{\{char\}\}|<BOT>", re.IGNORECASE)

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)
# JSON strings are valid YAML double-quoted scalars: any text is safe in the template.
_templates.filters["q"] = lambda value: json.dumps(value, ensure_ascii=False)
_templates.filters["one_line"] = lambda value: " ".join(str(value).split())  # for YAML comments
# A line missing in one language is `[]`, which validation reports until it is written.
_templates.filters["q_line"] = lambda value: _templates.filters["q"](value) if value else "[]"


class CardError(Exception):
    """A card file is not a usable V2 card; the message names the field and why."""


class CardData(BaseModel):
    """The spec's `data` object, exactly: what an exported card must hold."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    personality: str
    scenario: str
    first_mes: str
    mes_example: str
    creator_notes: str
    system_prompt: str
    post_history_instructions: str
    alternate_greetings: list[str]
    tags: list[str]
    creator: str
    character_version: str
    extensions: dict[str, Any]


class CardV2(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: Literal["chara_card_v2"]
    spec_version: Literal["2.0"]
    data: CardData


class IncomingData(BaseModel):
    """A card's `data` as other tools write it: only the name is required on import."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1)
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    alternate_greetings: list[str] = []
    extensions: dict[str, Any] = {}


class Imported(BaseModel):
    persona_id: str
    yaml_text: str  # the Sparring card to write
    kept_extensions: dict[str, Any]  # other tools' keys, for the sidecar
    scaffolded: bool  # True: texts from another tool, the author must complete the card


def _explain(prefix: str, exc: ValidationError) -> CardError:
    problems = "; ".join(
        f"{'.'.join([prefix, *(str(p) for p in err['loc'])])}: {err['msg']}"
        for err in exc.errors()[:8]
    )
    return CardError(problems)


# ---------------------------------------------------------------- scaffolding


def technique_names(prompts_dir: Path) -> dict[str, str]:
    """Technique id → English name, read without the persona cards (which may be half-written
    while an author works on one)."""
    path = prompts_dir / "techniques.yaml"
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
        return {str(t["id"]): str(t["name"]["en"]) for t in items}
    except (OSError, yaml.YAMLError, TypeError, KeyError) as exc:
        raise CardError(f"{path}: cannot read the techniques: {exc}") from exc


def scaffold(
    persona_id: str,
    techniques: dict[str, str],
    *,
    texts: Mapping[str, Mapping[Language, str]] | None = None,
    openings: Sequence[Mapping[Language, str]] | None = None,
    imported_from: str | None = None,
) -> str:
    """A card skeleton from the template: valid YAML that validates once filled in."""
    if not ID_PATTERN.match(persona_id):
        raise CardError(f"id '{persona_id}': use lowercase letters, digits and dashes")
    given = texts or {}
    filled = {f: {lang: given.get(f, {}).get(lang, "") for lang in LANGUAGES} for f in TEXT_FIELDS}
    return _templates.get_template("persona_card.yaml.j2").render(
        id=persona_id,
        texts=filled,
        openings=openings or [],
        techniques=sorted(techniques.items()),
        imported_from=imported_from,
    )


# ---------------------------------------------------------------- export


def export_card(
    persona: Persona, raw: dict[str, Any], lang: Language, kept: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The V2 card of a persona: texts in `lang`, the whole card under extensions.sparring."""
    openings = ["\n\n".join(line.messages(lang)) for line in persona.lines["opening"]]
    beats = ("answer_question", "react_hard")
    examples = [persona.lines[beat][0].messages(lang)[0] for beat in beats]
    scenario = _templates.get_template("card_v2_scenario.txt.j2").render(
        lang=lang,
        user="{{user}}",
        role=persona.trainee_role(lang),
        goal=persona.goal(lang),
    )
    data = CardData(
        name=persona.name(lang),
        description=persona.situation(lang),
        personality=persona.personality(lang),
        scenario=scenario.strip(),
        first_mes=openings[0],
        mes_example="".join(f"<START>\n{{{{char}}}}: {text}\n" for text in examples),
        creator_notes=persona.title(lang),
        system_prompt="",
        post_history_instructions="",
        alternate_greetings=openings[1:],
        tags=["sparring", *persona.techniques],
        creator="Sparring",
        character_version="1",
        extensions={**(kept or {}), EXTENSION: raw},
    )
    return CardV2(spec=SPEC, spec_version=SPEC_VERSION, data=data).model_dump()


def sidecar(card_path: Path) -> Path:
    return card_path.with_name(card_path.stem + SIDECAR_SUFFIX)


def read_kept(card_path: Path) -> dict[str, Any]:
    """Other tools' extension keys saved when the card was imported (none if no sidecar)."""
    path = sidecar(card_path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CardError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("extensions", {}), dict):
        raise CardError(f'{path}: expected {{"extensions": {{...}}}}')
    return data.get("extensions", {})


def write_kept(card_path: Path, kept: dict[str, Any]) -> Path | None:
    path = sidecar(card_path)
    if not kept:
        return None
    text = json.dumps({"extensions": kept}, ensure_ascii=False, indent=2)
    path.write_text(text + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- import


def read_card(data: bytes) -> dict[str, Any]:
    """A card from a JSON file, or from the `chara` text chunk of a PNG card."""
    if data.startswith(_PNG):
        data = _png_chara(data)
    try:
        card = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CardError(f"not a JSON card: {exc}") from exc
    if not isinstance(card, dict):
        raise CardError("expected a JSON object with spec, spec_version and data")
    return card


def _png_chara(data: bytes) -> bytes:
    """The base64 JSON that card tools store in a PNG `tEXt` chunk named `chara`."""
    offset = len(_PNG)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"tEXt" and body.startswith(b"chara\x00"):
            try:
                return base64.b64decode(body[len(b"chara\x00") :], validate=True)
            except binascii.Error as exc:
                raise CardError(f"the PNG's chara chunk is not base64: {exc}") from exc
        offset += 12 + length
    raise CardError("the PNG holds no character card (no tEXt chunk named 'chara')")


def import_card(
    card: dict[str, Any],
    techniques: dict[str, str],
    *,
    lang: Language,
    persona_id: str | None = None,
) -> Imported:
    """A Sparring card from a V2 card: the embedded one if present, else a filled scaffold."""
    if card.get("spec") is None and "name" in card:
        card = {"spec": SPEC, "spec_version": SPEC_VERSION, "data": card}  # a V1 card
    if card.get("spec") != SPEC:
        raise CardError(f"spec: expected '{SPEC}', got {card.get('spec')!r}")
    if str(card.get("spec_version")) != SPEC_VERSION:
        got = card.get("spec_version")
        raise CardError(f"spec_version: expected '{SPEC_VERSION}', got {got!r}")
    try:
        data = IncomingData.model_validate(card.get("data"))
    except ValidationError as exc:
        raise _explain("data", exc) from exc
    kept = {k: v for k, v in data.extensions.items() if k != EXTENSION}
    own = data.extensions.get(EXTENSION)
    if own is not None:
        return _embedded(own, techniques, persona_id, kept)
    new_id = persona_id or _slug(data.name)
    situation = "\n\n".join(t for t in (data.description, data.scenario) if t.strip())
    texts = {
        "name": {lang: data.name},
        "situation": {lang: _chars(data, situation)},
        "personality": {lang: _chars(data, data.personality)},
    }
    greetings = [g for g in (data.first_mes, *data.alternate_greetings) if g.strip()]
    openings = [{lang: _chars(data, g), _other(lang): ""} for g in greetings]
    text = scaffold(new_id, techniques, texts=texts, openings=openings, imported_from=data.name)
    return Imported(persona_id=new_id, yaml_text=text, kept_extensions=kept, scaffolded=True)


def _embedded(
    own: object, techniques: dict[str, str], persona_id: str | None, kept: dict[str, Any]
) -> Imported:
    if not isinstance(own, dict):
        raise CardError(f"data.extensions.{EXTENSION}: expected the Sparring card as an object")
    if persona_id:
        own = {**own, "id": persona_id}
    try:
        persona = Persona.model_validate(own)
    except ValidationError as exc:
        raise _explain(f"data.extensions.{EXTENSION}", exc) from exc
    if unknown := [t for t in persona.techniques if t not in techniques]:
        raise CardError(f"data.extensions.{EXTENSION}.techniques: unknown {unknown}")
    text = yaml.safe_dump(own, sort_keys=False, allow_unicode=True, width=100)
    return Imported(persona_id=persona.id, yaml_text=text, kept_extensions=kept, scaffolded=False)


def _chars(data: IncomingData, text: str) -> str:
    """Replace the {{char}} macro with the character's name; {{user}} stays for the author."""
    return _MACRO_CHAR.sub(data.name, text).strip()


def _other(lang: Language) -> Language:
    return next(other for other in LANGUAGES if other != lang)


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if not slug:
        raise CardError(f"cannot make an id from the name {name!r}: pass --id")
    return slug[:64].strip("-")
