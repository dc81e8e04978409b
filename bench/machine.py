"""Describe the machine a benchmark ran on: CPU, cores, load, Python, NumPy and its BLAS, thread settings.

Every benchmark prints this first, so a figure is never read without the conditions it was measured in.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import numpy as np

from model import blas

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


def blas_library() -> str:
    """NumPy's BLAS library and version, e.g. 'scipy-openblas 0.3.31 (SkylakeX kernels at run time)'."""
    try:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # older NumPy: no dict mode
        return "unknown"
    return f"{config.get('name')} {config.get('version')} ({blas.kernel()} kernels at run time)"


def describe(extra: dict[str, str] | None = None) -> str:
    """A few lines saying what this run measured on."""
    threads = ", ".join(f"{v}={os.environ[v]}" for v in THREAD_VARIABLES if v in os.environ) or "none set"
    lines = {
        "cpu": f"{cpu_model()}, {os.cpu_count()} logical cores ({len(os.sched_getaffinity(0))} usable)",
        "load average": f"{load_average()} (1, 5, 15 min) at start",
        "python": f"{platform.python_implementation()} {platform.python_version()} on {platform.system()}",
        "numpy": f"{np.__version__}, BLAS {blas_library()}",
        "thread variables": threads,
        "BLAS threads": f"{blas.threads()} (NumPy's OpenBLAS, at start)",
        **(extra or {}),
    }
    return "\n".join(f"  {key:<17} {value}" for key, value in lines.items())


if __name__ == "__main__":
    print(describe())
