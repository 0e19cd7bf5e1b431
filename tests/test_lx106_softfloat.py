"""The lx106 stand-in's IEEE single-precision routines (``firmware/hal/xtensa_lx106_softfloat.h``:
``__addsf3``/``__subsf3``/``__mulsf3``/``__floatsisf``/``__floatunsisf``, which Debian's lx106
libgcc lacks) against the host's hardware float (x86-64 SSE: IEEE round-to-nearest-even with
subnormals), bit for bit, on subnormal, tiny, near-1, huge, cancelling and random operands."""

from __future__ import annotations

import shutil
import subprocess

from feagi_embed.resources import hal_dir

from .conftest import require

CHECK = r"""
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "xtensa_lx106_softfloat.h"
static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float fl(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint64_t s = 88172645463325252ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)(s >> 16); }
static uint32_t pick(void)
{
    uint32_t r = rnd(), k = rnd() % 8;
    if (k == 0) return r & 0x807FFFFFu;                  /* subnormal */
    if (k == 1) return (r & 0x80FFFFFFu) | 0x00800000u;  /* tiny normal */
    if (k == 2) return (r & 0x83FFFFFFu) | 0x3C000000u;  /* near 1 */
    if (k == 3) return (r & 0x81FFFFFFu) | 0x7E000000u;  /* huge: overflow to inf */
    return r;
}
#define CHK(e, g, op) if (e != g && !(sf_is_nan(e) && sf_is_nan(g))) { \
    if (bad < 10) printf("%s %08x %08x: want %08x got %08x\n", op, a, b, e, g); bad++; }
int main(int argc, char **argv)
{
    long n = atol(argv[argc - 1]), bad = 0, i;
    for (i = 0; i < n; i++) {
        uint32_t a = pick(), b = pick();
        if (i % 4 == 1) b = (a ^ 0x80000000u) + (rnd() % 5) - 2; /* cancellation */
        if (i % 4 == 2) b = a + (rnd() % 64) - 32;               /* close operands */
        int32_t ii = (int32_t)rnd();
        uint32_t uu = rnd() >> (rnd() % 32);
        CHK(bits(fl(a) + fl(b)), sf_add(a, b), "add")
        CHK(bits(fl(a) - fl(b)), sf_add(a, b ^ 0x80000000u), "sub")
        CHK(bits(fl(a) * fl(b)), sf_mul(a, b), "mul")
        CHK(bits((float)ii), sf_from_i32(ii), "i2f")
        CHK(bits((float)uu), sf_from_u32(uu), "u2f")
    }
    printf("%ld cases, %ld mismatches\n", n, bad);
    return bad != 0;
}
"""


def test_lx106_softfloat_equals_host_ieee(tmp_path):
    gcc = shutil.which("gcc")
    if gcc is None:
        require("missing gcc")
    src = tmp_path / "check.c"
    src.write_text(CHECK)
    exe = tmp_path / "check"
    subprocess.run([gcc, "-O2", "-std=c99", "-Wall", "-Wextra", "-ffp-contract=off",
                    f"-I{hal_dir()}", str(src), "-o", str(exe)], check=True)
    r = subprocess.run([str(exe), "2000000"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout
    assert "2000000 cases, 0 mismatches" in r.stdout
