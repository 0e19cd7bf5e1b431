"""Small, tested helpers for C emission: type spellings, literals valid on 16-bit-int targets,
array initialisers with area labels, the banner, and ``#define`` lines with a comment each.

>>> ctype("u2"), ctype("i4")
('uint16_t', 'int32_t')
>>> c_literal(70000, "uint32_t"), c_literal(-2**31, "int32_t"), c_literal(-5, "int8_t")
('70000UL', '(-2147483647L - 1)', '-5')
>>> format_values(np.array([1, 2, 3, 4]), "uint8_t", {2: "area 1"}, per_line=3)
['1u, 2u,', '/* area 1 */', '3u, 4u']
>>> define("FEAGI_N", 70000, "neurons")
'#define FEAGI_N 70000L /* neurons */'
>>> c_identifier("vision-left 2")
'VISION_LEFT_2'
"""

from __future__ import annotations

import re

import numpy as np

from .. import __version__

_CTYPE = {"u1": "uint8_t", "u2": "uint16_t", "u4": "uint32_t",
          "i1": "int8_t", "i2": "int16_t", "i4": "int32_t", "f4": "float"}
#: the accessor macro reading one element of a flash array by element size
READ_MACRO = {1: "FEAGI_RD_U8", 2: "FEAGI_RD_U16", 4: "FEAGI_RD_U32"}
TYPE_MAX = {"uint8_t": 255, "uint16_t": 65535, "uint32_t": 4294967295}
PER_LINE = 12
C_KEYWORDS = frozenset("""auto break case char const continue default do double else enum extern
float for goto if inline int long register restrict return short signed sizeof static struct
switch typedef union unsigned void volatile while _Bool _Complex _Imaginary""".split())


def ctype(dtype: str) -> str:
    """C99 fixed-width type of a plan element type (``"u2"`` → ``uint16_t``)."""
    return _CTYPE[dtype]


def float_literal(v: float) -> str:
    """An exact C literal of the f32 value ``v``: C99 hexadecimal (``0x1.99999ap-4f``; integral
    values as ``5.0f``), so no decimal rounding can change a bit.

    >>> float_literal(0.1), float_literal(-5.0), float_literal(0.0)
    ('0x1.99999ap-4f', '-5.0f', '0.0f')

    Raises:
        ValueError: ``v`` is not finite (C has no portable literal for it).
    """
    f = float(np.float32(v))
    if not np.isfinite(f):
        raise ValueError(f"float constant {v!r}: expected a finite f32 value")
    if f.is_integer() and abs(f) < 2**24:
        return f"{f:.1f}f"
    h = f.hex()  # 0x1.99999a0000000p-4: the f32 value has at most 6 hex digits after the point
    mant, exp = h.split("p")
    return f"{mant.rstrip('0').rstrip('.')}p{exp}f"


def c_literal(v, ctype_name: str) -> str:
    """A C literal of ``v`` valid for ``ctype_name`` on 16-bit-int targets too (``float``: an exact
    hexadecimal literal, :func:`float_literal`)."""
    if ctype_name == "float":
        return float_literal(v)
    v = int(v)
    if ctype_name.startswith("u"):
        return f"{v}u" if v <= 65535 else f"{v}UL"
    if v == -2**31:
        return "(-2147483647L - 1)"
    if -32768 < v <= 32767:
        return str(v)
    return f"{v}L"


def format_values(values: np.ndarray, ctype_name: str, labels: dict[int, str] | None = None,
                  per_line: int = PER_LINE) -> list[str]:
    """Lines of comma-separated literals, ``per_line`` per line; a ``/* label */`` line before the
    value at each labelled index (e.g. the first neuron of an area)."""
    labels = labels or {}
    vals = [c_literal(v, ctype_name) for v in np.asarray(values).tolist()]
    lines: list[str] = []
    cur: list[str] = []
    for i, s in enumerate(vals):
        if i in labels:
            if cur:
                lines.append(", ".join(cur) + ",")
                cur = []
            lines.append(f"/* {labels[i]} */")
        cur.append(s)
        if len(cur) == per_line:
            lines.append(", ".join(cur) + ",")
            cur = []
    if cur:
        lines.append(", ".join(cur) + ",")
    if lines and lines[-1].endswith(","):
        lines[-1] = lines[-1][:-1]
    return lines


def comment(text: str) -> str:
    """``text`` made safe inside a C block comment."""
    return str(text).replace("*/", "* /")


def define(name: str, value: int, doc: str) -> str:
    """``#define NAME value /* doc */`` (``L`` suffix outside the 16-bit int range)."""
    suffix = "L" if value > 32767 or value < -32768 else ""
    return f"#define {name} {value}{suffix} /* {comment(doc)} */"


def c_identifier(text: str) -> str:
    """An upper-case C identifier from free text (non-alphanumerics → ``_``; a leading digit or
    a C keyword gets a ``_`` prefix)."""
    ident = re.sub(r"[^0-9A-Za-z]+", "_", str(text)).strip("_").upper() or "_"
    if ident[0].isdigit() or ident.lower() in C_KEYWORDS:
        ident = "_" + ident
    return ident


#: suffixes the generated header already uses after ``FEAGI_AREA_``
RESERVED_AREA_IDENTS = frozenset({"NEURONS_SUM"})


def area_identifiers(names, genome_ids) -> list[str]:
    """One unique C identifier suffix per cortical area: its name sanitised
    (:func:`c_identifier`), or, where names collide or are empty, the name plus the sanitised
    genome id (then the index).

    >>> area_identifiers(["vision LL", "motor", "motor", ""], ["iic000", "omot00", "omot01", "c__x"])
    ['VISION_LL', 'MOTOR_OMOT00', 'MOTOR_OMOT01', 'C_X']
    """
    base = [c_identifier(n) if str(n).strip() else c_identifier(g) for n, g in zip(names, genome_ids)]
    base = [b + "_AREA" if b in RESERVED_AREA_IDENTS else b for b in base]
    out = []
    for i, (b, g) in enumerate(zip(base, genome_ids)):
        ident = b if base.count(b) == 1 else f"{b}_{c_identifier(g)}"
        out.append(ident)
    return [x if out.count(x) == 1 else f"{x}_{i}" for i, x in enumerate(out)]


def banner(genome_name: str, genome_sha256: str | None, board: str, what: str) -> str:
    """The comment every generated C file starts with."""
    return (f"/* {what}\n"
            f" * Generated by feagi-embed {__version__} - DO NOT EDIT (regenerate instead).\n"
            f" * genome: {genome_name}\n"
            f" * genome sha256: {genome_sha256}\n"
            f" * board: {board}\n"
            f" */")
