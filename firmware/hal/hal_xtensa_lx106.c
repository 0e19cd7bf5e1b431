/* Xtensa lx106 HAL for qemu-system-xtensa -M sim -cpu lx106 (the executable stand-in for ESP32):
 * a reset-vector stub (the sim machine resets to 0x50000000 after loading the ELF), start-up,
 * and QEMU's "simcall" semihosting: a2 = 4 write(fd=a3, buf=a4, len=a5), a2 = 1 exit(code=a3).
 * Call0 ABI; build with -mtext-section-literals. Link with xtensa_lx106_sim.ld and
 * xtensa_lx106_rom.c (division/64-bit helpers the ESP8266 keeps in mask ROM). */
#include <stdint.h>
#include "feagi_hal.h"

extern uint32_t __bss_start, __bss_end;
int main(void);

static long xt_simcall(long nr, long a, long b, long c)
{
    register long r2 __asm__("a2") = nr;
    register long r3 __asm__("a3") = a;
    register long r4 __asm__("a4") = b;
    register long r5 __asm__("a5") = c;
    __asm__ volatile("simcall" : "+r"(r2), "+r"(r3) : "r"(r4), "r"(r5) : "memory");
    return r2;
}

void feagi_hal_putc(char c) { xt_simcall(4, 1, (long)&c, 1); }
uint32_t feagi_hal_cycles(void)
{
    uint32_t v;
    __asm__ volatile("rsr.ccount %0" : "=a"(v));
    return v;
}
void feagi_hal_exit(int code)
{
    xt_simcall(1, code, 0, 0);
    for (;;) { }
}

void feagi_hal_c_start(void)
{
    uint32_t *p;
    /* -kernel loads .data in place (all of the sim machine's memories are RAM); clear .bss */
    for (p = &__bss_start; p < &__bss_end;) *p++ = 0u;
    feagi_hal_exit(main());
}

/* Reset vector: jump to _start at 0x40100000 with the address built from immediates (an L32R
 * literal cannot precede the vector). _start sets sp to __stack_top via the same trick. */
__asm__(".section .reset_vector, \"ax\"\n"
        "  movi a0, 0x401\n  slli a0, a0, 20\n  jx a0\n"
        ".section .text.start, \"ax\"\n"
        ".global _start\n_start:\n"
        "  movi a1, 0x400\n  slli a1, a1, 20\n"  /* sp = 0x40000000 = top of dataram0 */
        "  call0 feagi_hal_c_start\n");
