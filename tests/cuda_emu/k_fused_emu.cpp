// k_fused of host/gpu/kernels.cu on the CPU block emulation (block_emu.h), as a shared library:
// launch(ptrs, scalars, order) runs one launch of k_fused with the buffers in cuda.ARGS order (+
// fstate) and the scalars of KARGS (+ nburst, begin, any_reset); order 0 / 1 / 2 schedules the
// fibers ascending / descending / pseudo-randomly.
#include "block_emu.h"
#include "kernels.cu"
Fiber *g_fibers; int g_cur; unsigned g_nthreads; ucontext_t g_sched;
Dim3 blockIdx{0,0,0}, blockDim{1024,1,1}, gridDim{1,1,1};
unsigned g_bar_arrived, g_bar_gen, g_w_arrived[32], g_w_gen[32]; unsigned long long g_slot[32][32];
struct P { void *p; template <class T> operator T *() const { return (T *)p; } };
struct S { unsigned v; operator unsigned() const { return v; } operator int() const { return (int)v; } };
static void **A; static unsigned *SC;
static void body() {
  k_fused(P{A[0]},P{A[1]},P{A[2]},P{A[3]},P{A[4]},P{A[5]},P{A[6]},P{A[7]},P{A[8]},P{A[9]},P{A[10]},P{A[11]},
          P{A[12]},P{A[13]},P{A[14]},P{A[15]},P{A[16]},P{A[17]},P{A[18]},P{A[19]},P{A[20]},P{A[21]},P{A[22]},
          P{A[23]},P{A[24]},P{A[25]},P{A[26]},P{A[27]},P{A[28]},P{A[29]},P{A[30]},P{A[31]},P{A[32]},P{A[33]},P{A[34]},
          S{SC[0]},S{SC[1]},S{SC[2]},S{SC[3]},S{SC[4]},S{SC[5]},S{SC[6]},S{SC[7]},S{SC[8]},S{SC[9]},
          P{A[35]},S{SC[10]},S{SC[11]},S{SC[12]});
  g_fibers[g_cur].done = true;
}
extern "C" int launch(void **ptrs, unsigned *scal, int order) {
  A = ptrs; SC = scal; g_nthreads = 1024;
  static Fiber fib[1024]; g_fibers = fib;
  g_bar_arrived = 0; memset(g_w_arrived, 0, sizeof g_w_arrived);
  for (unsigned t = 0; t < 1024; t++) {
    if (!fib[t].stack) fib[t].stack = (char *)malloc(1 << 16);
    getcontext(&fib[t].ctx); fib[t].ctx.uc_stack.ss_sp = fib[t].stack; fib[t].ctx.uc_stack.ss_size = 1 << 16;
    fib[t].ctx.uc_link = &g_sched; fib[t].tid = Dim3{t, 0, 0}; fib[t].done = false;
    makecontext(&fib[t].ctx, body, 0);
  }
  unsigned alive = 1024, seed = 12345, perm[1024];
  for (unsigned t = 0; t < 1024; t++) perm[t] = order == 1 ? 1023 - t : t;
  while (alive) {
    if (order == 2)  // a fresh pseudo-random order every round (Fisher-Yates)
      for (unsigned k = 1023; k > 0; k--) {
        seed = seed * 1103515245u + 12345u;
        const unsigned j = (seed >> 8) % (k + 1), x = perm[k];
        perm[k] = perm[j];
        perm[j] = x;
      }
    for (unsigned k = 0; k < 1024; k++) {
      const unsigned t = perm[k];
      if (fib[t].done) continue;
      g_cur = t;
      swapcontext(&g_sched, &fib[t].ctx);
    }
    alive = 0;
    for (unsigned t = 0; t < 1024; t++) alive += fib[t].done ? 0 : 1;
  }
  return 0;
}
