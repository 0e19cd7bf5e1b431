"""Where numba keeps the twin's compiled kernels, and the "compiling…" notice.

numba's default cache lives beside the sources (the package's ``__pycache__``), which a fresh or
read-only install cannot reuse. :func:`configure` points ``NUMBA_CACHE_DIR`` at the user cache
directory (``$XDG_CACHE_HOME/feagi-embed/numba``, ``~/Library/Caches/feagi-embed/numba`` on macOS,
``%LOCALAPPDATA%\\feagi-embed\\numba`` on Windows) unless the user has set it; it must run before
the first ``@njit(cache=True)`` decorator executes (``host/twin.py`` calls it before importing
numba). :func:`is_cold` tells whether a signature will be compiled rather than loaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["cache_dir", "configure", "is_cold", "notice"]


def cache_dir() -> Path:
    """The user cache directory for the compiled kernels (not created)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "feagi-embed" / "numba"


def configure() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` to :func:`cache_dir` unless already set (and numba's live config if
    numba is already imported). Returns the directory in use, or ``None`` when the user cache
    directory cannot be created (numba then keeps its default)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    os.environ["NUMBA_CACHE_DIR"] = str(d)
    cfg = sys.modules.get("numba.core.config")
    if cfg is not None and not getattr(cfg, "CACHE_DIR", ""):
        cfg.CACHE_DIR = str(d)
    return str(d)


def is_cold(dispatcher, sig: tuple) -> bool:
    """Whether calling ``dispatcher`` (an ``@njit(cache=True)`` function) with argument types
    ``sig`` will compile: neither in memory nor in the on-disk cache index. Reads numba's cache
    index through its internal API; any surprise there answers ``False`` (no notice)."""
    if sig in dispatcher.overloads:
        return False
    try:
        cache = dispatcher._cache
        key = cache._index_key(sig, dispatcher.targetctx.codegen())
        return key not in cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 - numba internals moved: no notice rather than a failure
        return False


def notice(what: str) -> None:
    """The one-line "compiling…" notice on stderr (kept off stdout: ``run --json`` owns it)."""
    where = os.environ.get("NUMBA_CACHE_DIR", "numba's default cache")
    print(f"feagi-embed: compiling {what} (once; cached in {where})…", file=sys.stderr, flush=True)
