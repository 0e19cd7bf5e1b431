"""``k_fused`` (host/gpu/kernels.cu) run on the CPU: the kernel source compiled with the host C++
compiler against a one-block CUDA emulation (``tests/cuda_emu/block_emu.h``: the 1,024 threads
as cooperatively scheduled fibers, shared memory shared, warp collectives exchanged at warp
barriers) and driven by :class:`EmuTwin`, a :class:`~feagi_embed.host.gpu.common.GpuTwin` whose
buffers are numpy arrays laid out as ``CudaTwin`` lays them out on the device. It checks the
kernel's logic (phases, bitmaps, compaction, digests, launches continuing each other) where
there is no GPU; not its timing, memory ordering or occupancy (the CUDA tests do that on a GPU).
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np

from feagi_embed.host.gpu.common import HERE, WG, GpuTwin, initial_ctl, prm_words
from feagi_embed.host.gpu.cuda import ARGS
from feagi_embed.trace import state_digest

EMU = Path(__file__).resolve().parent / "cuda_emu"


def build(out_dir: Path) -> ctypes.CDLL | None:
    """Compile ``k_fused_emu.cpp`` (which includes kernels.cu) into ``out_dir``; ``None`` when
    no C++ compiler is on the PATH. Raises ``RuntimeError`` with the log when the compile fails."""
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        return None
    lib = Path(out_dir) / "k_fused_emu.so"
    r = subprocess.run([cxx, "-O1", "-std=c++17", "-fPIC", "-shared", "-w", f"-I{HERE}",
                        "-o", str(lib), str(EMU / "k_fused_emu.cpp")], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError(f"k_fused_emu.cpp does not compile:\n{r.stderr}")
    return ctypes.CDLL(str(lib))


class EmuTwin(GpuTwin):
    """The CUDA twin's fused path with ``k_fused`` on the CPU emulation (class attributes ``lib``:
    the library of :func:`build`; ``order``: 0 / 1 / 2 = the fibers scheduled ascending /
    descending / pseudo-randomly)."""

    backend = "cuda-emu"
    syn_ptr_dtype = np.uint64
    lib: ctypes.CDLL | None = None
    order = 0

    def _alloc(self, arrays):
        m = self.model
        n = m.n_neurons
        words = (n + 31) // 32
        nblk = max(1, (words + WG - 1) // WG)
        z = lambda k, dt=np.int32: np.zeros(max(k, 1), dt)  # noqa: E731
        u = np.uint32
        b = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
        b.update(crctab=self._tables.copy(), ctl=initial_ctl(), in_ptr=z(1, np.uint64),
                 in_src=z(1, u), in_c=z(1), in_w=z(1))
        b.update(V=z(n), cd=z(n, u), cc=z(n, u), acc=z(n, np.uint64), flag=z(n, u), vfire=z(n),
                 cand=z(2 * n, u), forced=z(n, u), refl=z(2 * n, u), fq=z(n, u), fqv=z(n),
                 nat=z(words, u), frc=z(words, u), fqbits=z(words, u), loc=z(words, u),
                 blk=z(2 * nblk, u), out_ids=z(self._out_cap, u), out_v=z(self._out_cap),
                 out_sums=z(2 * self.batch, u), stim=z(64, u), fstate=z(4 * words, u))
        self._b = b
        self._any_reset = int(bool(np.any(np.asarray(m.area_mp_acc) == 0)))

    def _set_stim(self, head, entries):
        self._b["stim"] = np.concatenate([head, entries]).astype(np.uint32)

    def _launch(self, step, record, begin=True):
        b = self._b
        names = ARGS + ("fstate",)
        ptrs = (ctypes.c_void_p * len(names))(*[b[k].ctypes.data for k in names])
        sc = np.concatenate([prm_words(self.model, record)[:10],
                             np.array([step, int(bool(begin)), self._any_reset], np.uint32)])
        self.lib.launch(ptrs, sc.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(self.order))

    def _read_out(self, step, record):
        s = self._b["out_sums"][:2 * step].reshape(step, 2).copy()
        if not record:
            return s[:, 0], s[:, 1], None, None
        total = int(s[:, 0].sum())
        return s[:, 0], s[:, 1], self._b["out_ids"][:total].copy(), self._b["out_v"][:total].copy()

    def _state_crc(self):
        return state_digest(*self._read_state())

    def _read_state(self):
        n = self.model.n_neurons
        b = self._b
        return b["V"][:n].copy(), b["cd"][:n].astype(np.uint16), b["cc"][:n].astype(np.uint16)
