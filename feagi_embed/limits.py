"""Range and resource policy: the stated limits every input is checked against (``docs/limits.md``).

Every number a genome or stimulus hands to numpy, and every size that decides how much memory
develop, quantize, the twin or a build allocates, is checked here *before* anything is allocated,
so bad or oversized input ends in a one-line :class:`ResourceLimitError` (exit 2) instead of an
``OverflowError``, a ``MemoryError`` or the kernel's OOM killer.

Limits are overridable where a user may legitimately need more: set the environment variable
``FEAGI_EMBED_LIMIT_<NAME>`` (e.g. ``FEAGI_EMBED_LIMIT_MAX_NEURONS=20000000``) or call
:func:`override`. Numeric *ranges* (int64, f32) are not overridable: they are what the model's
types can hold.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass, fields, replace
from typing import Any, Iterator

from .errors import FeagiEmbedError

#: Largest finite single-precision value: FEAGI holds genome numbers as f32, so a larger magnitude
#: would become infinity in the engine and in the model.
F32_MAX = 3.4028234663852886e38
#: JSON integers must be signed 64-bit (numpy's int64; serde_json reads larger ones as floats).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: The runtime's burst counter and the twin's burst numbers are uint32.
U32_MAX = 2**32 - 1

ENV_PREFIX = "FEAGI_EMBED_LIMIT_"


class ResourceLimitError(FeagiEmbedError):
    """Input that asks for more than a stated limit (or a number outside the model's range)."""


@dataclass(frozen=True)
class Limits:
    """The overridable limits (defaults sized so one run stays well below a few GB of memory).

    Attributes:
        max_json_bytes: size of one JSON input file (genome, stimulus, io map), bytes.
        max_json_depth: nesting depth of arrays/objects in one JSON input (genomes need 8).
        max_dim: voxels along one axis of a cortical area (the runtime's coordinates are uint16).
        max_neurons_per_voxel: neurons per voxel (the runtime's ``k`` is uint16).
        max_areas: cortical areas in one genome (area indices are uint16).
        max_neurons: neurons of the whole connectome, checked before neurogenesis allocates.
        max_synapses: synapses of the whole connectome; each mapping rule's upper bound is
            checked before synaptogenesis allocates it.
        max_bursts: largest burst number of a stimulus entry and of ``--bursts``.
        max_stimulus_events: injections + force-fires a stimulus expands to (bursts × voxels),
            checked before the schedule is allocated.
        max_test_stimulus_events: events compiled into a firmware's ``feagi_test_stimulus.h``.
        max_test_bursts: bursts a firmware test stimulus covers (one ``uint32_t`` each in the header).
    """

    max_json_bytes: int = 64 * 1024 * 1024
    max_json_depth: int = 64
    max_dim: int = 65535
    max_neurons_per_voxel: int = 65535
    max_areas: int = 65535
    max_neurons: int = 5_000_000
    max_synapses: int = 50_000_000
    max_bursts: int = 1_000_000
    max_stimulus_events: int = 5_000_000
    max_test_stimulus_events: int = 200_000
    max_test_bursts: int = 100_000


_override: Limits | None = None


def current() -> Limits:
    """The limits in force: defaults, then ``FEAGI_EMBED_LIMIT_<NAME>`` environment overrides, then
    :func:`override`.

    Raises:
        ResourceLimitError: an environment override that is not a positive integer.
    """
    if _override is not None:
        return _override
    changes: dict[str, int] = {}
    for f in fields(Limits):
        env = ENV_PREFIX + f.name.upper()
        raw = os.environ.get(env)
        if raw is None:
            continue
        try:
            val = int(raw)
        except ValueError:
            val = 0
        if val < 1:
            raise ResourceLimitError(f"environment {env}={raw!r}: expected a positive integer")
        changes[f.name] = val
    return replace(Limits(), **changes) if changes else Limits()


@contextlib.contextmanager
def override(**changes: int) -> Iterator[Limits]:
    """Context manager: run with some limits changed (``with override(max_neurons=10**7): ...``)."""
    global _override
    prev = _override
    _override = replace(current(), **changes)
    try:
        yield _override
    finally:
        _override = prev


def hint(name: str) -> str:
    """How to raise limit ``name``, for messages."""
    return f"limit {name} = {getattr(current(), name):,}; raise it with {ENV_PREFIX}{name.upper()}"


def check_count(name: str, requested: int, what: str, where: str = "") -> None:
    """Refuse ``requested`` units of something above limit ``name``.

    Args:
        name: a :class:`Limits` field.
        requested: the (estimated) count, a Python int (any size).
        what: the thing counted, in words ("neurons", "synapses of this rule").
        where: a prefix locating the input ("genome.json: blueprint[...]").

    Raises:
        ResourceLimitError: ``requested`` exceeds the limit.
    """
    lim = getattr(current(), name)
    if requested > lim:
        pre = f"{where}: " if where else ""
        raise ResourceLimitError(f"{pre}{requested:,} {what} requested; expected at most "
                                 f"{lim:,} ({hint(name)})")


def is_int64(v: Any) -> bool:
    """True for a Python int (not bool) in the signed 64-bit range."""
    return isinstance(v, int) and not isinstance(v, bool) and INT64_MIN <= v <= INT64_MAX


def is_f32_finite(v: Any) -> bool:
    """True for an int/float (not bool) whose f32 value is finite (``|v| <= F32_MAX``)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        fv = float(v)
    except OverflowError:
        return False
    return math.isfinite(fv) and abs(fv) <= F32_MAX
