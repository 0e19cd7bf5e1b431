"""The one decoding front door for every JSON input (genome, stimulus, io map).

:func:`load_json` reads a file with a size cap, decodes it as strict UTF-8, caps the nesting depth
before the recursive JSON decoder runs, and rejects what would crash or mislead a later stage:
duplicate object keys (JSON keeps one silently), unpaired surrogate escapes (``"\\ud800"``: valid
JSON, but not encodable text), integers outside the signed 64-bit range (including Python's
4,300-digit ``ValueError``), numbers that overflow to infinity (``1e400``) and the non-standard
``NaN``/``Infinity`` literals. Every problem becomes one error naming file, key path, value and
expectation (:class:`JsonInputError`, or the caller's own error class through ``error=``).

Limits (``docs/limits.md``): :attr:`~feagi_embed.limits.Limits.max_json_bytes`,
:attr:`~feagi_embed.limits.Limits.max_json_depth`.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any, Callable

import numpy as np

from . import limits
from .errors import FeagiEmbedError, KeyPath, _short, format_key_path

#: ``error(file, key_path, value, expected) -> Exception``: how a caller's errors are built.
ErrorFactory = Callable[[str, KeyPath, Any, str], Exception]

_SURROGATE = re.compile("[\ud800-\udfff]")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)


def format_problem(file: str, key_path: KeyPath, value: Any, expected: str) -> str:
    """``"<file>: <key path>: got <value>; expected <expected>"`` (the project's one-line form)."""
    return f"{file}: {format_key_path(key_path)}: got {_short(value)}; expected {expected}"


class JsonInputError(FeagiEmbedError):
    """A JSON input that cannot be decoded (attributes as :class:`~feagi_embed.errors.GenomeError`)."""

    def __init__(self, file: str, key_path: KeyPath, value: Any, expected: str):
        self.file, self.key_path, self.value, self.expected = file, tuple(key_path), value, expected
        super().__init__(format_problem(file, key_path, value, expected))


class _BadNumber:
    """Placeholder the decoder puts where a number cannot be represented."""

    def __init__(self, text: str, expected: str):
        self.text = text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"
        self.expected = expected


class _DupDict(dict):
    """An object whose text repeated a key (``dup``: the first repeated key)."""

    dup: str = ""


def _parse_int(s: str) -> Any:
    digits = len(s) - (s[0] == "-")
    if digits > 19:
        return _BadNumber(s, "an integer in the signed 64-bit range (|n| < 2^63)")
    v = int(s)
    if not limits.INT64_MIN <= v <= limits.INT64_MAX:
        return _BadNumber(s, "an integer in the signed 64-bit range (|n| < 2^63)")
    return v


def _parse_float(s: str) -> Any:
    v = float(s)
    if not math.isfinite(v):
        return _BadNumber(s, "a finite number (this one overflows double precision)")
    return v


def _parse_constant(s: str) -> Any:
    return _BadNumber(s, "a finite JSON number (NaN and Infinity are not JSON)")


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)
    if len(d) == len(pairs):
        return d
    seen: set[str] = set()
    out = _DupDict(d)
    for k, _ in pairs:
        if k in seen:
            out.dup = k
            break
        seen.add(k)
    return out


def read_bytes(path: str | os.PathLike, *, error: ErrorFactory = JsonInputError,
               what: str = "JSON file") -> bytes:
    """Read a file, refusing more than ``max_json_bytes``.

    Raises:
        the ``error`` class: unreadable, or larger than the limit.
    """
    label = os.fspath(path)
    cap = limits.current().max_json_bytes
    try:
        with open(path, "rb") as f:
            raw = f.read(cap + 1)
    except OSError as e:
        raise error(label, [], None, f"a readable {what} ({e.strerror})") from None
    if len(raw) > cap:
        raise error(label, [], f"more than {cap:,} bytes",
                    f"a {what} of at most {cap:,} bytes ({limits.hint('max_json_bytes')})")
    return raw


def _check_depth(raw: bytes, label: str, error: ErrorFactory) -> None:
    cap = limits.current().max_json_depth
    if raw.count(b"[") + raw.count(b"{") <= cap:
        return
    # blank out strings (same length, so offsets stay), then the running bracket depth
    flat = _STRING.sub(lambda m: b" " * len(m.group(0)), raw)
    a = np.frombuffer(flat, np.uint8)
    step = (((a == 0x5B) | (a == 0x7B)).astype(np.int32)
            - ((a == 0x5D) | (a == 0x7D)).astype(np.int32))
    depth = np.cumsum(step)
    over = np.flatnonzero(depth > cap)
    if len(over):
        raise error(label, [], f"nesting deeper than {cap} at byte {int(over[0])}",
                    f"JSON nested at most {cap} levels ({limits.hint('max_json_depth')})")


def check_tree(data: Any, label: str, *, error: ErrorFactory = JsonInputError) -> None:
    """Check a decoded (or in-memory) JSON value: depth, keys, numbers, strings.

    Iterative, so any depth is safe. Rejects the decoder's placeholders (numbers that do not fit),
    duplicate keys, unpaired surrogates in strings and keys, non-finite floats and integers
    outside int64, and nesting deeper than ``max_json_depth``.

    Raises:
        the ``error`` class, naming the key path.
    """
    cap = limits.current().max_json_depth
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise error(label, path, node.encode("utf-8", "backslashreplace").decode("ascii"),
                            "text without unpaired UTF-16 surrogates (\\ud800-\\udfff)")
            continue
        if isinstance(node, bool) or node is None:
            continue
        if isinstance(node, _BadNumber):
            raise error(label, path, node.text, node.expected)
        if isinstance(node, int):
            if not limits.is_int64(node):
                raise error(label, path, f"an integer of {len(str(abs(node)))} digits"
                            if abs(node) > 10**40 else node,
                            "an integer in the signed 64-bit range (|n| < 2^63)")
            continue
        if isinstance(node, float):
            if not math.isfinite(node):
                raise error(label, path, str(node), "a finite number")
            continue
        if len(path) >= cap and isinstance(node, (dict, list, tuple)):
            raise error(label, path[:cap], f"nesting deeper than {cap}",
                        f"JSON nested at most {cap} levels ({limits.hint('max_json_depth')})")
        if isinstance(node, dict):
            if isinstance(node, _DupDict):
                raise error(label, path + (node.dup,), "a repeated key",
                            "each key once per object (JSON would silently keep the last value)")
            for k, v in node.items():
                if not isinstance(k, str):
                    raise error(label, path, repr(k), "string object keys")
                if _SURROGATE.search(k):
                    raise error(label, path, k.encode("utf-8", "backslashreplace").decode("ascii"),
                                "keys without unpaired UTF-16 surrogates (\\ud800-\\udfff)")
                stack.append((v, path + (k,)))
        elif isinstance(node, (list, tuple)):
            stack.extend((v, path + (i,)) for i, v in enumerate(node))
        # other Python objects (in-memory input) are left to the schema checks


def decode(raw: bytes, label: str, *, error: ErrorFactory = JsonInputError) -> Any:
    """Decode JSON bytes through the front door (see the module docstring).

    Args:
        raw: the file's bytes (UTF-8).
        label: file name used in messages.
        error: error factory ``(file, key_path, value, expected)``.

    Returns:
        the decoded value (dicts, lists, str, int, float, bool, None).

    Raises:
        the ``error`` class: invalid UTF-8 (byte offset), too deep, invalid JSON (line, column,
        byte), or a value :func:`check_tree` rejects.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(label, [], f"byte {e.start} (0x{raw[e.start]:02x}) is not UTF-8",
                    "UTF-8 JSON text") from None
    _check_depth(raw, label, error)
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_int=_parse_int,
                          parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as e:
        byte = len(text[:e.pos].encode("utf-8", "surrogatepass"))
        raise error(label, [], f"line {e.lineno} column {e.colno} (byte {byte}): {e.msg}",
                    "valid JSON") from None
    except (RecursionError, ValueError, MemoryError) as e:  # defence in depth
        raise error(label, [], type(e).__name__, "decodable JSON") from None
    check_tree(data, label, error=error)
    return data


def load_json(path: str | os.PathLike, *, error: ErrorFactory = JsonInputError,
              what: str = "JSON file") -> tuple[Any, bytes]:
    """Read and decode a JSON file through the front door.

    Returns:
        ``(data, raw_bytes)``.

    Raises:
        the ``error`` class (see :func:`read_bytes`, :func:`decode`).
    """
    raw = read_bytes(path, error=error, what=what)
    return decode(raw, os.fspath(path), error=error), raw
