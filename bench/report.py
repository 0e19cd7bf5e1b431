#!/usr/bin/env python3
"""Markdown tables for ``docs/benchmarks.md`` from the JSON files of ``bench_twin.py`` and
``bench_feagi.py`` (twin rows, FEAGI rows, twin/FEAGI burst-rate ratios).

Example::

    python3 bench/report.py --twin bench/results/twin_genomes.json bench/results/twin_synthetic.json \
        --feagi bench/results/feagi_idle.json --feagi-stim bench/results/feagi_stim.json
"""

from __future__ import annotations

import argparse
import json


def si(x: float) -> str:
    """3 significant digits with k/M/G suffix."""
    for div, suf in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suf}"
    return f"{x:.3g}"


def rng(vals) -> str:
    return f"{min(vals):.3g}–{max(vals):.3g}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--twin", nargs="+", required=True)
    ap.add_argument("--feagi", required=True, help="bench_feagi.py JSON, --stim none")
    ap.add_argument("--feagi-stim", help="bench_feagi.py JSON, --stim loop")
    args = ap.parse_args(argv)
    rows = [r for p in args.twin for r in json.load(open(p))["results"]]

    for variant in ("shipped", "dispatch"):
        sel = [r for r in rows if r["variant"] == variant]
        if not sel:
            continue
        print(f"\nvariant {variant}:\n")
        print("| model | workload | mode | neurons | synapses | bursts × reps | fired/burst "
              "| syn. events/burst | ms/burst median (range) | bursts/s | syn. events/s "
              "| neuron updates/s | in kernel call |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in sel:
            ms = [1e3 * w / r["bursts"] for w in r["wall_s"]]
            print(f"| {r['model']} | {r['workload']} | {r['mode']} | {r['neurons']:,} "
                  f"| {r['synapses']:,} | {r['bursts']} × {r['reps']} | {r['fired_per_burst']:.4g} "
                  f"| {r['syn_events_per_burst']:.4g} | {r['ms_per_burst']:.3g} ({rng(ms)}) "
                  f"| {si(r['bursts_per_s'])} | {si(r['syn_events_per_s'])} "
                  f"| {si(r['neuron_updates_per_s'])} "
                  f"| {100 * r['run_bursts_median_s'] / r['wall_median_s']:.0f} % |")

    fe = {r["genome"].removesuffix(".json"): r for r in json.load(open(args.feagi))["results"]}
    fs = ({r["genome"].removesuffix(".json"): r for r in json.load(open(args.feagi_stim))["results"]}
          if args.feagi_stim else {})
    print()
    print("| genome | stimulus | highest F kept up (≥ 90 %) | achieved there | max achieved "
          "(per process) | at F |")
    print("|---|---|---:|---:|---:|---:|")
    for src, label in ((fe, "none"), (fs, "REST force-fire loop")):
        for g, r in src.items():
            print(f"| {g} | {label} | {r['highest_kept_up_hz']:g} Hz | {r['kept_up_hz']:.4g} "
                  f"| **{r['max_achieved_hz']:.4g}** ({', '.join(f'{x:.4g}' for x in r['max_achieved_hz_runs'])}) "
                  f"| {r['at_requested_hz']:g} Hz |")

    print()
    print("| genome | twin workload | twin fixed bursts/s | twin float bursts/s | FEAGI max bursts/s "
          "| FEAGI kept-up bursts/s | twin fixed / FEAGI max | twin fixed / FEAGI kept-up |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for g, r in fe.items():
        for wl in ("idle", "active"):
            tw = {x["mode"]: x for x in rows if x["model"] == g and x["workload"] == wl
                  and x["variant"] == "shipped"}
            if "fixed" not in tw:
                continue
            fx = tw["fixed"]["bursts_per_s"]
            fl = tw["float"]["bursts_per_s"] if "float" in tw else float("nan")
            print(f"| {g} | {wl} | {si(fx)} | {si(fl)} | {r['max_achieved_hz']:.4g} "
                  f"| {r['kept_up_hz']:.4g} | **{fx / r['max_achieved_hz']:.3g}×** "
                  f"| {fx / r['kept_up_hz']:.3g}× |")


if __name__ == "__main__":
    main()
