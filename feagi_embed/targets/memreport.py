"""Measured memory of a built firmware ELF, next to the capacity plan's prediction.

Every buffer of a C :class:`~feagi_embed.plan.Plan` is matched to ELF symbols (pyelftools):

- flash (model constants) ``<name>`` → the generated ``feagi_<name>`` (``src/feagi_model.c``);
- RAM (state) ``<name>`` → the runtime's ``st_<name>``, ``feagi_<name>`` or ``<name>``
  (``firmware/feagi_runtime.c``); the queue is ``q_id`` + ``q_val`` + ``q_kind``.

A plan array without a symbol was dropped by the compiler or linker because this build never reads
it (``--gc-sections`` removes, e.g., ``feagi_area_w`` when nothing calls the voxel API; a
zero-element state array is a 1-element placeholder the compiler removes when unused). Region
totals come from the ELF's sections (:func:`~feagi_embed.targets.elfinfo.elf_sizes`); what they
hold beyond the matched arrays is the runtime's own overhead (code, CRC table, scalars, HAL, libc
on native, alignment), reported separately. Per-area measured bytes distribute each array's
measured size over the areas as the plan does (exact whenever the array's size is exact; 0 for a
dropped array).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from feagi_embed.codegen.cgen import ctype
from feagi_embed.plan import Plan
from feagi_embed.targets.elfinfo import Symbol, elf_sizes, elf_symbols

#: plan RAM arrays whose runtime symbols do not follow ``st_<name>``
RUNTIME_RAM_SYMBOLS: dict[str, tuple[str, ...]] = {"queue": ("q_id", "q_val", "q_kind")}

#: plan array → the ``FEAGI_*`` count constant that is 0 when the array is a 1-element placeholder
PLACEHOLDER_COUNT: dict[str, str] = {
    "v32": "FEAGI_N_V32", "v16": "FEAGI_N_V16",
    "cc2": "FEAGI_N_CC2", "cc8": "FEAGI_N_CC8", "cc16": "FEAGI_N_CC16", "cd": "FEAGI_N_CD", "acc": "FEAGI_N_ACC",
    "vfire": "FEAGI_N_MPD", "psp": "FEAGI_N_DEGEN", "thr": "FEAGI_N_THR", "syn_ptr": "FEAGI_N_SP",
    "syn_dst": "FEAGI_S", "syn_c": "FEAGI_S", "syn_w": "FEAGI_S",
}


def symbol_candidates(name: str, region: str) -> tuple[str, ...]:
    """ELF symbol names that hold plan array ``name`` of ``region`` (``"flash"`` or ``"ram"``)."""
    if region == "flash":
        return (f"feagi_{name}",)
    return RUNTIME_RAM_SYMBOLS.get(name, (f"st_{name}", f"feagi_{name}", name))


def is_placeholder(plan: Plan, name: str) -> bool:
    """True when plan array ``name`` has no real element (the C code declares 1 so it compiles)."""
    key = PLACEHOLDER_COUNT.get(name)
    return key is not None and int(plan.constants.get(key.removeprefix("FEAGI_").lower(), 1)) == 0


def _match(name: str, region: str, syms: dict[str, Symbol]) -> list[Symbol]:
    cands = symbol_candidates(name, region)
    if name in RUNTIME_RAM_SYMBOLS:
        return [syms[c] for c in cands if c in syms]
    for c in cands:
        if c in syms and syms[c].kind == "object":
            return [syms[c]]
    return []


def measured_memory(plan: Plan, elf: str | os.PathLike[str], area_names: list[str] | None = None
                    ) -> dict[str, Any]:
    """Compare ``plan`` with the ELF built from it.

    Args:
        plan: the capacity plan the firmware was generated from.
        elf: the linked firmware.
        area_names: keys of ``plan.per_area`` in area-index order (default: its key order).

    Returns:
        ``{"elf", "sections": ElfSizes.to_json(), "arrays": [{"name", "region", "ctype", "predicted",
        "measured", "symbols", "status"}], "regions": {"ram"|"flash": {"predicted", "measured_arrays",
        "measured", "runtime_overhead", "dropped"}}, "areas": {name: {"ram_measured",
        "flash_measured"}}}``. ``status`` is ``"exact"``, ``"differs"``, ``"dropped"`` (no
        symbol: unused in this build, see the module docstring) or ``"heap"`` (allocated at boot
        by ``feagi_init``: only its pointer is in the ELF, counted as runtime overhead); ``measured`` (bytes) is the ELF's
        RAM (``.data`` + ``.bss``) or flash (text + rodata + data initialisers) total;
        ``runtime_overhead`` = ``measured`` − ``measured_arrays``.

    Raises:
        FeagiEmbedError: not an ELF, or no symbol table.
    """
    syms = elf_symbols(elf)
    sizes = elf_sizes(elf)
    keys = area_names or list(plan.per_area)
    arrays = []
    per_area = {k: {"ram_measured": 0, "flash_measured": 0} for k in keys}
    regions = {r: {"predicted": 0, "measured_arrays": 0, "dropped": 0} for r in ("ram", "flash")}
    for a in plan.buffers:
        if a.name in plan.heap:  # taken from the heap by feagi_init(): no static symbol
            arrays.append({"name": a.name, "region": "heap", "ctype": ctype(a.dtype),
                           "predicted": a.nbytes, "measured": 0, "symbols": [], "status": "heap",
                           "placeholder": False})
            continue
        got = _match(a.name, a.region, syms)
        measured = sum(s.size for s in got)
        status = "dropped" if not got else ("exact" if measured == a.nbytes else "differs")
        arrays.append({"name": a.name, "region": a.region, "ctype": ctype(a.dtype), "predicted": a.nbytes,
                       "measured": measured, "symbols": [s.name for s in got], "status": status,
                       "placeholder": is_placeholder(plan, a.name)})
        reg = regions[a.region]
        reg["predicted"] += a.nbytes
        reg["measured_arrays"] += measured
        if not got:
            reg["dropped"] += a.nbytes
        for idx, b in (a.per_area or {}).items():
            share = b if status == "exact" else (round(b * measured / a.nbytes) if a.nbytes else 0)
            per_area[keys[idx]][f"{a.region}_measured"] += share
    matched = {n for a in arrays for n in a["symbols"]}
    others = sorted((s for s in syms.values() if s.kind == "object" and s.region and s.name not in matched
                     and s.size > 0), key=lambda s: -s.size)
    regions["ram"]["measured"] = sizes.ram
    regions["flash"]["measured"] = sizes.flash
    for r in regions.values():
        r["runtime_overhead"] = r["measured"] - r["measured_arrays"]
    return {"elf": str(Path(elf)), "sections": sizes.to_json(), "arrays": arrays, "regions": regions,
            "areas": per_area,
            "other_objects": [{"name": s.name, "region": s.region, "size": s.size} for s in others[:12]]}


def merge_into_report(report: dict[str, Any], measured: dict[str, Any]) -> dict[str, Any]:
    """Add ``measured`` (from :func:`measured_memory`) to a ``build.report`` dict, additively:
    ``regions[r]`` gains ``measured``, ``measured_arrays``, ``runtime_overhead``; each area gains
    ``ram_measured``/``flash_measured``; each array gains ``measured``/``symbols``/``status``; and
    ``elf`` holds the path and section sizes. Returns ``report`` (changed in place)."""
    for r, v in measured["regions"].items():
        report["regions"][r].update(measured=v["measured"], measured_arrays=v["measured_arrays"],
                                    runtime_overhead=v["runtime_overhead"], dropped=v["dropped"])
    for ar in report["areas"]:
        ar.update(measured["areas"].get(ar["name"], {}))
    by_name = {(a["name"], a["region"]): a for a in measured["arrays"]}
    for a in report.get("arrays", []):
        m = by_name.get((a["name"], a["region"]))
        if m:
            a.update(measured=m["measured"], symbols=m["symbols"], status=m["status"],
                     placeholder=m["placeholder"])
    report["elf"] = {"path": measured["elf"], "sections": measured["sections"],
                     "other_objects": measured["other_objects"]}
    return report


def compile_project(project_dir: str | os.PathLike[str], board, out_dir: str | os.PathLike[str]) -> Path:
    """Build a ``feagi-embed build`` project folder (``src/``, ``include/``,
    ``lib/feagi_runtime/src``) with the board's local cross toolchain and HAL (the same sources and
    flags as its Makefile); returns the ELF path.

    Raises:
        ToolMissingError: the board's compiler is not installed.
        TargetError: the build failed.
    """
    from feagi_embed.targets.toolchain import build_elf

    proj = Path(project_dir)
    lib = proj / "lib" / "feagi_runtime" / "src"
    return build_elf(board, [proj / "src", lib], [proj / "include", lib], out_dir=out_dir).elf
