/* Native (host gcc) HAL: stdout, process exit status. */
#include <stdio.h>
#include <stdlib.h>
#include "feagi_hal.h"

void feagi_hal_putc(char c) { putchar((unsigned char)c); }
uint32_t feagi_hal_cycles(void) { return 0u; }
void feagi_hal_exit(int code) { fflush(stdout); exit(code); }
void *feagi_hal_alloc_once(uint32_t bytes) { return malloc(bytes); }
