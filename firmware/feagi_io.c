/* feagi_io.c - FEAGI sensor encoders and motor decoders, integer-only (see feagi_io.h, docs/io.md).
 * Python reference: feagi_embed/io/coders.py (tests/test_io_coders.py compares the two). */
#include "feagi_io.h"

/* width of one channel along x: unsigned ndims columns, signed 2 * ndims (positive, negative) */
static uint16_t channel_width(const feagi_io_desc *desc)
{
    if (desc->ndims == 0u) return 1u;
    return (uint16_t)(desc->is_signed ? 2u * desc->ndims : desc->ndims);
}

static uint16_t put(uint16_t n, uint16_t cap, uint16_t w, uint16_t *xs, uint16_t *zs, uint32_t x,
                    uint16_t z)
{
    if (x >= w || n >= cap) return n;
    xs[n] = (uint16_t)x;
    zs[n] = z;
    return (uint16_t)(n + 1u);
}

/* Linear: z = floor((1 - m/den) * d), clamped to d - 1 (0 <= m <= den).
 * FEAGI coder_shared_functions.rs::encode_unsigned_percentage_to_linear_neuron_z_index */
static uint16_t z_linear(uint32_t m, uint32_t den, uint16_t d)
{
    uint32_t z = ((den - m) * (uint32_t)d) / den;
    return (uint16_t)(z > (uint32_t)d - 1u ? (uint32_t)d - 1u : z);
}

/* Fractional: the first d binary digits of m/den (digit i weighs 2^-(i+1)); all digits for
 * m == den; z = d - 1 alone for m == 0.
 * FEAGI coder_shared_functions.rs::encode_unsigned_percentage_to_fractional_exponential_neuron_z_indexes */
static uint16_t put_fractional(uint16_t n, uint16_t cap, uint16_t w, uint16_t *xs, uint16_t *zs,
                               uint32_t x, uint32_t m, uint32_t den, uint16_t d)
{
    uint32_t rem = m;
    uint16_t i;
    if (m == 0u) return put(n, cap, w, xs, zs, x, (uint16_t)(d - 1u));
    for (i = 0u; i < d; i++) {
        if (m == den) {
            n = put(n, cap, w, xs, zs, x, i);
            continue;
        }
        rem <<= 1;
        if (rem >= den) {
            rem -= den;
            n = put(n, cap, w, xs, zs, x, i);
        }
    }
    return n;
}

uint16_t feagi_io_encode(const feagi_io_desc *desc, uint16_t channel, uint8_t axis, int32_t num,
                         int32_t den, uint16_t *xs, uint16_t *zs, uint16_t cap)
{
    uint16_t n = 0u, d = desc->d;
    uint32_t x, m, ud;
    int neg = 0;
    if (den < 1 || d == 0u) return 0u;
    if (desc->ndims == 0u) /* Boolean (FEAGI encoders/boolean.rs): true fires (channel, 0, 0) */
        return num != 0 ? put(0u, cap, desc->w, xs, zs, channel, 0u) : 0u;
    if (axis >= desc->ndims) return 0u;
    ud = (uint32_t)den;
    if (desc->is_signed) {
        if (num < -den) num = -den;
        if (num > den) num = den;
        neg = num < 0;
        m = (uint32_t)(neg ? -num : num);
    } else {
        m = num < 0 ? 0u : ((uint32_t)num > ud ? ud : (uint32_t)num);
    }
    x = (uint32_t)channel * channel_width(desc) + (desc->is_signed ? 2u * axis : axis);
    if (!desc->is_signed) {
        if (desc->fractional) return put_fractional(n, cap, desc->w, xs, zs, x, m, ud, d);
        return put(n, cap, desc->w, xs, zs, x, z_linear(m, ud, d));
    }
    /* SignedPercentage: x column 2a positive, 2a + 1 negative; zero fires the smallest position
     * of both (FEAGI encode_signed_percentage_to_linear_neuron_z_index /
     * ..._to_fractional_exponential_neuron_z_indexes) */
    if (m == 0u) {
        n = put(n, cap, desc->w, xs, zs, x, (uint16_t)(d - 1u));
        return put(n, cap, desc->w, xs, zs, x + 1u, (uint16_t)(d - 1u));
    }
    if (neg) x += 1u;
    if (desc->fractional) return put_fractional(n, cap, desc->w, xs, zs, x, m, ud, d);
    return put(n, cap, desc->w, xs, zs, x, z_linear(m, ud, d));
}

void feagi_io_mark(const feagi_io_desc *desc, uint8_t *bits, uint16_t x, uint16_t y, uint16_t z)
{
    uint32_t i;
    if (y != 0u || x >= desc->w || z >= desc->d) return;
    i = (uint32_t)x * desc->d + z;
    bits[i >> 3] = (uint8_t)(bits[i >> 3] | (1u << (i & 7u)));
}

/* One x column: 1 and the value of its fired voxels, 0 when none fired.
 * Linear: 1 - sum(z) / (d * count) (FEAGI decode_unsigned_percentage_from_linear_neurons),
 * Q16 = 65536 - floor(65536 * sum / (d * count)).
 * Fractional: sum of 2^-z (FEAGI decode_unsigned_percentage_from_fractional_exponential_neurons),
 * Q16 = sum of 65536 >> z (z > 16 adds nothing), clamped to 65536. */
static int8_t column(const feagi_io_desc *desc, const uint8_t *bits, uint32_t x, int32_t *q16)
{
    uint32_t sum = 0u, cnt = 0u, i;
    uint16_t z, d = desc->d;
    if (x >= desc->w) return 0;
    for (z = 0u; z < d; z++) {
        i = x * d + z;
        if (!(bits[i >> 3] & (1u << (i & 7u)))) continue;
        cnt++;
        if (desc->fractional) sum += z <= 16u ? (65536UL >> z) : 0u;
        else sum += z;
    }
    if (cnt == 0u) return 0;
    if (desc->fractional) *q16 = (int32_t)(sum > 65536UL ? 65536UL : sum);
    else *q16 = (int32_t)(65536UL - (sum * 65536UL) / ((uint32_t)d * cnt));
    return 1;
}

int8_t feagi_io_decode(const feagi_io_desc *desc, const uint8_t *bits, uint16_t channel,
                       uint8_t axis, int32_t *q16)
{
    int32_t pos = 0, neg = 0;
    int8_t hp, hn;
    uint32_t x;
    if (desc->ndims == 0u || axis >= desc->ndims || desc->d == 0u) return 0;
    x = (uint32_t)channel * channel_width(desc) + (desc->is_signed ? 2u * axis : axis);
    if (!desc->is_signed) return column(desc, bits, x, q16);
    /* FEAGI decode_signed_percentage_from_linear_neurons / ..._fractional_exponential_neurons:
     * positive lobe minus negative lobe, an empty lobe counts 0 */
    hp = column(desc, bits, x, &pos);
    hn = column(desc, bits, x + 1u, &neg);
    if (!hp && !hn) return 0;
    *q16 = hp ? pos : 0;
    *q16 -= hn ? neg : 0;
    return 1;
}

void feagi_io_scale(int32_t raw, int32_t lo, int32_t hi, uint8_t is_signed, uint8_t invert,
                    int32_t *num, int32_t *den)
{
    int32_t span = hi - lo;
    if (span < 1) span = 1;
    if (raw < lo) raw = lo;
    if (raw > lo + span) raw = lo + span;
    if (invert) raw = lo + span - (raw - lo);
    *den = span;
    *num = is_signed ? 2 * (raw - lo) - span : raw - lo;
}

uint16_t feagi_io_duty(int32_t q16, uint16_t top)
{
    uint32_t m = (uint32_t)(q16 < 0 ? -q16 : q16);
    if (m > 65536UL) m = 65536UL;
    return (uint16_t)((m * (uint32_t)top) >> 16);
}

int16_t feagi_io_angle(int32_t q16, int16_t lo, int16_t hi)
{
    int32_t q = q16 < 0 ? 0 : (q16 > 65536L ? 65536L : q16);
    int32_t span = (int32_t)hi - lo;
    /* floor division of the signed product (span may be negative for a reversed servo) */
    int32_t p = span * (q >> 8);
    int32_t a = p >= 0 ? p / 256 : -((-p + 255) / 256);
    return (int16_t)(lo + a);
}

void feagi_io_downscale(const uint8_t *src, uint16_t sw, uint16_t sh, uint8_t *dst, uint16_t dw,
                        uint16_t dh)
{
    uint16_t i, j, x, y;
    for (j = 0u; j < dh; j++) {
        uint16_t y0 = (uint16_t)(((uint32_t)j * sh) / dh);
        uint16_t y1 = (uint16_t)(((uint32_t)(j + 1u) * sh) / dh);
        for (i = 0u; i < dw; i++) {
            uint16_t x0 = (uint16_t)(((uint32_t)i * sw) / dw);
            uint16_t x1 = (uint16_t)(((uint32_t)(i + 1u) * sw) / dw);
            uint32_t sum = 0u, cnt = (uint32_t)(x1 - x0) * (uint32_t)(y1 - y0);
            for (y = y0; y < y1; y++)
                for (x = x0; x < x1; x++) sum += src[(uint32_t)y * sw + x];
            dst[(uint32_t)j * dw + i] = (uint8_t)(cnt ? sum / cnt : 0u);
        }
    }
}

uint16_t feagi_io_encode_frame(const uint8_t *img, uint16_t w, uint16_t h, uint16_t x0,
                               uint8_t threshold, uint32_t start, uint16_t *xs, uint16_t *ys,
                               uint8_t *px, uint16_t cap, uint32_t *next)
{
    uint32_t i, total = (uint32_t)w * h;
    uint16_t n = 0u;
    for (i = start; i < total; i++) {
        uint8_t v = img[i];
        if (v <= threshold) continue;
        if (n >= cap) break;
        xs[n] = (uint16_t)(x0 + i % w);
        ys[n] = (uint16_t)(h - 1u - i / w);
        px[n] = v;
        n++;
    }
    *next = i;
    return n;
}

int32_t feagi_io_pixel_q(uint8_t pixel, uint8_t frac_bits)
{
    return (int32_t)(((uint32_t)pixel << frac_bits) / 255u);
}
