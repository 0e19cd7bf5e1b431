"""Errors and warnings with precise locations.

Every problem in a genome is reported with the file, the JSON key path, the offending value and what
was expected. Problems FEAGI tolerates (it drops or rewrites the input) are *warnings*: we reproduce
the engine's behaviour but say so; ``strict=True`` turns them into errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

KeyPath = Sequence[str | int]


def format_key_path(path: KeyPath) -> str:
    """Render a JSON key path as ``blueprint["_____10c-c__for-nx-fire_t-f"][0]``.

    Args:
        path: keys (str) and list indices (int), outermost first.

    Returns:
        A string; ``"<root>"`` for an empty path.
    """
    if not path:
        return "<root>"
    out = []
    for i, k in enumerate(path):
        if isinstance(k, int):
            out.append(f"[{k}]")
        elif i == 0:
            out.append(str(k))
        else:
            out.append(f"[{json.dumps(k)}]")
    return "".join(out)


def _short(value: Any, limit: int = 80) -> str:
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class FeagiEmbedError(Exception):
    """Base class of every error feagi-embed reports to users (the CLI exits with code 2)."""


class GenomeError(FeagiEmbedError):
    """A genome that cannot be compiled.

    Attributes:
        file: path of the genome file (or ``"<genome>"`` for in-memory input).
        key_path: JSON key path of the offending entry.
        value: the offending value (``None`` when the problem is a missing key).
        expected: what was expected, in words.
    """

    def __init__(self, file: str, key_path: KeyPath, value: Any, expected: str):
        self.file = file
        self.key_path = tuple(key_path)
        self.value = value
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        return (f"{self.file}: {format_key_path(self.key_path)}: got {_short(self.value)}; "
                f"expected {self.expected}")


@dataclass(frozen=True)
class GenomeWarning:
    """Something FEAGI silently drops or rewrites, which we match but report.

    Attributes:
        code: short stable identifier (e.g. ``"unknown-gene"``), usable for filtering.
        key_path: JSON key path of the entry concerned.
        message: what happens, in words (what FEAGI does and what we do).
    """

    code: str
    key_path: tuple[str | int, ...]
    message: str

    def __str__(self) -> str:
        return f"{format_key_path(self.key_path)}: {self.message} [{self.code}]"

    def to_json(self) -> dict[str, Any]:
        """JSON form: ``{"code", "path", "message"}``."""
        return {"code": self.code, "path": format_key_path(self.key_path), "message": self.message}


@dataclass
class Diagnostics:
    """Collects warnings during parsing and development.

    In strict mode the first warning raises :class:`GenomeError` instead.
    """

    file: str = "<genome>"
    strict: bool = False
    warnings: list[GenomeWarning] = field(default_factory=list)

    def warn(self, code: str, key_path: KeyPath, message: str, value: Any = None) -> None:
        """Record a warning (or raise :class:`GenomeError` in strict mode)."""
        w = GenomeWarning(code, tuple(key_path), message)
        if self.strict:
            raise GenomeError(self.file, key_path, value, f"no warnings in --strict mode ({message})")
        self.warnings.append(w)

    def error(self, key_path: KeyPath, value: Any, expected: str) -> GenomeError:
        """Build (not raise) a :class:`GenomeError` located in this diagnostics' file."""
        return GenomeError(self.file, key_path, value, expected)
