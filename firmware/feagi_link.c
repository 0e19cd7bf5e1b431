/* feagi_link.c - the two-way serial link (docs/link.md): COBS framing, CRC-32, message dispatch
 * onto the runtime (feagi_inject / feagi_force_fire / feagi_burst) and the trace output.
 *
 * C99, no malloc: one receive buffer and one transmit buffer of fixed size. Every length and
 * index is checked before it is used; a frame that fails any check is counted and dropped. */
#include "feagi_link.h"
#include "feagi_hal.h"
#include "feagi_runtime.h"

/* The byte writer of link frames: the HAL's text output by default; a family whose text output
 * is not the link (Cortex-M semihosting) builds with -DFEAGI_LINK_PUTC=its UART writer. */
#ifndef FEAGI_LINK_PUTC
#define FEAGI_LINK_PUTC feagi_hal_putc
#else
void FEAGI_LINK_PUTC(char c);
#endif

#define LINK_AF_OUTPUT 8u /* AF_OUTPUT of feagi_runtime.c: the area is an OPU */
#define HDR 3u
#define CRC_LEN 4u
#define FREE_RUN 0xFFFFFFFFu

static uint8_t rx_buf[FEAGI_LINK_MAX_ENCODED];
static uint32_t rx_len;
static uint8_t rx_overflow;
static uint8_t tx_body[FEAGI_LINK_MAX_FRAME];
static uint8_t tx_enc[FEAGI_LINK_MAX_ENCODED];
static uint8_t tx_seq;
static feagi_link_stats_t stats;
static uint8_t trace_flags = FEAGI_TRACE_BURST | FEAGI_TRACE_OPU;
static uint16_t state_every;
static uint32_t pending;
/* OPU firing of the current burst, flushed in frames of up to OPU_MAX entries */
#define OPU_ENTRY 10u
#define OPU_HEAD 6u /* burst u32, n u8, more u8 */
#define OPU_MAX ((FEAGI_LINK_MAX_BODY - OPU_HEAD) / OPU_ENTRY)
static uint8_t opu_buf[OPU_MAX * OPU_ENTRY];
static uint32_t opu_n;

/* ---- little-endian field access (bounds checked by the callers' length checks) */
static uint16_t rd16(const uint8_t *p) { return (uint16_t)((uint16_t)p[0] | ((uint16_t)p[1] << 8)); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v & 0xFFu); p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)(v >> 24);
}

/* ---- COBS */
int32_t feagi_cobs_encode(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t out_cap)
{
    uint32_t r, w = 1, code_at = 0;
    uint8_t code = 1;
    if (n > 0xFFFF0000u || out_cap < n + n / 254u + 1u) return -1; /* the worst case must fit */
    for (r = 0; r < n; r++) {
        if (in[r] == 0u) {
            out[code_at] = code;
            code = 1;
            code_at = w++;
            continue;
        }
        out[w++] = in[r];
        if (++code == 0xFFu) {
            out[code_at] = code;
            code = 1;
            code_at = w++;
        }
    }
    out[code_at] = code;
    return (int32_t)w;
}

int32_t feagi_cobs_decode(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t out_cap)
{
    uint32_t r = 0, w = 0;
    while (r < n) {
        uint8_t code = in[r];
        uint32_t i;
        if (code == 0u) return -1;            /* a delimiter inside a frame */
        if ((uint32_t)code - 1u > n - r - 1u) return -1; /* the block runs past the end */
        r++;
        for (i = 1; i < code; i++) {
            if (in[r] == 0u || w >= out_cap) return -1;
            out[w++] = in[r++];
        }
        if (code != 0xFFu && r < n) {
            if (w >= out_cap) return -1;
            out[w++] = 0u;
        }
    }
    return (int32_t)w;
}

/* ---- transmit */
static void send_frame(uint8_t type, uint32_t body_len)
{
    uint32_t crc, i;
    int32_t n;
    if (body_len > FEAGI_LINK_MAX_BODY) return; /* never: bodies are sized below the limit */
    /* tx_body holds the body at HDR..; write the header and CRC around it */
    tx_body[0] = (uint8_t)FEAGI_LINK_VERSION;
    tx_body[1] = type;
    tx_body[2] = tx_seq++;
    crc = feagi_crc32(0u, tx_body, HDR + body_len);
    wr32(tx_body + HDR + body_len, crc);
    n = feagi_cobs_encode(tx_body, HDR + body_len + CRC_LEN, tx_enc, (uint32_t)sizeof tx_enc);
    if (n < 0) return;
    for (i = 0; i < (uint32_t)n; i++) FEAGI_LINK_PUTC((char)tx_enc[i]);
    FEAGI_LINK_PUTC('\0');
}

#define BODY (tx_body + HDR)

static void send_ack(uint8_t type, uint8_t seq, int8_t status, uint16_t n_ok, uint16_t n_bad)
{
    BODY[0] = type;
    BODY[1] = (uint8_t)status;
    wr16(BODY + 2, n_ok);
    wr16(BODY + 4, n_bad);
    wr32(BODY + 6, feagi_burst_number());
    BODY[10] = seq;
    send_frame(FEAGI_MSG_ACK, 11u);
}

static void opu_flush(uint8_t more)
{
    uint32_t i;
    if (opu_n == 0u) return;
    wr32(BODY, feagi_burst_number());
    BODY[4] = (uint8_t)opu_n;
    BODY[5] = more;
    for (i = 0; i < opu_n * OPU_ENTRY; i++) BODY[OPU_HEAD + i] = opu_buf[i];
    send_frame(FEAGI_MSG_NEURON_FIRING, OPU_HEAD + opu_n * OPU_ENTRY);
    opu_n = 0;
}

static void on_fire(uint16_t area, uint16_t x, uint16_t y, uint16_t z, uint16_t k)
{
    uint8_t *p;
    if ((trace_flags & FEAGI_TRACE_OPU) == 0u) return;
    if (opu_n >= OPU_MAX) opu_flush(1u);
    p = opu_buf + opu_n * OPU_ENTRY;
    wr16(p, area);
    wr16(p + 2, x);
    wr16(p + 4, y);
    wr16(p + 6, z);
    wr16(p + 8, k);
    opu_n++;
}

static void send_state_digest(void)
{
    wr32(BODY, feagi_burst_number());
    wr32(BODY + 4, feagi_state_digest());
    send_frame(FEAGI_MSG_STATE_DIGEST, 8u);
}

static void send_fired_ids(void)
{
    /* {burst u32, total u32, offset u32, ids u32...}; a burst with no firing sends one empty frame */
    const uint32_t max_ids = (FEAGI_LINK_MAX_BODY - 12u) / 4u;
    uint32_t total = feagi_fired_count(), sent = 0, n = 0, i;
    wr32(BODY, feagi_burst_number());
    wr32(BODY + 4, total);
    for (i = 0; i < (uint32_t)FEAGI_N; i++) {
        if (!feagi_is_fired(i)) continue;
        if (n == max_ids) {
            wr32(BODY + 8, sent);
            send_frame(FEAGI_MSG_FIRED_IDS, 12u + 4u * n);
            sent += n;
            n = 0;
            wr32(BODY, feagi_burst_number());
            wr32(BODY + 4, total);
        }
        wr32(BODY + 12u + 4u * n, i);
        n++;
    }
    wr32(BODY + 8, sent);
    send_frame(FEAGI_MSG_FIRED_IDS, 12u + 4u * n);
}

void feagi_link_step(void)
{
    uint32_t fired;
    if (pending == 0u) return;
    if (pending != FREE_RUN) pending--;
    opu_n = 0;
    feagi_link_before_burst(feagi_burst_number() + 1u);
    fired = feagi_burst();
    opu_flush(0u);
    feagi_link_after_burst(feagi_burst_number());
    feagi_link_io_motors((trace_flags & FEAGI_TRACE_MOTOR) != 0u ? 1u : 0u);
    if ((trace_flags & FEAGI_TRACE_IDS) != 0u) send_fired_ids();
    if ((trace_flags & FEAGI_TRACE_STATE) != 0u && state_every != 0u &&
        feagi_burst_number() % state_every == 0u)
        send_state_digest();
    if ((trace_flags & FEAGI_TRACE_BURST) != 0u) {
        wr32(BODY, feagi_burst_number());
        wr32(BODY + 4, fired);
        wr32(BODY + 8, feagi_burst_digest());
        send_frame(FEAGI_MSG_BURST_DIGEST, 12u);
    }
}

/* ---- receive */
/* Default SetGpio / SetPwm hooks: weak with GCC / Clang (a sketch's definitions win); other
 * compilers get them unless the build defines FEAGI_LINK_USER_HOOKS and supplies its own. */
#if defined(__GNUC__)
#define FEAGI_LINK_WEAK __attribute__((weak))
#else
#define FEAGI_LINK_WEAK
#endif
#if defined(__GNUC__) || !defined(FEAGI_LINK_USER_HOOKS)
FEAGI_LINK_WEAK int8_t feagi_link_on_gpio(uint16_t pin, uint8_t value)
{
    (void)pin;
    (void)value;
    return 0;
}
FEAGI_LINK_WEAK int8_t feagi_link_on_pwm(uint16_t pin, uint16_t duty)
{
    (void)pin;
    (void)duty;
    return 0;
}
/* No byte reader linked in (a project built with the link whose bare-metal test driver never
 * services it): the stream reads as ended. Every link build links a strong one. */
FEAGI_LINK_WEAK int16_t feagi_hal_getc(uint8_t wait)
{
    (void)wait;
    return FEAGI_HAL_EOF;
}
FEAGI_LINK_WEAK void feagi_link_before_burst(uint32_t burst) { (void)burst; }
FEAGI_LINK_WEAK void feagi_link_after_burst(uint32_t burst) { (void)burst; }
FEAGI_LINK_WEAK int8_t feagi_link_io_sensor(uint16_t area, uint16_t channel, uint8_t axis,
                                            int32_t num, uint16_t den)
{
    (void)area;
    (void)channel;
    (void)axis;
    (void)num;
    (void)den;
    return FEAGI_LINK_ERR_IO;
}
FEAGI_LINK_WEAK void feagi_link_io_motors(uint8_t report) { (void)report; }
FEAGI_LINK_WEAK void feagi_link_io_reset(void) { }
#endif

uint8_t *feagi_link_tx_body(void) { return BODY; }
void feagi_link_send(uint8_t type, uint32_t body_len) { send_frame(type, body_len); }

static void send_capabilities(void)
{
    uint16_t a;
    BODY[0] = (uint8_t)FEAGI_LINK_VERSION;
    BODY[1] = 0u; /* reserved */
    wr16(BODY + 2, (uint16_t)FEAGI_A);
    wr32(BODY + 4, (uint32_t)FEAGI_N);
    wr16(BODY + 8, (uint16_t)FEAGI_QUEUE_LEN);
    wr16(BODY + 10, (uint16_t)FEAGI_LINK_MAX_FRAME);
    wr32(BODY + 12, (uint32_t)FEAGI_MAX_SENSORY_Q);
    wr32(BODY + 16, feagi_burst_number());
    send_frame(FEAGI_MSG_CAPABILITIES, 20u);
    for (a = 0; a < (uint16_t)FEAGI_A; a++) {
        wr16(BODY, a);
        wr16(BODY + 2, (uint16_t)FEAGI_GET_AREA_W(a));
        wr16(BODY + 4, (uint16_t)FEAGI_GET_AREA_H(a));
        wr16(BODY + 6, (uint16_t)FEAGI_GET_AREA_D(a));
        wr16(BODY + 8, (uint16_t)FEAGI_GET_AREA_NPV(a));
        wr32(BODY + 10, (uint32_t)FEAGI_GET_AREA_FIRST(a));
        BODY[14] = (FEAGI_GET_AREA_FLAGS(a) & LINK_AF_OUTPUT) != 0u ? 1u : 0u;
        send_frame(FEAGI_MSG_AREA_INFO, 15u);
    }
}

static void send_stats(void)
{
    /* the ten counters in struct order */
    wr32(BODY, stats.frames_ok);
    wr32(BODY + 4, stats.bad_cobs);
    wr32(BODY + 8, stats.too_long);
    wr32(BODY + 12, stats.too_short);
    wr32(BODY + 16, stats.bad_crc);
    wr32(BODY + 20, stats.bad_version);
    wr32(BODY + 24, stats.bad_type);
    wr32(BODY + 28, stats.bad_length);
    wr32(BODY + 32, stats.item_errors);
    wr32(BODY + 36, stats.queue_full);
    send_frame(FEAGI_MSG_STATS, 40u);
}

static void count_item(int8_t r, uint16_t *ok, uint16_t *bad, int8_t *status)
{
    if (r == 0) {
        (*ok)++;
        return;
    }
    (*bad)++;
    stats.item_errors++;
    if (r == FEAGI_ERR_QUEUE) stats.queue_full++;
    if (*status == 0) *status = r;
}

/* Execute a frame whose CRC and version were checked: p = body, n = body length. */
static void dispatch(uint8_t type, uint8_t seq, const uint8_t *p, uint32_t n)
{
    uint16_t ok = 0, bad = 0;
    int8_t status = 0;
    uint32_t i, cnt;
    switch (type) {
    case FEAGI_MSG_GET_CAPABILITIES:
    case FEAGI_MSG_GET_STATS:
    case FEAGI_MSG_GET_DIGESTS:
    case FEAGI_MSG_RESET:
        if (n != 0u) goto bad_length;
        break;
    case FEAGI_MSG_SENSOR_DATA:
        if (n < 1u || n != 1u + 12u * (uint32_t)p[0]) goto bad_length;
        break;
    case FEAGI_MSG_FORCE_FIRE:
        if (n < 1u || n != 1u + 8u * (uint32_t)p[0]) goto bad_length;
        break;
    case FEAGI_MSG_SENSOR_VALUE:
        if (n < 1u || n != 1u + 11u * (uint32_t)p[0]) goto bad_length;
        break;
    case FEAGI_MSG_RUN:
        if (n != 5u) goto bad_length;
        break;
    case FEAGI_MSG_SET_TRACE:
    case FEAGI_MSG_SET_GPIO:
        if (n != 3u) goto bad_length;
        break;
    case FEAGI_MSG_SET_PWM:
        if (n != 4u) goto bad_length;
        break;
    default:
        stats.bad_type++;
        return;
    }
    stats.frames_ok++;
    switch (type) {
    case FEAGI_MSG_GET_CAPABILITIES:
        send_capabilities();
        break;
    case FEAGI_MSG_SENSOR_DATA:
        cnt = p[0];
        for (i = 0; i < cnt; i++) {
            const uint8_t *e = p + 1u + 12u * i;
            count_item(feagi_inject(rd16(e), rd16(e + 2), rd16(e + 4), rd16(e + 6),
                                    (int32_t)rd32(e + 8)), &ok, &bad, &status);
        }
        break;
    case FEAGI_MSG_FORCE_FIRE:
        cnt = p[0];
        for (i = 0; i < cnt; i++) {
            const uint8_t *e = p + 1u + 8u * i;
            count_item(feagi_force_fire(rd16(e), rd16(e + 2), rd16(e + 4), rd16(e + 6)), &ok,
                       &bad, &status);
        }
        break;
    case FEAGI_MSG_SENSOR_VALUE:
        cnt = p[0];
        for (i = 0; i < cnt; i++) {
            const uint8_t *e = p + 1u + 11u * i;
            count_item(feagi_link_io_sensor(rd16(e), rd16(e + 2), e[4], (int32_t)rd32(e + 5),
                                            rd16(e + 9)), &ok, &bad, &status);
        }
        break;
    case FEAGI_MSG_RUN:
        if (p[0] == FEAGI_RUN_STOP) pending = 0u;
        else if (p[0] == FEAGI_RUN_N) pending = rd32(p + 1) == FREE_RUN ? FREE_RUN - 1u : rd32(p + 1);
        else if (p[0] == FEAGI_RUN_FREE) pending = FREE_RUN;
        else status = FEAGI_LINK_ERR_FIELD;
        break;
    case FEAGI_MSG_SET_TRACE:
        if ((p[0] & ~FEAGI_TRACE_ALL) != 0u) {
            status = FEAGI_LINK_ERR_FIELD;
            break;
        }
        trace_flags = p[0];
        state_every = rd16(p + 1);
        break;
    case FEAGI_MSG_GET_STATS:
        send_stats();
        break;
    case FEAGI_MSG_GET_DIGESTS:
        wr32(BODY, feagi_burst_number());
        wr32(BODY + 4, feagi_fired_count());
        wr32(BODY + 8, feagi_burst_digest());
        wr32(BODY + 12, feagi_state_digest());
        wr32(BODY + 16, feagi_final_digest());
        send_frame(FEAGI_MSG_DIGESTS, 20u);
        break;
    case FEAGI_MSG_RESET:
        status = feagi_init();
        feagi_link_io_reset();
        pending = 0u;
        break;
    case FEAGI_MSG_SET_GPIO:
        status = feagi_link_on_gpio(rd16(p), p[2]);
        break;
    case FEAGI_MSG_SET_PWM:
        status = feagi_link_on_pwm(rd16(p), rd16(p + 2));
        break;
    default:
        break;
    }
    send_ack(type, seq, status, ok, bad);
    return;
bad_length:
    stats.bad_length++;
    send_ack(type, seq, FEAGI_LINK_ERR_LENGTH, 0u, 0u);
}

static void end_of_frame(void)
{
    int32_t n;
    uint32_t len;
    if (rx_overflow) {
        stats.too_long++;
        return;
    }
    if (rx_len == 0u) return; /* an idle delimiter */
    n = feagi_cobs_decode(rx_buf, rx_len, rx_buf, (uint32_t)sizeof rx_buf);
    if (n < 0) {
        stats.bad_cobs++;
        return;
    }
    len = (uint32_t)n;
    if (len < HDR + CRC_LEN) {
        stats.too_short++;
        return;
    }
    if (len > FEAGI_LINK_MAX_FRAME) {
        stats.too_long++;
        return;
    }
    if (feagi_crc32(0u, rx_buf, len - CRC_LEN) != rd32(rx_buf + len - CRC_LEN)) {
        stats.bad_crc++;
        return;
    }
    if (rx_buf[0] != (uint8_t)FEAGI_LINK_VERSION) {
        stats.bad_version++;
        return;
    }
    dispatch(rx_buf[1], rx_buf[2], rx_buf + HDR, len - HDR - CRC_LEN);
}

void feagi_link_rx_byte(uint8_t b)
{
    if (b == 0u) {
        end_of_frame();
        rx_len = 0;
        rx_overflow = 0;
        return;
    }
    if (rx_overflow) return;
    if (rx_len >= (uint32_t)sizeof rx_buf) {
        rx_overflow = 1;
        return;
    }
    rx_buf[rx_len++] = b;
}

void feagi_link_init(void)
{
    stats = (feagi_link_stats_t){0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u};
    rx_len = 0;
    rx_overflow = 0;
    tx_seq = 0;
    trace_flags = FEAGI_TRACE_BURST | FEAGI_TRACE_OPU;
    state_every = 0;
    pending = 0;
    opu_n = 0;
    feagi_set_on_fire(on_fire);
}

uint32_t feagi_link_pending(void) { return pending; }
const feagi_link_stats_t *feagi_link_stats(void) { return &stats; }

int feagi_link_service(void)
{
    int16_t c;
    /* a Run frame's bursts run before any byte after it is read (free-run reads between bursts) */
    if (pending != 0u && pending != FREE_RUN) {
        feagi_link_step();
        return 0;
    }
    c = feagi_hal_getc(pending == 0u ? 1u : 0u);
    if (c == FEAGI_HAL_EOF) return 1;
    if (c >= 0) {
        feagi_link_rx_byte((uint8_t)c);
        return 0;
    }
    feagi_link_step(); /* free-run, no input waiting */
    return 0;
}
