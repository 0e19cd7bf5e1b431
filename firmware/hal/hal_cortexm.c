/* Cortex-M HAL (QEMU netduinoplus2 / microbit / mps2): vector table, .data/.bss init, ARM
 * semihosting for output (SYS_WRITEC) and the exit code (SYS_EXIT_EXTENDED). No libc.
 * Works for ARMv6-M (M0/M0+) and ARMv7E-M (M4F). Link with cortexm.ld. */
#include <stdint.h>
#include "feagi_hal.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
int main(void);

#define SEMI_SYS_WRITEC 0x03
#define SEMI_SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uint32_t semihost_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void feagi_hal_putc(char c) { semihost_call(SEMI_SYS_WRITEC, &c); }
uint32_t feagi_hal_cycles(void) { return 0u; } /* DWT_CYCCNT is not modelled by QEMU (reads 0) */

void feagi_hal_exit(int code)
{
    uint32_t block[2];
    block[0] = ADP_STOPPED_APPLICATION_EXIT;
    block[1] = (uint32_t)code;
    semihost_call(SEMI_SYS_EXIT_EXTENDED, block);
    for (;;) { }
}

void feagi_hal_reset(void)
{
    uint32_t *src = &__data_load, *dst = &__data_start;
    while (dst < &__data_end) *dst++ = *src++;
    for (dst = &__bss_start; dst < &__bss_end;) *dst++ = 0u;
#if defined(__ARM_FP)
    /* enable CP10/CP11 so hard-float code may run */
    *(volatile uint32_t *)0xE000ED88u |= (0xFu << 20);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    feagi_hal_exit(main());
}

void feagi_hal_fault(void)
{
    feagi_hal_puts("FEAGI_HAL: FAULT\n");
    feagi_hal_exit(99);
}

typedef void (*feagi_vector_t)(void);
__attribute__((section(".vectors"), used))
const feagi_vector_t feagi_hal_vectors[16] = {
    (feagi_vector_t)(uintptr_t)&__stack_top, feagi_hal_reset,
    feagi_hal_fault, feagi_hal_fault, feagi_hal_fault, feagi_hal_fault, feagi_hal_fault,
    0, 0, 0, 0, feagi_hal_fault, feagi_hal_fault, 0, feagi_hal_fault, feagi_hal_fault,
};
