"""Which engines this deployment offers."""

from app.api.deps import EnginesDep, api_router
from app.errors import documented
from app.models import EnginePublic

router = api_router("/api", tags=["engines"])


@router.get("/engines", response_model=list[EnginePublic], responses=documented(401))
def list_engines(engines: EnginesDep) -> list[EnginePublic]:
    """`offline` is always usable; `llm` when an OpenAI-compatible endpoint is configured."""
    return [
        EnginePublic(
            name=name,
            available=(engine := engines.get(name)) is not None,
            default=engines.default == name,
            models=engine.models if engine else {},
        )
        for name in ("offline", "llm")
    ]
