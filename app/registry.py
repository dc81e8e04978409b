"""The models the service answers with: every ``*.npz`` in the models folder, loaded once at start-up.

A model's name is its file name without ``.npz`` (``classic.npz`` → ``classic``). Requests name
models; names are only ever looked up in the loaded set, never joined into a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from app.errors import InputError
from app.schemas import ModelInfo, NetworkInfo
from model.average import Average
from model.weights import Model, WeightsError, load


class StartupError(Exception):
    """The service cannot start; the message names the file or setting and the problem."""


class UnknownModelError(InputError):
    """A request named a model that is not loaded (404)."""

    def __init__(self, name: str, available: list[str]) -> None:
        shown = name if len(name) <= 64 else name[:64] + "…"
        message = f"No model named {shown!r}. Available models: {', '.join(available)} (see /api/models)."
        super().__init__(message, status_code=404)


@dataclass
class LoadedModel:
    """A model as served: its name, the network and metadata, and the description /api/models shows."""

    name: str
    model: Model
    info: ModelInfo


class Registry:
    """The loaded models by name, and which one answers when a request names none."""

    def __init__(self, models: dict[str, LoadedModel], default: str) -> None:
        if default not in models:
            raise StartupError(f"default model {default!r} is not among the loaded models ({', '.join(models)})")
        self.models = models
        self.default = default

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def get(self, name: str | None) -> LoadedModel:
        """The named model (the default when ``name`` is None); raise UnknownModelError otherwise."""
        chosen = self.default if name is None else name
        if chosen not in self.models:
            raise UnknownModelError(chosen, self.names)
        return self.models[chosen]


def load_models(folder: Path, default: str) -> Registry:
    """Load every ``*.npz`` in ``folder``; raise StartupError naming the folder or file on any problem."""
    if not folder.is_dir():
        raise StartupError(f"models folder {folder} does not exist (set DIGITPAD_MODELS_DIR)")
    paths = sorted(path for path in folder.glob("*.npz") if path.is_file())
    if not paths:
        raise StartupError(f"models folder {folder} has no *.npz weights files (train some with `make train`)")
    models: dict[str, LoadedModel] = {}
    for path in paths:
        try:
            model = load(path)
        except WeightsError as err:
            raise StartupError(str(err)) from None
        except Exception as err:  # e.g. zlib.error from a damaged compressed array, which load() lets through
            raise StartupError(f"{path}: not a readable weights file ({type(err).__name__}: {err})") from None
        name = path.stem
        try:
            info = describe(name, model, is_default=name == default)
        except (ValidationError, TypeError, ValueError) as err:
            raise StartupError(f"{path}: metadata does not describe the model ({err})") from None
        models[name] = LoadedModel(name, model, info)
    if default not in models:
        raise StartupError(
            f"default model {default!r} has no file {folder / (default + '.npz')}; "
            f"found {', '.join(models)} (set DIGITPAD_DEFAULT_MODEL to one of them)"
        )
    return Registry(models, default)


def describe(name: str, model: Model, is_default: bool) -> ModelInfo:
    """The public description of a loaded model, from its network and saved metadata."""
    meta = model.metadata
    network = model.network
    networks = None
    if isinstance(network, Average):
        networks = [
            NetworkInfo(
                name=str(member_meta.get("name", f"network {i}")),
                kind=member.kind,
                layers=member.sizes,
                activations=member.activations,
                parameters=member.parameter_count,
                test_accuracy=member_meta.get("test_accuracy"),
                shift=shift,
            )
            for i, (member, member_meta, shift) in enumerate(
                zip(network.networks, meta["networks"], network.shifts), start=1
            )
        ]
    return ModelInfo(
        name=name,
        default=is_default,
        kind=network.kind,
        layers=network.sizes,
        activations=network.activations,
        cost=network.cost,
        parameters=network.parameter_count,
        networks=networks,
        test_accuracy=meta.get("test_accuracy"),
        per_digit_accuracy=meta.get("per_digit_accuracy"),
        trained_at=meta.get("created_at"),
        history=meta.get("history") or [],
    )
