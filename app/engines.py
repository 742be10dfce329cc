"""Which engines this deployment can use, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, get_args

from app.catalog import Catalog, Language, Persona
from app.config import EngineName, Settings
from app.engine.actors import Actor, LLMActor, OfflineActor
from app.engine.grader import (
    HEURISTIC_GRADER,
    GradeResult,
    TranscriptMessage,
    grade_heuristic,
)
from app.engine.llm import CallRecord, LLMClient
from app.engine.llm_grader import LLMGrader

# Every engine this code has, configured here or not: a session names one of them.
ENGINE_NAMES: tuple[str, ...] = get_args(EngineName)


class Grader(Protocol):
    @property
    def name(self) -> str: ...

    def grade(
        self,
        *,
        catalog: Catalog,
        persona: Persona,
        language: Language,
        messages: list[TranscriptMessage],
        calls: list[CallRecord],
    ) -> GradeResult: ...


class HeuristicGrader:
    name = HEURISTIC_GRADER

    def grade(
        self,
        *,
        catalog: Catalog,
        persona: Persona,
        language: Language,
        messages: list[TranscriptMessage],
        calls: list[CallRecord],
    ) -> GradeResult:
        return grade_heuristic(catalog, persona, language, messages)


@dataclass
class Engine:
    actor: Actor
    grader: Grader
    models: dict[str, str] = field(default_factory=dict)


@dataclass
class Engines:
    available: dict[str, Engine]
    default: EngineName

    def get(self, name: str) -> Engine | None:
        return self.available.get(name)

    @property
    def offline(self) -> Engine:
        """The offline engine: every deployment has it."""
        return self.available["offline"]


def build_engines(settings: Settings, catalog: Catalog) -> Engines:
    offline = OfflineActor.for_catalog(catalog)
    available: dict[str, Engine] = {"offline": Engine(offline, HeuristicGrader())}
    if settings.llm_configured:
        client = LLMClient(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            keepalive=settings.llm_keepalive,
        )
        actor = LLMActor(
            client,
            model=settings.actor_model,
            temperature=settings.actor_temperature,
            prompts_dir=settings.prompts_dir,
            texts=catalog.texts["llm"],
        )
        grader = LLMGrader(
            client,
            model=settings.grader_model,
            prompts_dir=settings.prompts_dir,
            attempts=settings.grader_attempts,
            per_criterion=settings.grader_mode == "per_criterion",
        )
        models = {"actor": settings.actor_model, "grader": settings.grader_model}
        available["llm"] = Engine(actor, grader, models)
    return Engines(available, settings.default_engine)
