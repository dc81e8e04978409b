"""GET /healthz: the service is up and its models are loaded."""

from __future__ import annotations

from fastapi import APIRouter

from app.routes import RegistryDep
from app.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse, summary="Liveness and readiness")
async def healthz(registry: RegistryDep) -> HealthResponse:
    """200 once every model is loaded (the service does not accept connections before that)."""
    return HealthResponse(models=registry.names, default_model=registry.default)
