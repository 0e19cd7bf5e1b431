/* feagi_procedural.h - procedural synapses: expand the compact rule records of feagi_model.c
 * during propagation (docs/model.md §8, feagi_embed/plan/procedural.py).
 *
 * Included by feagi_runtime.c after add_cand() (it uses the runtime's static helpers); it defines
 * nothing unless the model has rule records (FEAGI_N_RULES). Integer-only, no allocation.
 *
 * A fired source neuron i of area a is expanded in row order: the area's rules before its table
 * row ([area_rule_first[a], area_rule_split[a]), flag RF_AFTER clear), then the table row, then
 * the rules after it ([area_rule_split[a], area_rule_first[a + 1]), RF_AFTER set). A rule sends one contribution C to every target:
 *  - axis rule (flag RF_VECTORS clear; RF_RANGES: every list is a range of consecutive values): rule_arg[3r..3r+2] are the offsets in rule_axp of the x,
 *    y and z lists; the list of source coordinate s is rule_axv[axp[off + s] .. axp[off + s + 1]]
 *    (ascending destination coordinates). Targets: every (u, v, w) of the three lists of the
 *    neuron's voxel (x, y, z), u outermost, w innermost (ascending linear voxel index);
 *    RF_SINGLE (every list at most one coordinate: block_to_block, shrinking projectors): the
 *    arg offsets point into rule_lin instead, whose x, y, z entries are the partial target
 *    offsets (x includes first + npv - 1); the target is their sum (none if one is LIN_NONE);
 *  - vectors rule: rule_arg[3r] is the first offset triple in rule_vec, rule_arg[3r+1] their
 *    count; target voxel (x+dx, y+dy, z+dz) when inside the destination area, in list order.
 * The target neuron of a destination voxel is its last one: first + lin * npv + npv - 1. */
#ifndef FEAGI_PROCEDURAL_H
#define FEAGI_PROCEDURAL_H

#ifdef FEAGI_N_RULES
#if FEAGI_PRECISION_FP32
#error "procedural synapses carry fixed-point contributions only: build fp32 models with --synapses table"
#endif
#define RF_VECTORS 1u
#define RF_AFTER 2u
#define RF_RANGES 4u
#define RF_SINGLE 8u
#define LIN_NONE ((uint32_t)FEAGI_LIN_NONE) /* rule_lin: the largest value of its type */
/* the contribution of rule r: rule_c holds C / FEAGI_RULE_C_SCALE exactly (same wrap as syn_c) */
#define RULE_C(r) wrap32((uint32_t)(int32_t)FEAGI_GET_RULE_C(r) * (uint32_t)FEAGI_RULE_C_SCALE)

/* add c to target t (a candidate now): procedural targets are synapse targets, so never in the
 * accumulator hole (plan/tables.py counts every synapse, table or rule, as targeting) */
static void proc_add(uint32_t t, int32_t c)
{
    BM_SET(BM_CAND, t);
#if FEAGI_HOLE_HI > FEAGI_HOLE_LO
    if (t >= (uint32_t)FEAGI_HOLE_HI) t -= HOLE_W;
#endif
    st_acc[t] = wrap32((uint32_t)st_acc[t] + (uint32_t)c);
}

/* candidate bits [t, t + count) of consecutive neurons: whole words at once */
static void proc_bits(uint32_t t, uint32_t count)
{
    uint32_t *w = &st_bits[BM_CAND * BM_WORDS + (t >> 5)];
    uint32_t lo = t & 31u;
    while (count != 0u) {
        uint32_t k = 32u - lo;
        if (k > count) k = count;
        *w++ |= (k == 32u ? 0xFFFFFFFFu : (((uint32_t)1u << (uint8_t)k) - 1u)) << (uint8_t)lo;
        count -= k;
        lo = 0u;
    }
}

/* c to the neurons t, t + nd, ..., count of them (one run of consecutive voxels of one area:
 * all on the same side of the accumulator hole, so its accumulator offset is found once). The
 * sum is taken in uint32 through an unsigned alias of the int32 element (as propagate_table: the
 * same wrap32 addition); one neuron per voxel (nd = 1): the candidate bits are set a word at a
 * time and the accumulator loop is a plain stride-1 add. */
static void proc_run(uint32_t t, uint32_t count, uint32_t nd, uint32_t c)
{
    uint32_t k = t, j;
    uint32_t *acc;
#if FEAGI_HOLE_HI > FEAGI_HOLE_LO
    if (t >= (uint32_t)FEAGI_HOLE_HI) k -= HOLE_W;
#endif
    acc = (uint32_t *)&st_acc[k];
    if (nd == 1u) {
        proc_bits(t, count);
        for (j = 0; j < count; j++) acc[j] += c;
        return;
    }
    {
        uint32_t *cand = &st_bits[BM_CAND * BM_WORDS];
        for (j = 0; j < count; j++, t += nd, acc += nd) {
            *acc += c;
            cand[t >> 5] |= BM_MASK(t);
        }
    }
}

#if defined(__GNUC__)
#define PROC_COLD __attribute__((noinline)) /* rare paths out of the hot loop's registers */
#else
#define PROC_COLD
#endif

/* the targets of one RF_RANGES axis rule (every list a range of consecutive coordinates:
 * projector, block_to_block, "*", "?" and fixed patterns) for source voxel (x, y, z), walked as
 * runs of consecutive voxels: a z range spanning the whole depth merges with y, and a y range
 * spanning the whole height with x. (x, y, z) are already offset by the rule's list offsets. */
static void proc_ranges(uint32_t ox, uint32_t oy, uint32_t oz, uint16_t da, int32_t c)
{
    uint32_t u0 = (uint32_t)FEAGI_GET_RULE_AXP(ox), nx = (uint32_t)FEAGI_GET_RULE_AXP(ox + 1u) - u0;
    uint32_t v0 = (uint32_t)FEAGI_GET_RULE_AXP(oy), ny = (uint32_t)FEAGI_GET_RULE_AXP(oy + 1u) - v0;
    uint32_t w0 = (uint32_t)FEAGI_GET_RULE_AXP(oz), nz = (uint32_t)FEAGI_GET_RULE_AXP(oz + 1u) - w0;
    uint32_t hd, dd, nd, t, so, si, o, q;
    if (nx == 0u || ny == 0u || nz == 0u) return;
    hd = (uint32_t)FEAGI_GET_AREA_H(da);
    dd = (uint32_t)FEAGI_GET_AREA_D(da);
    nd = (uint32_t)FEAGI_GET_AREA_NPV(da);
    /* first target: voxel (u0, v0, w0) of the lists; runs of nz voxels, ny per u, nx of u */
    t = (uint32_t)FEAGI_GET_AREA_FIRST(da) + nd - 1u +
        (((uint32_t)FEAGI_GET_RULE_AXV(u0) * hd + (uint32_t)FEAGI_GET_RULE_AXV(v0)) * dd +
         (uint32_t)FEAGI_GET_RULE_AXV(w0)) * nd;
    so = hd * dd * nd;
    si = dd * nd;
    if (nz == dd) { /* full depth: one run per u covers the y range (v0 = w0 = 0 there) */
        nz *= ny;
        ny = 1u;
        if (nz == hd * dd) { /* full height too: one run for all of u */
            nz *= nx;
            nx = 1u;
        }
    }
    for (o = 0; o < nx; o++, t += so)
        for (q = 0; q < ny; q++) proc_run(t + q * si, nz, nd, (uint32_t)c);
}

/* the targets of one axis rule whose lists are not all ranges, for source voxel (x, y, z)
 * (list offsets applied as in proc_ranges): c to each, u outermost, w innermost */
PROC_COLD static void proc_lists(uint32_t ox, uint32_t oy, uint32_t oz, uint16_t da, int32_t c)
{
    uint32_t hd = (uint32_t)FEAGI_GET_AREA_H(da), dd = (uint32_t)FEAGI_GET_AREA_D(da);
    uint32_t nd = (uint32_t)FEAGI_GET_AREA_NPV(da);
    uint32_t base = (uint32_t)FEAGI_GET_AREA_FIRST(da) + nd - 1u;
    uint32_t u0 = (uint32_t)FEAGI_GET_RULE_AXP(ox), u1 = (uint32_t)FEAGI_GET_RULE_AXP(ox + 1u);
    uint32_t v0 = (uint32_t)FEAGI_GET_RULE_AXP(oy), v1 = (uint32_t)FEAGI_GET_RULE_AXP(oy + 1u);
    uint32_t w0 = (uint32_t)FEAGI_GET_RULE_AXP(oz), w1 = (uint32_t)FEAGI_GET_RULE_AXP(oz + 1u);
    uint32_t ku, kv, kw;
    for (ku = u0; ku < u1; ku++) {
        uint32_t tu = (uint32_t)FEAGI_GET_RULE_AXV(ku) * hd;
        for (kv = v0; kv < v1; kv++) {
            uint32_t t0 = base + (tu + (uint32_t)FEAGI_GET_RULE_AXV(kv)) * dd * nd;
            for (kw = w0; kw < w1; kw++) proc_add(t0 + (uint32_t)FEAGI_GET_RULE_AXV(kw) * nd, c);
        }
    }
}

/* the targets of one vectors rule for source voxel (x, y, z): c to each inside the area */
PROC_COLD static void proc_vectors(uint32_t r, uint32_t x, uint32_t y, uint32_t z, uint16_t da,
                                   int32_t c)
{
    uint32_t wd = (uint32_t)FEAGI_GET_AREA_W(da), hd = (uint32_t)FEAGI_GET_AREA_H(da);
    uint32_t dd = (uint32_t)FEAGI_GET_AREA_D(da), nd = (uint32_t)FEAGI_GET_AREA_NPV(da);
    uint32_t base = (uint32_t)FEAGI_GET_AREA_FIRST(da) + nd - 1u;
    uint32_t k = 3u * (uint32_t)FEAGI_GET_RULE_ARG(3u * r);
    uint32_t end = k + 3u * (uint32_t)FEAGI_GET_RULE_ARG(3u * r + 1u);
    for (; k < end; k += 3u) {
        /* unsigned wrap: a negative coordinate becomes >= the dimension */
        uint32_t u = x + (uint32_t)(int32_t)FEAGI_GET_RULE_VEC(k);
        uint32_t v = y + (uint32_t)(int32_t)FEAGI_GET_RULE_VEC(k + 1u);
        uint32_t w = z + (uint32_t)(int32_t)FEAGI_GET_RULE_VEC(k + 2u);
        if (u < wd && v < hd && w < dd) proc_add(base + ((u * hd + v) * dd + w) * nd, c);
    }
}

/* expand rules [r, r1) of source neuron i (area a): its rules before the table row
 * ([area_rule_first[a], area_rule_split[a])) or after it ([area_rule_split[a],
 * area_rule_first[a + 1])); rt != 0: run-time PSP source, C = runtime_contribution(rule w, p, n)
 * per rule. Called through FEAGI_PROC_RULES only when the range is not empty. */
static void feagi_proc_rules(uint32_t r, uint32_t r1, uint16_t a, uint32_t i, int32_t p,
                             uint32_t n, uint8_t rt)
{
    uint32_t h = (uint32_t)FEAGI_GET_AREA_H(a), d = (uint32_t)FEAGI_GET_AREA_D(a);
    uint32_t vox = (i - (uint32_t)FEAGI_GET_AREA_FIRST(a)) / (uint32_t)FEAGI_GET_AREA_NPV(a);
    uint32_t x = vox / (h * d), y = (vox / d) % h, z = vox % d;
    for (; r < r1; r++) {
        uint8_t fl = FEAGI_GET_RULE_FLAGS(r);
        uint32_t ox, oy, oz;
        int32_t c;
#if FEAGI_HAS_RUNTIME_PSP
        c = rt != 0u ? runtime_contribution((int32_t)FEAGI_GET_RULE_W(r), p, n) : RULE_C(r);
#else
        (void)p;
        (void)n;
        (void)rt;
        c = RULE_C(r);
#endif
        if ((fl & RF_VECTORS) != 0u) {
            proc_vectors(r, x, y, z, (uint16_t)FEAGI_GET_RULE_DST(r), c);
            continue;
        }
        ox = (uint32_t)FEAGI_GET_RULE_ARG(3u * r) + x;
        oy = (uint32_t)FEAGI_GET_RULE_ARG(3u * r + 1u) + y;
        oz = (uint32_t)FEAGI_GET_RULE_ARG(3u * r + 2u) + z;
        if ((fl & RF_SINGLE) != 0u) { /* at most one target: the sum of three table entries */
            uint32_t tx = (uint32_t)FEAGI_GET_RULE_LIN(ox);
            uint32_t ty = (uint32_t)FEAGI_GET_RULE_LIN(oy);
            uint32_t tz = (uint32_t)FEAGI_GET_RULE_LIN(oz);
            if (tx != LIN_NONE && ty != LIN_NONE && tz != LIN_NONE) proc_add(tx + ty + tz, c);
        } else if ((fl & RF_RANGES) != 0u) {
            proc_ranges(ox, oy, oz, (uint16_t)FEAGI_GET_RULE_DST(r), c);
        } else {
            proc_lists(ox, oy, oz, (uint16_t)FEAGI_GET_RULE_DST(r), c);
        }
    }
}
/* step 5's per-area cache of the rule ranges (declared once before the loop over the fired set;
 * loaded when the area changes, so a fired neuron of an area without rules costs one compare) */
#define FEAGI_PROC_DECL uint32_t pr0_ = 0u, prs_ = 0u, pr1_ = 0u; uint16_t pra_ = 0xFFFFu
#define FEAGI_PROC_AREA(a)                                                                      \
    do {                                                                                        \
        if ((a) != pra_) {                                                                      \
            pra_ = (a);                                                                         \
            pr0_ = (uint32_t)FEAGI_GET_AREA_RULE_FIRST(a);                                      \
            prs_ = (uint32_t)FEAGI_GET_AREA_RULE_SPLIT(a);                                      \
            pr1_ = (uint32_t)FEAGI_GET_AREA_RULE_FIRST((a) + 1u);                               \
        }                                                                                       \
    } while (0)
/* the rules of fired neuron i of area a (FEAGI_PROC_AREA(a) done) before (after = 0) or after
 * (1) its table row */
#define FEAGI_PROC_RULES(a, i, after, p, n, rt)                                                  \
    do {                                                                                        \
        uint32_t r0_ = (after) ? prs_ : pr0_, r1_ = (after) ? pr1_ : prs_;                      \
        if (r0_ != r1_) feagi_proc_rules(r0_, r1_, (a), (i), (p), (n), (rt));                   \
    } while (0)
#else
#define FEAGI_PROC_DECL
#define FEAGI_PROC_AREA(a) ((void)0)
#define FEAGI_PROC_RULES(a, i, after, p, n, rt) ((void)0)
#endif

#endif
