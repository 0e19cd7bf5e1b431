"""Backend registry of the host twin: ``numba`` (CPU), ``cuda`` (cupy), ``wgpu`` (wgpu-py).

``auto`` picks CUDA when a CUDA device works, else WGPU on a GPU adapter (not a CPU one such as
lavapipe, which is slower than numba), else numba.
"""

from __future__ import annotations

from functools import lru_cache

NAMES = ("numba", "cuda", "wgpu")


@lru_cache(maxsize=None)
def available(name: str) -> tuple[bool, str]:
    """``(usable, description or reason)`` of a backend (cached per process).

    Raises:
        ValueError: unknown backend name.
    """
    if name == "numba":
        return True, "numba (CPU)"
    if name == "cuda":
        from .cuda import available as cuda_available

        return cuda_available()
    if name == "wgpu":
        from .wgpu import available as wgpu_available

        return wgpu_available()
    raise ValueError(f"backend {name!r}: expected one of {', '.join(NAMES)}")


def twin_class(name: str):
    """The twin class of a backend (``Twin``, ``CudaTwin`` or ``WgpuTwin``).

    Raises:
        ValueError: unknown backend name.
    """
    if name == "numba":
        from ..twin import Twin

        return Twin
    if name == "cuda":
        from .cuda import CudaTwin

        return CudaTwin
    if name == "wgpu":
        from .wgpu import WgpuTwin

        return WgpuTwin
    raise ValueError(f"backend {name!r}: expected one of {', '.join(NAMES)}")


def resolve(name: str) -> str:
    """``auto`` → the fastest usable backend here; other names are returned when usable.

    Raises:
        GpuUnavailable: the named backend cannot run here (with the reason).
        ValueError: unknown backend name.
    """
    from .common import GpuUnavailable

    if name == "auto":
        if available("cuda")[0]:
            return "cuda"
        ok, desc = available("wgpu")
        if ok and "CPU" not in desc:
            return "wgpu"
        return "numba"
    ok, why = available(name)
    if not ok:
        raise GpuUnavailable(f"--backend {name}: {why}")
    return name
