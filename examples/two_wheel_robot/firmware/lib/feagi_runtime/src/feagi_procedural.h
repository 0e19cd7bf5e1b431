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
#define LIN_NONE 0xFFFFFFFFu

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

/* c to the targets base + (start + j) * nd, j < count (one run of consecutive voxels of one
 * area: all on the same side of the accumulator hole, so its accumulator offset is found once) */
static void proc_run(uint32_t base, uint32_t start, uint32_t count, uint32_t nd, int32_t c)
{
    uint32_t t = base + start * nd, end = t + count * nd, k = t;
#if FEAGI_HOLE_HI > FEAGI_HOLE_LO
    if (t >= (uint32_t)FEAGI_HOLE_HI) k -= HOLE_W;
#endif
    for (; t < end; t += nd, k += nd) {
        BM_SET(BM_CAND, t);
        st_acc[k] = wrap32((uint32_t)st_acc[k] + (uint32_t)c);
    }
}

/* the targets of one axis rule for source voxel (x, y, z): c to each. RF_RANGES rules (every
 * list a range of consecutive coordinates: projector, block_to_block, "*", "?" and fixed
 * patterns) are walked as runs of consecutive voxels: a z range spanning the whole depth merges
 * with y, and a y range spanning the whole height with x. */
static void proc_axis(uint32_t r, uint8_t fl, uint32_t x, uint32_t y, uint32_t z, uint32_t base,
                      uint32_t hd, uint32_t dd, uint32_t nd, int32_t c)
{
    uint32_t ox = (uint32_t)FEAGI_GET_RULE_ARG(3u * r) + x;
    uint32_t oy = (uint32_t)FEAGI_GET_RULE_ARG(3u * r + 1u) + y;
    uint32_t oz = (uint32_t)FEAGI_GET_RULE_ARG(3u * r + 2u) + z;
    uint32_t u0 = (uint32_t)FEAGI_GET_RULE_AXP(ox), u1 = (uint32_t)FEAGI_GET_RULE_AXP(ox + 1u);
    uint32_t v0 = (uint32_t)FEAGI_GET_RULE_AXP(oy), v1 = (uint32_t)FEAGI_GET_RULE_AXP(oy + 1u);
    uint32_t w0 = (uint32_t)FEAGI_GET_RULE_AXP(oz), w1 = (uint32_t)FEAGI_GET_RULE_AXP(oz + 1u);
    uint32_t ku, kv, kw;
    if (u0 == u1 || v0 == v1 || w0 == w1) return;
    if ((fl & RF_RANGES) != 0u) {
        uint32_t ux = (uint32_t)FEAGI_GET_RULE_AXV(u0), nx = u1 - u0;
        uint32_t vy = (uint32_t)FEAGI_GET_RULE_AXV(v0), ny = v1 - v0;
        uint32_t wz = (uint32_t)FEAGI_GET_RULE_AXV(w0), nz = w1 - w0;
        uint32_t u, v;
        if (nz == dd && ny == hd) {
            proc_run(base, ux * hd * dd, nx * hd * dd, nd, c);
        } else if (nz == dd) {
            for (u = ux; u < ux + nx; u++) proc_run(base, (u * hd + vy) * dd, ny * dd, nd, c);
        } else {
            for (u = ux; u < ux + nx; u++)
                for (v = vy; v < vy + ny; v++) proc_run(base, (u * hd + v) * dd + wz, nz, nd, c);
        }
        return;
    }
    for (ku = u0; ku < u1; ku++) {
        uint32_t tu = (uint32_t)FEAGI_GET_RULE_AXV(ku) * hd;
        for (kv = v0; kv < v1; kv++) {
            uint32_t t0 = base + (tu + (uint32_t)FEAGI_GET_RULE_AXV(kv)) * dd * nd;
            for (kw = w0; kw < w1; kw++) proc_add(t0 + (uint32_t)FEAGI_GET_RULE_AXV(kw) * nd, c);
        }
    }
}

/* the targets of one vectors rule for source voxel (x, y, z): c to each inside the area */
static void proc_vectors(uint32_t r, uint32_t x, uint32_t y, uint32_t z, uint16_t da,
                         uint32_t base, int32_t c)
{
    uint32_t wd = (uint32_t)FEAGI_GET_AREA_W(da), hd = (uint32_t)FEAGI_GET_AREA_H(da);
    uint32_t dd = (uint32_t)FEAGI_GET_AREA_D(da), nd = (uint32_t)FEAGI_GET_AREA_NPV(da);
    uint32_t k = 3u * (uint32_t)FEAGI_GET_RULE_ARG(3u * (uint32_t)r);
    uint32_t end = k + 3u * (uint32_t)FEAGI_GET_RULE_ARG(3u * (uint32_t)r + 1u);
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
 * per rule. Called through FEAGI_PROC_RULES only when the range is not empty, so a fired neuron
 * of an area without rules costs two flash reads. */
static void feagi_proc_rules(uint32_t r, uint32_t r1, uint16_t a, uint32_t i, int32_t p,
                             uint32_t n, uint8_t rt)
{
    uint32_t h = (uint32_t)FEAGI_GET_AREA_H(a), d = (uint32_t)FEAGI_GET_AREA_D(a);
    uint32_t vox = (i - (uint32_t)FEAGI_GET_AREA_FIRST(a)) / (uint32_t)FEAGI_GET_AREA_NPV(a);
    uint32_t x = vox / (h * d), y = (vox / d) % h, z = vox % d;
    for (; r < r1; r++) {
        uint8_t fl = FEAGI_GET_RULE_FLAGS(r);
        uint16_t da;
        uint32_t nd, base;
        int32_t c;
#if FEAGI_HAS_RUNTIME_PSP
        c = rt != 0u ? runtime_contribution((int32_t)FEAGI_GET_RULE_W(r), p, n)
                     : (int32_t)FEAGI_GET_RULE_C(r);
#else
        (void)p;
        (void)n;
        (void)rt;
        c = (int32_t)FEAGI_GET_RULE_C(r);
#endif
        if ((fl & RF_SINGLE) != 0u) { /* at most one target: the sum of three table entries */
            uint32_t tx = (uint32_t)FEAGI_GET_RULE_LIN((uint32_t)FEAGI_GET_RULE_ARG(3u * r) + x);
            uint32_t ty = (uint32_t)FEAGI_GET_RULE_LIN((uint32_t)FEAGI_GET_RULE_ARG(3u * r + 1u) + y);
            uint32_t tz = (uint32_t)FEAGI_GET_RULE_LIN((uint32_t)FEAGI_GET_RULE_ARG(3u * r + 2u) + z);
            if (tx != LIN_NONE && ty != LIN_NONE && tz != LIN_NONE) proc_add(tx + ty + tz, c);
            continue;
        }
        da = (uint16_t)FEAGI_GET_RULE_DST(r);
        nd = (uint32_t)FEAGI_GET_AREA_NPV(da);
        base = (uint32_t)FEAGI_GET_AREA_FIRST(da) + nd - 1u;
        if ((fl & RF_VECTORS) != 0u)
            proc_vectors(r, x, y, z, da, base, c);
        else
            proc_axis(r, fl, x, y, z, base, (uint32_t)FEAGI_GET_AREA_H(da),
                      (uint32_t)FEAGI_GET_AREA_D(da), nd, c);
    }
}
/* the rules of fired neuron i of area a before (after = 0) or after (1) its table row */
#define FEAGI_PROC_RULES(a, i, after, p, n, rt)                                                  \
    do {                                                                                        \
        uint32_t r0_ = (after) ? (uint32_t)FEAGI_GET_AREA_RULE_SPLIT(a)                         \
                               : (uint32_t)FEAGI_GET_AREA_RULE_FIRST(a);                        \
        uint32_t r1_ = (after) ? (uint32_t)FEAGI_GET_AREA_RULE_FIRST((a) + 1u)                  \
                               : (uint32_t)FEAGI_GET_AREA_RULE_SPLIT(a);                        \
        if (r0_ != r1_) feagi_proc_rules(r0_, r1_, (a), (i), (p), (n), (rt));                   \
    } while (0)
#else
#define FEAGI_PROC_RULES(a, i, after, p, n, rt) ((void)0)
#endif

#endif
