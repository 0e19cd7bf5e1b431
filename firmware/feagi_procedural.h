/* feagi_procedural.h - procedural synapses: expand the compact rule records of feagi_model.c
 * during propagation (docs/model.md §7, feagi_embed/plan/procedural.py).
 *
 * Included by feagi_runtime.c after add_cand() (it uses the runtime's static helpers); it defines
 * nothing unless the model has rule records (FEAGI_N_RULES). Integer-only, no allocation.
 *
 * A fired source neuron i of area a is expanded in row order: the area's rules without the
 * RF_AFTER flag, then its table row, then the rules with RF_AFTER (feagi_proc_rules(a, i, 0, ..)
 * before and (.., 1, ..) after the table loop). A rule sends one contribution C to every target:
 *  - axis rule (flag RF_VECTORS clear): rule_arg[3r..3r+2] are the offsets in rule_axp of the x,
 *    y and z lists; the list of source coordinate s is rule_axv[axp[off + s] .. axp[off + s + 1]]
 *    (ascending destination coordinates). Targets: every (u, v, w) of the three lists of the
 *    neuron's voxel (x, y, z), u outermost, w innermost (ascending linear voxel index);
 *  - vectors rule: rule_arg[3r] is the first offset triple in rule_vec, rule_arg[3r+1] their
 *    count; target voxel (x+dx, y+dy, z+dz) when inside the destination area, in list order.
 * The target neuron of a destination voxel is its last one: first + lin * npv + npv - 1. */
#ifndef FEAGI_PROCEDURAL_H
#define FEAGI_PROCEDURAL_H

#ifdef FEAGI_N_RULES
#define RF_VECTORS 1u
#define RF_AFTER 2u

/* the targets of one axis rule for source voxel (x, y, z): c to each */
static void proc_axis(uint32_t r, uint32_t x, uint32_t y, uint32_t z, uint32_t base,
                      uint32_t hd, uint32_t dd, uint32_t nd, int32_t c)
{
    uint32_t ox = (uint32_t)FEAGI_GET_RULE_ARG(3u * (uint32_t)r) + x;
    uint32_t oy = (uint32_t)FEAGI_GET_RULE_ARG(3u * (uint32_t)r + 1u) + y;
    uint32_t oz = (uint32_t)FEAGI_GET_RULE_ARG(3u * (uint32_t)r + 2u) + z;
    uint32_t u0 = (uint32_t)FEAGI_GET_RULE_AXP(ox), u1 = (uint32_t)FEAGI_GET_RULE_AXP(ox + 1u);
    uint32_t v0 = (uint32_t)FEAGI_GET_RULE_AXP(oy), v1 = (uint32_t)FEAGI_GET_RULE_AXP(oy + 1u);
    uint32_t w0 = (uint32_t)FEAGI_GET_RULE_AXP(oz), w1 = (uint32_t)FEAGI_GET_RULE_AXP(oz + 1u);
    uint32_t ku, kv, kw;
    for (ku = u0; ku < u1; ku++) {
        uint32_t tu = (uint32_t)FEAGI_GET_RULE_AXV(ku) * hd;
        for (kv = v0; kv < v1; kv++) {
            uint32_t t0 = base + (tu + (uint32_t)FEAGI_GET_RULE_AXV(kv)) * dd * nd;
            for (kw = w0; kw < w1; kw++)
                add_cand(t0 + (uint32_t)FEAGI_GET_RULE_AXV(kw) * nd, c);
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
        if (u < wd && v < hd && w < dd) add_cand(base + ((u * hd + v) * dd + w) * nd, c);
    }
}

/* expand the rules of source neuron i (area a) that come before (after = 0) or after (1) its
 * table row; rt != 0: run-time PSP source, C = runtime_contribution(rule w, p, n) per rule */
static void feagi_proc_rules(uint16_t a, uint32_t i, uint8_t after, int32_t p, uint32_t n,
                             uint8_t rt)
{
    uint32_t r = (uint32_t)FEAGI_GET_AREA_RULE_FIRST(a), r1 = (uint32_t)FEAGI_GET_AREA_RULE_FIRST(a + 1u);
    uint32_t h, d, vox, x, y, z;
    if (r == r1) return;
    h = (uint32_t)FEAGI_GET_AREA_H(a);
    d = (uint32_t)FEAGI_GET_AREA_D(a);
    vox = (i - (uint32_t)FEAGI_GET_AREA_FIRST(a)) / (uint32_t)FEAGI_GET_AREA_NPV(a);
    x = vox / (h * d);
    y = (vox / d) % h;
    z = vox % d;
    for (; r < r1; r++) {
        uint8_t fl = FEAGI_GET_RULE_FLAGS(r);
        uint16_t da;
        uint32_t nd, base;
        int32_t c;
        if (((fl & RF_AFTER) != 0u) != (after != 0u)) continue;
        da = (uint16_t)FEAGI_GET_RULE_DST(r);
        nd = (uint32_t)FEAGI_GET_AREA_NPV(da);
        base = (uint32_t)FEAGI_GET_AREA_FIRST(da) + nd - 1u;
#if FEAGI_HAS_RUNTIME_PSP
        c = rt != 0u ? runtime_contribution((int32_t)FEAGI_GET_RULE_W(r), p, n)
                     : (int32_t)FEAGI_GET_RULE_C(r);
#else
        (void)p;
        (void)n;
        (void)rt;
        c = (int32_t)FEAGI_GET_RULE_C(r);
#endif
        if ((fl & RF_VECTORS) != 0u)
            proc_vectors(r, x, y, z, da, base, c);
        else
            proc_axis(r, x, y, z, base, (uint32_t)FEAGI_GET_AREA_H(da),
                      (uint32_t)FEAGI_GET_AREA_D(da), nd, c);
    }
}
#define FEAGI_PROC_RULES(a, i, after, p, n, rt) feagi_proc_rules((a), (i), (after), (p), (n), (rt))
#else
#define FEAGI_PROC_RULES(a, i, after, p, n, rt) ((void)0)
#endif

#endif
