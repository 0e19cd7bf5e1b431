// feagi-embed GPU host twin: one burst of docs/model.md §3 (fixed point) as CUDA kernels.
//
// The same kernels as kernels.wgsl (see host/gpu/common.py for the buffers and their order),
// with CUDA-only speed-ups that change no result: three kernels per burst (k_in, k_dyn, k_scan3:
// the fired-id compaction needs no separate scan passes, see k_scan3), a 64-bit accumulator whose
// high word marks
// fire candidates (one atomic per synaptic event), warp-aggregated list appends, propagation in
// 4x32-synapse chunks, and no FCL list in large brains when the burst is dense anyway. Every
// kernel takes the same parameter list (KARGS) so the host passes one tuple. Compiled by cupy
// (NVRTC) at run time; tests/test_gpu_twin.py compile-checks it with nvcc or NVRTC.
//
// Synapse offsets (syn_ptr, in_ptr) are 64-bit: models above 2^32 synapses run.
//
// FEAGI_FP32 (defined by the host for precision "float", compiled with --fmad=false): the same
// burst in IEEE single precision, bit for bit the numba twin's f32 mode (host/twin.py). V,
// thresholds, the limit, leak factor, PSPs and contributions are f32 bits in the int32 buffers;
// every operation is an explicitly rounded intrinsic (__fadd_rn, __fsub_rn, __fmul_rn,
// __fdiv_rn). f32 sums depend on their order, so no float atomics: the scatter pass only counts a
// target's synaptic inputs (acc high word, +2 each; +1 for the power input, the only value k_in
// adds, and +1 for each sensory entry, whose value k_in leaves to k_gather), then k_gather sums
// each candidate's inputs in the twin's order — ascending synapse index, i.e. ascending source id,
// then CSR order — by walking the target's incoming synapses (in_ptr/in_src/in_c/in_w, CSC sorted
// stably by target) and keeping those whose source fired in the previous burst (fqbits), and
// then adds its sensory values of the burst in schedule order (the host sorts each burst's
// injections by neuron, before its force-fires): the release engine's order, power + synaptic
// input + sensory values.

#define CAND 1u
#define FORCED 2u
#define C_BURST 0
#define C_BI 1
#define C_FQ 2
#define C_NCAND 3
#define C_NFORCED 5
#define C_NREFL 6
#define C_OUTPOS 8
#define C_SCRC 13
// the next burst's synaptic events, 64-bit, by burst parity p: words C_EVENTS + 2p, + 2p + 1
#define C_EVENTS 16
// blocks of k_scan3 done (the last one updates the control words)
#define C_TICKET 20
#define A_LIM 0
#define A_K 1
#define A_EXC_MODE 2
#define A_EXC_T 3
#define A_REFR 4
#define A_SNOOZE 5
#define A_CFL 6
#define A_MPACC 7
#define A_DRIVEN 8
#define A_DEGEN 9
#define WGS 256
#ifdef FEAGI_FP32
#define VBITS(x) __float_as_int(x)
#else
#define VBITS(x) (x)
#endif

#define KARGS                                                                                    \
  unsigned *__restrict__ ctl, const int *__restrict__ thr, const unsigned *__restrict__ narea,   \
      const int *__restrict__ apar, const unsigned long long *__restrict__ syn_ptr,                        \
      const unsigned *__restrict__ syn_dst, const int *__restrict__ syn_c,                       \
      const int *__restrict__ syn_w, const int *__restrict__ fanout, int *__restrict__ V,        \
      unsigned *__restrict__ cd, unsigned *__restrict__ cc, int *__restrict__ psp,               \
      unsigned long long *__restrict__ acc, unsigned *__restrict__ flag, int *__restrict__ vfire,               \
      unsigned *__restrict__ cand, unsigned *__restrict__ forced, unsigned *__restrict__ refl,   \
      unsigned *__restrict__ fq, int *__restrict__ fqv, unsigned *__restrict__ nat,              \
      unsigned *__restrict__ frc, unsigned *__restrict__ fqbits, unsigned *__restrict__ loc,     \
      unsigned *__restrict__ blk, const unsigned *__restrict__ stim,                             \
      unsigned *__restrict__ out_ids, int *__restrict__ out_v, unsigned *__restrict__ out_sums,  \
      const unsigned *__restrict__ crctab, const unsigned long long *__restrict__ in_ptr,     \
      const unsigned *__restrict__ in_src, const int *__restrict__ in_c,                        \
      const int *__restrict__ in_w, const unsigned n, const unsigned words,               \
      const unsigned nblk, const unsigned power, const int power_in, const int forced_v,        \
      const int psp_cap, const unsigned large, const unsigned record, const unsigned has_degen

__device__ __forceinline__ int sat32(long long x) {
  return x > 2147483647LL ? 2147483647 : (x < -2147483648LL ? (int)0x80000000u : (int)x);
}

// leak(V) = sat32(floor((V*K + 32768) / 65536)), exact in 64 bits
__device__ __forceinline__ int leak(int v, int k) {
  return sat32(((long long)v * (long long)k + 32768LL) >> 16);
}

// run-time contribution sign(w) * floor((2|w|P + n) / 2n), P = clamp(psp, 0, cap); the low 32
// bits are what the wrapping accumulator adds
__device__ __forceinline__ int runtime_c(int w, int psp, int n, int cap) {
  long long p = psp < 0 ? 0 : (psp > cap ? cap : psp);
  long long aw = w >= 0 ? (long long)w : -(long long)w;
  unsigned long long mag = (unsigned long long)(2 * aw * p + n) / (unsigned long long)(2LL * n);
  unsigned m32 = (unsigned)mag;
  return w >= 0 ? (int)m32 : (int)(0u - m32);
}

__device__ __forceinline__ bool exc_pass(unsigned nid, unsigned burst, int mode, unsigned t) {
  if (mode == 0) return true;
  if (mode == 1) return false;
  unsigned s = nid * 2654435761u + burst * 1597334677u;
  s = s * 747796405u + 2891336453u;
  unsigned w = ((s >> ((s >> 28) + 4u)) ^ s) * 277803737u;
  return ((w >> 22) ^ w) < t;
}

// ---------------------------------------------------------------------------- CRC-32 helpers
// crctab: [0, 256) zlib's table; 256 + 1024*k + 256*b + v: the matrix advancing a raw CRC register
// over 2^k zero bytes, applied to byte b of the register having value v.
__device__ unsigned crc_shift(const unsigned *__restrict__ crctab, unsigned r, unsigned nbytes) {
  unsigned k = 0;
  while (nbytes != 0u && r != 0u) {
    if (nbytes & 1u) {
      const unsigned *t = crctab + 256u + 1024u * k;
      r = __ldg(t + (r & 0xFFu)) ^ __ldg(t + 256u + ((r >> 8) & 0xFFu)) ^
          __ldg(t + 512u + ((r >> 16) & 0xFFu)) ^ __ldg(t + 768u + (r >> 24));
    }
    nbytes >>= 1;
    k++;
  }
  return r;
}

__device__ __forceinline__ unsigned crc_u32(const unsigned *tab, unsigned r, unsigned w) {
  unsigned c = r ^ w;
  c = tab[c & 0xFFu] ^ (c >> 8);
  c = tab[c & 0xFFu] ^ (c >> 8);
  c = tab[c & 0xFFu] ^ (c >> 8);
  c = tab[c & 0xFFu] ^ (c >> 8);
  return c;
}

__device__ __forceinline__ unsigned crc_u16(const unsigned *tab, unsigned r, unsigned h) {
  unsigned c = r ^ (h & 0xFFFFu);
  c = tab[c & 0xFFu] ^ (c >> 8);
  c = tab[c & 0xFFu] ^ (c >> 8);
  return c;
}

// inclusive block scan of NT values (NT/32 <= 32 warps; warp shuffles + one shared array of NT/32)
template <unsigned NT>
__device__ __forceinline__ unsigned block_scan_t(unsigned x, unsigned *sh, unsigned &total) {
  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
#pragma unroll
  for (int off = 1; off < 32; off <<= 1) {
    unsigned t = __shfl_up_sync(0xFFFFFFFFu, x, off);
    if (lane >= (unsigned)off) x += t;
  }
  if (lane == 31u) sh[warp] = x;
  __syncthreads();
  if (warp == 0) {
    unsigned s = lane < NT / 32 ? sh[lane] : 0u;
#pragma unroll
    for (int off = 1; off < 32; off <<= 1) {
      unsigned t = __shfl_up_sync(0xFFFFFFFFu, s, off);
      if (lane >= (unsigned)off) s += t;
    }
    if (lane < NT / 32) sh[lane] = s;
  }
  __syncthreads();
  unsigned r = x + (warp ? sh[warp - 1] : 0u);
  total = sh[NT / 32 - 1];
  __syncthreads();
  return r;
}

// inclusive block scan of 256 values (the grid kernels' block size)
__device__ __forceinline__ unsigned block_scan(unsigned x, unsigned *sh, unsigned &total) {
  return block_scan_t<WGS>(x, sh, total);
}

// warp-aggregated atomicAdd(ctr, 1): one atomic per group of converged lanes (the counters of the
// candidate, forced and refractory lists are single words every appending thread hits)
__device__ __forceinline__ unsigned agg_inc(unsigned *ctr) {
  const unsigned act = __activemask();
  const unsigned lane = threadIdx.x & 31u;
  const unsigned leader = __ffs(act) - 1u;
  unsigned base = 0u;
  if (lane == leader) base = atomicAdd(ctr, (unsigned)__popc(act));
  base = __shfl_sync(act, base, leader);
  return base + (unsigned)__popc(act & ((1u << lane) - 1u));
}

// more candidates than this share of the neurons: k_dyn and the FCL clear run densely (coalesced)
#define DENSE_SHIFT 3

// Large brains (no candidate list needed by the membrane reset): when the burst's candidates are
// bounded above n >> DENSE_SHIFT anyway (synaptic events of the fire queue, summed by the last
// k_scan3, + stimulus entries + power), no FCL list is built at all: the accumulations are
// fire-and-forget atomics and k_dyn / the FCL clear run densely. Every kernel of the burst
// computes the same decision from the same words.
// synaptic events of this burst (summed by the previous burst's k_scan3)
__device__ __forceinline__ unsigned long long events(const unsigned *ctl) {
  return *reinterpret_cast<const unsigned long long *>(ctl + C_EVENTS + 2u * (ctl[C_BURST] & 1u));
}

// one more fired neuron in k_scan3 block i >> 13 (256 bitmap words): the per-block counts of
// burst parity p (blk[p * nblk + b]) give every k_scan3 block its place in the fire queue
// (match-aggregated: one atomic per block id per warp)
__device__ __forceinline__ void count_fired(unsigned *blk, unsigned nblk, unsigned p, unsigned i) {
  const unsigned b = i >> 13;
  const unsigned m = __match_any_sync(__activemask(), b);
  if ((threadIdx.x & 31u) == (unsigned)(__ffs(m) - 1)) atomicAdd(blk + p * nblk + b, __popc(m));
}

__device__ __forceinline__ bool no_list(const unsigned *ctl, const unsigned *stim, unsigned large,
                                        unsigned power, unsigned n) {
  if (!large) return false;
  const unsigned bi = ctl[C_BI];
  const unsigned long long bound = events(ctl) + (stim[2 + bi] - stim[1 + bi]) +
                                   (power != 0xFFFFFFFFu ? 1u : 0u);
  return bound > (unsigned long long)(n >> DENSE_SHIFT);
}

#ifdef FEAGI_FP32
// f32 run-time contribution, FEAGI's f32(w) * max(psp, 0) / f32(n) (no division when n = 1)
__device__ __forceinline__ float runtime_f(int w, float psp, int n) {
  const float base = __fmul_rn((float)w, psp > 0.f ? psp : 0.f);
  return n > 1 ? __fdiv_rn(base, (float)n) : base;
}
#define SYN_INC(k, dr, dg, pv, nf) (2ull << 32)
#else
#define SYN_INC(k, dr, dg, pv, nf) \
  ((1ull << 32) | (unsigned)(((dr) || (dg)) ? runtime_c(rw[k], pv, nf, psp_cap) : rc[k]))
#endif

extern "C" {

__global__ void k_begin(KARGS) {
  ctl[C_BI] = 0u;
  ctl[C_OUTPOS] = 0u;
}

// acc[t] += c (wrapping). acc is 64-bit: the low word is the int32 accumulator, the high word
// counts the inputs (carries of the low word only add to it), so one atomic both accumulates and
// tells whether t is a fire candidate; the first input appends t to the FCL of parity p.
__device__ __forceinline__ void add_input(unsigned long long *__restrict__ acc,
                                          unsigned *__restrict__ cand, unsigned *__restrict__ ctl,
                                          unsigned n, unsigned t, int c, unsigned p) {
  const unsigned long long old = atomicAdd(acc + t, (1ull << 32) | (unsigned)c);
  if ((old >> 32) == 0ull) cand[p * n + agg_inc(ctl + C_NCAND + p)] = t;
}

__global__ void __launch_bounds__(WGS) k_in(KARGS) {
  const unsigned gid = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned stride = gridDim.x * blockDim.x;
  const unsigned burst = ctl[C_BURST], p = burst & 1u, bi = ctl[C_BI], nfq = ctl[C_FQ];
  const unsigned soff = stim[0], s0 = stim[1 + bi], nst = stim[2 + bi] - s0;
  const unsigned npow = power != 0xFFFFFFFFu ? 1u : 0u;
  const unsigned nreset = large ? nfq : ctl[C_NCAND + (p ^ 1u)];
  const unsigned total = nst + npow + nreset;
  const bool nolist = no_list(ctl, stim, large, power, n);
  if (gid == 0u) out_sums[2u * bi + 1u] = 0u;  // the burst digest, XOR-reduced by k_scan3
  for (unsigned j = gid; j < total; j += stride) {
    if (j < nst) {  // 2. sensory injection / force-fire
      const unsigned e = soff + 2u * (s0 + j), word = stim[e], i = word & 0x7FFFFFFFu;
      if (word >> 31) {
        unsigned old = atomicOr(flag + i, FORCED);
        if ((old & FORCED) == 0u) {
          forced[agg_inc(ctl + C_NFORCED)] = i;
          atomicOr(frc + (i >> 5), 1u << (i & 31u));
          count_fired(blk, nblk, p, i);
        }
      } else {
#ifdef FEAGI_FP32
        const unsigned sv = 0u;  // a candidate; k_gather adds the value after the synaptic input
#else
        const unsigned sv = stim[e + 1];
#endif
        if (nolist)
          atomicAdd(acc + i, (1ull << 32) | sv);
        else
          add_input(acc, cand, ctl, n, i, (int)sv, p);
      }
    } else if (j < nst + npow) {  // 3. power
      if (nolist)
        atomicAdd(acc + power, (1ull << 32) | (unsigned)power_in);
      else
        add_input(acc, cand, ctl, n, power, power_in, p);
    } else {  // 4. membrane reset of mp_charge_accumulation = false neurons
      const unsigned r = j - nst - npow;
      if (large) {
        const unsigned i = fq[r];
        if (apar[narea[i] * 16u + A_MPACC] == 0) V[i] = 0;
      } else {
        const unsigned i = cand[(p ^ 1u) * n + r];
        if (((fqbits[i >> 5] >> (i & 31u)) & 1u) == 0u && apar[narea[i] * 16u + A_MPACC] == 0)
          V[i] = 0;
      }
    }
  }
  // 5. propagation: one warp per source of the previous fire queue, in chunks of 4 x 32 synapses:
  // four independent atomics in flight per lane, then one counter atomic per chunk for the
  // targets that became candidates (the loops are warp-uniform: full-mask shuffles are safe)
  const unsigned lane = gid & 31u, gstride = stride >> 5;
  for (unsigned q = gid >> 5; q < nfq; q += gstride) {
    const unsigned src = fq[q], area = narea[src];
    const bool driven = apar[area * 16u + A_DRIVEN] != 0, degen = apar[area * 16u + A_DEGEN] != 0;
    const int pv = driven ? fqv[q] : (degen ? psp[src] : 0);
    const int nf = fanout[src];
    // the source's row: a 64-bit offset, then 32-bit indices within it (fan-out < 2^32)
    const unsigned long long row = syn_ptr[src];
    const unsigned k1 = (unsigned)(syn_ptr[src + 1] - row);
    const unsigned *__restrict__ rd = syn_dst + row;
    const int *__restrict__ rc = syn_c + (driven || degen ? 0ull : row);
    const int *__restrict__ rw = syn_w + (driven || degen ? row : 0ull);
    (void)rc;
    (void)rw;
    if (nolist) {
      for (unsigned k = lane; k < k1; k += 32u)
        atomicAdd(acc + rd[k], SYN_INC(k, driven, degen, pv, nf));
      continue;
    }
    for (unsigned k0 = 0u; k0 < k1; k0 += 128u) {
      unsigned tgt[4];
      unsigned isnew = 0u;
#pragma unroll
      for (int u = 0; u < 4; u++) {
        const unsigned k = k0 + 32u * u + lane;
        tgt[u] = 0u;
        if (k < k1) {
          const unsigned t = rd[k];
          const unsigned long long old = atomicAdd(acc + t, SYN_INC(k, driven, degen, pv, nf));
          tgt[u] = t;
          if ((old >> 32) == 0ull) isnew |= 1u << u;
        }
      }
      const unsigned cnt = __popc(isnew);
      unsigned incl = cnt;
#pragma unroll
      for (int off = 1; off < 32; off <<= 1) {
        const unsigned t = __shfl_up_sync(0xFFFFFFFFu, incl, off);
        if (lane >= (unsigned)off) incl += t;
      }
      const unsigned total = __shfl_sync(0xFFFFFFFFu, incl, 31);
      if (total) {
        unsigned base = 0u;
        if (lane == 31u) base = atomicAdd(ctl + C_NCAND + p, total);
        unsigned pos = p * n + __shfl_sync(0xFFFFFFFFu, base, 31) + incl - cnt;
#pragma unroll
        for (int u = 0; u < 4; u++)
          if (isnew & (1u << u)) cand[pos++] = tgt[u];
      }
    }
  }
}

// f32 mode: each candidate's synaptic inputs summed in the twin's order (one warp per candidate:
// 32 incoming synapses at a time, the fired ones added serially in ascending synapse order), then
// its sensory values in schedule order (stim entries e0 <= e < e1 of the burst: words ascend,
// injections by neuron id, force-fires after them, so a binary search finds i's first)
__global__ void __launch_bounds__(WGS) k_gather(KARGS) {
#ifdef FEAGI_FP32
  const unsigned gid = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned lane = gid & 31u, wstride = (gridDim.x * blockDim.x) >> 5;
  const unsigned p = ctl[C_BURST] & 1u, ncand = ctl[C_NCAND + p];
  const bool dense = no_list(ctl, stim, large, power, n) || ncand > (n >> DENSE_SHIFT);
  const unsigned nlist = dense ? n : ncand;
  const unsigned bi = ctl[C_BI], soff = stim[0], e0 = stim[1 + bi], e1 = stim[2 + bi];
  for (unsigned q = gid >> 5; q < nlist; q += wstride) {  // warp-uniform
    const unsigned i = dense ? q : cand[p * n + q];
    const unsigned long long a64 = acc[i];
    if ((a64 >> 32) == 0ull) continue;  // not a candidate
    unsigned lo = e0, hi = e1;
    while (lo < hi) {
      const unsigned mid = (lo + hi) / 2u;
      if (stim[soff + 2u * mid] < i) lo = mid + 1u; else hi = mid;
    }
    // below 2 counted inputs: only the power input or one sensory value, no synaptic input (2
    // or more may still be power + sensory values: the walk then finds no fired source)
    const bool syn = (a64 >> 33) != 0ull;
    if (!syn && !(lo < e1 && stim[soff + 2u * lo] == i)) continue;
    float s = __uint_as_float((unsigned)a64);
    const unsigned long long k1 = syn ? in_ptr[i + 1] : 0ull;
    for (unsigned long long k0 = syn ? in_ptr[i] : 0ull; k0 < k1; k0 += 32u) {
      const unsigned long long k = k0 + lane;
      float c = 0.f;
      bool fired = false;
      if (k < k1) {
        const unsigned src = in_src[k];
        fired = ((fqbits[src >> 5] >> (src & 31u)) & 1u) != 0u;
        if (fired) {
          const int *ap = apar + narea[src] * 16u;
          if (ap[A_DRIVEN] != 0)
            c = runtime_f(in_w[k], __int_as_float(vfire[src]), fanout[src]);
          else if (ap[A_DEGEN] != 0)
            c = runtime_f(in_w[k], __int_as_float(psp[src]), fanout[src]);
          else
            c = __int_as_float(in_c[k]);
        }
      }
      unsigned m = __ballot_sync(0xFFFFFFFFu, fired);
      while (m) {
        const int b = __ffs(m) - 1;
        m &= m - 1u;
        s = __fadd_rn(s, __shfl_sync(0xFFFFFFFFu, c, b));
      }
    }
    for (unsigned e = lo; e < e1 && stim[soff + 2u * e] == i; e++)
      s = __fadd_rn(s, __uint_as_float(stim[soff + 2u * e + 1u]));
    if (lane == 0u) acc[i] = (a64 & 0xFFFFFFFF00000000ull) | __float_as_uint(s);
  }
#endif
}

__device__ __forceinline__ void push_refl(unsigned *ctl, unsigned *refl, unsigned n, unsigned i,
                                          unsigned p) {
  refl[(p ^ 1u) * n + agg_inc(ctl + C_NREFL + (p ^ 1u))] = i;
}

// 6a. one step of i's refractory countdown (cd > 0, not force-fired this burst); at its end a
// finite consecutive fire limit that was reached is cleared. Returns whether it still runs.
__device__ __forceinline__ bool count_down(unsigned *cd, unsigned *cc, const int *apar, unsigned i,
                                           unsigned area) {
  const unsigned c = cd[i] - 1u;
  cd[i] = c;
  if (c != 0u) return true;
  const unsigned L = (unsigned)apar[area * 16u + A_CFL];
  if (L != 0u && L != 65535u && cc[i] >= L) cc[i] = 0u;
  return false;
}

// 6a. refractory countdown (i has cd > 0); a force-fired neuron's countdown pauses
__device__ __forceinline__ void refractory(unsigned *ctl, unsigned *refl, unsigned *cd,
                                           unsigned *cc, const int *apar, unsigned n, unsigned i,
                                           unsigned f, unsigned area, unsigned p) {
  if ((f & FORCED) || count_down(cd, cc, apar, i, area)) push_refl(ctl, refl, n, i, p);
}

// 6b–g. the dynamics of candidate i (cd[i] == 0) with input a64 (low word) and membrane potential
// v0 (bits; after the membrane reset): integrate, firing window, consecutive fire limit,
// excitability, then fire (V = 0, cc and cd updated; returns true with the V at fire in vf and the
// refractory countdown in r) or not (V kept at the limit-blocked value or leaked). The one
// definition of the rule for k_dyn and k_fused.
__device__ __forceinline__ bool dynamics(int *__restrict__ V, unsigned *__restrict__ cd,
                                         unsigned *__restrict__ cc, const int *__restrict__ thr,
                                         const int *ap, unsigned i, unsigned burst,
                                         unsigned long long a64, int v0bits, int &vf,
                                         unsigned &r) {
#ifdef FEAGI_FP32
  const float a = __uint_as_float((unsigned)a64), v0 = __int_as_float(v0bits);
  const float v = (ap[A_MPACC] != 0 && a < 0.f) ? v0 : __fadd_rn(v0, a);
  const bool in_window = __int_as_float(thr[i]) <= v && v <= __int_as_float(ap[A_LIM]);
#else
  int a = (int)(unsigned)a64;
  if (ap[A_MPACC] != 0 && a < 0) a = 0;
  const int v = sat32((long long)v0bits + a);
  const bool in_window = thr[i] <= v && v <= ap[A_LIM];
#endif
  const unsigned L = (unsigned)ap[A_CFL];
  const bool finite = L != 0u && L != 65535u;
  const unsigned c0 = cc[i];
  if (in_window && c0 >= L) {
    cc[i] = 0u;
    V[i] = VBITS(v);
    return false;
  }
  if (in_window && exc_pass(i, burst, ap[A_EXC_MODE], (unsigned)ap[A_EXC_T])) {
    V[i] = 0;
    const unsigned c = min(c0 + 1u, 65535u);
    cc[i] = c;
    r = (unsigned)ap[A_REFR];
    if (finite && c >= L) r = min(r + (unsigned)ap[A_SNOOZE], 65535u);
    cd[i] = r;
    vf = VBITS(v);
    return true;
  }
  if (finite) cc[i] = 0u;
#ifdef FEAGI_FP32
  V[i] = __float_as_int(__fmul_rn(v, __int_as_float(ap[A_K])));
#else
  V[i] = leak(v, ap[A_K]);
#endif
  return false;
}

__global__ void __launch_bounds__(WGS) k_dyn(KARGS) {
  const unsigned gid = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned stride = gridDim.x * blockDim.x;
  const unsigned burst = ctl[C_BURST], p = burst & 1u;
  const unsigned ncand = ctl[C_NCAND + p], nrefl = ctl[C_NREFL + p];
  const unsigned ndeg = has_degen ? ctl[C_FQ] : 0u;
  // dense: every neuron once (refractory ones included), in id order; else the lists
  const bool dense = no_list(ctl, stim, large, power, n) || ncand > (n >> DENSE_SHIFT);
  const unsigned nlist = dense ? n : ncand + nrefl;
  const unsigned total = nlist + ndeg;
  for (unsigned j = gid; j < total; j += stride) {
    if (j < nlist && (dense || j < ncand)) {
      const unsigned i = dense ? j : cand[p * n + j];
      if (cd[i] > 0u) {
        refractory(ctl, refl, cd, cc, apar, n, i, flag[i], narea[i], p);
        if (dense) acc[i] = 0ull;  // 1. FCL cleared here in the dense pass (not in k_scan3)
        continue;
      }
      const unsigned long long a64 = acc[i];
      if ((a64 >> 32) == 0ull) continue;  // not a candidate (dense pass)
      if (dense) acc[i] = 0ull;  // each neuron is visited once and acc is not read again
      int vf = 0;
      unsigned r = 0u;
      if (dynamics(V, cd, cc, thr, apar + narea[i] * 16u, i, burst, a64, V[i], vf, r)) {
        if (r > 0u) push_refl(ctl, refl, n, i, p);
        vfire[i] = vf;
        atomicOr(nat + (i >> 5), 1u << (i & 31u));
        if ((flag[i] & FORCED) == 0u) count_fired(blk, nblk, p, i);  // forced: counted in k_in
      }
    } else if (j < nlist) {
      const unsigned i = refl[p * n + (j - ncand)];
      if ((acc[i] >> 32) == 0ull) refractory(ctl, refl, cd, cc, apar, n, i, flag[i], narea[i], p);
    } else {  // degenerating sources lower their PSP after propagating (floor 0)
      const unsigned src = fq[j - nlist];
#ifdef FEAGI_FP32
      const float d = __int_as_float(apar[narea[src] * 16u + A_DEGEN]);
      if (d != 0.f) {
        const float q = __fsub_rn(__int_as_float(psp[src]), d);
        psp[src] = __float_as_int(q > 0.f ? q : 0.f);
      }
#else
      const int d = apar[narea[src] * 16u + A_DEGEN];
      if (d != 0) psp[src] = max(psp[src] - d, 0);
#endif
    }
  }
}

// The fired bitmap (natural | forced) compacted into the ascending fired ids (next fire queue,
// trace), the burst CRC-32, the FCL cleared, and the control words advanced — one kernel: each
// block's place in the fire queue comes from the per-block fired counts of k_in / k_dyn
// (count_fired), a word's place within the block from a block scan of popcounts, and the last
// block to finish (a ticket) updates the control words.
__global__ void __launch_bounds__(WGS) k_scan3(KARGS) {
  __shared__ unsigned tab[256];
  __shared__ unsigned sh[WGS / 32];
  __shared__ unsigned s_before, s_count;
  tab[threadIdx.x] = crctab[threadIdx.x];
  if (threadIdx.x == 0) s_before = s_count = 0u;
  __syncthreads();
  const unsigned burst = ctl[C_BURST], p = burst & 1u, bi = ctl[C_BI], base = ctl[C_OUTPOS];
  const unsigned ncand = ctl[C_NCAND + p], nforced = ctl[C_NFORCED];
  const bool dense = no_list(ctl, stim, large, power, n) || ncand > (n >> DENSE_SHIFT);
  const unsigned *bc = blk + p * nblk;
  unsigned before = 0u, tot = 0u;
  for (unsigned k = threadIdx.x; k < nblk; k += WGS) {
    const unsigned c = bc[k];
    tot += c;
    if (k < blockIdx.x) before += c;
  }
  before = __reduce_add_sync(0xFFFFFFFFu, before);
  tot = __reduce_add_sync(0xFFFFFFFFu, tot);
  if ((threadIdx.x & 31u) == 0u) {
    atomicAdd(&s_before, before);
    atomicAdd(&s_count, tot);
  }
  const unsigned w = blockIdx.x * blockDim.x + threadIdx.x;
  unsigned x = 0u, xn = 0u;
  if (w < words) {
    xn = nat[w];
    x = xn | frc[w];
    fqbits[w] = x;
    nat[w] = 0u;
    frc[w] = 0u;
  }
  const unsigned pc = __popc(x);
  unsigned btot;
  const unsigned incl = block_scan(pc, sh, btot);  // synchronises the block (s_before, s_count)
  const unsigned count = s_count;
  unsigned r = 0u;
  unsigned long long ev = 0ull;
  if (x) {
    // the fired ids of this word, ascending, at their place in the fire queue; their CRC
    // contribution is the raw CRC of the run moved to the end of the message [b, count, ids]
    unsigned pos = s_before + incl - pc;
    unsigned y = x;
    while (y) {
      const unsigned b = __ffs(y) - 1;
      y &= y - 1u;
      const unsigned id = w * 32u + b;
      const int v = ((xn >> b) & 1u) ? vfire[id] : forced_v;
      fq[pos] = id;
      fqv[pos] = v;
#ifdef FEAGI_FP32
      vfire[id] = v;  // V at fire of every fired neuron (forced too), read by k_gather
#endif
      if (record) {
        out_ids[base + pos] = id;
        out_v[base + pos] = v;
      }
      r = crc_u32(tab, r, id);
      ev += syn_ptr[id + 1] - syn_ptr[id];
      pos++;
    }
    r = crc_shift(crctab, r, 4u * (count - pos));
  }
  if (w == 0u) {
    const unsigned h = crc_shift(crctab, crc_u32(tab, crc_u32(tab, 0u, burst), count), 4u * count);
    r ^= h ^ crc_shift(crctab, 0xFFFFFFFFu, 4u * (count + 2u)) ^ 0xFFFFFFFFu;
  }
  if (r) atomicXor(out_sums + 2 * bi + 1, r);
  // synaptic events the next burst propagates (bound for no_list); every lane of the block is here
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) ev += __shfl_down_sync(0xFFFFFFFFu, ev, off);
  if ((threadIdx.x & 31u) == 0u && ev)
    atomicAdd(reinterpret_cast<unsigned long long *>(ctl + C_EVENTS + 2u * (p ^ 1u)), ev);
  // 1. clear the fire candidate list for the next burst (dense: k_dyn cleared acc; flags hold
  // FORCED only) and the next burst's per-block fired counts
  const unsigned stride = gridDim.x * blockDim.x;
  const unsigned nclear = dense ? nforced : ncand + nforced;
  for (unsigned j = w; j < nclear; j += stride) {
    if (!dense && j < ncand)
      acc[cand[p * n + j]] = 0ull;
    else
      flag[forced[j - (dense ? 0u : ncand)]] = 0u;
  }
  for (unsigned k = w; k < nblk; k += stride) blk[(p ^ 1u) * nblk + k] = 0u;
  __syncthreads();
  if (threadIdx.x == 0) {
    __threadfence();
    if (atomicAdd(ctl + C_TICKET, 1u) == gridDim.x - 1u) {  // every block has read ctl
      ctl[C_TICKET] = 0u;
      ctl[C_FQ] = count;
      if (record) ctl[C_OUTPOS] = base + count;
      out_sums[2 * bi] = count;
      ctl[C_NCAND + (p ^ 1u)] = 0u;
      ctl[C_NREFL + p] = 0u;
      ctl[C_NFORCED] = 0u;
      ctl[C_EVENTS + 2u * p] = 0u;  // this burst's events: summed afresh by the next k_scan3
      ctl[C_EVENTS + 2u * p + 1u] = 0u;
      ctl[C_BURST] = burst + 1u;
      ctl[C_BI] = bi + 1u;
    }
  }
}

// state digest: CRC-32 over V (i32 LE), cd (u16 LE), cc (u16 LE); 64 neurons per thread
__global__ void __launch_bounds__(WGS) k_state(KARGS) {
  __shared__ unsigned tab[256];
  tab[threadIdx.x] = crctab[threadIdx.x];
  __syncthreads();
  const unsigned i0 = (blockIdx.x * blockDim.x + threadIdx.x) * 64u;
  if (i0 >= n) return;
  const unsigned i1 = min(i0 + 64u, n);
  unsigned rv = 0, rd = 0, rc = 0;
  for (unsigned i = i0; i < i1; i++) {
    rv = crc_u32(tab, rv, (unsigned)V[i]);
    rd = crc_u16(tab, rd, cd[i]);
    rc = crc_u16(tab, rc, cc[i]);
  }
  unsigned r = crc_shift(crctab, rv, 4u * (n - i1) + 4u * n) ^
               crc_shift(crctab, rd, 2u * (n - i1) + 2u * n) ^ crc_shift(crctab, rc, 2u * (n - i1));
  if (i0 == 0u) r ^= crc_shift(crctab, 0xFFFFFFFFu, 8u * n) ^ 0xFFFFFFFFu;
  if (r) atomicXor(ctl + C_SCRC, r);
}

// ---------------------------------------------------------------------------- fused small genomes
// k_fused: every burst of a launch in ONE block of FUSED_T threads (fixed point; models of at most
// 32 * FUSED_WORDS neurons, host/gpu/cuda.py: fused_eligible). The burst is the same as k_in ->
// k_dyn -> k_scan3 (same results), its phases separated by __syncthreads() instead of kernel
// launches. The neuron sets live as bitmaps in shared memory (persisted in fst between launches:
// words [0, W) and [W, 2W) the candidates of burst parity 0 and 1, [2W, 3W) the refractory
// neurons (cd > 0), [3W, 4W) the previous burst's fired set; W = words):
//   phase 1: force-fires set the fired bit (fire bitmap), injections, the power input and the
//     propagation of the previous fire queue add to acc (64-bit fire-and-forget atomics: the
//     integer sums do not depend on the order) and set the candidate bit;
//   phase 2: the neurons with work (candidates, refractory, force-fired, and when the model needs
//     them the previous candidates and fired: membrane reset, degeneration) compacted into a list
//     (block scan, ascending), then one thread per neuron: reset, degeneration, refractory
//     countdown or dynamics (dynamics()), FCL clear, V at fire;
//   phase 3: the fire bitmap compacted into the ascending fired ids (next fire queue, trace), the
//     burst CRC-32 (XOR of each thread's shifted run, as k_scan3), the bitmaps advanced.
#define FUSED_T 1024
#define FUSED_WORDS 2048
// a source row longer than this is propagated by its whole warp, shorter ones by their lane
#define FUSED_LONG_ROW 16u

__device__ __forceinline__ void fused_input(unsigned long long *__restrict__ acc,
                                            unsigned *cand_bits, unsigned i, unsigned c) {
  atomicAdd(acc + i, (1ull << 32) | c);
  atomicOr(cand_bits + (i >> 5), 1u << (i & 31u));
}

// one synapse k of a source (rt: run-time contribution from pv, fan-out nf)
__device__ __forceinline__ void fused_synapse(unsigned long long *__restrict__ acc,
                                              unsigned *cand_bits,
                                              const unsigned *__restrict__ syn_dst,
                                              const int *__restrict__ syn_c,
                                              const int *__restrict__ syn_w, unsigned long long k,
                                              bool rt, int pv, int nf, int psp_cap) {
  const int c = rt ? runtime_c(syn_w[k], pv, nf, psp_cap) : syn_c[k];
  fused_input(acc, cand_bits, syn_dst[k], (unsigned)c);
}

// the words [w0, w1) a thread compacts (contiguous, ascending with the thread id)
__device__ __forceinline__ void fused_chunk(unsigned words, unsigned &w0, unsigned &w1) {
  const unsigned per = (words + FUSED_T - 1u) / FUSED_T;
  w0 = min(threadIdx.x * per, words);
  w1 = min(w0 + per, words);
}

__global__ void __launch_bounds__(FUSED_T, 1)
    k_fused(KARGS, unsigned *__restrict__ fst, const unsigned nburst, const unsigned begin,
            const unsigned any_reset) {
#ifndef FEAGI_FP32
  __shared__ unsigned s_c[2][FUSED_WORDS];  // candidates by burst parity
  __shared__ unsigned s_r[FUSED_WORDS];     // refractory (cd > 0)
  __shared__ unsigned s_q[FUSED_WORDS];     // fired in the previous burst (the fire queue)
  __shared__ unsigned s_f[FUSED_WORDS];     // fired in this burst (forced, then natural)
  __shared__ unsigned tab[256];
  __shared__ unsigned sh[FUSED_T / 32];
  __shared__ unsigned s_crc;
  const unsigned t = threadIdx.x, lane = t & 31u;
  for (unsigned w = t; w < words; w += FUSED_T) {
    s_c[0][w] = fst[w];
    s_c[1][w] = fst[words + w];
    s_r[w] = fst[2u * words + w];
    s_q[w] = fst[3u * words + w];
    s_f[w] = 0u;
  }
  if (t < 256u) tab[t] = crctab[t];
  if (t == 0u) s_crc = 0u;
  unsigned burst = ctl[C_BURST], bi = begin ? 0u : ctl[C_BI];
  unsigned base = begin ? 0u : ctl[C_OUTPOS], nfq = ctl[C_FQ];
  const unsigned soff = stim[0];
  // which bitmaps name work in phase 2 beyond candidates, refractory and forced neurons
  const bool need_q = has_degen != 0u || (large != 0u && any_reset != 0u);
  const bool need_prev = large == 0u && any_reset != 0u;
  unsigned w0, w1;
  fused_chunk(words, w0, w1);
  __syncthreads();
  for (unsigned k = 0u; k < nburst; k++, burst++, bi++) {
    const unsigned p = burst & 1u;
    unsigned *cur = s_c[p], *prv = s_c[p ^ 1u];
    // ---- phase 1: 2. force-fire / sensory injection, 3. power, 5. propagation
    const unsigned s0 = stim[1u + bi], nst = stim[2u + bi] - s0;
    for (unsigned j = t; j < nst; j += FUSED_T) {
      const unsigned e = soff + 2u * (s0 + j), word = stim[e], i = word & 0x7FFFFFFFu;
      if (word >> 31)
        atomicOr(s_f + (i >> 5), 1u << (i & 31u));
      else
        fused_input(acc, cur, i, stim[e + 1u]);
    }
    if (t == 0u && power != 0xFFFFFFFFu) fused_input(acc, cur, power, (unsigned)power_in);
    // one source per lane; a long row by the whole warp (the loop is warp-uniform)
    for (unsigned q0 = (t >> 5) * 32u; q0 < nfq; q0 += FUSED_T) {
      const unsigned q = q0 + lane;
      unsigned long long row = 0ull;
      unsigned len = 0u;
      int pv = 0, nf = 1;
      bool rt = false;
      if (q < nfq) {
        const unsigned src = fq[q];
        const int *ap = apar + narea[src] * 16u;
        const bool driven = ap[A_DRIVEN] != 0, degen = ap[A_DEGEN] != 0;
        rt = driven || degen;
        pv = driven ? fqv[q] : (degen ? psp[src] : 0);
        nf = fanout[src];
        row = syn_ptr[src];
        len = (unsigned)(syn_ptr[src + 1u] - row);
      }
      const bool lng = len > FUSED_LONG_ROW;
      if (!lng)
        for (unsigned s = 0u; s < len; s++)
          fused_synapse(acc, cur, syn_dst, syn_c, syn_w, row + s, rt, pv, nf, psp_cap);
      unsigned m = __ballot_sync(0xFFFFFFFFu, lng);
      while (m) {
        const int b = __ffs(m) - 1;
        m &= m - 1u;
        const unsigned long long brow = __shfl_sync(0xFFFFFFFFu, row, b);
        const unsigned blen = __shfl_sync(0xFFFFFFFFu, len, b);
        const int bpv = __shfl_sync(0xFFFFFFFFu, pv, b), bnf = __shfl_sync(0xFFFFFFFFu, nf, b);
        const bool brt = __shfl_sync(0xFFFFFFFFu, (int)rt, b) != 0;
        for (unsigned s = lane; s < blen; s += 32u)
          fused_synapse(acc, cur, syn_dst, syn_c, syn_w, brow + s, brt, bpv, bnf, psp_cap);
      }
    }
    __syncthreads();
    // ---- phase 2: the neurons with work, compacted in ascending order into cand
    unsigned cnt = 0u;
    for (unsigned w = w0; w < w1; w++)
      cnt += __popc(cur[w] | s_r[w] | s_f[w] | (need_q ? s_q[w] : 0u) | (need_prev ? prv[w] : 0u));
    unsigned nwork;
    unsigned pos = block_scan_t<FUSED_T>(cnt, sh, nwork) - cnt;
    for (unsigned w = w0; w < w1; w++) {
      unsigned y = cur[w] | s_r[w] | s_f[w] | (need_q ? s_q[w] : 0u) | (need_prev ? prv[w] : 0u);
      while (y) {
        const unsigned b = __ffs(y) - 1;
        y &= y - 1u;
        cand[pos++] = w * 32u + b;
      }
    }
    __syncthreads();
    for (unsigned j = t; j < nwork; j += FUSED_T) {
      const unsigned i = cand[j], w = i >> 5, bit = 1u << (i & 31u);
      const bool c = (cur[w] & bit) != 0u, f = (s_f[w] & bit) != 0u;
      const bool fired_prev = (s_q[w] & bit) != 0u, cand_prev = (prv[w] & bit) != 0u;
      const unsigned area = narea[i];
      const int *ap = apar + area * 16u;
      // 4. membrane reset (large brain: the previous fire queue; else the previous candidates
      // that did not fire), as k_in
      const bool reset = any_reset != 0u && ap[A_MPACC] == 0 &&
                         (large != 0u ? fired_prev : (cand_prev && !fired_prev));
      if (reset) V[i] = 0;
      // degeneration of a source of the previous burst (after its propagation in phase 1)
      if (has_degen != 0u && fired_prev && ap[A_DEGEN] != 0) psp[i] = max(psp[i] - ap[A_DEGEN], 0);
      bool fired = false;
      int vf = forced_v;
      if (cd[i] > 0u) {  // 6a. refractory countdown (a candidate's input is discarded)
        if (!f && !count_down(cd, cc, apar, i, area)) atomicAnd(s_r + w, ~bit);
      } else if (c) {
        unsigned r = 0u;
        fired = dynamics(V, cd, cc, thr, ap, i, burst, __ldcg(acc + i), reset ? 0 : V[i], vf, r);
        if (fired) {
          if (r > 0u) atomicOr(s_r + w, bit);
          if (!f) atomicOr(s_f + w, bit);
        }
      }
      if (c) acc[i] = 0ull;  // 1. the FCL cleared for the next burst
      if (fired || f) vfire[i] = fired ? vf : forced_v;
    }
    __syncthreads();
    // ---- phase 3: the fired ids ascending (fire queue, trace) and the burst digest
    cnt = 0u;
    for (unsigned w = w0; w < w1; w++) cnt += __popc(s_f[w]);
    unsigned count;
    pos = block_scan_t<FUSED_T>(cnt, sh, count) - cnt;
    unsigned r = 0u;
    for (unsigned w = w0; w < w1; w++) {
      unsigned y = s_f[w];
      s_q[w] = y;
      s_f[w] = 0u;
      prv[w] = 0u;  // the candidates of the next burst (same parity as the previous one)
      while (y) {
        const unsigned b = __ffs(y) - 1;
        y &= y - 1u;
        const unsigned id = w * 32u + b;
        const int v = vfire[id];
        fq[pos] = id;
        fqv[pos] = v;
        if (record) {
          out_ids[base + pos] = id;
          out_v[base + pos] = v;
        }
        r = crc_u32(tab, r, id);
        pos++;
      }
    }
    if (r) r = crc_shift(crctab, r, 4u * (count - pos));
    if (t == 0u) {
      const unsigned h =
          crc_shift(crctab, crc_u32(tab, crc_u32(tab, 0u, burst), count), 4u * count);
      r ^= h ^ crc_shift(crctab, 0xFFFFFFFFu, 4u * (count + 2u)) ^ 0xFFFFFFFFu;
    }
    r = __reduce_xor_sync(0xFFFFFFFFu, r);
    if (lane == 0u && r) atomicXor(&s_crc, r);
    __syncthreads();
    if (t == 0u) {
      out_sums[2u * bi] = count;
      out_sums[2u * bi + 1u] = s_crc;
      s_crc = 0u;  // read again only after the next burst's barriers
    }
    nfq = count;
    if (record) base += count;
  }
  __syncthreads();
  for (unsigned w = t; w < words; w += FUSED_T) {
    fst[w] = s_c[0][w];
    fst[words + w] = s_c[1][w];
    fst[2u * words + w] = s_r[w];
    fst[3u * words + w] = s_q[w];
  }
  if (t == 0u) {
    ctl[C_BURST] = burst;
    ctl[C_BI] = bi;
    ctl[C_OUTPOS] = base;
    ctl[C_FQ] = nfq;
  }
#endif
}

// ------------------------------------------------------- step() I/O through mapped host memory
// A CudaTwin.step() with graphs runs one captured graph: k_step_import, the burst's kernels,
// k_step_export, then one stream wait. Both buffers below are page-locked host memory that the
// device reads and writes directly (unified addressing), so a step needs no copy call.

// src = [3, 0, m, m entries of 2 words] (the stimulus layout of one burst) -> stim
__global__ void k_step_import(const unsigned *__restrict__ src, unsigned *__restrict__ stim) {
  const unsigned words = 3u + 2u * src[2];
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < words; i += gridDim.x * blockDim.x)
    stim[i] = src[i];
}

// dst = [fired count, burst digest, cap words of fired ids, cap words of V at fire]; the ids and
// V only when record != 0 (the burst's output starts at 0: a step begins its own batch)
__global__ void k_step_export(const unsigned *__restrict__ out_sums,
                              const unsigned *__restrict__ out_ids, const int *__restrict__ out_v,
                              unsigned *__restrict__ dst, const unsigned cap,
                              const unsigned record) {
  const unsigned count = out_sums[0], t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t == 0u) {
    dst[0] = count;
    dst[1] = out_sums[1];
  }
  if (record == 0u) return;
  for (unsigned i = t; i < count && i < cap; i += gridDim.x * blockDim.x) {
    dst[2u + i] = out_ids[i];
    dst[2u + cap + i] = (unsigned)out_v[i];
  }
}

}  // extern "C"
