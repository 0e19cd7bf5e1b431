"""The host twin on CPU: numba implementation of one burst, exactly ``docs/model.md`` §3.

State is dense structure-of-arrays (V int32, refractory countdown and consecutive count uint16); the
fire candidate list (FCL) is a flag array plus a list; synapses are CSR by source neuron. Bursts run
in batches inside one compiled call; digests (``docs/model.md`` §4) are computed on the host with
zlib's CRC-32 from the fired ids and state arrays.
"""

from __future__ import annotations

from ..numba_cache import configure as _configure_cache

_configure_cache()  # NUMBA_CACHE_DIR under the user cache dir, before the first @njit(cache=True)

import numba as nb  # noqa: E402
import numpy as np  # noqa: E402
from llvmlite import ir  # noqa: E402
from numba import literally  # noqa: E402
from numba.core import cgutils  # noqa: E402
from numba.extending import intrinsic  # noqa: E402

from ..model import EXC_ALWAYS, EXC_NEVER, Model  # noqa: E402
from ..numba_cache import is_cold, notice  # noqa: E402
from ..stimulus import KIND_FORCE, Stimulus  # noqa: E402
from ..streaming import StepResult, step_arrays  # noqa: E402
from ..trace import Trace, burst_digest, state_digest  # noqa: E402

__all__ = ["Trace", "Twin", "burst_digest", "run", "run_bursts", "state_digest"]

_M32 = np.uint64(0xFFFFFFFF)
#: fire-candidate flag bits
CAND, FORCED, BLOCKED, FIRED, PREV_FIRED = 1, 2, 4, 8, 16


@nb.njit(cache=True, inline="always")
def pcg_hash(s):
    """PCG-RXS-M-XS 32-bit output hash (``feagi-npu/neural/src/utils.rs``); s: uint64 < 2^32."""
    s = (s * np.uint64(747796405) + np.uint64(2891336453)) & _M32
    w = (((s >> ((s >> np.uint64(28)) + np.uint64(4))) ^ s) * np.uint64(277803737)) & _M32
    return (w >> np.uint64(22)) ^ w


@nb.njit(cache=True, inline="always")
def excitability_passes(nid, burst, mode, t):
    if mode == EXC_ALWAYS:
        return True
    if mode == EXC_NEVER:
        return False
    seed = (np.uint64(nid) * np.uint64(2654435761)
            + (np.uint64(burst) & _M32) * np.uint64(1597334677)) & _M32
    return pcg_hash(seed) < np.uint64(t)


@nb.njit(cache=True, inline="always")
def sat32(v):
    if v > 2147483647:
        return 2147483647
    if v < -2147483648:
        return -2147483648
    return v


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint the CPU to fetch ``arr[idx]`` into cache (LLVM ``llvm.prefetch``, read, high
    locality). No effect on results; an index outside the array is not checked and never faults."""
    sig = nb.types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer2(context, builder, data=ary.data,
                                        shape=cgutils.unpack_tuple(builder, ary.shape),
                                        strides=cgutils.unpack_tuple(builder, ary.strides),
                                        layout=aryty.layout, inds=[args[1]], wraparound=False,
                                        boundscheck=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return sig, codegen


#: fire-queue sources whose synapse rows are prefetched ahead of the one being propagated
PREFETCH_AHEAD = 8
#: per-source propagation plan (:func:`row_plan`)
ROW_PER_SYNAPSE, ROW_UNIFORM, ROW_RUNTIME = 0, 1, 2


@nb.njit(cache=True)
def row_plan(syn_ptr, c_bits, neuron_area, a_mp_driven, a_degen):
    """Per-source propagation plan, decided once per model instead of per synaptic event.

    Args:
        syn_ptr: int64 ``[N+1]`` CSR offsets.
        c_bits: int32 ``[S]`` the contributions' bit patterns (``syn_c``, or ``syn_c_f32`` viewed
            as int32, so that uniform means bit-identical, −0.0 ≠ 0.0).
        neuron_area: uint16 ``[N]``; a_mp_driven, a_degen: ``[A]``.

    Returns:
        ``(mode uint8 [N], row_c int32 [N])``: ``ROW_RUNTIME`` for sources of mp-driven or
        degenerating areas (contribution computed per event), ``ROW_UNIFORM`` when every synapse
        of the row has the same contribution ``row_c`` (FEAGI gives one mapping's synapses one
        weight, so rows are usually uniform: only the targets need to be read), else
        ``ROW_PER_SYNAPSE``.
    """
    n = syn_ptr.shape[0] - 1
    mode = np.zeros(n, np.uint8)
    row_c = np.zeros(n, np.int32)
    for src in range(n):
        area = neuron_area[src]
        if a_mp_driven[area] or a_degen[area] != 0:
            mode[src] = ROW_RUNTIME
            continue
        a, b = syn_ptr[src], syn_ptr[src + 1]
        if b > a:
            c0 = c_bits[a]
            same = True
            for k in range(a + 1, b):
                if c_bits[k] != c0:
                    same = False
                    break
            if same:
                mode[src] = ROW_UNIFORM
                row_c[src] = c0
    return mode, row_c


# ---------------------------------------------------------------- arithmetic of the two modes
# ``floating`` is a compile-time literal: False = the normative fixed-point model (docs/model.md §2,
# V int32 with F fractional bits), True = the float reference (same rules in f32, FEAGI's
# arithmetic). numba prunes the other branch, so the fixed-point path never touches floats.
@nb.njit(cache=True, inline="always")
def integrate(v, a, accumulate_charge, floating):
    """V + input. With charge accumulation a negative summed input is ignored (oracle: V 1 +
    input −2 stays 1); without it the negative input is kept (gesture_recognition: V −30)."""
    if floating:
        if accumulate_charge and a < 0:
            return np.float32(v)
        return np.float32(v + a)
    else:
        a64 = np.int64(a)
        if accumulate_charge and a64 < 0:
            a64 = 0
        return sat32(np.int64(v) + a64)


@nb.njit(cache=True, inline="always")
def leak(v, k, floating):
    """Fixed: sat32(floor((V·K + 2^15) / 2^16)), exact in 64-bit integers. Float: V·f32(1 − leak)."""
    if floating:
        return np.float32(v * k)
    else:
        return sat32((np.int64(v) * np.int64(k) + 32768) >> 16)


@nb.njit(cache=True, inline="always")
def accumulate(acc_t, c, floating):
    """FCL sum. Fixed: int32 wrapping addition (order independent; proven never to wrap)."""
    if floating:
        return np.float32(acc_t + c)
    else:
        return np.int32(np.int64(acc_t) + np.int64(c))


@nb.njit(cache=True, inline="always")
def runtime_contribution(w, psp, n, cap, floating):
    """Contribution of a run-time PSP (mp-driven V at fire, or a degenerating PSP): w·max(psp, 0)/n.

    Fixed: round_half_away(w · clamp(psp, 0, cap) / n) in integers. Float: FEAGI's
    ``f32(w)·psp / f32(n)`` (no division when n = 1)."""
    if floating:
        base = np.float32(w) * (psp if psp > 0 else np.float32(0))
        return np.float32(base / np.float32(n)) if n > 1 else np.float32(base)
    else:
        p = np.int64(psp)
        if p < 0:
            p = 0
        if p > cap:
            p = cap
        aw = np.int64(w) if w >= 0 else -np.int64(w)
        mag = (2 * aw * p + n) // (2 * n)
        return mag if w >= 0 else -mag


@nb.njit(cache=True, inline="always")
def update_candidate(i, burst, V, cd, cc, acc, threshold, neuron_area, a_lim, a_k, a_exc_mode,
                     a_exc_t, a_refr, a_snooze, a_cfl, a_mp_acc, floating):
    """Steps 6b–g for candidate ``i`` (not refractory-blocked), as the parallel kernel inlines it
    (:mod:`feagi_embed.host.twin_par`, dense and sparse passes): integrate the FCL sum, then hold at the consecutive fire limit, fire (V reset,
    consecutive count, refractory or snooze countdown) or leak. Mutates ``V``, ``cd``, ``cc``;
    the caller clears ``acc[i]`` and records a fire.

    Returns:
        ``(fired, v)``: whether ``i`` fired, and V after integration (V at fire).

    :func:`run_bursts` keeps its own inline copies of these lines: calling this helper there made
    the single-thread kernel 2.3–3× slower on the 1 M synthetic model (measured 2026-12-03,
    docs/benchmarks.md), while the parallel kernel's time did not change.
    """
    area = neuron_area[i]
    v = integrate(V[i], acc[i], a_mp_acc[area], floating)
    L = a_cfl[area]
    in_window = threshold[i] <= v and v <= a_lim[area]
    fired = False
    if in_window and cc[i] >= L:
        cc[i] = 0
        V[i] = v
    elif in_window and excitability_passes(i, burst, a_exc_mode[area], a_exc_t[area]):
        V[i] = 0
        if cc[i] < 65535:
            cc[i] += 1
        if L != 0 and L != 65535 and cc[i] >= L:
            r = np.int64(a_refr[area]) + np.int64(a_snooze[area])
            cd[i] = 65535 if r > 65535 else r
        else:
            cd[i] = a_refr[area]
        fired = True
    else:
        if L != 0 and L != 65535:
            cc[i] = 0
        V[i] = leak(v, a_k[area], floating)
    return fired, v


# Long by design: one compiled kernel runs whole batches of bursts so that numba keeps the state
# in registers/cache across phases; the per-rule arithmetic lives in the inline helpers above.
@nb.njit(cache=True)
def run_bursts(first_burst, n_bursts, power, power_in, forced_v, psp_cap, large_brain,
               threshold, neuron_area, a_lim, a_k, a_exc_mode, a_exc_t, a_refr, a_snooze, a_cfl,
               a_mp_acc, a_mp_driven, a_degen, syn_ptr, syn_dst, syn_c, syn_w, fanout,
               st_ptr, st_nrn, st_val, st_kind,
               V, cd, cc, psp, acc, flag, cand, forced, prev, fq, fq_v, fq_len, refl, refl_len,
               out_ids, out_v, out_counts, row_mode, row_c, cbits, dense_min, floating):
    """Run ``n_bursts`` bursts starting at burst number ``first_burst`` (docs/model.md §3).

    ``floating`` (a compile-time literal) selects the arithmetic: fixed point (int32 V, thresholds,
    contributions) or the f32 float reference; the rules are shared.

    Mutates the state arrays in place. ``flag`` bits: CAND (in the FCL), FORCED, BLOCKED
    (refractory: input discarded), FIRED, PREV_FIRED; ``forced`` lists this burst's force-fired
    neurons; ``prev[0]`` holds the number of previous-burst candidates stored in ``prev[1:]``;
    ``fq``/``fq_v`` the previous burst's fire queue (ids, V at fire) of length ``fq_len[0]``; ``refl``
    the neurons with a running refractory countdown. Fired ids of burst i go to ``out_ids``
    (appended, sorted), their V at fire to ``out_v``, counts to ``out_counts[i]``. Stops early when
    ``out_ids`` might overflow. Returns ``(ids written, bursts run)``.

    Two equivalent ways to track the FCL, chosen per burst (results are identical; only the speed
    differs): *sparse* keeps the candidate and force-fire lists, updates candidates in list order
    and sorts the fired set; once a burst has ``dense_min`` candidates + force-fires it turns
    *dense*: the remaining synapse rows only set the neuron's bit in the candidate bitmap
    ``cbits`` (uint64 ``[ceil(N/64)]``, all zero between bursts; no branch, no list, and N/8 bytes
    of random writes instead of N) and one pass over the flags and bits in id order updates the
    candidates, emits the fired set already sorted and
    clears the FCL (sequential instead of random accesses). ``dense_min = 0``: always dense;
    ``> N``: never. ``row_mode``/``row_c`` (:func:`row_plan`; ``row_c`` in V's dtype) choose each
    source's propagation loop once per model.
    """
    literally(floating)
    n_out = 0
    n_neurons = threshold.shape[0]
    any_reset = False  # some area without charge accumulation (step 4 has work)
    for a in range(a_mp_acc.shape[0]):
        if not a_mp_acc[a]:
            any_reset = True
    for bi in range(n_bursts):
        if n_out + n_neurons > out_ids.shape[0]:
            return n_out, bi  # output buffer could overflow: the caller continues in a new call
        burst = first_burst + bi
        n_cand = 0
        n_forced = 0
        # 2. force-fire stimuli only join this burst's fire queue (oracle:
        #    a forced fire changes no state: no V reset, no refractory, no consecutive count)
        for s in range(st_ptr[bi], st_ptr[bi + 1]):
            i = st_nrn[s]
            if st_kind[s] == KIND_FORCE:
                if flag[i] & FORCED == 0:
                    flag[i] |= FORCED
                    forced[n_forced] = i
                    n_forced += 1
        # 3. power
        if power >= 0:
            if flag[power] & CAND == 0:
                flag[power] |= CAND
                cand[n_cand] = power
                n_cand += 1
            acc[power] = accumulate(acc[power], power_in, floating)
        # 4. membrane reset of mp_charge_accumulation = false neurons. V can only be non-zero for
        #    neurons that were candidates last burst, so resetting those equals FEAGI's full pass.
        if large_brain:
            if any_reset:
                for j in range(fq_len[0]):
                    i = fq[j]
                    if not a_mp_acc[neuron_area[i]]:
                        V[i] = 0
        elif any_reset:
            # oracle: neurons in the previous fire queue are not reset (force-fired ones keep V)
            for j in range(fq_len[0]):
                flag[fq[j]] |= PREV_FIRED
            for j in range(prev[0]):
                i = prev[1 + j]
                if flag[i] & PREV_FIRED == 0 and not a_mp_acc[neuron_area[i]]:
                    V[i] = 0
            for j in range(fq_len[0]):
                flag[fq[j]] &= ~PREV_FIRED
        # 5. propagation from the previous burst's fire queue (sources ascending, rows in order);
        #    the rows of the sources PREFETCH_AHEAD ahead are prefetched (their offsets and plan
        #    twice as far ahead): rows start at random places, which the hardware cannot predict
        dense = n_cand + n_forced >= dense_min
        nfq = fq_len[0]
        for j in range(nfq):
            j2 = j + 2 * PREFETCH_AHEAD
            if j2 < nfq:
                s2 = np.int64(fq[j2])
                prefetch(syn_ptr, s2)
                prefetch(row_mode, s2)
                prefetch(row_c, s2)
            if j + PREFETCH_AHEAD < nfq:
                s1 = np.int64(fq[j + PREFETCH_AHEAD])
                a1, b1 = syn_ptr[s1], syn_ptr[s1 + 1]
                if b1 > a1:
                    per_syn = row_mode[s1] != ROW_UNIFORM
                    for o in range(a1, b1, 16):
                        prefetch(syn_dst, o)
                        if per_syn:
                            prefetch(syn_c, o)
                    prefetch(syn_dst, b1 - 1)
                    if per_syn:
                        prefetch(syn_c, b1 - 1)
            src = fq[j]
            k0, k1 = syn_ptr[src], syn_ptr[src + 1]
            if not dense and n_cand + n_forced >= dense_min:
                dense = True
            mode = row_mode[src]
            if mode == ROW_RUNTIME:  # mp-driven or degenerating source: per-event contribution
                area = neuron_area[src]
                driven = a_mp_driven[area]
                for k in range(k0, k1):
                    t = syn_dst[k]
                    # oracle: PSP = max(V at fire, 0), neither rounded nor clamped to 255
                    c = runtime_contribution(syn_w[k], fq_v[j] if driven else psp[src],
                                             fanout[src], psp_cap, floating)
                    if flag[t] & CAND == 0:
                        flag[t] |= CAND
                        if not dense:
                            cand[n_cand] = t
                            n_cand += 1
                    acc[t] = accumulate(acc[t], c, floating)
                if a_degen[area] != 0:  # oracle: each fire lowers the PSP by the degeneration
                    p_new = psp[src] - a_degen[area]
                    psp[src] = p_new if p_new > 0 else 0
            elif mode == ROW_UNIFORM:  # one contribution for the row: only targets are read
                cu = row_c[src]
                if dense:  # no branch and no list: the pass below finds the candidates
                    for k in range(k0, k1):
                        t = syn_dst[k]
                        cbits[t >> 6] |= np.uint64(1) << np.uint64(t & 63)
                        acc[t] = accumulate(acc[t], cu, floating)
                else:
                    for k in range(k0, k1):
                        t = syn_dst[k]
                        if flag[t] & CAND == 0:
                            flag[t] |= CAND
                            cand[n_cand] = t
                            n_cand += 1
                        acc[t] = accumulate(acc[t], cu, floating)
            elif dense:
                for k in range(k0, k1):
                    t = syn_dst[k]
                    cbits[t >> 6] |= np.uint64(1) << np.uint64(t & 63)
                    acc[t] = accumulate(acc[t], syn_c[k], floating)
            else:
                for k in range(k0, k1):
                    t = syn_dst[k]
                    if flag[t] & CAND == 0:
                        flag[t] |= CAND
                        cand[n_cand] = t
                        n_cand += 1
                    acc[t] = accumulate(acc[t], syn_c[k], floating)
        # 5b. sensory injections, added to the FCL after power and propagation (oracle
        #     2026-12-03: the release engine's f32 sums match this order, e.g. (1 + 6) + 1.89);
        #     in a dense burst the flag alone marks the candidate (the pass below reads it)
        for s in range(st_ptr[bi], st_ptr[bi + 1]):
            if st_kind[s] != KIND_FORCE:
                i = st_nrn[s]
                if flag[i] & CAND == 0:
                    flag[i] |= CAND
                    if not dense:
                        cand[n_cand] = i
                        n_cand += 1
                acc[i] = accumulate(acc[i], st_val[s], floating)
        # 6a. refractory countdown of every neuron, every burst; input during it is discarded
        w_i = 0
        for j in range(refl_len[0]):
            i = refl[j]
            if flag[i] & CAND or (dense and (cbits[i >> 6] >> np.uint64(i & 63)) & np.uint64(1)):
                flag[i] |= BLOCKED
            if flag[i] & FORCED:  # oracle: a force-fired neuron's countdown pauses that burst
                refl[w_i] = i
                w_i += 1
                continue
            cd[i] -= 1
            lim_l = a_cfl[neuron_area[i]]
            if cd[i] == 0:
                if lim_l != 0 and lim_l != 65535 and cc[i] >= lim_l:
                    cc[i] = 0
            else:
                refl[w_i] = i
                w_i += 1
        refl_len[0] = w_i
        # 6b–g. dynamics of the candidates; the fired set (sorted by id) is the next fire queue
        n_fired = 0
        if dense:
            n_prev = 0
            bits = np.uint64(0)
            for i in range(n_neurons):
                f = flag[i]
                if i & 63 == 0:
                    bits = cbits[i >> 6]
                    cbits[i >> 6] = 0
                if (bits >> np.uint64(i & 63)) & np.uint64(1):
                    f |= CAND
                if f == 0:
                    continue
                fired = False
                v = forced_v
                if f & CAND:
                    if f & BLOCKED == 0:
                        area = neuron_area[i]
                        v = integrate(V[i], acc[i], a_mp_acc[area], floating)
                        L = a_cfl[area]
                        in_window = threshold[i] <= v and v <= a_lim[area]
                        if in_window and cc[i] >= L:
                            cc[i] = 0
                            V[i] = v
                        elif in_window and excitability_passes(i, burst, a_exc_mode[area],
                                                               a_exc_t[area]):
                            V[i] = 0
                            if cc[i] < 65535:
                                cc[i] += 1
                            if L != 0 and L != 65535 and cc[i] >= L:
                                r = np.int64(a_refr[area]) + np.int64(a_snooze[area])
                                cd[i] = 65535 if r > 65535 else r
                            else:
                                cd[i] = a_refr[area]
                            fired = True
                        else:
                            if L != 0 and L != 65535:
                                cc[i] = 0
                            V[i] = leak(v, a_k[area], floating)
                        if fired and cd[i] > 0:
                            refl[refl_len[0]] = i
                            refl_len[0] += 1
                    acc[i] = 0
                    prev[1 + n_prev] = i
                    n_prev += 1
                if fired or f & FORCED:
                    out_ids[n_out + n_fired] = i
                    out_v[n_out + n_fired] = v if fired else forced_v
                    n_fired += 1
                flag[i] = 0
            prev[0] = n_prev
        else:
            for j in range(n_cand):
                i = cand[j]
                if flag[i] & BLOCKED:
                    continue
                area = neuron_area[i]
                v = integrate(V[i], acc[i], a_mp_acc[area], floating)
                L = a_cfl[area]
                in_window = threshold[i] <= v and v <= a_lim[area]
                if in_window and cc[i] >= L:
                    cc[i] = 0
                    V[i] = v
                elif in_window and excitability_passes(i, burst, a_exc_mode[area], a_exc_t[area]):
                    V[i] = 0
                    if cc[i] < 65535:
                        cc[i] += 1
                    if L != 0 and L != 65535 and cc[i] >= L:
                        r = np.int64(a_refr[area]) + np.int64(a_snooze[area])
                        cd[i] = 65535 if r > 65535 else r
                    else:
                        cd[i] = a_refr[area]
                    if cd[i] > 0:
                        refl[refl_len[0]] = i
                        refl_len[0] += 1
                    flag[i] |= FIRED
                    out_ids[n_out + n_fired] = i
                    out_v[n_out + n_fired] = v
                    n_fired += 1
                else:
                    if L != 0 and L != 65535:
                        cc[i] = 0
                    V[i] = leak(v, a_k[area], floating)
            for j in range(n_forced):
                i = forced[j]
                if flag[i] & FIRED == 0:
                    out_ids[n_out + n_fired] = i
                    out_v[n_out + n_fired] = forced_v
                    n_fired += 1
                flag[i] = 0
            if n_fired > 1:
                seg = out_ids[n_out:n_out + n_fired]
                order = np.argsort(seg, kind="mergesort")
                ids_sorted = seg[order].copy()
                v_sorted = out_v[n_out:n_out + n_fired][order].copy()
                out_ids[n_out:n_out + n_fired] = ids_sorted
                out_v[n_out:n_out + n_fired] = v_sorted
            # clear the FCL; remember this burst's candidates for the next membrane reset
            for j in range(n_cand):
                i = cand[j]
                acc[i] = 0
                flag[i] = 0
                prev[1 + j] = i
            prev[0] = n_cand
        for j in range(n_fired):
            fq[j] = out_ids[n_out + j]
            fq_v[j] = out_v[n_out + j]
        fq_len[0] = n_fired
        out_counts[bi] = n_fired
        n_out += n_fired
    return n_out, n_bursts


#: compiled kernel entry points by (kernel, signature) (see :meth:`Twin._call`)
_ENTRY_POINTS: dict = {}
#: below this many synapses a model runs on one thread by default (range set-up and the
#: per-phase fork/join cost more than they save)
PARALLEL_MIN_SYNAPSES = 2_000_000
#: a burst of the single-thread kernel turns dense (one pass over the flags in id order instead
#: of the candidate list) once it has N / DENSE_DIVISOR candidates + force-fires; measured on the
#: 1 M synthetic model (docs/benchmarks.md, "Single-thread inner loops")
DENSE_DIVISOR = 16


def _max_threads() -> int:
    return int(nb.config.NUMBA_NUM_THREADS)


class Twin:
    """Stateful numba executor of a :class:`~feagi_embed.model.Model`.

    Args:
        model: the quantized model.
        mode: ``"fixed"`` (the normative fixed-point model every target implements) or
            ``"float"`` (the same rules in f32 with FEAGI's arithmetic, for fidelity studies;
            ``V`` is then float32 and digests hash its bits).
        threads: neuron ranges run in parallel (:mod:`feagi_embed.host.twin_par`; bit-exact with
            one thread). ``1``: the single-thread kernel. ``None``: every core numba may use
            (``NUMBA_NUM_THREADS``) for models of at least :data:`PARALLEL_MIN_SYNAPSES`
            synapses, else 1. More ranges than cores is allowed (they share the cores).

    Example::

        twin = Twin(model)
        trace = twin.run(120, stimulus, state_every=10)
        out = twin.step([12, 40], [q12, q40])   # one more burst with these injections
    """

    def __init__(self, model: Model, mode: str = "fixed", *, threads: int | None = None):
        if mode not in ("fixed", "float"):
            raise ValueError(f"mode {mode!r}: expected 'fixed' or 'float'")
        if threads is None:
            threads = _max_threads() if model.n_synapses >= PARALLEL_MIN_SYNAPSES else 1
        if int(threads) < 1:
            raise ValueError(f"threads {threads!r}: expected an integer >= 1 (or None)")
        self.threads = int(threads)
        self.model = model
        self.mode = mode
        n = model.n_neurons
        vt = np.int32 if mode == "fixed" else np.float32
        self.V = np.zeros(n, vt)
        self.cd = np.zeros(n, np.uint16)
        self.cc = np.zeros(n, np.uint16)
        self._acc = np.zeros(n, vt)
        self._flag = np.zeros(n, np.uint8)
        self._cand = np.zeros(n + 1, np.uint32)
        self._forced = np.zeros(n + 1, np.uint32)
        self._prev = np.zeros(n + 1, np.int64)
        self._fq = np.zeros(n + 1, np.uint32)
        self._fq_v = np.zeros(n + 1, vt)
        self._fq_len = np.zeros(1, np.int64)
        self._refl = np.zeros(n + 1, np.uint32)
        self._refl_len = np.zeros(1, np.int64)
        self.burst = 0
        self._entry = None
        self._sched = None
        cap = max(4 * n, 1 << 16)  # fired-id buffer: a call stops before it could overflow
        self._out_ids = np.empty(cap, np.uint32)
        self._out_v = np.empty(cap, vt)
        self._static_args = None
        self._tail = None
        self._step_list = None
        self._step_ptr = np.zeros(2, np.int64)
        self._step_counts = np.zeros(1, np.int64)
        #: candidates + force-fires from which a burst of the single-thread kernel runs dense
        #: (see :func:`run_bursts`; 0: always, > N: never; the results are the same)
        self.dense_min = max(1, n // DENSE_DIVISOR)
        self._cbits = np.zeros((n + 63) // 64, np.uint64)
        m = model
        if mode == "fixed":
            self._params = (m.threshold, m.neuron_area, m.area_limit, m.area_leak_k)
            self._syn_c = m.syn_c
            self._scalars = (np.int64(m.power_input), np.int32(m.forced_v), np.int64(m.psp_cap))
            self._degen, psp0 = m.area_degen, m.area_psp
        else:
            self._params = (m.threshold_f32, m.neuron_area, m.area_limit_f32, m.area_leak_f32)
            self._syn_c = m.syn_c_f32
            self._scalars = (np.float32(1.0), np.float32(100.0), np.float32(np.inf))
            self._degen, psp0 = m.area_degen_f32, m.area_psp_f32
        #: per-neuron PSP of degenerating areas (others unused)
        self.psp = np.where(self._degen != 0, psp0, 0)[m.neuron_area].astype(vt)
        self._syn = (m.syn_ptr, m.syn_dst, self._syn_c, m.syn_w)
        self._row_plan = None
        if self.threads > 1:
            self._init_parallel(n, vt)

    def _init_parallel(self, n: int, vt) -> None:
        """Neuron ranges, range-major synapses and per-range buffers of the parallel kernel."""
        from .twin_par import prepare

        m = self.model
        syn_w = m.syn_w if m.has_runtime_psp else np.zeros(1, np.asarray(m.syn_w).dtype)
        with self._numba_threads():
            bounds, ptrp, pbase, dst, c, w = prepare(m.syn_ptr, m.syn_dst, self._syn_c, syn_w,
                                                      n, self.threads)
        self._syn = (m.syn_ptr, dst, c, w)
        P = self.threads
        self._par = dict(
            fq_off=np.zeros(P + 1, np.int64), bounds=bounds, ptrp=ptrp, pbase=pbase,
            skind=np.zeros(n + 1, np.uint8),
            lcand=np.zeros(n + 1, np.uint32), lcnt=np.zeros(P, np.int64),
            lprev=np.zeros(n + 1, np.uint32), lpcnt=np.zeros(P, np.int64),
            lrefl=np.zeros(n + 1, np.uint32), lrcnt=np.zeros(P, np.int64),
            lfired=np.zeros(n + 1, np.uint32), lfv=np.zeros(n + 1, vt),
            lfcnt=np.zeros(P, np.int64), sc=np.zeros(n + 1, vt), ldense=np.zeros(P, np.uint8),
            lfn=np.zeros(P, np.int64))

    def _numba_threads(self):
        """Context: numba's thread count set to ``min(threads, NUMBA_NUM_THREADS)``."""
        import contextlib

        @contextlib.contextmanager
        def ctx():
            old = nb.get_num_threads()
            nb.set_num_threads(max(1, min(self.threads, _max_threads())))
            try:
                yield
            finally:
                nb.set_num_threads(old)
        return ctx()

    def state_digest(self) -> int:
        """CRC-32 of the current state (``docs/model.md`` §4)."""
        return state_digest(self.V, self.cd, self.cc)

    def _make_row_plan(self):
        """:func:`row_plan` of the model (O(S), once per twin), ``row_c`` in V's dtype."""
        m = self.model
        c = np.ascontiguousarray(self._syn_c)
        mode, row_c = row_plan(m.syn_ptr, c.view(np.int32), m.neuron_area, m.area_mp_driven,
                               self._degen)
        return mode, row_c.view(c.dtype)

    def _kernel_args(self, b0, step, ptr, nrn, val, kind, counts):
        """The kernel's argument tuple; the parts that never change are built once."""
        static = self._static_args
        if static is None:
            m = self.model
            power_in, forced_v, psp_cap = self._scalars
            thr, area, lim, leak_ = self._params
            syn_ptr, syn_dst, syn_c, syn_w = self._syn
            a = (m.power_neuron, power_in, forced_v, psp_cap,
                 m.large_brain, thr, area, lim, leak_, m.area_exc_mode, m.area_exc_t,
                 m.area_refractory, m.area_snooze, m.area_cfl, m.area_mp_acc, m.area_mp_driven,
                 self._degen, syn_ptr, syn_dst, syn_c, syn_w, m.fanout)
            b = (self.V, self.cd, self.cc, self.psp, self._acc, self._flag)
            if self.threads == 1:
                b += (self._cand, self._forced, self._prev, self._fq, self._fq_v,
                      self._fq_len, self._refl, self._refl_len)
            else:
                p = self._par
                b += (self._cand, self._prev, self._forced, self._fq, self._fq_v,
                      self._fq_len, p["fq_off"], p["bounds"], p["ptrp"], p["pbase"],
                      p["skind"],
                      p["lcand"], p["lcnt"], p["lprev"], p["lpcnt"], p["lrefl"], p["lrcnt"],
                      p["lfired"], p["lfv"], p["lfcnt"]) + self._make_row_plan() + (
                          p["sc"], p["ldense"], p["lfn"])
            b += (self._out_ids, self._out_v)
            self._static_args = static = (a, b, self.mode == "float")
        a, b, floating = static
        tail = self._tail
        if tail is None or tail[0] != self.dense_min:
            end = ()
            if self.threads == 1:
                if self._row_plan is None:
                    self._row_plan = self._make_row_plan()
                end = self._row_plan + (self._cbits, np.int64(self.dense_min))
            self._tail = tail = (self.dense_min, end + (floating,),
                                 b + (self._step_counts,) + end + (floating,))
        if counts is self._step_counts:  # step(): one tuple less to build
            return (b0, step) + a + (ptr, nrn, val, kind) + tail[2]
        return (b0, step) + a + (ptr, nrn, val, kind) + b + (counts,) + tail[1]

    def _step_argv(self, b0, nrn, val, kind):
        """:meth:`_kernel_args` of a one-burst step as a list kept between steps, only the burst
        number and the inputs replaced (a third of the cost of building the tuple)."""
        kept = self._step_list
        if kept is None or kept[0] is not self._tail:
            argv = list(self._kernel_args(b0, 1, self._step_ptr, nrn, val, kind,
                                          self._step_counts))
            self._step_list = (self._tail, argv)
            return argv
        argv = kept[1]
        argv[0] = b0
        k = len(self._static_args[0]) + 3  # (b0, step) + constants + (ptr,): then the inputs
        argv[k], argv[k + 1], argv[k + 2] = nrn, val, kind
        return argv

    def _call(self, *args):
        """Call the kernel. numba's dispatch of a literal-specialised function re-types the call
        every time (~0.5 s); after the first call we call the compiled overload directly (the
        argument types never change within one Twin). Says "compiling…" on stderr when the
        kernel is neither loaded nor in the on-disk cache."""
        if self.threads > 1:
            from .twin_par import run_bursts_par as kernel
        else:
            kernel = run_bursts
        if self._entry is not None:
            if self.threads > 1:
                with self._numba_threads():
                    return self._entry(*args)
            return self._entry(*args)
        sig = tuple(nb.typeof(a) for a in args[:-1]) + (nb.types.literal(args[-1]),)
        entry = _ENTRY_POINTS.get((kernel, sig))
        if entry is None:
            if is_cold(kernel, sig):
                kind = "f32" if self.mode == "float" else "fixed-point"
                notice(f"the {'parallel ' if self.threads > 1 else ''}{kind} twin kernel")
            with self._numba_threads():
                result = kernel(*args)
            overload = kernel.overloads.get(sig)
            if overload is not None:
                _ENTRY_POINTS[(kernel, sig)] = self._entry = overload.entry_point
            return result
        self._entry = entry
        return self._call(*args)

    def _schedule(self, stim: Stimulus, end: int):
        """Compiled stimulus (cached per stimulus: chunked runs do not recompile it)."""
        cached = self._sched
        if cached is not None and cached[0] is stim and cached[1] >= end:
            return cached[2]
        horizon = max(end, stim.last_burst())
        arrays = stim.compile(self.model, horizon, real=self.mode == "float")
        self._sched = (stim, horizon, arrays)
        return arrays

    def run(self, bursts: int, stimulus: Stimulus | None = None, *, state_every: int = 0,
            batch: int = 256, watch: np.ndarray | None = None, final_state: bool = True
            ) -> Trace:
        """Run ``bursts`` bursts (continuing from the current state).

        Args:
            bursts: number of bursts to run.
            stimulus: schedule by absolute burst number (burst 1 is the first ever run).
            state_every: record a state digest every K bursts (0: none besides the final one).
            batch: bursts per compiled call (a state digest forces a batch boundary).
            watch: neuron ids whose ``(V, cd, cc)`` to record after every burst (into
                ``trace.watch``; forces one burst per call).
            final_state: also record the state digest after the last burst (taken once, also
                when ``state_every`` divides ``bursts``). ``False`` leaves the O(N) digest out:
                chunked callers ask for it on their last chunk only.

        Returns:
            :class:`Trace` of the bursts run.
        """
        stim = stimulus or Stimulus()
        end = self.burst + bursts
        st_ptr, st_nrn, st_val, st_kind = self._schedule(stim, end)
        trace = Trace()
        done = 0
        if watch is not None:
            watch = np.asarray(watch, np.int64)
            batch = 1
        while done < bursts:
            step = min(batch, bursts - done)
            if state_every:
                to_next = state_every - (self.burst % state_every)
                step = min(step, to_next)
            b0 = self.burst + 1
            lo, hi = int(st_ptr[b0 - 1]), int(st_ptr[b0 - 1 + step])
            ptr = (st_ptr[b0 - 1:b0 + step] - lo).astype(np.int64)
            counts = np.zeros(step, np.int64)
            n, step = self._call(*self._kernel_args(b0, step, ptr, st_nrn[lo:hi], st_val[lo:hi],
                                                    st_kind[lo:hi], counts))
            out_ids, out_v = self._out_ids, self._out_v
            pos = 0
            for i in range(step):
                b = b0 + i
                ids = out_ids[pos:pos + counts[i]].copy()
                trace.fired.append(ids)
                trace.fired_v.append(out_v[pos:pos + counts[i]].copy())
                trace.burst_crc.append(burst_digest(b, ids))
                pos += counts[i]
            assert pos == n
            self.burst += step
            done += step
            if watch is not None:
                trace.watch.append(np.stack([self.V[watch].astype(np.float64), self.cd[watch],
                                             self.cc[watch]], axis=1))
            if state_every and self.burst % state_every == 0:
                trace.state_crc[self.burst] = self.state_digest()
        if final_state and self.burst not in trace.state_crc:
            trace.state_crc[self.burst] = self.state_digest()
        return trace

    def step(self, ids=None, values=None, kinds=None, *, digest: bool = False,
             state: bool = False) -> StepResult:
        """Run one burst with these inputs (the streaming API, :mod:`feagi_embed.streaming`).

        Bit-exact with :meth:`run` given a stimulus whose compiled entries for that burst are the
        same ``(ids, values, kinds)``; host work is O(inputs + fired).

        Args:
            ids: neuron ids receiving input this burst (``None``: none).
            values: q-values (int32; float32 real values in ``"float"`` mode); ``None``: 0.
            kinds: ``KIND_INJECT``/``KIND_FORCE`` per entry or one for all (default inject).
            digest: also compute the burst digest (CRC-32 of the fired ids).
            state: also compute the state digest after the burst (O(N)).

        Returns:
            :class:`~feagi_embed.streaming.StepResult`.

        Raises:
            StimulusError: invalid inputs (see :func:`~feagi_embed.streaming.step_arrays`).
        """
        nrn, val, kind = step_arrays(self.model.n_neurons, ids, values, kinds,
                                     real=self.mode == "float")
        self._step_ptr[1] = nrn.shape[0]
        b0 = self.burst + 1
        n, _ = self._call(*self._step_argv(b0, nrn, val, kind))
        self.burst = b0
        fired = self._out_ids[:n].copy()
        return StepResult(b0, fired, self._out_v[:n].copy(),
                          burst_digest(b0, fired) if digest else None,
                          self.state_digest() if state else None)


def run(model: Model, stimulus: Stimulus | None = None, bursts: int = 100, *,
        mode: str = "fixed", state_every: int = 0) -> Trace:
    """Run a model from its initial state for ``bursts`` bursts (convenience for
    ``Twin(model, mode).run(...)``).

    Returns:
        :class:`Trace`: per-burst sorted fired ids, burst CRC-32s, state CRC-32s.
    """
    return Twin(model, mode).run(bursts, stimulus, state_every=state_every)
