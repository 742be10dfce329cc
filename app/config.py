"""Settings from the environment (prefix SPARRING_) or a .env file, in one place."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
EngineName = Literal["offline", "llm"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPARRING_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{ROOT / 'transcripts' / 'sparring.db'}"
    personas_dir: Path = ROOT / "personas"
    prompts_dir: Path = ROOT / "prompts"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)  # server processes: up to one per core
    max_message_chars: int = Field(default=4000, ge=1)
    max_turns_per_session: int = Field(default=60, ge=1)  # a cap above any persona's turn limit
    default_page_size: int = Field(default=20, ge=1, le=200)
    sessions_per_hour: int = Field(default=30, ge=1)  # per user
    model_grades_per_hour: int = Field(default=30, ge=1)  # per user, chats graded by the model
    max_body_bytes: int = Field(default=256 * 1024, ge=1)  # larger request bodies get 413
    max_upload_bytes: int = Field(default=16 * 1024 * 1024, ge=1)  # chat files, imports
    grade_sweep_seconds: float = 60  # how often to look for grades a crash left pending
    grade_stale_after_seconds: float = 600  # a pending grade older than this is re-run
    cookie_secure: bool = False  # set true behind TLS so the login cookie never goes in clear
    # the CLI's default --lang: of a practise session, an assignment, a card, an llm-check
    language: Literal["it", "en"] = "it"

    # The llm engine: any OpenAI-compatible endpoint. Unset base URL means OpenAI itself.
    llm_base_url: str | None = None
    llm_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("SPARRING_LLM_API_KEY", "OPENAI_API_KEY")
    )
    actor_model: str = "gpt-4o-mini"
    grader_model: str = "gpt-4o-mini"
    actor_temperature: float = 0.8
    llm_timeout: float = Field(default=60.0, gt=0)  # seconds per request
    llm_max_retries: int = Field(default=2, ge=0, le=10)  # SDK retries on 429/5xx/connection
    llm_keepalive: float = Field(default=120.0, ge=0)  # seconds an idle model connection is kept
    grader_attempts: int = Field(default=2, ge=1, le=5)  # re-asks on invalid grader output
    grader_mode: Literal["single", "per_criterion"] = "single"

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url or self.llm_api_key)

    @property
    def default_engine(self) -> EngineName:
        return "llm" if self.llm_configured else "offline"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def settings_problem(exc: ValidationError) -> str:
    """A refused setting, named the way it was set: SPARRING_PORT: …, not a pydantic report."""
    first = exc.errors()[0]
    name = f"SPARRING_{str(first['loc'][0]).upper()}" if first["loc"] else "a setting"
    value = first.get("input")
    shown = f"={value}" if isinstance(value, str | int | float) else ""
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{name}{shown}: {first['msg']}{more}"
