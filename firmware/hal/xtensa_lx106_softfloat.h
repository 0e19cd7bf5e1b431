/* xtensa_lx106_softfloat.h - IEEE 754 single-precision add, multiply and int->float conversion
 * (round to nearest, ties to even; subnormals kept; one canonical quiet NaN) for the lx106
 * stand-in: gcc calls __addsf3 / __subsf3 / __mulsf3 / __floatsisf / __floatunsisf there, which
 * Debian's xtensa-lx106 libgcc leaves out (an ESP8266 has them in mask ROM). Operands and
 * results are the IEEE bit patterns, so the routines run on any host: tests/test_lx106_softfloat.py
 * checks them against the host's hardware float on edge cases and millions of random operands.
 *
 * Method: unpack to a 64-bit significand, compute exactly (add: aligned with a sticky bit,
 * 38 guard bits), then one rounding in sf_round_pack. */
#ifndef XTENSA_LX106_SOFTFLOAT_H
#define XTENSA_LX106_SOFTFLOAT_H
#include <stdint.h>

#define SF_SIGN 0x80000000u
#define SF_INF 0x7F800000u
#define SF_QNAN 0x7FC00000u

static int sf_is_nan(uint32_t a) { return (a & 0x7FFFFFFFu) > SF_INF; }

/* the value sig * 2^(e - 127 - 63), rounded once to f32 (sig != 0) */
static uint32_t sf_round_pack(uint32_t sign, int32_t e, uint64_t sig)
{
    uint64_t rest, half = (uint64_t)1u << 39;
    uint32_t mant;
    if (sig == 0u) return sign;
    while ((sig >> 63) == 0u) {
        sig <<= 1;
        e--;
    }
    if (e <= 0) { /* subnormal: shift to exponent 1 keeping a sticky bit, field 0 */
        int32_t sh = 1 - e;
        sig = sh >= 64 ? (uint64_t)(sig != 0u)
                       : (sig >> sh) | (uint64_t)((sig & (((uint64_t)1u << sh) - 1u)) != 0u);
        e = 0;
    }
    mant = (uint32_t)(sig >> 40);
    rest = sig & (((uint64_t)1u << 40) - 1u);
    if (rest > half || (rest == half && (mant & 1u) != 0u)) mant++;
    if (e == 0) {
        if ((mant & 0x800000u) != 0u) e = 1; /* rounded up into the smallest normal */
    } else if (mant == 0x1000000u) {
        mant >>= 1;
        e++;
    }
    if (e >= 255) return sign | SF_INF;
    return sign | ((uint32_t)e << 23) | (mant & 0x7FFFFFu);
}

/* exponent field (1 for subnormals) and significand with the implicit bit */
static void sf_unpack(uint32_t a, int32_t *e, uint32_t *m)
{
    int32_t f = (int32_t)((a >> 23) & 0xFFu);
    *m = a & 0x7FFFFFu;
    if (f == 0) {
        *e = 1;
    } else {
        *e = f;
        *m |= 0x800000u;
    }
}

static uint32_t sf_add(uint32_t a, uint32_t b)
{
    int32_t ea, eb, d;
    uint32_t ma, mb, t;
    uint64_t sa, sb, sig;
    if (sf_is_nan(a) || sf_is_nan(b)) return SF_QNAN;
    if ((a & 0x7FFFFFFFu) == SF_INF) {
        if ((b & 0x7FFFFFFFu) == SF_INF && ((a ^ b) & SF_SIGN) != 0u) return SF_QNAN;
        return a;
    }
    if ((b & 0x7FFFFFFFu) == SF_INF) return b;
    if ((a & 0x7FFFFFFFu) == 0u) return (b & 0x7FFFFFFFu) == 0u ? (a & b) : b;
    if ((b & 0x7FFFFFFFu) == 0u) return a;
    if ((a & 0x7FFFFFFFu) < (b & 0x7FFFFFFFu)) { /* |a| >= |b| */
        t = a;
        a = b;
        b = t;
    }
    sf_unpack(a, &ea, &ma);
    sf_unpack(b, &eb, &mb);
    sa = (uint64_t)ma << 38;
    sb = (uint64_t)mb << 38;
    d = ea - eb;
    if (d >= 64) sb = (uint64_t)(sb != 0u);
    else if (d > 0) sb = (sb >> d) | (uint64_t)((sb & (((uint64_t)1u << d) - 1u)) != 0u);
    if (((a ^ b) & SF_SIGN) == 0u) {
        sig = sa + sb;
    } else {
        sig = sa - sb;
        if (sig == 0u) return 0u; /* x - x = +0 */
    }
    return sf_round_pack(a & SF_SIGN, ea + 2, sig);
}

static uint32_t sf_mul(uint32_t a, uint32_t b)
{
    int32_t ea, eb;
    uint32_t ma, mb, sign = (a ^ b) & SF_SIGN;
    uint32_t aa = a & 0x7FFFFFFFu, ab = b & 0x7FFFFFFFu;
    if (sf_is_nan(a) || sf_is_nan(b)) return SF_QNAN;
    if (aa == SF_INF || ab == SF_INF) return (aa == 0u || ab == 0u) ? SF_QNAN : (sign | SF_INF);
    if (aa == 0u || ab == 0u) return sign;
    sf_unpack(a, &ea, &ma);
    sf_unpack(b, &eb, &mb);
    return sf_round_pack(sign, ea + eb - 126, ((uint64_t)ma * (uint64_t)mb) << 16);
}

static uint32_t sf_from_u32(uint32_t u) { return u == 0u ? 0u : sf_round_pack(0u, 158, (uint64_t)u << 32); }

static uint32_t sf_from_i32(int32_t i)
{
    uint32_t mag = i < 0 ? 0u - (uint32_t)i : (uint32_t)i;
    return mag == 0u ? 0u : sf_round_pack(i < 0 ? SF_SIGN : 0u, 158, (uint64_t)mag << 32);
}
#endif
