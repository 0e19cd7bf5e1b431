/* fuzz_driver.c - a seeded random-frame driver of the device side of the link (docs/link.md),
 * linked in place of link_main.c and compiled with -fsanitize=address,undefined:
 *   link-fuzz FRAMES SEED      (stdout: the device's replies, send it to /dev/null)
 * Sends FRAMES frames through feagi_link_rx_byte: a third random bytes (sometimes longer than the
 * largest frame), a third well-formed frames of every host type with random fields (valid and
 * invalid lengths, unknown types, wrong versions), a third well-formed frames mutated (bit flips,
 * byte changes, insertions, deletions, truncation, zero bytes that split them).
 * Checks after every frame: the device's frame counters rose by exactly the number of non-empty
 * frames sent, and a well-formed frame was classified as built (executed / bad length / bad type /
 * bad version). Prints one summary line on stderr; exit 0 when every check held, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "feagi_link.h"
#include "feagi_runtime.h"

static uint64_t rng;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static uint32_t below(uint32_t n) { return n ? rnd() % n : 0u; }

static uint32_t total_frames(void)
{
    const feagi_link_stats_t *s = feagi_link_stats();
    return s->frames_ok + s->bad_cobs + s->too_long + s->too_short + s->bad_crc + s->bad_version +
           s->bad_type + s->bad_length;
}

static uint32_t failures, sent_frames, executed, bursts_run;

static void feed(const uint8_t *p, uint32_t n)
{
    uint32_t i, segs = 0, cur = 0, before = total_frames();
    for (i = 0; i < n; i++) {
        feagi_link_rx_byte(p[i]);
        if (p[i] == 0u) {
            if (cur) segs++;
            cur = 0;
        } else {
            cur++;
        }
    }
    sent_frames += segs;
    if (total_frames() - before != segs) {
        if (failures < 10u)
            fprintf(stderr, "link-fuzz: %u frame(s) sent, counters rose by %u\n", segs,
                    total_frames() - before);
        failures++;
    }
}

/* a well-formed wire frame: version, type, seq, body, CRC; returns its encoded length */
static uint32_t build(uint8_t ver, uint8_t type, const uint8_t *body, uint32_t n, uint8_t *out)
{
    uint8_t raw[FEAGI_LINK_MAX_FRAME + 64];
    uint32_t crc;
    int32_t e;
    raw[0] = ver;
    raw[1] = type;
    raw[2] = (uint8_t)rnd();
    memcpy(raw + 3, body, n);
    crc = feagi_crc32(0u, raw, 3u + n);
    raw[3 + n] = (uint8_t)crc;
    raw[4 + n] = (uint8_t)(crc >> 8);
    raw[5 + n] = (uint8_t)(crc >> 16);
    raw[6 + n] = (uint8_t)(crc >> 24);
    e = feagi_cobs_encode(raw, n + 7u, out, FEAGI_LINK_MAX_ENCODED + 16u);
    if (e < 0) {
        fprintf(stderr, "link-fuzz: encode failed\n");
        exit(1);
    }
    out[e] = 0u;
    return (uint32_t)e + 1u;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

/* a random field value: mostly in range for the model, sometimes any 16 bits */
static uint16_t field16(uint32_t limit)
{
    return below(8u) == 0u ? (uint16_t)rnd() : (uint16_t)below(limit ? limit : 1u);
}

/* body of host type `type` with a valid length (random contents); returns the length */
static uint32_t make_body(uint8_t type, uint8_t *b)
{
    uint32_t n = 0, i, cnt;
    switch (type) {
    case FEAGI_MSG_SENSOR_DATA:
        cnt = below(21u);
        b[n++] = (uint8_t)cnt;
        for (i = 0; i < cnt; i++) {
            uint16_t a = field16((uint32_t)FEAGI_A);
            int32_t v = (int32_t)rnd();
            put16(b + n, a);
            put16(b + n + 2, field16(4u));
            put16(b + n + 4, field16(4u));
            put16(b + n + 6, field16(4u));
            if (below(2u)) v = (int32_t)below(2u * (uint32_t)FEAGI_MAX_SENSORY_Q + 1u) - (int32_t)FEAGI_MAX_SENSORY_Q;
            memcpy(b + n + 8, &v, 4); /* host order: the driver runs on little-endian hosts */
            n += 12u;
        }
        break;
    case FEAGI_MSG_FORCE_FIRE:
        cnt = below(32u);
        b[n++] = (uint8_t)cnt;
        for (i = 0; i < cnt; i++) {
            put16(b + n, field16((uint32_t)FEAGI_A));
            put16(b + n + 2, field16(4u));
            put16(b + n + 4, field16(4u));
            put16(b + n + 6, field16(4u));
            n += 8u;
        }
        break;
    case FEAGI_MSG_SENSOR_VALUE: /* no io map in the fuzz build: executed, items refused */
        cnt = below(23u);
        b[n++] = (uint8_t)cnt;
        for (i = 0; i < cnt; i++) {
            uint32_t v = rnd();
            put16(b + n, field16((uint32_t)FEAGI_A));
            put16(b + n + 2, field16(4u));
            b[n + 4] = (uint8_t)below(4u);
            memcpy(b + n + 5, &v, 4);
            put16(b + n + 9, (uint16_t)rnd());
            n += 11u;
        }
        break;
    case FEAGI_MSG_RUN:
        b[0] = (uint8_t)(below(4u) == 0u ? rnd() : below(3u));
        put16(b + 1, (uint16_t)below(3u));
        put16(b + 3, (uint16_t)(below(16u) == 0u ? rnd() : 0u));
        n = 5u;
        break;
    case FEAGI_MSG_SET_TRACE:
        b[0] = (uint8_t)(below(4u) == 0u ? rnd() : below(32u));
        put16(b + 1, (uint16_t)below(4u));
        n = 3u;
        break;
    case FEAGI_MSG_SET_GPIO:
        put16(b, (uint16_t)rnd());
        b[2] = (uint8_t)rnd();
        n = 3u;
        break;
    case FEAGI_MSG_SET_PWM:
        put16(b, (uint16_t)rnd());
        put16(b + 2, (uint16_t)rnd());
        n = 4u;
        break;
    default: /* GetCapabilities, GetStats, GetDigests, Reset: empty */
        break;
    }
    return n;
}

/* stop a Run that the fuzz frames started after at most two bursts */
static void settle(void)
{
    uint32_t steps = 0;
    uint8_t body[5] = {FEAGI_RUN_STOP, 0, 0, 0, 0}, wire[FEAGI_LINK_MAX_ENCODED + 16];
    while (feagi_link_pending() != 0u) {
        if (steps++ < 2u) {
            feagi_link_step();
            bursts_run++;
            continue;
        }
        feed(wire, build(FEAGI_LINK_VERSION, FEAGI_MSG_RUN, body, 5u, wire));
    }
}

int main(int argc, char **argv)
{
    static uint8_t wire[4096], body[FEAGI_LINK_MAX_FRAME + 64];
    uint32_t frames, f;
    const feagi_link_stats_t *s;
    if (argc < 3) {
        fprintf(stderr, "usage: %s FRAMES SEED\n", argv[0]);
        return 2;
    }
    frames = (uint32_t)strtoul(argv[1], NULL, 0);
    rng = strtoull(argv[2], NULL, 0) * 0x9E3779B97F4A7C15ull + 1u;
    if (feagi_init() != 0) return 4;
    feagi_link_init();
    for (f = 0; f < frames; f++) {
        uint32_t kind = below(3u), n = 0, i;
        if (kind == 0u) { /* random bytes, one frame (sometimes too long) */
            uint32_t len = below(8u) == 0u ? FEAGI_LINK_MAX_ENCODED + below(600u) : 1u + below(300u);
            for (i = 0; i < len; i++) wire[i] = (uint8_t)(1u + below(255u));
            wire[len] = 0u;
            feed(wire, len + 1u);
        } else {
            /* a well-formed frame; classify what the device must do with it */
            uint8_t type = (uint8_t)(1u + below(11u)), ver = FEAGI_LINK_VERSION;
            uint32_t bl, before_ok, before_len, before_type, before_ver;
            uint32_t expect = 0; /* 0 executed, 1 bad length, 2 bad type, 3 bad version */
            uint32_t r = below(16u);
            if (r == 0u) {
                type = (uint8_t)(below(2u) ? 0u : 12u + below(244u));
                expect = 2u;
            }
            bl = make_body(type, body);
            if (r == 1u) {
                ver = (uint8_t)(ver + 1u + below(255u));
                expect = 3u;
            } else if (r == 2u && expect == 0u) { /* wrong length for the type */
                uint32_t nl = below(FEAGI_LINK_MAX_BODY + 1u);
                for (i = bl; i < nl; i++) body[i] = (uint8_t)rnd();
                if (nl != bl) {
                    int ok_len = 0;
                    if (type == FEAGI_MSG_SENSOR_DATA) ok_len = nl >= 1u && nl == 1u + 12u * body[0];
                    else if (type == FEAGI_MSG_FORCE_FIRE) ok_len = nl >= 1u && nl == 1u + 8u * body[0];
                    else if (type == FEAGI_MSG_SENSOR_VALUE) ok_len = nl >= 1u && nl == 1u + 11u * body[0];
                    bl = nl;
                    expect = ok_len ? 0u : 1u;
                }
            }
            n = build(ver, type, body, bl, wire);
            if (kind == 2u) { /* mutate */
                uint32_t m, muts = 1u + below(4u);
                expect = 9u;
                n--; /* drop the delimiter while mutating */
                for (m = 0; m < muts && n > 0u; m++) {
                    uint32_t at = below(n), op = below(5u);
                    if (op == 0u) wire[at] ^= (uint8_t)(1u << below(8u));
                    else if (op == 1u) wire[at] = (uint8_t)rnd();
                    else if (op == 2u && n < sizeof wire - 2u) {
                        memmove(wire + at + 1, wire + at, n - at);
                        wire[at] = (uint8_t)rnd();
                        n++;
                    } else if (op == 3u) {
                        memmove(wire + at, wire + at + 1, n - at - 1u);
                        n--;
                    } else {
                        n = at;
                    }
                }
                wire[n++] = 0u;
            }
            s = feagi_link_stats();
            before_ok = s->frames_ok;
            before_len = s->bad_length;
            before_type = s->bad_type;
            before_ver = s->bad_version;
            feed(wire, n);
            if (expect != 9u) {
                uint32_t got = s->frames_ok != before_ok       ? 0u
                               : s->bad_length != before_len   ? 1u
                               : s->bad_type != before_type    ? 2u
                               : s->bad_version != before_ver  ? 3u
                                                               : 8u;
                if (got != expect) {
                    if (failures < 10u)
                        fprintf(stderr, "link-fuzz: frame %u type %u: classified %u, built as %u\n",
                                f, type, got, expect);
                    failures++;
                }
                if (expect == 0u) executed++;
            }
        }
        settle();
    }
    s = feagi_link_stats();
    fprintf(stderr,
            "link-fuzz: frames=%u sent_frames=%u well_formed_executed=%u ok=%u bad_cobs=%u too_long=%u "
            "too_short=%u bad_crc=%u bad_version=%u bad_type=%u bad_length=%u item_errors=%u "
            "queue_full=%u bursts_run=%u failures=%u\n",
            frames, sent_frames, executed, s->frames_ok, s->bad_cobs, s->too_long, s->too_short,
            s->bad_crc, s->bad_version, s->bad_type, s->bad_length, s->item_errors, s->queue_full,
            bursts_run, failures);
    return failures == 0u && total_frames() == sent_frames ? 0 : 1;
}
