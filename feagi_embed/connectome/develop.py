"""Neuroembryogenesis: :class:`Genome` → :class:`Connectome`, exactly as the FEAGI engine.

Source: ``feagi-brain-development/src/neuroembryogenesis.rs::develop_from_genome`` (neurogenesis,
synaptogenesis) and ``connectome_manager.rs::apply_cortical_mapping`` (order, weights); behaviour
confirmed against the release engine (``tests/fixtures/connectome``).
"""

from __future__ import annotations

import numpy as np

from .. import limits
from ..errors import Diagnostics, GenomeError
from ..genome.model import CorticalArea, Genome, MappingRule
from . import morphology as morph
from .model import Connectome, DevelopedRule

#: Functions FEAGI's synaptogenesis does not implement (0 synapses).
_MEMORY_FUNCTIONS = {"episodic_memory", "memory_replay"}


def _thresholds(area: CorticalArea, x, y, z) -> np.ndarray:
    """f32 thresholds ``((thr0 + x·ix) + y·iy) + z·iz`` (gradient only if some |inc| > f32 eps)."""
    f32 = np.float32
    thr0 = f32(area.firing_threshold)
    ix, iy, iz = (f32(v) for v in area.threshold_increment)
    eps = np.finfo(np.float32).eps
    n = x.shape[0]
    if max(abs(ix), abs(iy), abs(iz)) <= eps:
        return np.full(n, thr0, dtype=np.float32)
    t = thr0 + x.astype(np.float32) * ix
    t = t + y.astype(np.float32) * iy
    t = t + z.astype(np.float32) * iz
    return t.astype(np.float32)


def synapse_bound(m, sdims, ddims) -> int:
    """Upper bound on the synapses one rule of morphology ``m`` makes per source neuron of each
    voxel (multiply by the source's neurons per voxel), computed from the dims alone so
    synaptogenesis can refuse it (``limits.max_synapses``) before allocating anything.

    Vectors: source voxels × vectors; patterns: per pair the product over axes of matching
    (source, destination) coordinate pairs; projector: the product of max(s, d) per axis;
    block_to_block: source voxels; tile: the larger area's voxels; other functions and
    composites make none.
    """
    nvox = sdims[0] * sdims[1] * sdims[2]
    if m.type == "vectors":
        return nvox * len(m.vectors)
    if m.type == "patterns":
        total = 0
        for sp, dp in m.patterns:
            prod = 1
            for a in range(3):
                ns_ = 1 if isinstance(sp[a], int) else sdims[a]
                nd_ = ddims[a] if dp[a] in ("*", "!") else 1
                prod *= ns_ * nd_
            total += prod
        return total
    if m.type == "functions" and m.id in ("projector", "associative_memory"):
        return max(sdims[0], ddims[0]) * max(sdims[1], ddims[1]) * max(sdims[2], ddims[2])
    if m.type == "functions" and m.id == "block_to_block":
        return nvox
    if m.id == "tile" and m.type in ("functions", "composite"):
        return max(nvox, ddims[0] * ddims[1] * ddims[2])
    return 0


class _Synaptogenesis:
    def __init__(self, genome: Genome, areas, area_first, diag: Diagnostics, seed: int):
        self.genome = genome
        self.areas = areas
        self.first = area_first
        self.diag = diag
        self.seed = seed
        self.index = {a.cortical_id: i for i, a in enumerate(areas)}
        self.chunks: list[tuple[np.ndarray, ...]] = []
        self.n_total = int(area_first[-1])
        self.n_made = 0
        self.rules: list[DevelopedRule] = []  # one per chunk, same order

    def run(self) -> tuple[np.ndarray, ...]:
        for si, src in enumerate(self.areas):
            self.source_area(si, src)
        if not self.chunks:
            e = np.empty(0, np.uint32)
            return (e, e.copy(), np.empty(0, np.int32), np.empty(0, np.float32), np.empty(0, bool),
                    np.empty(0, np.int32))
        cols = list(zip(*self.chunks))
        rule_of = np.repeat(np.arange(len(self.chunks), dtype=np.int32),
                            [len(ch[0]) for ch in self.chunks])
        return (np.concatenate(cols[0]).astype(np.uint32), np.concatenate(cols[1]).astype(np.uint32),
                np.concatenate(cols[2]), np.concatenate(cols[3]), np.concatenate(cols[4]), rule_of)

    def source_area(self, si: int, src: CorticalArea) -> None:
        for mapping in src.mappings:
            di = self.index[mapping.destination]
            dst = self.areas[di]
            for ri, rule in enumerate(mapping.rules):
                ok = self.rule(si, src, di, dst, rule, ri)
                if not ok:  # FEAGI aborts the remaining mappings of this source area
                    return

    def check_bound(self, bound: int, path) -> None:
        """Refuse a rule whose synapse upper bound would pass ``limits.max_synapses``."""
        cap = limits.current().max_synapses
        if self.n_made + bound > cap:
            raise GenomeError(self.genome.path, path, f"up to {bound:,} synapses from this rule "
                              f"(after {self.n_made:,})", f"at most {cap:,} synapses in all "
                              f"({limits.hint('max_synapses')})")

    def rule(self, si, src, di, dst, rule: MappingRule, ri: int) -> bool:
        m = self.genome.morphologies.get(rule.morphology_id)
        path = rule.key_path
        if m is None:
            self.diag.warn("mapping-aborted", path,
                           f"undefined morphology {rule.morphology_id!r}: FEAGI stops building the "
                           f"remaining mappings of {src.genome_id!r} (synapses made so far are kept)")
            return False
        if rule.plasticity_flag and not rule.has_plasticity_window:
            self.diag.warn("mapping-aborted", path,
                           "plastic rule without a plasticity window (4- or 7-element array): "
                           "FEAGI's STDP registration fails, so it creates no synapses and stops "
                           f"building the remaining mappings of {src.genome_id!r}")
            return False
        pairs = self._voxel_pairs(m, src, dst, path)
        if isinstance(pairs, bool):
            return pairs
        s_neu, d_neu = self._neuron_pairs(si, src, di, dst, *pairs)
        n_candidates = s_neu.shape[0]
        s_neu, d_neu = self._dedupe(m, s_neu, d_neu)
        deduped = s_neu.shape[0] != n_candidates
        if rule.synapse_attractivity < 100:
            rng = np.random.default_rng([self.seed, si, di, ri])
            draw = rng.integers(0, 100, size=s_neu.shape[0])
            keep = draw < rule.synapse_attractivity
            s_neu, d_neu = s_neu[keep], d_neu[keep]

        n = s_neu.shape[0]
        self.n_made += n
        self.chunks.append((s_neu, d_neu, np.full(n, rule.weight, np.int32),
                            np.full(n, np.float32(src.postsynaptic_current), np.float32),
                            np.full(n, rule.inhibitory, bool)))
        self.rules.append(DevelopedRule(si, di, m, rule.weight, rule.inhibitory,
                                        rule.synapse_attractivity, deduped, str(path)))
        return True

    def _voxel_pairs(self, m, src, dst, path):
        """``(source voxels, destination voxels)`` of a morphology between two areas (in the
        engine's order and multiplicity), or ``False`` (FEAGI aborts the source's remaining
        mappings) / ``True`` (FEAGI makes no synapses for it) with a warning."""
        sd, dd = src.dims, dst.dims
        self.check_bound(synapse_bound(m, sd, dd) * src.neurons_per_voxel, path)
        if m.type == "vectors":
            sv, dv = morph.vectors(m.vectors, sd, dd)
        elif m.type == "patterns":
            if any(isinstance(e, int) and e < 0 for pair in m.patterns for side in pair for e in side):
                self.diag.warn("mapping-aborted", path,
                               f"pattern morphology {m.id!r} has a negative coordinate: FEAGI stops "
                               f"building the remaining mappings of {src.genome_id!r}")
                return False
            sv, dv = morph.patterns(m.patterns, sd, dd)
        elif m.id == "tile" and m.type in ("functions", "composite"):
            sv, dv = morph.tile(sd, dd)  # the release engine builds it by id (oracle)
        elif m.type == "functions":
            if m.id == "projector":
                sv, dv = morph.projector(sd, dd)
            elif m.id == "block_to_block":
                if src.voxel_count > 100_000:
                    self.diag.warn("block-to-block-batched", path,
                                   "FEAGI's batched block_to_block (source > 100,000 voxels) packs "
                                   "y/z into 8 bits; feagi-embed applies the unbatched rule")
                # the release engine builds the function form like its core vector [0,0,0]:
                # voxels outside the destination are dropped, not clamped onto its edge (oracle
                # 2026-12-03, tests/fixtures/random; HEAD's source clamps)
                sv, dv = morph.vectors(((0, 0, 0),), sd, dd)
            elif m.id == "associative_memory":
                if src.cortical_id.kind == "memory" and dst.cortical_id.kind == "memory":
                    sv, dv = morph.projector(sd, dd)
                else:
                    self.diag.warn("function-no-synapses", path,
                                   "associative_memory between non-memory areas: FEAGI creates "
                                   "0 synapses (plasticity only)")
                    return True
            else:
                what = ("memory function (plasticity)" if m.id in _MEMORY_FUNCTIONS
                        else "function morphology not implemented by FEAGI")
                self.diag.warn("function-no-synapses", path,
                               f"{m.id!r}: {what}; FEAGI creates 0 synapses for it")
                return True
        elif m.type == "none":  # typeless pre-2.0 morphology: defined, no synapses (oracle)
            return True
        else:  # composite
            self.diag.warn("function-no-synapses", path,
                           f"composite morphology {m.id!r}: FEAGI creates 0 synapses for it")
            return True

        return sv, dv

    def _neuron_pairs(self, si, src, di, dst, sv, dv):
        """Voxel pairs → neuron id pairs."""
        # voxels → neurons: every neuron of a source voxel emits; the last neuron of a
        # destination voxel receives (FEAGI's coordinate map keeps the highest id).
        ns, nd = src.neurons_per_voxel, dst.neurons_per_voxel
        if ns > 1:
            s_all = np.concatenate([sv * ns + k for k in range(ns)])
            order = np.argsort(s_all, kind="stable")  # source neuron, then morphology order
            s_neu = self.first[si] + s_all[order]
            d_vox = np.tile(dv, ns)[order]
        else:
            s_neu = self.first[si] + sv
            d_vox = dv
        d_neu = self.first[di] + d_vox * nd + (nd - 1)
        s_neu = s_neu.astype(np.int64)
        d_neu = d_neu.astype(np.int64)

        return s_neu, d_neu

    def _dedupe(self, m, s_neu, d_neu):
        """The release engine's de-duplication: a vector rule's pairs within the rule only.
        Pairs an earlier rule already connected are connected again (oracle 2026-12-03: a
        ``[0,0,0]`` vector rule after a projector, block_to_block or another vector rule to the
        same area duplicates every synapse; HEAD's source also checks earlier synapses)."""
        if m.type == "vectors":
            keys = s_neu * self.n_total + d_neu
            _, first_idx = np.unique(keys, return_index=True)
            keep = np.zeros(keys.shape[0], bool)
            keep[first_idx] = True
            s_neu, d_neu = s_neu[keep], d_neu[keep]

        return s_neu, d_neu


def develop(genome: Genome, *, strict: bool = False, seed: int = 0) -> Connectome:
    """Develop a genome into its connectome (neurogenesis + synaptogenesis).

    Args:
        genome: a parsed genome (:func:`feagi_embed.genome.load_genome`).
        strict: turn development warnings (rules that make 0 synapses, aborted mappings …) into
            :class:`~feagi_embed.errors.GenomeError`.
        seed: seed of the PRNG used only for rules with synapse attractivity < 100 (FEAGI uses an
            OS-seeded generator there, so no seed reproduces it).

    Returns:
        :class:`Connectome`. Neurons: every area gets ``W·H·D·npv`` neurons (core areas exactly 1).
        Synapses: in FEAGI's creation order (source areas canonical, destinations ascending ID,
        rules in genome order, morphology order).

    Raises:
        GenomeError: in strict mode, on the first development warning.
    """
    diag = Diagnostics(file=genome.path, strict=strict)
    areas = genome.areas
    sizes = [a.voxel_count * a.neurons_per_voxel for a in areas]
    limits.check_count("max_neurons", sum(sizes), "neurons", genome.path)
    counts = np.array(sizes, dtype=np.int64)
    first = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    n = int(first[-1])
    neuron_area = np.repeat(np.arange(len(areas), dtype=np.uint16), counts)
    xs = np.empty(n, np.uint32)
    ys = np.empty(n, np.uint32)
    zs = np.empty(n, np.uint32)
    ks = np.empty(n, np.uint32)
    thr = np.empty(n, np.float32)
    for i, a in enumerate(areas):
        w, h, d = a.dims
        npv = a.neurons_per_voxel
        local = np.arange(counts[i], dtype=np.int64)
        vox, k = np.divmod(local, npv)
        x, rem = np.divmod(vox, h * d)
        y, z = np.divmod(rem, d)
        sl = slice(first[i], first[i + 1])
        xs[sl], ys[sl], zs[sl], ks[sl] = x, y, z, k
        thr[sl] = _thresholds(a, x, y, z)
    syn = _Synaptogenesis(genome, areas, first, diag, seed)
    src, dst, w, psp, inh, rule_of = syn.run()
    return Connectome(genome=genome, areas=areas, area_first=first, neuron_area=neuron_area,
                      neuron_x=xs, neuron_y=ys, neuron_z=zs, neuron_k=ks, threshold=thr,
                      synapse_src=src, synapse_dst=dst, synapse_weight=w, synapse_psp=psp,
                      synapse_inhibitory=inh, warnings=genome.warnings + tuple(diag.warnings),
                      synapse_rule=rule_of, rules=tuple(syn.rules))
