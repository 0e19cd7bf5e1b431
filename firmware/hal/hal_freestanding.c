/* memcpy/memmove/memset/memcmp for the -nostdlib targets (cortexm, riscv_virt, xtensa_lx106):
 * gcc may emit calls to them for struct copies and array initialisation even in freestanding
 * code. Built with -fno-tree-loop-distribute-patterns so these loops do not call themselves. */
#include <stddef.h>
#include <stdint.h>
#include "feagi_hal.h"

/* feagi_hal_alloc_once for bare metal: a bump allocator over the RAM between the end of .bss and
 * the stack (the linker scripts define __bss_end and __stack_top; FEAGI_HAL_STACK_MARGIN bytes
 * below __stack_top are left to the stack). */
#ifndef FEAGI_HAL_STACK_MARGIN
#define FEAGI_HAL_STACK_MARGIN 16384u
#endif
#ifdef FEAGI_HAL_EXT_HEAP
/* boards with external RAM (ESP32-S3 PSRAM): the bump allocator serves the external window the
 * linker script defines (__ext_ram_start .. __ext_ram_end, from the board's [emulator]
 * ext_ram_origin / ext_ram_size) instead of the internal RAM */
extern uint32_t __ext_ram_start, __ext_ram_end;
#define HEAP_FIRST ((uintptr_t)&__ext_ram_start)
#define HEAP_LIMIT ((uintptr_t)&__ext_ram_end)
#else
extern uint32_t __bss_end, __stack_top;
#define HEAP_FIRST ((uintptr_t)&__bss_end)
#define HEAP_LIMIT ((uintptr_t)&__stack_top - (uintptr_t)FEAGI_HAL_STACK_MARGIN)
#endif
void *feagi_hal_alloc_once(uint32_t bytes)
{
    static uintptr_t next;
    uintptr_t p, limit = HEAP_LIMIT;
    if (next == 0u) next = HEAP_FIRST;
    p = (next + 7u) & ~(uintptr_t)7u;
    if (p > limit || (uintptr_t)bytes > limit - p) return 0;
    next = p + bytes;
    return (void *)p;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        d += n; s += n;
        while (n--) *--d = *--s;
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}
