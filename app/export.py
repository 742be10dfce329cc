"""Render a stored session for people: a Markdown report from a Jinja2 template."""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.catalog import Catalog
from app.models import SessionDetail

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def session_markdown(catalog: Catalog, data: SessionDetail) -> str:
    persona = catalog.personas[data.session.persona_id]
    lang = data.session.language
    return _env.get_template("export.md.j2").render(
        s=data.session,
        persona_name=persona.name(lang),
        persona_title=persona.title(lang),
        messages=data.messages,
        grade=data.grade,
        labels={k: v(lang) for k, v in catalog.texts["export"].items()},  # type: ignore[arg-type]
    )
