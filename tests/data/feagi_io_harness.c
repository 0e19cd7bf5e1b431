/* Test harness for firmware/feagi_io.c: one command per stdin line, one answer line on stdout
 * (tests/test_io_coders.py drives it and compares with feagi_embed/io/coders.py).
 *   E w d ndims signed frac channel axis num den      -> count x z x z ...
 *   D w d ndims signed frac channel axis n x y z ...  -> has q16
 *   S raw lo hi signed invert                         -> num den
 *   U q16 top -> duty      A q16 lo hi -> angle
 *   G sw sh dw dh pixel... -> pixel...
 *   F w h x0 threshold start cap pixel... -> next count x y p ...   Q pixel frac -> q */
#include <stdio.h>
#include <string.h>
#include "feagi_io.h"

static uint8_t bits[8192];
static uint8_t img[4096], small[4096];

int main(void)
{
    char op;
    while (scanf(" %c", &op) == 1) {
        unsigned w, d, nd, sg, fr, ch, ax;
        long a, b, c, e, f;
        if (op == 'E' || op == 'D') {
            feagi_io_desc desc;
            if (scanf("%u %u %u %u %u %u %u", &w, &d, &nd, &sg, &fr, &ch, &ax) != 7) return 2;
            desc.w = (uint16_t)w; desc.d = (uint16_t)d; desc.ndims = (uint8_t)nd;
            desc.is_signed = (uint8_t)sg; desc.fractional = (uint8_t)fr;
            if (op == 'E') {
                uint16_t xs[FEAGI_IO_MAX_VOXELS], zs[FEAGI_IO_MAX_VOXELS], n, i;
                if (scanf("%ld %ld", &a, &b) != 2) return 2;
                n = feagi_io_encode(&desc, (uint16_t)ch, (uint8_t)ax, (int32_t)a, (int32_t)b, xs,
                                    zs, FEAGI_IO_MAX_VOXELS);
                printf("%u", n);
                for (i = 0; i < n; i++) printf(" %u %u", xs[i], zs[i]);
                printf("\n");
            } else {
                long n, i;
                int32_t q = -999999;
                int8_t has;
                memset(bits, 0, sizeof bits);
                if (scanf("%ld", &n) != 1) return 2;
                for (i = 0; i < n; i++) {
                    unsigned x, y, z;
                    if (scanf("%u %u %u", &x, &y, &z) != 3) return 2;
                    feagi_io_mark(&desc, bits, (uint16_t)x, (uint16_t)y, (uint16_t)z);
                }
                has = feagi_io_decode(&desc, bits, (uint16_t)ch, (uint8_t)ax, &q);
                printf("%d %ld\n", has, (long)q);
            }
        } else if (op == 'S') {
            int32_t num, den;
            if (scanf("%ld %ld %ld %ld %ld", &a, &b, &c, &e, &f) != 5) return 2;
            feagi_io_scale((int32_t)a, (int32_t)b, (int32_t)c, (uint8_t)e, (uint8_t)f, &num, &den);
            printf("%ld %ld\n", (long)num, (long)den);
        } else if (op == 'U') {
            if (scanf("%ld %ld", &a, &b) != 2) return 2;
            printf("%u\n", feagi_io_duty((int32_t)a, (uint16_t)b));
        } else if (op == 'A') {
            if (scanf("%ld %ld %ld", &a, &b, &c) != 3) return 2;
            printf("%d\n", feagi_io_angle((int32_t)a, (int16_t)b, (int16_t)c));
        } else if (op == 'G') {
            unsigned sw, sh, dw, dh, i, px;
            if (scanf("%u %u %u %u", &sw, &sh, &dw, &dh) != 4) return 2;
            for (i = 0; i < sw * sh; i++) {
                if (scanf("%u", &px) != 1) return 2;
                img[i] = (uint8_t)px;
            }
            feagi_io_downscale(img, (uint16_t)sw, (uint16_t)sh, small, (uint16_t)dw, (uint16_t)dh);
            for (i = 0; i < dw * dh; i++) printf(i ? " %u" : "%u", small[i]);
            printf("\n");
        } else if (op == 'F') {
            unsigned w2, h2, x0, th, st, cap, i, px;
            uint16_t xs[256], ys[256];
            uint8_t ps[256];
            uint32_t next;
            uint16_t n;
            if (scanf("%u %u %u %u %u %u", &w2, &h2, &x0, &th, &st, &cap) != 6) return 2;
            for (i = 0; i < w2 * h2; i++) {
                if (scanf("%u", &px) != 1) return 2;
                img[i] = (uint8_t)px;
            }
            n = feagi_io_encode_frame(img, (uint16_t)w2, (uint16_t)h2, (uint16_t)x0, (uint8_t)th,
                                      st, xs, ys, ps, (uint16_t)(cap > 256u ? 256u : cap), &next);
            printf("%lu %u", (unsigned long)next, n);
            for (i = 0; i < n; i++) printf(" %u %u %u", xs[i], ys[i], ps[i]);
            printf("\n");
        } else if (op == 'Q') {
            unsigned px, fb;
            if (scanf("%u %u", &px, &fb) != 2) return 2;
            printf("%ld\n", (long)feagi_io_pixel_q((uint8_t)px, (uint8_t)fb));
        } else {
            return 2;
        }
    }
    return 0;
}
