"""An :class:`~feagi_embed.executors.Executor` that runs the model through the two-way link:
the link firmware (native, or a board in its emulator over the emulated UART) is driven burst by
burst by :class:`~feagi_embed.link.client.LinkClient` with the stimulus sent as SensorData /
ForceFire frames, and its reported digests become the :class:`~feagi_embed.trace.Trace`."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np

from ..boards import Board, load_board
from ..trace import Trace
from . import protocol as P
from .protocol import LinkError


def burst_items(model, stimulus, bursts: int) -> list[list[tuple[int, tuple]]]:
    """Per burst (index 0 = burst 1), the stimulus as link items in queue order:
    ``(KIND, (area, x, y, z[, value_q]))`` with KIND 0 inject, 1 force.

    The neurons :meth:`~feagi_embed.stimulus.Stimulus.compile` chose are the last of their voxel,
    which is what the device's voxel addressing picks, so the queues are identical.

    Raises:
        StimulusError: as :meth:`Stimulus.compile`.
    """
    from ..stimulus import KIND_FORCE

    out: list[list[tuple[int, tuple]]] = [[] for _ in range(bursts)]
    if stimulus is None:
        return out
    ptr, nid, val, kind = stimulus.compile(model, bursts)
    if len(nid) == 0:
        return out
    a, x, y, z, _k = model.neuron_coords(np.asarray(nid, np.int64))
    for b in range(bursts):
        for j in range(int(ptr[b]), int(ptr[b + 1])):
            vox = (int(a[j]), int(x[j]), int(y[j]), int(z[j]))
            out[b].append((1, vox) if kind[j] == KIND_FORCE else (0, vox + (int(val[j]),)))
    return out


class LinkFirmware:
    """The link firmware for ``board`` run over its link (``board``: ``native``, an AVR board
    under simavr, a Cortex-M board under QEMU; see ``docs/link.md``)."""

    compares_state = True
    can_trace_ids = True

    def __init__(self, board: Board | str = "native", work_dir: str | Path | None = None):
        self.board = board if isinstance(board, Board) else load_board(board)
        self.work_dir = Path(work_dir) if work_dir else None
        b = self.board
        self.name = f"{b.name} over the link ({b.emulator_kind if b.architecture != 'native' else 'pipe'})"

    def available(self) -> str | None:
        from ..targets import missing_build_tools, missing_run_tools
        from .firmware import LINK_HAL

        if self.board.hal not in LINK_HAL:
            return f"no link byte reader for HAL family {self.board.hal}"
        missing = missing_build_tools(self.board) + missing_run_tools(self.board)
        return f"missing {', '.join(missing)}" if missing else None

    def run(self, model, stimulus, bursts, state_every, trace_ids=False) -> Trace:
        """Run ``bursts`` bursts; state digest every ``state_every`` and after the last.

        Raises:
            LinkError: the device refused an input (queue, value) or stopped answering.
        """
        with tempfile.TemporaryDirectory(prefix="feagi-link-") as tmp:
            return self._run(model, stimulus, bursts, state_every, trace_ids,
                             self.work_dir or Path(tmp))

    def _run(self, model, stimulus, bursts, state_every, trace_ids, work: Path) -> Trace:
        from .client import LinkClient, ProcessTransport
        from .firmware import NEVER_EXITS, build_link_firmware, link_command

        elf = build_link_firmware(model, self.board, work / f"link-{self.board.name}",
                                  stimulus=stimulus, bursts=bursts)
        never_exits = self.board.hal in NEVER_EXITS
        tr = ProcessTransport(link_command(self.board, elf), close_timeout=1 if never_exits else 30)
        tr_out = Trace()
        try:
            cl = LinkClient(tr, model, timeout=60)
            cl.hello()
            flags = P.TRACE_BURST | (P.TRACE_STATE if state_every else 0) | \
                (P.TRACE_IDS if trace_ids else 0)
            cl.set_trace(flags, state_every)
            for items in burst_items(model, stimulus, bursts):
                for kind, run in itertools.groupby(items, key=lambda it: it[0]):
                    frames = (P.sensor_frames if kind == 0 else P.force_frames)(
                        [v for _, v in run])
                    for fr in frames:
                        cl.t.write(fr)
                        cl._ack(P.SENSOR_DATA if kind == 0 else P.FORCE_FIRE)
                (r,) = cl.run(1)
                tr_out.burst_crc.append(r.crc)
                if r.state_crc is not None:
                    tr_out.state_crc[r.burst] = r.state_crc
                if trace_ids:
                    tr_out.fired.append(np.asarray(r.ids or [], np.uint32))
            if bursts and bursts not in tr_out.state_crc:
                tr_out.state_crc[bursts] = cl.digests().state_crc
            if cl.refused:
                a = cl.refused[0]
                raise LinkError(f"{self.name}: device refused {a.n_bad} input item(s): "
                                f"{P.STATUS.get(a.status, a.status)} (burst {a.burst + 1})")
            st = cl.stats()
            tr_out.detail = (f"{st['frames_ok']} frames executed, "
                             f"{sum(st[k] for k in P.STAT_NAMES[1:8])} bad")
        finally:
            tr.close()
        return tr_out
