/* feagi_hal.h - the contract between the feagi runtime and the per-family HAL (firmware/hal/).
 *
 * The runtime writes text with feagi_hal_putc/feagi_hal_puts; main() returns an int exit code that
 * the HAL hands to the emulator (semihosting SYS_EXIT_EXTENDED on ARM/RISC-V, simcall on Xtensa,
 * GPIOR1 + sleep on AVR, the process exit status natively). feagi_hal_cycles() returns a cycle or
 * retired-instruction counter where the target has a deterministic one, else 0.
 * feagi_hal_alloc_once() serves the boot-time allocation of heap-placed state arrays.
 * Families: native, cortexm, riscv_virt, xtensa_lx106, avr (selected by the build, one .c each). */
#ifndef FEAGI_HAL_H
#define FEAGI_HAL_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
void feagi_hal_putc(char c);
void feagi_hal_puts(const char *s);
void feagi_hal_put_hex32(uint32_t x);   /* 8 lowercase hex digits, no prefix */
void feagi_hal_put_dec32(int32_t x);
uint32_t feagi_hal_cycles(void);
void feagi_hal_exit(int code);           /* ends the run now with this exit code */
/* Memory for state arrays the capacity plan put on the heap (ESP32: DRAM beyond the 160 KB
 * static limit), called only by feagi_init() and never freed: heap_caps_malloc on ESP-IDF /
 * Arduino-ESP32, malloc natively, a bump allocator between .bss and the stack on bare metal.
 * Returns 0 when the memory is not available. */
void *feagi_hal_alloc_once(uint32_t bytes);
/* Timing mark for benchmarks: 1 starts a region, 2 ends it. AVR writes GPIOR2 (the avr_run harness
 * prints each region's cycles); elsewhere an out-of-line no-op whose entry the QEMU icount plugin
 * watches (run_elf(..., mark=address of feagi_hal_mark)). */
void feagi_hal_mark(uint8_t m);
#ifdef __cplusplus
}
#endif
#endif
