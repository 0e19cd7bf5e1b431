/* feagi_io_link.c - the io map on the two-way link (docs/link.md "Robot I/O over the link").
 *
 * Compiled into link builds that have an io map (it includes the generated feagi_io_map.h):
 * - SensorValue items (area, channel, axis, num/den) are encoded ON THE DEVICE with the area's
 *   FEAGI coder (feagi_io_encode, firmware/feagi_io.c) and queued with feagi_inject, potential 1.0
 *   per encoded voxel, exactly as the Arduino glue does with a pin reading;
 * - after every burst the fired neurons of each bound OPU area are collected, every actuator of
 *   the io map is decoded (feagi_io_decode; an actuator keeps its last value while its x columns
 *   do not fire, as FEAGI keeps the previous motor value) and, when the host asked for it
 *   (FEAGI_TRACE_MOTOR), sent as MotorValues frames.
 * C99, freestanding (no libc), no malloc, no float. Strong definitions of the weak hooks of feagi_link.c. */
#include "feagi_link.h"
#include "feagi_runtime.h"
#include "feagi_io_map.h"

#define MOTOR_HEAD 6u   /* burst u32, n u8, more u8 */
#define MOTOR_ENTRY 11u /* output u8, area u16, channel u16, axis u8, fired u8, q16 i32 */
#define MOTOR_MAX ((FEAGI_LINK_MAX_BODY - MOTOR_HEAD) / MOTOR_ENTRY)

static uint8_t io_bits[FEAGI_IO_BITS_BYTES + 1u];
static int32_t io_value[FEAGI_IO_N_OUTPUTS + 1u];
static uint8_t io_fired[FEAGI_IO_N_OUTPUTS + 1u];

/* the io-map area bound to model area `area` with the given direction, or -1 */
static int16_t io_area_of(uint16_t area, uint8_t opu)
{
    uint8_t j;
    for (j = 0; j < FEAGI_IO_N_AREAS; j++)
        if (feagi_io_area_index[j] == area && feagi_io_area_is_opu[j] == opu) return (int16_t)j;
    return -1;
}

static uint16_t channels_of(const feagi_io_desc *d)
{
    uint16_t cw = d->ndims == 0u ? 1u : (uint16_t)(d->is_signed ? 2u * d->ndims : d->ndims);
    return (uint16_t)(d->w / cw);
}

int8_t feagi_link_io_sensor(uint16_t area, uint16_t channel, uint8_t axis, int32_t num,
                            uint16_t den)
{
    uint16_t xs[FEAGI_IO_MAX_ENCODED], zs[FEAGI_IO_MAX_ENCODED], n, k;
    int16_t j = io_area_of(area, 0u);
    const feagi_io_desc *d;
    int8_t first = 0;
    if (j < 0) return FEAGI_LINK_ERR_IO;
    d = &feagi_io_areas[j];
    if (channel >= channels_of(d) || (d->ndims != 0u && axis >= d->ndims)) return FEAGI_ERR_INDEX;
    if (den == 0u || num > (int32_t)den || num < (d->is_signed ? -(int32_t)den : 0))
        return FEAGI_ERR_VALUE;
    n = feagi_io_encode(d, channel, axis, num, (int32_t)den, xs, zs, FEAGI_IO_MAX_ENCODED);
    for (k = 0; k < n; k++) { /* FEAGI injects potential 1.0 per encoded voxel */
        int8_t r = feagi_inject(area, xs[k], 0u, zs[k], (int32_t)1 << FEAGI_F);
        if (r != 0 && first == 0) first = r;
    }
    return first;
}

/* fired-voxel bitmaps (y = 0) of the bound OPU areas after a burst */
static void collect(void)
{
    uint32_t a;
    for (a = 0; a < (uint32_t)sizeof io_bits; a++) io_bits[a] = 0u;
    for (a = 0; a < FEAGI_IO_N_AREAS; a++) {
        const feagi_io_desc *d = &feagi_io_areas[a];
        uint16_t x, z, k, npv = feagi_io_area_npv[a];
        if (!feagi_io_area_is_opu[a]) continue;
        for (x = 0; x < d->w; x++)
            for (z = 0; z < d->d; z++)
                for (k = 0; k < npv; k++) {
                    uint32_t id = feagi_io_area_first[a] +
                                  (((uint32_t)x * feagi_io_area_h[a]) * d->d + z) * npv + k;
                    if (feagi_is_fired(id)) {
                        feagi_io_mark(d, io_bits + feagi_io_area_bits[a], x, 0u, z);
                        break;
                    }
                }
    }
}

static void report_motors(void)
{
    uint8_t *body = feagi_link_tx_body();
    uint32_t i, n = 0;
    for (i = 0; i < FEAGI_IO_N_OUTPUTS; i++) {
        const feagi_io_output *o = &feagi_io_outputs[i];
        uint8_t *e = body + MOTOR_HEAD + n * MOTOR_ENTRY;
        uint16_t area = feagi_io_area_index[o->io_area];
        uint32_t q = (uint32_t)io_value[i];
        e[0] = (uint8_t)i;
        e[1] = (uint8_t)(area & 0xFFu);
        e[2] = (uint8_t)(area >> 8);
        e[3] = (uint8_t)(o->channel & 0xFFu);
        e[4] = (uint8_t)(o->channel >> 8);
        e[5] = o->axis;
        e[6] = io_fired[i];
        e[7] = (uint8_t)(q & 0xFFu);
        e[8] = (uint8_t)((q >> 8) & 0xFFu);
        e[9] = (uint8_t)((q >> 16) & 0xFFu);
        e[10] = (uint8_t)(q >> 24);
        n++;
        if (n == MOTOR_MAX || i + 1u == FEAGI_IO_N_OUTPUTS) {
            uint32_t b = feagi_burst_number();
            body[0] = (uint8_t)(b & 0xFFu);
            body[1] = (uint8_t)((b >> 8) & 0xFFu);
            body[2] = (uint8_t)((b >> 16) & 0xFFu);
            body[3] = (uint8_t)(b >> 24);
            body[4] = (uint8_t)n;
            body[5] = i + 1u < FEAGI_IO_N_OUTPUTS ? 1u : 0u;
            feagi_link_send(FEAGI_MSG_MOTOR_VALUES, MOTOR_HEAD + n * MOTOR_ENTRY);
            n = 0;
        }
    }
}

void feagi_link_io_motors(uint8_t report)
{
    uint8_t i;
    collect();
    for (i = 0; i < FEAGI_IO_N_OUTPUTS; i++) {
        const feagi_io_output *o = &feagi_io_outputs[i];
        io_fired[i] = (uint8_t)feagi_io_decode(&feagi_io_areas[o->io_area],
                                               io_bits + feagi_io_area_bits[o->io_area],
                                               o->channel, o->axis, &io_value[i]);
    }
    if (report && FEAGI_IO_N_OUTPUTS > 0u) report_motors();
}

void feagi_link_io_reset(void)
{
    uint8_t i;
    for (i = 0; i < FEAGI_IO_N_OUTPUTS; i++) {
        io_value[i] = 0;
        io_fired[i] = 0u;
    }
}
