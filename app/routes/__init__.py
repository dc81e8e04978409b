"""The HTTP routes, one module per resource: health, models, predict, and the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.registry import Registry


def get_registry(request: Request) -> Registry:
    """The models loaded at start-up (see app.main's lifespan)."""
    return request.app.state.registry


RegistryDep = Annotated[Registry, Depends(get_registry)]
