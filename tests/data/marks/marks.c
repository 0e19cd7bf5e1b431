/* Timing-mark self-test (tests/test_cycle_marks.py): five marked regions around a loop of
 * 10, 10, 20, 30 and 40 iterations. A loop's cost is linear in its iteration count. */
#include <stdint.h>
#include "feagi_hal.h"

static volatile uint32_t sink;

static __attribute__((noinline)) void work(uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) sink += i;
}

static const uint32_t iterations[5] = {10u, 10u, 20u, 30u, 40u};

int main(void)
{
    uint32_t k;
    for (k = 0; k < 5u; k++) {
        feagi_hal_mark(1u);
        work(iterations[k]);
        feagi_hal_mark(2u);
    }
    feagi_hal_puts("ok\n");
    return 0;
}
