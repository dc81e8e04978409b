"""Repository-wide security properties: no pickle anywhere, and dependencies pinned where they are installed.

- No source file imports a pickle-based loader, none says ``allow_pickle=True``, and every ``np.load`` call
  passes ``allow_pickle=False`` literally (checked on the syntax tree, so a comment cannot satisfy it).
- The shipped weights hold no object arrays (the only .npy content that is a pickle).
- constraints.txt pins every runtime dependency at the installed (tested) version, and make, CI (via make)
  and the Dockerfile install with it.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("app", "model", "bench", "docker", "tools", "tests")
PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


def python_files() -> list[Path]:
    files = [ROOT / "app" / "__init__.py"]
    for folder in SOURCE_DIRS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return sorted(set(files))


def test_there_is_source_to_check() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in python_files()}
    assert {"model/weights.py", "app/registry.py", "app/images.py"} <= names


def pickle_uses(path: Path) -> list[str]:
    """Every place in ``path`` that imports a pickle-based module, allows pickles, or calls np.load without
    allow_pickle=False (tests may rely on NumPy's default, which refuses pickles too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import | ast.ImportFrom) and imported(node) & PICKLE_MODULES:
            found.append(f"{where}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and is_np_load(node.func):
            flags = [kw for kw in node.keywords if kw.arg == "allow_pickle"]
            refused = any(is_false(kw.value) for kw in flags)
            if (flags and not refused) or (not flags and not path.is_relative_to(ROOT / "tests")):
                found.append(f"{where}: {ast.unparse(node)}")
        elif isinstance(node, ast.keyword) and node.arg == "allow_pickle" and not is_false(node.value):
            found.append(f"{where}: allow_pickle={ast.unparse(node.value)}")
    return found


def test_no_pickle_anywhere() -> None:
    found = [use for path in python_files() for use in pickle_uses(path)]
    assert not found, "\n".join(found)


def test_the_check_finds_pickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is not vacuous: each kind of use is found."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nfrom joblib import load\nimport numpy as np\n"
                   "np.load('a.npz')\nnp.load('b.npz', allow_pickle=True)\nnp.savez('c', allow_pickle=1)\n")
    assert len(pickle_uses(bad)) == 6  # np.load(..., allow_pickle=True) counts twice: the call and the keyword


def imported(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.ImportFrom):
        return {(node.module or "").split(".")[0]}
    return {alias.name.split(".")[0] for alias in node.names}


def is_false(value: ast.expr) -> bool:
    return isinstance(value, ast.Constant) and value.value is False


def is_np_load(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and func.attr == "load" and ast.unparse(func.value) in ("np", "numpy")


def test_the_weights_loader_is_checked() -> None:
    """The check above is not vacuous: model/weights.py really calls np.load, with allow_pickle=False."""
    tree = ast.parse((ROOT / "model" / "weights.py").read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and is_np_load(node.func)]
    assert calls and all(
        any(kw.arg == "allow_pickle" and getattr(kw.value, "value", None) is False for kw in call.keywords)
        for call in calls
    )


@pytest.mark.parametrize("path", sorted((ROOT / "model" / "weights").glob("*.npz")), ids=lambda p: p.name)
def test_shipped_weights_hold_no_pickles(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            with archive.open(member) as stream:
                major, _ = np.lib.format.read_magic(stream)
                read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                _, _, dtype = read_header(stream)
                assert not dtype.hasobject, f"{path.name}/{member} holds Python objects"


# ---- pinned dependencies ----------------------------------------------------------------------


def pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return dict(line.split("==") for line in lines if line and not line.startswith("#"))


def test_constraints_pin_every_runtime_dependency_at_the_tested_version() -> None:
    generated = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "constraints.py")], capture_output=True, text=True, check=True
    ).stdout
    fresh = dict(line.split("==") for line in generated.splitlines() if line and not line.startswith("#"))
    assert {"numpy", "pillow", "fastapi", "uvicorn", "pydantic", "starlette"} <= set(fresh)
    assert pins() == fresh, "constraints.txt is out of date with the environment: run `make constraints`"


def test_make_ci_and_docker_install_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line and "-e '." in line]
    assert installs and all("-c constraints.txt" in line for line in installs), installs
    assert "make test" in (ROOT / ".ci" / "run").read_text()  # CI installs through make
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "constraints*.txt" in dockerfile and re.search(r"set -- -c constraints\.txt", dockerfile)
