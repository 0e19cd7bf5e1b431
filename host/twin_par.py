"""The numba twin over several cores: the burst of ``docs/model.md`` §3 with the neurons split
into ``P`` contiguous ranges, one per thread, so that no two threads ever write the same neuron.

Bit-exact with the single-thread kernel :func:`feagi_embed.host.twin.run_bursts` (fixed point and
the f32 reference), by construction:

* every synapse row is stably sorted by target once (:func:`prepare`), and ``split[src, p]`` is
  where range ``p`` starts in row ``src``; thread ``p`` walks the previous fire queue in order and
  applies only its slice of each row. Each target therefore receives its inputs in exactly the
  serial order (the power neuron, sources by ascending id and synapses in row order, then the
  range's sensory entries in file order), so even the f32 sums are the same;
* candidates, refractory list and fired neurons are kept per range; a range's fired ids are sorted
  and the ranges are ascending, so their concatenation is the serial kernel's sorted fired set
  (the next fire queue and the trace);
* force-fires and the power neuron are applied serially first, as in the serial kernel (their
  candidates stay in one global list that each range filters); each range adds its own sensory
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
                   ROW_RUNTIME, ROW_UNIFORM, accumulate, excitability_passes, integrate, leak,
                   prefetch, runtime_contribution)

__all__ = ["bucket_capacity", "prepare", "run_bursts_par"]


@nb.njit(cache=True, parallel=True)
def _sort_rows(syn_ptr, syn_dst):
    """Permutation that stably sorts every CSR row by target (int64 ``[S]``)."""
    n = syn_ptr.shape[0] - 1
    perm = np.empty(syn_dst.shape[0], np.int64)
    for src in prange(n):
        a, b = syn_ptr[src], syn_ptr[src + 1]
        if b > a:
            order = np.argsort(syn_dst[a:b], kind="mergesort")
            for j in range(b - a):
                perm[a + j] = a + order[j]
    return perm


@nb.njit(cache=True, parallel=True)
def _splits(syn_ptr, dst_sorted, bounds):
    """``split[src, p]``: offset in row ``src`` of its first target ≥ ``bounds[p]`` (int32
    ``[N, P+1]``, row-relative)."""
    n = syn_ptr.shape[0] - 1
    P = bounds.shape[0] - 1
    split = np.empty((n, P + 1), np.int32)
    for src in prange(n):
        a, b = syn_ptr[src], syn_ptr[src + 1]
        split[src, 0] = 0
        k = a
        for p in range(1, P):
            while k < b and dst_sorted[k] < bounds[p]:
                k += 1
            split[src, p] = k - a
        split[src, P] = b - a
    return split


def prepare(syn_ptr, syn_dst, syn_c, syn_w, n_neurons: int, parts: int):
    """Range bounds and row-sorted synapses for :func:`run_bursts_par`.

    Args:
        syn_ptr, syn_dst, syn_c, syn_w: the model's CSR synapses (``syn_w`` may be a 1-element
            dummy when no source computes run-time contributions).
        n_neurons: N.
        parts: P, the number of neuron ranges (threads).

    Returns:
        ``(bounds int64 [P+1], split int32 [N, P+1], dst, c, w)``: ranges balanced by incoming
        synapses; ``dst``/``c``/``w`` the row-sorted copies.
    """
    P = max(1, int(parts))
    indeg = np.bincount(np.asarray(syn_dst, np.int64), minlength=n_neurons)[:n_neurons]
    cum = np.cumsum(indeg + 1)  # +1: neurons without inputs still cost dynamics work
    tot = int(cum[-1]) if n_neurons else 0
    bounds = np.searchsorted(cum, np.arange(1, P, dtype=np.int64) * tot // P, side="right")
    bounds = np.concatenate(([0], bounds, [n_neurons])).astype(np.int64)
    bounds = np.maximum.accumulate(bounds)
    perm = _sort_rows(syn_ptr, syn_dst)
    dst = syn_dst[perm]
    c = syn_c[perm]
    w = syn_w[perm] if syn_w.shape[0] == syn_dst.shape[0] else syn_w
    return bounds, _splits(syn_ptr, dst, bounds), dst, c, w


#: synaptic events one thread's bucket region holds in one propagation round (at least the
#: largest fan-out; see :func:`bucket_capacity`)
BUCKET_EVENTS_PER_THREAD = 1 << 20


def bucket_capacity(syn_ptr, parts: int, per_thread: int | None = None) -> int:
    """Events per thread region of the propagation buckets: ``min(ceil(S / P), per_thread)``
    (default :data:`BUCKET_EVENTS_PER_THREAD`), but at least the largest fan-out, so that every
    source row fits one region (1 when there are no synapses)."""
    per = BUCKET_EVENTS_PER_THREAD if per_thread is None else int(per_thread)
    ptr = np.asarray(syn_ptr, np.int64)
    s = int(ptr[-1]) if ptr.shape[0] else 0
    dmax = int(np.diff(ptr).max()) if ptr.shape[0] > 1 else 0
    P = max(1, int(parts))
    return max(1, dmax, min(-(-s // P), per))


@nb.njit(cache=True, inline="always")
def _plan_round(cum, r0, nfq, C, P, chunk):
    """Split the fire queue from ``r0`` into ``P`` contiguous chunks of at most ``C`` events
    each, balanced by events (``cum``: int64 ``[nfq+1]`` prefix of the sources' fan-outs), as far
    as ``P·C`` events reach. Writes ``chunk[0..P]``; returns the round's end ``chunk[P] > r0``."""
    e_round = min(cum[nfq] - cum[r0], P * C)
    target = (e_round + P - 1) // P
    chunk[0] = r0
    a = r0
    for q in range(P):
        goal = min(cum[a] + C, cum[r0] + (q + 1) * target)
        lo_, hi_ = a, nfq  # the last b in [a, nfq] with cum[b] <= goal (cum[a] <= goal)
        while lo_ < hi_:
            mid = (lo_ + hi_ + 1) >> 1
            if cum[mid] <= goal:
                lo_ = mid
            else:
                hi_ = mid - 1
        chunk[q + 1] = lo_
        a = lo_
    return a


# Long by design, as run_bursts (its serial twin): each phase is one prange over the P ranges
# (or the P fire-queue chunks); the per-rule arithmetic lives in twin.py's inline helpers.
@nb.njit(cache=True, parallel=True)
def run_bursts_par(first_burst, n_bursts, power, power_in, forced_v, psp_cap, large_brain,
                   threshold, neuron_area, a_lim, a_k, a_exc_mode, a_exc_t, a_refr, a_snooze,
                   a_cfl, a_mp_acc, a_mp_driven, a_degen, syn_ptr, syn_dst, syn_c, syn_w, fanout,
                   st_ptr, st_nrn, st_val, st_kind,
                   V, cd, cc, psp, acc, flag, gcand, gprev, forced, fq, fq_v, fq_len, fq_off,
                   bounds, split, cum, chunk, bkt_t, bkt_c, boff, lcand, lcnt, lprev, lpcnt,
                   lrefl, lrcnt, lfired, lfv, lfcnt, row_mode, row_c, ldense, out_ids, out_v,
                   out_counts, floating):
    """:func:`feagi_embed.host.twin.run_bursts` over ``P = len(bounds) - 1`` neuron ranges.

    Propagation runs in rounds of two phases, so that no thread reads another range's part of a
    synapse row and every row is read once, sequentially:

    * **scatter** (thread ``q``): a contiguous chunk ``[chunk[q], chunk[q+1])`` of the fire queue,
      balanced by events (``cum``: int64 ``[N+2]``, prefix of the fire-queue sources' fan-outs);
      each row's slice for range ``p`` (``split`` of :func:`prepare`) is appended, as (target,
      contribution) pairs, to bucket ``(q, p)``: ``bkt_t`` uint32 / ``bkt_c`` V's dtype
      ``[P·C]``, thread ``q`` owning ``[q·C, (q+1)·C)``, bucket ``p`` ending at ``boff[q, p]``
      (int64 ``[P, P+1]``) and starting where bucket ``p − 1`` ends (0 for ``p = 0``);
    * **gather** (thread ``p``): buckets ``(0, p) … (P−1, p)`` in order, i.e. the range's events
      in the serial order (sources in fire-queue order, each row in row order), into the range's
      FCL; after the last round the same thread runs the range's steps 4–6.

    A round holds at most ``C`` events per thread (``C ≥`` the largest fan-out); most bursts need
    one. Per-range buffers (``lcand``, ``lprev``, ``lrefl``, ``lfired``/``lfv``: ``[N]``, range
    ``p`` using ``[bounds[p], bounds[p+1])``; counts ``[P]``), ``gcand``/``gprev`` (``gprev[0]`` =
    count) the candidates of the serial inputs, ``fq_off[p]`` where range ``p``'s fired ids start
    in ``fq``. ``syn_dst``/``syn_c``/``syn_w`` are :func:`prepare`'s row-sorted copies;
    ``row_mode``/``row_c``: :func:`~feagi_embed.host.twin.row_plan`.

    As in the serial kernel, a range turns *dense* (``ldense[p]``) once it has 1/DENSE_DIVISOR
    of its neurons as candidates: the rest of its propagation only sets CAND flags, and one pass
    over the range in id order updates the candidates, emits its fired ids already sorted and
    clears its FCL. Returns ``(ids written, bursts run)``.
    """
    literally(floating)
    n_out = 0
    n_neurons = threshold.shape[0]
    P = bounds.shape[0] - 1
    C = bkt_t.shape[0] // P
    any_degen = False
    for a in range(a_degen.shape[0]):
        if a_degen[a] != 0:
            any_degen = True
    # the fan-out prefix of the incoming fire queue (later bursts get it from the merge below)
    nfq = fq_len[0]
    for p in prange(P):
        for j in range(nfq * p // P, nfq * (p + 1) // P):
            src = fq[j]
            cum[j + 1] = syn_ptr[src + 1] - syn_ptr[src]
    cum[0] = 0
    for j in range(nfq):
        cum[j + 1] += cum[j]
    for bi in range(n_bursts):
        if n_out + n_neurons > out_ids.shape[0]:
            return n_out, bi
        burst = first_burst + bi
        n_cand = 0
        n_forced = 0
        # 2.–3. force-fires and the power neuron (serial, in file order; injections after 5.)
        for s in range(st_ptr[bi], st_ptr[bi + 1]):
            i = st_nrn[s]
            if st_kind[s] == KIND_FORCE:
                if flag[i] & FORCED == 0:
                    flag[i] |= FORCED
                    forced[n_forced] = i
                    n_forced += 1
        if power >= 0:
            if flag[power] & CAND == 0:
                flag[power] |= CAND
                gcand[n_cand] = power
                n_cand += 1
            acc[power] = accumulate(acc[power], power_in, floating)
        nfq = fq_len[0]
        n_gprev = gprev[0]
        for p in range(P):
            lcnt[p] = 0
            lo = bounds[p]
            hi = bounds[p + 1]
            dmin = max(1, (hi - lo) // DENSE_DIVISOR)
            ldense[p] = (n_cand + n_forced) * (hi - lo) >= dmin * n_neurons
        r0 = 0
        last = False
        while not last:
            has_ev = r0 < nfq and cum[nfq] > cum[r0]
            if has_ev:
                r1 = _plan_round(cum, r0, nfq, C, P, chunk)
                last = cum[nfq] == cum[r1]
                # 5a. scatter: thread q appends its chunk's row slices to buckets (q, ·)
                for q in prange(P):
                    base = q * C
                    ja = chunk[q]
                    jb = chunk[q + 1]
                    for r in range(P + 1):
                        boff[q, r] = 0
                    for j in range(ja, jb):
                        if j + PREFETCH_AHEAD < jb:
                            s1 = np.int64(fq[j + PREFETCH_AHEAD])
                            prefetch(split, s1 * (P + 1))
                            prefetch(split, s1 * (P + 1) + P)
                        sb = np.int64(fq[j]) * (P + 1)
                        for r in range(P):
                            boff[q, r + 1] += split[sb + r + 1] - split[sb + r]
                    tot = 0
                    for r in range(P):  # counts -> starts
                        n_r = boff[q, r + 1]
                        boff[q, r] = tot
                        tot += n_r
                    boff[q, P] = tot
                    for j in range(ja, jb):
                        j2 = j + 2 * PREFETCH_AHEAD
                        if j2 < jb:
                            s2 = np.int64(fq[j2])
                            prefetch(syn_ptr, s2)
                            prefetch(row_mode, s2)
                            prefetch(row_c, s2)
                        if j + PREFETCH_AHEAD < jb:
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
                        sb = np.int64(src) * (P + 1)
                        a0 = syn_ptr[src]
                        mode = row_mode[src]
                        if mode == ROW_UNIFORM:  # one contribution for the row
                            cu = row_c[src]
                            for r in range(P):
                                w = base + boff[q, r]
                                for k in range(a0 + split[sb + r], a0 + split[sb + r + 1]):
                                    bkt_t[w] = syn_dst[k]
                                    bkt_c[w] = cu
                                    w += 1
                                boff[q, r] = w - base
                        elif mode == ROW_RUNTIME:  # mp-driven or degenerating source
                            area = neuron_area[src]
                            # oracle: PSP = max(V at fire, 0), neither rounded nor clamped
                            pv = fq_v[j] if a_mp_driven[area] else psp[src]
                            fo = fanout[src]
                            for r in range(P):
                                w = base + boff[q, r]
                                for k in range(a0 + split[sb + r], a0 + split[sb + r + 1]):
                                    bkt_t[w] = syn_dst[k]
                                    bkt_c[w] = runtime_contribution(syn_w[k], pv, fo, psp_cap,
                                                                    floating)
                                    w += 1
                                boff[q, r] = w - base
                        else:
                            for r in range(P):
                                w = base + boff[q, r]
                                for k in range(a0 + split[sb + r], a0 + split[sb + r + 1]):
                                    bkt_t[w] = syn_dst[k]
                                    bkt_c[w] = syn_c[k]
                                    w += 1
                                boff[q, r] = w - base
                r0 = r1
            else:
                last = True
            for p in prange(P):
                lo = bounds[p]
                hi = bounds[p + 1]
                # 5b. gather: the range's buckets in chunk order (= the serial event order)
                lc = lcnt[p]
                dense = ldense[p] != 0
                if has_ev:
                    dmin = max(1, (hi - lo) // DENSE_DIVISOR)
                    for q in range(P):
                        k = q * C + (boff[q, p - 1] if p > 0 else 0)
                        e = q * C + boff[q, p]
                        if not dense:
                            while k < e:
                                t = bkt_t[k]
                                if flag[t] & CAND == 0:
                                    flag[t] |= CAND
                                    lcand[lo + lc] = t
                                    lc += 1
                                acc[t] = accumulate(acc[t], bkt_c[k], floating)
                                k += 1
                                if lc >= dmin:
                                    dense = True
                                    break
                        for kk in range(k, e):  # dense: no branch, no list
                            t = bkt_t[kk]
                            flag[t] |= CAND
                            acc[t] = accumulate(acc[t], bkt_c[kk], floating)
                    lcnt[p] = lc
                    ldense[p] = dense
                if last:  # steps 4–6 of the range, after all its propagation
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
                    # degeneration of the range's sources (oracle: each fire lowers the PSP by the degeneration)
                    if any_degen:
                        for j in range(fq_off[p], fq_off[p + 1]):
                            src = fq[j]
                            d = a_degen[neuron_area[src]]
                            if d != 0:
                                p_new = psp[src] - d
                                psp[src] = p_new if p_new > 0 else 0
                    # 5b. the range's sensory injections
                    lc = lcnt[p]
                    for se in range(st_ptr[bi], st_ptr[bi + 1]):
                        ti = st_nrn[se]
                        if st_kind[se] != KIND_FORCE and lo <= ti < hi:
                            if flag[ti] & CAND == 0:
                                flag[ti] |= CAND
                                if not dense:
                                    lcand[lo + lc] = ti
                                    lc += 1
                            acc[ti] = accumulate(acc[ti], st_val[se], floating)
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
                    nf = 0
                    if dense:  # one pass over the range in id order: fired ids come out sorted
                        npv = 0
                        for i in range(lo, hi):
                            f = flag[i]
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
                        lpcnt[p] = npv
                    else:
                        for jj in range(n_cand + lc):
                            if jj < n_cand:
                                i = gcand[jj]
                                if i < lo or i >= hi:
                                    continue
                            else:
                                i = lcand[lo + jj - n_cand]
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
                                    lrefl[lo + nr] = i
                                    nr += 1
                                flag[i] |= FIRED
                                lfired[lo + nf] = i
                                lfv[lo + nf] = v
                                nf += 1
                            else:
                                if L != 0 and L != 65535:
                                    cc[i] = 0
                                V[i] = leak(v, a_k[area], floating)
                        for j in range(n_forced):
                            i = forced[j]
                            if lo <= i < hi:
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
                        # clear the range's FCL; its candidates are the next membrane reset's
                        for j in range(lc):
                            i = lcand[lo + j]
                            acc[i] = 0
                            flag[i] = 0
                            lprev[lo + j] = i
                        lpcnt[p] = lc
                    lrcnt[p] = nr
                    lfcnt[p] = nf
        # fired set: ranges in ascending order; the fan-out prefix of the next fire queue
        tot = 0
        for p in range(P):
            fq_off[p] = tot
            tot += lfcnt[p]
        fq_off[P] = tot
        for p in prange(P):
            lo = bounds[p]
            o = fq_off[p]
            for j in range(lfcnt[p]):
                i = lfired[lo + j]
                fq[o + j] = i
                fq_v[o + j] = lfv[lo + j]
                out_ids[n_out + o + j] = i
                out_v[n_out + o + j] = lfv[lo + j]
                cum[o + j + 1] = syn_ptr[i + 1] - syn_ptr[i]
        cum[0] = 0
        for j in range(tot):
            cum[j + 1] += cum[j]
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
