/* link_main.c - main() of firmware driven over the two-way link (docs/link.md), used instead of the
 * generated test main.c: the host schedules every burst and its inputs. */
#include "feagi_hal.h"
#include "feagi_link.h"
#include "feagi_runtime.h"

int main(void)
{
    if (feagi_init() != 0) {
        feagi_hal_exit(4);
        return 4;
    }
    feagi_link_init();
    while (feagi_link_service() == 0) { }
    feagi_hal_exit(0);
    return 0;
}
