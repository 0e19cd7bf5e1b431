/* Entry point of a wasm32 program with main() (run_on_target, the generated test main): the host
 * calls the exported _start; main's return value becomes the exit code through feagi_hal_exit. */
#include "feagi_hal.h"

int main(void);

__attribute__((export_name("_start"))) void _start(void)
{
    feagi_hal_exit(main());
}
