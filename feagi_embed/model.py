"""The Model: the one contract between the compiler and every executor and emitter.

A :class:`Model` is frozen: fixed-point arrays (``docs/model.md`` §2–§3), the f32 values FEAGI
computes with (for the float reference), the cortical-area table (:class:`AreaTable`), where it
came from (:class:`Provenance`) and the few scalars the burst needs. Every quantity derived from
them (power input, forced potential, PSP cap, sensory budget in fixed point, …) is a property
defined here once; nothing downstream re-derives it or re-reads the genome.

``quantize.py`` makes a Model from a connectome; :meth:`Model.save` / :meth:`Model.load` keep it
as ``.npz`` (arrays + JSON metadata, format :data:`MODEL_FORMAT`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any

import numpy as np

from .errors import FeagiEmbedError

MODEL_FORMAT = 1
INT32_MAX = 2**31 - 1
#: excitability modes (``area_exc_mode``)
EXC_ALWAYS, EXC_NEVER, EXC_THRESHOLD = 0, 1, 2
#: Largest sensory (XYZP) value the overflow proof budgets for by default: FEAGI's image encoders
#: send pixel values 0…255 (``feagi-sensorimotor/src/data_types/image_frame.rs``).
DEFAULT_MAX_SENSORY = 255.0
#: Brains with at least this many neurons reset only previously fired mp_acc=false neurons
#: (``npu.rs::process_burst`` phase 1d).
LARGE_BRAIN_NEURONS = 1_000_000
#: ``Model.forced_v`` in real units: the potential the engine reports for a forced fire
FORCED_V_REAL = 100


@dataclass(frozen=True)
class Provenance:
    """Where a model came from (for banners, reports and caches).

    Attributes:
        genome_path: the genome file (``"<random>"`` etc. for synthetic models).
        genome_sha256: hex SHA-256 of the genome file bytes (None for synthetic models).
        genome_version: the genome's ``version`` string (``"2.x"``, ``"3.0"``; ``"?"`` unknown).
        tool_version: feagi-embed version that quantized it.
    """

    genome_path: str = "?"
    genome_sha256: str | None = None
    genome_version: str = "?"
    tool_version: str = "?"

    @property
    def genome_name(self) -> str:
        """File name of the genome (``essential_genome.json``)."""
        return os.path.basename(str(self.genome_path))


@dataclass(frozen=True)
class AreaTable:
    """The cortical areas of a model, in area-index order (all tuples of length A).

    Attributes:
        ids: engine cortical IDs, base64 of the 8 ID bytes.
        genome_ids: IDs as spelled in the genome (``iv00_C``, ``___pwr`` …).
        names: area names from the genome.
        dims: ``(x, y, z)`` voxel dimensions.
        npv: neurons per voxel.
        kinds: ``"core"``, ``"ipu"``, ``"opu"``, ``"custom"``, ``"memory"``.
    """

    ids: tuple[str, ...]
    genome_ids: tuple[str, ...]
    names: tuple[str, ...]
    dims: tuple[tuple[int, int, int], ...]
    npv: tuple[int, ...]
    kinds: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.genome_ids)

    @cached_property
    def dims_array(self) -> np.ndarray:
        """int64 ``[A, 3]`` dims."""
        return np.asarray(self.dims, np.int64).reshape(len(self), 3)

    @cached_property
    def npv_array(self) -> np.ndarray:
        """int64 ``[A]`` neurons per voxel."""
        return np.asarray(self.npv, np.int64).reshape(len(self))

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """One unique key per area for reports: its name, or ``name#index`` when the name is
        shared by several areas."""
        names = list(self.names) if self.names else [str(i) for i in range(len(self))]
        return tuple(n if names.count(n) == 1 else f"{n}#{a}" for a, n in enumerate(names))

    @cached_property
    def io_units(self) -> tuple[str, ...]:
        """FEAGI IO unit type of each IPU/OPU area (cortical ID bytes 1-3: ``"pro"`` proximity,
        ``"svi"`` segmented vision, ``"mot"`` rotary motor …; ``""`` for other areas)."""
        import base64

        out = []
        for b64, kind in zip(self.ids, self.kinds):
            try:
                raw = base64.b64decode(b64)
            except ValueError:
                raw = b""
            out.append(raw[1:4].decode("ascii", "replace") if kind in ("ipu", "opu") and
                       len(raw) == 8 else "")
        return tuple(out)

    def valid_keys(self) -> str:
        """The areas as a user may name them, for error messages: ``"genome_id (name), …"``."""
        return ", ".join(self.label(a) for a in range(len(self)))

    def index(self, key: str) -> int:
        """Area index by genome spelling, base64 id or name.

        Raises:
            KeyError: unknown area.
        """
        for table in (self.genome_ids, self.ids, self.names):
            if key in table:
                return table.index(key)
        raise KeyError(f"no cortical area {key!r} (areas: {self.valid_keys()})")

    def label(self, a: int) -> str:
        """``"<genome id> (<name>)"`` of area ``a``, for messages."""
        return f"{self.genome_ids[a]} ({self.names[a]})" if self.names[a] else self.genome_ids[a]


@dataclass(frozen=True)
class Model:
    """The fixed-point model every target executes (MODEL §2–§3).

    Neurons are in canonical id order (see :class:`~feagi_embed.connectome.Connectome`). Per-area
    arrays are indexed by ``neuron_area``.

    Attributes:
        frac_bits: F, fractional bits of membrane potentials, thresholds and contributions.
        provenance: genome file, sha256, genome version, tool version.
        areas: the cortical-area table.
        power_neuron: id of the ``___power`` neuron, -1 when the genome has none.
        large_brain: N ≥ :data:`LARGE_BRAIN_NEURONS` (FEAGI's large-brain reset path).
        simulation_timestep: seconds per burst (genome physiology; 0 when unset).
        max_sensory: largest |sensory value| the overflow proof budgets for (real units).
        mp_psp_max: largest PSP an mp-driven source can send (real units; a run-time cap).
        degen_psp_max: largest initial PSP of a degenerating area (real units).
        area_first: int64 ``[A+1]`` neuron id ranges per area.
        neuron_area: uint16 ``[N]``.
        threshold: int32 ``[N]`` ceil(threshold · 2^F).
        area_limit: int32 ``[A]`` floor(limit · 2^F), ``INT32_MAX`` when none.
        area_leak_k: int32 ``[A]`` leak factor K (65536 = no leak).
        area_exc_mode, area_exc_t: uint8 / uint32 ``[A]`` excitability mode and threshold T.
        area_refractory, area_snooze, area_cfl: uint16 ``[A]`` R, S, L (L = 65535 unlimited).
        area_mp_acc, area_mp_driven: bool ``[A]``.
        syn_ptr: int64 ``[N+1]`` CSR offsets of outgoing synapses by source neuron.
        syn_dst: uint32 ``[S]`` target neuron ids.
        syn_c: int32 ``[S]`` contribution C = q(w·psp·sign / n) (non mp-driven sources).
        syn_w: int32 ``[S]`` signed weight (``−w`` for inhibitory), for run-time PSPs.
        fanout: int32 ``[N]`` divisor n per source (1 when the area has uniform PSP).
        area_psp, area_degen: int32 ``[A]`` q(PSP) and q(degeneration).
        area_psp_f32, area_degen_f32, threshold_f32, area_limit_f32 (f32 max when none),
            area_leak_f32 (``f32(1 − leak)``), syn_c_f32: the f32 values FEAGI computes with.
        report: the quantization report (:func:`~feagi_embed.quantize.quantization_report`).
        syn_rule: int32 ``[S]`` index into ``rules`` of the mapping rule that made each synapse
            (None for models made without it, e.g. synthetic ones).
        rules: :class:`~feagi_embed.rules.SynapseRule` per applied mapping rule (kind, dims
            lists or vectors, weight, contribution, proven exactness); the CSR arrays stay
            complete, procedural storage is the plan's choice (``docs/model.md`` §8).
    """

    frac_bits: int
    provenance: Provenance
    areas: AreaTable
    power_neuron: int
    large_brain: bool
    simulation_timestep: float
    max_sensory: float
    mp_psp_max: int
    degen_psp_max: int
    area_first: np.ndarray
    neuron_area: np.ndarray
    threshold: np.ndarray
    area_limit: np.ndarray
    area_leak_k: np.ndarray
    area_exc_mode: np.ndarray
    area_exc_t: np.ndarray
    area_refractory: np.ndarray
    area_snooze: np.ndarray
    area_cfl: np.ndarray
    area_mp_acc: np.ndarray
    area_mp_driven: np.ndarray
    syn_ptr: np.ndarray
    syn_dst: np.ndarray
    syn_c: np.ndarray
    syn_w: np.ndarray
    fanout: np.ndarray
    report: dict[str, Any] = field(default_factory=dict, compare=False)
    area_psp: np.ndarray | None = None
    area_degen: np.ndarray | None = None
    area_psp_f32: np.ndarray | None = None
    area_degen_f32: np.ndarray | None = None
    threshold_f32: np.ndarray | None = None
    area_limit_f32: np.ndarray | None = None
    area_leak_f32: np.ndarray | None = None
    syn_c_f32: np.ndarray | None = None
    syn_rule: np.ndarray | None = None
    rules: tuple = field(default=(), compare=False)

    #: arrays that older model files lack (saved when present)
    OPTIONAL_ARRAYS = ("syn_rule",)
    ARRAYS = ("area_first", "neuron_area", "threshold", "area_limit", "area_leak_k",
              "area_exc_mode", "area_exc_t", "area_refractory", "area_snooze", "area_cfl",
              "area_mp_acc", "area_mp_driven", "syn_ptr", "syn_dst", "syn_c", "syn_w", "fanout",
              "area_psp", "area_degen", "area_psp_f32", "area_degen_f32",
              "threshold_f32", "area_limit_f32", "area_leak_f32", "syn_c_f32")

    # ------------------------------------------------------------------ sizes
    @property
    def n_neurons(self) -> int:
        """N."""
        return int(self.area_first[-1])

    @property
    def n_synapses(self) -> int:
        """S."""
        return int(self.syn_dst.shape[0])

    @property
    def n_areas(self) -> int:
        """A."""
        return len(self.area_first) - 1

    @cached_property
    def area_counts(self) -> np.ndarray:
        """int64 ``[A]`` neurons per area."""
        return np.diff(np.asarray(self.area_first, np.int64))

    @cached_property
    def area_of_neuron(self) -> np.ndarray:
        """int64 ``[N]`` area index of every neuron (``neuron_area`` widened)."""
        return np.repeat(np.arange(self.n_areas), self.area_counts)

    @cached_property
    def synapses_out_per_area(self) -> np.ndarray:
        """int64 ``[A]`` outgoing synapses of each area's neurons."""
        out = np.diff(np.asarray(self.syn_ptr, np.int64))
        return np.bincount(self.area_of_neuron, weights=out,
                           minlength=self.n_areas).astype(np.int64)

    # ------------------------------------------------------------------ derived constants
    @property
    def power_input(self) -> int:
        """P = q(1.0) = 2^F: what the power neuron receives every burst."""
        return 1 << self.frac_bits

    @property
    def forced_v(self) -> int:
        """q(100): the membrane potential reported (and seen by mp-driven PSPs) for a forced
        fire (oracle observation, ``docs/model.md`` §3)."""
        return FORCED_V_REAL << self.frac_bits

    @property
    def has_power(self) -> bool:
        """Whether the genome has a ``___power`` neuron."""
        return self.power_neuron >= 0

    @property
    def psp_cap(self) -> int:
        """Largest run-time PSP in fixed point: ``max(mp_psp_max, degen_psp_max) << F`` (a
        Python int; may exceed int32, where it never clamps)."""
        return max(int(self.mp_psp_max), int(self.degen_psp_max)) << self.frac_bits

    @property
    def max_sensory_q(self) -> int:
        """``round(max_sensory · 2^F)``: the largest |injected value| every target accepts."""
        return int(np.round(float(self.max_sensory) * (1 << self.frac_bits)))

    @cached_property
    def degenerating(self) -> np.ndarray:
        """bool ``[A]``: areas whose PSP drops after every fire (``area_degen != 0``)."""
        return np.asarray(self.area_degen) != 0

    @cached_property
    def runtime_psp_areas(self) -> np.ndarray:
        """bool ``[A]``: areas whose contributions are computed at run time (mp-driven or
        degenerating sources)."""
        return np.asarray(self.area_mp_driven, bool) | self.degenerating

    @property
    def has_runtime_psp(self) -> bool:
        """Whether any source computes its contributions at run time (needs ``syn_w``,
        ``fanout``)."""
        return bool(self.runtime_psp_areas.any())

    @cached_property
    def output_areas(self) -> np.ndarray:
        """bool ``[A]``: OPU areas (their firing is reported as motor output)."""
        return np.array([k == "opu" for k in self.areas.kinds], bool)

    def initial_psp(self, floating: bool = False) -> np.ndarray:
        """Per-neuron initial PSP of degenerating areas (0 elsewhere): int32 q(PSP), or float32
        PSP with ``floating``."""
        if floating:
            return np.where(self.area_degen_f32 != 0, self.area_psp_f32, 0)[
                self.neuron_area].astype(np.float32)
        return np.where(self.degenerating, self.area_psp, 0)[self.neuron_area].astype(np.int32)

    # ------------------------------------------------------------------ lookups
    def area_index(self, key: str) -> int:
        """Area index by genome spelling, base64 id or name (:meth:`AreaTable.index`).

        Raises:
            KeyError: unknown area.
        """
        return self.areas.index(key)

    def neuron_coords(self, ids: np.ndarray) -> tuple[np.ndarray, ...]:
        """``(area, x, y, z, k)`` int64 arrays of canonical neuron ids (``docs/model.md`` §1:
        neuron = first + ((x·h + y)·d + z)·npv + k).

        Args:
            ids: int ``[M]`` neuron ids.
        """
        ids = np.asarray(ids, np.int64)
        area = self.neuron_area[ids].astype(np.int64)
        local = ids - self.area_first[area]
        dims, npv = self.areas.dims_array, self.areas.npv_array
        vox, k = np.divmod(local, npv[area])
        x, rem = np.divmod(vox, dims[area, 1] * dims[area, 2])
        y, z = np.divmod(rem, dims[area, 2])
        return area, x, y, z, k

    def with_report(self, report: dict[str, Any]) -> "Model":
        """A copy of this model carrying ``report``."""
        return replace(self, report=report)

    def evolve(self, **changes: Any) -> "Model":
        """A copy with some fields changed (``dataclasses.replace``), e.g. ``large_brain=True``
        to force the large-brain path on a small synthetic model."""
        return replace(self, **changes)

    # ------------------------------------------------------------------ (de)serialisation
    def metadata(self) -> dict[str, Any]:
        """The JSON metadata of :meth:`save` (format :data:`MODEL_FORMAT`)."""
        p, a = self.provenance, self.areas
        return {
            "genome": p.genome_path, "genome_sha256": p.genome_sha256,
            "genome_version": p.genome_version, "tool_version": p.tool_version,
            "ids": list(a.ids), "genome_ids": list(a.genome_ids), "names": list(a.names),
            "dims": [list(d) for d in a.dims], "npv": list(a.npv), "kinds": list(a.kinds),
            "power_neuron": self.power_neuron, "large_brain": self.large_brain,
            "simulation_timestep": self.simulation_timestep, "max_sensory": self.max_sensory,
            "mp_psp_max": self.mp_psp_max, "degen_psp_max": self.degen_psp_max,
            "frac_bits": self.frac_bits, "format": MODEL_FORMAT,
            "rules": [r.to_json() for r in self.rules],
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, Any], *, frac_bits: int | None = None,
                      report: dict[str, Any] | None = None, **arrays: np.ndarray) -> "Model":
        """A model from :meth:`metadata`-shaped JSON plus its arrays (also how synthetic models
        in tests and benchmarks are made).

        Raises:
            FeagiEmbedError: a required metadata key is missing.
        """
        try:
            ids = meta["genome_ids"]
            n_areas = len(ids)
            areas = AreaTable(
                ids=tuple(meta.get("ids", ids)), genome_ids=tuple(ids),
                names=tuple(meta.get("names") or [""] * n_areas),
                dims=tuple(tuple(int(x) for x in d) for d in meta["dims"]),
                npv=tuple(int(x) for x in meta["npv"]),
                kinds=tuple(meta.get("kinds") or ["custom"] * n_areas))
            power = meta.get("power_neuron")
            from .rules import SynapseRule

            rules = tuple(SynapseRule.from_json(r) for r in meta.get("rules") or ())
            return cls(
                frac_bits=int(meta["frac_bits"] if frac_bits is None else frac_bits),
                provenance=Provenance(str(meta.get("genome", "?")), meta.get("genome_sha256"),
                                      str(meta.get("genome_version", "?")),
                                      str(meta.get("tool_version", "?"))),
                areas=areas, power_neuron=-1 if power is None else int(power),
                large_brain=bool(meta.get("large_brain", False)),
                simulation_timestep=float(meta.get("simulation_timestep") or 0.0),
                max_sensory=float(meta.get("max_sensory", DEFAULT_MAX_SENSORY)),
                mp_psp_max=int(meta.get("mp_psp_max", 0)),
                degen_psp_max=int(meta.get("degen_psp_max", 0)),
                report=dict(report or {}), rules=rules, **arrays)
        except KeyError as e:
            raise FeagiEmbedError(f"model metadata lacks {e}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write the model as a compressed ``.npz`` (arrays + JSON metadata and report)."""
        np.savez_compressed(
            path, __meta__=np.frombuffer(json.dumps(self.metadata()).encode(), np.uint8),
            __report__=np.frombuffer(json.dumps(self.report).encode(), np.uint8),
            **{k: getattr(self, k) for k in self.ARRAYS},
            **{k: getattr(self, k) for k in self.OPTIONAL_ARRAYS if getattr(self, k) is not None})

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Model":
        """Read a model written by :meth:`save`.

        Raises:
            FeagiEmbedError: unreadable file or unsupported format version.
        """
        try:
            with np.load(path) as z:
                meta = json.loads(bytes(z["__meta__"]).decode())
                report = json.loads(bytes(z["__report__"]).decode())
                arrays = {k: z[k] for k in cls.ARRAYS}
                arrays.update({k: z[k] for k in cls.OPTIONAL_ARRAYS if k in z.files})
        except (OSError, KeyError, ValueError) as e:
            raise FeagiEmbedError(f"{path}: not a feagi-embed model ({e})") from None
        if meta.get("format") != MODEL_FORMAT:
            raise FeagiEmbedError(f"{path}: model format {meta.get('format')}, "
                                  f"expected {MODEL_FORMAT}")
        return cls.from_metadata(meta, report=report, **arrays)


#: field names of :class:`Model` that are arrays (for generic copies)
ARRAY_FIELDS = tuple(f.name for f in fields(Model) if f.name in Model.ARRAYS)
