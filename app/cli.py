"""The `sparring` command: serve the app, check the persona cards."""

import typer

from app.catalog import CatalogError, load_catalog

cli = typer.Typer(help="Sparring: practise with difficult clients.", no_args_is_help=True)
personas = typer.Typer(help="Persona cards.", no_args_is_help=True)
cli.add_typer(personas, name="personas")


@cli.command()
def serve(
    host: str | None = typer.Option(None, help="default: SPARRING_HOST or 127.0.0.1"),
    port: int | None = typer.Option(None, help="default: SPARRING_PORT or 8000"),
    reload: bool = typer.Option(False, help="restart on code changes (development)"),
) -> None:
    """Start the web service."""
    import uvicorn

    from app.config import get_settings

    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
    )


@personas.command("check")
def personas_check() -> None:
    """Validate every persona card and the technique catalogue without starting the server."""
    from app.config import get_settings

    settings = get_settings()
    try:
        catalog = load_catalog(settings.personas_dir, settings.prompts_dir)
    except CatalogError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    for persona in catalog.persona_list:
        typer.echo(f"ok  {persona.id:22} {persona.name('en')}")
    typer.echo(
        f"{len(catalog.personas)} personas, {len(catalog.techniques)} techniques, "
        f"{len(catalog.moves)} moves: all valid"
    )


def main() -> None:
    cli()
