"""Morphologies → voxel-to-voxel connection lists, vectorised with numpy, exactly as FEAGI.

Every function returns the candidate connections of one mapping rule as two int64 arrays of *linear
voxel indices* ``(src_voxel, dst_voxel)`` where ``lin = (x·H + y)·D + z`` for an area of dims
``(W, H, D)``, in FEAGI's creation order: source voxel ascending, then the morphology's own order.
The caller expands voxels to neurons (every neuron of a source voxel emits; only the last neuron of a
destination voxel receives, FEAGI's coordinate→neuron map keeps the highest ID).

Sources: ``feagi-brain-development/src/connectivity/core_morphologies/{vectors,patterns,projector}.rs``
and ``connectivity/rules/*.rs`` (see reference notes §2.4), checked against the release engine with
the oracle fixtures under ``tests/fixtures/connectome``.
"""

from __future__ import annotations

import numpy as np

Dims = tuple[int, int, int]


def linear(dims: Dims, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Linear voxel index ``(x·H + y)·D + z`` (int64 arrays of equal shape)."""
    _, h, d = dims
    return (x.astype(np.int64) * h + y) * d + z


def _product(rel: list[tuple[np.ndarray, np.ndarray]], sdims: Dims, ddims: Dims):
    """Cartesian product of per-axis relations ``[(src_coords, dst_coords)] * 3``.

    Returns ``(src_lin, dst_lin)`` ordered by source voxel, then destination x, y, z.
    """
    (sx, dx), (sy, dy), (sz, dz) = rel
    if len(sx) == 0 or len(sy) == 0 or len(sz) == 0:
        e = np.empty(0, np.int64)
        return e, e
    ix, iy, iz = np.meshgrid(np.arange(len(sx)), np.arange(len(sy)), np.arange(len(sz)),
                             indexing="ij")
    ix, iy, iz = ix.ravel(), iy.ravel(), iz.ravel()
    src = linear(sdims, sx[ix], sy[iy], sz[iz])
    dst = linear(ddims, dx[ix], dy[iy], dz[iz])
    order = np.lexsort((dst, src))
    return src[order], dst[order]


def projector_axis(s: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """One axis of FEAGI's projector: pairs ``(l, t)`` of source and destination coordinates.

    IEEE single-precision arithmetic, as ``rules/projector.rs::syn_projector``:
    ``s > d``: ``t = trunc(f32(l) / (f32(s)/f32(d)))`` kept if ``t < d``;
    ``s < d``: every ``u`` with ``trunc(f32(u) / (f32(d)/f32(s))) == l``; ``s == d``: ``t = l``.

    Returns:
        two int64 arrays sorted by source then destination coordinate.
    """
    if s == d:
        a = np.arange(s, dtype=np.int64)
        return a, a.copy()
    if s > d:
        ratio = np.float32(s) / np.float32(d)
        src = np.arange(s, dtype=np.int64)
        t = np.trunc(src.astype(np.float32) / ratio).astype(np.int64)
        keep = t < d
        return src[keep], t[keep]
    ratio = np.float32(d) / np.float32(s)
    u = np.arange(d, dtype=np.int64)
    l = np.trunc(u.astype(np.float32) / ratio).astype(np.int64)  # noqa: E741
    keep = l < s
    order = np.lexsort((u[keep], l[keep]))
    return l[keep][order], u[keep][order]


def projector(sdims: Dims, ddims: Dims):
    """Function morphology ``projector`` (separable per axis, no de-duplication)."""
    return _product([projector_axis(s, d) for s, d in zip(sdims, ddims)], sdims, ddims)


def tile(sdims: Dims, ddims: Dims):
    """Morphology id ``tile`` (of type ``composite`` or ``functions``) as the release engine builds
    it (oracle, 2026-12-03; ``src_seed``, ``src_pattern`` and ``mapper_morphology`` do not change
    the result): the smaller area is tiled over the larger one by coordinates modulo its dims.

    - more source voxels than destination voxels: every source voxel ``(x, y, z)`` connects to
      destination ``(x mod W_d, y mod H_d, z mod D_d)``;
    - otherwise (equal counts included): every destination voxel ``(x, y, z)`` receives from
      source ``(x mod W_s, y mod H_s, z mod D_s)``, so source voxels outside the destination's
      range stay unconnected.

    Returns ``(src_lin, dst_lin)`` by source voxel, then destination voxel.
    """
    drive, other = (sdims, ddims) if np.prod(sdims) > np.prod(ddims) else (ddims, sdims)
    x, y, z = (a.ravel() for a in np.meshgrid(*(np.arange(n, dtype=np.int64) for n in drive),
                                              indexing="ij"))
    here = linear(drive, x, y, z)
    there = linear(other, x % other[0], y % other[1], z % other[2])
    src, dst = (here, there) if drive is sdims else (there, here)
    order = np.lexsort((dst, src))
    return src[order], dst[order]


def _pattern_axis(src_el, dst_el, s: int, d: int):
    """Relation of one axis of one pattern pair: which (source, destination) coordinates match."""
    srcs = np.arange(s, dtype=np.int64) if not isinstance(src_el, int) else (
        np.array([src_el], np.int64) if 0 <= src_el < s else np.empty(0, np.int64))
    all_d = np.arange(d, dtype=np.int64)
    if dst_el == "*":
        ps = np.repeat(srcs, d)
        pd = np.tile(all_d, len(srcs))
    elif dst_el == "?":
        keep = srcs < d
        ps, pd = srcs[keep], srcs[keep].copy()
    elif dst_el == "!":
        ps = np.repeat(srcs, d)
        pd = np.tile(all_d, len(srcs))
        keep = ps != pd
        ps, pd = ps[keep], pd[keep]
    else:
        if 0 <= dst_el < d:
            ps, pd = srcs, np.full(len(srcs), dst_el, np.int64)
        else:
            ps = pd = np.empty(0, np.int64)
    return ps, pd


def patterns(pairs, sdims: Dims, ddims: Dims):
    """``patterns`` morphology: union over matching pairs, sorted and de-duplicated per source.

    Args:
        pairs: ``((src_pattern, dst_pattern), …)`` with elements int / ``"*"`` / ``"?"`` / ``"!"``;
            negative integers must have been rejected by the caller.

    Source: ``core_morphologies/patterns.rs::apply_patterns_morphology``.
    """
    srcs, dsts = [], []
    for sp, dp in pairs:
        rel = [_pattern_axis(sp[a], dp[a], sdims[a], ddims[a]) for a in range(3)]
        s, d = _product(rel, sdims, ddims)
        srcs.append(s)
        dsts.append(d)
    if not srcs:
        e = np.empty(0, np.int64)
        return e, e
    s = np.concatenate(srcs)
    d = np.concatenate(dsts)
    nd = ddims[0] * ddims[1] * ddims[2]
    key = np.unique(s * nd + d)
    return key // nd, key % nd


def vectors(vecs, sdims: Dims, ddims: Dims):
    """``vectors`` morphology: for each source voxel, each vector in list order, ``q = p + v``
    kept if inside the destination. De-duplication against existing synapses is the caller's job.

    Source: ``core_morphologies/vectors.rs::apply_vectors_morphology_with_dimensions``.
    """
    w, h, d = sdims
    nvox = w * h * d
    lin = np.arange(nvox, dtype=np.int64)
    x, rem = np.divmod(lin, h * d)
    y, z = np.divmod(rem, d)
    srcs, dsts, order_v = [], [], []
    for vi, (vx, vy, vz) in enumerate(vecs):
        qx, qy, qz = x + vx, y + vy, z + vz
        keep = ((qx >= 0) & (qx < ddims[0]) & (qy >= 0) & (qy < ddims[1])
                & (qz >= 0) & (qz < ddims[2]))
        srcs.append(lin[keep])
        dsts.append(linear(ddims, qx[keep], qy[keep], qz[keep]))
        order_v.append(np.full(int(keep.sum()), vi, np.int64))
    if not srcs:
        e = np.empty(0, np.int64)
        return e, e
    s, dd, v = np.concatenate(srcs), np.concatenate(dsts), np.concatenate(order_v)
    order = np.lexsort((v, s))
    return s[order], dd[order]
