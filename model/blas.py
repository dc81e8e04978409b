"""The cores this process may use, and NumPy's BLAS threads, read and set while the program runs.

The usual way to set BLAS threads is an environment variable (``OPENBLAS_NUM_THREADS=1``) set before
NumPy is imported; a command line that wants a ``--threads`` option is past that point, so it calls
OpenBLAS itself. Only NumPy's bundled OpenBLAS is handled (the PyPI wheels'); with another BLAS these
return None. NumPy is imported only when OpenBLAS is first looked for, so the service's settings can
count cores without it.
"""

from __future__ import annotations

import ctypes
import os
from functools import cache
from pathlib import Path


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. ``docker run --cpuset-cpus``)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@cache
def _openblas() -> tuple[ctypes.CDLL, str] | None:
    """NumPy's own OpenBLAS (the copy in numpy.libs) and its symbol pattern, or None for another BLAS."""
    import numpy as np

    libs = Path(np.__file__).parent.parent / "numpy.libs"
    for path in sorted(libs.glob("libscipy_openblas*.so*")) + sorted(libs.glob("libopenblas*.so*")):
        lib = ctypes.CDLL(str(path))  # already loaded by NumPy: this returns the same library
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                if hasattr(lib, f"{prefix}_get_num_threads{suffix}"):
                    return lib, f"{prefix}_%s{suffix}"
    return None


def threads(set_to: int | None = None) -> int | None:
    """OpenBLAS's thread count, after setting it to ``set_to`` if given; None when it cannot be reached."""
    found = _openblas()
    if found is None:
        return None
    lib, name = found
    if set_to is not None:
        getattr(lib, name % "set_num_threads")(int(set_to))
    return int(getattr(lib, name % "get_num_threads")())


def kernel() -> str:
    """The CPU kernel set OpenBLAS chose at run time (e.g. SkylakeX: AVX-512), or 'unknown'."""
    found = _openblas()
    if found is None:
        return "unknown"
    lib, name = found
    corename = getattr(lib, name % "get_corename")
    corename.restype = ctypes.c_char_p
    return corename().decode()
