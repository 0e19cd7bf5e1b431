/* cycles_main.c - benchmark main for bench/bench_cycles.py (replaces a generated project's
 * src/main.c). Runs the project's test stimulus like the generated main, but brackets every
 * feagi_burst() call with two marks so the emulator reports the exact cost of each burst:
 *   AVR (simavr, avr_run harness): feagi_hal_mark(1) / (2) write GPIOR2 -> "avr_run: region=N".
 *   QEMU (icount plugin, mark=<address of feagi_hal_mark>): "icount_mark: N" at each call.
 * Queueing the stimulus and printing the protocol lines happen outside the marks. The B/S/E
 * protocol is printed as usual so the run is also checked against the numba twin. */
#include "feagi_runtime.h"
#include "feagi_hal.h"
#include "feagi_test_stimulus.h"

#define BENCH_MARK(m) feagi_hal_mark(m)

int main(void)
{
    uint32_t b, j;
    feagi_init();
    for (b = 1u; b <= FEAGI_TEST_BURSTS; b++) {
        uint32_t j0 = FEAGI_RD_U32(feagi_st_ptr, b - 1u), j1 = FEAGI_RD_U32(feagi_st_ptr, b);
        for (j = j0; j < j1; j++) {
            uint32_t id = FEAGI_RD_U32(feagi_st_nrn, j);
            int8_t rc;
            if (FEAGI_RD_U8(feagi_st_kind, j) != 0u) rc = feagi_force_fire_id(id);
#if FEAGI_FP32
            else rc = feagi_inject_id_f32(id, FEAGI_RD_F32(feagi_st_val, j)); /* --precision fp32 */
#else
            else rc = feagi_inject_id(id, (int32_t)FEAGI_RD_U32(feagi_st_val, j));
#endif
            if (rc != 0) {
                feagi_hal_puts("X stimulus queue\n");
                feagi_hal_exit(3);
                return 3;
            }
        }
        BENCH_MARK(1u);
        (void)feagi_burst();
        BENCH_MARK(2u);
        feagi_trace_burst();
    }
    feagi_trace_state();
    feagi_trace_end();
    feagi_hal_exit(0);
    return 0;
}
