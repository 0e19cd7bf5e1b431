"""Element types of plan buffers, target-neutral: numpy-style codes ``"u1"``, ``"i2"``, ``"u4"`` …
(signedness and bytes). Codegen spells them for its target (``uint16_t`` in C, ``"H"`` in
MicroPython's ``array``). Index widths follow GeNN: the narrowest type holding the range.

>>> unsigned_dtype(255), unsigned_dtype(256), signed_dtype(-129, 5)
('u1', 'u2', 'i2')
>>> dtype_size("i4"), common_shift(np.array([0, 8, 24])), common_shift(np.array([0]), empty=7)
(4, 3, 7)
"""

from __future__ import annotations

import numpy as np

from ..errors import FeagiEmbedError


class CapacityError(FeagiEmbedError):
    """The model does not fit the board (or a width cannot hold a value)."""


_UNSIGNED = (("u1", 2**8 - 1), ("u2", 2**16 - 1), ("u4", 2**32 - 1))
_SIGNED = (("i1", 2**7), ("i2", 2**15), ("i4", 2**31))


def unsigned_dtype(max_value: int) -> str:
    """Narrowest unsigned element type holding 0…max_value.

    Raises:
        CapacityError: above 2^32 − 1.
    """
    for name, top in _UNSIGNED:
        if max_value <= top:
            return name
    raise CapacityError(f"value {max_value} does not fit 32 bits unsigned")


def signed_dtype(lo: int, hi: int) -> str:
    """Narrowest signed element type holding lo…hi.

    Raises:
        CapacityError: outside int32.
    """
    for name, half in _SIGNED:
        if -half <= lo and hi <= half - 1:
            return name
    raise CapacityError(f"range [{lo}, {hi}] does not fit 32 bits signed")


def dtype_size(dtype: str) -> int:
    """Bytes of one element (``"u2"`` → 2)."""
    return int(dtype[1:])


def dtype_max(dtype: str) -> int:
    """Largest value of an element type (``"u2"`` → 65535)."""
    bits = 8 * dtype_size(dtype)
    return (1 << bits) - 1 if dtype[0] == "u" else (1 << (bits - 1)) - 1


def common_shift(values: np.ndarray, cap: int = 30, empty: int = 0) -> int:
    """Largest k <= ``cap`` such that every value (int64 array) is a multiple of 2^k (``empty``
    when there is no non-zero value): ``values >> k`` is then exact."""
    nz = np.asarray(values, np.int64)
    nz = nz[nz != 0]
    if not len(nz):
        return empty
    low = np.bitwise_and(np.abs(nz), -np.abs(nz))  # lowest set bit of each value
    return min(int(np.log2(int(low.min()))), cap)
