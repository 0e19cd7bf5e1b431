/* feagi_link.h - the two-way serial link of the FEAGI firmware (docs/link.md).
 *
 * A framed binary protocol over a byte stream (UART, USB-CDC, a pipe): every frame is
 *   COBS( version u8 | type u8 | seq u8 | body | CRC-32 u32 LE over version..body ) 0x00
 * with the zlib CRC-32 of feagi_crc32(). The host sends sensor data, force-fires and burst-rate
 * control; the device answers every command with an Ack and reports OPU firing, burst and state
 * digests and (optionally) the fired ids of every burst. Every field is bounds-checked; bad frames
 * are counted (feagi_link_stats) and dropped.
 *
 * C99, no malloc, fixed buffers. Optional at build time: only firmware built with the link
 * (firmware/link/link_main.c as main, or a sketch that calls feagi_link_service) compiles it. */
#ifndef FEAGI_LINK_H
#define FEAGI_LINK_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

#define FEAGI_LINK_VERSION 1u
/* Largest decoded frame: 3 header bytes + body + 4 CRC bytes. */
#define FEAGI_LINK_MAX_FRAME 256u
#define FEAGI_LINK_MAX_BODY (FEAGI_LINK_MAX_FRAME - 7u)
/* Largest COBS-encoded frame (one overhead byte per 254 data bytes, rounded up), delimiter excluded. */
#define FEAGI_LINK_MAX_ENCODED (FEAGI_LINK_MAX_FRAME + FEAGI_LINK_MAX_FRAME / 254u + 1u)

/* ---- message types (docs/link.md has the byte layouts); host -> device */
#define FEAGI_MSG_GET_CAPABILITIES 0x01u /* -> Capabilities, AreaInfo per area, Ack */
#define FEAGI_MSG_SENSOR_DATA 0x02u      /* n x {area u16, x u16, y u16, z u16, value_q i32} */
#define FEAGI_MSG_FORCE_FIRE 0x03u       /* n x {area u16, x u16, y u16, z u16} */
#define FEAGI_MSG_RUN 0x04u              /* {mode u8, n u32}: stop / run n bursts / free-run */
#define FEAGI_MSG_SET_TRACE 0x05u        /* {flags u8, state_every u16} */
#define FEAGI_MSG_GET_STATS 0x06u        /* -> Stats, Ack */
#define FEAGI_MSG_GET_DIGESTS 0x07u      /* -> Digests, Ack */
#define FEAGI_MSG_RESET 0x08u            /* feagi_init(): burst 0, queues empty */
#define FEAGI_MSG_SET_GPIO 0x09u         /* {pin u16, value u8} -> feagi_link_on_gpio hook */
#define FEAGI_MSG_SET_PWM 0x0Au          /* {pin u16, duty u16} -> feagi_link_on_pwm hook */
#define FEAGI_MSG_SENSOR_VALUE 0x0Bu     /* n x {area u16, channel u16, axis u8, num i32, den u16}:
                                          * encoded on the device by the io coders (feagi_io_link.c) */
/* device -> host */
#define FEAGI_MSG_ACK 0x80u              /* {type u8, status i8, n_ok u16, n_bad u16, burst u32} */
#define FEAGI_MSG_CAPABILITIES 0x81u
#define FEAGI_MSG_AREA_INFO 0x82u
#define FEAGI_MSG_NEURON_FIRING 0x83u    /* OPU firing of one burst */
#define FEAGI_MSG_BURST_DIGEST 0x84u
#define FEAGI_MSG_STATE_DIGEST 0x85u
#define FEAGI_MSG_FIRED_IDS 0x86u
#define FEAGI_MSG_STATS 0x87u
#define FEAGI_MSG_DIGESTS 0x88u
#define FEAGI_MSG_MOTOR_VALUES 0x89u     /* decoded io-map actuator values of one burst */

/* Run modes of FEAGI_MSG_RUN. */
#define FEAGI_RUN_STOP 0u
#define FEAGI_RUN_N 1u    /* run n bursts (n = 1: step) */
#define FEAGI_RUN_FREE 2u /* run until stopped, reading input between bursts */

/* Trace flags of FEAGI_MSG_SET_TRACE (default: BURST | OPU). */
#define FEAGI_TRACE_BURST 1u /* BurstDigest after every burst */
#define FEAGI_TRACE_STATE 2u /* StateDigest every state_every bursts */
#define FEAGI_TRACE_IDS 4u   /* FiredIds after every burst */
#define FEAGI_TRACE_OPU 8u   /* NeuronFiring after every burst with OPU firing */
#define FEAGI_TRACE_MOTOR 16u /* MotorValues after every burst (firmware built with an io map) */
#define FEAGI_TRACE_ALL 0x1Fu

/* Ack status codes (besides the runtime's FEAGI_ERR_*: -1 index, -2 queue, -3 value, -4 heap). */
#define FEAGI_LINK_OK 0
#define FEAGI_LINK_ERR_LENGTH (-10) /* body length wrong for the message type */
#define FEAGI_LINK_ERR_FIELD (-11)  /* a field out of range (run mode, ...) */
#define FEAGI_LINK_ERR_TYPE (-12)   /* unknown message type */
#define FEAGI_LINK_ERR_IO (-13)     /* area or channel not bound by the io map (or no io map) */

/* Counters of received frames; every non-empty frame increments exactly one of the first eight. */
typedef struct {
    uint32_t frames_ok;    /* decoded, CRC good, known type, valid length: executed */
    uint32_t bad_cobs;     /* COBS code points past the end of the frame */
    uint32_t too_long;     /* more than FEAGI_LINK_MAX_ENCODED bytes before a 0x00 */
    uint32_t too_short;    /* fewer than 7 decoded bytes */
    uint32_t bad_crc;      /* CRC-32 mismatch */
    uint32_t bad_version;  /* version byte != FEAGI_LINK_VERSION */
    uint32_t bad_type;     /* unknown (or device -> host) message type */
    uint32_t bad_length;   /* body length not valid for the type */
    uint32_t item_errors;  /* items of executed frames the runtime refused (bad area, voxel, value) */
    uint32_t queue_full;   /* items refused with FEAGI_ERR_QUEUE (also in item_errors) */
} feagi_link_stats_t;

/* HAL hook (per family: firmware/hal/link_<family>.c): one received byte 0..255, or
 * FEAGI_HAL_NO_BYTE when none is waiting (wait == 0) or FEAGI_HAL_EOF when the stream ended
 * (native only). With wait != 0 it blocks until a byte or the end of the stream. */
#define FEAGI_HAL_NO_BYTE (-1)
#define FEAGI_HAL_EOF (-2)
int16_t feagi_hal_getc(uint8_t wait);

/* Reset the link (receiver, counters, trace flags, run mode); also installs the OPU hook. */
void feagi_link_init(void);
/* Feed one received byte; a complete frame (0x00) is executed at once. */
void feagi_link_rx_byte(uint8_t b);
/* Bursts still scheduled by a Run frame (0xFFFFFFFF: free-run). */
uint32_t feagi_link_pending(void);
/* Run one scheduled burst with its trace output (does nothing when none is scheduled). */
void feagi_link_step(void);
/* The main loop body: read input (blocking while no burst is scheduled), run scheduled bursts.
 * Returns 0, or 1 when the input stream ended. */
int feagi_link_service(void);
const feagi_link_stats_t *feagi_link_stats(void);

/* Hooks for SetGpio / SetPwm (weak no-ops where the compiler supports it; a sketch overrides them).
 * Return 0 or a negative status for the Ack. */
int8_t feagi_link_on_gpio(uint16_t pin, uint8_t value);
int8_t feagi_link_on_pwm(uint16_t pin, uint16_t duty);

/* Hooks around every burst the link runs (weak no-ops; the Arduino sketch reads sensors and
 * drives actuators in them): before feagi_burst, and after it, before the burst's reports. */
void feagi_link_before_burst(uint32_t burst);
void feagi_link_after_burst(uint32_t burst);

/* The io-map side of the link (firmware/feagi_io_link.c, compiled into builds with an io map;
 * weak defaults here answer FEAGI_LINK_ERR_IO / send nothing). One SensorValue item: encode
 * num/den for (area, channel, axis) with the area's coder and queue the voxels; returns 0 or a
 * status. After every burst: decode the io map's actuators and, when `report`, send MotorValues. */
int8_t feagi_link_io_sensor(uint16_t area, uint16_t channel, uint8_t axis, int32_t num,
                            uint16_t den);
void feagi_link_io_motors(uint8_t report);
/* Reset (FEAGI_MSG_RESET): the held actuator values back to 0. */
void feagi_link_io_reset(void);

/* For feagi_io_link.c: the body of the next device frame (FEAGI_LINK_MAX_BODY bytes) and its
 * sender (type, body length). */
uint8_t *feagi_link_tx_body(void);
void feagi_link_send(uint8_t type, uint32_t body_len);

/* COBS helpers (also used by the fuzz driver). Return the output length, or -1 when `out_cap` is
 * too small (encode) or the input is not valid COBS (decode; in place allowed: out == in). */
int32_t feagi_cobs_encode(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t out_cap);
int32_t feagi_cobs_decode(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t out_cap);

#ifdef __cplusplus
}
#endif
#endif
