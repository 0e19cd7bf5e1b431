/* feagi_runtime.c - portable integer-only C99 implementation of one FEAGI burst (docs/model.md §3).
 * (With FEAGI_PRECISION_FP32 from feagi_model.h the potentials, sums, contributions and constants
 * are IEEE single precision instead, computed in FEAGI's order: docs/model.md §7, "precision".)
 *
 * Design. The model is static const data from the generated feagi_model.c (flash; read through the
 * FEAGI_GET_* accessors of feagi_model.h, pgm_read_* on AVR): per-area parameters (first id, dims,
 * limit, leak K, excitability mode/T, R, S, L, flags mp_acc/mp_driven/degen/output, a uniform
 * threshold or the offset of per-neuron gradient thresholds, offsets of optional per-neuron state)
 * and CSR synapses by source (offsets only for areas with outgoing synapses; dst; contribution
 * C / 2^k in the narrowest signed type, k = the common power of two of all C; signed weight and
 * fan-out only when some area needs run-time PSPs). There is no per-neuron area array: scans run
 * in ascending id order and advance an area cursor (binary search over area_first otherwise). RAM,
 * static or (arrays the capacity plan puts on the heap, FEAGI_HEAP_<NAME>) taken once at boot: V
 * int32 per area, or V >> shift in uint16 or uint8 where plan.narrow_v_proof proves it exact; cc uint8
 * (L <= 255) or uint16 and the FCL accumulator acc int32 per neuron outside the untargeted hole (+ a side list); four bitmaps
 * (candidate, forced, blocked, fired; 0.5 B/neuron) instead of id lists, so the fired set comes out
 * sorted without a sort; cd uint16 only for neurons of areas with a refractory period or snooze
 * (the digest hashes 0 for the others, which never leave 0); V-at-fire only for mp-driven areas, the
 * PSP only for degenerating areas; a small queue (9 B/entry) of injections/force-fires for the next
 * burst. RAM per neuron = 10.5 B (+2 B in refractory areas, +4 B in mp-driven or degenerating
 * areas). A burst: (4, 1) reset V of the previous burst's mp_acc=false candidates that did not fire
 * (large brain: of its mp_acc=false fired neurons; done before the new candidates exist, which is
 * equivalent because steps 2-3 touch only acc) and clear the FCL; (2) mark the queue's force-fires;
 * (3) power; (5) propagate the previous fired set (run-time contributions
 * round_half_away(w*clamp(P,0,cap)/n) in 64-bit, then degenerate PSPs), add the queue's
 * injections (5b, the engine's f32 order), clear the fired set; (6a) count refractory neurons
 * down (blocking candidates; a forced neuron's countdown pauses); (6b-g) for each candidate
 * ascending: integrate (negative input ignored with charge accumulation), window test,
 * consecutive-limit block, excitability (PCG hash vs integer T), fire or leak
 * sat32((V*K + 2^15) >> 16) (floor, portable); (7) forced neurons join the fired set. Digests
 * are zlib CRC-32 (reflected 0xEDB88320, 16-entry nibble table) computed from the stored narrow
 * types without buffers. */
#include "feagi_runtime.h"
#include "feagi_hal.h"

#define AF_MP_ACC 1u
#define AF_MP_DRIVEN 2u
#define AF_DEGEN 4u
#define AF_OUTPUT 8u
#define AF_CC16 16u
#define AF_V16 32u
#define AF_CC2 64u
#define AF_V8 128u
#define AF_VNARROW (AF_V16 | AF_V8)
#define FEAGI_N_VNARROW (FEAGI_N_V16 + FEAGI_N_V8)

#define EXC_ALWAYS 0u
#define EXC_NEVER 1u

#define U16_MAX_ 65535u
#define NO_BASE 0xFFFFFFFFu

/* bitmaps: 32 neurons per word, neuron i at bit (i & 31) of word (i >> 5) */
#define BM_WORDS ((uint32_t)((FEAGI_N + 31L) / 32L))
#define BM_CAND 0u    /* in the fire candidate list (FCL) of this burst */
#define BM_FORCED 1u  /* force-fired this burst */
#define BM_BLOCKED 2u /* refractory: input discarded */
#define BM_FIRED 3u   /* fired set (of this burst after step 6; the previous one before) */
#define BM_MASK(i) ((uint32_t)1u << (uint8_t)((i) & 31u))
#define BM_GET(m, i) ((st_bits[(m) * BM_WORDS + ((i) >> 5)] & BM_MASK(i)) != 0u)
#define BM_SET(m, i) (st_bits[(m) * BM_WORDS + ((i) >> 5)] |= BM_MASK(i))

/* ------------------------------------------------------------------ precision
 * pot_t: membrane potential, FCL sum, contribution, threshold, PSP. Fixed point: int32 with F
 * fractional bits. fp32 (FEAGI_FP32): IEEE single precision, each operation rounded once in
 * FEAGI's order (host/twin.py's float branch); no fused multiply-add, no reassociation. */
#if FEAGI_FP32
#if defined(__FAST_MATH__)
#error "fp32 build: -ffast-math reassociates and breaks FEAGI's f32 results; build without it"
#endif
typedef float pot_t;
#else
typedef int32_t pot_t;
#endif

/* State arrays: static (.bss), or a pointer filled once by feagi_init() from the HAL's heap when
 * the capacity plan put the array on the heap (FEAGI_HEAP_<NAME> = 1 in feagi_model.h). */
#define LEN1(n) ((n) > 0 ? (n) : 1)
#define STATE_ARRAY(heap, type, name, len) STATE_ARRAY_(heap, type, name, len)
#define STATE_ARRAY_(heap, type, name, len) STATE_ARRAY_##heap(type, name, len)
#define STATE_ARRAY_0(type, name, len) static type name[len]
#define STATE_ARRAY_1(type, name, len) static type *name
/* membrane potential: int32, or V >> shift in uint16 for areas proven to fit (AF_V16: there
 * 0 <= V <= v_max and V is a multiple of 2^shift, plan.narrow_v_proof) */
STATE_ARRAY(FEAGI_HEAP_V32, pot_t, st_v32, LEN1(FEAGI_N_V32));
STATE_ARRAY(FEAGI_HEAP_V16, uint16_t, st_v16, LEN1(FEAGI_N_V16));
#if FEAGI_N_V8 > 0
/* V >> shift in uint8 for areas proven to fit 8 bits (AF_V8; the plan has the array only then) */
STATE_ARRAY(FEAGI_HEAP_V8, uint8_t, st_v8, FEAGI_N_V8);
#endif
/* consecutive fire count, per area 2 bits (L <= 3: cc <= L always, plan/c.py; 4 per byte),
 * uint8_t (L <= 255) or uint16_t */
STATE_ARRAY(FEAGI_HEAP_CC2, uint8_t, st_cc2, LEN1((FEAGI_N_CC2 + 3) / 4));
STATE_ARRAY(FEAGI_HEAP_CC8, uint8_t, st_cc8, LEN1(FEAGI_N_CC8));
STATE_ARRAY(FEAGI_HEAP_CC16, uint16_t, st_cc16, LEN1(FEAGI_N_CC16));
STATE_ARRAY(FEAGI_HEAP_CD, uint16_t, st_cd, LEN1(FEAGI_N_CD));
/* FCL accumulator. Dense for all neurons except the hole [FEAGI_HOLE_LO, FEAGI_HOLE_HI): the
 * longest run of neurons that no synapse targets (plan/tables.py). A hole neuron can only become a
 * candidate through the queue (at most FEAGI_QUEUE_LEN entries per burst) or as the power neuron
 * (one), so at most FEAGI_QUEUE_LEN + 1 distinct hole neurons are candidates in a burst: their
 * sums live in the side list side_id/side_acc (cleared every burst), summed with the same wrap32
 * additions in the same order, so the result is identical to a dense accumulator. */
#define HOLE_W ((uint32_t)FEAGI_HOLE_HI - (uint32_t)FEAGI_HOLE_LO)
#define SIDE_LEN ((uint32_t)FEAGI_QUEUE_LEN + 1u)
STATE_ARRAY(FEAGI_HEAP_ACC, pot_t, st_acc, LEN1(FEAGI_N_ACC));
#if FEAGI_HOLE_HI > FEAGI_HOLE_LO
#define SIDE_HASH ((uint32_t)1u << FEAGI_SIDE_HASH_BITS) /* >= 2 * SIDE_LEN: load <= 1/2 */
static uint32_t side_id[SIDE_LEN];
static pot_t side_acc[SIDE_LEN];
static feagi_side_t side_slot[SIDE_HASH]; /* open addressing: hash(id) -> slot + 1, 0 empty */
static uint32_t n_side;
#endif
STATE_ARRAY(FEAGI_HEAP_BITS, uint32_t, st_bits, 4u * BM_WORDS);
STATE_ARRAY(FEAGI_HEAP_VFIRE, pot_t, st_vfire, LEN1(FEAGI_N_MPD));
STATE_ARRAY(FEAGI_HEAP_PSP, pot_t, st_psp, LEN1(FEAGI_N_DEGEN));
static uint32_t q_id[FEAGI_QUEUE_LEN];
static pot_t q_val[FEAGI_QUEUE_LEN];
static uint8_t q_kind[FEAGI_QUEUE_LEN];

static uint32_t n_fired, n_queue;
static uint8_t ready; /* 1 after a successful feagi_init() (heap-placed state exists) */
static uint32_t burst_no;
static uint32_t last_digest, final_crc;
static feagi_on_fire_fn on_fire;

/* ------------------------------------------------------------------ CRC-32 (zlib) */
static const uint32_t crc_tab[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
    0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
    0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};

static uint32_t crc_raw_byte(uint32_t c, uint8_t b)
{
    c ^= (uint32_t)b;
    c = (c >> 4) ^ crc_tab[c & 15u];
    c = (c >> 4) ^ crc_tab[c & 15u];
    return c;
}

static uint32_t crc_raw_u32(uint32_t c, uint32_t w)
{
    c = crc_raw_byte(c, (uint8_t)(w & 0xFFu));
    c = crc_raw_byte(c, (uint8_t)((w >> 8) & 0xFFu));
    c = crc_raw_byte(c, (uint8_t)((w >> 16) & 0xFFu));
    return crc_raw_byte(c, (uint8_t)((w >> 24) & 0xFFu));
}

static uint32_t crc_raw_u16(uint32_t c, uint16_t w)
{
    c = crc_raw_byte(c, (uint8_t)(w & 0xFFu));
    return crc_raw_byte(c, (uint8_t)((w >> 8) & 0xFFu));
}

uint32_t feagi_crc32(uint32_t crc, const uint8_t *p, uint32_t n)
{
    uint32_t c = ~crc;
    uint32_t i;
    for (i = 0; i < n; i++) c = crc_raw_byte(c, p[i]);
    return ~c;
}

/* ------------------------------------------------------------------ integer helpers */
static uint32_t pcg_hash(uint32_t s)
{
    uint32_t w;
    s = s * 747796405u + 2891336453u;
    w = ((s >> ((s >> 28) + 4u)) ^ s) * 277803737u;
    return (w >> 22) ^ w;
}

/* ------------------------------------------------------------------ arithmetic (fixed point) */
#if !FEAGI_FP32
static int32_t sat32(int64_t v)
{
    if (v > (int64_t)INT32_MAX) return INT32_MAX;
    if (v < (int64_t)INT32_MIN) return INT32_MIN;
    return (int32_t)v;
}

/* two's-complement wrap of the low 32 bits, without implementation-defined conversions */
static int32_t wrap32(uint32_t u)
{
    if (u <= 0x7FFFFFFFu) return (int32_t)u;
    return (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
}

static int32_t leak(int32_t v, int32_t k)
{
    int64_t x = (int64_t)v * (int64_t)k + 32768;
    int64_t q = x >= 0 ? x / 65536 : -((-x + 65535) / 65536); /* floor(x / 2^16) */
    return sat32(q);
}

#if FEAGI_HAS_RUNTIME_PSP
static int32_t runtime_contribution(int32_t w, int32_t psp, uint32_t n)
{
    int64_t p = psp;
    int64_t aw = w >= 0 ? (int64_t)w : -(int64_t)w;
    int64_t mag;
    if (p < 0) p = 0;
    if (p > (int64_t)FEAGI_PSP_CAP) p = (int64_t)FEAGI_PSP_CAP;
    mag = (2 * aw * p + (int64_t)n) / (2 * (int64_t)n);
    return sat32(w >= 0 ? mag : -mag); /* the capacity proof keeps it in range */
}
#endif

/* FCL sum: int32 wrapping addition (order independent; proven never to wrap) */
static int32_t pot_add(int32_t acc, int32_t c) { return wrap32((uint32_t)acc + (uint32_t)c); }

/* V + summed input; with charge accumulation a negative input is ignored */
static int32_t integrate(int32_t v, int32_t in, int mp_acc)
{
    int64_t x = in;
    if (mp_acc && x < 0) x = 0;
    return sat32((int64_t)v + x);
}

#if FEAGI_HAS_RUNTIME_PSP
/* a degenerating PSP after one fire: PSP - degeneration, floor 0 */
static int32_t degen_step(int32_t p, int32_t d)
{
    int64_t pn = (int64_t)p - (int64_t)d;
    return pn > 0 ? (int32_t)pn : 0;
}
#endif

static uint32_t pot_bits(int32_t v) { return (uint32_t)v; }
#define SYN_CONTRIB(k) ((int32_t)FEAGI_GET_SYN_C(k) * (int32_t)FEAGI_SYN_C_SCALE)
#else /* FEAGI_FP32: the same rules in f32 (host/twin.py: integrate, leak, accumulate,
       * runtime_contribution with floating = True) */
static float pot_add(float acc, float c) { return acc + c; }

static float integrate(float v, float in, int mp_acc)
{
    if (mp_acc && in < 0.0f) return v;
    return v + in;
}

/* V * f32(1 - leak) (FEAGI's leak; the factor is stored as area_leak_k) */
static float leak(float v, float k) { return v * k; }

#if FEAGI_HAS_RUNTIME_PSP
/* FEAGI's f32(w) * max(psp, 0) / f32(n) (no division when n = 1) */
static float runtime_contribution(int32_t w, float psp, uint32_t n)
{
    float base = (float)w * (psp > 0.0f ? psp : 0.0f);
    return n > 1u ? base / (float)n : base;
}

static float degen_step(float p, float d)
{
    float pn = p - d;
    return pn > 0.0f ? pn : 0.0f;
}
#endif

/* the f32 bits of v (what the state digest hashes) */
static uint32_t pot_bits(float v)
{
    union { float f; uint32_t u; } b;
    b.f = v;
    return b.u;
}
#define SYN_CONTRIB(k) ((float)FEAGI_GET_SYN_C(k))
#endif

/* area of neuron i: binary search over area_first */
static uint16_t area_of(uint32_t i)
{
    uint16_t lo = 0, hi = (uint16_t)(FEAGI_A - 1);
    while (lo < hi) {
        uint16_t mid = (uint16_t)(lo + (uint16_t)((hi - lo + 1u) / 2u));
        if ((uint32_t)FEAGI_GET_AREA_FIRST(mid) <= i) lo = mid;
        else hi = (uint16_t)(mid - 1u);
    }
    return lo;
}

static int finite_limit(uint16_t l) { return l != 0u && l != U16_MAX_; }

/* cc of neuron i of area a */
static uint16_t cc_get(uint16_t a, uint32_t i)
{
    uint32_t k = (uint32_t)FEAGI_GET_AREA_CC_BASE(a) + (i - (uint32_t)FEAGI_GET_AREA_FIRST(a));
    uint8_t f = FEAGI_GET_AREA_FLAGS(a);
    if ((f & AF_CC16) != 0u) return st_cc16[k];
    if ((f & AF_CC2) != 0u) return (uint16_t)((st_cc2[k >> 2] >> ((k & 3u) * 2u)) & 3u);
    return st_cc8[k];
}

static void cc_set(uint16_t a, uint32_t i, uint16_t v)
{
    uint32_t k = (uint32_t)FEAGI_GET_AREA_CC_BASE(a) + (i - (uint32_t)FEAGI_GET_AREA_FIRST(a));
    uint8_t f = FEAGI_GET_AREA_FLAGS(a);
    if ((f & AF_CC16) != 0u) {
        st_cc16[k] = v;
    } else if ((f & AF_CC2) != 0u) { /* v <= L <= 3 */
        uint8_t s = (uint8_t)((k & 3u) * 2u);
        st_cc2[k >> 2] = (uint8_t)((st_cc2[k >> 2] & (uint8_t)~(3u << s)) | ((v & 3u) << s));
    } else {
        st_cc8[k] = (uint8_t)v; /* v <= L <= 255 */
    }
}

/* V of neuron i of area a (an AF_V16 / AF_V8 area stores V >> shift in uint16 / uint8; exact
 * there; fixed point only) */
static pot_t v_get(uint16_t a, uint32_t i)
{
    uint32_t k = (uint32_t)FEAGI_GET_AREA_V_BASE(a) + (i - (uint32_t)FEAGI_GET_AREA_FIRST(a));
#if FEAGI_N_V16 > 0
    if ((FEAGI_GET_AREA_FLAGS(a) & AF_V16) != 0u)
        return (int32_t)((uint32_t)st_v16[k] << FEAGI_GET_AREA_V_SHIFT(a));
#endif
#if FEAGI_N_V8 > 0
    if ((FEAGI_GET_AREA_FLAGS(a) & AF_V8) != 0u)
        return (int32_t)((uint32_t)st_v8[k] << FEAGI_GET_AREA_V_SHIFT(a));
#endif
    return st_v32[k];
}

static void v_set(uint16_t a, uint32_t i, pot_t v)
{
    uint32_t k = (uint32_t)FEAGI_GET_AREA_V_BASE(a) + (i - (uint32_t)FEAGI_GET_AREA_FIRST(a));
#if FEAGI_N_V16 > 0
    if ((FEAGI_GET_AREA_FLAGS(a) & AF_V16) != 0u) {
        /* 0 <= v <= v_max and v % 2^shift == 0 (plan.narrow_v_proof) */
        st_v16[k] = (uint16_t)((uint32_t)v >> FEAGI_GET_AREA_V_SHIFT(a));
        return;
    }
#endif
#if FEAGI_N_V8 > 0
    if ((FEAGI_GET_AREA_FLAGS(a) & AF_V8) != 0u) { /* 0 <= v <= v_max, v % 2^shift == 0 */
        st_v8[k] = (uint8_t)((uint32_t)v >> FEAGI_GET_AREA_V_SHIFT(a));
        return;
    }
#endif
    st_v32[k] = v;
}

/* ------------------------------------------------------------------ sets */
/* the accumulator of neuron i (a hole neuron gets a zeroed side-list slot on first use; the
 * capacity SIDE_LEN cannot be exceeded, see st_acc) */
static pot_t *acc_ref(uint32_t i)
{
#if FEAGI_HOLE_HI > FEAGI_HOLE_LO
    if (i - (uint32_t)FEAGI_HOLE_LO < HOLE_W) { /* FEAGI_HOLE_LO <= i < FEAGI_HOLE_HI */
        /* Fibonacci hashing on the top FEAGI_SIDE_HASH_BITS bits, linear probing */
        uint32_t h = (uint32_t)(i * 2654435761u) >> (32u - (uint32_t)FEAGI_SIDE_HASH_BITS);
        for (;;) {
            uint32_t s = (uint32_t)side_slot[h];
            if (s == 0u) {
                side_slot[h] = (feagi_side_t)(n_side + 1u);
                side_id[n_side] = i;
                side_acc[n_side] = 0;
                return &side_acc[n_side++];
            }
            if (side_id[s - 1u] == i) return &side_acc[s - 1u];
            h = (h + 1u) & (SIDE_HASH - 1u);
        }
    }
    if (i >= (uint32_t)FEAGI_HOLE_HI) return &st_acc[i - HOLE_W];
#endif
    return &st_acc[i];
}

/* empty the side list and its index (start of a burst) */
static void side_clear(void)
{
#if FEAGI_HOLE_HI > FEAGI_HOLE_LO
    uint32_t j;
    for (j = 0; j < SIDE_HASH; j++) side_slot[j] = 0u;
    n_side = 0;
#endif
}

static void add_cand(uint32_t i, pot_t c)
{
    pot_t *p = acc_ref(i);
    BM_SET(BM_CAND, i);
    *p = pot_add(*p, c);
}

/* procedural synapses: rule records expanded around the table rows (FEAGI_PROC_RULES) */
#include "feagi_procedural.h"

/* Step 5 for the stored synapses [k0, k1) of one source with static contributions (the table
 * path; its inner loop is the per-synaptic-event cost of bench/bench_cycles.py). A synapse target
 * is never in the accumulator hole (the hole is the longest run of neurons no synapse targets,
 * plan/tables.py), so its dense accumulator index is t, or t - HOLE_W above the hole: no side-list
 * lookup. The sum is taken in uint32 through an unsigned alias of the int32 element (allowed for
 * the signed/unsigned pair), which is the same wrap32 addition as add_cand. */
static void propagate_table(uint32_t k0, uint32_t k1)
{
    uint32_t k;
#if FEAGI_FP32 /* f32 sums: the generic path */
    for (k = k0; k < k1; k++) add_cand((uint32_t)FEAGI_GET_SYN_DST(k), SYN_CONTRIB(k));
#else
    uint32_t *cand = &st_bits[BM_CAND * BM_WORDS];
    for (k = k0; k < k1; k++) {
        uint32_t t = (uint32_t)FEAGI_GET_SYN_DST(k);
        uint32_t c = (uint32_t)(int32_t)FEAGI_GET_SYN_C(k) * (uint32_t)FEAGI_SYN_C_SCALE;
        uint32_t x = t;
#if FEAGI_HOLE_HI > FEAGI_HOLE_LO
        if (t >= (uint32_t)FEAGI_HOLE_HI) x = t - HOLE_W;
#endif
        *(uint32_t *)&st_acc[x] += c;
        cand[t >> 5] |= BM_MASK(t);
    }
#endif
}

/* next member >= i of bitmap m, or FEAGI_N (ascending scans of a set) */
static uint32_t bm_next(uint8_t m, uint32_t i)
{
    uint32_t w = i >> 5;
    uint32_t bits;
    if (i >= (uint32_t)FEAGI_N) return (uint32_t)FEAGI_N;
    bits = st_bits[m * BM_WORDS + w] & ~(BM_MASK(i) - 1u);
    while (bits == 0u) {
        if (++w >= BM_WORDS) return (uint32_t)FEAGI_N;
        bits = st_bits[m * BM_WORDS + w];
    }
#if defined(__GNUC__)
    /* count trailing zeros (unsigned long: int is 16 bits on AVR) */
    return (w << 5) + (uint32_t)__builtin_ctzl((unsigned long)bits);
#else
    i = w << 5;
    while ((bits & 1u) == 0u) {
        bits >>= 1;
        i++;
    }
    return i;
#endif
}

static void bm_clear(uint8_t m)
{
    uint32_t w;
    for (w = 0; w < BM_WORDS; w++) st_bits[m * BM_WORDS + w] = 0u;
}

/* area lookup for ascending scans: advance from the current area */
static uint16_t area_advance(uint16_t a, uint32_t i)
{
    while ((uint32_t)FEAGI_GET_AREA_FIRST(a + 1u) <= i) a++;
    return a;
}

/* ------------------------------------------------------------------ API */
#define STATE_ALLOC(heap, name, len) STATE_ALLOC_(heap, name, len)
#define STATE_ALLOC_(heap, name, len) STATE_ALLOC_##heap(name, len)
#define STATE_ALLOC_0(name, len)
#define STATE_ALLOC_1(name, len)                                                              \
    if (name == 0) {                                                                         \
        name = feagi_hal_alloc_once((uint32_t)sizeof(name[0]) * (uint32_t)(len));            \
        if (name == 0) return FEAGI_ERR_HEAP;                                                \
    }

int8_t feagi_init(void)
{
    uint32_t i;
    uint16_t a;
    ready = 0u;
    STATE_ALLOC(FEAGI_HEAP_V32, st_v32, LEN1(FEAGI_N_V32))
    STATE_ALLOC(FEAGI_HEAP_V16, st_v16, LEN1(FEAGI_N_V16))
#if FEAGI_N_V8 > 0
    STATE_ALLOC(FEAGI_HEAP_V8, st_v8, FEAGI_N_V8)
    for (i = 0; i < (uint32_t)FEAGI_N_V8; i++) st_v8[i] = 0u;
#endif
    STATE_ALLOC(FEAGI_HEAP_CC2, st_cc2, LEN1((FEAGI_N_CC2 + 3) / 4))
    STATE_ALLOC(FEAGI_HEAP_CC8, st_cc8, LEN1(FEAGI_N_CC8))
    STATE_ALLOC(FEAGI_HEAP_CC16, st_cc16, LEN1(FEAGI_N_CC16))
    STATE_ALLOC(FEAGI_HEAP_CD, st_cd, LEN1(FEAGI_N_CD))
    STATE_ALLOC(FEAGI_HEAP_ACC, st_acc, LEN1(FEAGI_N_ACC))
    STATE_ALLOC(FEAGI_HEAP_BITS, st_bits, 4u * BM_WORDS)
    STATE_ALLOC(FEAGI_HEAP_VFIRE, st_vfire, LEN1(FEAGI_N_MPD))
    STATE_ALLOC(FEAGI_HEAP_PSP, st_psp, LEN1(FEAGI_N_DEGEN))
    for (i = 0; i < (uint32_t)LEN1(FEAGI_N_V32); i++) st_v32[i] = 0;
    for (i = 0; i < (uint32_t)LEN1(FEAGI_N_V16); i++) st_v16[i] = 0;
    for (i = 0; i < (uint32_t)LEN1((FEAGI_N_CC2 + 3) / 4); i++) st_cc2[i] = 0u;
    for (i = 0; i < (uint32_t)(FEAGI_N_CC8 > 0 ? FEAGI_N_CC8 : 1); i++) st_cc8[i] = 0u;
    for (i = 0; i < (uint32_t)(FEAGI_N_CC16 > 0 ? FEAGI_N_CC16 : 1); i++) st_cc16[i] = 0u;
    for (i = 0; i < (uint32_t)(FEAGI_N_ACC > 0 ? FEAGI_N_ACC : 1); i++) st_acc[i] = 0;
    side_clear();
    for (i = 0; i < (uint32_t)(FEAGI_N_CD > 0 ? FEAGI_N_CD : 1); i++) st_cd[i] = 0;
    for (i = 0; i < 4u * BM_WORDS; i++) st_bits[i] = 0u;
    for (a = 0; a < (uint16_t)FEAGI_A; a++) {
        uint32_t base = (uint32_t)FEAGI_GET_AREA_DEGEN_BASE(a);
        if ((FEAGI_GET_AREA_FLAGS(a) & AF_DEGEN) != 0u) {
            uint32_t n = (uint32_t)FEAGI_GET_AREA_FIRST(a + 1u) - (uint32_t)FEAGI_GET_AREA_FIRST(a);
            for (i = 0; i < n; i++) st_psp[base + i] = (pot_t)FEAGI_GET_AREA_PSP(a);
        }
    }
    for (i = 0; i < (uint32_t)(FEAGI_N_MPD > 0 ? FEAGI_N_MPD : 1); i++) st_vfire[i] = 0;
    n_fired = n_queue = 0;
    burst_no = 0;
    last_digest = 0;
    final_crc = 0;
    ready = 1u;
    return 0;
}

void feagi_set_on_fire(feagi_on_fire_fn fn) { on_fire = fn; }

static int8_t enqueue(uint32_t id, pot_t v, uint8_t kind)
{
    if (ready == 0u) return FEAGI_ERR_INIT;
    if (id >= (uint32_t)FEAGI_N) return FEAGI_ERR_INDEX;
    if (n_queue >= (uint32_t)FEAGI_QUEUE_LEN) return FEAGI_ERR_QUEUE;
    q_id[n_queue] = id;
    q_val[n_queue] = v;
    q_kind[n_queue] = kind;
    n_queue++;
    return 0;
}

/* sensory values the model's proofs cover: |value| <= max_sensory, and for areas with narrow
 * (16- or 8-bit) membrane potentials multiples of 2^shift, >= 0 where the area has no charge
 * accumulation (plan.narrow_v_proof: there every input must be >= 0) */
static int8_t check_value(uint32_t id, int32_t value_q)
{
    if (value_q > (int32_t)FEAGI_MAX_SENSORY_Q || value_q < -(int32_t)FEAGI_MAX_SENSORY_Q)
        return FEAGI_ERR_VALUE;
#if FEAGI_N_VNARROW > 0
    {
        uint16_t a = area_of(id);
        uint8_t f = FEAGI_GET_AREA_FLAGS(a);
        if ((f & AF_VNARROW) != 0u &&
            (((uint32_t)value_q & ((1u << FEAGI_GET_AREA_V_SHIFT(a)) - 1u)) != 0u ||
             ((f & AF_MP_ACC) == 0u && value_q < 0)))
            return FEAGI_ERR_VALUE;
    }
#else
    (void)id;
#endif
    return 0;
}

/* plan.narrow_v_proof budgets FEAGI_SENSORY_BUDGET_Q (injections x q(max_sensory)) of sensory
 * input per neuron per burst: in an
 * area with 16- or 8-bit membrane potentials the positive injections queued into one neuron for one
 * burst must not sum above it (negative ones only lower the input) */
static int8_t check_budget(uint32_t id, int32_t value_q)
{
#if FEAGI_N_VNARROW > 0
    uint32_t j, sum;
    if (value_q <= 0 || (FEAGI_GET_AREA_FLAGS(area_of(id)) & AF_VNARROW) == 0u) return 0;
    sum = (uint32_t)value_q; /* value and accepted sum <= budget < 2^30 (proof): no overflow */
    for (j = 0; j < n_queue; j++)
        if (q_kind[j] == 0u && q_id[j] == id && q_val[j] > 0) sum += (uint32_t)q_val[j];
    if (sum > (uint32_t)FEAGI_SENSORY_BUDGET_Q) return FEAGI_ERR_BUDGET;
#else
    (void)id;
    (void)value_q;
#endif
    return 0;
}

int8_t feagi_inject_id(uint32_t id, int32_t value_q)
{
    if (ready == 0u) return FEAGI_ERR_INIT;
    if (id >= (uint32_t)FEAGI_N) return FEAGI_ERR_INDEX;
    if (check_value(id, value_q) != 0) return FEAGI_ERR_VALUE;
    if (check_budget(id, value_q) != 0) return FEAGI_ERR_BUDGET;
#if FEAGI_FP32
    return enqueue(id, (float)value_q * (1.0f / (float)(1L << FEAGI_F)), 0u); /* q / 2^F */
#else
    return enqueue(id, value_q, 0u);
#endif
}
int8_t feagi_force_fire_id(uint32_t id) { return enqueue(id, 0, 1u); }

static int8_t voxel_id(uint16_t area, uint16_t x, uint16_t y, uint16_t z, uint32_t *id)
{
    uint32_t h, d, npv;
    if (area >= (uint16_t)FEAGI_A) return -1;
    h = (uint32_t)FEAGI_GET_AREA_H(area);
    d = (uint32_t)FEAGI_GET_AREA_D(area);
    npv = (uint32_t)FEAGI_GET_AREA_NPV(area);
    if ((uint32_t)x >= (uint32_t)FEAGI_GET_AREA_W(area) || (uint32_t)y >= h || (uint32_t)z >= d)
        return -1;
    /* the last neuron of the voxel (FEAGI's coordinate lookup keeps the highest id) */
    *id = (uint32_t)FEAGI_GET_AREA_FIRST(area) +
          (((uint32_t)x * h + (uint32_t)y) * d + (uint32_t)z) * npv + (npv - 1u);
    return 0;
}

int8_t feagi_inject(uint16_t area, uint16_t x, uint16_t y, uint16_t z, int32_t value_q)
{
    uint32_t id;
    if (ready == 0u) return FEAGI_ERR_INIT;
    if (voxel_id(area, x, y, z, &id) != 0) return FEAGI_ERR_INDEX;
    if (value_q == 0) return 0;
    return feagi_inject_id(id, value_q);
}

#if FEAGI_FP32
int8_t feagi_inject_id_f32(uint32_t id, float value)
{
    if (ready == 0u) return FEAGI_ERR_INIT;
    if (id >= (uint32_t)FEAGI_N) return FEAGI_ERR_INDEX;
    if (!(value >= -3.402823466e38f && value <= 3.402823466e38f)) return FEAGI_ERR_VALUE; /* NaN, inf */
    return enqueue(id, value, 0u);
}

int8_t feagi_inject_f32(uint16_t area, uint16_t x, uint16_t y, uint16_t z, float value)
{
    uint32_t id;
    if (ready == 0u) return FEAGI_ERR_INIT;
    if (voxel_id(area, x, y, z, &id) != 0) return FEAGI_ERR_INDEX;
    if (value == 0.0f) return 0;
    return feagi_inject_id_f32(id, value);
}
#endif

int8_t feagi_force_fire(uint16_t area, uint16_t x, uint16_t y, uint16_t z)
{
    uint32_t id;
    if (ready == 0u) return FEAGI_ERR_INIT;
    if (voxel_id(area, x, y, z, &id) != 0) return FEAGI_ERR_INDEX;
    return enqueue(id, 0, 1u);
}

static pot_t threshold_of(uint32_t i, uint16_t a)
{
    uint32_t base = (uint32_t)FEAGI_GET_AREA_THR_BASE(a);
    if (base == 0xFFFFFFFFu) return (pot_t)FEAGI_GET_AREA_THR(a);
    return (pot_t)FEAGI_GET_THR(base + (i - (uint32_t)FEAGI_GET_AREA_FIRST(a)));
}

static void emit_output(void)
{
    uint32_t i;
    uint16_t a = 0;
    if (on_fire == 0) return;
    for (i = bm_next(BM_FIRED, 0u); i < (uint32_t)FEAGI_N; i = bm_next(BM_FIRED, i + 1u)) {
        a = area_advance(a, i);
        if ((FEAGI_GET_AREA_FLAGS(a) & AF_OUTPUT) != 0u) {
            uint32_t h = (uint32_t)FEAGI_GET_AREA_H(a), d = (uint32_t)FEAGI_GET_AREA_D(a);
            uint32_t npv = (uint32_t)FEAGI_GET_AREA_NPV(a);
            uint32_t r = i - (uint32_t)FEAGI_GET_AREA_FIRST(a);
            uint32_t k = r % npv, vox = r / npv;
            on_fire(a, (uint16_t)(vox / (h * d)), (uint16_t)((vox / d) % h), (uint16_t)(vox % d),
                    (uint16_t)k);
        }
    }
}

static void set_vfire(uint16_t a, uint32_t i, pot_t v)
{
#if FEAGI_N_MPD > 0
    if ((FEAGI_GET_AREA_FLAGS(a) & AF_MP_DRIVEN) != 0u)
        st_vfire[(uint32_t)FEAGI_GET_AREA_MPD_BASE(a) + (i - (uint32_t)FEAGI_GET_AREA_FIRST(a))] = v;
#else
    (void)a;
    (void)i;
    (void)v;
#endif
}

uint32_t feagi_burst(void)
{
    uint32_t i, j;
    uint32_t burst;
    uint32_t crc;
    uint16_t a;
    if (ready == 0u) return 0u;
    burst_no++;
    burst = burst_no;

    /* 4 + 1: membrane reset (the previous burst's mp_acc=false candidates that did not fire; in a
     * large brain its mp_acc=false fired neurons), then clear the FCL. The previous fired set
     * (BM_FIRED) stays for the propagation. */
    a = 0;
#if FEAGI_LARGE_BRAIN
    for (i = bm_next(BM_FIRED, 0u); i < (uint32_t)FEAGI_N; i = bm_next(BM_FIRED, i + 1u)) {
        a = area_advance(a, i);
        if ((FEAGI_GET_AREA_FLAGS(a) & AF_MP_ACC) == 0u) v_set(a, i, 0);
    }
    for (i = bm_next(BM_CAND, 0u); i < (uint32_t)FEAGI_N; i = bm_next(BM_CAND, i + 1u)) *acc_ref(i) = 0;
#else
    for (i = bm_next(BM_CAND, 0u); i < (uint32_t)FEAGI_N; i = bm_next(BM_CAND, i + 1u)) {
        a = area_advance(a, i);
        if (!BM_GET(BM_FIRED, i) && (FEAGI_GET_AREA_FLAGS(a) & AF_MP_ACC) == 0u) v_set(a, i, 0);
        *acc_ref(i) = 0;
    }
#endif
    side_clear();
    bm_clear(BM_CAND);
    bm_clear(BM_FORCED);
    bm_clear(BM_BLOCKED);

    /* 2. force-fires queued for this burst (their injections join the FCL after step 5) */
    for (j = 0; j < n_queue; j++)
        if (q_kind[j] != 0u) BM_SET(BM_FORCED, q_id[j]);
    /* 3. power */
#if FEAGI_POWER_NEURON >= 0
    add_cand((uint32_t)FEAGI_POWER_NEURON, (pot_t)FEAGI_POWER_IN);
#endif
    /* 5. propagation of the previous fired set */
    a = 0;
    {
    FEAGI_PROC_DECL;
    for (i = bm_next(BM_FIRED, 0u); i < (uint32_t)FEAGI_N; i = bm_next(BM_FIRED, i + 1u)) {
        uint32_t k0 = 0, k1 = 0, sp;
        a = area_advance(a, i);
        FEAGI_PROC_AREA(a);
        sp = (uint32_t)FEAGI_GET_AREA_SP_BASE(a);
        if (sp != (uint32_t)FEAGI_SP_NONE) { /* area_sp_base: no table row */
            sp += i - (uint32_t)FEAGI_GET_AREA_FIRST(a);
            k0 = (uint32_t)FEAGI_GET_SYN_PTR(sp);
            k1 = (uint32_t)FEAGI_GET_SYN_PTR(sp + 1u);
        }
#if FEAGI_HAS_RUNTIME_PSP
        {
            uint8_t fl = FEAGI_GET_AREA_FLAGS(a);
            if ((fl & (AF_MP_DRIVEN | AF_DEGEN)) != 0u) {
                uint32_t n = (uint32_t)FEAGI_GET_FANOUT(i);
                uint32_t off = i - (uint32_t)FEAGI_GET_AREA_FIRST(a);
                pot_t p;
                uint32_t pi = 0, k;
                if ((fl & AF_MP_DRIVEN) != 0u) {
                    p = st_vfire[(uint32_t)FEAGI_GET_AREA_MPD_BASE(a) + off];
                } else {
                    pi = (uint32_t)FEAGI_GET_AREA_DEGEN_BASE(a) + off;
                    p = st_psp[pi];
                }
                FEAGI_PROC_RULES(a, i, 0u, p, n, 1u);
                for (k = k0; k < k1; k++)
                    add_cand((uint32_t)FEAGI_GET_SYN_DST(k),
                             runtime_contribution((int32_t)FEAGI_GET_SYN_W(k), p, n));
                FEAGI_PROC_RULES(a, i, 1u, p, n, 1u);
                if ((fl & AF_MP_DRIVEN) == 0u) /* degenerating PSP, floor 0 */
                    st_psp[pi] = degen_step(st_psp[pi], (pot_t)FEAGI_GET_AREA_DEGEN(a));
                continue;
            }
        }
#endif
        FEAGI_PROC_RULES(a, i, 0u, 0, 1u, 0u);
        propagate_table(k0, k1);
        FEAGI_PROC_RULES(a, i, 1u, 0, 1u, 0u);
    }
    }
    /* 5b. sensory injections, after power and propagation: the release engine's f32 sum order,
     * (1 + 6) + 1.89 (docs/model.md section 7; fixed-point sums are order-free) */
    for (j = 0; j < n_queue; j++)
        if (q_kind[j] == 0u) add_cand(q_id[j], q_val[j]);
    bm_clear(BM_FIRED);
    /* 6a. refractory countdown of every neuron with cd > 0 (only areas with R or a snooze store
     * cd); input during it is discarded; a forced neuron's countdown pauses that burst */
#if FEAGI_N_CD > 0
    for (a = 0; a < (uint16_t)FEAGI_A; a++) {
        uint32_t base = (uint32_t)FEAGI_GET_AREA_CD_BASE(a);
        uint32_t f0, f1;
        uint16_t l;
        if (base == NO_BASE) continue;
        f0 = (uint32_t)FEAGI_GET_AREA_FIRST(a);
        f1 = (uint32_t)FEAGI_GET_AREA_FIRST(a + 1u);
        l = (uint16_t)FEAGI_GET_AREA_CFL(a);
        for (i = f0; i < f1; i++) {
            uint16_t *cd = &st_cd[base + (i - f0)];
            if (*cd == 0u) continue;
            if (BM_GET(BM_CAND, i)) BM_SET(BM_BLOCKED, i);
            if (BM_GET(BM_FORCED, i)) continue;
            (*cd)--;
            if (*cd == 0u && finite_limit(l) && cc_get(a, i) >= l) cc_set(a, i, 0u);
        }
    }
#endif
    /* 6b-g. dynamics of the candidates (ascending ids) */
    n_fired = 0;
    a = 0;
    for (i = bm_next(BM_CAND, 0u); i < (uint32_t)FEAGI_N; i = bm_next(BM_CAND, i + 1u)) {
        uint8_t fl;
        pot_t v;
        uint16_t l, cc;
        int in_window;
        a = area_advance(a, i);
        if (BM_GET(BM_BLOCKED, i)) continue;
        fl = FEAGI_GET_AREA_FLAGS(a);
        v = integrate(v_get(a, i), *acc_ref(i), (fl & AF_MP_ACC) != 0u);
        l = (uint16_t)FEAGI_GET_AREA_CFL(a);
        in_window = threshold_of(i, a) <= v && v <= (pot_t)FEAGI_GET_AREA_LIMIT(a);
        cc = cc_get(a, i);
        if (in_window && cc >= l) {
            cc_set(a, i, 0u);
            v_set(a, i, v);
        } else if (in_window && (FEAGI_GET_AREA_EXC_MODE(a) == EXC_ALWAYS ||
                                 (FEAGI_GET_AREA_EXC_MODE(a) != EXC_NEVER &&
                                  pcg_hash(i * 2654435761u + burst * 1597334677u) <
                                      (uint32_t)FEAGI_GET_AREA_EXC_T(a)))) {
            uint32_t base = (uint32_t)FEAGI_GET_AREA_CD_BASE(a);
            v_set(a, i, 0);
            if (cc < U16_MAX_) cc++;
            cc_set(a, i, cc);
            if (base != NO_BASE) {
                uint16_t cd;
                if (finite_limit(l) && cc >= l) {
                    uint32_t r = (uint32_t)FEAGI_GET_AREA_REFR(a) + (uint32_t)FEAGI_GET_AREA_SNOOZE(a);
                    cd = (uint16_t)(r > U16_MAX_ ? U16_MAX_ : r);
                } else {
                    cd = (uint16_t)FEAGI_GET_AREA_REFR(a);
                }
                st_cd[base + (i - (uint32_t)FEAGI_GET_AREA_FIRST(a))] = cd;
            }
            BM_SET(BM_FIRED, i);
            n_fired++;
            set_vfire(a, i, v);
        } else {
            if (finite_limit(l)) cc_set(a, i, 0u);
            v_set(a, i, leak(v, (pot_t)FEAGI_GET_AREA_LEAK_K(a)));
        }
    }
    /* 7. forced neurons join the fired set (once; V at fire = 100) */
    for (j = 0; j < n_queue; j++) {
        i = q_id[j];
        if (q_kind[j] == 0u || BM_GET(BM_FIRED, i)) continue;
        BM_SET(BM_FIRED, i);
        n_fired++;
        set_vfire(area_of(i), i, (pot_t)FEAGI_FORCED_V);
    }
    n_queue = 0;
    /* burst digest: CRC-32 of [b, count, ids ascending] as u32 LE */
    crc = crc_raw_u32(0xFFFFFFFFu, burst);
    crc = crc_raw_u32(crc, n_fired);
    for (i = bm_next(BM_FIRED, 0u); i < (uint32_t)FEAGI_N; i = bm_next(BM_FIRED, i + 1u))
        crc = crc_raw_u32(crc, i);
    last_digest = ~crc;
    final_crc = ~crc_raw_u32(~final_crc, last_digest);
    emit_output();
    return n_fired;
}

uint32_t feagi_burst_number(void) { return burst_no; }
uint32_t feagi_fired_count(void) { return n_fired; }
int feagi_is_fired(uint32_t id)
{
    return ready != 0u && id < (uint32_t)FEAGI_N && BM_GET(BM_FIRED, id);
}
uint32_t feagi_burst_digest(void) { return last_digest; }
uint32_t feagi_final_digest(void) { return final_crc; }

uint32_t feagi_state_digest(void)
{
    uint32_t c = 0xFFFFFFFFu;
    uint32_t i;
    if (ready == 0u) return 0u; /* heap-placed state does not exist before feagi_init() */
    {
        uint16_t a = 0;
        for (i = 0; i < (uint32_t)FEAGI_N; i++) {
            a = area_advance(a, i);
            c = crc_raw_u32(c, pot_bits(v_get(a, i)));
        }
    }
    {
        uint16_t a;
        for (a = 0; a < (uint16_t)FEAGI_A; a++) {
            uint32_t base = (uint32_t)FEAGI_GET_AREA_CD_BASE(a);
            uint32_t n = (uint32_t)FEAGI_GET_AREA_FIRST(a + 1u) - (uint32_t)FEAGI_GET_AREA_FIRST(a);
            for (i = 0; i < n; i++) c = crc_raw_u16(c, base == NO_BASE ? 0u : st_cd[base + i]);
        }
    }
    {
        uint16_t a = 0;
        for (i = 0; i < (uint32_t)FEAGI_N; i++) {
            a = area_advance(a, i);
            c = crc_raw_u16(c, cc_get(a, i));
        }
    }
    return ~c;
}

/* ------------------------------------------------------------------ protocol lines */
static void put_u32(uint32_t x)
{
    char buf[10];
    uint8_t n = 0;
    do {
        buf[n++] = (char)('0' + (char)(x % 10u));
        x /= 10u;
    } while (x != 0u);
    while (n > 0u) feagi_hal_putc(buf[--n]);
}

void feagi_trace_burst(void)
{
    feagi_hal_puts("B ");
    put_u32(burst_no);
    feagi_hal_putc(' ');
    put_u32(n_fired);
    feagi_hal_putc(' ');
    feagi_hal_put_hex32(last_digest);
    feagi_hal_putc('\n');
}

void feagi_trace_state(void)
{
    feagi_hal_puts("S ");
    put_u32(burst_no);
    feagi_hal_putc(' ');
    feagi_hal_put_hex32(feagi_state_digest());
    feagi_hal_putc('\n');
}

void feagi_trace_end(void)
{
    feagi_hal_puts("E ");
    put_u32(burst_no);
    feagi_hal_putc(' ');
    feagi_hal_put_hex32(final_crc);
    feagi_hal_putc('\n');
}
