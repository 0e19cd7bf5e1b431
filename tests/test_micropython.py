"""The generated MicroPython package is bit-exact with the numba twin.

Independent expectation: the twin's per-burst and state digests (itself checked against the FEAGI
engine in test_oracle_traces.py). Ports: the official WebAssembly port under Node (pure engine; it
rejects viper), the unix port from PyPI (viper kernels, 64-bit words), and the viper code under a
32-bit machine-word emulation (tests/viper_emu.py) standing in for ESP32/RP2040. Every generated
module compiles with mpy-cross for xtensawin, armv7emsp, armv6m and rv32imc, and type-checks with
mypy against the MicroPython stubs. Tools missing → skip, unless FEAGI_EMBED_REQUIRE_TOOLS=1 (CI).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from feagi_embed.boards import load_board
from feagi_embed.build import build_micropython
from feagi_embed.plan import CapacityError, estimate_heap, input_queue_len, layout_mpy
from feagi_embed.trace import compare_digests, parse_protocol
from feagi_embed.cli import main
from feagi_embed.codegen import micropython as mpy
from feagi_embed.targets import micropython as mpyrun
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.host.twin import Twin
from feagi_embed.quantize import quantize
from feagi_embed.resources import firmware_dir
from feagi_embed.stimulus import Stimulus

from .conftest import FIXTURES, GENOMES, ROOT, require

TESTS = Path(__file__).resolve().parent
#: small genomes (every model feature of the bundled set: degeneration, negative leak factors,
#: synapses of every contribution width) plus a large one
GENOMES_SMALL = ["test_timer", "logic_and_gate", "webots_pioneer2", "autopilot_static_1",
                 "gesture_recognition_12_1"]
GENOME_LARGE = "webots_basic"
BURSTS, EVERY = 60, 10
#: micro-genomes of the oracle conformance set: mp-driven PSPs, threshold gradients, fractional
#: excitability (pcg draws), refractory/snooze, force-fire interactions …
CONFORMANCE = sorted((FIXTURES / "conformance").glob("*.json.gz"))


def need(which: str) -> None:
    require(mpyrun.missing_mpy_tools(which), which)


@lru_cache(maxsize=None)
def genome_case(name: str):
    """(model, stimulus) of a bundled genome with the stimulus of its oracle trace fixture."""
    with gzip.open(FIXTURES / "traces" / f"{name}.json.gz", "rt") as f:
        stim = Stimulus.from_json(json.load(f)["stimulus"])
    return quantize(develop(load_genome(GENOMES / f"{name}.json"))), stim


@lru_cache(maxsize=None)
def conformance_case(path: Path):
    with gzip.open(path, "rt") as f:
        fx = json.load(f)
    if "genome_file" in fx:
        g = load_genome(GENOMES / fx["genome_file"])
    else:
        g = load_genome(fx["genome"], name=fx["name"])
    return quantize(develop(g)), Stimulus.from_json(fx["stimulus"], fx["name"]), \
        int(fx["bursts_recorded"])


def emit(model, stim, bursts, tmp_path, name="pkg") -> Path:
    out = tmp_path / name
    build_micropython(model, None, out, stimulus=stim, bursts=bursts, state_every=EVERY)
    return out


def assert_equal_to_twin(model, stim, bursts, stdout: str, what: str) -> None:
    got_b, got_s, final = parse_protocol(stdout)
    ref = Twin(model).run(bursts, stim, state_every=EVERY)
    eq, first = compare_digests(ref, got_b, got_s)
    assert eq and len(got_b) == bursts, f"{what}: first divergence {first} ({len(got_b)} bursts)"
    assert got_s == ref.state_crc, what
    assert final == ref.final_digest, what
    assert sum(len(f) for f in ref.fired) > 0, f"{what}: nothing fired, a weak check"


# ----------------------------------------------------------------------------- layout / capacity
def test_layout_uses_narrowest_types_and_per_area_parameters():
    model, _ = genome_case("test_timer")
    lay = layout_mpy(model)
    n, s, a = model.n_neurons, model.n_synapses, len(model.area_first) - 1
    assert lay.buffer("syn_ptr").dtype == "u1" and s <= 255
    assert lay.buffer("syn_dst").dtype == "u1" and n <= 256
    # contributions are multiples of 2^16 here: stored shifted, exactly
    shift = lay.constants["syn_c_shift"]
    assert shift == 16 and lay.buffer("syn_c").dtype == "i1"
    assert np.array_equal(lay.buffer("syn_c").values << shift, model.syn_c)
    for name in ("area_thr", "area_limit", "area_leak_k", "area_cfl", "area_refr"):
        assert lay.buffer(name).length == a
    assert lay.buffer("thr_n").length == 0  # no threshold gradient: no per-neuron thresholds
    assert len(mpy.model_blob(lay)) == sum(x.nbytes for x in lay.buffers)
    assert "syn_w" not in [x.name for x in lay.buffers]  # no run-time PSP source
    # FCL lists hold at most the distinct synapse targets, the queued stimuli and the power neuron
    c = lay.constants
    assert c["cand_cap"] == min(n, len(set(model.syn_dst.tolist())) + c["queue_len"] + 1)
    assert lay.state["cand"][1] == lay.state["prev"][1] == c["cand_cap"] + 1


def test_layout_keeps_gradient_thresholds_per_neuron_only_for_gradient_areas():
    path = next(p for p in CONFORMANCE if p.name.startswith("threshold_gradient"))
    model, _, _ = conformance_case(path)
    lay = layout_mpy(model)
    thr_n = lay.buffer("thr_n").values
    base = lay.buffer("area_thr_base").values
    first = np.asarray(model.area_first)
    grad = [i for i in range(len(base)) if base[i] >= 0]
    assert grad and len(thr_n) == sum(first[i + 1] - first[i] for i in grad)
    for i in grad:
        seg = model.threshold[first[i]:first[i + 1]]
        assert np.array_equal(thr_n[base[i]:base[i] + len(seg)], seg)


def test_heap_estimate_adds_up_and_refuses_with_requested_available_missing(tmp_path):
    model, stim = genome_case("webots_basic")
    lay = layout_mpy(model, queue_len=input_queue_len(model, stim, 10))  # as the build sizes it
    est = estimate_heap(lay)
    n = model.n_neurons
    assert est["total"] == sum(v for k, v in est.items() if k != "total")
    # V, flags, the accumulator outside the untargeted hole at least
    assert est["state"] >= n * (4 + 1) + 4 * lay.constants["n_acc"]
    assert est["model"] >= len(mpy.model_blob(lay))
    with pytest.raises(CapacityError) as e:
        build_micropython(model, "esp32", tmp_path / "p", stimulus=stim, bursts=10)
    msg = str(e.value)
    avail = load_board("esp32").micropython["heap_bytes"]
    assert f"requested {est['total']} B" in msg and f"available {avail} B" in msg
    assert f"missing {est['total'] - avail} B" in msg
    assert not (tmp_path / "p").exists()
    with pytest.raises(CapacityError, match="no MicroPython port"):
        build_micropython(genome_case("test_timer")[0], "uno", tmp_path / "q")


def test_cli_build_micropython_for_esp32_and_rp2040(tmp_path):
    for board, arch in (("esp32", "xtensawin"), ("rp2040", "armv6m")):
        out = tmp_path / board
        r = CliRunner().invoke(main, ["build", "test_timer", "--board", board, "--lang",
                                      "micropython", "--out", str(out)])
        assert r.exit_code == 0, r.output
        for f in ("feagi_model.py", "feagi_model.bin", "feagi_engine.py", "feagi_viper.py",
                  "main.py", "README.md"):
            assert (out / f).is_file(), f
        head = (out / "feagi_model.py").read_text()[:400]
        assert "feagi-embed" in head and "test_timer.json" in head and f"board: {board}" in head
        engine = (out / "feagi_engine.py").read_text()
        assert engine == (firmware_dir() / "micropython" / "feagi_engine.py").read_text()
        readme = (out / "README.md").read_text()
        assert "mpremote cp" in readme and f"-march={arch}" in readme
        assert "PERIOD_MS = 10" in (out / "feagi_model.py").read_text()  # timestep 0.01 s
    r = CliRunner().invoke(main, ["build", "essential_genome", "--board", "esp32", "--lang",
                                  "micropython", "--out", str(tmp_path / "big")])
    assert r.exit_code == 2 and "missing" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "big").exists()


# ----------------------------------------------------------------------------- bit-exactness
@pytest.mark.parametrize("genome", GENOMES_SMALL)
def test_engine_source_is_bit_exact_in_cpython(genome, tmp_path):
    """The same generated source under CPython (fast, no tool needed)."""
    model, stim = genome_case(genome)
    out = emit(model, stim, BURSTS, tmp_path)
    r = subprocess.run([sys.executable, "main.py"], cwd=out, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert_equal_to_twin(model, stim, BURSTS, r.stdout, f"{genome} cpython")


@pytest.mark.parametrize("genome", GENOMES_SMALL + [GENOME_LARGE])
def test_pure_engine_bit_exact_in_wasm_port(genome, tmp_path):
    need("wasm")
    model, stim = genome_case(genome)
    bursts = BURSTS if genome != GENOME_LARGE else 40
    out = emit(model, stim, bursts, tmp_path)
    r = mpyrun.run_wasm(out, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert_equal_to_twin(model, stim, bursts, r.stdout, f"{genome} wasm")


@pytest.mark.parametrize("path", CONFORMANCE, ids=lambda p: p.name.split(".")[0])
def test_conformance_case_bit_exact_in_wasm_port(path, tmp_path):
    need("wasm")
    model, stim, bursts = conformance_case(path)
    out = emit(model, stim, bursts, tmp_path)
    r = mpyrun.run_wasm(out, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    got_b, got_s, _ = parse_protocol(r.stdout)
    ref = Twin(model).run(bursts, stim, state_every=EVERY)
    assert compare_digests(ref, got_b, got_s) == (True, None), path.name


@pytest.mark.parametrize("genome", GENOMES_SMALL + [GENOME_LARGE])
def test_viper_engine_bit_exact_in_unix_port(genome, tmp_path):
    need("unix")
    model, stim = genome_case(genome)
    bursts = BURSTS if genome != GENOME_LARGE else 40
    out = emit(model, stim, bursts, tmp_path)
    (out / "kernels.py").write_text("import feagi_engine\nprint(feagi_engine.Engine.kernels())\n")
    k = mpyrun.run_unix(out, "kernels.py")
    assert k.returncode == 0, k.stderr
    assert k.stdout.strip().startswith("viper"), k.stdout  # viper really runs
    r = mpyrun.run_unix(out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert_equal_to_twin(model, stim, bursts, r.stdout, f"{genome} unix viper")


def _run_emulated(out: Path, bits: int) -> subprocess.CompletedProcess:
    driver = (f"import sys, os\nsys.path[:0] = [{str(out)!r}, {str(TESTS)!r}]\n"
              f"os.chdir({str(out)!r})\nimport viper_emu\nimport feagi_engine\n"
              f"feagi_engine._vp = viper_emu.load_viper('feagi_viper.py', {bits})\n"
              "print('kernels', feagi_engine.Engine.kernels())\nimport main\n")
    return subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True,
                          timeout=600)


def _viper_cases():
    """Bundled genomes and conformance micro-genomes whose dynamics the viper kernel runs."""
    out = [pytest.param(("genome", g), id=g)
           for g in ("test_timer", "autopilot_static_1", "webots_pioneer2")]
    for p in CONFORMANCE:
        out.append(pytest.param(("conformance", p), id=p.name.split(".")[0]))
    return out


def _case(kind_arg):
    kind, arg = kind_arg
    if kind == "genome":
        model, stim = genome_case(arg)
        return model, stim, 40
    return conformance_case(arg)


@pytest.mark.parametrize("case", _viper_cases())
@pytest.mark.parametrize("bits", [32, 64])
def test_viper_code_bit_exact_with_32_and_64_bit_machine_words(case, bits, tmp_path):
    """The generated viper kernels under emulated 32-bit words (ESP32, RP2040: int32 wraps,
    ptr loads zero-extend) and 64-bit words (the unix port) equal the twin."""
    model, stim, bursts = _case(case)
    out = emit(model, stim, bursts, tmp_path)
    r = _run_emulated(out, bits)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("kernels viper"), r.stdout[:80]
    got_b, got_s, _ = parse_protocol(r.stdout)
    ref = Twin(model).run(bursts, stim, state_every=EVERY)
    assert compare_digests(ref, got_b, got_s) == (True, None), f"{case} {bits}-bit"


@pytest.mark.parametrize("path", CONFORMANCE, ids=lambda p: p.name.split(".")[0])
def test_conformance_case_bit_exact_in_unix_port(path, tmp_path):
    need("unix")
    model, stim, bursts = conformance_case(path)
    out = emit(model, stim, bursts, tmp_path)
    r = mpyrun.run_unix(out, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    got_b, got_s, _ = parse_protocol(r.stdout)
    ref = Twin(model).run(bursts, stim, state_every=EVERY)
    assert compare_digests(ref, got_b, got_s) == (True, None), path.name


def test_word_size_emulation_catches_a_32_bit_overflow(tmp_path):
    """A naive leak ``(V*K + 2**15) >> 16`` is right with 64-bit words and wrong with 32-bit
    ones (V*K exceeds 2**31 for V ~ 1.0, K ~ 0.9*2**16): the 32-bit emulation must see the
    difference, so the tests above can fail."""
    model, stim, bursts = conformance_case(FIXTURES / "conformance" / "leak.json.gz")
    out = emit(model, stim, bursts, tmp_path)
    src = (out / "feagi_viper.py").read_text()
    start = src.index("        k = ((int(kk[a]) & mask) ^ m) - m")
    end = src.index("        V[i] = v\n    ctr[0] = nr")
    naive = ("        k = ((int(kk[a]) & mask) ^ m) - m\n"
             "        p = v * k + 32768\n        v = p >> 16\n"
             "        if v > imax:\n            v = imax\n        if v < imin:\n"
             "            v = imin\n")
    (out / "feagi_viper.py").write_text(src[:start] + naive + src[end:])
    ok64 = _run_emulated(out, 64)
    bad32 = _run_emulated(out, 32)
    ref = Twin(model).run(bursts, stim, state_every=EVERY)
    assert compare_digests(ref, *parse_protocol(ok64.stdout)[:2])[0], ok64.stderr[-500:]
    assert not compare_digests(ref, *parse_protocol(bad32.stdout)[:2])[0]


# ----------------------------------------------------------------------------- compile / types
def test_every_module_compiles_with_mpy_cross_for_every_mcu_arch(tmp_path):
    need("mpy-cross")
    model, stim = genome_case("gesture_recognition_12_1")  # int32 contributions, 16-bit ids
    out = emit(model, stim, 10, tmp_path)
    for mod in ("feagi_model", "feagi_engine", "feagi_viper", "main", "feagi_stimulus"):
        for arch in mpyrun.MPY_ARCHS:
            dest = tmp_path / f"{mod}-{arch}.mpy"
            r = mpyrun.mpy_cross(out / f"{mod}.py", arch, dest)
            assert r.returncode == 0, (mod, arch, r.stderr)
            assert dest.read_bytes()[:1] == b"M", (mod, arch)  # .mpy magic
    # viper emits machine code: the .mpy differs between architectures
    sizes = {arch: (tmp_path / f"feagi_viper-{arch}.mpy").read_bytes() for arch in mpyrun.MPY_ARCHS}
    assert len(set(sizes.values())) == len(sizes)


def test_generated_code_type_checks_against_micropython_stubs(tmp_path):
    need("mypy")
    stubs = ROOT / ".tools" / "mpy-stubs"
    if not (stubs / "machine.pyi").is_file():
        require(f"MicroPython stubs in {stubs} (bash .ci/install-toolchains.sh)")
    model, stim = genome_case("autopilot_static_1")  # degeneration: run-time PSP paths typed too
    out = emit(model, stim, 10, tmp_path)
    ini = tmp_path / "mypy.ini"
    ini.write_text(f"[mypy]\ncustom_typeshed_dir = {stubs}\nmypy_path = {stubs}\n"
                   "check_untyped_defs = True\n"
                   "[mypy-machine,vfs,_mpy_shed.*,micropython,time,esp32,network]\n"
                   "ignore_errors = True\n")
    files = ["feagi_engine.py", "feagi_viper.py", "feagi_model.py", "main.py",
             "feagi_stimulus.py"]
    r = subprocess.run([mpyrun._tool("mypy"), "--config-file", str(ini), "--cache-dir",
                        str(tmp_path / "cache"), *files], cwd=out, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:]
    # and the checker does check: a wrong call is reported
    (out / "bad.py").write_text("import time\nimport feagi_engine\n"
                                "feagi_engine.Engine().burst(3)\ntime.ticks_nonexistent()\n")
    r = subprocess.run([mpyrun._tool("mypy"), "--config-file", str(ini), "--cache-dir",
                        str(tmp_path / "cache"), "bad.py"], cwd=out, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 1 and "burst" in r.stdout and "ticks_nonexistent" in r.stdout


# ----------------------------------------------------------------------------- heap measurement
def test_heap_estimate_bounds_the_unix_port_measurement(tmp_path):
    """gc.mem_alloc() in the unix port (64-bit objects: an upper bound of a 32-bit port) after
    loading the model and running bursts stays within the estimate, which is not loose."""
    need("unix")
    for genome in ("test_timer", "gesture_recognition_12_1"):
        model, stim = genome_case(genome)
        out = emit(model, stim, 20, tmp_path, genome)
        (out / "heap.py").write_text(
            "import gc\ngc.collect()\na0 = gc.mem_alloc()\nimport feagi_model\n"
            "import feagi_engine\nimport feagi_viper\ngc.collect()\na1 = gc.mem_alloc()\n"
            "e = feagi_engine.Engine()\nfor _ in range(20):\n    e.burst()\n"
            "gc.collect()\nprint(a1 - a0, gc.mem_alloc() - a1)\n")
        r = mpyrun.run_unix(out, "heap.py")
        assert r.returncode == 0, r.stderr
        code, data = map(int, r.stdout.split())
        est = estimate_heap(layout_mpy(model))
        assert code <= est["code"], (genome, code)
        assert data <= est["model"] + est["state"] + est["transient"], (genome, data, est)
        assert est["model"] + est["state"] <= 1.25 * data + 4096, (genome, data, est)


def test_cli_verify_micropython_row(tmp_path):
    need("wasm")
    r = CliRunner().invoke(main, ["verify", "logic_and_gate", "--lang", "micropython", "-n",
                                  "30", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["targets"]
    wasm = [x for x in rows if "wasm" in x["name"]]
    assert wasm and wasm[0]["equal"] is True and wasm[0]["bursts"] == 30


def test_api_force_fire_by_voxel_and_on_fire_callback_match_the_twin(tmp_path):
    """The voxel API (``force_fire(area, x, y, z)``) gives the twin's digests, and ``on_fire``
    reports exactly the twin's fired neurons of output areas, as (area, x, y, z, k)."""

    model, stim = genome_case("webots_pioneer2")  # its output area fires
    out = emit(model, stim, BURSTS, tmp_path)
    sched = [(b, model.area_index(e["area"]), v) for e in stim.entries
             for b in range(e["bursts"][0], min(e["bursts"][1], BURSTS) + 1) for v in e["voxels"]]
    assert all(e["kind"] == "force" for e in stim.entries)
    (out / "api.py").write_text(
        "import feagi_engine\ne = feagi_engine.Engine()\nfired = []\n"
        "e.on_fire = lambda *c: fired.append(c)\n"
        f"sched = {sched!r}\n"
        f"for b in range(1, {BURSTS} + 1):\n"
        "    for sb, a, (x, y, z) in sched:\n"
        "        if sb == b:\n"
        "            assert e.force_fire(a, x, y, z) == 0\n"
        "    e.burst()\n    e.trace_burst()\n"
        "    for c in fired:\n        print('F', b, *c)\n    fired.clear()\n"
        "e.trace_state()\nassert e.force_fire(0, 99, 0, 0) == -1\n"
        "import feagi_model\n"
        "assert all(e.inject_id(0, 1) == 0 for _ in range(feagi_model.QUEUE_LEN))\n"
        "assert e.inject_id(0, 1) == -2 and e.force_fire(0, 0, 0, 0) == -2\n")
    r = subprocess.run([sys.executable, "api.py"], cwd=out, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    got_b, got_s, _ = parse_protocol(r.stdout)
    ref = Twin(model).run(BURSTS, stim)
    assert got_b == ref.burst_crc and got_s == ref.state_crc
    kinds = model.areas.kinds
    want = []
    for b, ids in enumerate(ref.fired, 1):
        a, x, y, z, k = model.neuron_coords(ids)
        want += [(b, *c) for c in zip(a.tolist(), x.tolist(), y.tolist(), z.tolist(), k.tolist())
                 if kinds[c[0]] == "opu"]
    got = [tuple(map(int, ln.split()[1:])) for ln in r.stdout.splitlines() if ln.startswith("F ")]
    assert want and got == want


def test_mpy_bytecode_and_x64_viper_machine_code_run_bit_exact(tmp_path):
    """The deploy path of the README: modules precompiled with mpy-cross. Portable bytecode
    (.mpy without -march) runs in the WebAssembly port; in the unix port the viper kernels come
    from mpy-cross's x64 machine code. Both equal the twin."""
    need("mpy-cross")
    need("wasm")
    need("unix")
    model, stim = genome_case("autopilot_static_1")
    out = emit(model, stim, BURSTS, tmp_path)
    for target, mods, arch in (("wasm", ("feagi_model", "feagi_engine", "feagi_stimulus"), None),
                               ("unix", ("feagi_model", "feagi_engine", "feagi_stimulus",
                                         "feagi_viper"), "x64")):
        pkg = tmp_path / target
        pkg.mkdir()
        for f in ("feagi_model.bin", "feagi_stimulus.bin", "main.py"):
            (pkg / f).write_bytes((out / f).read_bytes())
        for mod in mods:
            exe = mpyrun._tool("mpy-cross")
            cmd = [exe] + ([f"-march={arch}"] if arch else []) + ["-o", str(pkg / f"{mod}.mpy"),
                                                                  f"{mod}.py"]
            r = subprocess.run(cmd, cwd=out, capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
        assert not list(pkg.glob("feagi_*.py"))  # only .mpy modules: the import must use them
        (pkg / "kernels.py").write_text("import feagi_engine\n"
                                        "print(feagi_engine.Engine.kernels())\n")
        k = mpyrun.run_wasm(pkg, "kernels.py") if target == "wasm" else mpyrun.run_unix(pkg, "kernels.py")
        assert k.stdout.split() == (["python"] if target == "wasm" else ["viper", "dynamics"])
        run = mpyrun.run_wasm(pkg) if target == "wasm" else mpyrun.run_unix(pkg)
        assert run.returncode == 0, run.stderr[-2000:]
        assert_equal_to_twin(model, stim, BURSTS, run.stdout, f"{target} .mpy")


def test_table_crc32_fallback_gives_the_same_digests(tmp_path):
    """Ports built without binascii.crc32 use the engine's table-driven CRC-32."""
    model, stim = genome_case("webots_pioneer2")
    out = emit(model, stim, 30, tmp_path)
    driver = (f"import sys, os\nsys.path.insert(0, {str(out)!r})\nos.chdir({str(out)!r})\n"
              "import feagi_engine\nfeagi_engine._crc32_native = None\n"
              "assert feagi_engine.crc32(b'123456789') == 0xCBF43926\nimport main\n")
    r = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert_equal_to_twin(model, stim, 30, r.stdout, "table CRC-32")


INJECT_STIMULUS = {"stimuli": [
    # sensory input (FEAGI XYZP) into an input area and, with duplicates in one burst and
    # negative values, into a synapse-targeted area; plus force fires
    {"bursts": [1, 40], "area": "i_misc", "voxels": [[0, 0, 0]], "kind": "inject", "value": 2.5},
    {"bursts": [3, 30], "area": "CM0Tim", "voxels": [[0, 5, 0], [0, 5, 0], [0, 40, 0]],
     "kind": "inject", "value": 0.75},
    {"bursts": [10, 20], "area": "CM0Tim", "voxels": [[0, 40, 0], [0, 41, 0]], "kind": "inject",
     "value": -1.25},
    {"bursts": [12, 14], "area": "o_misc", "voxels": [[0, 0, 0]], "kind": "force"},
    # untargeted core neurons (the accumulator's hole: side list), the power neuron included
    {"bursts": [5, 25], "area": "___pwr", "voxels": [[0, 0, 0]], "kind": "inject", "value": -0.5},
    {"bursts": [8, 9], "area": "_death", "voxels": [[0, 0, 0], [0, 0, 0]], "kind": "inject",
     "value": 0.6},
]}


@pytest.mark.parametrize("where", ["cpython", "wasm", "unix", "viper32"])
def test_sensory_injection_bit_exact(where, tmp_path):
    """Injected values (quantized by Stimulus.compile) reach the accumulator and the side list
    of untargeted neurons exactly as in the twin, in every runtime."""
    model, _ = genome_case("test_timer")
    stim = Stimulus.from_json(INJECT_STIMULUS, "inject")
    ptr, nrn, val, kind = stim.compile(model, 40)
    lay = layout_mpy(model)
    lo, hi = lay.constants["hole_lo"], lay.constants["hole_hi"]
    inj = nrn[kind == 0]
    assert ((inj >= lo) & (inj < hi)).any() and ((inj < lo) | (inj >= hi)).any()
    out = emit(model, stim, 40, tmp_path)
    if where == "cpython":
        r = subprocess.run([sys.executable, "main.py"], cwd=out, capture_output=True, text=True,
                           timeout=300)
    elif where == "viper32":
        r = _run_emulated(out, 32)
    else:
        need(where)
        r = mpyrun.run_wasm(out) if where == "wasm" else mpyrun.run_unix(out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert_equal_to_twin(model, stim, 40, r.stdout, f"injection {where}")
