"""The numba twin over several cores: the burst of ``docs/model.md`` §3 with the neurons split
into ``P`` contiguous ranges, one per thread, so that no two threads ever write the same neuron.

Bit-exact with the single-thread kernel :func:`feagi_embed.host.twin.run_bursts` (fixed point and
the f32 reference), by construction:

* the synapses are laid out range-major (:func:`prepare`): range ``p``'s slice of every row,
  rows in source order and each slice in row order, so ``pbase[p] + ptrp[p, src] …
  pbase[p] + ptrp[p, src + 1]`` is the part of row ``src`` that targets range ``p``. Thread
  ``p`` walks the previous fire queue in order (ascending ids) through its own contiguous
  region, no cache line shared with another thread; each target therefore receives its inputs
  in exactly the serial order (the power neuron, sources by ascending id and synapses in row
  order, then the range's sensory entries in file order), so even the f32 sums are the same;
* candidates, refractory list and fired neurons are kept per range; a range's fired ids are sorted
  and the ranges are ascending, so their concatenation is the serial kernel's sorted fired set
  (the next fire queue and the trace);
* the power neuron is applied serially first, as in the serial kernel (its candidate stays in
  one global list that each range filters); each range takes its own force-fires (into its part
  of ``forced``, counts in ``lfn``) before its membrane reset, and adds its own sensory
  injections after its propagation.

The order of the candidate list itself is not observable (it feeds only per-neuron rules); the
per-target accumulation order and the fired-set order are.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import literally, prange

from ..stimulus import KIND_FORCE
from .twin import (BLOCKED, CAND, DENSE_DIVISOR, FIRED, FORCED, PREFETCH_AHEAD, PREV_FIRED,
                   ROW_UNIFORM, accumulate, prefetch, runtime_contribution, update_candidate)

__all__ = ["prepare", "run_bursts_par"]


@nb.njit(cache=True, inline="always")
def _range_of(bounds, t):
    """The range holding neuron ``t`` (binary search over ``bounds``)."""
    lo = 0
    hi = bounds.shape[0] - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if t >= bounds[mid]:
            lo = mid
        else:
            hi = mid
    return lo


@nb.njit(cache=True, parallel=True)
def _range_counts(syn_ptr, syn_dst, bounds):
    """``cnt[p, src]``: synapses of row ``src`` whose target lies in range ``p`` (int64
    ``[P, N]``)."""
    n = syn_ptr.shape[0] - 1
    cnt = np.zeros((bounds.shape[0] - 1, n), np.int64)
    for src in prange(n):
        for k in range(syn_ptr[src], syn_ptr[src + 1]):
            cnt[_range_of(bounds, syn_dst[k]), src] += 1
    return cnt


@nb.njit(cache=True, parallel=True)
def _scatter(syn_ptr, syn_dst, syn_c, syn_w, bounds, ptrp, dst, c, w):
    """Copy every synapse to its range-major place (``ptrp``: :func:`prepare`), each row's
    slice in row order, the target relative to its range's first neuron; ``syn_w`` of length 1
    (no run-time contributions) is not copied."""
    n = syn_ptr.shape[0] - 1
    has_w = syn_w.shape[0] == syn_dst.shape[0]
    for src in prange(n):
        cur = ptrp[:, src].copy()
        for k in range(syn_ptr[src], syn_ptr[src + 1]):
            t = syn_dst[k]
            p = _range_of(bounds, t)
            pos = cur[p]
            cur[p] = pos + 1
            dst[pos] = t - bounds[p]
            c[pos] = syn_c[k]
            if has_w:
                w[pos] = syn_w[k]


def prepare(syn_ptr, syn_dst, syn_c, syn_w, n_neurons: int, parts: int, wide: bool = False):
    """Range bounds and the range-major synapses of :func:`run_bursts_par`.

    Args:
        syn_ptr, syn_dst, syn_c, syn_w: the model's CSR synapses (``syn_w`` may be a 1-element
            dummy when no source computes run-time contributions).
        n_neurons: N.
        parts: P, the number of neuron ranges (threads).
        wide: int64 offsets and uint32 targets even where narrower ones would hold them (tests).

    Returns:
        ``(bounds int64 [P+1], ptrp [P, N+1], pbase int64 [P], dst, c, w)``: ranges balanced by
        incoming synapses (+1 per neuron for its dynamics); ``dst``/``c``/``w`` the synapses in
        range-major order (``dst`` relative to the range's first neuron ``bounds[p]``: uint16
        when no range has more than 65,536 neurons, halving the bytes a slice reads, else
        uint32), row ``src``'s slice for range ``p`` at ``pbase[p] + ptrp[p, src] …
        pbase[p] + ptrp[p, src + 1]``. ``ptrp`` is relative to the range's region, uint32 when
        every region holds fewer than 2^32 synapses (else int64): 16 offsets per cache line, so
        at 10 % activity a range's next fired source often shares its line. Range-major offsets
        too: each thread reads its own row in increasing order (source-major ``[N+1, P]``
        offsets, shared by the threads, ran 1.7x slower at 10 % in the single-thread work
        measurement).
    """
    P = max(1, int(parts))
    indeg = np.bincount(np.asarray(syn_dst, np.int64), minlength=n_neurons)[:n_neurons]
    cum = np.cumsum(indeg + 1)  # +1: neurons without inputs still cost dynamics work
    tot = int(cum[-1]) if n_neurons else 0
    bounds = np.searchsorted(cum, np.arange(1, P, dtype=np.int64) * tot // P, side="right")
    bounds = np.concatenate(([0], bounds, [n_neurons])).astype(np.int64)
    bounds = np.maximum.accumulate(bounds)
    cnt = _range_counts(syn_ptr, syn_dst, bounds)
    starts = np.concatenate(([0], np.cumsum(cnt.reshape(-1))))
    ptrp = starts[np.arange(P)[:, None] * n_neurons + np.arange(n_neurons + 1)[None, :]]
    ptrp = np.ascontiguousarray(ptrp, np.int64)
    widest = int(np.diff(bounds).max(initial=0))
    dst = np.empty(syn_dst.shape[0], np.uint16 if widest <= 2 ** 16 and not wide else np.uint32)
    c = np.empty_like(syn_c)
    w = np.empty_like(syn_w) if syn_w.shape[0] == syn_dst.shape[0] else syn_w
    _scatter(syn_ptr, syn_dst, syn_c, syn_w, bounds, ptrp, dst, c, w)
    pbase = np.ascontiguousarray(ptrp[:, 0])
    ptrp -= pbase[:, None]  # in place: the 1 M x 16 offsets are 128 MB as int64
    if not wide and int(ptrp[:, -1].max(initial=0)) < 2 ** 32:
        ptrp = ptrp.astype(np.uint32)
    return bounds, ptrp, pbase, dst, c, w


# Long by design, as run_bursts (its serial twin): each phase is one prange over the P ranges.
@nb.njit(cache=True, parallel=True)
def run_bursts_par(first_burst, n_bursts, power, power_in, forced_v, psp_cap, large_brain,
                   threshold, neuron_area, a_lim, a_k, a_exc_mode, a_exc_t, a_refr, a_snooze,
                   a_cfl, a_mp_acc, a_mp_driven, a_degen, syn_ptr, syn_dst, syn_c, syn_w, fanout,
                   st_ptr, st_nrn, st_val, st_kind,
                   V, cd, cc, psp, acc, flag, gcand, gprev, forced, fq, fq_v, fq_len, fq_off,
                   bounds, ptrp, pbase, skind, lcand, lcnt, lprev, lpcnt, lrefl, lrcnt, lfired,
                   lfv, lfcnt, row_mode, row_c, sc, ldense, lfn, out_ids, out_v, out_counts,
                   floating):
    """:func:`feagi_embed.host.twin.run_bursts` over ``P = len(bounds) - 1`` neuron ranges.

    Per-range buffers (``lcand``, ``lprev``, ``lrefl``, ``lfired``/``lfv``, ``forced``: ``[N]``,
    range ``p`` using ``[bounds[p], bounds[p+1])``; counts ``[P]``, ``lfn`` the force-fires'),
    ``gcand``/``gprev`` (``gprev[0]`` = count) the candidates of the serial inputs, ``fq_off[p]``
    where range ``p``'s fired ids start in ``fq``. ``syn_dst``/``syn_c``/``syn_w`` are the
    range-major copies (``syn_dst`` relative to ``bounds[p]``) and ``ptrp``/``pbase`` the slice
    offsets of :func:`prepare`; ``skind`` (uint8 ``[N+1]``) and ``sc`` (V's dtype ``[N+1]``) the
    per-burst gather of each fire-queue source's row kind and uniform contribution
    (``row_mode``/``row_c``: :func:`~feagi_embed.host.twin.row_plan`).

    As in the serial kernel, a range turns *dense* (``ldense[p]``) once it has 1/DENSE_DIVISOR
    of its neurons as candidates: the rest of its propagation only sets CAND flags, and one pass
    over the range in id order updates the candidates, emits its fired ids already sorted and
    clears its FCL. Returns ``(ids written, bursts run)``.
    """
    literally(floating)
    n_out = 0
    n_neurons = threshold.shape[0]
    P = bounds.shape[0] - 1
    for bi in range(n_bursts):
        if n_out + n_neurons > out_ids.shape[0]:
            return n_out, bi
        burst = first_burst + bi
        n_cand = 0
        # 3. the power neuron (serial; each range takes its own force-fires (2.) below and its
        #    injections after 5.)
        if power >= 0:
            if flag[power] & CAND == 0:
                flag[power] |= CAND
                gcand[n_cand] = power
                n_cand += 1
            acc[power] = accumulate(acc[power], power_in, floating)
        nfq = fq_len[0]
        n_gprev = gprev[0]
        # per-source row kind (and uniform contribution), gathered once in fire-queue order
        for p in prange(P):
            for j in range(nfq * p // P, nfq * (p + 1) // P):
                src = fq[j]
                area = neuron_area[src]
                skind[j] = 1 if a_mp_driven[area] else (2 if a_degen[area] != 0 else 0)
                if row_mode[src] == ROW_UNIFORM:
                    skind[j] = 3
                    sc[j] = row_c[src]
        for p in prange(P):
            lo = bounds[p]
            hi = bounds[p + 1]
            # 2. the range's force-fires, each once, into its part of ``forced`` (which neurons
            #    are forced is all that is observable, and only the owning range reads their flags)
            n_forced = 0
            for s in range(st_ptr[bi], st_ptr[bi + 1]):
                i = st_nrn[s]
                if st_kind[s] == KIND_FORCE and lo <= i < hi and flag[i] & FORCED == 0:
                    flag[i] |= FORCED
                    forced[lo + n_forced] = i
                    n_forced += 1
            lfn[p] = n_forced
            # 4. membrane reset over the previous burst's candidates / fire queue of the range
            if large_brain:
                for j in range(fq_off[p], fq_off[p + 1]):
                    i = fq[j]
                    if not a_mp_acc[neuron_area[i]]:
                        V[i] = 0
            else:
                for j in range(fq_off[p], fq_off[p + 1]):
                    flag[fq[j]] |= PREV_FIRED
                for j in range(n_gprev):
                    i = gprev[1 + j]
                    if lo <= i < hi and flag[i] & PREV_FIRED == 0 and not a_mp_acc[neuron_area[i]]:
                        V[i] = 0
                for j in range(lpcnt[p]):
                    i = lprev[lo + j]
                    if flag[i] & PREV_FIRED == 0 and not a_mp_acc[neuron_area[i]]:
                        V[i] = 0
                for j in range(fq_off[p], fq_off[p + 1]):
                    flag[fq[j]] &= ~PREV_FIRED
            # 5. propagation: the range's slice of every row, sources in fire-queue order
            #    through the range's own region; prefetched in two stages: the slice offsets
            #    2·PREFETCH_AHEAD sources ahead, the slices PREFETCH_AHEAD ahead (whose offsets
            #    are then in cache: at low activity the offsets are the misses)
            pp = ptrp[p]
            pb = pbase[p]
            lc = 0
            dmin = max(1, (hi - lo) // DENSE_DIVISOR)
            dense = n_cand * (hi - lo) + n_forced * n_neurons >= dmin * n_neurons
            for j in range(nfq):
                if j + 2 * PREFETCH_AHEAD < nfq:
                    prefetch(pp, fq[j + 2 * PREFETCH_AHEAD])
                if j + PREFETCH_AHEAD < nfq:
                    kp = pb + np.int64(pp[fq[j + PREFETCH_AHEAD]])
                    prefetch(syn_dst, kp)
                    if skind[j + PREFETCH_AHEAD] != 3:
                        prefetch(syn_c, kp)
                src = fq[j]
                k0 = pb + np.int64(pp[src])
                k1 = pb + np.int64(pp[src + 1])
                if k1 <= k0:
                    continue
                if not dense and lc >= dmin:
                    dense = True
                sk = skind[j]
                if sk == 3:  # uniform row: only the targets are read
                    cu = sc[j]
                    if dense:
                        for k in range(k0, k1):
                            t = lo + np.int64(syn_dst[k])
                            flag[t] |= CAND
                            acc[t] = accumulate(acc[t], cu, floating)
                    else:
                        for k in range(k0, k1):
                            t = lo + np.int64(syn_dst[k])
                            if flag[t] & CAND == 0:
                                flag[t] |= CAND
                                lcand[lo + lc] = t
                                lc += 1
                            acc[t] = accumulate(acc[t], cu, floating)
                    continue
                driven = sk == 1
                degen = sk == 2
                for k in range(k0, k1):
                    t = lo + np.int64(syn_dst[k])
                    if driven:
                        c = runtime_contribution(syn_w[k], fq_v[j], fanout[src], psp_cap, floating)
                    elif degen:
                        c = runtime_contribution(syn_w[k], psp[src], fanout[src], psp_cap, floating)
                    else:
                        c = syn_c[k]
                    if flag[t] & CAND == 0:
                        flag[t] |= CAND
                        if not dense:
                            lcand[lo + lc] = t
                            lc += 1
                    acc[t] = accumulate(acc[t], c, floating)
            # 5b. the range's sensory injections, after power and propagation (the serial
            #     kernel's order, so that the f32 sums are the same)
            for se in range(st_ptr[bi], st_ptr[bi + 1]):
                ti = st_nrn[se]
                if st_kind[se] != KIND_FORCE and lo <= ti < hi:
                    if flag[ti] & CAND == 0:
                        flag[ti] |= CAND
                        if not dense:
                            lcand[lo + lc] = ti
                            lc += 1
                    acc[ti] = accumulate(acc[ti], st_val[se], floating)
            lcnt[p] = lc
            ldense[p] = dense
        # degeneration of this burst's sources (each source once; read above, written here)
        for p in prange(P):
            for j in range(fq_off[p], fq_off[p + 1]):
                src = fq[j]
                d = a_degen[neuron_area[src]]
                if d != 0:
                    p_new = psp[src] - d
                    psp[src] = p_new if p_new > 0 else 0
        for p in prange(P):
            lo = bounds[p]
            hi = bounds[p + 1]
            # 6a. refractory countdown of the range
            w_i = 0
            for j in range(lrcnt[p]):
                i = lrefl[lo + j]
                if flag[i] & CAND:
                    flag[i] |= BLOCKED
                if flag[i] & FORCED:
                    lrefl[lo + w_i] = i
                    w_i += 1
                    continue
                cd[i] -= 1
                lim_l = a_cfl[neuron_area[i]]
                if cd[i] == 0:
                    if lim_l != 0 and lim_l != 65535 and cc[i] >= lim_l:
                        cc[i] = 0
                else:
                    lrefl[lo + w_i] = i
                    w_i += 1
            nr = w_i
            # 6b–g. dynamics of the range's candidates (serial inputs' first, then propagated)
            if ldense[p]:  # one pass over the range in id order: fired ids come out sorted
                nf = 0
                npv = 0
                for i in range(lo, hi):
                    f = flag[i]
                    if f == 0:
                        continue
                    fired = False
                    v = forced_v
                    if f & CAND:
                        if f & BLOCKED == 0:
                            fired, v = update_candidate(i, burst, V, cd, cc, acc, threshold,
                                                        neuron_area, a_lim, a_k, a_exc_mode,
                                                        a_exc_t, a_refr, a_snooze, a_cfl,
                                                        a_mp_acc, floating)
                            if fired and cd[i] > 0:
                                lrefl[lo + nr] = i
                                nr += 1
                        acc[i] = 0
                        lprev[lo + npv] = i  # serial-input candidates too (reset is idempotent)
                        npv += 1
                    if fired or f & FORCED:
                        lfired[lo + nf] = i
                        lfv[lo + nf] = v if fired else forced_v
                        nf += 1
                    flag[i] = 0
                lrcnt[p] = nr
                lfcnt[p] = nf
                lpcnt[p] = npv
            else:
                nf = 0
                ng = n_cand
                lc = lcnt[p]
                for jj in range(ng + lc):
                    if jj < ng:
                        i = gcand[jj]
                        if i < lo or i >= hi:
                            continue
                    else:
                        i = lcand[lo + jj - ng]
                    if flag[i] & BLOCKED:
                        continue
                    fired, v = update_candidate(i, burst, V, cd, cc, acc, threshold,
                                                neuron_area, a_lim, a_k, a_exc_mode, a_exc_t,
                                                a_refr, a_snooze, a_cfl, a_mp_acc, floating)
                    if fired:
                        if cd[i] > 0:
                            lrefl[lo + nr] = i
                            nr += 1
                        flag[i] |= FIRED
                        lfired[lo + nf] = i
                        lfv[lo + nf] = v
                        nf += 1
                lrcnt[p] = nr
                for j in range(lfn[p]):
                    i = forced[lo + j]
                    if flag[i] & FIRED == 0:
                        lfired[lo + nf] = i
                        lfv[lo + nf] = forced_v
                        nf += 1
                    flag[i] = 0
                if nf > 1:
                    order = np.argsort(lfired[lo:lo + nf])
                    ids_s = lfired[lo:lo + nf][order]
                    v_s = lfv[lo:lo + nf][order]
                    lfired[lo:lo + nf] = ids_s
                    lfv[lo:lo + nf] = v_s
                lfcnt[p] = nf
                # clear the range's FCL; its candidates are the next membrane reset's
                for j in range(lc):
                    i = lcand[lo + j]
                    acc[i] = 0
                    flag[i] = 0
                    lprev[lo + j] = i
                lpcnt[p] = lc
        # fired set: ranges in ascending order
        tot = 0
        for p in range(P):
            fq_off[p] = tot
            tot += lfcnt[p]
        fq_off[P] = tot
        for p in prange(P):
            lo = bounds[p]
            o = fq_off[p]
            for j in range(lfcnt[p]):
                fq[o + j] = lfired[lo + j]
                fq_v[o + j] = lfv[lo + j]
                out_ids[n_out + o + j] = lfired[lo + j]
                out_v[n_out + o + j] = lfv[lo + j]
        fq_len[0] = tot
        out_counts[bi] = tot
        n_out += tot
        for j in range(n_cand):
            i = gcand[j]
            acc[i] = 0
            flag[i] = 0
            gprev[1 + j] = i
        gprev[0] = n_cand
    return n_out, n_bursts
