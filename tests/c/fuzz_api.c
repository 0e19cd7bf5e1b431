/* Random-argument driver of the feagi runtime's public API (issue 12), built with the emitted
 * model under ASan + UBSan by tests/test_firmware_bad_input.py.
 *
 * Usage: fuzz_api BURSTS SEED. Calls every public function before feagi_init() (all must be
 * safe), then per burst up to 40 random feagi_inject / feagi_force_fire (areas, coordinates and
 * values in and out of range, values on and off the sensory grid, repeated voxels) and
 * feagi_inject_id / feagi_force_fire_id / feagi_is_fired with ids past the end, checking each
 * return code against feagi_runtime.h. Accepted voxel calls are printed ("I b area x y z value",
 * "F b area x y z") so the test can replay them on the twin; "B"/"S"/"E" lines are the device
 * protocol. Exits 1 on an undocumented return code. */
#include <stdio.h>
#include <stdlib.h>
#include "feagi_runtime.h"

static uint32_t s;
static uint32_t rnd(void)
{
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
}

static unsigned long n_rc[8]; /* how often each code 0, -1 ... -5 was returned */

static int bad_rc(int rc, const char *what)
{
    if (rc <= 0 && rc >= -5) n_rc[-rc]++;
    if (rc == 0 || rc == FEAGI_ERR_INDEX || rc == FEAGI_ERR_QUEUE || rc == FEAGI_ERR_VALUE ||
        rc == FEAGI_ERR_BUDGET)
        return 0;
    printf("BADRC %s %d\n", what, rc);
    return 1;
}

static uint16_t coord(uint32_t n)
{
    uint32_t r = rnd() % 16u;
    if (r == 0u) return (uint16_t)n;              /* one past the end */
    if (r == 1u) return (uint16_t)65535u;
    if (r == 2u) return (uint16_t)(n + rnd() % 5u);
    return (uint16_t)(rnd() % n);
}

static int32_t value(void)
{
    int32_t m = (int32_t)FEAGI_MAX_SENSORY_Q;
    switch (rnd() % 10u) {
    case 0: return m;
    case 1: return -m;
    case 2: return m + 1;
    case 3: return (int32_t)rnd();                 /* any int32, mostly off the grid */
    case 4: return 0;
    case 5: return (int32_t)(rnd() % 256u) << 16;  /* whole sensory values at F = 16 */
    case 6: return (int32_t)(rnd() % (uint32_t)(m + 1)) & ~255;
    case 7: return m / 2 + (int32_t)(rnd() % 3u);  /* two of these can exceed the budget */
    case 8: return -(int32_t)(rnd() % (uint32_t)(m + 1));
    default: return (int32_t)(rnd() % (uint32_t)(m + 1));
    }
}

int main(int argc, char **argv)
{
    uint32_t bursts = argc > 1 ? (uint32_t)strtoul(argv[1], 0, 10) : 50u;
    uint32_t b, j;
    int fail = 0;
    s = argc > 2 ? (uint32_t)strtoul(argv[2], 0, 10) | 1u : 1u;
    /* before feagi_init(): every call safe, error codes or neutral values */
    for (j = 0; j < 200u; j++) {
        uint16_t a = (uint16_t)(rnd() % (FEAGI_A + 2u));
        fail |= feagi_inject(a, (uint16_t)rnd(), (uint16_t)rnd(), (uint16_t)rnd(), value()) !=
                FEAGI_ERR_INIT;
        fail |= feagi_force_fire(a, (uint16_t)rnd(), 0u, 0u) != FEAGI_ERR_INIT;
        fail |= feagi_inject_id(rnd(), value()) != FEAGI_ERR_INIT;
        fail |= feagi_force_fire_id(rnd()) != FEAGI_ERR_INIT;
        fail |= feagi_is_fired(rnd()) != 0;
        fail |= feagi_burst() != 0u;
        fail |= feagi_state_digest() != 0u;
    }
    if (fail) {
        printf("BADRC before-init\n");
        return 1;
    }
    if (feagi_init() != 0) return 9;
    for (b = 1u; b <= bursts; b++) {
        uint32_t calls = rnd() % 41u;
        uint16_t la = 0, lx = 0, ly = 0, lz = 0;
        int have_last = 0;
        for (j = 0; j < calls; j++) {
            uint32_t op = rnd() % 8u;
            uint16_t a = (uint16_t)(rnd() % (FEAGI_A + 1u));
            uint16_t x, y, z;
            int rc;
            if (a < (uint16_t)FEAGI_A) {
                x = coord((uint32_t)FEAGI_GET_AREA_W(a));
                y = coord((uint32_t)FEAGI_GET_AREA_H(a));
                z = coord((uint32_t)FEAGI_GET_AREA_D(a));
            } else {
                x = (uint16_t)rnd(); y = (uint16_t)rnd(); z = (uint16_t)rnd();
            }
            if (op <= 3u) {
                int32_t v = value();
                if (op == 0u && have_last) { /* the last injected voxel again, 128..255 */
                    a = la; x = lx; y = ly; z = lz;
                    v = (int32_t)(128u + rnd() % 128u) << 16;
                    if (v > (int32_t)FEAGI_MAX_SENSORY_Q) v = (int32_t)FEAGI_MAX_SENSORY_Q;
                } else if (op == 0u) {
                    v = (int32_t)(128u + rnd() % 128u) << 16;
                    if (v > (int32_t)FEAGI_MAX_SENSORY_Q) v = (int32_t)FEAGI_MAX_SENSORY_Q;
                }
                rc = feagi_inject(a, x, y, z, v);
                fail |= bad_rc(rc, "inject");
                if (rc == 0 && v > 0) { la = a; lx = x; ly = y; lz = z; have_last = 1; }
                if (rc == 0 && v != 0)
                    printf("I %lu %u %u %u %u %ld\n", (unsigned long)b, a, x, y, z, (long)v);
            } else if (op <= 5u) {
                rc = feagi_force_fire(a, x, y, z);
                fail |= bad_rc(rc, "force");
                if (rc == 0) printf("F %lu %u %u %u %u\n", (unsigned long)b, a, x, y, z);
            } else if (op == 6u) {
                uint32_t id = (uint32_t)FEAGI_N + rnd() % 1000u;
                fail |= feagi_inject_id(id, value()) != FEAGI_ERR_INDEX;
                fail |= feagi_force_fire_id(id) != FEAGI_ERR_INDEX;
            } else {
                fail |= feagi_is_fired((uint32_t)FEAGI_N + rnd() % 1000u) != 0;
                (void)feagi_is_fired(rnd() % (uint32_t)FEAGI_N);
            }
        }
        if (fail) {
            printf("BADRC burst %lu\n", (unsigned long)b);
            return 1;
        }
        (void)feagi_burst();
        feagi_trace_burst();
        if (b % 5u == 0u) feagi_trace_state();
    }
    feagi_trace_end();
    printf("C %lu %lu %lu %lu %lu %lu\n", n_rc[0], n_rc[1], n_rc[2], n_rc[3], n_rc[4], n_rc[5]);
    return 0;
}
