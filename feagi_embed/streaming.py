"""Streaming inputs for closed-loop use: ``twin.step(inputs)`` on every host twin (numba, CUDA,
WGPU) with the semantics of one burst of a compiled :class:`~feagi_embed.stimulus.Stimulus`.

A step's inputs are the entries of one burst of ``Stimulus.compile``: neuron ids, values and kinds,
applied in the order given (for an injection the value is added to the neuron's input; a
force-fire puts the neuron in that burst's fire queue). Values are the model's q-values (int32
fixed point with F fractional bits) on the fixed-point twins, float32 real values on the f32
reference. :func:`area_inputs` builds them from per-area arrays the way a stimulus file would.

Host work per step is O(inputs + fired): no pass over the neurons, no state digest unless asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from .numba_cache import configure as _configure_cache

_configure_cache()  # NUMBA_CACHE_DIR under the user cache dir, before the first @njit(cache=True)

import numba as nb  # noqa: E402
import numpy as np  # noqa: E402

from .stimulus import KIND_FORCE, KIND_INJECT, StimulusError  # noqa: E402

__all__ = ["StepResult", "area_inputs", "run_stepped", "step_arrays", "step_chunks"]

_EMPTY_IDS = np.empty(0, np.uint32)
_EMPTY_KINDS = np.empty(0, np.uint8)


@nb.njit(cache=True)
def _outside(ids, n):
    """Whether any of the integer ``ids`` lies outside ``0 … n-1`` (one compiled pass: a fifth of
    the cost of ``ids.max()`` on a step's few inputs)."""
    for i in range(ids.shape[0]):
        if ids[i] < 0 or ids[i] >= n:
            return True
    return False


@dataclass
class StepResult:
    """What one ``step`` returns.

    Attributes:
        burst: the burst number just run (1 = the first ever).
        fired: uint32 ascending fired neuron ids (a copy; empty array when not recorded).
        fired_v: membrane potential at fire of each fired neuron (int32 q-values, float32 on the
            f32 reference).
        burst_crc: the burst digest (``docs/model.md`` §4) when asked for (``digest=True``; the
            GPU twins compute it on the device and always return it), else ``None``.
        state_crc: the state digest after the burst when asked for (``state=True``), else ``None``.
    """

    burst: int
    fired: np.ndarray
    fired_v: np.ndarray
    burst_crc: int | None = None
    state_crc: int | None = None


def step_arrays(n_neurons: int, ids, values=None, kinds=None, real: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and convert one step's inputs (O(len(ids))).

    Args:
        n_neurons: the model's neuron count.
        ids: neuron ids (any integer array-like; ``None``: no input).
        values: q-values (int32 range) or, with ``real``, float values; ``None``: all 0 (only
            meaningful for force-fires).
        kinds: ``KIND_INJECT`` (0) / ``KIND_FORCE`` (1) per entry, or one scalar for all;
            ``None``: all injections.
        real: values as float32 (the f32 reference twin).

    Returns:
        ``(neuron uint32, value int32 | float32, kind uint8)``, each ``[E]``.

    Raises:
        StimulusError: ids outside ``0 … n_neurons-1``, lengths that differ, an unknown kind, or
            a q-value outside int32.
    """
    vdtype = np.float32 if real else np.int32
    if ids is None:
        return _EMPTY_IDS, np.empty(0, vdtype), _EMPTY_KINDS
    if not (isinstance(ids, np.ndarray) and ids.ndim == 1):
        ids = np.asarray(ids).reshape(-1)
    e = ids.shape[0]
    if e:
        if ids.dtype.kind not in "iu" or _outside(ids, n_neurons):
            raise StimulusError(f"step inputs: ids: got values in [{ids.min()}, {ids.max()}] "
                                f"({ids.dtype}); expected integer neuron ids in "
                                f"[0, {n_neurons - 1}]")
        if ids.dtype != np.uint32:
            ids = ids.astype(np.uint32)
    if values is None:
        val = np.zeros(e, vdtype)
    else:
        v = np.asarray(values).reshape(-1)
        if v.shape[0] != e:
            raise StimulusError(f"step inputs: values: got {v.shape[0]} values for {e} ids; "
                                "expected one value per id")
        if not real and v.dtype != np.int32:
            if v.dtype.kind == "f":
                raise StimulusError("step inputs: values: got floats; expected int32 q-values "
                                    "(the fixed-point twin; feagi_embed.streaming.area_inputs "
                                    "quantizes)")
            if e and (v.min() < -2**31 or v.max() >= 2**31):
                raise StimulusError(f"step inputs: values: got q-values in [{v.min()}, "
                                    f"{v.max()}]; expected int32 q-values")
        val = v.astype(vdtype, copy=False)
    if kinds is None:
        kind = np.zeros(e, np.uint8)
    else:
        k = np.asarray(kinds)
        if k.ndim == 0:
            if int(k) not in (KIND_INJECT, KIND_FORCE):
                raise StimulusError(f"step inputs: kinds: got {int(k)}; expected {KIND_INJECT} "
                                    f"(inject) or {KIND_FORCE} (force)")
            kind = np.empty(e, np.uint8)
            kind.fill(int(k))  # (half the time of np.full with a 0-d array)
        else:
            kind = k.reshape(-1).astype(np.uint8, copy=False)
            if kind.shape[0] != e or (e and kind.max() > KIND_FORCE):
                raise StimulusError(f"step inputs: kinds: got {kind.shape[0]} kinds (max "
                                    f"{int(kind.max()) if kind.size else 0}) for {e} ids; "
                                    f"expected one of {KIND_INJECT} (inject) / {KIND_FORCE} "
                                    "(force) per id")
    return ids, val, kind


def area_inputs(model, arrays: dict, kind: str = "inject", real: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step inputs from per-area arrays, as a stimulus file would apply them.

    Args:
        model: :class:`~feagi_embed.model.Model`.
        arrays: ``{area (genome id, base64 id or name): values}`` with ``values`` of the area's
            shape ``(w, h, d)`` (or flat, x-major): real potentials for ``"inject"`` (0 entries are
            dropped, as FEAGI drops p = 0; the last neuron of each voxel receives the value), any
            non-zero entry fires the voxel's last neuron for ``"force"``.
        kind: ``"inject"`` or ``"force"``.
        real: float32 values (f32 reference) instead of q-values.

    Returns:
        ``(neuron, value, kind)`` for ``step``, areas in the order given.

    Raises:
        StimulusError: unknown area, wrong shape, or |value| above the model's sensory budget.
    """
    from .quantize import q

    if kind not in ("inject", "force"):
        raise StimulusError(f"area inputs: kind: got {kind!r}; expected 'inject' or 'force'")
    parts_n, parts_v = [], []
    for name, vals in arrays.items():
        try:
            a = model.area_index(name)
        except KeyError:
            raise StimulusError(f"area inputs: area: got {name!r}; expected a cortical area of "
                                "the genome") from None
        w, h, d = model.areas.dims[a]
        npv = model.areas.npv[a]
        v = np.asarray(vals, np.float64).reshape(-1)
        if v.shape[0] != w * h * d:
            raise StimulusError(f"area inputs: {name}: got {v.shape[0]} values; expected "
                                f"{w}x{h}x{d} = {w * h * d} (one per voxel)")
        nz = np.nonzero(v)[0]
        if kind == "inject" and len(nz) and np.abs(v[nz]).max() > model.max_sensory:
            raise StimulusError(f"area inputs: {name}: got |value| {np.abs(v[nz]).max()}; expected "
                                f"<= {model.max_sensory} (the model's sensory budget)")
        parts_n.append(int(model.area_first[a]) + nz * npv + (npv - 1))
        if kind == "force":
            parts_v.append(np.zeros(len(nz)))
        elif real:
            parts_v.append(v[nz].astype(np.float32))
        else:
            parts_v.append(np.asarray(q(v[nz], model.frac_bits), np.int64))
    ids = np.concatenate(parts_n).astype(np.uint32) if parts_n else np.empty(0, np.uint32)
    vals = (np.concatenate(parts_v) if parts_v else np.empty(0)).astype(
        np.float32 if real else np.int32)
    kinds = np.full(len(ids), KIND_INJECT if kind == "inject" else KIND_FORCE, np.uint8)
    return ids, vals, kinds


def step_chunks(twin, stimulus=None, bursts: int = 1, *, state_every: int = 0,
                final_state: bool = True, chunk: int | None = None, real: bool | None = None):
    """Run ``bursts`` bursts of a stimulus schedule through ``twin.step`` (one call per burst),
    yielding the trace in parts of ``chunk`` bursts (the CLI's and ``verify``'s driver).

    The schedule is compiled once for the bursts ahead (``Stimulus.compile``, O(entries)); each
    burst then hands its slice of entries to ``step``. Host work per burst is O(inputs + fired):
    the burst digest (O(fired)) always, the O(N) state digest only after bursts that are
    multiples of ``state_every`` and, with ``final_state``, after the last one.

    Args:
        twin: any host twin with ``step`` and ``burst`` (numba, CUDA, WGPU); continues from its
            current burst.
        stimulus: :class:`~feagi_embed.stimulus.Stimulus` by absolute burst number (``None``:
            none).
        bursts: bursts to run (≥ 0).
        state_every: state digest every K bursts (0: none besides the final one).
        final_state: also the state digest after the last burst.
        chunk: bursts per yielded part (default: all in one part).
        real: float32 values (the f32 twins); ``None``: when ``twin.mode`` is ``"float"``.

    Yields:
        :class:`~feagi_embed.trace.Trace` parts (fired ids, V at fire, burst and state digests),
        equal burst for burst to ``twin.run(bursts, stimulus, state_every=…)``.

    Raises:
        StimulusError, ResourceLimitError: from ``Stimulus.compile``.
    """
    from .stimulus import Stimulus
    from .trace import Trace, burst_digest

    if real is None:
        real = getattr(twin, "mode", "fixed") == "float"
    first = twin.burst
    end = first + bursts
    ptr, nrn, val, kind = (stimulus or Stimulus()).compile(twin.model, end, real=real)
    chunk = bursts if not chunk else chunk
    part = Trace()
    for b in range(first + 1, end + 1):
        lo, hi = int(ptr[b - 1]), int(ptr[b])
        state = bool(state_every and b % state_every == 0) or (final_state and b == end)
        r = twin.step(nrn[lo:hi], val[lo:hi], kind[lo:hi], digest=True, state=state)
        part.fired.append(r.fired)
        part.fired_v.append(r.fired_v)
        part.burst_crc.append(r.burst_crc if r.burst_crc is not None
                              else burst_digest(r.burst, r.fired))
        if state:
            part.state_crc[r.burst] = r.state_crc
        if len(part.burst_crc) == chunk or b == end:
            yield part
            part = Trace()


def run_stepped(twin, stimulus=None, bursts: int = 1, *, state_every: int = 0,
                final_state: bool = True, real: bool | None = None):
    """:func:`step_chunks` gathered into one :class:`~feagi_embed.trace.Trace`."""
    from .trace import Trace

    out = Trace()
    for part in step_chunks(twin, stimulus, bursts, state_every=state_every,
                            final_state=final_state, real=real):
        out.fired += part.fired
        out.fired_v += part.fired_v
        out.burst_crc += part.burst_crc
        out.state_crc.update(part.state_crc)
    return out
