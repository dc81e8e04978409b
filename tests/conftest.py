"""Shared fixtures. Tests that need the full MNIST look in $MNIST_DIR, then ../shared/data/mnist."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def find_mnist_dir() -> Path | None:
    for candidate in (os.environ.get("MNIST_DIR"), ROOT.parent / "shared" / "data" / "mnist"):
        if candidate and (Path(candidate) / "t10k-images-idx3-ubyte.gz").exists():
            return Path(candidate)
        if candidate and (Path(candidate) / "t10k-images-idx3-ubyte").exists():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    found = find_mnist_dir()
    if found is None:
        pytest.skip("MNIST not found: set MNIST_DIR or put the files in ../shared/data/mnist")
    return found
