"""Which engines this deployment offers."""

from fastapi import APIRouter, Depends

from app.api.deps import EnginesDep, SessionRoute, current_user
from app.models import EnginePublic

router = APIRouter(
    route_class=SessionRoute, prefix="/api", tags=["engines"], dependencies=[Depends(current_user)]
)


@router.get("/engines", response_model=list[EnginePublic])
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
