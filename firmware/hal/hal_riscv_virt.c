/* RISC-V rv32 HAL for QEMU "virt" (-bios none): start-up, RISC-V semihosting (the
 * slli/ebreak/srai sequence) for output and SYS_EXIT_EXTENDED, minstret as cycle counter
 * (exact when QEMU runs with -icount shift=0). No libc. Link with riscv_virt.ld. */
#include <stdint.h>
#include "feagi_hal.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
int main(void);

static long semihost_call(long op, const void *arg)
{
    register long a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n\t.option norvc\n\t"
                     "slli zero, zero, 0x1f\n\tebreak\n\tsrai zero, zero, 7\n\t"
                     ".option pop" : "+r"(a0) : "r"(a1) : "memory");
    return a0;
}

void feagi_hal_putc(char c) { semihost_call(0x03 /* SYS_WRITEC */, &c); }

uint32_t feagi_hal_cycles(void)
{
    uint32_t v;
    __asm__ volatile(".option push\n\t.option arch, +zicsr\n\tcsrr %0, minstret\n\t.option pop" : "=r"(v));
    return v;
}

void feagi_hal_exit(int code)
{
    uint32_t block[2];
    block[0] = 0x20026u; /* ADP_Stopped_ApplicationExit */
    block[1] = (uint32_t)code;
    semihost_call(0x20 /* SYS_EXIT_EXTENDED */, block);
    for (;;) { }
}

void feagi_hal_c_start(void)
{
    uint32_t *src = &__data_load, *dst = &__data_start;
    while (dst < &__data_end) *dst++ = *src++;
    for (dst = &__bss_start; dst < &__bss_end;) *dst++ = 0u;
    feagi_hal_exit(main());
}

__asm__(".section .text.start, \"ax\"\n"
        ".globl _start\n_start:\n"
        ".option push\n.option norelax\n  la gp, __global_pointer$\n.option pop\n"
        "  la sp, __stack_top\n"
        "  j feagi_hal_c_start\n");
