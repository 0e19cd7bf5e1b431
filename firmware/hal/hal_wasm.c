/* WebAssembly HAL (clang --target=wasm32 -nostdlib -mbulk-memory, linked by wasm-ld): text goes out through the
 * host's imported feagi.putc, feagi_hal_exit calls feagi.exit (the host ends the run, e.g. by
 * throwing), the boot-time heap is a bump allocator from __heap_base that grows the linear memory.
 * The host is feagi_embed/web/feagi_core.mjs (Node and the browser page alike). */
#include <stdint.h>
#include "feagi_hal.h"

__attribute__((import_module("feagi"), import_name("putc"))) void feagi_js_putc(int32_t c);
__attribute__((import_module("feagi"), import_name("exit"))) void feagi_js_exit(int32_t code);

void feagi_hal_putc(char c) { feagi_js_putc((int32_t)(unsigned char)c); }
uint32_t feagi_hal_cycles(void) { return 0u; }

void feagi_hal_exit(int code)
{
    feagi_js_exit((int32_t)code);
    __builtin_trap(); /* the host's exit does not return */
}

extern unsigned char __heap_base; /* defined by wasm-ld: first byte after the stack and data */
void *feagi_hal_alloc_once(uint32_t bytes)
{
    static uintptr_t next;
    uintptr_t p, end, have;
    if (next == 0u) next = (uintptr_t)&__heap_base;
    p = (next + 7u) & ~(uintptr_t)7u;
    if ((uintptr_t)bytes > UINTPTR_MAX - p) return 0;
    end = p + bytes;
    have = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u;
    if (end > have && __builtin_wasm_memory_grow(0, (end - have + 65535u) / 65536u) == (uintptr_t)-1)
        return 0;
    next = end;
    return (void *)p;
}
