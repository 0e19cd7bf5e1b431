/* feagi_runtime.h - public API of the portable FEAGI burst runtime (docs/model.md §3-§4).
 *
 * Integer-only C99; the model (constants, typedefs, const arrays and their FEAGI_GET_* accessors)
 * comes from the generated "feagi_model.h". */
#ifndef FEAGI_RUNTIME_H
#define FEAGI_RUNTIME_H
#include <stdint.h>
#include "feagi_model.h"
#ifdef __cplusplus
extern "C" {
#endif

/* Precision (FEAGI's engine flag --precision): fixed point (default; V, thresholds and
 * contributions are int32 with F fractional bits) or, when the generated feagi_model.h defines
 * FEAGI_PRECISION_FP32 1, IEEE single precision with FEAGI's operation order (docs/model.md §7).
 * Build fp32 with -ffp-contract=off and without -ffast-math (FEAGI_FP32 refuses the latter). */
#if defined(FEAGI_PRECISION_FP32) && FEAGI_PRECISION_FP32
#define FEAGI_FP32 1
#else
#define FEAGI_FP32 0
#endif

/* Hook for output (OPU) areas: called once per fired neuron of an output area, after each burst,
 * in ascending id order. (x, y, z, k) are the neuron's voxel coordinates and index inside it. */
typedef void (*feagi_on_fire_fn)(uint16_t area, uint16_t x, uint16_t y, uint16_t z, uint16_t k);

/* Error codes of feagi_init / feagi_inject* / feagi_force_fire*. */
#define FEAGI_ERR_INDEX (-1) /* bad area, voxel or neuron id */
#define FEAGI_ERR_QUEUE (-2) /* injection queue full for this burst */
#define FEAGI_ERR_VALUE (-3) /* |value| > the model's max sensory value, or not a multiple of the
                              * sensory step of an area with 16- or 8-bit membrane potentials,
                              * or < 0 there when the area has no charge accumulation */
#define FEAGI_ERR_HEAP (-4)  /* feagi_init: the heap could not supply the state arrays */
#define FEAGI_ERR_BUDGET (-5) /* the positive injections queued into one neuron of an area with
                               * 16- or 8-bit membrane potentials in this burst would exceed
                               * FEAGI_SENSORY_BUDGET_Q (the proof's budget: by default one max
                               * sensory value per burst) */
#define FEAGI_ERR_INIT (-6)  /* called before a successful feagi_init() */

/* Before a successful feagi_init() every call is safe: feagi_inject* / feagi_force_fire* return
 * FEAGI_ERR_INIT, feagi_burst does nothing and returns 0, the digests and counters return 0 and
 * feagi_is_fired 0 (heap-placed state does not exist yet). */

/* Reset all state (V, counters, PSPs, queues, digests) to the model's initial state; burst = 0.
 * The first call also takes the state arrays placed on the heap (FEAGI_HEAP_BYTES > 0) from
 * feagi_hal_alloc_once(); returns 0 or FEAGI_ERR_HEAP. */
int8_t feagi_init(void);
/* Run one burst (number feagi_burst_number()+1); returns the number of neurons fired. */
uint32_t feagi_burst(void);
/* Schedule sensory input q(value) (fixed point, F fractional bits) for the next burst, to the last
 * neuron of voxel (x, y, z) of `area`. Returns 0, or FEAGI_ERR_INDEX / _QUEUE / _VALUE / _BUDGET
 * (narrow-V areas) / _INIT.
 * feagi_inject drops value_q == 0 (FEAGI drops p == 0); feagi_inject_id queues it as given. */
int8_t feagi_inject(uint16_t area, uint16_t x, uint16_t y, uint16_t z, int32_t value_q);
/* Schedule a force-fire of voxel (x, y, z) of `area` for the next burst (same returns). */
int8_t feagi_force_fire(uint16_t area, uint16_t x, uint16_t y, uint16_t z);
/* The same by neuron id (test schedules). */
int8_t feagi_inject_id(uint32_t id, int32_t value_q);
int8_t feagi_force_fire_id(uint32_t id);
#if FEAGI_FP32
/* fp32 builds: schedule the real sensory value (finite; 0 dropped by feagi_inject_f32 as FEAGI
 * drops p == 0). feagi_inject / feagi_inject_id take q(value) there too and queue q / 2^F (exact
 * for |q| < 2^24), so io maps and the link, which send grid values, work unchanged. */
int8_t feagi_inject_f32(uint16_t area, uint16_t x, uint16_t y, uint16_t z, float value);
int8_t feagi_inject_id_f32(uint32_t id, float value);
#endif
void feagi_set_on_fire(feagi_on_fire_fn fn);

uint32_t feagi_burst_number(void);
/* The last burst's fired set (valid until the next feagi_burst()). */
uint32_t feagi_fired_count(void);
int feagi_is_fired(uint32_t id);
/* CRC-32 of [b, count, ids...] (u32 LE) of the last burst. */
uint32_t feagi_burst_digest(void);
/* CRC-32 over V (int32 LE; fp32 builds: the f32 bits, LE), cd (u16 LE), cc (u16 LE) of all neurons in id order. */
uint32_t feagi_state_digest(void);
/* CRC-32 chained over all burst digests so far (u32 LE). */
uint32_t feagi_final_digest(void);
/* zlib CRC-32 update over n bytes (crc starts at 0). */
uint32_t feagi_crc32(uint32_t crc, const uint8_t *p, uint32_t n);

/* Device protocol lines through the HAL: "B <b> <count> <crc>", "S <b> <crc>", "E <bursts> <crc>". */
void feagi_trace_burst(void);
void feagi_trace_state(void);
void feagi_trace_end(void);

#ifdef __cplusplus
}
#endif
#endif
