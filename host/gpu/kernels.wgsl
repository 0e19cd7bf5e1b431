// feagi-embed GPU host twin: one burst of docs/model.md §3 (fixed point) as WGSL compute shaders.
//
// Sections start with a line `//! <name>`. `common` (pure functions, constants) is prepended to
// every kernel; `crc` (CRC-32 helpers, binding 31) to the kernels that hash. Every other section
// is one kernel with its own binding declarations (the same binding number always names the same
// buffer; see host/gpu/common.py BUFFERS). The CUDA twin (kernels.cu) is the same algorithm,
// function for function.
//
// Per burst: k_in (stimulus, power, membrane reset, propagation from the previous fire queue),
// k_dyn (refractory countdown, dynamics of the fire candidates, degeneration; in the dense case it
// also clears the FCL), k_scan3 (fired bitmap -> ascending fired ids = next fire queue, burst
// CRC-32, FCL clear, control words): three dispatches, as the CUDA twin. k_scan3 needs no separate
// scan passes: k_in / k_dyn count the fired neurons per 8,192-neuron block (blk, by burst parity),
// each k_scan3 workgroup sums the counts before it, and the last workgroup to finish (a ticket)
// advances the control words. Large brains build no FCL list when the burst's candidates are
// bounded above n/8 anyway (the fire queue's synaptic events, summed by the previous k_scan3, +
// stimulus entries + power): the accumulations then only mark their targets (no list counter)
// and k_dyn runs densely. No 64-bit types: the exact leak product and run-time contributions use
// 32-bit pieces; the event bound saturates (a sticky flag).
//
// FP32 (a constant the host puts in front of `common`): precision "float", the numba twin's f32
// mode. V, thresholds, limit, leak factor, PSPs and contributions are f32 bits in the i32
// buffers. The scatter pass only marks a target as having synaptic input (flag SYN); k_gather
// sums each candidate's inputs in the twin's order (ascending synapse index) over its incoming
// synapses (bindings 32-35), starting from its power input, then adds its sensory values in
// schedule order (the host sorts each burst's injections by neuron, stably, before the
// force-fires: the release engine's f32 order, power + synaptic input + sensory values).
// WGSL promises correctly rounded f32 + - * but only 2.5 ULP for x / y: div_rn corrects the
// quotient against the exact residual; products that feed an addition go through opaque() (WGSL
// allows contraction into fused multiply-adds). Not promised by WGSL: subnormals (an
// implementation may flush them to zero) — see docs/gpu.md.

//! common
struct Prm {
  n: u32, words: u32, nblk: u32, power: u32,
  power_in: i32, forced_v: i32, psp_cap: i32, large: u32,
  record: u32, has_degen: u32, fuse_cap: u32, pad: u32,
};

const CAND: u32 = 1u;
const FORCED: u32 = 2u;
// FP32: the neuron received synaptic input this burst (k_gather sums it)
const SYN: u32 = 4u;
// device control words (ctl)
const C_BURST: u32 = 0u;
const C_BI: u32 = 1u;
const C_FQ: u32 = 2u;
const C_NCAND: u32 = 3u;
const C_NFORCED: u32 = 5u;
const C_NREFL: u32 = 6u;
const C_OUTPOS: u32 = 8u;
const C_SCRC: u32 = 13u;
// synaptic events of the next burst by burst parity p (C_EVENTS + p), summed by k_scan3 and
// saturating: C_BIG + p is set once the sum passes the no-list bound or wraps
const C_EVENTS: u32 = 16u;
const C_BIG: u32 = 18u;
// k_scan3 workgroups done (the last one advances the control words)
const C_TICKET: u32 = 20u;
// neurons per k_scan3 workgroup (256 bitmap words): fired counts per block (blk) use i >> BLK_SHIFT
const BLK_SHIFT: u32 = 13u;
// per-invocation / per-workgroup event sums saturate here (no-list bounds are below 2^27)
const EV_SAT: u32 = 0x40000000u;
// area parameter columns (apar, 16 i32 per area)
const A_LIM: u32 = 0u;
const A_K: u32 = 1u;
const A_EXC_MODE: u32 = 2u;
const A_EXC_T: u32 = 3u;
const A_REFR: u32 = 4u;
const A_SNOOZE: u32 = 5u;
const A_CFL: u32 = 6u;
const A_MPACC: u32 = 7u;
const A_DRIVEN: u32 = 8u;
const A_DEGEN: u32 = 9u;
const INT_MAX: i32 = 2147483647;
// more candidates than n >> DENSE_SHIFT: k_dyn and the FCL clear run densely (coalesced)
const DENSE_SHIFT: u32 = 3u;

fn int_min() -> i32 { return bitcast<i32>(0x80000000u); }

// the burst builds no FCL list (large brains whose candidates are bounded above n >> DENSE_SHIFT:
// ev / big = the fire queue's synaptic events and overflow flag, nin = stimulus entries + power)
fn no_list_of(large: u32, n: u32, ev: u32, big: u32, nin: u32) -> bool {
  if (large == 0u) { return false; }
  let bound = n >> DENSE_SHIFT;
  return big != 0u || ev > bound || nin > bound - ev;
}

// sat32(v + a)
fn sat_add(v: i32, a: i32) -> i32 {
  let s = v + a;
  if ((v >= 0) == (a >= 0) && (s >= 0) != (v >= 0)) {
    return select(int_min(), INT_MAX, v >= 0);
  }
  return s;
}

fn uabs(x: i32) -> u32 { return select(bitcast<u32>(x), 0u - bitcast<u32>(x), x < 0); }

// unsigned 32x32 -> 64 product as (lo, hi)
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xFFFFu; let a1 = a >> 16u; let b0 = b & 0xFFFFu; let b1 = b >> 16u;
  let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xFFFFu) + (p10 & 0xFFFFu);
  return vec2<u32>((p00 & 0xFFFFu) | (mid << 16u), p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}

// leak(V) = sat32(floor((V*K + 32768) / 65536)), exact (64-bit product in two words)
fn leak(v: i32, k: i32) -> i32 {
  var p = mul_wide(uabs(v), uabs(k));
  if ((v < 0) != (k < 0)) {
    let lo = ~p.x + 1u;
    p = vec2<u32>(lo, ~p.y + select(0u, 1u, lo == 0u));
  }
  let lo2 = p.x + 32768u;
  let hi2 = p.y + select(0u, 1u, lo2 < p.x);
  let r_lo = (lo2 >> 16u) | (hi2 << 16u);
  let r_hi = bitcast<i32>(hi2) >> 16u;
  if (r_hi > 0 || (r_hi == 0 && r_lo >= 0x80000000u)) { return INT_MAX; }
  if (r_hi < -1 || (r_hi == -1 && r_lo < 0x80000000u)) { return int_min(); }
  return bitcast<i32>(r_lo);
}

// run-time contribution sign(w) * floor((2|w|P + n) / 2n), P = clamp(psp, 0, cap); only the low
// 32 bits matter (the accumulator wraps)
fn runtime_c(w: i32, psp: i32, n: i32, cap: i32) -> i32 {
  let pc = clamp(psp, 0, cap);
  let prod = mul_wide(uabs(w), bitcast<u32>(pc));
  var hi = (prod.y << 1u) | (prod.x >> 31u);
  var lo = prod.x << 1u;
  let lo2 = lo + bitcast<u32>(n);
  hi = hi + select(0u, 1u, lo2 < lo);
  lo = lo2;
  let d = 2u * bitcast<u32>(n);
  var rem = hi % d;
  var q = 0u;
  for (var i = 31i; i >= 0i; i = i - 1i) {
    let top = rem >> 31u;
    rem = (rem << 1u) | ((lo >> u32(i)) & 1u);
    q = q << 1u;
    if (top != 0u || rem >= d) { rem = rem - d; q = q | 1u; }
  }
  let mag = bitcast<i32>(q);
  return select(mag, 0 - mag, w < 0);
}

// excitability (docs/model.md §2): ALWAYS / NEVER / pcg(seed) < T, all arithmetic mod 2^32
fn exc_pass(nid: u32, burst: u32, mode: i32, t: u32) -> bool {
  if (mode == 0) { return true; }
  if (mode == 1) { return false; }
  var s = nid * 2654435761u + burst * 1597334677u;
  s = s * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return ((w >> 22u) ^ w) < t;
}

//! crc
// crctab: [0, 256) the zlib CRC-32 table; 256 + 1024*k + 256*b + v: the GF(2) matrix that advances
// a raw CRC register over 2^k zero bytes, applied to byte b of the register having value v.
@group(0) @binding(31) var<storage, read> crctab: array<u32>;
var<workgroup> wtab: array<u32, 256>;

fn load_table(lid: u32) { wtab[lid] = crctab[lid]; }

// raw CRC register advanced over n zero bytes
fn crc_shift(r0: u32, nbytes: u32) -> u32 {
  var r = r0;
  var n = nbytes;
  var k = 0u;
  while (n != 0u && r != 0u) {
    if ((n & 1u) != 0u) {
      let b = 256u + 1024u * k;
      r = crctab[b + (r & 0xFFu)] ^ crctab[b + 256u + ((r >> 8u) & 0xFFu)]
          ^ crctab[b + 512u + ((r >> 16u) & 0xFFu)] ^ crctab[b + 768u + (r >> 24u)];
    }
    n = n >> 1u;
    k = k + 1u;
  }
  return r;
}

fn crc_u32(r: u32, w: u32) -> u32 {
  var c = r ^ w;
  c = wtab[c & 0xFFu] ^ (c >> 8u);
  c = wtab[c & 0xFFu] ^ (c >> 8u);
  c = wtab[c & 0xFFu] ^ (c >> 8u);
  c = wtab[c & 0xFFu] ^ (c >> 8u);
  return c;
}

fn crc_u16(r: u32, h: u32) -> u32 {
  var c = r ^ (h & 0xFFFFu);
  c = wtab[c & 0xFFu] ^ (c >> 8u);
  c = wtab[c & 0xFFu] ^ (c >> 8u);
  return c;
}

//! k_begin
@group(0) @binding(1) var<storage, read_write> ctl: array<atomic<u32>>;

@compute @workgroup_size(1)
fn main() {
  atomicStore(&ctl[C_BI], 0u);
  atomicStore(&ctl[C_OUTPOS], 0u);
}

//! k_in
@group(0) @binding(0) var<uniform> prm: Prm;
@group(0) @binding(1) var<storage, read_write> ctl: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> narea: array<u32>;
@group(0) @binding(4) var<storage, read> apar: array<i32>;
@group(0) @binding(5) var<storage, read> syn_ptr: array<u32>;
@group(0) @binding(6) var<storage, read> syn_dst: array<u32>;
@group(0) @binding(7) var<storage, read> syn_c: array<i32>;
@group(0) @binding(8) var<storage, read> syn_w: array<i32>;
@group(0) @binding(9) var<storage, read> fanout: array<i32>;
@group(0) @binding(10) var<storage, read_write> V: array<i32>;
@group(0) @binding(13) var<storage, read> psp: array<i32>;
@group(0) @binding(14) var<storage, read_write> acc: array<atomic<i32>>;
@group(0) @binding(15) var<storage, read_write> flag: array<atomic<u32>>;
@group(0) @binding(17) var<storage, read_write> cand: array<u32>;
@group(0) @binding(20) var<storage, read> fq: array<u32>;
@group(0) @binding(21) var<storage, read> fqv: array<i32>;
@group(0) @binding(23) var<storage, read_write> frc: array<atomic<u32>>;
@group(0) @binding(24) var<storage, read> fqbits: array<u32>;
@group(0) @binding(26) var<storage, read_write> blk: array<atomic<u32>>;
@group(0) @binding(27) var<storage, read> stim: array<u32>;
@group(0) @binding(30) var<storage, read_write> out_sums: array<atomic<u32>>;

// t is a fire candidate (flag bits m: CAND, FP32 also SYN); it joins the FCL of parity p once,
// unless the burst builds no list: then the mark is a fire-and-forget atomic (result unused)
fn mark(t: u32, m: u32, p: u32, nolist: bool) {
  if (nolist) {
    atomicOr(&flag[t], m);
    return;
  }
  if ((atomicLoad(&flag[t]) & m) == m) { return; }
  let old = atomicOr(&flag[t], m);
  if ((old & CAND) == 0u) {
    let k = atomicAdd(&ctl[C_NCAND + p], 1u);
    cand[p * prm.n + k] = t;
  }
}

// acc[t] += c (wrapping), t a candidate
fn add_input(t: u32, c: i32, p: u32, nolist: bool) {
  mark(t, CAND, p, nolist);
  atomicAdd(&acc[t], c);
}

// the burst's steps 2-5 for invocation gid of stride invocations (k_fused: one workgroup)
fn phase_in(gid: u32, stride: u32) {
  let burst = atomicLoad(&ctl[C_BURST]);
  let p = burst & 1u;
  let bi = atomicLoad(&ctl[C_BI]);
  let nfq = atomicLoad(&ctl[C_FQ]);
  let soff = stim[0];
  let s0 = stim[1u + bi];
  let nst = stim[2u + bi] - s0;
  let npow = select(0u, 1u, prm.power != 0xFFFFFFFFu);
  let nolist = no_list_of(prm.large, prm.n, atomicLoad(&ctl[C_EVENTS + p]),
                          atomicLoad(&ctl[C_BIG + p]), nst + npow);
  let nreset = select(atomicLoad(&ctl[C_NCAND + (p ^ 1u)]), nfq, prm.large != 0u);
  let total = nst + npow + nreset;
  // the burst digest, XOR-reduced by k_scan3
  if (gid == 0u) { atomicStore(&out_sums[2u * bi + 1u], 0u); }
  for (var j = gid; j < total; j = j + stride) {
    if (j < nst) {
      // 2. sensory injection / force-fire
      let e = soff + 2u * (s0 + j);
      let word = stim[e];
      let i = word & 0x7FFFFFFFu;
      if ((word >> 31u) != 0u) {
        let old = atomicOr(&flag[i], FORCED);
        if ((old & FORCED) == 0u) {
          atomicOr(&frc[i >> 5u], 1u << (i & 31u));
          atomicAdd(&blk[p * prm.nblk + (i >> BLK_SHIFT)], 1u);
        }
      } else if (FP32) {
        // a candidate; k_gather adds the value after the synaptic input
        add_input(i, 0, p, nolist);
      } else {
        add_input(i, bitcast<i32>(stim[e + 1u]), p, nolist);
      }
    } else if (j < nst + npow) {
      // 3. power
      add_input(prm.power, prm.power_in, p, nolist);
    } else {
      // 4. membrane reset of mp_charge_accumulation = false neurons
      let r = j - nst - npow;
      if (prm.large != 0u) {
        let i = fq[r];
        if (apar[narea[i] * 16u + A_MPACC] == 0) { V[i] = 0; }
      } else {
        let i = cand[(p ^ 1u) * prm.n + r];
        let in_fq = (fqbits[i >> 5u] >> (i & 31u)) & 1u;
        if (in_fq == 0u && apar[narea[i] * 16u + A_MPACC] == 0) { V[i] = 0; }
      }
    }
  }
  // 5. propagation: one 32-lane group per source of the previous fire queue
  let lane = gid & 31u;
  let gstride = stride >> 5u;
  for (var q = gid >> 5u; q < nfq; q = q + gstride) {
    let src = fq[q];
    let area = narea[src];
    let driven = apar[area * 16u + A_DRIVEN] != 0;
    let degen = apar[area * 16u + A_DEGEN] != 0;
    var pv = 0;
    if (driven) { pv = fqv[q]; } else if (degen) { pv = psp[src]; }
    let n = fanout[src];
    let k1 = syn_ptr[src + 1u];
    for (var k = syn_ptr[src] + lane; k < k1; k = k + 32u) {
      // FP32: only mark the target as having synaptic input (k_gather sums it)
      if (FP32) { mark(syn_dst[k], CAND | SYN, p, nolist); continue; }
      var c: i32;
      if (driven || degen) { c = runtime_c(syn_w[k], pv, n, prm.psp_cap); } else { c = syn_c[k]; }
      add_input(syn_dst[k], c, p, nolist);
    }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  phase_in(gid3.x, nwg.x * 256u);
}

//! k_dyn
@group(0) @binding(0) var<uniform> prm: Prm;
@group(0) @binding(1) var<storage, read_write> ctl: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> thr: array<i32>;
@group(0) @binding(3) var<storage, read> narea: array<u32>;
@group(0) @binding(4) var<storage, read> apar: array<i32>;
@group(0) @binding(10) var<storage, read_write> V: array<i32>;
@group(0) @binding(11) var<storage, read_write> cd: array<u32>;
@group(0) @binding(12) var<storage, read_write> cc: array<u32>;
@group(0) @binding(13) var<storage, read_write> psp: array<i32>;
@group(0) @binding(14) var<storage, read_write> acc: array<atomic<i32>>;
@group(0) @binding(15) var<storage, read_write> flag: array<atomic<u32>>;
@group(0) @binding(16) var<storage, read_write> vfire: array<i32>;
@group(0) @binding(17) var<storage, read> cand: array<u32>;
@group(0) @binding(19) var<storage, read_write> refl: array<u32>;
@group(0) @binding(20) var<storage, read> fq: array<u32>;
@group(0) @binding(22) var<storage, read_write> nat: array<atomic<u32>>;
@group(0) @binding(26) var<storage, read_write> blk: array<atomic<u32>>;
@group(0) @binding(27) var<storage, read> stim: array<u32>;

fn push_refl(i: u32, p: u32) {
  let k = atomicAdd(&ctl[C_NREFL + (p ^ 1u)], 1u);
  refl[(p ^ 1u) * prm.n + k] = i;
}

// 6a. refractory countdown (i has cd > 0); a force-fired neuron's countdown pauses
fn refractory(i: u32, f: u32, area: u32, p: u32) {
  if ((f & FORCED) != 0u) { push_refl(i, p); return; }
  let c = cd[i] - 1u;
  cd[i] = c;
  if (c == 0u) {
    let L = u32(apar[area * 16u + A_CFL]);
    if (L != 0u && L != 65535u && cc[i] >= L) { cc[i] = 0u; }
  } else {
    push_refl(i, p);
  }
}

// 6b. dynamics of candidate i (not refractory): integrate a_in, window, consecutive fire limit,
// excitability, fire or leak
fn dynamics(i: u32, f: u32, area: u32, burst: u32, p: u32, a_in: i32) {
  let ab = area * 16u;
  var v: i32;
  var in_window: bool;
  if (FP32) {
    let af = bitcast<f32>(a_in);
    let v0 = bitcast<f32>(V[i]);
    var vf = v0 + af;
    if (apar[ab + A_MPACC] != 0 && af < 0.0) { vf = v0; }
    v = bitcast<i32>(vf);
    in_window = bitcast<f32>(thr[i]) <= vf && vf <= bitcast<f32>(apar[ab + A_LIM]);
  } else {
    var a = a_in;
    if (apar[ab + A_MPACC] != 0 && a < 0) { a = 0; }
    v = sat_add(V[i], a);
    in_window = thr[i] <= v && v <= apar[ab + A_LIM];
  }
  let L = u32(apar[ab + A_CFL]);
  let finite = L != 0u && L != 65535u;
  let c0 = cc[i];
  if (in_window && c0 >= L) {
    cc[i] = 0u;
    V[i] = v;
  } else if (in_window
             && exc_pass(i, burst, apar[ab + A_EXC_MODE], bitcast<u32>(apar[ab + A_EXC_T]))) {
    V[i] = 0;
    let c = min(c0 + 1u, 65535u);
    cc[i] = c;
    var r = u32(apar[ab + A_REFR]);
    if (finite && c >= L) { r = min(r + u32(apar[ab + A_SNOOZE]), 65535u); }
    cd[i] = r;
    if (r > 0u) { push_refl(i, p); }
    vfire[i] = v;
    atomicOr(&nat[i >> 5u], 1u << (i & 31u));
    // forced ones are counted in k_in
    if ((f & FORCED) == 0u) { atomicAdd(&blk[p * prm.nblk + (i >> BLK_SHIFT)], 1u); }
  } else {
    if (finite) { cc[i] = 0u; }
    if (FP32) {
      V[i] = bitcast<i32>(bitcast<f32>(v) * bitcast<f32>(apar[ab + A_K]));
    } else {
      V[i] = leak(v, apar[ab + A_K]);
    }
  }
}

// step 6 (and the dense FCL clear) for invocation gid of stride invocations
fn phase_dyn(gid: u32, stride: u32) {
  let burst = atomicLoad(&ctl[C_BURST]);
  let p = burst & 1u;
  let ncand = atomicLoad(&ctl[C_NCAND + p]);
  let nrefl = atomicLoad(&ctl[C_NREFL + p]);
  let ndeg = select(0u, atomicLoad(&ctl[C_FQ]), prm.has_degen != 0u);
  let bi = atomicLoad(&ctl[C_BI]);
  let nin = stim[2u + bi] - stim[1u + bi] + select(0u, 1u, prm.power != 0xFFFFFFFFu);
  let nolist = no_list_of(prm.large, prm.n, atomicLoad(&ctl[C_EVENTS + p]),
                          atomicLoad(&ctl[C_BIG + p]), nin);
  // dense: every neuron once (refractory ones included), in id order, clearing the FCL (acc,
  // flags) behind it; else the lists
  let dense = nolist || ncand > (prm.n >> DENSE_SHIFT);
  let nlist = select(ncand + nrefl, prm.n, dense);
  let total = nlist + ndeg;
  for (var j = gid; j < total; j = j + stride) {
    if (j < nlist && (dense || j < ncand)) {
      let i = select(cand[p * prm.n + min(j, 2u * prm.n - 1u)], j, dense);
      let f = atomicLoad(&flag[i]);
      let area = narea[i];
      var a = 0;
      if (f != 0u) {
        a = atomicLoad(&acc[i]);
        if (dense) {  // 1. the FCL cleared for the next burst (each neuron visited once)
          atomicStore(&acc[i], 0);
          atomicStore(&flag[i], 0u);
        }
      }
      if (cd[i] > 0u) { refractory(i, f, area, p); continue; }
      if ((f & CAND) == 0u) { continue; }
      dynamics(i, f, area, burst, p, a);
    } else if (j < nlist) {
      let i = refl[p * prm.n + (j - ncand)];
      let f = atomicLoad(&flag[i]);
      if ((f & CAND) == 0u) { refractory(i, f, narea[i], p); }
    } else {
      // degenerating sources lower their PSP after propagating (floor 0)
      let src = fq[j - nlist];
      let d = apar[narea[src] * 16u + A_DEGEN];
      if (FP32) {
        let q = bitcast<f32>(psp[src]) - bitcast<f32>(d);
        if (d != 0) { psp[src] = bitcast<i32>(select(0.0, q, q > 0.0)); }
      } else if (d != 0) {
        psp[src] = max(psp[src] - d, 0);
      }
    }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  phase_dyn(gid3.x, nwg.x * 256u);
}

//! k_gather
@group(0) @binding(0) var<uniform> prm: Prm;
@group(0) @binding(1) var<storage, read_write> ctl: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> narea: array<u32>;
@group(0) @binding(4) var<storage, read> apar: array<i32>;
@group(0) @binding(9) var<storage, read> fanout: array<i32>;
@group(0) @binding(13) var<storage, read> psp: array<i32>;
@group(0) @binding(14) var<storage, read_write> acc: array<atomic<i32>>;
@group(0) @binding(15) var<storage, read_write> flag: array<atomic<u32>>;
@group(0) @binding(16) var<storage, read> vfire: array<i32>;
@group(0) @binding(17) var<storage, read> cand: array<u32>;
@group(0) @binding(24) var<storage, read> fqbits: array<u32>;
@group(0) @binding(27) var<storage, read> stim: array<u32>;
@group(0) @binding(32) var<storage, read> in_ptr: array<u32>;
@group(0) @binding(33) var<storage, read> in_src: array<u32>;
@group(0) @binding(34) var<storage, read> in_c: array<i32>;
@group(0) @binding(35) var<storage, read> in_w: array<i32>;

// ---- FP32 helpers (k_gather only). WGSL lets a compiler contract a * b + c into a fused
// multiply-add (NVIDIA's Vulkan compiler does), which rounds once instead of twice: every product
// that feeds an addition goes through opaque(), an identity the compiler cannot see through
// (an XOR with prm.pad, which is 0 at run time), so it is rounded to f32 first.
fn opaque(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ prm.pad); }

// Veltkamp split of x into a 12-bit high part and the rest (exact for |x| < 2^115)
fn split_f32(x: f32) -> vec2<f32> {
  let c = opaque(4097.0 * x);
  let h = c - (c - x);
  return vec2<f32>(h, x - h);
}

// a - q*b, exactly up to the last rounding (Dekker's product: q*b = p + e)
fn residual(a: f32, b: f32, q: f32) -> f32 {
  let p = opaque(q * b);
  let qs = split_f32(q);
  let bs = split_f32(b);
  let e = ((opaque(qs.x * bs.x) - p) + opaque(qs.x * bs.y) + opaque(qs.y * bs.x))
          + opaque(qs.y * bs.y);
  return (a - p) - e;
}

// a / b correctly rounded: of the hardware quotient and its two neighbours on each side (WGSL's
// 2.5 ULP), the one with the least residual (an exact quotient of two floats is never a midpoint)
fn div_rn(a: f32, b: f32) -> f32 {
  let q0 = a / b;
  let u = bitcast<u32>(q0);
  if ((u & 0x7FFFFFFFu) < 4u || (u & 0x7F800000u) == 0x7F800000u) { return q0; }
  var best = q0;
  var rbest = abs(residual(a, b, q0));
  for (var d = -2i; d <= 2i; d = d + 1i) {
    if (d == 0i) { continue; }
    let q = bitcast<f32>(bitcast<u32>(i32(u) + d));
    let r = abs(residual(a, b, q));
    if (r < rbest) { best = q; rbest = r; }
  }
  return best;
}

// FEAGI's f32(w) * max(psp, 0) / f32(n) (no division when n = 1; the product is added next)
fn runtime_f(w: i32, pv: f32, n: i32) -> f32 {
  let base = opaque(f32(w) * select(0.0, pv, pv > 0.0));
  if (n > 1) { return div_rn(base, f32(n)); }
  return base;
}

// FP32 only: each candidate's synaptic inputs summed in the twin's order (one invocation per
// candidate, serially over its incoming synapses whose source fired in the previous burst), then
// its sensory values of the burst in schedule order (entries e0 <= e < e1 of stim, sorted by
// word = neuron id for injections, force-fires after them: a binary search finds i's first)
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 256u;
  let p = atomicLoad(&ctl[C_BURST]) & 1u;
  let ncand = atomicLoad(&ctl[C_NCAND + p]);
  let bi = atomicLoad(&ctl[C_BI]);
  let soff = stim[0];
  let e0 = stim[1u + bi];
  let e1 = stim[2u + bi];
  let nin = e1 - e0 + select(0u, 1u, prm.power != 0xFFFFFFFFu);
  let dense = no_list_of(prm.large, prm.n, atomicLoad(&ctl[C_EVENTS + p]),
                         atomicLoad(&ctl[C_BIG + p]), nin) || ncand > (prm.n >> DENSE_SHIFT);
  let nlist = select(ncand, prm.n, dense);
  for (var j = gid3.x; j < nlist; j = j + stride) {
    let i = select(cand[p * prm.n + min(j, 2u * prm.n - 1u)], j, dense);
    let f = atomicLoad(&flag[i]);
    if ((f & CAND) == 0u) { continue; }
    var lo = e0;
    var hi = e1;
    while (lo < hi) {
      let mid = (lo + hi) / 2u;
      if (stim[soff + 2u * mid] < i) { lo = mid + 1u; } else { hi = mid; }
    }
    let has_inj = lo < e1 && stim[soff + 2u * lo] == i;
    if ((f & SYN) == 0u && !has_inj) { continue; }
    var s = bitcast<f32>(atomicLoad(&acc[i]));
    let k1 = in_ptr[i + 1u];
    for (var k = select(k1, in_ptr[i], (f & SYN) != 0u); k < k1; k = k + 1u) {
      let src = in_src[k];
      if (((fqbits[src >> 5u] >> (src & 31u)) & 1u) == 0u) { continue; }
      let ab = narea[src] * 16u;
      var c: f32;
      if (apar[ab + A_DRIVEN] != 0) {
        c = runtime_f(in_w[k], bitcast<f32>(vfire[src]), fanout[src]);
      } else if (apar[ab + A_DEGEN] != 0) {
        c = runtime_f(in_w[k], bitcast<f32>(psp[src]), fanout[src]);
      } else {
        c = bitcast<f32>(in_c[k]);
      }
      s = s + c;
    }
    for (var e = lo; e < e1 && stim[soff + 2u * e] == i; e = e + 1u) {
      s = s + bitcast<f32>(stim[soff + 2u * e + 1u]);
    }
    atomicStore(&acc[i], bitcast<i32>(s));
  }
}

//! k_scan3
@group(0) @binding(0) var<uniform> prm: Prm;
@group(0) @binding(1) var<storage, read_write> ctl: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read> syn_ptr: array<u32>;
@group(0) @binding(14) var<storage, read_write> acc: array<atomic<i32>>;
@group(0) @binding(15) var<storage, read_write> flag: array<atomic<u32>>;
@group(0) @binding(16) var<storage, read_write> vfire: array<i32>;
@group(0) @binding(17) var<storage, read> cand: array<u32>;
@group(0) @binding(20) var<storage, read_write> fq: array<u32>;
@group(0) @binding(21) var<storage, read_write> fqv: array<i32>;
@group(0) @binding(22) var<storage, read_write> nat: array<atomic<u32>>;
@group(0) @binding(23) var<storage, read_write> frc: array<atomic<u32>>;
@group(0) @binding(24) var<storage, read_write> fqbits: array<u32>;
@group(0) @binding(26) var<storage, read_write> blk: array<atomic<u32>>;
@group(0) @binding(27) var<storage, read> stim: array<u32>;
@group(0) @binding(28) var<storage, read_write> out_ids: array<u32>;
@group(0) @binding(29) var<storage, read_write> out_v: array<i32>;
@group(0) @binding(30) var<storage, read_write> out_sums: array<atomic<u32>>;
var<workgroup> sh: array<u32, 256>;
var<workgroup> sh_ev: array<u32, 256>;
var<workgroup> s_before: atomic<u32>;
var<workgroup> s_count: atomic<u32>;

// The fired bitmap (natural | forced) compacted into the ascending fired ids (next fire queue,
// trace), the burst CRC-32, the FCL cleared, and the control words advanced — one dispatch of
// nblk workgroups: a workgroup's place in the fire queue comes from the per-block fired counts of
// k_in / k_dyn (blk), a word's place within it from a workgroup scan of popcounts, and the last
// workgroup to finish (a ticket) updates the control words. scan_block is workgroup vb of nvb
// (k_fused: one workgroup runs vb = 0 … nblk-1 in turn); it returns the burst's fired count.
fn scan_block(lid: u32, vb: u32, nvb: u32) -> u32 {
  if (lid == 0u) { atomicStore(&s_before, 0u); atomicStore(&s_count, 0u); }
  workgroupBarrier();
  let burst = atomicLoad(&ctl[C_BURST]);
  let p = burst & 1u;
  let bi = atomicLoad(&ctl[C_BI]);
  let base = atomicLoad(&ctl[C_OUTPOS]);
  let ncand = atomicLoad(&ctl[C_NCAND + p]);
  let nin = stim[2u + bi] - stim[1u + bi] + select(0u, 1u, prm.power != 0xFFFFFFFFu);
  let dense = no_list_of(prm.large, prm.n, atomicLoad(&ctl[C_EVENTS + p]),
                         atomicLoad(&ctl[C_BIG + p]), nin) || ncand > (prm.n >> DENSE_SHIFT);
  let bc = p * prm.nblk;
  var before = 0u;
  var tot = 0u;
  for (var k = lid; k < prm.nblk; k = k + 256u) {
    let c = atomicLoad(&blk[bc + k]);
    tot = tot + c;
    if (k < vb) { before = before + c; }
  }
  if (before != 0u) { atomicAdd(&s_before, before); }
  if (tot != 0u) { atomicAdd(&s_count, tot); }
  let w = vb * 256u + lid;
  var x = 0u;
  var xn = 0u;
  if (w < prm.words) {
    xn = atomicLoad(&nat[w]);
    x = xn | atomicLoad(&frc[w]);
    fqbits[w] = x;
    atomicStore(&nat[w], 0u);
    atomicStore(&frc[w], 0u);
  }
  // exclusive scan of the words' popcounts within the workgroup
  let pc = countOneBits(x);
  sh[lid] = pc;
  workgroupBarrier();
  for (var off = 1u; off < 256u; off = off << 1u) {
    var t = 0u;
    if (lid >= off) { t = sh[lid - off]; }
    workgroupBarrier();
    sh[lid] = sh[lid] + t;
    workgroupBarrier();
  }
  let count = atomicLoad(&s_count);
  var r = 0u;
  var ev = 0u;
  if (x != 0u) {
    // the fired ids of this word, ascending, at their place in the fire queue; their CRC
    // contribution is the raw CRC of the run moved to the end of the message [b, count, ids]
    var pos = atomicLoad(&s_before) + sh[lid] - pc;
    var y = x;
    while (y != 0u) {
      let b = firstTrailingBit(y);
      y = y & (y - 1u);
      let id = w * 32u + b;
      var v = prm.forced_v;
      if (((xn >> b) & 1u) != 0u) { v = vfire[id]; }
      fq[pos] = id;
      fqv[pos] = v;
      atomicStore(&flag[id], 0u);  // 1. FCL clear of the fired (forced ones may be no candidates)
      if (FP32) { vfire[id] = v; }  // V at fire of every fired neuron (forced too), for k_gather
      if (prm.record != 0u) { out_ids[base + pos] = id; out_v[base + pos] = v; }
      r = crc_u32(r, id);
      ev = min(ev + (syn_ptr[id + 1u] - syn_ptr[id]), EV_SAT);
      pos = pos + 1u;
    }
    r = crc_shift(r, 4u * (count - pos));
  }
  if (w == 0u) {
    let h = crc_shift(crc_u32(crc_u32(0u, burst), count), 4u * count);
    r = r ^ h ^ crc_shift(0xFFFFFFFFu, 4u * (count + 2u)) ^ 0xFFFFFFFFu;
  }
  if (r != 0u) { atomicXor(&out_sums[2u * bi + 1u], r); }
  // synaptic events the next burst propagates (the no-list bound), saturating
  sh_ev[lid] = ev;
  workgroupBarrier();
  for (var off = 128u; off > 0u; off = off >> 1u) {
    if (lid < off) { sh_ev[lid] = min(sh_ev[lid] + sh_ev[lid + off], EV_SAT); }
    workgroupBarrier();
  }
  let q = p ^ 1u;
  if (lid == 0u && sh_ev[0] != 0u) {
    let e = sh_ev[0];
    let old = atomicAdd(&ctl[C_EVENTS + q], e);
    if (old + e < old || old + e > (prm.n >> DENSE_SHIFT)) { atomicStore(&ctl[C_BIG + q], 1u); }
  }
  // 1. clear the fire candidate list for the next burst (dense: k_dyn did) and the next burst's
  // per-block fired counts
  let stride = nvb * 256u;
  let nclear = select(ncand, 0u, dense);
  for (var j = w; j < nclear; j = j + stride) {
    let i = cand[p * prm.n + j];
    atomicStore(&acc[i], 0);
    atomicStore(&flag[i], 0u);
  }
  for (var k = w; k < prm.nblk; k = k + stride) { atomicStore(&blk[q * prm.nblk + k], 0u); }
  storageBarrier();
  workgroupBarrier();
  return count;
}

// the burst's control words advanced (once every scan_block of the burst has read them)
fn advance(count: u32) {
  let burst = atomicLoad(&ctl[C_BURST]);
  let p = burst & 1u;
  let bi = atomicLoad(&ctl[C_BI]);
  atomicStore(&ctl[C_FQ], count);
  if (prm.record != 0u) { atomicStore(&ctl[C_OUTPOS], atomicLoad(&ctl[C_OUTPOS]) + count); }
  atomicStore(&out_sums[2u * bi], count);
  atomicStore(&ctl[C_NCAND + (p ^ 1u)], 0u);
  atomicStore(&ctl[C_NREFL + p], 0u);
  atomicStore(&ctl[C_EVENTS + p], 0u);  // this burst's events: summed afresh by the next k_scan3
  atomicStore(&ctl[C_BIG + p], 0u);
  atomicStore(&ctl[C_BURST], burst + 1u);
  atomicStore(&ctl[C_BI], bi + 1u);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  load_table(lid3.x);  // visible after scan_block's first barrier
  let count = scan_block(lid3.x, wid.x, nwg.x);
  // the last workgroup (a ticket): every workgroup has read ctl
  if (lid3.x == 0u && atomicAdd(&ctl[C_TICKET], 1u) == nwg.x - 1u) {
    atomicStore(&ctl[C_TICKET], 0u);
    advance(count);
  }
}

//! k_fused
// Small models (fixed point): one workgroup runs every burst of the submission in one dispatch —
// the phases of k_in, k_dyn and k_scan3 (scan_block for each block in turn) with storage
// barriers between them (the host builds this module from those sections' declarations and
// functions, wgpu.py). The bursts of the submission: the stimulus header's burst count from
// the batch position C_BI on, at most prm.fuse_cap per dispatch when it is not 0 (CPU adapters:
// llvmpipe ends any loop silently after 65,535 iterations counted over the whole invocation).
var<workgroup> wg_nb: u32;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  load_table(lid);
  if (lid == 0u) {
    let left = stim[0] - 2u - atomicLoad(&ctl[C_BI]);
    wg_nb = select(left, min(left, prm.fuse_cap), prm.fuse_cap != 0u);
  }
  let nb = workgroupUniformLoad(&wg_nb);
  for (var b = 0u; b < nb; b = b + 1u) {
    phase_in(lid, 256u);
    storageBarrier();
    phase_dyn(lid, 256u);
    storageBarrier();
    var count = 0u;
    for (var vb = 0u; vb < prm.nblk; vb = vb + 1u) { count = scan_block(lid, vb, prm.nblk); }
    if (lid == 0u) { advance(count); }
    storageBarrier();
  }
}

//! k_state
@group(0) @binding(0) var<uniform> prm: Prm;
@group(0) @binding(1) var<storage, read_write> ctl: array<atomic<u32>>;
@group(0) @binding(10) var<storage, read> V: array<i32>;
@group(0) @binding(11) var<storage, read> cd: array<u32>;
@group(0) @binding(12) var<storage, read> cc: array<u32>;

// state digest: CRC-32 over V (i32 LE), cd (u16 LE), cc (u16 LE); 64 neurons per invocation
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid3: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  load_table(lid3.x);
  workgroupBarrier();
  let n = prm.n;
  let i0 = gid3.x * 64u;
  if (i0 >= n) { return; }
  let i1 = min(i0 + 64u, n);
  var rv = 0u;
  var rd = 0u;
  var rc = 0u;
  for (var i = i0; i < i1; i = i + 1u) {
    rv = crc_u32(rv, bitcast<u32>(V[i]));
    rd = crc_u16(rd, cd[i]);
    rc = crc_u16(rc, cc[i]);
  }
  var r = crc_shift(rv, 4u * (n - i1) + 4u * n) ^ crc_shift(rd, 2u * (n - i1) + 2u * n)
          ^ crc_shift(rc, 2u * (n - i1));
  if (i0 == 0u) { r = r ^ crc_shift(0xFFFFFFFFu, 8u * n) ^ 0xFFFFFFFFu; }
  if (r != 0u) { atomicXor(&ctl[C_SCRC], r); }
}
