"""The one locator of package data: ``templates/``, ``firmware/``, ``boards/`` and the bundled
``genomes/``.

In an installed wheel they are package data of ``feagi_embed`` (``feagi_embed/templates`` …,
boards as ``feagi_embed/board_defs``); in a checkout, the repository's top-level folders. Each has an
environment override (``FEAGI_EMBED_TEMPLATES_DIR``, ``FEAGI_EMBED_FIRMWARE_DIR``,
``FEAGI_EMBED_BOARDS_DIR``, ``FEAGI_EMBED_GENOMES_DIR``) for users who keep their own copies.
"""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent
#: data folder → (environment override, name inside the installed package)
_FOLDERS = {"templates": ("FEAGI_EMBED_TEMPLATES_DIR", "templates"),
            "firmware": ("FEAGI_EMBED_FIRMWARE_DIR", "firmware"),
            "boards": ("FEAGI_EMBED_BOARDS_DIR", "board_defs"),
            "genomes": ("FEAGI_EMBED_GENOMES_DIR", "genomes")}


def data_dir(name: str) -> Path:
    """Folder of package data ``name`` (``templates``, ``firmware``, ``boards``, ``genomes``):
    the environment override, else the installed package's copy, else the checkout's.

    Raises:
        KeyError: unknown name.
    """
    env, inside = _FOLDERS[name]
    if os.environ.get(env):
        return Path(os.environ[env])
    for cand in (_PKG / inside, _PKG.parent / name):
        if cand.is_dir():
            return cand
    return _PKG.parent / name


def templates_dir() -> Path:
    """``templates/`` (jinja2 templates, one folder per output kind)."""
    return data_dir("templates")


def firmware_dir() -> Path:
    """``firmware/``: the hand-written C runtime, HALs and the MicroPython engine."""
    return data_dir("firmware")


def hal_dir() -> Path:
    """``firmware/hal``: per-family HAL sources, linker scripts, avr_run.c, icount_plugin.c."""
    return firmware_dir() / "hal"


def boards_dir() -> Path:
    """The folder of ``*.toml`` board files."""
    return data_dir("boards")


def genomes_dir() -> Path:
    """The bundled real FEAGI genomes."""
    return data_dir("genomes")
