"""Run generated ``@micropython.viper`` code in CPython with the integer semantics of a chosen
machine word (test helper for tests/test_micropython.py).

No 32-bit MicroPython with viper runs here (the unix port from PyPI is 64-bit), so the generated
``feagi_viper.py`` is executed under emulation: its AST is rewritten so that every integer literal
and every ``int(...)`` becomes a :class:`Word` (two's-complement machine integer of 32 or 64 bits:
``+ - * << `` wrap, ``>>`` is arithmetic, comparisons are signed), and ``ptr8/ptr16/ptr32``
arguments become :class:`Ptr` views whose loads zero-extend to the machine word (as viper's do) and
whose stores truncate. With ``bits=32`` this is the arithmetic of viper on ESP32 / RP2040 / STM32 /
ESP32-C3; with ``bits=64`` that of the unix port (cross-checked against the real one).
"""

from __future__ import annotations

import ast
import types
from pathlib import Path


class Word:
    """A machine-word integer of ``BITS`` bits (set per emulated module via a subclass)."""

    BITS = 32
    __slots__ = ("v",)

    def __init__(self, v):
        v = int(v.v if isinstance(v, Word) else v)
        b = self.BITS
        v &= (1 << b) - 1
        self.v = v - (1 << b) if v >> (b - 1) else v

    def _o(self, x):
        return x.v if isinstance(x, Word) else int(x)

    def _w(self, v):
        return type(self)(v)

    def __add__(self, x): return self._w(self.v + self._o(x))
    __radd__ = __add__
    def __sub__(self, x): return self._w(self.v - self._o(x))
    def __rsub__(self, x): return self._w(self._o(x) - self.v)
    def __mul__(self, x): return self._w(self.v * self._o(x))
    __rmul__ = __mul__
    def __and__(self, x): return self._w(self.v & self._o(x))
    __rand__ = __and__
    def __or__(self, x): return self._w(self.v | self._o(x))
    __ror__ = __or__
    def __xor__(self, x): return self._w(self.v ^ self._o(x))
    __rxor__ = __xor__

    def __lshift__(self, x):
        s = self._o(x)
        assert 0 <= s < self.BITS, "shift out of range (undefined on MCUs)"
        return self._w(self.v << s)

    def __rshift__(self, x):
        s = self._o(x)
        assert 0 <= s < self.BITS, "shift out of range (undefined on MCUs)"
        return self._w(self.v >> s)  # arithmetic: viper int is signed

    def __rlshift__(self, x): return self._w(self._o(x)).__lshift__(self)
    def __rrshift__(self, x): return self._w(self._o(x)).__rshift__(self)
    def __neg__(self): return self._w(-self.v)
    def __lt__(self, x): return self.v < self._o(x)
    def __le__(self, x): return self.v <= self._o(x)
    def __gt__(self, x): return self.v > self._o(x)
    def __ge__(self, x): return self.v >= self._o(x)
    def __eq__(self, x): return self.v == self._o(x)
    def __ne__(self, x): return self.v != self._o(x)
    def __bool__(self): return self.v != 0
    def __index__(self): return self.v
    def __int__(self): return self.v
    def __hash__(self): return hash(self.v)
    def __repr__(self): return f"Word{self.BITS}({self.v})"


class Ptr:
    """A viper ``ptrN`` view of a buffer: loads are the unsigned N-bit item as a machine word,
    stores keep the low N bits (written back in the array's own signedness)."""

    def __init__(self, buf, nbits: int, word: type):
        self.buf, self.n, self.word = buf, nbits, word
        self.signed = getattr(buf, "typecode", "B") in "bhil"

    def __getitem__(self, i):
        return self.word(int(self.buf[int(i)]) & ((1 << self.n) - 1))

    def __setitem__(self, i, value):
        v = int(value) & ((1 << self.n) - 1)
        if self.signed and v >> (self.n - 1):
            v -= 1 << self.n
        self.buf[int(i)] = v


class _Rewrite(ast.NodeTransformer):
    def visit_Constant(self, node):
        if type(node.value) is int:
            return ast.copy_location(ast.Call(ast.Name("Word", ast.Load()), [node], []), node)
        return node


def load_viper(path: str | Path, bits: int = 32) -> types.SimpleNamespace:
    """The viper functions of ``path`` as Python callables with ``bits``-bit viper semantics."""
    word = type(f"Word{bits}", (Word,), {"BITS": bits, "__slots__": ()})
    tree = ast.parse(Path(path).read_text())
    funcs = {}
    sigs = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            node.decorator_list = []
            sig = []
            for a in node.args.args:
                ann = ast.unparse(a.annotation) if a.annotation else ""
                sig.append(int(ann[3:]) if ann.startswith("ptr") else (0 if ann == "int" else -1))
                a.annotation = None
            node.returns = None
            sigs[node.name] = sig
            funcs[node.name] = node
    mod = ast.Module([_Rewrite().visit(f) for f in funcs.values()], [])
    ast.fix_missing_locations(mod)
    ns = {"Word": word, "int": word}
    exec(compile(mod, str(path), "exec"), ns)

    def wrap(name):
        fn, sig = ns[name], sigs[name]

        def call(*args):
            conv = [Ptr(a, k, word) if k > 0 else (word(a) if k == 0 else a)
                    for a, k in zip(args, sig)]
            r = fn(*conv)
            return int(r) if isinstance(r, Word) else r
        return call

    return types.SimpleNamespace(**{n: wrap(n) for n in funcs}, BITS=bits)
