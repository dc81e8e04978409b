"""GET /api/models, /api/models/{name} and a neuron's incoming weights."""

from __future__ import annotations

from fastapi import APIRouter

from app.errors import InputError
from app.inference import DECIMALS, rounded
from app.routes import RegistryDep
from app.schemas import ModelInfo, NeuronWeights, error_responses

router = APIRouter(prefix="/api/models", tags=["models"])


@router.get("", response_model=list[ModelInfo], summary="Every loaded model")
def list_models(registry: RegistryDep) -> list[ModelInfo]:
    """Architecture, parameter count, test accuracy and training history of each model."""
    return [loaded.info for loaded in registry.models.values()]


@router.get("/{name}", response_model=ModelInfo, responses=error_responses(404, 422), summary="One model")
def get_model(name: str, registry: RegistryDep) -> ModelInfo:
    """The model called `name`, as in the list."""
    return registry.get(name).info


@router.get(
    "/{name}/weights/{layer}/{neuron}",
    response_model=NeuronWeights,
    responses=error_responses(404, 422),
    summary="A neuron's incoming weights",
)
def get_neuron_weights(name: str, layer: int, neuron: int, registry: RegistryDep) -> NeuronWeights:
    """The weights into neuron `neuron` (0-based) of layer `layer` (1 = first hidden layer) and its bias.

    For layer 1 of a fully connected network these are 784 weights, one per input pixel: reshape them
    row-major to 28×28 to see the pattern the neuron responds to (positive weights where it wants ink,
    negative where not). A convolutional layer's neuron reads a window through its channel's kernel:
    `shape` is [5, 5] (or [5, 5, channels below]). An average's neurons are its first network's.
    """
    loaded = registry.get(name)
    network = loaded.model.network
    layers = len(network.sizes) - 1
    if not 1 <= layer <= layers:
        raise InputError(f"Model {name!r} has weighted layers 1 to {layers}; there is no layer {layer}.", 404)
    neurons = network.sizes[layer]
    if not 0 <= neuron < neurons:
        raise InputError(f"Layer {layer} of {name!r} has neurons 0 to {neurons - 1}; not {neuron}.", 404)
    incoming, shape, bias = network.incoming(layer, neuron)
    return NeuronWeights(
        model=loaded.name,
        layer=layer,
        neuron=neuron,
        shape=list(shape),
        weights=rounded(incoming),
        bias=round(bias, DECIMALS),
    )
