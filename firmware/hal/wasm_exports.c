/* Exports of the browser page's wasm module (feagi-embed build --board wasm), on top of the
 * runtime API of feagi_runtime.h (exported by the link flags of feagi_embed/web.py): the fired
 * ids of the last burst gathered into a buffer the host reads from the linear memory.
 *
 * The module is one translation unit: this file includes the runtime itself, so gathering the
 * fired ids walks the fired bitmap a word at a time (bm_next) instead of testing every neuron. */
#include "feagi_runtime.c"

static uint32_t fired_ids[FEAGI_N];

/* Address of the fired-id buffer (FEAGI_N uint32 words) in the linear memory. */
__attribute__((export_name("feagi_wasm_ids"))) uint32_t *feagi_wasm_ids(void)
{
    return fired_ids;
}

/* Write the last burst's fired ids, ascending, into the buffer; returns their number. */
__attribute__((export_name("feagi_wasm_collect_fired"))) uint32_t feagi_wasm_collect_fired(void)
{
    uint32_t i, n = 0u;
    for (i = bm_next(BM_FIRED, 0u); i < (uint32_t)FEAGI_N; i = bm_next(BM_FIRED, i + 1u))
        fired_ids[n++] = i;
    return n;
}

/* Number of neurons, for the host's sanity check against model.json. */
__attribute__((export_name("feagi_wasm_neurons"))) uint32_t feagi_wasm_neurons(void)
{
    return (uint32_t)FEAGI_N;
}
