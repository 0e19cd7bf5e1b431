#!/usr/bin/env python3
"""Bursts per second of the wasm page (headless Chromium), the same module under Node, native C
(host gcc -O2) and the numba twin, on webots_basic and essential_genome; plus the page's wasm size.

Workloads (as ``bench_twin.py``):

* ``idle``: no stimulus (only the power neuron fires, and what it drives);
* ``active``: every burst, force-fire a fixed seeded random 5 % of the voxels (at least one) of
  every non-core area with outgoing synapses (one ``"force"`` stimulus entry per area).

Timing, per target, for the same compiled schedule of ``--bursts`` bursts (one state digest at the
end; every target prints or records the burst digest of every burst, and all final digests must be
equal, else the script stops):

* browser: the page's "Run test schedule" in its Web Worker (``BrowserExecutor``), loop time
  measured in the worker with ``performance.now()``, excluding the posting of frames to the page
  but including reading each burst's fired ids (the page draws them) and the B line;
* node: ``run_node.mjs`` on the same site (``WasmExecutor``), loop time measured in Node;
* native: the ``build --board native`` project's generated test main compiled with
  ``gcc -O2 -std=c99``, wall time of the whole process (stdout to a pipe);
* twin: ``Twin(model).run`` wall time after a warm-up run (numba compile excluded); includes the
  stimulus compile ``Twin.run`` does on each call.

Median of ``--reps`` repetitions. Example::

    python3 bench/bench_wasm.py --json-out bench/results/wasm.json
    python3 bench/bench_wasm.py --screenshot-only docs/wasm_page_essential_genome.png
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feagi_embed.build import build_project  # noqa: E402
from feagi_embed.connectome import develop  # noqa: E402
from feagi_embed.genome import load_genome  # noqa: E402
from feagi_embed.host.twin import Twin  # noqa: E402
from feagi_embed.quantize import quantize  # noqa: E402
from feagi_embed.stimulus import Stimulus  # noqa: E402
from feagi_embed.web import BrowserExecutor, WasmExecutor, build_site  # noqa: E402


def load(name: str):
    return quantize(develop(load_genome(ROOT / "feagi_embed" / "genomes" / f"{name}.json")))


def active_stimulus(model, bursts: int, frac: float = 0.05, seed: int = 1) -> Stimulus:
    """Force-fire a seeded random ``frac`` of the voxels of every non-core area with outgoing
    synapses, every burst 1..bursts."""
    rng = np.random.default_rng(seed)
    first = np.asarray(model.area_first, np.int64)
    ptr = np.asarray(model.syn_ptr, np.int64)
    out = []
    for a, kind in enumerate(model.areas.kinds):
        if kind == "core" or ptr[first[a + 1]] == ptr[first[a]]:
            continue
        w, h, d = model.areas.dims[a]
        vox = np.array([[x, y, z] for x in range(w) for y in range(h) for z in range(d)])
        pick = rng.choice(len(vox), max(1, int(round(frac * len(vox)))), replace=False)
        out.append({"area": model.areas.genome_ids[a], "bursts": [1, bursts], "kind": "force",
                    "voxels": vox[np.sort(pick)].tolist()})
    return Stimulus.from_json({"stimuli": out}, "active")


def screenshot_stimulus(model, bursts: int) -> Stimulus:
    """essential_genome's vision: vision_TM held (it drives "forward" and the forward motors), a
    bar sweeping across vision_LM (-> "backward"), and a bar sweeping across the central vision."""
    ids = model.areas.genome_ids
    names = model.areas.names
    area = {n: ids[i] for i, n in enumerate(names)}
    out = [{"area": area["vision_TM"], "bursts": [1, bursts], "kind": "inject",
            "voxels": [[x, y, 0] for x in range(16) for y in range(0, 16, 3)], "value": 60.0}]
    for b in range(1, bursts + 1):
        xc = (b // 2) % 128
        out.append({"area": area["vision_C"], "bursts": [b, b], "kind": "force",
                    "voxels": [[xc, y, 1] for y in range(0, 128, 2)]})
        if (b // 40) % 2 == 0:
            out.append({"area": area["vision_LM"], "bursts": [b, b], "kind": "inject",
                        "voxels": [[b % 16, y, 0] for y in range(16)], "value": 80.0})
    return Stimulus.from_json({"stimuli": out}, "screenshot")


def time_native(model, stim, bursts: int, work: Path) -> tuple[float, int]:
    proj = build_project(model, "native", work / "native", stimulus=stim, bursts=bursts,
                         state_every=0).out_dir
    exe = work / "native" / "fw"
    cmd = ["gcc", "-O2", "-std=c99", "-I", str(proj / "include"), "-I",
           str(proj / "lib" / "feagi_runtime" / "src"), "-I", str(proj / "hal"),
           *map(str, (proj / "src").glob("*.c")), str(proj / "lib" / "feagi_runtime" / "src" / "feagi_runtime.c"),
           str(proj / "hal" / "hal_native.c"), str(proj / "hal" / "hal_common.c"), "-o", str(exe)]
    subprocess.run(cmd, check=True)
    t0 = time.perf_counter()
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    dt = time.perf_counter() - t0
    final = next(int(ln.split()[2], 16) for ln in out.splitlines() if ln.startswith("E "))
    return dt, final


def bench(names: list[str], bursts: dict[str, int], reps: int) -> list[dict]:
    rows = []
    with BrowserExecutor() as br, tempfile.TemporaryDirectory() as tmp:
        for name in names:
            model = load(name)
            for wl, n in bursts.items():
                stim = active_stimulus(model, n) if wl == "active" else Stimulus()
                work = Path(tmp) / f"{name}-{wl}"
                site = build_site(model, work / "site", stimulus=stim, bursts=n, state_every=0)
                twin = Twin(model)
                ref = twin.run(min(n, 50), stim, state_every=0)  # warm-up (numba compile)
                res: dict[str, list[float]] = {"browser": [], "node": [], "native": [], "twin": []}
                finals = set()
                for _ in range(reps):
                    t0 = time.perf_counter()
                    ref = Twin(model).run(n, stim, state_every=0)
                    res["twin"].append(time.perf_counter() - t0)
                    finals.add(("twin", ref.final_digest))
                    text = br.run_site(site.out_dir)
                    res["browser"].append(br.seconds)
                    finals.add(("browser", next(int(ln.split()[2], 16) for ln in text.splitlines()
                                                if ln.startswith("E "))))
                    ex = WasmExecutor(work / "node")
                    tr = ex.run(model, stim, n, 0)
                    res["node"].append(ex.seconds)
                    finals.add(("node", tr.final_digest))
                    dt, fin = time_native(model, stim, n, work)
                    res["native"].append(dt)
                    finals.add(("native", fin))
                if len({f for _, f in finals}) != 1:
                    raise SystemExit(f"{name} {wl}: final digests differ: {sorted(finals)}")
                fired = float(np.mean([len(f) for f in ref.fired]))
                row = {"genome": name, "workload": wl, "bursts": n, "reps": reps,
                       "neurons": model.n_neurons, "synapses": model.n_synapses,
                       "fired_per_burst": fired, "wasm_bytes": site.wasm_bytes,
                       "site_bytes": sum(p.stat().st_size for p in site.files),
                       "final_digest": f"{ref.final_digest:08x}"}
                for k, v in res.items():
                    row[f"{k}_s_median"] = statistics.median(v)
                    row[f"{k}_bursts_per_s"] = n / statistics.median(v)
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def screenshot(path: Path, bursts: int = 600) -> None:
    model = load("essential_genome")
    stim = screenshot_stimulus(model, bursts)
    with tempfile.TemporaryDirectory() as tmp, BrowserExecutor(tmp, screenshot=path) as br:
        tr = br.run(model, stim, bursts, 10)
    ref = Twin(model).run(bursts, stim, state_every=10)
    assert tr.burst_crc == ref.burst_crc and tr.state_crc == ref.state_crc, "page != twin"
    print(f"wrote {path}: {bursts} bursts, digests equal to the twin, final {ref.final_digest:08x}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--genomes", nargs="+", default=["webots_basic", "essential_genome"])
    ap.add_argument("--idle-bursts", type=int, default=20000)
    ap.add_argument("--active-bursts", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--screenshot", type=Path, help="also write the page screenshot (essential_genome)")
    ap.add_argument("--screenshot-only", type=Path, help="only write the page screenshot")
    a = ap.parse_args()
    if a.screenshot_only:
        screenshot(a.screenshot_only)
        return
    rows = bench(a.genomes, {"idle": a.idle_bursts, "active": a.active_bursts}, a.reps)
    if a.json_out:
        chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True,
                                  text=True).stdout.strip()
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        clang = subprocess.run(["clang", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        a.json_out.write_text(json.dumps({
            "date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or platform.machine(),
            "cpu": next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                         if ln.startswith("model name")), ""),
            "chromium": chromium, "node": node, "clang": clang, "rows": rows}, indent=1))
    if a.screenshot:
        screenshot(a.screenshot)


if __name__ == "__main__":
    main()
