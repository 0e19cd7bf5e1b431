/* Integer helper routines that gcc calls on lx106 but that Debian's xtensa-lx106 libgcc leaves
 * out (on a real ESP8266 they are in mask ROM): 32-bit divide/modulo and 64-bit multiply and
 * divide/modulo. Plain shift-and-subtract, independent of any library. */
#include <stdint.h>

static uint32_t udivmod32(uint32_t num, uint32_t den, uint32_t *rem)
{
    uint32_t quot = 0u, r = 0u;
    int bit;
    if (den == 0u) { *rem = num; return 0xFFFFFFFFu; }
    for (bit = 31; bit >= 0; bit--) {
        r = (r << 1) | ((num >> bit) & 1u);
        if (r >= den) { r -= den; quot |= (uint32_t)1u << bit; }
    }
    *rem = r;
    return quot;
}

static uint64_t udivmod64(uint64_t num, uint64_t den, uint64_t *rem)
{
    uint64_t quot = 0u, r = 0u;
    int bit;
    if (den == 0u) { *rem = num; return ~(uint64_t)0u; }
    if ((num >> 32) == 0u && (den >> 32) == 0u) {
        uint32_t r32;
        quot = udivmod32((uint32_t)num, (uint32_t)den, &r32);
        *rem = r32;
        return quot;
    }
    for (bit = 63; bit >= 0; bit--) {
        r = (r << 1) | ((num >> bit) & 1u);
        if (r >= den) { r -= den; quot |= (uint64_t)1u << bit; }
    }
    *rem = r;
    return quot;
}

uint32_t __udivsi3(uint32_t a, uint32_t b) { uint32_t r; return udivmod32(a, b, &r); }
uint32_t __umodsi3(uint32_t a, uint32_t b) { uint32_t r; udivmod32(a, b, &r); return r; }

int32_t __divsi3(int32_t a, int32_t b)
{
    uint32_t r, q = udivmod32(a < 0 ? 0u - (uint32_t)a : (uint32_t)a, b < 0 ? 0u - (uint32_t)b : (uint32_t)b, &r);
    return ((a < 0) != (b < 0)) ? (int32_t)(0u - q) : (int32_t)q;
}

int32_t __modsi3(int32_t a, int32_t b)
{
    uint32_t r;
    udivmod32(a < 0 ? 0u - (uint32_t)a : (uint32_t)a, b < 0 ? 0u - (uint32_t)b : (uint32_t)b, &r);
    return a < 0 ? (int32_t)(0u - r) : (int32_t)r;
}

uint64_t __udivdi3(uint64_t a, uint64_t b) { uint64_t r; return udivmod64(a, b, &r); }
uint64_t __umoddi3(uint64_t a, uint64_t b) { uint64_t r; udivmod64(a, b, &r); return r; }

int64_t __divdi3(int64_t a, int64_t b)
{
    uint64_t r, q = udivmod64(a < 0 ? 0u - (uint64_t)a : (uint64_t)a, b < 0 ? 0u - (uint64_t)b : (uint64_t)b, &r);
    return ((a < 0) != (b < 0)) ? (int64_t)(0u - q) : (int64_t)q;
}

int64_t __moddi3(int64_t a, int64_t b)
{
    uint64_t r;
    udivmod64(a < 0 ? 0u - (uint64_t)a : (uint64_t)a, b < 0 ? 0u - (uint64_t)b : (uint64_t)b, &r);
    return a < 0 ? (int64_t)(0u - r) : (int64_t)r;
}

/* 64x64 -> low 64 bits from 32-bit partial products (lx106 has a 32x32->32 MULL only). */
static uint32_t mulhi32(uint32_t a, uint32_t b)
{
    uint32_t al = a & 0xFFFFu, ah = a >> 16, bl = b & 0xFFFFu, bh = b >> 16;
    uint32_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint32_t mid = (ll >> 16) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
    return hh + (lh >> 16) + (hl >> 16) + (mid >> 16);
}

int64_t __muldi3(int64_t a, int64_t b)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    uint32_t al = (uint32_t)ua, ah = (uint32_t)(ua >> 32), bl = (uint32_t)ub, bh = (uint32_t)(ub >> 32);
    uint32_t lo = al * bl;
    uint32_t hi = mulhi32(al, bl) + al * bh + ah * bl;
    return (int64_t)(((uint64_t)hi << 32) | lo);
}

/* IEEE single-precision helpers gcc calls for float arithmetic (fp32 builds), also mask ROM on
 * an ESP8266: xtensa_lx106_softfloat.h (round to nearest even, subnormals kept). */
#include "xtensa_lx106_softfloat.h"

typedef union { float f; uint32_t u; } sf_bits;
float __addsf3(float a, float b);
float __subsf3(float a, float b);
float __mulsf3(float a, float b);
float __floatsisf(int32_t i);
float __floatunsisf(uint32_t u);

static float sf_f(uint32_t u) { sf_bits b; b.u = u; return b.f; }
static uint32_t sf_u(float f) { sf_bits b; b.f = f; return b.u; }
float __addsf3(float a, float b) { return sf_f(sf_add(sf_u(a), sf_u(b))); }
float __subsf3(float a, float b) { return sf_f(sf_add(sf_u(a), sf_u(b) ^ SF_SIGN)); }
float __mulsf3(float a, float b) { return sf_f(sf_mul(sf_u(a), sf_u(b))); }
float __floatsisf(int32_t i) { return sf_f(sf_from_i32(i)); }
float __floatunsisf(uint32_t u) { return sf_f(sf_from_u32(u)); }
