"""What PlatformIO would compile for an environment of a generated project, without PlatformIO
(it cannot download platforms here): ``src/`` with the default source filter, and every library
in ``lib/*/`` whose ``library.json`` ``platforms`` admits the environment's platform (its
``srcDir``, include dirs ``include/`` and each library's ``includeDir``).

The tests build exactly these files with the board's compiler and flags, so a project that links
here links under ``pio run`` (same sources, same include paths)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

#: PlatformIO's default ``build_src_filter``: every C/C++/assembly source below src/
SOURCE_SUFFIXES = (".c", ".cpp", ".cc", ".cxx", ".S", ".s")


@dataclass(frozen=True)
class PioBuild:
    """Sources and include folders of one PlatformIO environment."""

    sources: tuple[Path, ...]
    include_dirs: tuple[Path, ...]


def _admits(field, value: str) -> bool:
    if field in (None, "*"):
        return True
    items = field if isinstance(field, list) else [x.strip() for x in str(field).split(",")]
    return "*" in items or value in items


def pio_build(project: str | Path, platform: str, framework: str = "") -> PioBuild:
    """The files ``pio run`` compiles for ``platform`` (``native``, ``espressif32`` …) and
    ``framework`` (``arduino`` or ``""``) in a generated project folder.

    Raises:
        FileNotFoundError: no ``src/`` folder.
        ValueError: a ``library.json`` is not valid JSON.
    """
    root = Path(project)
    src = root / "src"
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: not a PlatformIO project (no src/)")
    sources = [p for p in sorted(src.rglob("*")) if p.suffix in SOURCE_SUFFIXES]
    includes = [root / "include", src]
    for lib in sorted(p for p in (root / "lib").glob("*") if p.is_dir()):
        manifest = lib / "library.json"
        lib_json = json.loads(manifest.read_text()) if manifest.is_file() else {}
        if not _admits(lib_json.get("platforms"), platform):
            continue
        if framework and not _admits(lib_json.get("frameworks"), framework):
            continue
        build = lib_json.get("build", {})
        lib_src = lib / build.get("srcDir", "src")
        includes.append(lib / build.get("includeDir", "src"))
        sources += [p for p in sorted(lib_src.rglob("*")) if p.suffix in SOURCE_SUFFIXES]
    return PioBuild(tuple(sources), tuple(includes))
