/* feagi_io.h - FEAGI sensor encoders and motor decoders, integer-only (C99, no malloc, no float).
 *
 * What FEAGI's connector side does (feagi/feagi-core crates/feagi-sensorimotor, module
 * neuron_voxel_coding::xyzp; docs/io.md cites each function) done with integers so that every
 * microcontroller computes it the same way; feagi_embed/io/coders.py is the Python reference the
 * tests compare this file with.
 *
 * A sensor value is the fraction num/den (0 <= num <= den for unsigned, -den <= num <= den for
 * signed; 1 <= den <= 65535), e.g. an ADC reading minus its low end over the ADC span. A decoded
 * motor value is Q16: 65536 = 1.0 (unsigned 0..65536, signed -65536..65536).
 * Only y = 0 carries values (FEAGI's coders read and write y = 0 only). */
#ifndef FEAGI_IO_H
#define FEAGI_IO_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One IO area as the coders see it (emitted per bound area in feagi_io_map.h). */
typedef struct {
    uint16_t w;          /* voxels along x (channels x channel width) */
    uint16_t d;          /* voxels along z (the value resolution), 1..255 */
    uint8_t ndims;       /* percentages per channel 1..4; 0 = Boolean */
    uint8_t is_signed;   /* 1: SignedPercentage (a positive and a negative x column per value) */
    uint8_t fractional;  /* 0: Linear neuron positioning, 1: Fractional (exponential) */
} feagi_io_desc;

/* One io-map sensor binding (feagi_io_map.h): read pin, scale, encode into (area, channel, axis). */
typedef struct {
    uint8_t io_area;     /* index into feagi_io_areas */
    uint8_t axis;
    uint16_t channel;
    uint8_t pin;
    uint8_t digital;     /* 1: digitalRead, 0: analogRead */
    uint8_t invert;
    int16_t lo, hi;      /* raw reading range */
} feagi_io_input;

/* One io-map actuator binding: decode (area, channel, axis), drive pin(s). */
typedef struct {
    uint8_t io_area;
    uint8_t axis;
    uint16_t channel;
    uint8_t drive;       /* FEAGI_IO_HBRIDGE, _PWM, _DIGITAL, _SERVO */
    uint8_t pin;         /* PWM / digital / servo pin */
    int16_t pin2;        /* H-bridge direction pin (-1: none) */
    int16_t lo, hi;      /* servo angle range (degrees) */
} feagi_io_output;

enum { FEAGI_IO_HBRIDGE = 0, FEAGI_IO_PWM = 1, FEAGI_IO_DIGITAL = 2, FEAGI_IO_SERVO = 3 };

#define FEAGI_IO_ONE_Q16 65536L
/* most voxels one encoded value can produce (fractional: one per z; signed zero: two) */
#define FEAGI_IO_MAX_VOXELS 255u

/* Voxels (x, z) that encode value num/den of (channel, axis); returns how many were written to
 * xs/zs (at most cap; voxels outside the area's x range are not written). Boolean areas: num != 0
 * fires (channel, 0, 0); false produces nothing (FEAGI sends potential 0, which is dropped). */
uint16_t feagi_io_encode(const feagi_io_desc *desc, uint16_t channel, uint8_t axis, int32_t num,
                         int32_t den, uint16_t *xs, uint16_t *zs, uint16_t cap);

/* Decode (channel, axis) from the fired-voxel bitmap of one OPU area (bit x * d + z of y = 0).
 * Returns 1 and writes *q16 when the value's x column(s) hold a fired voxel, else 0 and leaves
 * *q16 alone (FEAGI keeps the previous value when nothing fired). */
int8_t feagi_io_decode(const feagi_io_desc *desc, const uint8_t *bits, uint16_t channel,
                       uint8_t axis, int32_t *q16);

/* Mark voxel (x, y, z) fired in a bitmap of w * d bits (y != 0 and out-of-range are ignored). */
void feagi_io_mark(const feagi_io_desc *desc, uint8_t *bits, uint16_t x, uint16_t y, uint16_t z);

/* A raw reading in [lo, hi] (lo < hi, hi - lo <= 65535) as num/den: unsigned (r - lo)/(hi - lo),
 * signed (2r - lo - hi)/(hi - lo); clamped to the range; invert mirrors it. */
void feagi_io_scale(int32_t raw, int32_t lo, int32_t hi, uint8_t is_signed, uint8_t invert,
                    int32_t *num, int32_t *den);

/* Actuator values from a Q16 motor value: PWM duty 0..top of |q16| (clamped to 1.0), servo angle
 * lo + (hi - lo) * q16 / 65536 of an unsigned value (negative reads as 0). */
uint16_t feagi_io_duty(int32_t q16, uint16_t top);
int16_t feagi_io_angle(int32_t q16, int16_t lo, int16_t hi);

/* Camera frames (docs/io.md): box-average a grayscale frame sw x sh (row-major, 8-bit) down to
 * dw x dh (dw <= sw, dh <= sh) into dst (dw * dh bytes, row-major from the top row). */
void feagi_io_downscale(const uint8_t *src, uint16_t sw, uint16_t sh, uint8_t *dst, uint16_t dw,
                        uint16_t dh);

/* A (downscaled) grayscale frame into a vision area, as FEAGI's ImageFrame::overwrite_neuron_data:
 * pixel (col, row) with value > threshold (FEAGI: > 1) fires voxel (x0 + col, h - 1 - row, 0)
 * (row 0 is the top row; y counts up) with potential value / 255. Writes up to cap voxels from
 * pixel index start on (row-major), returns how many; *next is where to resume (w * h when done),
 * so a frame can be injected across several bursts with a small queue. */
uint16_t feagi_io_encode_frame(const uint8_t *img, uint16_t w, uint16_t h, uint16_t x0,
                               uint8_t threshold, uint32_t start, uint16_t *xs, uint16_t *ys,
                               uint8_t *px, uint16_t cap, uint32_t *next);

/* q(pixel / 255) with F fractional bits (F <= 16): floor(pixel * 2^F / 255). */
int32_t feagi_io_pixel_q(uint8_t pixel, uint8_t frac_bits);

#ifdef __cplusplus
}
#endif
#endif /* FEAGI_IO_H */
