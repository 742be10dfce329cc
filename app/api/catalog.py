"""Personas and techniques, in the language asked for."""

from typing import Annotated

from fastapi import Query

from app.api.deps import CatalogDep, api_router
from app.catalog import DIFFICULTIES, Language, Persona
from app.errors import documented
from app.models import (
    DifficultyPublic,
    PersonaPublic,
    PersonaSummary,
    TechniquePublic,
    TechniqueRef,
)
from app.records import persona_or_404

router = api_router("/api", tags=["catalogue"])
LangQuery = Annotated[Language, Query(description="language of the texts: it or en")]


def _summary(persona: Persona, lang: Language) -> dict[str, object]:
    return {
        "id": persona.id,
        "name": persona.name(lang),
        "title": persona.title(lang),
        "situation": persona.situation(lang),
        "trainee_role": persona.trainee_role(lang),
        "source": persona.source,
        "difficulties": list(DIFFICULTIES),
    }


@router.get("/personas", response_model=list[PersonaSummary], responses=documented(401, 422))
def list_personas(catalog: CatalogDep, lang: LangQuery = "it") -> list[PersonaSummary]:
    """Every persona the simulator can play."""
    return [PersonaSummary.model_validate(_summary(p, lang)) for p in catalog.persona_list]


@router.get(
    "/personas/{persona_id}",
    response_model=PersonaPublic,
    responses=documented(401, (404, "No persona with this id."), 422),
)
def get_persona(persona_id: str, catalog: CatalogDep, lang: LangQuery = "it") -> PersonaPublic:
    """One persona card: who the client is, what softens and hardens them, how you are graded."""
    persona = persona_or_404(catalog, persona_id)
    return PersonaPublic.model_validate(
        {
            **_summary(persona, lang),
            "personality": persona.personality(lang),
            "goal": persona.goal(lang),
            "signature_behaviours": persona.signature_behaviours(lang),
            "softened_by": persona.softened_by(lang),
            "hardened_by": persona.hardened_by(lang),
            "walk_away_rules": persona.walk_away_rules(lang),
            "techniques": [
                TechniqueRef(id=t, name=catalog.techniques[t].name(lang))
                for t in persona.techniques
            ],
            "meters": persona.meters,
            "difficulty": [
                DifficultyPublic(
                    level=level,
                    description=spec.description(lang),
                    turn_limit=spec.turn_limit,
                    meters=spec.meters,
                )
                for level, spec in persona.difficulty.items()
            ],
        }
    )


@router.get("/techniques", response_model=list[TechniquePublic], responses=documented(401, 422))
def list_techniques(catalog: CatalogDep, lang: LangQuery = "it") -> list[TechniquePublic]:
    """The techniques trainees are graded on, with their cues and anti-patterns."""
    return [
        TechniquePublic(
            id=t.id,
            name=t.name(lang),
            description=t.description(lang),
            source=t.source,
            positive_cues=t.cues.text(lang),
            anti_patterns=t.anti_patterns.text(lang),
            better_phrasing=t.better_phrasing(lang),
        )
        for t in catalog.techniques.values()
    ]
