/* Xtensa lx106 link HAL for qemu-system-xtensa -M sim (the ESP32 stand-in): the link rides on
 * QEMU's simcall semihosting console, which is QEMU's stdio: frames go out through hal_xtensa's
 * write(fd 1); feagi_hal_getc polls fd 0 with select_one (simcall 29, zero timeout; read request
 * 1) and reads one byte with read (simcall 3). End of input (read returns 0) is FEAGI_HAL_EOF,
 * so the run ends when the host closes the stream. Real ESP32 boards run the Arduino sketch
 * (`build --link`), whose reader is Serial. */
#include <stdint.h>
#include "feagi_link.h"

static long xt_simcall(long nr, long a, long b, long c)
{
    register long r2 __asm__("a2") = nr;
    register long r3 __asm__("a3") = a;
    register long r4 __asm__("a4") = b;
    register long r5 __asm__("a5") = c;
    __asm__ volatile("simcall" : "+r"(r2), "+r"(r3) : "r"(r4), "r"(r5) : "memory");
    return r2;
}

int16_t feagi_hal_getc(uint8_t wait)
{
    uint32_t tv[2] = {0u, 0u}; /* struct timeval {tv_sec, tv_usec}: poll, do not block */
    unsigned char c;
    long r;
    if (!wait && xt_simcall(29 /* select_one */, 0, 1 /* read */, (long)tv) <= 0)
        return FEAGI_HAL_NO_BYTE;
    r = xt_simcall(3 /* read */, 0, (long)&c, 1);
    if (r <= 0) return FEAGI_HAL_EOF;
    return (int16_t)c;
}
