// A CPU emulation of ONE CUDA thread block, enough to run k_fused (host/gpu/kernels.cu) without a
// GPU: the block's threads are ucontext fibers scheduled cooperatively (a fiber runs until a
// __syncthreads() or a warp collective, then yields); __shared__ is `static` (one block, so every
// fiber sees the same arrays); warp collectives (__shfl_sync, __shfl_up_sync, __ballot_sync,
// __reduce_xor_sync, full mask only) exchange values through per-warp slots between two warp
// barriers; atomics are plain read-modify-writes (one OS thread). Intrinsics k_fused does not use
// abort. The schedule order (ascending, descending, pseudo-random) is the caller's choice, so a
// missing barrier shows up as a stale read in at least one order. Not a model of timing or of the
// memory system. Used by tests/test_gpu_fused_emu.py.
#pragma once
#include <ucontext.h>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <vector>
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)
struct Dim3 { unsigned x, y, z; };
struct Fiber { ucontext_t ctx; Dim3 tid; bool done; char *stack; };
extern Fiber *g_fibers; extern int g_cur; extern unsigned g_nthreads; extern ucontext_t g_sched;
extern Dim3 blockIdx, blockDim, gridDim;
#define threadIdx (g_fibers[g_cur].tid)
inline void emu_yield() { swapcontext(&g_fibers[g_cur].ctx, &g_sched); }
extern unsigned g_bar_arrived, g_bar_gen;
inline void __syncthreads() {
  unsigned gen = g_bar_gen;
  if (++g_bar_arrived == g_nthreads) { g_bar_arrived = 0; g_bar_gen++; emu_yield(); return; }
  while (g_bar_gen == gen) emu_yield();
}
extern unsigned g_w_arrived[32], g_w_gen[32]; extern unsigned long long g_slot[32][32];
inline void warp_bar() {
  unsigned w = threadIdx.x >> 5; unsigned gen = g_w_gen[w];
  if (++g_w_arrived[w] == 32) { g_w_arrived[w] = 0; g_w_gen[w]++; emu_yield(); return; }
  while (g_w_gen[w] == gen) emu_yield();
}
template <class T> inline unsigned long long to_u64(T v) { unsigned long long r = 0; memcpy(&r, &v, sizeof(T)); return r; }
template <class T> inline T from_u64(unsigned long long r) { T v; memcpy(&v, &r, sizeof(T)); return v; }
// exchange: every lane posts v; returns nothing, slots readable until the second barrier
template <class T> inline void post(T v) { g_slot[threadIdx.x >> 5][threadIdx.x & 31] = to_u64(v); warp_bar(); }
inline void done_reading() { warp_bar(); }
template <class T> inline T __shfl_sync(unsigned mask, T v, int src) {
  if (mask != 0xFFFFFFFFu) abort();
  post(v); T r = from_u64<T>(g_slot[threadIdx.x >> 5][src & 31]); done_reading(); return r; }
template <class T> inline T __shfl_up_sync(unsigned mask, T v, int off) {
  if (mask != 0xFFFFFFFFu) abort();
  unsigned lane = threadIdx.x & 31; post(v);
  T r = lane >= (unsigned)off ? from_u64<T>(g_slot[threadIdx.x >> 5][lane - off]) : v; done_reading(); return r; }
template <class T> inline T __shfl_down_sync(unsigned mask, T v, int off) {
  if (mask != 0xFFFFFFFFu) abort();
  unsigned lane = threadIdx.x & 31; post(v);
  T r = lane + off < 32 ? from_u64<T>(g_slot[threadIdx.x >> 5][lane + off]) : v; done_reading(); return r; }
inline unsigned __ballot_sync(unsigned mask, int p) {
  if (mask != 0xFFFFFFFFu) abort();
  post((unsigned)(p != 0)); unsigned r = 0; for (int l = 0; l < 32; l++) if (g_slot[threadIdx.x >> 5][l]) r |= 1u << l;
  done_reading(); return r; }
inline unsigned __reduce_xor_sync(unsigned mask, unsigned v) {
  if (mask != 0xFFFFFFFFu) abort();
  post(v); unsigned r = 0; for (int l = 0; l < 32; l++) r ^= (unsigned)g_slot[threadIdx.x >> 5][l]; done_reading(); return r; }
inline unsigned __reduce_add_sync(unsigned mask, unsigned v) { abort(); return v; }
inline unsigned __activemask() { abort(); return 0; }
inline unsigned __match_any_sync(unsigned, unsigned) { abort(); return 0; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(unsigned x) { return __builtin_ffs((int)x); }
template <class T> inline T min(T a, T b) { return a < b ? a : b; }
template <class T> inline T max(T a, T b) { return a > b ? a : b; }
template <class T, class U> inline T atomicAdd(T *p, U v) { T o = *p; *p = o + (T)v; return o; }
template <class T, class U> inline T atomicOr(T *p, U v) { T o = *p; *p = o | (T)v; return o; }
template <class T, class U> inline T atomicAnd(T *p, U v) { T o = *p; *p = o & (T)v; return o; }
template <class T, class U> inline T atomicXor(T *p, U v) { T o = *p; *p = o ^ (T)v; return o; }
template <class T> inline T __ldg(const T *p) { return *p; }
template <class T> inline T __ldcg(const T *p) { return *p; }
inline void __threadfence() {}
