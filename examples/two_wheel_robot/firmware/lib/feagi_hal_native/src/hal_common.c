/* Output helpers shared by every HAL family, written on top of feagi_hal_putc. */
#include "feagi_hal.h"

void feagi_hal_puts(const char *s)
{
    while (*s) feagi_hal_putc(*s++);
}

void feagi_hal_put_hex32(uint32_t x)
{
    static const char digits[] = "0123456789abcdef";
    int shift;
    for (shift = 28; shift >= 0; shift -= 4) feagi_hal_putc(digits[(x >> shift) & 0xFu]);
}

void feagi_hal_put_dec32(int32_t x)
{
    char buf[11];
    int n = 0;
    uint32_t u = x < 0 ? 0u - (uint32_t)x : (uint32_t)x;
    if (x < 0) feagi_hal_putc('-');
    do { buf[n++] = (char)('0' + u % 10u); u /= 10u; } while (u != 0u);
    while (n > 0) feagi_hal_putc(buf[--n]);
}

#if !defined(__AVR__) /* hal_avr.c writes GPIOR2 instead */
/* Out of line and not folded away: the QEMU icount plugin counts instructions at its entry. */
__attribute__((noinline, used)) void feagi_hal_mark(uint8_t m)
{
    __asm__ volatile("" : : "r"(m) : "memory");
}
#endif
