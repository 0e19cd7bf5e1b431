/* HAL self-test: fills a buffer with a 64-bit LCG (64-bit multiply, unsigned and signed 64-bit
 * division/modulo), prints its CRC-32 (zlib polynomial) through the HAL and returns EXIT_CODE.
 * tests/test_targets.py recomputes the value with zlib.crc32. */
#include <stdint.h>
#include "feagi_hal.h"

#ifndef EXIT_CODE
#define EXIT_CODE 0
#endif
#define N 64

static uint64_t seed = 0x0123456789ABCDEFull;   /* .data */
static uint8_t buf[N];                          /* .bss */
static const uint32_t poly = 0xEDB88320u;       /* .rodata */

static uint32_t crc32(const uint8_t *p, uint32_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    uint32_t i;
    int k;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++) crc = (crc >> 1) ^ (poly & (0u - (crc & 1u)));
    }
    return ~crc;
}

int main(void)
{
    uint64_t x = seed;
    uint32_t i;
    for (i = 0; i < N; i++) {
        int64_t s;
        uint64_t v;
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        v = x / 1000003u;
        s = (int64_t)x / -7;
        buf[i] = (uint8_t)((v % 251u) ^ (x >> 56) ^ (uint64_t)s);
    }
    feagi_hal_puts("crc32=");
    feagi_hal_put_hex32(crc32(buf, N));
    feagi_hal_puts(" n=");
    feagi_hal_put_dec32(-(int32_t)N);
    feagi_hal_putc('\n');
    return EXIT_CODE;
}
