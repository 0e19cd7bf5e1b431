"""The stimulus file format, read identically by every target.

```json
{"stimuli": [
  {"bursts": [2, 5], "area": "iv00_C", "voxels": [[0, 0, 0], [3, 1, 0]], "kind": "force"},
  {"bursts": [7, 7], "area": "c__for", "voxels": [[0, 0, 0]], "kind": "inject", "value": 2.5}
]}
```

- ``bursts``: inclusive range ``[first, last]`` of burst numbers (the first burst is 1).
- ``area``: cortical area as spelled in the genome (its base64 ID or name also work).
- ``voxels``: ``[x, y, z]`` coordinates inside the area.
- ``kind``: ``"force"`` puts the neuron in that burst's fire queue (FEAGI manual stimulation);
  ``"inject"`` adds ``value`` to the neuron's input (FEAGI sensory XYZP: the last neuron of the voxel
  receives it; ``value`` 0 is dropped, as FEAGI drops p = 0).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import limits
from .errors import FeagiEmbedError, GenomeWarning, _short
from .jsonio import check_tree, format_problem, load_json

KIND_INJECT, KIND_FORCE = 0, 1
#: warning code of :func:`lossy_input_warnings`
LOSSY_INPUT = "lossy-input"
_ENTRY_KEYS = ("bursts", "area", "voxels", "kind", "value")


class StimulusError(FeagiEmbedError):
    """A stimulus file that cannot be applied (names file, key path, value, expectation)."""


def _stimulus_error(file, key_path, value, expected) -> StimulusError:
    return StimulusError(format_problem(file, key_path, value, expected))


@dataclass(frozen=True)
class Stimulus:
    """A stimulus schedule: a list of entries as in the file format (validated, JSON-ready)."""

    entries: tuple[dict[str, Any], ...] = ()
    source: str = "<stimulus>"
    #: input that loads but is probably wrong (unknown keys, a value on a force entry, no voxels)
    warnings: tuple[GenomeWarning, ...] = ()

    @classmethod
    def load(cls, path: str | os.PathLike, *, strict: bool = False) -> "Stimulus":
        """Read and validate a stimulus JSON file.

        Args:
            strict: turn warnings (see :meth:`from_json`) into errors.

        Raises:
            StimulusError: unreadable file, invalid JSON (:mod:`feagi_embed.jsonio`: size and depth
                caps, strict UTF-8, duplicate keys, numbers outside int64/double) or schema.
        """
        data, _ = load_json(path, error=_stimulus_error, what="stimulus file")
        return cls.from_json(data, os.fspath(path), strict=strict)

    @classmethod
    def from_json(cls, data: Any, source: str = "<stimulus>", *,
                  strict: bool = False) -> "Stimulus":
        """Validate a decoded stimulus document.

        Warnings (codes ``unknown-key``, ``value-without-kind``, ``empty-voxels``) are collected
        in :attr:`warnings`; ``strict`` raises them as errors.

        Raises:
            StimulusError: schema violation (or, strict, a warning), naming the key path.
        """
        def bad(path, value, expected):
            return StimulusError(f"{source}: {path}: got {_short(value)}; expected {expected}")
        warnings: list[GenomeWarning] = []

        def warn(code, path: tuple, message: str, value: Any):
            if strict:
                raise _stimulus_error(source, path, value,
                                      f"no warnings in --strict mode ({message})")
            warnings.append(GenomeWarning(code, path, message))
        check_tree(data, source, error=_stimulus_error)
        if not isinstance(data, dict) or not isinstance(data.get("stimuli"), list):
            raise bad("<root>", data if not isinstance(data, dict) else data.get("stimuli"),
                      'an object {"stimuli": [...]}')
        for k in data:
            if k != "stimuli":
                warn("unknown-key", (k,), f"unknown key {k!r} is ignored (expected only "
                     "\"stimuli\")", data[k])
        out = []
        lim = limits.current()
        for i, e in enumerate(data["stimuli"]):
            p = f"stimuli[{i}]"
            if not isinstance(e, dict):
                raise bad(p, e, "an object")
            for k in e:
                if k not in _ENTRY_KEYS:
                    warn("unknown-key", ("stimuli", i, k), f"unknown key {k!r} is ignored "
                         f"(expected {', '.join(_ENTRY_KEYS)})", e[k])
            if "value" in e and e.get("kind", "force") != "inject":
                warn("value-without-kind", ("stimuli", i, "value"),
                     f"a value on a {e.get('kind', 'force')!r} entry is dropped (the entry "
                     "force-fires); add \"kind\": \"inject\" to inject it", e["value"])
            b = e.get("bursts")
            if not (isinstance(b, list) and len(b) == 2 and all(isinstance(x, int) and not
                    isinstance(x, bool) for x in b) and 1 <= b[0] <= b[1]):
                raise bad(p + ".bursts", b, "[first, last] burst numbers with 1 <= first <= last")
            if b[1] > lim.max_bursts:
                raise bad(p + ".bursts", b, f"burst numbers up to {lim.max_bursts:,} "
                                            f"({limits.hint('max_bursts')})")
            if not isinstance(e.get("area"), str):
                raise bad(p + ".area", e.get("area"), "a cortical area id as spelled in the genome")
            vox = e.get("voxels")
            if not (isinstance(vox, list) and all(isinstance(v, list) and len(v) == 3 and
                    all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in v)
                    for v in vox)):
                raise bad(p + ".voxels", vox, "a list of [x, y, z] non-negative integers")
            if not vox:
                warn("empty-voxels", ("stimuli", i, "voxels"), "no voxels: the entry does "
                     "nothing", vox)
            for j, v in enumerate(vox):
                if max(v) > lim.max_dim:
                    raise bad(f"{p}.voxels[{j}]", v, f"coordinates up to {lim.max_dim:,}, the "
                                                     "largest area size (docs/limits.md)")
            kind = e.get("kind", "force")
            if kind not in ("force", "inject"):
                raise bad(p + ".kind", kind, '"force" or "inject"')
            entry = {"bursts": list(b), "area": e["area"], "voxels": [list(v) for v in vox],
                     "kind": kind}
            if kind == "inject":
                val = e.get("value")
                if not (isinstance(val, (int, float)) and not isinstance(val, bool)
                        and math.isfinite(val)):
                    raise bad(p + ".value", val, "a finite number (the injected potential)")
                entry["value"] = float(val)
            out.append(entry)
        return cls(tuple(out), source, tuple(warnings))

    @classmethod
    def random(cls, model, bursts: int, seed: int = 0, *, density: float = 0.1,
               per_area_max: int = 24, max_per_burst: int | None = None,
               nonneg_areas: Collection[int] = ()) -> "Stimulus":
        """A seeded random schedule over the model's input areas, for checks that must make
        synapses carry spikes (``verify`` without ``--stimulus``, sweeps).

        Every burst, in each input area (IPU areas; a model without any uses its non-core areas
        that have outgoing synapses), about ``density`` of the voxels (at least one, at most
        ``per_area_max``) are picked; half are force-fired, half get an injection of an integer
        value in [-2, 12] without 0. With ``max_per_burst`` a random subset of that many voxels
        is kept per burst (so the schedule fits a given input queue). Integers are on every
        fixed-point grid (any F, any 16-bit membrane potential step), so fixed point is lossless
        for this input. The same arguments always give the same schedule.

        Args:
            model: :class:`~feagi_embed.model.Model`.
            bursts: bursts 1…bursts get entries.
            seed: numpy ``default_rng`` seed.
            nonneg_areas: area indices that take only values >= 0 (a board's narrow-V areas
                without charge accumulation, ``NarrowV.nonneg_sensory``): there each drawn value
                is replaced by its magnitude; the draws, and so the rest of the schedule, stay
                the same.
        """
        rng = np.random.default_rng(seed)
        a = model.areas
        areas = [i for i in range(len(a)) if a.kinds[i] == "ipu"]
        if not areas:
            out_syn = model.synapses_out_per_area
            areas = [i for i in range(len(a)) if a.kinds[i] != "core" and out_syn[i] > 0]
        values = [-2, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        entries = []
        for b in range(1, int(bursts) + 1):
            atoms = []  # (area, [x, y, z], value or None for a force-fire)
            for i in areas:
                w, h, d = a.dims[i]
                nvox = w * h * d
                k = int(min(per_area_max, nvox, max(1, round(density * nvox))))
                for j, v in enumerate(rng.choice(nvox, size=k, replace=False)):
                    vox = [int(v // (h * d)), int((v // d) % h), int(v % d)]
                    val = None if j < (k + 1) // 2 else float(values[int(rng.integers(len(values)))])
                    atoms.append((i, vox, abs(val) if val is not None and i in nonneg_areas else val))
            if max_per_burst is not None and len(atoms) > max_per_burst:
                keep = np.sort(rng.choice(len(atoms), size=max_per_burst, replace=False))
                atoms = [atoms[j] for j in keep]
            for i in areas:
                forced = [vox for ai, vox, val in atoms if ai == i and val is None]
                if forced:
                    entries.append({"bursts": [b, b], "area": a.genome_ids[i], "kind": "force",
                                    "voxels": forced})
                entries += [{"bursts": [b, b], "area": a.genome_ids[i], "kind": "inject",
                             "value": val, "voxels": [vox]}
                            for ai, vox, val in atoms if ai == i and val is not None]
        return cls.from_json({"stimuli": entries}, f"<random stimulus, seed {seed}>")

    def to_json(self) -> dict[str, Any]:
        """The file form."""
        return {"stimuli": [dict(e) for e in self.entries]}

    def last_burst(self) -> int:
        """Largest burst number any entry touches (0 if empty)."""
        return max((e["bursts"][1] for e in self.entries), default=0)

    def event_count(self, bursts: int) -> int:
        """Injections + force-fires the schedule expands to over bursts 1…``bursts`` (zero values
        included), computed without allocating."""
        return sum(max(0, min(e["bursts"][1], bursts) - e["bursts"][0] + 1) * len(e["voxels"])
                   for e in self.entries)

    def compile(self, model, bursts: int, real: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per-burst CSR arrays for executors.

        Args:
            model: :class:`~feagi_embed.model.Model`.
            bursts: number of bursts to cover (burst numbers 1…bursts).
            real: values as float32 real numbers (float reference) instead of q(value).

        Returns:
            ``(ptr, neuron, value, kind)``: int64 ``[bursts+1]``, uint32, int32 q(value) (float32
            with ``real``; 0 for force), uint8 (``KIND_INJECT``/``KIND_FORCE``); entries of burst b are
            ``ptr[b-1] … ptr[b]-1`` in file order.

        Raises:
            StimulusError: unknown area, voxel outside the area, value too large for the model.
            ResourceLimitError: more than ``limits.max_bursts`` bursts or
                ``limits.max_stimulus_events`` events (checked before allocating).
        """
        from .quantize import q

        lim = limits.current()
        if bursts > lim.max_bursts:
            raise StimulusError(f"{self.source}: {bursts:,} bursts requested; expected at most "
                                f"{lim.max_bursts:,} ({limits.hint('max_bursts')})")
        limits.check_count("max_stimulus_events", self.event_count(bursts),
                           "stimulus events (bursts x voxels, before the schedule is built)",
                           self.source)
        vdtype = np.float32 if real else np.int32
        parts_b, parts_n, parts_v, parts_k = [], [], [], []
        for i, e in enumerate(self.entries):
            try:
                a = model.area_index(e["area"])
            except KeyError:
                raise StimulusError(f"{self.source}: stimuli[{i}].area: got {json.dumps(e['area'])}; "
                                    "expected a cortical area of the genome") from None
            w, h, d = model.areas.dims[a]
            npv = model.areas.npv[a]
            if e["kind"] == "inject":
                if abs(e["value"]) > model.max_sensory:
                    raise StimulusError(
                        f"{self.source}: stimuli[{i}].value: got {e['value']}; expected |value| <= "
                        f"{model.max_sensory} (the model's sensory budget)")
                if e["value"] == 0:
                    continue  # FEAGI drops p == 0 (npu.rs::inject_sensory_xyzp_by_id)
                qv = float(np.float32(e["value"])) if real else int(q(e["value"], model.frac_bits))
            else:
                qv = 0
            vox = np.asarray(e["voxels"], np.int64).reshape(-1, 3)
            bad = np.nonzero((vox[:, 0] >= w) | (vox[:, 1] >= h) | (vox[:, 2] >= d))[0]
            if len(bad):
                j = int(bad[0])
                raise StimulusError(f"{self.source}: stimuli[{i}].voxels[{j}]: got "
                                    f"{vox[j].tolist()}; expected a voxel inside {e['area']} "
                                    f"({w}x{h}x{d})")
            # the last neuron of each voxel (FEAGI's coordinate lookup keeps the highest id)
            nid = (int(model.area_first[a]) + ((vox[:, 0] * h + vox[:, 1]) * d + vox[:, 2]) * npv
                   + (npv - 1))
            b0, b1 = e["bursts"][0], min(e["bursts"][1], bursts)
            if b1 < b0:
                continue
            nb_ = b1 - b0 + 1
            parts_b.append(np.repeat(np.arange(b0, b1 + 1, dtype=np.int64), len(nid)))
            parts_n.append(np.tile(nid, nb_))
            parts_v.append(np.full(nb_ * len(nid), qv, vdtype))
            parts_k.append(np.full(nb_ * len(nid), KIND_INJECT if e["kind"] == "inject"
                                   else KIND_FORCE, np.uint8))
        if not parts_b:
            return (np.zeros(bursts + 1, np.int64), np.empty(0, np.uint32), np.empty(0, vdtype),
                    np.empty(0, np.uint8))
        b = np.concatenate(parts_b)
        order = np.argsort(b, kind="stable")  # by burst, then file order
        ptr = np.concatenate(([0], np.cumsum(np.bincount(b - 1, minlength=bursts)))).astype(np.int64)
        return (ptr, np.concatenate(parts_n)[order].astype(np.uint32),
                np.concatenate(parts_v)[order], np.concatenate(parts_k)[order])


def input_grid(model) -> dict[str, Any]:
    """The fixed-point grid sensory values land on: ``{"frac_bits": F, "step": 2^-F, "range":
    [-max_sensory, max_sensory]}`` (real units). A value is *on the grid* when its f32 value is a
    multiple of the step; every other value is rounded (``q(v) = round_half_away(f32(v)·2^F)``,
    docs/model.md §2), while FEAGI adds the f32 value itself."""
    return {"frac_bits": int(model.frac_bits), "step": 2.0 ** -int(model.frac_bits),
            "range": [-float(model.max_sensory), float(model.max_sensory)]}


def off_grid(values, frac_bits: int) -> np.ndarray:
    """Boolean mask of ``values`` whose f32 value is not a multiple of ``2^-frac_bits``."""
    x = np.asarray(values, np.float32).astype(np.float64) * float(1 << frac_bits)
    return np.floor(x) != x


def lossy_input_warnings(stimulus: "Stimulus", model, *, strict: bool = False,
                         what: str = "stimulus") -> tuple[GenomeWarning, ...]:
    """Say when fixed point is lossy for this input: injected values off the model's input grid
    (:func:`input_grid`).

    FEAGI adds sensory values in f32 (0.01 + 0.035 + 0.055 is exactly 0.1f and reaches a 0.1
    threshold; oracle, ``feagi-oracle.md`` "Sensory (potential) injection"), so a value the
    fixed-point model must round can change firing. One warning (code :data:`LOSSY_INPUT`)
    names the first offending entry, its value, what it becomes on the grid, how many values are
    off the grid, and suggests ``--precision fp32``. Force-fires and zero values are exact.

    Args:
        stimulus: the schedule (:class:`Stimulus`).
        model: :class:`~feagi_embed.model.Model` (its ``frac_bits``).
        strict: raise instead of returning the warning (``--strict``).
        what: how messages name the input (e.g. the file name).

    Returns:
        ``()`` when every value is on the grid, else one :class:`GenomeWarning`.

    Raises:
        StimulusError: ``strict`` and some value is off the grid.
    """
    f = int(model.frac_bits)
    vals = [(i, e["value"]) for i, e in enumerate(stimulus.entries)
            if e["kind"] == "inject" and e["value"] != 0]
    if not vals:
        return ()
    bad = np.nonzero(off_grid([v for _, v in vals], f))[0]
    if not len(bad):
        return ()
    from .quantize import q

    i, v = vals[int(bad[0])]
    qv = int(q(v, f))
    msg = (f"value {v!r} is not on the fixed-point input grid (step 2^-{f} = {2.0 ** -f:g}): "
           f"it becomes {qv / float(1 << f)!r} (q = {qv}); {len(bad)} of {len(vals)} injected "
           f"values are off the grid. FEAGI adds the f32 value, so firing can differ from the "
           f"engine: use --precision fp32 for engine-exact input")
    if strict:
        raise _stimulus_error(f"{what}", ("stimuli", i, "value"), v,
                              f"no warnings in --strict mode ({msg})")
    return (GenomeWarning(LOSSY_INPUT, ("stimuli", i, "value"), msg),)
