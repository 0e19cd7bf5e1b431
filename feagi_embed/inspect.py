"""``feagi-embed inspect``: per-area summary of a developed connectome (table and JSON)."""

from __future__ import annotations

from typing import Any

from .connectome import Connectome


def area_kind(area) -> str:
    """Human label of an area's type from its cortical ID (CORE, CUSTOM, MEMORY, IPU, OPU)."""
    return {"core": "CORE", "custom": "CUSTOM", "memory": "MEMORY", "ipu": "IPU",
            "opu": "OPU"}[area.cortical_id.kind]


def inspect_report(c: Connectome) -> dict[str, Any]:
    """Machine-readable summary of a connectome.

    Returns:
        ``{"genome": {...}, "totals": {"areas", "neurons", "synapses"}, "areas": [{"id", "cortical_id",
        "name", "type", "dims", "neurons_per_voxel", "neurons", "synapses_out", "synapses_in",
        "params"}], "warnings": [{"code", "path", "message"}]}``; ``id`` is spelled as in the genome
        (the engine's base64 ID for core areas the engine adds).
    """
    out_counts, in_counts = c.synapse_counts()
    n_counts = c.neuron_counts()
    areas = []
    for i, a in enumerate(c.areas):
        areas.append({
            "id": a.genome_id,
            "cortical_id": a.cortical_id.b64,
            "name": a.name,
            "type": area_kind(a),
            "dims": list(a.dims),
            "neurons_per_voxel": a.neurons_per_voxel,
            "neurons": int(n_counts[i]),
            "synapses_out": int(out_counts[i]),
            "synapses_in": int(in_counts[i]),
            "params": {
                "firing_threshold": a.firing_threshold,
                "threshold_increment": list(a.threshold_increment),
                "threshold_limit": a.threshold_limit,
                "leak_coefficient": a.leak_coefficient,
                "refractory_period": a.refractory_period,
                "consecutive_fire_limit": a.consecutive_fire_limit,
                "snooze_period": a.snooze_period,
                "excitability": a.excitability,
                "postsynaptic_current": a.postsynaptic_current,
                "psp_uniform_distribution": a.psp_uniform_distribution,
                "mp_charge_accumulation": a.mp_charge_accumulation,
                "mp_driven_psp": a.mp_driven_psp,
            },
        })
    g = c.genome
    return {
        "genome": {"path": g.path, "sha256": g.sha256, "version": g.version, "title": g.title,
                   "simulation_timestep": g.physiology.simulation_timestep},
        "totals": {"areas": len(c.areas), "neurons": c.n_neurons, "synapses": c.n_synapses},
        "areas": areas,
        "warnings": [w.to_json() for w in c.warnings],
    }


def render_inspect(report: dict[str, Any], console) -> None:
    """Print :func:`inspect_report` output as rich tables on ``console``."""
    from rich.table import Table

    g = report["genome"]
    t = Table(title=f"{g['path']}  (FEAGI genome {g['version']}"
                    f"{', ' + g['title'] if g['title'] else ''})", title_justify="left")
    for col, just in [("id", "left"), ("name", "left"), ("type", "left"), ("dims", "right"),
                      ("npv", "right"), ("neurons", "right"), ("syn out", "right"),
                      ("syn in", "right"), ("threshold", "right"), ("leak", "right"),
                      ("refrac", "right"), ("cfl/snooze", "right"), ("excit", "right"),
                      ("psp", "right"), ("flags", "left")]:
        t.add_column(col, justify=just)
    for a in report["areas"]:
        p = a["params"]
        thr = f"{p['firing_threshold']:g}"
        if any(p["threshold_increment"]):
            thr += "+grad"
        if p["threshold_limit"]:
            thr += f"..{p['threshold_limit']:g}"
        flags = " ".join(f for f, on in (("uniPSP", p["psp_uniform_distribution"]),
                                         ("mpAcc", p["mp_charge_accumulation"]),
                                         ("mpPSP", p["mp_driven_psp"])) if on)
        t.add_row(a["id"], a["name"], a["type"], "x".join(map(str, a["dims"])),
                  str(a["neurons_per_voxel"]), f"{a['neurons']:,}", f"{a['synapses_out']:,}",
                  f"{a['synapses_in']:,}", thr, f"{p['leak_coefficient']:g}",
                  str(p["refractory_period"]),
                  f"{p['consecutive_fire_limit']}/{p['snooze_period']}", f"{p['excitability']:g}",
                  f"{p['postsynaptic_current']:g}", flags)
    tot = report["totals"]
    t.add_section()
    t.add_row("total", f"{tot['areas']} areas", "", "", "", f"{tot['neurons']:,}",
              f"{tot['synapses']:,}", f"{tot['synapses']:,}", "", "", "", "", "", "", "")
    console.print(t)
    if report["warnings"]:
        console.print(f"[yellow]{len(report['warnings'])} warning(s)[/yellow] "
                      "(FEAGI drops or rewrites these; --strict makes them errors; --json lists "
                      "each with its key path):")
        groups: dict[tuple[str, str], list[str]] = {}
        for w in report["warnings"]:
            groups.setdefault((w["code"], _generic(w["message"])), []).append(w["path"])
        for (code, message), paths in groups.items():
            where = paths[0] if len(paths) == 1 else f"{paths[0]} and {len(paths) - 1} more"
            console.print(f"  warning [{code}] {where}: {message}", highlight=False, markup=False)


def _generic(message: str) -> str:
    """A warning message without its value part, for grouping identical warnings."""
    return message.split(" (value ")[0]
