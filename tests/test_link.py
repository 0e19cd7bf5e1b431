"""The two-way serial link (docs/link.md): framing, the host decoder under hypothesis, the device
side fuzzed under ASan + UBSan, and a round trip host client → native link build → digests equal
to the numba twin fed the same inputs.

Independent expectations: COBS examples worked out by hand from the COBS definition (Cheshire &
Baker 1999); the twin (itself pinned to FEAGI by the oracle traces) for digests and fired ids; the
fuzz driver's own classification of every well-formed frame it builds.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feagi_embed.link import protocol as P
from feagi_embed.link.protocol import LinkError

from .conftest import assert_clean_link, link_up, require

GCC = shutil.which("gcc")


# ------------------------------------------------------------------------------ framing, by hand
@pytest.mark.parametrize("raw,enc", [
    (b"\x00", b"\x01\x01"),
    (b"\x00\x00", b"\x01\x01\x01"),
    (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
    (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
    (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
    (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255)) + b"\x01"),
    (bytes(range(255)), b"\x01\xff" + bytes(range(1, 255)) + b"\x01"),
])
def test_cobs_hand_examples(raw, enc):
    assert P.cobs_encode(raw) == enc
    assert P.cobs_decode(enc) == raw


def test_frame_layout_by_hand():
    # version 1, type RUN, seq 7, body {mode 1, n 3}; CRC-32 over the 8 header+body bytes
    raw = bytes([1, 0x04, 7, 1, 3, 0, 0, 0])
    want = P.cobs_encode(raw + struct.pack("<I", zlib.crc32(raw))) + b"\x00"
    assert P.run_frame(P.RUN_N, 3, seq=7) == want
    fr = P.decode_frame(want[:-1])
    assert (fr.version, fr.type, fr.seq, fr.body) == (1, 0x04, 7, bytes([1, 3, 0, 0, 0]))


def test_decoder_rejects_each_defect():
    good = P.run_frame(P.RUN_N, 3)[:-1]
    raw = P.cobs_decode(good)
    bad_crc = P.cobs_encode(raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.raises(LinkError, match="CRC-32 mismatch"):
        P.decode_frame(bad_crc)
    with pytest.raises(LinkError, match="version 2"):
        P.decode_frame(P.encode_frame(P.RUN, b"\x00" * 5, version=2)[:-1])
    with pytest.raises(LinkError, match="at least 7"):
        P.decode_frame(P.cobs_encode(b"\x01\x02\x03"))
    with pytest.raises(LinkError, match="COBS"):
        P.decode_frame(b"\x09\x01")
    with pytest.raises(LinkError, match="body of 3 bytes; expected 11"):
        P.parse_message(P.Frame(1, P.ACK, 0, b"abc"))


# ---------------------------------------------------------------------- host decoder, hypothesis
def _device_frames():
    """Well-formed device messages of every type, with random field values."""
    u16, u32 = st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)
    fired = st.lists(st.tuples(u16, u16, u16, u16, u16), max_size=24)
    return st.one_of(
        st.builds(lambda *a: (P.ACK, struct.pack("<BbHHIB", *a)), st.integers(0, 255),
                  st.integers(-128, 127), u16, u16, u32, st.integers(0, 255)),
        st.builds(lambda b, f, m: (P.NEURON_FIRING, struct.pack("<IBB", b, len(f), m) +
                                   b"".join(struct.pack("<5H", *e) for e in f)), u32, fired,
                  st.integers(0, 1)),
        st.builds(lambda *a: (P.BURST_DIGEST, struct.pack("<III", *a)), u32, u32, u32),
        st.builds(lambda b, t, o, ids: (P.FIRED_IDS, struct.pack(f"<III{len(ids)}I", b, t, o, *ids)),
                  u32, u32, u32, st.lists(u32, max_size=59)),
        st.builds(lambda v: (P.STATS, struct.pack("<10I", *v)), st.lists(u32, min_size=10, max_size=10)),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_reader_random_bytes_never_raise(data):
    r = P.FrameReader()
    frames = r.feed(data + b"\x00")
    for fr in frames:  # a random frame that passed the CRC still parses or raises LinkError only
        try:
            P.parse_message(fr)
        except LinkError:
            pass
    nonempty = sum(1 for seg in (data + b"\x00").split(b"\x00")[:-1] if seg)
    assert len(frames) + sum(r.errors.values()) == nonempty


@settings(max_examples=300, deadline=None)
@given(_device_frames(), st.integers(0, 255), st.data())
def test_mutated_device_frames(msg, seq, data):
    mtype, body = msg
    wire = P.encode_frame(mtype, body, seq)
    m = P.parse_message(P.decode_frame(wire[:-1]))  # unmutated: decodes to its type
    assert type(m).__name__.lower().replace("_", "") in {
        P.ACK: "ack", P.NEURON_FIRING: "neuronfiring", P.BURST_DIGEST: "burstdigest",
        P.FIRED_IDS: "firedids", P.STATS: "stats"}[mtype]
    buf = bytearray(wire[:-1])
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.integers(0, 3))
        at = data.draw(st.integers(0, max(0, len(buf) - 1)))
        if op == 0 and buf:
            buf[at] ^= 1 << data.draw(st.integers(0, 7))
        elif op == 1:
            buf.insert(at, data.draw(st.integers(0, 255)))
        elif op == 2 and buf:
            del buf[at]
        else:
            del buf[at:]
    try:
        P.parse_message(P.decode_frame(bytes(buf)))
    except LinkError:
        pass
    r = P.FrameReader()
    r.feed(bytes(buf) + b"\x00")  # never raises; a split frame is counted per piece


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=P.MAX_BODY))
def test_any_frame_round_trips(mtype, seq, body):
    fr = P.decode_frame(P.encode_frame(mtype, body, seq)[:-1])
    assert (fr.type, fr.seq, fr.body) == (mtype, seq, body)


# ------------------------------------------------------------------------------ device, native
@cache
def _model(name: str):
    from feagi_embed.cli import _load_model, resolve_genome_path

    return _load_model(resolve_genome_path(name), False, None)


def test_device_fuzz_sanitizers(tmp_path):
    """≥ 200k random and mutated frames into the ASan + UBSan native build: no report, every
    non-empty frame counted exactly once, every well-formed frame classified as built."""
    require([] if GCC else ["gcc"], "link fuzz")
    from feagi_embed.link.firmware import build_link_firmware
    from feagi_embed.resources import firmware_dir

    elf = build_link_firmware(_model("logic_and_gate"), "native", tmp_path, sanitize=True,
                              main=firmware_dir() / "link" / "fuzz_driver.c")
    r = subprocess.run([str(elf), "300000", "20261203"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "runtime error" not in r.stderr and "Sanitizer" not in r.stderr
    got = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", r.stderr)}
    bad = sum(got[k] for k in ("bad_cobs", "too_long", "too_short", "bad_crc", "bad_version",
                               "bad_type", "bad_length"))
    assert got["failures"] == 0
    assert got["ok"] + bad == got["sent_frames"] > 290000
    assert got["well_formed_executed"] > 50000 and got["bursts_run"] > 1000
    assert min(got[k] for k in ("bad_cobs", "too_long", "too_short", "bad_crc", "bad_version",
                                "bad_type", "bad_length")) > 0


def _schedule(model, bursts):
    """Per-burst connector-shaped inputs and the equivalent Stimulus entries."""
    core = [a for a, k in enumerate(model.areas.kinds) if k == "custom"]
    ipu = [a for a, k in enumerate(model.areas.kinds) if k == "ipu"] or core
    rng = np.random.default_rng(11)
    per_burst, entries = [], []
    for b in range(1, bursts + 1):
        sens, force = {}, {}
        for a in rng.choice(ipu, 2, replace=False):
            gid = model.areas.genome_ids[a]
            w, h, d = model.areas.dims[a]
            vox = {f"{rng.integers(w)}-{rng.integers(h)}-{rng.integers(d)}": float(v)
                   for v in rng.choice([-3.0, 2.5, 7.0, 40.0], 3)}
            sens[gid] = vox
            for k, v in vox.items():
                entries.append({"bursts": [b, b], "area": gid, "kind": "inject", "value": v,
                                "voxels": [[int(c) for c in k.split("-")]]})
        if b % 3 == 1:
            gid = model.areas.genome_ids[int(rng.choice(core))]
            force[gid] = ["0-0-0"]
            entries.append({"bursts": [b, b], "area": gid, "kind": "force",
                            "voxels": [[0, 0, 0]]})
        per_burst.append((sens, force))
    return per_burst, entries


@pytest.mark.parametrize("genome,board", [("essential_genome", "native"),
                                          ("logic_and_gate", "mega2560"),
                                          ("logic_and_gate", "stm32f4"),
                                          ("logic_and_gate", "esp32c3"),
                                          ("logic_and_gate", "esp32"),
                                          ("logic_and_gate", "rp2040")])
def test_round_trip_equals_twin(tmp_path, genome, board):
    """The host client drives the link build burst by burst with sensor and force frames, over a
    pipe (native), the emulated USART0 of an ATmega2560 (simavr, firmware/link/avr_link_run.c)
    or USART1 of QEMU's netduinoplus2 (STM32F405, Cortex-M4F, -serial stdio), or the 16550 UART
    of QEMU's RV32 virt machine (the esp32c3 stand-in), or the simcall console of QEMU's Xtensa
    lx106 sim machine (the esp32 stand-in), or the CMSDK UART of QEMU's mps2-an385 (the rp2040
    stand-in);
    burst digests, state digests, fired ids and decoded OPU firing equal the twin's."""
    from feagi_embed.host.twin import Twin

    from feagi_embed.link.client import LinkClient, ProcessTransport
    from feagi_embed.link.firmware import build_link_firmware, link_command
    from feagi_embed.stimulus import Stimulus

    from .conftest import require_board

    require([] if GCC else ["gcc"], "link round trip")
    require_board(board)
    model = _model(genome)
    bursts, every = 24, 4
    per_burst, entries = _schedule(model, bursts)
    want = Twin(model).run(bursts, Stimulus.from_json({"stimuli": entries}), state_every=every)

    elf = build_link_firmware(model, board, tmp_path)
    # QEMU never sees the end of its UART input: killed
    from feagi_embed.boards import load_board
    from feagi_embed.link.firmware import NEVER_EXITS

    emulated_cm = load_board(board).hal in NEVER_EXITS
    tr = ProcessTransport(link_command(board, elf), close_timeout=1 if emulated_cm else 30)
    fired_cb = []
    cl = LinkClient(tr, model, on_firing=lambda b, f: fired_cb.append((b, f)))
    try:
        caps = link_up(cl)
        assert (caps.n_areas, caps.n_neurons) == (model.n_areas, model.n_neurons)
        cl.set_trace(P.TRACE_BURST | P.TRACE_STATE | P.TRACE_IDS | P.TRACE_OPU, every)
        got = []
        for sens, force in per_burst:
            cl.send_sensors(sens)
            cl.force_fire(force)
            got += cl.run(1)
        dig = cl.digests()
        stats = cl.stats()
    finally:
        rc = tr.close()
    assert rc == (None if emulated_cm else 0), getattr(tr, "stderr", "")
    assert cl.refused == []
    assert [r.burst for r in got] == list(range(1, bursts + 1))
    assert [r.crc for r in got] == [int(c) for c in want.burst_crc]
    assert {r.burst: r.state_crc for r in got if r.state_crc is not None} == \
        {int(k): int(v) for k, v in want.state_crc.items()}
    assert [r.ids for r in got] == [[int(i) for i in f] for f in want.fired]
    assert dig.final_crc == want.final_digest and dig.burst == bursts
    assert stats["frames_ok"] > bursts
    assert_clean_link(cl, stats, P.STAT_NAMES[1:8])
    # OPU firing, decoded by the client, against the twin's fired ids of output areas
    out = model.output_areas
    opu_want = []
    for b, f in enumerate(want.fired, 1):
        f = np.asarray(f, np.int64)
        a, x, y, z, _k = model.neuron_coords(f)
        sel = out[a]
        d: dict = {}
        for aa, xx, yy, zz in zip(a[sel], x[sel], y[sel], z[sel]):
            vox = d.setdefault(model.areas.genome_ids[aa], {})
            vox[f"{xx}-{yy}-{zz}"] = vox.get(f"{xx}-{yy}-{zz}", 0) + 1
        if d:
            opu_want.append((b, d))
    assert fired_cb == opu_want
    assert sum(r.count for r in got) > bursts  # the inputs made neurons fire


def test_client_rejects_bad_sensor_data():
    from feagi_embed.link.client import LinkClient

    model = _model("essential_genome")
    cl = LinkClient(transport=None, model=model)
    with pytest.raises(LinkError, match="not in the genome"):
        cl.send_sensors({"nope00": {"0-0-0": 1.0}})
    with pytest.raises(LinkError, match=r"expected \"x-y-z\" inside 16x16x3"):
        cl.send_sensors({"iic000": {"16-0-0": 1.0}})
    with pytest.raises(LinkError, match="sensory budget"):
        cl.send_sensors({"iic000": {"0-0-0": 1e9}})


def test_monitor_steps_native(tmp_path):
    """``feagi-embed monitor exec:ELF --bursts 6`` shows burst 6 and the twin's digest of it."""
    require([] if GCC else ["gcc"], "link monitor")
    from click.testing import CliRunner
    from feagi_embed.host.twin import Twin

    from feagi_embed.cli import main
    from feagi_embed.link.firmware import build_link_firmware
    from feagi_embed.stimulus import Stimulus

    model = _model("logic_and_gate")
    elf = build_link_firmware(model, "native", tmp_path)
    want = Twin(model).run(6, Stimulus(), state_every=0)
    r = CliRunner().invoke(main, ["monitor", f"exec:{elf}", "--genome", "logic_and_gate",
                                  "--bursts", "6"])
    assert r.exit_code == 0, r.output
    last = r.output.split("feagi link:")[-1]
    assert re.search(r"burst\s+│?\s*6\b", last), last
    assert f"{int(want.burst_crc[-1]):08x}" in last
    bad = CliRunner().invoke(main, ["monitor", "/dev/nonexistent-link-port"])
    assert bad.exit_code == 2 and "cannot open link port" in bad.output


def test_serial_transport_over_pty(tmp_path):
    """pyserial on a pty: the native link build on one side, SerialTransport on the other; its
    burst digests equal the twin's."""
    require([] if GCC else ["gcc"], "link pty")
    import os
    import tty

    from feagi_embed.host.twin import Twin

    from feagi_embed.link.client import LinkClient, SerialTransport
    from feagi_embed.link.firmware import build_link_firmware
    from feagi_embed.stimulus import Stimulus

    model = _model("logic_and_gate")
    elf = build_link_firmware(model, "native", tmp_path)
    master, slave = os.openpty()
    tty.setraw(slave)
    proc = subprocess.Popen([str(elf)], stdin=master, stdout=master)
    os.close(master)
    tr = SerialTransport(os.ttyname(slave))
    try:
        cl = LinkClient(tr, model, timeout=10)
        cl.hello()
        cl.force_fire({model.areas.genome_ids[7]: ["0-0-0"]})
        got = [r.crc for r in cl.run(5)]
    finally:
        tr.close()
        os.close(slave)
        proc.kill()
        proc.wait()
    stim = Stimulus.from_json({"stimuli": [{"bursts": [1, 1], "area": model.areas.genome_ids[7],
                                            "voxels": [[0, 0, 0]], "kind": "force"}]})
    assert got == [int(c) for c in Twin(model).run(5, stim, state_every=0).burst_crc]


def test_free_run_stop_and_bad_commands(tmp_path):
    """Burst-rate control: free-run, stop, then the device's digests equal the twin's after the
    same number of bursts; refused commands are answered with their documented status."""
    require([] if GCC else ["gcc"], "link free-run")
    import time

    from feagi_embed.host.twin import Twin

    from feagi_embed.link.client import LinkClient, ProcessTransport
    from feagi_embed.link.firmware import build_link_firmware
    from feagi_embed.stimulus import Stimulus

    model = _model("logic_and_gate")
    elf = build_link_firmware(model, "native", tmp_path)
    tr = ProcessTransport([str(elf)])
    try:
        cl = LinkClient(tr, model)
        cl.hello()
        cl.set_trace(P.TRACE_BURST)
        cl.free_run()
        time.sleep(0.05)
        cl.stop()
        d = cl.digests()
        assert d.burst > 0
        cl.command(P.RUN, bytes([P.RUN_N, 3, 0, 0, 0]))  # three more, then idle
        after = cl.digests()
        bad_mode, _ = cl.command(P.RUN, bytes([7, 0, 0, 0, 0]))
        bad_len, _ = cl.command(P.SENSOR_DATA, bytes([2]) + bytes(12))
        bad_area, _ = cl.command(P.FORCE_FIRE, bytes([1]) + struct.pack("<4H", 999, 0, 0, 0))
        stats = cl.stats()
    finally:
        tr.close()
    want = Twin(model).run(d.burst + 3, Stimulus(), state_every=0)
    assert d.burst_crc == int(want.burst_crc[d.burst - 1])
    assert after.burst == d.burst + 3 and after.final_crc == want.final_digest
    assert (bad_mode.status, bad_len.status, bad_area.status) == (-11, -10, -1)
    assert (bad_area.n_ok, bad_area.n_bad) == (0, 1)
    assert stats["bad_length"] == 1 and stats["item_errors"] == 1
