"""`sparring personas …`: check the persona cards, write a new one, and move cards to and
from Character Card V2, the format other role-play tools read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

from app import cli_common as common
from app.catalog import CatalogError
from app.cli_options import ForceOption, LangOption, OutputOption

personas = typer.Typer(help="Persona cards.", no_args_is_help=True)

CardOutputOption = Annotated[
    Path | None,
    typer.Option(
        "-o", "--output", help="default: personas/drafts/ID.yaml until the card is complete"
    ),
]
DRAFTS = "drafts"  # under the personas folder: cards being written, which the server ignores


@personas.command("check")
def personas_check() -> None:
    """Validate every persona card and the technique catalogue without starting the server,
    and the drafts in personas/drafts/ (which the server does not offer)."""
    from app.catalog import read_card

    catalog = common.catalog()
    for persona in catalog.persona_list:
        typer.echo(f"ok  {persona.id:22} {persona.name('en')}")
    typer.echo(
        f"{len(catalog.personas)} personas, {len(catalog.techniques)} techniques, "
        f"{len(catalog.moves)} moves: all valid"
    )
    drafts = common.settings().personas_dir / DRAFTS
    unfinished = 0
    for path in sorted(drafts.glob("*.yaml")):
        try:
            read_card(path, catalog.techniques, catalog.moves)
        except CatalogError as exc:
            unfinished += 1
            typer.echo(f"draft not valid yet: {exc}", err=True)
        else:
            typer.echo(f"draft ok  {path}: move it into {drafts.parent} to offer it")
    if unfinished:
        raise typer.Exit(1)


def _card_path(persona_id: str, output: Path | None, *, complete: bool = False) -> Path:
    """Where a card goes: a complete one with the others, one to fill in among the drafts,
    so that a half-written card never stops the server from starting."""
    folder = common.settings().personas_dir
    return output or (folder if complete else folder / DRAFTS) / f"{persona_id}.yaml"


def _techniques() -> dict[str, str]:
    from app.cards_v2 import CardError, technique_names

    try:
        return technique_names(common.settings().prompts_dir)
    except CardError as exc:
        common.fail(str(exc))


def _save_card(path: Path, text: str, force: bool) -> None:
    if path.exists() and not force:
        common.fail(f"{path} exists: pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        common.fail(f"cannot write {path}: {exc}")


@personas.command("new")
def personas_new(
    persona_id: Annotated[str, typer.Argument(metavar="ID", help="e.g. late-payer")],
    output: CardOutputOption = None,
    force: ForceOption = False,
) -> None:
    """Write a card skeleton to fill in (it validates once every field is written)."""
    from app.cards_v2 import CardError, scaffold

    try:
        text = scaffold(persona_id, _techniques())
    except CardError as exc:
        common.fail(str(exc), 2)
    path = _card_path(persona_id, output)
    _save_card(path, text, force)
    typer.echo(
        f"wrote {path}: fill it in, run `sparring personas check`, then move it into "
        f"{common.settings().personas_dir} to offer it"
    )


@personas.command("export")
def personas_export(
    persona_id: Annotated[str, typer.Argument(metavar="ID")],
    lang: LangOption = None,
    output: OutputOption = None,
) -> None:
    """Export a persona as a Character Card V2 (JSON), texts in --lang."""
    from app.cards_v2 import CardError, export_card, read_kept

    language = common.language(lang)
    catalog = common.catalog()
    persona = common.persona(catalog, persona_id)
    path = common.settings().personas_dir / f"{persona_id}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        card = export_card(persona, raw, language, read_kept(path))
    except (OSError, CardError) as exc:
        common.fail(str(exc))
    common.write(json.dumps(card, ensure_ascii=False, indent=2) + "\n", output)


@personas.command("import")
def personas_import(
    file: Annotated[Path, typer.Argument(help="a Character Card V2 (.json, or a .png card)")],
    output: CardOutputOption = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help="the language of the card's texts (default: SPARRING_LANGUAGE, it)"
        ),
    ] = None,
    persona_id: Annotated[str | None, typer.Option("--id", help="default: from the card")] = None,
    force: ForceOption = False,
) -> None:
    """Import a Character Card V2: a Sparring export whole, another tool's as a scaffold."""
    from app.cards_v2 import CardError, import_card, read_card, write_kept

    language = common.language(lang)
    try:
        card = read_card(common.read_bytes(file))
        imported = import_card(card, _techniques(), lang=language, persona_id=persona_id)
    except CardError as exc:
        common.fail(f"{file}: {exc}")
    path = _card_path(imported.persona_id, output, complete=not imported.scaffolded)
    _save_card(path, imported.yaml_text, force)
    kept = write_kept(path, imported.kept_extensions)
    typer.echo(f"wrote {path}" + (f" and {kept} (other tools' extensions)" if kept else ""))
    if imported.scaffolded:
        typer.echo(
            "complete the card in both languages, run `sparring personas check`, then move it "
            f"into {common.settings().personas_dir} to offer it"
        )
