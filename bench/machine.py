"""Describe the machine a benchmark ran on: CPU, cores, load, Python, NumPy and its BLAS, thread settings.

Every benchmark prints this first, so a figure is never read without the conditions it was measured in.
"""

from __future__ import annotations

import ctypes
import os
import platform
import re
from functools import cache
from pathlib import Path

import numpy as np

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cpu_model() -> str:
    """The CPU's name, family/model numbers and vector extensions, e.g. '… (family 6 model 207; avx2 avx512f)'."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"

    def field(name: str) -> str:
        match = re.search(rf"^{name}\s*:\s*(.*)$", info, re.MULTILINE)
        return match.group(1).strip() if match else "?"

    flags = set(field("flags").split())
    vector = " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if f in flags)
    return f"{field('model name')} (family {field('cpu family')} model {field('model')}; {vector or 'no AVX2'})"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def blas() -> str:
    """NumPy's BLAS library and version, e.g. 'scipy-openblas 0.3.31 (SkylakeX kernels at run time)'."""
    try:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # older NumPy: no dict mode
        return "unknown"
    return f"{config.get('name')} {config.get('version')} ({blas_kernel()} kernels at run time)"


@cache
def _openblas() -> tuple[ctypes.CDLL, str] | None:
    """NumPy's own OpenBLAS (the copy in numpy.libs) and its symbol prefix, or None for another BLAS."""
    libs = Path(np.__file__).parent.parent / "numpy.libs"
    for path in sorted(libs.glob("libscipy_openblas*.so*")) + sorted(libs.glob("libopenblas*.so*")):
        lib = ctypes.CDLL(str(path))  # already loaded by NumPy: this returns the same library
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                if hasattr(lib, f"{prefix}_get_num_threads{suffix}"):
                    return lib, f"{prefix}_%s{suffix}"
    return None


def blas_threads(set_to: int | None = None) -> int | None:
    """OpenBLAS's thread count, after setting it to ``set_to`` if given; None when it cannot be read."""
    found = _openblas()
    if found is None:
        return None
    lib, name = found
    if set_to is not None:
        getattr(lib, name % "set_num_threads")(int(set_to))
    return int(getattr(lib, name % "get_num_threads")())


def blas_kernel() -> str:
    """The CPU kernel set OpenBLAS chose at run time (e.g. SkylakeX: AVX-512)."""
    found = _openblas()
    if found is None:
        return "unknown"
    lib, name = found
    corename = getattr(lib, name % "get_corename")
    corename.restype = ctypes.c_char_p
    return corename().decode()


def describe(extra: dict[str, str] | None = None) -> str:
    """A few lines saying what this run measured on."""
    threads = ", ".join(f"{v}={os.environ[v]}" for v in THREAD_VARIABLES if v in os.environ) or "none set"
    lines = {
        "cpu": f"{cpu_model()}, {os.cpu_count()} logical cores ({len(os.sched_getaffinity(0))} usable)",
        "load average": f"{load_average()} (1, 5, 15 min) at start",
        "python": f"{platform.python_implementation()} {platform.python_version()} on {platform.system()}",
        "numpy": f"{np.__version__}, BLAS {blas()}",
        "thread variables": threads,
        "BLAS threads": f"{blas_threads()} (NumPy's OpenBLAS, at start)",
        **(extra or {}),
    }
    return "\n".join(f"  {key:<17} {value}" for key, value in lines.items())


if __name__ == "__main__":
    print(describe())
