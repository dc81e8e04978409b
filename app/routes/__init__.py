"""The HTTP routes, one module per resource: health, models, predict, and the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.registry import Registry


async def get_registry(request: Request) -> Registry:
    """The models loaded at start-up (see app.main's lifespan). ``async`` because FastAPI runs a plain
    ``def`` dependency in its thread pool: a thread hop per request for a dictionary look-up."""
    return request.app.state.registry


RegistryDep = Annotated[Registry, Depends(get_registry)]
